"""CivitAI faults a scan must ride out: Cloudflare challenges (retried after 10 s and 20 s),
a down service (at most 8 requests, then errors to retry), a 429 storm (Retry-After kept),
and the AutoV3 fallback (every file sharing an AutoV3 gets the answer; its errors are
per-file)."""

import json

import pytest
from fake_civitai import CLOUDFLARE_HTML, KNOWN_SHA
from fake_civitai import lookup_once as lookup
from models_tree import autov3_of, open_scanner, safetensors_bytes
from packload import pack_module

H1 = KNOWN_SHA
CHALLENGE_HEADERS = {"cf-mitigated": "challenge"}


@pytest.mark.parametrize(
    "body, ctype, headers",
    [('{"error": "challenge"}', "application/json", CHALLENGE_HEADERS),
     ("", None, CHALLENGE_HEADERS),
     (CLOUDFLARE_HTML, "text/html", None)],
    ids=["cf_mitigated_json", "cf_mitigated_empty", "challenge_page"],
)  # fmt: skip
async def test_a_short_challenge_window_is_waited_out(known, body, ctype, headers):
    known.fail_next(403, n=2, body=body, content_type=ctype, headers=headers)
    out, client = await lookup(known)
    assert out[H1].status == "identified"
    assert client.clock.sleeps == [10.0, 20.0]  # at least 10 s, then at least 20 s
    bulk = known.calls("/model-versions/by-hash")
    assert len(bulk) == 3
    assert bulk[1].start - bulk[0].end >= 10 and bulk[2].start - bulk[1].end >= 20


async def test_a_challenge_that_stays_is_an_error_after_two_retries(known):
    known.fail_next(403, n=3, body="", content_type=None, headers=CHALLENGE_HEADERS)
    out, client = await lookup(known)
    assert out[H1].status == "error" and out[H1].error_kind == "cloudflare"
    assert "challenge" in out[H1].error and "try again" in out[H1].error
    assert client.calls == 3 and client.clock.sleeps == [10.0, 20.0]


def test_a_403_json_without_the_challenge_header_is_still_an_auth_error():
    responses = pack_module("civitai.responses")
    errors = pack_module("civitai.errors")
    with pytest.raises(errors.AuthError):
        responses.parse_response(403, "application/json", '{"error": "no"}', {},
                                 token_sent=True)  # fmt: skip


async def test_a_down_service_costs_at_most_8_requests_then_errors(fake_civitai):
    fake_civitai.down = True
    hashes = [f"{i:064X}" for i in range(1000)]
    out, client = await lookup(fake_civitai, hashes)
    assert client.calls <= 8 and len(fake_civitai.requests) <= 8
    assert {o.status for o in out.values()} == {"error"}
    assert out[hashes[-1]].error == "CivitAI appears to be down; try again later."


async def test_a_429_storm_honours_retry_after_within_the_budget(fake_civitai):
    fake_civitai.fail_next(429, n=100, body="slow down", content_type="text/plain",
                           headers={"Retry-After": "7"})  # fmt: skip
    hashes = [f"{i:064X}" for i in range(300)]
    out, client = await lookup(fake_civitai, hashes)
    assert client.calls == 8
    assert client.clock.sleeps and set(client.clock.sleeps) == {7.0}
    assert {o.error_kind for o in out.values()} == {"rate_limited"}


async def test_a_down_service_in_a_scan_stores_errors_not_unknowns(tmp_path, fake_civitai):
    root = tmp_path / "models"
    root.mkdir()
    for i in range(5):
        (root / f"m{i}.safetensors").write_bytes(safetensors_bytes(40 + i))
    fake_civitai.down = True
    async with open_scanner(root, tmp_path / "db", fake_civitai) as (scanner, store, _):
        summary = await scanner.scan(identify="all")
        records = store.list_records()
    assert len(fake_civitai.requests) <= 8
    assert {r["status"] for r in records} == {"error"}
    assert summary["by_status"]["error"] == 5 and summary["by_status"]["unknown"] == 0


# --- the AutoV3 fallback -------------------------------------------------------------
def _twins(root):
    """Two safetensors files with the same tensors and different metadata."""
    a = safetensors_bytes(50, metadata={"note": "first"})
    b = safetensors_bytes(50, metadata={"note": "second, longer"})
    (root / "twin_a.safetensors").write_bytes(a)
    (root / "twin_b.safetensors").write_bytes(b)
    assert autov3_of(a) == autov3_of(b)
    return autov3_of(a)


async def test_every_file_sharing_an_autov3_gets_the_answer(tmp_path, fake_civitai):
    root = tmp_path / "models"
    root.mkdir()
    v3 = _twins(root)
    ids = fake_civitai.add_file_model("C" * 64, autov3=v3, name="Twin")
    async with open_scanner(root, tmp_path / "db", fake_civitai) as (scanner, store, _):
        summary = await scanner.scan(identify="all")
        records = {r["name"]: r for r in store.list_records()}
    for name in ("twin_a.safetensors", "twin_b.safetensors"):
        assert records[name]["status"] == "identified", name
        assert records[name]["civitai_info"]["version_id"] == ids.version_id
        assert records[name]["civitai_info"]["matched_by"] == "AutoV3"
    assert summary["lookups"]["autov3_identified"] == 2
    assert len(fake_civitai.calls(f"/by-hash/{v3}")) == 1  # asked once for both


class _BrokenSecondLookup:
    """A client whose AutoV3 lookup raises something no one expected."""

    def __init__(self, client):
        self._client, self.calls = client, 0

    async def lookup(self, hashes, **kw):
        self.calls += 1
        if self.calls > 1:
            raise KeyError("surprise")
        return await self._client.lookup(hashes, **kw)


async def test_an_unexpected_error_in_the_fallback_is_a_per_file_error(tmp_path, fake_civitai):
    root = tmp_path / "models"
    root.mkdir()
    _twins(root)
    async with open_scanner(root, tmp_path / "db", fake_civitai) as (scanner, store, _):
        scanner.client = _BrokenSecondLookup(scanner.client)
        summary = await scanner.scan(identify="all")
        records = store.list_records()
    assert {r["status"] for r in records} == {"error"}  # never "unknown": it was not asked
    assert all("failed unexpectedly (KeyError)" in r["error"] for r in records)
    assert summary["by_status"]["error"] == 2


# --- sidecars never stand in for an answer ---------------------------------------------
@pytest.mark.parametrize(
    "cm",
    [{"ModelId": "garbage", "VersionId": "x"}, {"ModelId": [1], "VersionId": {"a": 1}},
     {"ModelId": 12, "VersionId": None}, {"ModelId": True, "VersionId": 3}],
    ids=["strings", "containers", "no_version", "bool"],
)  # fmt: skip
async def test_a_cm_info_of_wrong_types_is_ignored_and_civitai_asked(tmp_path, fake_civitai, cm):
    root = tmp_path / "models"
    root.mkdir()
    blob = safetensors_bytes(60)
    (root / "m.safetensors").write_bytes(blob)
    sha = pack_module("hashing").hash_file(root / "m.safetensors").hashes["SHA256"]
    (root / "m.cm-info.json").write_text(json.dumps({**cm, "Hashes": {"SHA256": sha}}))
    ids = fake_civitai.add_file_model(sha, name="Real")
    async with open_scanner(root, tmp_path / "db", fake_civitai) as (scanner, store, _):
        summary = await scanner.scan(identify="all")
        record = store.list_records()[0]
    assert summary["from_sidecars"] == 0
    assert record["status"] == "identified"
    assert record["civitai_info"]["model_id"] == ids.model_id
    assert record["civitai_info"]["matched_by"] == "SHA256"
