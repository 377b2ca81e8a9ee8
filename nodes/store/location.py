"""Where the store lives when nobody says: ComfyUI's user directory, else the user cache.

Asks ComfyUI's ``folder_paths`` only if it is already loaded (never imports it)."""

import os
import sys
from pathlib import Path

STORE_RELATIVE = Path("civitai-identify") / "civitai-identify.sqlite3"


def default_db_path(settings=None, comfy_user_dir=None) -> Path:
    """The store's SQLite file: ``settings.db_path`` (``CIVITAI_IDENTIFY_DB``; settings
    default: ``load_settings()``) if set, else under ComfyUI's user directory —
    ``comfy_user_dir`` (the CLI inside a ComfyUI tree) or the running ComfyUI's — else under
    the user's cache directory."""
    if settings is None:
        from ...civitai import load_settings

        settings = load_settings()
    if settings.db_path:
        return Path(settings.db_path)
    if comfy_user_dir is not None:
        return Path(comfy_user_dir) / STORE_RELATIVE
    folder_paths = sys.modules.get("folder_paths")
    get_user_dir = getattr(folder_paths, "get_user_directory", None)
    if get_user_dir is not None:
        try:
            return Path(get_user_dir()) / STORE_RELATIVE
        except Exception:  # noqa: BLE001 - fall back to the cache dir whatever ComfyUI does
            pass
    return _user_cache_dir() / STORE_RELATIVE


def _user_cache_dir() -> Path:
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local"
        return Path(base)
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
