"""Fixed values of the CivitAI room: defaults, API limits, the User-Agent."""

from .version import __version__

DEFAULT_API_BASE = "https://civitai.com/api/v1"
DEFAULT_WEB_BASE = "https://civitai.com"  # links; "https://civitai.red" for its API
RED_WEB_BASE = "https://civitai.red"
DEFAULT_INTERVAL = 3.0  # seconds between the end of one call and the start of the next
DEFAULT_TIMEOUT = 30.0  # total seconds per HTTP request

REPO_URL = "https://github.com/civitai-identify/civitai-identify"
USER_AGENT = f"civitai-identify/{__version__} (+{REPO_URL})"

BULK_LIMIT = 100  # POST /model-versions/by-hash accepts 1..100 SHA256
MODELS_LIMIT = 100  # GET /models?ids= answers at most `limit` (max 100) models

# Retries. 429 (Cloudflare, usually without Retry-After): 5 s, 10 s, 20 s, then give up.
RATE_LIMIT_ATTEMPTS = 4
RATE_LIMIT_BACKOFF = 5.0
# 5xx, timeouts, connection resets: 2 s, 4 s, then give up.
TRANSIENT_ATTEMPTS = 3
TRANSIENT_BACKOFF = 2.0
MAX_BACKOFF = 120.0
MAX_REDIRECTS = 3
#: An answer body larger than this is not read to the end (real ones are a few MiB at most).
MAX_BODY_BYTES = 32 * 1024 * 1024

# A Cloudflare challenge (403 + cf-mitigated: challenge, or a challenge page): 10 s, 20 s.
CHALLENGE_ATTEMPTS = 3
CHALLENGE_BACKOFF = 10.0

# Circuit breaker: this many failed batches in a row → the rest is marked error unasked.
BREAKER_FAILURES = 3
# ...and at most this many failed requests in a row per lookup call (a scan makes one, and
# one more for the AutoV3 fallback only when CivitAI answered): a down service costs ≤ 8.
OUTAGE_REQUESTS = 8
