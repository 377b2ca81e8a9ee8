"""Async CivitAI client: hashes in, ``civitai_info`` out. No file IO but ``.env``, no ComfyUI.

See docs/internals.md (the contract) and docs/civitai.md (maintainer notes).
"""

from .client import CivitaiClient
from .config import Settings, load_settings
from .errors import CivitaiError
from .info import build_civitai_info
from .limiter import SpacingLimiter
from .outcome import LookupOutcome
from .types import category_for_type

__all__ = [
    "CivitaiClient",
    "CivitaiError",
    "LookupOutcome",
    "Settings",
    "SpacingLimiter",
    "build_civitai_info",
    "category_for_type",
    "load_settings",
]
