"""The scan: model folders → files → hashes (via the cache) → CivitAI lookups → the store."""

from ..lazy import lazy_surface

__all__ = ["OTHER", "Scanner", "folders_for_directory", "is_model_file"]

__getattr__ = lazy_surface(
    __name__,
    {
        "OTHER": "folders",
        "Scanner": "scanner",
        "folders_for_directory": "folders",
        "is_model_file": "folders",
    },
)
