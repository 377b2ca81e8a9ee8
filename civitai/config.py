"""Settings: API base, token, spacing and timeout, read once from the environment / ``.env``.

Reading ``.env`` is the only file IO of this room. ``os.environ`` is never modified.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values
from yarl import URL

from .constants import DEFAULT_API_BASE, DEFAULT_INTERVAL, DEFAULT_TIMEOUT

log = logging.getLogger(__name__)

PACK_DIR = Path(__file__).resolve().parent.parent
KEYS = (
    "CIVITAI_TOKEN",
    "CIVITAI_API_BASE",
    "CIVITAI_IDENTIFY_INTERVAL",
    "CIVITAI_IDENTIFY_TIMEOUT",
)


@dataclass(frozen=True)
class Settings:
    """What the client needs. ``repr``/``str`` never show the token."""

    api_base: str = DEFAULT_API_BASE
    token: str | None = field(default=None, repr=False)
    interval: float = DEFAULT_INTERVAL
    timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        object.__setattr__(self, "api_base", _clean_base(self.api_base))
        object.__setattr__(self, "token", (self.token or "").strip() or None)

    def __repr__(self) -> str:
        token = "'***'" if self.token else "None"
        return (
            f"Settings(api_base={self.api_base!r}, token={token}, "
            f"interval={self.interval!r}, timeout={self.timeout!r})"
        )

    __str__ = __repr__

    @property
    def origin(self) -> str:
        """``scheme://host[:port]`` of the API base: the only origin that gets the token."""
        return str(URL(self.api_base).origin())

    @property
    def web_base(self) -> str:
        """The website matching the API host (civitai.red for a civitai.red API base)."""
        host = URL(self.api_base).host or ""
        return "https://civitai.red" if host.endswith("civitai.red") else "https://civitai.com"


def load_settings(
    environ: Mapping[str, str] = os.environ, dotenv_paths: Sequence[str | Path] | None = None
) -> Settings:
    """Build Settings from ``environ`` first, then ``.env`` files in order.

    ``dotenv_paths`` None → ``./.env`` (current directory) then ``<pack dir>/.env``. The
    first place that defines a key wins; missing files are skipped. Bad numbers or URLs are
    logged as a warning and the default is used (a typo must not stop ComfyUI).
    """
    if dotenv_paths is None:
        dotenv_paths = [Path.cwd() / ".env", PACK_DIR / ".env"]
    values: dict[str, str] = {}
    for path in reversed([Path(p) for p in dotenv_paths]):
        if path.is_file():
            try:
                found = dotenv_values(path)
            except (OSError, UnicodeDecodeError) as exc:
                log.warning("Could not read %s: %s", path, type(exc).__name__)
                continue
            values.update({k: v for k, v in found.items() if k in KEYS and v is not None})
    values.update({k: environ[k] for k in KEYS if environ.get(k) is not None})
    return Settings(
        api_base=_valid_base(values.get("CIVITAI_API_BASE")),
        token=values.get("CIVITAI_TOKEN"),
        interval=_number(values, "CIVITAI_IDENTIFY_INTERVAL", DEFAULT_INTERVAL),
        timeout=_number(values, "CIVITAI_IDENTIFY_TIMEOUT", DEFAULT_TIMEOUT, minimum=0.1),
    )


def _clean_base(base: str) -> str:
    return (base or DEFAULT_API_BASE).strip().rstrip("/")


def _valid_base(base: str | None) -> str:
    if not base or not base.strip():
        return DEFAULT_API_BASE
    url = URL(base.strip())
    if url.scheme not in ("http", "https") or not url.host:
        log.warning("CIVITAI_API_BASE %r is not an http(s) URL; using %s", base, DEFAULT_API_BASE)
        return DEFAULT_API_BASE
    return base


def _number(values: Mapping[str, str], key: str, default: float, minimum: float = 0.0) -> float:
    raw = values.get(key)
    if raw is None or not raw.strip():
        return default
    try:
        number = float(raw)
    except ValueError:
        number = float("nan")
    if not number >= minimum or number == float("inf"):
        log.warning("%s=%r is not a number ≥ %s; using %s", key, raw, minimum, default)
        return default
    return number
