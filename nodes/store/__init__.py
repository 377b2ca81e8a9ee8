"""Persistence: the model store (one SQLite file shared with the hash cache)."""

from ..lazy import lazy_surface

__all__ = [
    "DETAIL_KEYS",
    "STATUSES",
    "BadQuery",
    "Detection",
    "FileUpdate",
    "ModelStore",
    "Query",
    "SpacingFile",
    "brief_info",
    "default_db_path",
    "iso",
    "shared_limiter",
    "spacing_path",
    "thumbnail_images",
    "utc_now",
]

__getattr__ = lazy_surface(
    __name__,
    {
        "DETAIL_KEYS": "info_parts",
        "STATUSES": "model_store",
        "brief_info": "info_parts",
        "thumbnail_images": "info_parts",
        "BadQuery": "query",
        "Detection": "detections",
        "Query": "query",
        "FileUpdate": "model_store",
        "ModelStore": "model_store",
        "SpacingFile": "spacing",
        "shared_limiter": "spacing",
        "spacing_path": "spacing",
        "default_db_path": "location",
        "iso": "records",
        "utc_now": "records",
    },
)
