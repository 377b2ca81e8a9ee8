"""Settings: every ``CIVITAI_*`` setting of the pack, read once from the environment / ``.env``.

Each setting is one field of ``Settings`` declared with ``setting(...)``: its environment
key, default, parser (validation) and the README wording live together here. To add a
setting, add a field (tests/test_settings.py then asks for its row in the README's
configuration table). A bad value never stops ComfyUI: it is logged as one sentence and
the default is used.

Reading ``.env`` is the only file IO of this room. ``os.environ`` is never modified.
Imports stay light (no aiohttp, no yarl at import): ``python3 . hash`` reads the store path.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

from .constants import (
    DEFAULT_API_BASE,
    DEFAULT_INTERVAL,
    DEFAULT_TIMEOUT,
    DEFAULT_WEB_BASE,
    RED_WEB_BASE,
)

log = logging.getLogger(__name__)

PACK_DIR = Path(__file__).resolve().parent.parent

#: CivitAI's image NSFW levels, mildest first (bit flags 1, 2, 4, 8, 16)
NSFW_LEVEL_NAMES = ("PG", "PG-13", "R", "X", "XXX")
#: What a scan looks up: files in "other" only (ComfyUI knows the rest), all, or none.
IDENTIFY_MODES = ("other", "all", "none")


class SettingError(ValueError):
    """A setting's value is invalid; ``str()`` is a sentence naming the key and value."""


def setting(env: str, default, parse: Callable[[str], object], *, secret: bool = False):
    """A ``Settings`` field read from the environment key ``env``. ``parse(raw)`` returns the
    value or raises ValueError with the end of a sentence ("is not a number ≥ 0")."""
    return field(default=default, repr=not secret, metadata={"env": env, "parse": parse})


def _at_least(minimum: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            number = float(raw)
        except ValueError:
            number = math.nan
        if not number >= minimum or math.isinf(number):
            raise ValueError(f"is not a number ≥ {minimum:g}")
        return number

    return parse


def _http_url(raw: str) -> str:
    try:
        parts = urlsplit(raw.strip())
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError("is not an http(s) URL")
    return raw.strip()


def _one_of(choices: Sequence[str]) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in choices:
            raise ValueError(f"is not one of {', '.join(choices)}")
        return value

    return parse


def _flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        raise ValueError("is not one of 1, true, yes, on, 0, false, no, off")
    return value in ("1", "true", "yes", "on")


def _nsfw_level(raw: str) -> str:
    value = raw.strip().upper()
    if value not in NSFW_LEVEL_NAMES:
        raise ValueError(f"is not one of {', '.join(NSFW_LEVEL_NAMES)}")
    return value


def _text(raw: str) -> str | None:
    return raw.strip() or None


def _path(raw: str) -> str | None:
    return os.path.expanduser(raw.strip()) if raw.strip() else None


@dataclass(frozen=True)
class Settings:
    """Every setting of the pack. ``repr``/``str`` never show the token."""

    api_base: str = setting("CIVITAI_API_BASE", DEFAULT_API_BASE, _http_url)
    token: str | None = setting("CIVITAI_TOKEN", None, _text, secret=True)
    interval: float = setting("CIVITAI_IDENTIFY_INTERVAL", DEFAULT_INTERVAL, _at_least(0))
    timeout: float = setting("CIVITAI_IDENTIFY_TIMEOUT", DEFAULT_TIMEOUT, _at_least(0.1))
    #: the store file; None → nodes/store/location.py picks ComfyUI's user dir or the cache
    db_path: str | None = setting("CIVITAI_IDENTIFY_DB", None, _path)
    retry_days: float = setting("CIVITAI_IDENTIFY_RETRY_DAYS", 7.0, _at_least(0))
    #: days before an identified file's model data (and update notice) is asked again
    refresh_days: float = setting("CIVITAI_IDENTIFY_REFRESH_DAYS", 7.0, _at_least(0))
    identify_mode: str = setting("CIVITAI_IDENTIFY_MODE", "other", _one_of(IDENTIFY_MODES))
    #: scans in ComfyUI save <model>.preview.<ext> beside identified models without one
    write_previews: bool = setting("CIVITAI_IDENTIFY_PREVIEWS", False, _flag)
    #: the most explicit image a preview may be (CivitAI's level names)
    preview_nsfw: str = setting("CIVITAI_IDENTIFY_PREVIEW_NSFW", "PG-13", _nsfw_level)

    def __post_init__(self) -> None:
        object.__setattr__(self, "api_base", _clean_base(self.api_base))
        object.__setattr__(self, "token", (self.token or "").strip() or None)

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}" if f.repr else f"{f.name}={_masked(self, f)}"
            for f in fields(self)
        )
        return f"Settings({shown})"

    __str__ = __repr__

    @property
    def origin(self) -> str:
        """``scheme://host[:port]`` of the API base: the only origin that gets the token."""
        from yarl import URL  # on use: loading settings must not pay for yarl

        return str(URL(self.api_base).origin())

    @property
    def web_base(self) -> str:
        """The website matching the API host (civitai.red for a civitai.red API base)."""
        host = urlsplit(self.api_base).hostname or ""
        return RED_WEB_BASE if host.endswith("civitai.red") else DEFAULT_WEB_BASE


def _masked(settings: Settings, f) -> str:
    return "'***'" if getattr(settings, f.name) else "None"


def setting_keys() -> tuple[str, ...]:
    """The environment keys of every setting, in declaration order."""
    return tuple(f.metadata["env"] for f in fields(Settings))


KEYS = setting_keys()


def parse_setting(key: str, raw: str):
    """``raw`` parsed as the setting ``key``; ``SettingError`` (a sentence) when invalid."""
    f = next((f for f in fields(Settings) if f.metadata["env"] == key), None)
    if f is None:
        raise KeyError(key)
    try:
        return f.metadata["parse"](raw)
    except ValueError as exc:
        shown = f"{key}={raw!r}" if f.repr else key  # a secret's value is never echoed
        raise SettingError(f"{shown} {exc}.") from None


def load_settings(
    environ: Mapping[str, str] = os.environ, dotenv_paths: Sequence[str | Path] | None = None
) -> Settings:
    """Build Settings from ``environ`` first, then ``.env`` files in order.

    ``dotenv_paths`` None → ``./.env`` (current directory) then ``<pack dir>/.env``. The
    first place that defines a key wins; missing files are skipped. An empty value means
    the default. A bad value is logged as a warning and the default is used (a typo must
    not stop ComfyUI).
    """
    if dotenv_paths is None:
        dotenv_paths = [Path.cwd() / ".env", PACK_DIR / ".env"]
    values: dict[str, str] = {}
    for path in reversed([Path(p) for p in dotenv_paths]):
        values.update(_read_dotenv(path))
    values.update({k: environ[k] for k in KEYS if environ.get(k) is not None})
    chosen = {}
    for f in fields(Settings):
        raw = values.get(f.metadata["env"])
        if raw is None or not raw.strip():
            continue
        try:
            chosen[f.name] = parse_setting(f.metadata["env"], raw)
        except SettingError as exc:
            shown = "***" if not f.repr else repr(f.default)
            log.warning("%s Using the default (%s).", exc, shown)
    return Settings(**chosen)


def _read_dotenv(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    from dotenv import dotenv_values  # on use: most processes have no .env at all

    try:
        found = dotenv_values(path)
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("Could not read %s: %s", path, type(exc).__name__)
        return {}
    return {k: v for k, v in found.items() if k in KEYS and v is not None}


def _clean_base(base: str) -> str:
    return (base or DEFAULT_API_BASE).strip().rstrip("/")
