"""Outages, rate limits and bad answers: each gives a documented error, never "unknown"."""

import json
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from fake_civitai import CLOUDFLARE_HTML, KNOWN_SHA, OUTAGE_HTML
from fake_civitai import lookup_once as lookup
from packload import pack_module

responses = pack_module("civitai.responses")
errors = pack_module("civitai.errors")
H1, H2 = KNOWN_SHA, "B" * 64


async def test_429_without_retry_after_backs_off_5_10_20_then_error(known):
    known.fail_next(429, n=4, body="error code: 1015", content_type="text/plain")
    out, client = await lookup(known)
    assert out[H1].status == "error" and out[H1].error_kind == "rate_limited"
    assert "try again later" in out[H1].error
    assert client.clock.sleeps == [5.0, 10.0, 20.0]
    assert len(known.requests) == 4


async def test_429_then_success_identifies(known):
    known.fail_next(429, n=1, body="error code: 1015", content_type="text/plain")
    out, client = await lookup(known)
    assert out[H1].status == "identified"
    assert client.clock.sleeps == [5.0]


async def test_429_retry_after_seconds_is_honoured(known):
    known.fail_next(429, headers={"Retry-After": "7"}, content_type="text/plain", body="slow")
    out, client = await lookup(known)
    assert out[H1].status == "identified"
    assert client.clock.sleeps == [7.0]


async def test_429_retry_after_http_date_is_honoured(known):
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=9), usegmt=True)
    known.fail_next(429, headers={"Retry-After": when}, content_type="text/plain", body="x")
    out, client = await lookup(known)
    assert out[H1].status == "identified"
    assert 7.0 < client.clock.sleeps[0] <= 9.0


async def test_429_with_very_long_retry_after_gives_up_at_once(known):
    known.fail_next(429, headers={"Retry-After": "3600"}, content_type="text/plain", body="x")
    out, client = await lookup(known)
    assert out[H1].error_kind == "rate_limited"
    assert client.clock.sleeps == [] and len(known.requests) == 1


async def test_503_then_success(known):
    known.fail_next(503, n=1)
    out, client = await lookup(known)
    assert out[H1].status == "identified"
    assert client.clock.sleeps == [2.0]
    assert client.calls == 3  # bulk twice + models


async def test_5xx_every_time_is_server_error_after_three_tries(known):
    known.fail_next(502, n=3)
    out, client = await lookup(known, [H1, H2])
    assert {o.error_kind for o in out.values()} == {"server_error"}
    assert {o.status for o in out.values()} == {"error"}
    assert client.clock.sleeps == [2.0, 4.0]


async def test_timeout_is_retried_then_error(known):
    known.delay_next(2.0, n=3)
    out, client = await lookup(known, timeout=0.2)
    assert out[H1].status == "error" and out[H1].error_kind == "timeout"
    assert "0.2 s" in out[H1].error
    assert client.calls == 3


async def test_timeout_then_success(known):
    known.delay_next(2.0, n=1)
    out, _ = await lookup(known, timeout=0.2)
    assert out[H1].status == "identified"


async def test_connection_reset_retried_then_success_or_error(known):
    known.fail_next("reset", n=1)
    out, _ = await lookup(known)
    assert out[H1].status == "identified"
    known.fail_next("reset", n=3)
    out, _ = await lookup(known)
    assert out[H1].error_kind == "network"


async def test_connection_refused_is_network_error():
    civitai = pack_module("civitai")
    settings = civitai.Settings(api_base="http://127.0.0.1:1/api/v1", interval=0)
    limiter = civitai.SpacingLimiter(0, sleep=_no_sleep)
    async with civitai.CivitaiClient(settings, limiter=limiter) as client:
        out = await client.lookup([H1])
    assert out[H1].error_kind == "network" and "reach CivitAI" in out[H1].error


async def _no_sleep(_seconds):
    return None


@pytest.mark.parametrize("status", [403, 503, 200])
async def test_cloudflare_html_page_is_cloudflare_error(known, status):
    known.fail_next(status, n=3, body=OUTAGE_HTML, content_type="text/html")
    out, client = await lookup(known, [H1, H2])
    assert {o.error_kind for o in out.values()} == {"cloudflare"}
    assert "web page" in out[H1].error
    assert client.calls == (3 if status == 503 else 1)  # only a 5xx page is worth a retry


async def test_malformed_json_is_bad_response(known):
    known.fail_next(200, body='[{"id": 1, "files": [')
    out, _ = await lookup(known, [H1, H2])
    assert {o.error_kind for o in out.values()} == {"bad_response"}


async def test_json_of_the_wrong_shape_is_bad_response(known):
    known.fail_next(200, body='{"items": []}')
    out, _ = await lookup(known, [H1, H2])
    assert {o.status for o in out.values()} == {"error"}
    assert {o.error_kind for o in out.values()} == {"bad_response"}


async def test_one_bad_entry_does_not_spoil_the_others(known):
    good = {"id": 7, "modelId": 8, "name": "v", "files": [{"hashes": {"SHA256": H1}}]}
    known.fail_next(200, body=json.dumps([good, "garbage", 42, {"files": "x"}]))
    out, _ = await lookup(known, [H1, H2])
    assert out[H1].status == "identified" and out[H1].civitai_info["version_id"] == 7
    # H2 is absent, but with broken entries around that is no proof CivitAI doesn't know it
    assert out[H2].status == "error" and out[H2].error_kind == "bad_response"


async def test_single_get_wrong_shape_is_bad_response(fake_civitai):
    fake_civitai.fail_next(200, body="[1, 2]")
    out, _ = await lookup(fake_civitai, ["0123456789AB"])
    assert out["0123456789AB"].error_kind == "bad_response"


@pytest.mark.parametrize(
    "files",
    [7, {"hashes": {}}, [{"hashes": ["0123456789AB"]}], [{"hashes": {"AutoV3": 5}}], [None]],
)
async def test_single_get_odd_files_still_identifies(fake_civitai, files):
    # The version itself is usable; odd files/hashes fields must not crash the lookup.
    version = {"id": 7, "modelId": 8, "name": "v", "files": files}
    fake_civitai.fail_next(200, body=json.dumps(version))
    out, _ = await lookup(fake_civitai, ["0123456789AB"])
    info = out["0123456789AB"].civitai_info
    assert out["0123456789AB"].status == "identified" and info["version_id"] == 7
    assert info["matched_by"] == "AutoV3"  # told by the hash's length


@pytest.mark.parametrize("location", ["http://[broken", "http://host:99999/x"])
async def test_unusable_redirect_location_is_bad_response(known, location):
    # A broken Location header must be an error outcome, not a ValueError out of lookup.
    known.fail_next(302, headers={"Location": location}, body="")
    out, _ = await lookup(known, [H1, H2])
    assert {o.error_kind for o in out.values()} == {"bad_response"}


async def test_404_html_is_not_unknown(fake_civitai):
    fake_civitai.fail_next(404, body="Not Found", content_type="text/plain")
    out, _ = await lookup(fake_civitai, ["0123456789AB"])
    assert out["0123456789AB"].status == "error"


async def test_401_with_invalid_token_is_auth_error_and_stops(known):
    known.fail_next(401, n=5, body='{"error": "Unauthorized"}')
    hashes = [f"{i:064X}" for i in range(250)]
    out, client = await lookup(known, hashes, token="bad-token-123")
    assert {o.error_kind for o in out.values()} == {"auth"}
    assert "token" in out[hashes[0]].error and "invalid" in out[hashes[0]].error
    assert all("bad-token-123" not in o.error for o in out.values())
    assert client.calls == 1  # the other batches are not sent with a refused token


async def test_circuit_breaker_stops_hammering_a_down_site(fake_civitai):
    fake_civitai.down = True
    hashes = [f"{i:064X}" for i in range(450)] + ["0123456789AB"]
    out, client = await lookup(fake_civitai, hashes)
    assert {o.status for o in out.values()} == {"error"}
    assert client.calls == 8  # 3 + 3 tries, 2 of the third batch: the outage budget
    assert out[hashes[-1]].error == "CivitAI appears to be down; try again later."
    assert out[hashes[0]].error_kind == "cloudflare"


async def test_breaker_resets_after_a_success(known):
    # fail, fail, answer, fail, fail: never 3 in a row, so the last batch is still asked
    known.fail_next(500, n=6, path="/by-hash")
    known.fail_next(200, n=1, body="[]", path="/by-hash")
    known.fail_next(500, n=6, path="/by-hash")
    hashes = [f"{i:064X}" for i in range(500)] + [H1]
    out, _ = await lookup(known, hashes)
    assert out[hashes[0]].error_kind == "server_error"
    assert out[hashes[250]].status == "unknown"
    assert out[H1].status == "identified"


def test_parse_response_maps_statuses():
    ok = responses.parse_response(200, "application/json", "[1]", {}, token_sent=False)
    assert ok == [1]
    cases = [
        (404, "application/json", '{"error": "Model not found"}', errors.NotFoundError),
        (401, "application/json", "{}", errors.AuthError),
        (403, "text/html", "<html>challenge</html>", errors.CloudflareError),
        (429, "text/plain", "error code: 1015", errors.RateLimitedError),
        (500, "application/json", "{}", errors.ServerError),
        (400, "application/json", '{"error": "Too many hashes"}', errors.BadResponseError),
        (200, "application/json", "{nope", errors.BadResponseError),
    ]
    for status, ctype, text, exc_type in cases:
        with pytest.raises(exc_type) as info:
            responses.parse_response(status, ctype, text, {}, token_sent=False)
        assert isinstance(info.value, errors.CivitaiError) and isinstance(info.value, OSError)
    assert issubclass(errors.CivitaiTimeoutError, TimeoutError)
    assert issubclass(errors.AuthError, PermissionError)


def test_parse_retry_after():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert responses.parse_retry_after("12", now) == 12.0
    assert responses.parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now) == 30.0
    assert responses.parse_retry_after("Wed, 31 Dec 2025 00:00:00 GMT", now) == 0.0
    assert responses.parse_retry_after("soon", now) is None
    assert responses.parse_retry_after(None, now) is None


async def test_cloudflare_429_page_backs_off_like_a_rate_limit(known):
    known.fail_next(429, n=1, body=CLOUDFLARE_HTML, content_type="text/html")
    out, client = await lookup(known)
    assert out[H1].status == "identified"
    assert client.clock.sleeps == [5.0]
