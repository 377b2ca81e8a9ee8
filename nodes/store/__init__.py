"""Persistence: the model store (one SQLite file shared with the hash cache)."""

from ..lazy import lazy_surface

__all__ = [
    "STATUSES",
    "BadQuery",
    "Detection",
    "FileUpdate",
    "ModelStore",
    "Query",
    "SpacingFile",
    "default_db_path",
    "iso",
    "shared_limiter",
    "spacing_path",
    "utc_now",
]

__getattr__ = lazy_surface(
    __name__,
    {
        "STATUSES": "model_store",
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
