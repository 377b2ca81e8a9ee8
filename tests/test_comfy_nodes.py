"""The two V3 nodes, run as ComfyUI runs them: the server loop in its own thread, the node
on the prompt worker's loop (here ``asyncio.run`` in the test thread), against the fake
CivitAI server."""

import asyncio
import hashlib
import json

import pytest
from packload import pack_module

ONE_MIB = 1024 * 1024


@pytest.fixture
def env(comfy_env, fake_civitai):
    settings_cls = pack_module("civitai.config").Settings
    comfy_env.start_server()
    comfy_env.make_service(settings_cls(api_base=fake_civitai.url, interval=0.01, timeout=5.0))
    return comfy_env


def _nodes():
    module = pack_module("nodes.comfy.nodes")
    return module.IdentifyModel, module.ScanModelsFolder


def _run(node, **inputs):
    """Execute a node the way ComfyUI's worker does: its own loop, in another thread than
    the server loop."""
    return asyncio.run(node.EXECUTE_NORMALIZED_ASYNC(**inputs)).args


def safetensors(payload: bytes) -> bytes:
    """A valid .safetensors file holding ``payload`` as one uint8 tensor."""
    n = len(payload)
    header = json.dumps({"t": {"dtype": "U8", "shape": [n], "data_offsets": [0, n]}}).encode()
    return len(header).to_bytes(8, "little") + header + payload


def _add_known(env, fake, folder, rel, data, **model):
    env.add_model(folder, rel, data)
    sha = hashlib.sha256(data).hexdigest().upper()
    return fake.add_file_model(sha256=sha, **model)


def test_identify_model_outputs_and_progress(env, fake_civitai):
    data = safetensors(b"lora weights " * (ONE_MIB // 8))
    ids = _add_known(env, fake_civitai, "loras", "style/my_lora.safetensors", data,
                     name="My LoRA", version_name="v2", base_model="SDXL 1.0",
                     trained_words=["trig one", " trig two "])  # fmt: skip
    identify, _ = _nodes()
    out = _run(identify, model="loras/style/my_lora.safetensors", refresh=False)
    info_json, model_name, version_name, base_model, trigger_words, url, update = out
    info = json.loads(info_json)
    assert info["status"] == "identified"
    assert info["model_id"] == ids.model_id and info["version_id"] == ids.version_id
    assert (model_name, version_name, base_model) == ("My LoRA", "v2", "SDXL 1.0")
    assert trigger_words == "trig one, trig two"
    assert url.endswith(f"/models/{ids.model_id}?modelVersionId={ids.version_id}")
    assert update == ""  # the only version: nothing newer
    # The node's ProgressBar moved over the file's bytes, up to the end.
    assert env.progress and env.progress[-1] == (len(data), len(data))
    done = [d for e, d, _ in env.server_module.PromptServer.instance.sent if e.endswith(".done")]
    assert done == []  # a node identify is not a background job

    calls = len(fake_civitai.requests)
    assert _run(identify, model="loras/style/my_lora.safetensors")[1] == "My LoRA"
    assert len(fake_civitai.requests) == calls  # stored info: no hashing, no API call


def test_identify_model_update_output(env, fake_civitai):
    data = safetensors(b"old lora " * 100)
    ids = _add_known(env, fake_civitai, "loras", "old.safetensors", data, version_name="v1",
                     published_at="2024-01-01T00:00:00Z")  # fmt: skip
    from fake_civitai import fake_file

    newer = fake_civitai.add_version(ids.model_id, files=[fake_file("F" * 64)], name="v2",
                                     published_at="2024-08-01T00:00:00Z")  # fmt: skip
    out = _run(_nodes()[0], model="loras/old.safetensors", refresh=False)
    update = json.loads(out[6])
    assert update["version_id"] == newer and update["version_name"] == "v2"
    assert update["url"].endswith(f"?modelVersionId={newer}")


def test_identify_unknown_file_gives_empty_outputs(env, fake_civitai):
    env.add_model("other", "mystery.ckpt", b"nobody knows me")  # a .safetensors name: error
    identify, _ = _nodes()
    out = _run(identify, model="other/mystery.ckpt", refresh=True)
    info = json.loads(out[0])
    assert info["status"] == "unknown"
    assert info["sha256"] == hashlib.sha256(b"nobody knows me").hexdigest().upper()
    assert out[1:] == ("", "", "", "", "", "")


@pytest.mark.parametrize(
    "choice",
    ["loras/missing.safetensors", "loras/../../etc/passwd.safetensors", "nofolder", "/abs/x.pt"],
)
def test_identify_bad_choice_is_an_error_result_not_a_failure(env, choice):
    identify, _ = _nodes()
    out = _run(identify, model=choice)
    info = json.loads(out[0])
    assert info["status"] == "error" and info["error"].endswith(".")
    assert out[1:] == ("", "", "", "", "", "")


def test_identify_when_civitai_is_down_is_an_error_result(env, fake_civitai):
    env.add_model("loras", "a.safetensors", b"a")
    fake_civitai.fail_next(401, n=10)  # not retried (a retried outage takes seconds)
    out = _run(_nodes()[0], model="loras/a.safetensors")
    info = json.loads(out[0])
    assert info["status"] == "error" and info["error"]
    assert out[1] == ""


def test_scan_models_folder_summary_report_and_progress(env, fake_civitai):
    known, unknown, lora = (safetensors(c * 1000) for c in (b"k", b"u", b"l"))
    _add_known(env, fake_civitai, "other", "dl/known.safetensors", known, name="Known")
    env.add_model("other", "dl/unknown.safetensors", unknown)
    _add_known(env, fake_civitai, "loras", "l.safetensors", lora, name="Not looked up")
    _, scan = _nodes()
    summary, report_json = _run(scan, folder="all", identify="other only", retry_unknown=False)
    assert summary.startswith("Scan done: 3 files")
    report = json.loads(report_json)
    assert report["job"]["state"] == "done"
    by_name = {(m["folder"], m["name"]): m for m in report["models"]}
    assert by_name["other", "dl/known.safetensors"]["model_name"] == "Known"
    assert by_name["other", "dl/unknown.safetensors"]["status"] == "unknown"
    assert by_name["loras", "l.safetensors"]["status"] == "not_checked"  # "other only"
    assert env.progress and env.progress[-1][0] == env.progress[-1][1]
    events = [e for e, _, _ in env.server_module.PromptServer.instance.sent]
    assert events[-1] == "civitai-identify.done" and "civitai-identify.progress" in events

    summary, report_json = _run(scan, folder="loras", identify="all", retry_unknown=False)
    report = json.loads(report_json)
    assert [m["model_name"] for m in report["models"]] == ["Not looked up"]


def test_scan_node_bad_mode_is_an_error_result(env):
    _, scan = _nodes()
    summary, report_json = _run(scan, folder="all", identify="sometimes")
    assert summary.startswith("Scan failed") and json.loads(report_json)["status"] == "error"


def test_service_built_inside_comfyui_from_env_and_user_dir(comfy_env, fake_civitai, monkeypatch):
    monkeypatch.delenv("CIVITAI_IDENTIFY_DB", raising=False)
    monkeypatch.delenv("CIVITAI_TOKEN", raising=False)
    monkeypatch.setenv("CIVITAI_API_BASE", fake_civitai.url)
    monkeypatch.setenv("CIVITAI_IDENTIFY_MODE", "none")
    prompt_server = comfy_env.start_server()
    glue = pack_module("nodes.comfy.glue")
    service = comfy_env.service = glue.get_service()
    assert glue.get_service() is service
    # its own loop in its own thread: store calls never wait on ComfyUI's server loop
    assert service.loop is not prompt_server.loop and service.loop.is_running()

    async def from_a_node_loop():
        status = await service.call(service.status)
        job, created = await service.call(service.start_scan)
        return status, job, created

    status, job, created = asyncio.run(from_a_node_loop())
    assert status["api_base"] == fake_civitai.url and status["identify_mode"] == "none"
    assert created and job.task is not None
    db = comfy_env.root / "user" / "civitai-identify" / "civitai-identify.sqlite3"
    assert db.is_file()
    for _ in range(500):
        if any(e == "civitai-identify.done" for e, _, _ in prompt_server.sent):
            break
        asyncio.run(asyncio.sleep(0.01))
    done = [d for e, d, _ in prompt_server.sent if e == "civitai-identify.done"]
    assert done and done[0]["summary"]["identify"] == "none"
