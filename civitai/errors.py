"""The CivitAI room's one error vocabulary.

Every exception carries ``kind`` (the ``LookupOutcome.error_kind`` it becomes) and a message a
user understands. Each also inherits the matching built-in so callers may catch either.
Messages never contain the token (it is never in a URL, so never in a message either).
"""


class CivitaiError(OSError):
    """Base class: CivitAI could not answer. ``kind`` names the failure."""

    kind = "network"

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return self.message


class RateLimitedError(CivitaiError):
    """429: too many requests. ``retry_after`` seconds when the server said so."""

    kind = "rate_limited"

    def __init__(self, message: str, *, status: int | None = 429, retry_after=None):
        super().__init__(message, status=status)
        self.retry_after = retry_after


class ServerError(CivitaiError):
    """5xx (or another unexpected status) with no usable answer."""

    kind = "server_error"


class CivitaiTimeoutError(CivitaiError, TimeoutError):
    kind = "timeout"


class CivitaiNetworkError(CivitaiError, ConnectionError):
    """Connection refused or reset, DNS failure, …"""

    kind = "network"


class CloudflareError(CivitaiError):
    """An HTML page (a Cloudflare challenge or outage page) instead of JSON. ``challenge``:
    Cloudflare is checking the client (``cf-mitigated: challenge`` or a challenge page),
    which usually passes within seconds, so it is worth two later tries."""

    kind = "cloudflare"

    def __init__(self, message: str, *, status: int | None = None, challenge: bool = False):
        super().__init__(message, status=status)
        self.challenge = challenge


class BadResponseError(CivitaiError, ValueError):
    """Malformed JSON, or JSON of a shape the pack does not understand."""

    kind = "bad_response"


class AuthError(CivitaiError, PermissionError):
    """401/403 with a JSON body: the token was refused (or is needed)."""

    kind = "auth"


class NotFoundError(CivitaiError, LookupError):
    """A real 404 JSON answer: CivitAI does not know the thing asked for. Not an outage."""

    kind = "not_found"


def as_sentence(exc: BaseException) -> str:
    """The one way the pack words an exception for a user: its message as a sentence (final
    period added when missing; the class name when the message is empty)."""
    text = str(exc).strip() or type(exc).__name__
    return text if text.endswith((".", "!", "?")) else text + "."
