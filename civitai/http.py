"""One HTTP call to CivitAI, spaced, retried, logged; the token only for the API origin."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from yarl import URL

from .config import Settings
from .constants import (
    CHALLENGE_ATTEMPTS,
    CHALLENGE_BACKOFF,
    MAX_BACKOFF,
    MAX_BODY_BYTES,
    MAX_REDIRECTS,
    OUTAGE_REQUESTS,
    RATE_LIMIT_ATTEMPTS,
    RATE_LIMIT_BACKOFF,
    TRANSIENT_ATTEMPTS,
    TRANSIENT_BACKOFF,
    USER_AGENT,
)
from .errors import (
    BadResponseError,
    CivitaiError,
    CivitaiNetworkError,
    CivitaiTimeoutError,
    CloudflareError,
    NotFoundError,
    as_sentence,
)
from .limiter import SpacingLimiter
from .responses import parse_response

log = logging.getLogger(__name__)
_REDIRECTS = (301, 302, 303, 307, 308)
_KEPT_HEADERS = ("Retry-After", "Location", "cf-mitigated")


class HttpCaller:
    """Makes requests to the configured API. Every request waits its turn on ``limiter``;
    backoff pauses use ``limiter.sleep`` (so a fake clock covers them too).

    The aiohttp session is created on first use, on the running loop, unless one is given
    (a given session is never closed here). ``calls`` counts HTTP requests sent.
    """

    def __init__(self, settings: Settings, limiter: SpacingLimiter, session=None):
        self.settings = settings
        self.limiter = limiter
        self.calls = 0
        #: failed requests in a row (the outage budget, OUTAGE_REQUESTS); reset by an answer
        #: and at the start of each lookup call
        self.failed_in_row = 0
        self._session: aiohttp.ClientSession | None = session
        self._own_session = session is None
        self._image_lock: asyncio.Lock | None = None  # image downloads: one at a time

    def url(self, path: str) -> URL:
        return URL(self.settings.api_base + "/" + path.lstrip("/"))

    def headers_for(self, url: URL) -> dict[str, str]:
        """Request headers; ``Authorization`` only when ``url`` is on the API base's origin."""
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self.settings.token and str(url.origin()) == self.settings.origin:
            headers["Authorization"] = f"Bearer {self.settings.token}"
        return headers

    async def request_json(
        self,
        method: str,
        url: URL,
        *,
        json: Any = None,
        note: str = "",
        describe: Callable[[Any], str] | None = None,
    ) -> Any:
        """The decoded JSON answer, after retries; raises a CivitaiError otherwise.

        ``note`` (e.g. "100 hashes") and ``describe(data)`` (e.g. "72 found, 28 unknown")
        only enrich the one INFO log line written per HTTP request.
        """
        attempt = 0
        while True:
            attempt += 1
            try:
                data = await self._once(method, url, json, note, describe)
            except NotFoundError:
                self.failed_in_row = 0  # a real answer: CivitAI is up
                raise
            except CivitaiError as exc:
                self.failed_in_row += 1
                delay = retry_delay(exc, attempt)
                if delay is None or self.failed_in_row >= OUTAGE_REQUESTS:
                    raise
                log.warning("%s Retry %d in %.0f s.", as_sentence(exc), attempt, delay)
                await self.limiter.sleep(delay)
            else:
                self.failed_in_row = 0
                return data

    async def _once(self, method, url, json, note, describe) -> Any:
        what = f"{method} {url.path}" + (f" ({note})" if note else "")
        async with self.limiter:
            for _ in range(MAX_REDIRECTS + 1):
                headers = self.headers_for(url)  # recomputed per hop: the token stays home
                started = time.monotonic()
                status, ctype, text, extra = await self._send(method, url, json, headers, what)
                took = time.monotonic() - started
                if status not in _REDIRECTS or not extra.get("Location"):
                    break
                log.info("%s → HTTP %d redirect in %.2f s", what, status, took)
                try:
                    url = url.join(URL(extra["Location"]))
                except ValueError as exc:  # yarl: bad IPv6 literal, port out of range, …
                    raise BadResponseError(
                        f"CivitAI redirected (HTTP {status}) to an address that is not a "
                        "valid URL.",
                        status=status,
                    ) from exc
                what = f"{method} {url.path}"
            else:
                raise BadResponseError("CivitAI redirected too many times.", status=status)
        try:
            data = parse_response(status, ctype, text, extra, token_sent="Authorization" in headers)
        except CivitaiError as exc:
            log.info("%s → HTTP %d %s in %.2f s", what, status, exc.kind, took)
            raise
        summary = f", {describe(data)}" if describe is not None else ""
        log.info("%s → HTTP %d%s in %.2f s", what, status, summary, took)
        return data

    async def _send(self, method, url, json, headers, what):
        """One HTTP request → (status, content type, body text, {Retry-After, Location})."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        timeout = aiohttp.ClientTimeout(total=self.settings.timeout)
        self.calls += 1
        started = time.monotonic()
        try:
            async with self._session.request(
                method, url, json=json, headers=headers, timeout=timeout, allow_redirects=False
            ) as resp:
                body = await _read_capped(resp)
                extra = {k: resp.headers.get(k, "") for k in _KEPT_HEADERS}
                return resp.status, resp.content_type, body.decode("utf-8", "replace"), extra
        except CivitaiError:
            raise  # a body past the cap
        except asyncio.TimeoutError as exc:
            log.info("%s → timeout after %.1f s", what, time.monotonic() - started)
            raise CivitaiTimeoutError(
                f"CivitAI did not answer within {self.settings.timeout:g} s."
            ) from exc
        except (aiohttp.ClientError, OSError) as exc:
            log.info("%s → %s after %.1f s", what, type(exc).__name__, time.monotonic() - started)
            raise CivitaiNetworkError(
                f"Could not reach CivitAI ({type(exc).__name__}); check the connection."
            ) from exc

    async def get_image(self, url: str, *, max_bytes: int) -> bytes:
        """An image download (a preview): not an API call, so no spacing, no token, not in
        ``calls``; one at a time, the request timeout, at most ``max_bytes``. Raises a
        CivitaiError with a sentence."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        if self._image_lock is None:
            self._image_lock = asyncio.Lock()
        headers = {"User-Agent": USER_AGENT, "Accept": "image/*"}
        timeout = aiohttp.ClientTimeout(total=self.settings.timeout)
        too_big = f"The image is bigger than {max_bytes // 2**20} MiB; not saved."
        async with self._image_lock:
            try:
                async with self._session.get(url, headers=headers, timeout=timeout) as resp:
                    if resp.status != 200:
                        raise BadResponseError(
                            f"The image download failed (HTTP {resp.status}).", status=resp.status
                        )
                    if (resp.content_length or 0) > max_bytes:
                        raise BadResponseError(too_big, status=resp.status)
                    data = bytearray()
                    async for chunk in resp.content.iter_chunked(1 << 16):
                        data += chunk
                        if len(data) > max_bytes:
                            raise BadResponseError(too_big, status=resp.status)
                    return bytes(data)
            except asyncio.TimeoutError as exc:
                raise CivitaiTimeoutError(
                    f"The image did not arrive within {self.settings.timeout:g} s."
                ) from exc
            except (aiohttp.ClientError, OSError) as exc:
                if isinstance(exc, CivitaiError):
                    raise
                raise CivitaiNetworkError(
                    f"Could not download the image ({type(exc).__name__})."
                ) from exc

    async def close(self) -> None:
        if self._session is not None and self._own_session:
            await self._session.close()
        self._session = None


async def _read_capped(resp) -> bytes:
    """The body, or BadResponseError once it passes MAX_BODY_BYTES (never all in memory)."""
    declared = resp.content_length
    if declared is not None and declared > MAX_BODY_BYTES:
        raise _too_large(resp.status)
    chunks, total = [], 0
    async for chunk in resp.content.iter_chunked(1 << 16):
        total += len(chunk)
        if total > MAX_BODY_BYTES:
            raise _too_large(resp.status)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(status: int) -> BadResponseError:
    return BadResponseError(
        f"CivitAI sent an answer larger than {MAX_BODY_BYTES // 2**20} MiB (HTTP {status}); "
        "it was not read.",
        status=status,
    )


def retry_delay(exc: CivitaiError, attempt: int) -> float | None:
    """Seconds to wait before attempt ``attempt + 1``, or None to give up now."""
    if exc.status == 429:  # plain-text 429 (usual) or a Cloudflare HTML one
        if attempt >= RATE_LIMIT_ATTEMPTS:
            return None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            return retry_after if retry_after <= MAX_BACKOFF else None
        return min(RATE_LIMIT_BACKOFF * 2 ** (attempt - 1), MAX_BACKOFF)
    if isinstance(exc, CloudflareError) and exc.challenge:
        if attempt >= CHALLENGE_ATTEMPTS:
            return None
        return CHALLENGE_BACKOFF * 2 ** (attempt - 1)
    if isinstance(exc, CloudflareError):
        transient = exc.status is not None and exc.status >= 500
    else:
        transient = exc.kind in ("server_error", "timeout", "network")
    if not transient or attempt >= TRANSIENT_ATTEMPTS:
        return None
    return min(TRANSIENT_BACKOFF * 2 ** (attempt - 1), MAX_BACKOFF)
