"""The one place where an HTTP answer from CivitAI becomes data or an exception (sans-I/O)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from .errors import (
    AuthError,
    BadResponseError,
    CivitaiError,
    CloudflareError,
    NotFoundError,
    RateLimitedError,
    ServerError,
)

#: Markers of Cloudflare's challenge pages ("Just a moment...", the challenge platform
#: script, the old "Checking your browser" interstitial), looked for in the page's start.
_CHALLENGE_PAGE = re.compile(
    r"just a moment|challenge-platform|cf-chl|cf_chl|checking your browser", re.IGNORECASE
)
_CHALLENGE_SCAN = 64 * 1024


def parse_response(
    status: int, content_type: str, text: str, headers: Mapping[str, str], *, token_sent: bool
) -> Any:
    """Return the decoded JSON of a successful answer, or raise the matching CivitaiError.

    A Cloudflare challenge (``cf-mitigated: challenge`` or a challenge page, any status) →
    CloudflareError(challenge=True); other HTML (any status) → CloudflareError;
    429 → RateLimitedError (with ``retry_after``);
    404 JSON → NotFoundError (CivitAI really doesn't know it); 401/403 JSON → AuthError;
    5xx → ServerError; undecodable JSON or any other status → BadResponseError.
    """
    content_type = (content_type or "").lower()
    html = "html" in content_type or text.lstrip()[:15].lower().startswith(("<!doctype", "<html"))
    if (headers.get("cf-mitigated") or "").strip().lower() == "challenge" or (
        html and _CHALLENGE_PAGE.search(text[:_CHALLENGE_SCAN])
    ):
        raise CloudflareError(
            f"CivitAI's Cloudflare protection sent a browser challenge (HTTP {status}) "
            "instead of data; try again in a few minutes.",
            status=status,
            challenge=True,
        )
    if html:
        raise CloudflareError(
            f"CivitAI answered with a web page instead of data (HTTP {status}): the site is "
            "down or behind a Cloudflare check; try again later.",
            status=status,
        )
    if status == 429:
        raise RateLimitedError(
            "CivitAI is rate limiting requests (HTTP 429); try again later.",
            retry_after=parse_retry_after(headers.get("Retry-After")),
        )
    if 500 <= status <= 599:
        raise ServerError(f"CivitAI had a server error (HTTP {status}).", status=status)
    data = _decode(text, status) if "json" in content_type or 200 <= status < 300 else None
    if 200 <= status < 300:
        return data
    detail = _detail(data)
    if status == 404 and isinstance(data, dict):
        raise NotFoundError(f"CivitAI does not know it ({detail or 'not found'}).", status=404)
    if status in (401, 403) and data is not None:
        if token_sent:
            message = (
                f"CivitAI refused the API token (HTTP {status}): it is invalid or expired. "
                "Create a new key at civitai.com/user/account and set CIVITAI_TOKEN."
            )
        else:
            message = (
                f"CivitAI refused the request (HTTP {status}); setting CIVITAI_TOKEN may help."
            )
        raise AuthError(message, status=status)
    raise BadResponseError(
        f"CivitAI answered HTTP {status} unexpectedly" + (f": {detail}" if detail else "."),
        status=status,
    )


#: Real answers spend far more than 8 characters per ``{`` or ``[``; a denser body is a
#: memory bomb (an empty list is ~56 bytes of Python objects for 2 characters).
_CHARS_PER_CONTAINER = 8


def _decode(text: str, status: int) -> Any:
    """The guarded parse of a CivitAI body (its size is capped while it is read, in
    http.py). The civitai room may not import hashing/, whose safe_json reader guards files;
    here the body is already in memory, so the density guard runs first and the parser's own
    ``RecursionError`` (raised by the C scanner, safely, past the recursion limit) and
    ``MemoryError`` become the same BadResponseError as any malformed JSON."""
    containers = text.count("{") + text.count("[")
    if containers > len(text) // _CHARS_PER_CONTAINER + 64:
        raise BadResponseError(
            f"CivitAI sent data packed with {containers:,} lists or objects (HTTP {status}); "
            "it was not read.",
            status=status,
        )
    try:
        return json.loads(text)
    except RecursionError:
        reason = "nested too deeply to read"
    except MemoryError:
        reason = "too large to read into memory"
    except ValueError:
        reason = "not valid JSON"
    raise BadResponseError(f"CivitAI sent data that is {reason} (HTTP {status}).", status=status)


def _detail(data: Any) -> str | None:
    if isinstance(data, dict):
        for key in ("error", "message"):
            if isinstance(data.get(key), str):
                return data[key][:200]
    return None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds to wait (≥ 0): delta-seconds or an HTTP date; else None."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def expect(data: Any, kind: type, what: str) -> Any:
    """Raise BadResponseError unless ``data`` is an instance of ``kind``."""
    if not isinstance(data, kind):
        raise BadResponseError(f"CivitAI sent {what} in a shape the pack does not understand.")
    return data


__all__ = ["CivitaiError", "expect", "parse_response", "parse_retry_after"]
