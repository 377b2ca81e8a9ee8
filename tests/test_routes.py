"""Every route's success and error answers, on a real aiohttp server (routes_helpers)."""

import pytest
from packload import pack_module
from routes_helpers import make_api, safetensors, sha256


@pytest.mark.parametrize("prefix", ["/civitai-identify", "/api/civitai-identify"])
async def test_status_on_both_prefixes(api, fake_civitai, prefix):
    _, body = await api.get(f"{prefix}/status", expect=200)
    assert body["version"] and body["token_configured"] is False
    assert body["api_base"] == fake_civitai.url
    assert body["counts"]["identified"] == 0 and body["scan"] is None


async def test_token_is_reported_but_never_shown(comfy_env, fake_civitai, aiohttp_client, caplog):
    secret = "TOKEN-s3cr3t-value"
    api = await make_api(comfy_env, fake_civitai, aiohttp_client, token=secret)
    try:
        comfy_env.add_model("other", "x.safetensors", safetensors(b"x" * 10))
        _, body = await api.get("/civitai-identify/status", expect=200)
        assert body["token_configured"] is True
        texts = [str(body)]
        _, job = await api.post("/civitai-identify/scan", {"identify": "all"}, expect=202)
        texts.append(str(await api.wait_done(job["job_id"])))
        for path in ("/civitai-identify/models", "/civitai-identify/scan"):
            texts.append(str((await api.get(path, expect=200))[1]))
        assert all(secret not in t for t in texts)
        assert secret not in caplog.text
        assert fake_civitai.requests  # the token did go to CivitAI, in a header
    finally:
        await api.service.close()


async def test_models_list_filters_and_one_model(api, fake_civitai):
    lora = safetensors(b"l" * 100)
    api.env.add_model("loras", "sub dir/My LoRA.safetensors", lora)
    api.env.add_model("other", "misc/thing.safetensors", safetensors(b"t" * 100))
    fake_civitai.add_file_model(sha256=sha256(lora), name="Fancy Style", base_model="Pony")
    _, job = await api.post("/civitai-identify/scan", {"identify": "all"}, expect=202)
    assert (await api.wait_done(job["job_id"]))["state"] == "done"

    _, body = await api.get("/civitai-identify/models", expect=200)
    assert body["total"] == 2 and len(body["models"]) == 2
    assert all("path" not in m for m in body["models"])
    for query, names in [
        ("q=fancy", ["sub dir/My LoRA.safetensors"]),
        ("category=other", ["misc/thing.safetensors"]),
        ("status=unknown", ["misc/thing.safetensors"]),
        ("base_model=Pony", ["sub dir/My LoRA.safetensors"]),
        ("q=nothing-like-this", []),
    ]:
        _, body = await api.get(f"/civitai-identify/models?{query}", expect=200)
        assert [m["name"] for m in body["models"]] == names, query

    _, record = await api.get("/api/civitai-identify/models/loras/sub%20dir/My%20LoRA.safetensors")
    assert record["civitai_info"]["model_name"] == "Fancy Style"
    assert record["folder"] == "loras" and "path" not in record


async def test_one_model_not_scanned_yet_and_not_found(api):
    api.env.add_model("loras", "fresh.safetensors", b"f" * 10)
    _, record = await api.get("/civitai-identify/models/loras/fresh.safetensors", expect=200)
    assert record["status"] == "not_checked" and record["size"] == 10
    _, body = await api.get("/civitai-identify/models/loras/absent.safetensors", expect=404)
    assert body["error"].endswith(".")
    await api.get("/civitai-identify/models/nofolder/fresh.safetensors", expect=404)
    await api.get("/civitai-identify/models/loras/notes.txt", expect=404)


async def test_identify_returns_the_record(api, fake_civitai):
    data = safetensors(b"i" * 100)
    api.env.add_model("checkpoints", "a/b.safetensors", data)
    ids = fake_civitai.add_file_model(sha256=sha256(data), name="Base", type="Checkpoint")
    body = {"folder": "checkpoints", "name": "a/b.safetensors"}
    _, record = await api.post("/civitai-identify/identify", body, expect=200)
    assert record["status"] == "identified"
    assert record["civitai_info"]["model_id"] == ids.model_id
    assert record["hashes"]["SHA256"] == sha256(data)
    calls = len(fake_civitai.requests)
    await api.post("/civitai-identify/identify", body, expect=200)
    assert len(fake_civitai.requests) == calls  # stored: no new call
    await api.post("/civitai-identify/identify", {**body, "force": True}, expect=200)
    assert len(fake_civitai.requests) > calls


async def test_identify_a_replaced_file_answers_for_the_new_content(api, fake_civitai):
    # A LoRA updated in place (same name, new bytes): the stored answer was for the old
    # file, so identify without force must not hand back the old model's info.
    old, new = safetensors(b"o" * 100), safetensors(b"n" * 120)
    path = api.env.add_model("loras", "style.safetensors", old)
    fake_civitai.add_file_model(sha256=sha256(old), name="Style", version_name="v1")
    fake_civitai.add_file_model(sha256=sha256(new), name="Style", version_name="v2")
    body = {"folder": "loras", "name": "style.safetensors"}
    _, record = await api.post("/civitai-identify/identify", body, expect=200)
    assert record["civitai_info"]["version_name"] == "v1"
    path.write_bytes(new)
    _, record = await api.post("/civitai-identify/identify", body, expect=200)
    assert record["hashes"]["SHA256"] == sha256(new)
    assert record["civitai_info"]["version_name"] == "v2"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"folder": "loras"}, 400),
        ({"name": "x.safetensors"}, 400),
        ({"folder": "loras", "name": "x.safetensors", "force": "yes"}, 400),
        ({"folder": "loras", "name": "absent.safetensors"}, 404),
        ({"folder": "nofolder", "name": "x.safetensors"}, 404),
        (["not", "an", "object"], 400),
    ],
)
async def test_identify_bad_input(api, body, status):
    _, answer = await api.post("/civitai-identify/identify", body, expect=status)
    assert set(answer) == {"error"} and "Traceback" not in answer["error"]


async def test_identify_body_not_json(api):
    await api.call("POST", "/civitai-identify/identify", data=b"{oops", expect=400)


async def test_identify_a_big_file_is_a_job_with_progress(comfy_env, fake_civitai, aiohttp_client):
    api = await make_api(comfy_env, fake_civitai, aiohttp_client, big_file_bytes=1000)
    try:
        data = safetensors(b"B" * 300_000)
        comfy_env.add_model("loras", "big.safetensors", data)
        fake_civitai.add_file_model(sha256=sha256(data), name="Big One")
        body = {"folder": "loras", "name": "big.safetensors"}
        _, answer = await api.post("/civitai-identify/identify", body, expect=202)
        job = answer["job"]
        assert job["state"] == "running" and job["kind"] == "identify"
        done = await api.wait_done(job["job_id"])
        assert done["state"] == "done"
        assert done["summary"]["civitai_info"]["model_name"] == "Big One"
        progress = [d for e, d in api.events if e == "civitai-identify.progress"]
        assert progress and all(p["job_id"] == job["job_id"] for p in progress)
        # Hashed now: the second request is answered directly.
        await api.post("/civitai-identify/identify", body, expect=200)
    finally:
        await api.service.close()


async def test_scan_job_lifecycle(api, fake_civitai):
    api.env.add_model("other", "u.safetensors", safetensors(b"u" * 10))
    _, scan = await api.get("/civitai-identify/scan", expect=200)
    assert scan is None
    await api.post("/civitai-identify/scan/cancel", expect=404)
    _, job = await api.post("/civitai-identify/scan", {"folders": ["other"]}, expect=202)
    assert set(job) >= {"job_id", "state", "progress", "summary", "error"}
    done = await api.wait_done(job["job_id"])
    assert done["state"] == "done" and done["summary"]["files_total"] == 1
    _, last = await api.get("/civitai-identify/scan", expect=200)
    assert last["job_id"] == job["job_id"] and last["state"] == "done"
    _, status = await api.get("/civitai-identify/status", expect=200)
    assert status["scan"]["job_id"] == job["job_id"] and status["counts"]["unknown"] == 1


async def test_scan_cancel(api, fake_civitai):
    for i in range(3):
        api.env.add_model("other", f"f{i}.safetensors", safetensors(bytes([i]) * 10))
    fake_civitai.delay_next(0.5, n=5)
    _, job = await api.post("/civitai-identify/scan", {"identify": "all"}, expect=202)
    _, cancelling = await api.post("/civitai-identify/scan/cancel", expect=200)
    assert cancelling["job_id"] == job["job_id"]
    done = await api.wait_done(job["job_id"])
    assert done["state"] == "cancelled"


@pytest.mark.parametrize(
    "body",
    [
        {"identify": "sometimes"},
        {"folders": "loras"},
        {"folders": ["loras", "nofolder"]},
        {"folders": [1]},
        {"retry_unknown": "yes"},
        [],
    ],
)
async def test_scan_bad_input(api, body):
    _, answer = await api.post("/civitai-identify/scan", body, expect=400)
    assert answer["error"]
    _, scan = await api.get("/civitai-identify/scan", expect=200)
    assert scan is None  # nothing started


async def test_a_store_that_cannot_open_is_a_503_and_one_log_line(
    comfy_env, fake_civitai, aiohttp_client, caplog, tmp_path
):
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("a file where the store's folder should be")
    db_path = blocker / "store.sqlite3"
    api = await make_api(comfy_env, fake_civitai, aiohttp_client, db_path=db_path)
    caplog.clear()
    _, body = await api.get("/civitai-identify/status", expect=503)
    assert body["error"].startswith("CivitAI Identify cannot start")
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "\n" not in errors[0].getMessage() and not errors[0].exc_info
    await api.get("/civitai-identify/status", expect=503)  # tried again, still a clear answer


async def test_a_missing_dependency_says_how_to_fix_it(
    comfy_env, fake_civitai, aiohttp_client, caplog, monkeypatch
):
    # blake3 (or python-dotenv) missing from ComfyUI's Python: the answer names the fix.
    api = await make_api(comfy_env, fake_civitai, aiohttp_client)
    service_mod = pack_module("nodes.comfy.service")

    async def build_without_blake3(self):
        raise ModuleNotFoundError("No module named 'blake3'")

    monkeypatch.setattr(service_mod.Service, "_build", build_without_blake3)
    _, body = await api.get("/civitai-identify/status", expect=503)
    assert "No module named 'blake3'" in body["error"]
    assert "requirements.txt" in body["error"]
    assert "requirements.txt" in caplog.text
