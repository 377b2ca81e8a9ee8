"""CivitaiClient.lookup against the fake server: batching, mapping back, parent models."""

import hashlib
import json
import logging
import urllib.error
import urllib.request

import pytest
from fake_civitai import fake_client, fake_file


def sha(i: int, salt: str = "") -> str:
    return hashlib.sha256(f"{salt}{i}".encode()).hexdigest().upper()


async def test_250_hashes_180_known_distinct_models_three_bulk_calls_two_models_calls(
    fake_civitai,
):
    hashes = [sha(i) for i in range(250)]
    expected = {h: fake_civitai.add_file_model(h, name=f"M{i}") for i, h in enumerate(hashes[:180])}
    async with fake_client(fake_civitai) as client:
        outcomes = await client.lookup(hashes)
    bulk = fake_civitai.calls("/model-versions/by-hash")
    models = fake_civitai.calls("/models")
    assert [len(r.json) for r in bulk] == [100, 100, 50]
    assert len(models) == 2  # 180 distinct models > 100
    assert all(r.query["nsfw"] == "true" and len(r.query["ids"].split(",")) <= 100 for r in models)
    assert client.calls == 5 == len(fake_civitai.requests)
    assert list(outcomes) == hashes
    for h, ids in expected.items():
        info = outcomes[h].civitai_info
        assert outcomes[h].status == "identified"
        assert (info["model_id"], info["version_id"]) == ids
        assert info["tags"] == [] and info["creator"]["username"] == "fake_creator"
    assert [outcomes[h].status for h in hashes[180:]] == ["unknown"] * 70


async def test_180_known_in_60_models_needs_one_models_call(fake_civitai):
    hashes = [sha(i, "few") for i in range(250)]
    model_ids = [fake_civitai.add_model(name=f"Shared {i}", tags=["style"]) for i in range(60)]
    for i, h in enumerate(hashes[:180]):
        fake_civitai.add_version(model_ids[i % 60], files=[fake_file(h)], name=f"v{i}")
    async with fake_client(fake_civitai) as client:
        outcomes = await client.lookup(hashes)
    assert len(fake_civitai.calls("/model-versions/by-hash")) == 3
    assert len(fake_civitai.calls("/models")) == 1
    assert client.calls == 4
    assert outcomes[hashes[61]].civitai_info["model_id"] == model_ids[1]
    assert outcomes[hashes[61]].civitai_info["version_name"] == "v61"
    assert outcomes[hashes[61]].civitai_info["tags"] == ["style"]
    assert sum(o.status == "unknown" for o in outcomes.values()) == 70


async def test_keys_kept_as_given_and_case_insensitive_mapping(fake_civitai):
    h = sha(1)
    fake_civitai.add_file_model(h.lower(), name="Lower")
    async with fake_client(fake_civitai) as client:
        out = await client.lookup([h.lower(), h, " " + h])
    assert set(out) == {h.lower(), h, " " + h}
    assert all(o.status == "identified" for o in out.values())
    assert out[h.lower()].hash == h.lower()
    assert len(fake_civitai.calls("/model-versions/by-hash")[0].json) == 1  # asked once


async def test_version_listed_twice_and_hash_in_two_versions_picks_lowest_id(fake_civitai, caplog):
    caplog.set_level(logging.INFO)
    a, b, shared = sha(1, "a"), sha(2, "a"), sha(3, "a")
    model = fake_civitai.add_model(name="Two files")
    two_files = fake_civitai.add_version(model, files=[fake_file(a, name="a.safetensors"),
                                                       fake_file(b, name="b.safetensors",
                                                                 primary=False)])  # fmt: skip
    newer = fake_civitai.add_version(model, files=[fake_file(shared)], version_id=90000)
    older = fake_civitai.add_version(model, files=[fake_file(shared)], version_id=500)
    async with fake_client(fake_civitai) as client:
        out = await client.lookup([a, b, shared])
    assert out[a].civitai_info["version_id"] == two_files
    assert out[b].civitai_info["file"]["name"] == "b.safetensors"  # the matched file
    assert out[b].civitai_info["file"]["primary"] is False
    assert out[shared].civitai_info["version_id"] == older != newer
    assert f"{shared} is in several model versions; using the oldest" in caplog.text
    assert f"{a} is in several" not in caplog.text  # one version listed twice is no conflict


async def test_archived_model_mapped_through_by_hash_ids(fake_civitai):
    archived, live, missing = sha(1, "ar"), sha(2, "ar"), sha(3, "ar")
    ids = fake_civitai.add_file_model(archived, name="Archived", archived=True)
    fake_civitai.add_file_model(live, name="Live")
    async with fake_client(fake_civitai) as client:
        out = await client.lookup([archived, live, missing])
    assert out[archived].status == "identified"
    assert out[archived].civitai_info["version_id"] == ids.version_id
    assert out[archived].civitai_info["file"] is None  # files: [] in the answer
    assert out[missing].status == "unknown"
    ids_calls = fake_civitai.calls("/by-hash/ids")
    assert len(ids_calls) == 1 and set(ids_calls[0].json) == {archived, missing}


async def test_no_ids_call_without_archived_entries(fake_civitai):
    fake_civitai.add_file_model(sha(1, "n"))
    async with fake_client(fake_civitai) as client:
        await client.lookup([sha(1, "n"), sha(2, "n")])
    assert fake_civitai.calls("/by-hash/ids") == []


async def test_other_hash_kinds_use_single_get(fake_civitai):
    ids = fake_civitai.add_file_model(sha(1, "k"), autov3="0123456789ab", crc32="85114a0d")
    async with fake_client(fake_civitai) as client:
        out = await client.lookup(["0123456789AB", "85114A0D", "FFFFFFFFFF"])
    assert out["0123456789AB"].civitai_info["matched_by"] == "AutoV3"
    assert out["85114A0D"].civitai_info["matched_by"] == "CRC32"
    assert out["0123456789AB"].civitai_info["version_id"] == ids.version_id
    assert out["FFFFFFFFFF"].status == "unknown"  # a real 404 JSON
    assert len(fake_civitai.calls("/models")) == 1
    assert fake_civitai.calls("/model-versions/by-hash") == []


async def test_invalid_input_is_an_error_not_asked(fake_civitai):
    async with fake_client(fake_civitai) as client:
        out = await client.lookup(["not-a-hash", ""])
    assert out["not-a-hash"].status == "error" and out[""].error_kind == "invalid_hash"
    assert fake_civitai.requests == []


async def test_models_call_failure_still_identifies_with_version_data(fake_civitai):
    h = sha(1, "m")
    fake_civitai.add_file_model(h, name="Partial", trained_words=["trig"], tags=["x"])
    fake_civitai.fail_next(500, n=3, path="/models")
    async with fake_client(fake_civitai, interval=0) as client:
        out = await client.lookup([h])
    info = out[h].civitai_info
    assert out[h].status == "identified"
    assert info["model_name"] == "Partial"  # from the version's own model summary
    assert info["trained_words"] == ["trig"]
    assert info["tags"] == [] and info["creator"] is None and info["description"] is None


async def test_nsfw_models_requested_with_nsfw_true(fake_civitai):
    h = sha(1, "nsfw")
    fake_civitai.add_file_model(h, nsfw=True, tags=["hidden-unless-nsfw"], nsfw_level=8)
    async with fake_client(fake_civitai) as client:
        out = await client.lookup([h])
    assert out[h].civitai_info["tags"] == ["hidden-unless-nsfw"]
    assert out[h].civitai_info["nsfw"] is True
    assert out[h].civitai_info["images"][0]["nsfw_level"] == 8


async def test_on_outcome_called_per_hash_as_batches_resolve(fake_civitai):
    known, unknown = sha(1, "cb"), sha(2, "cb")
    fake_civitai.add_file_model(known)
    seen = []

    async def on_outcome(outcome):
        seen.append((outcome.hash, outcome.status, len(fake_civitai.requests)))

    async with fake_client(fake_civitai) as client:
        await client.lookup([known, unknown], on_outcome=on_outcome)
    # the unknown is reported right after the bulk call, the identified after /models
    assert seen == [(unknown, "unknown", 1), (known, "identified", 2)]

    sync_seen = []
    async with fake_client(fake_civitai) as client:
        await client.lookup([unknown], on_outcome=sync_seen.append)
    assert [o.status for o in sync_seen] == ["unknown"]


async def test_user_agent_and_json_body(fake_civitai):
    async with fake_client(fake_civitai) as client:
        await client.lookup([sha(1)])
    req = fake_civitai.requests[0]
    assert req.headers["User-Agent"].startswith("civitai-identify/0.")
    assert "github.com" in req.headers["User-Agent"]
    assert req.headers["Content-Type"].startswith("application/json")
    assert "Authorization" not in req.headers  # no token configured


async def test_one_info_log_line_per_http_call(fake_civitai, caplog):
    caplog.set_level(logging.INFO, logger="civitai-identify.civitai")
    fake_civitai.add_file_model(sha(1, "log"))
    async with fake_client(fake_civitai) as client:
        await client.lookup([sha(1, "log"), sha(2, "log"), "0123456789AB"])
    lines = [r.getMessage() for r in caplog.records if r.name.endswith("civitai.http")]
    assert len(lines) == client.calls == 3
    assert lines[0].startswith("POST /api/v1/model-versions/by-hash (2 hashes) → HTTP 200")
    assert "1 found, 1 unknown" in lines[0] and lines[0].endswith(" s")
    assert "GET /api/v1/model-versions/by-hash/0123456789AB" in lines[1] and "404" in lines[1]
    assert lines[2].startswith("GET /api/v1/models (1 models) → HTTP 200")
    assert "ids=" not in "".join(lines)  # no query strings in logs


def test_fake_rejects_more_than_100_hashes(fake_civitai):
    body = json.dumps([sha(i) for i in range(101)]).encode()
    request = urllib.request.Request(
        fake_civitai.url + "/model-versions/by-hash", data=body,
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=10)
    assert info.value.code == 400 and b"Too many hashes" in info.value.read()


async def test_failed_archived_mapping_leaves_misses_as_errors_not_unknown(fake_civitai):
    # An outage on by-hash/ids proves nothing about the missing hashes: they must stay
    # errors (never stored as unknown) and each gets exactly one outcome.
    archived, missing = sha(1, "arf"), sha(2, "arf")
    fake_civitai.add_file_model(archived, name="Archived", archived=True)
    fake_civitai.fail_next(400, body='{"error": "nope"}', path="/by-hash/ids")
    seen = []
    async with fake_client(fake_civitai) as client:
        out = await client.lookup([archived, missing], on_outcome=seen.append)
    assert out[archived].status == "error" and out[missing].status == "error"
    assert out[missing].error_kind == "bad_response"
    assert sorted(o.hash for o in seen) == sorted([archived, missing])
