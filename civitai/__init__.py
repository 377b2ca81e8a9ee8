"""Async CivitAI client: hashes in, ``civitai_info`` out. No file IO but ``.env``, no ComfyUI.

See docs/internals.md (the contract) and docs/civitai.md (maintainer notes).
"""

import importlib

_EXPORTS = {
    "CivitaiClient": "client",
    "BULK_LIMIT": "constants",
    "DEFAULT_WEB_BASE": "constants",
    "CivitaiInfo": "info",
    "IDENTIFY_MODES": "config",
    "NSFW_LEVEL_NAMES": "config",
    "Settings": "config",
    "SettingError": "config",
    "load_settings": "config",
    "parse_setting": "config",
    "setting_keys": "config",
    "CivitaiError": "errors",
    "as_sentence": "errors",
    "build_civitai_info": "info",
    "SpacingLimiter": "limiter",
    "LookupOutcome": "outcome",
    "parse_civitai_ref": "mapping",
    "category_for_type": "types",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    # Lazy, like hashing/: importing the room loads no aiohttp until a client is asked for.
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
