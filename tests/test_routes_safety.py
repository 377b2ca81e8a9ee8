"""Names in requests can never reach a file outside the model folders (ComfyUI has no auth:
with --listen anyone on the network can call these routes). Symlinked folders still work."""

import builtins
import os
from urllib.parse import quote

import pytest
from packload import pack_module
from routes_helpers import safetensors, sha256
from yarl import URL


@pytest.fixture
def touched(monkeypatch):
    """Every path given to open/os.open/os.stat/scandir during the test, as strings."""
    seen: list[str] = []
    for module, name in [(builtins, "open"), (os, "open"), (os, "stat"), (os, "scandir")]:
        real = getattr(module, name)

        def spy(path, *args, _real=real, **kwargs):
            seen.append(os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else "")
            return _real(path, *args, **kwargs)

        monkeypatch.setattr(module, name, spy)
    return seen


RAW_PATHS = [
    "/civitai-identify/models/loras/../../secret.safetensors",
    "/civitai-identify/models/loras/..%2F..%2Fsecret.safetensors",
    "/civitai-identify/models/loras/%2e%2e/%2e%2e/secret.safetensors",
    "/civitai-identify/models/loras/%2E%2E%2F%2E%2E%2Fsecret.safetensors",
    "/civitai-identify/models/loras/%252e%252e/%252e%252e/secret.safetensors",
    "/civitai-identify/models/loras//secret.safetensors",
    "/civitai-identify/models/loras/sub//x.safetensors",
    "/civitai-identify/models/other/%2Fsecret.safetensors",
    "/civitai-identify/models/other/..%5C..%5Csecret.safetensors",
    "/civitai-identify/models/loras/x%00.safetensors",
    "/civitai-identify/models/..%2F/secret.safetensors",
    "/civitai-identify/models/%2e%2e/secret.safetensors",
    "/api/civitai-identify/models/loras/../../../secret.safetensors",
    "/api/civitai-identify/models/other/./../secret.safetensors",
]


@pytest.mark.parametrize("raw", RAW_PATHS)
async def test_traversal_urls_are_refused_and_read_nothing(api, touched, raw):
    secret = api.env.root / "secret.safetensors"
    secret.write_bytes(b"sentinel outside the model folders")
    api.env.add_model("loras", "sub/x.safetensors", b"x")
    touched.clear()
    # encoded=True: sent byte for byte, not normalised by the client.
    url = URL(str(api.client.make_url("/")) + raw[1:], encoded=True)
    response = await api.client.session.get(url)
    text = await response.text()
    assert response.status in (400, 404), text
    assert "sentinel" not in text and str(api.env.root) not in text
    assert not [p for p in touched if "secret" in p], touched


BAD_NAMES = [
    "../secret.safetensors",
    "../../secret.safetensors",
    "sub/../../../secret.safetensors",
    "/etc/passwd.safetensors",
    "C:/secret.safetensors",
    "..\\secret.safetensors",
    "sub//x.safetensors",
    "./x.safetensors",
    "%2e%2e/secret.safetensors",
    "..%2Fsecret.safetensors",
    "x\x00.safetensors",
    "",
    None,
    ["x"],
]


@pytest.mark.parametrize("name", BAD_NAMES)
async def test_identify_refuses_unsafe_names_and_reads_nothing(api, touched, fake_civitai, name):
    secret = api.env.root / "secret.safetensors"
    secret.write_bytes(b"sentinel")
    touched.clear()
    for folder in ("loras", "other"):
        body = {"folder": folder, "name": name}
        status, answer = await api.post("/civitai-identify/identify", body)
        assert status in (400, 404) and set(answer) == {"error"}
    assert not [p for p in touched if "secret" in p], touched
    assert fake_civitai.requests == []


@pytest.mark.parametrize("folder", ["..", "../..", "/", "custom_nodes", "configs", "", None])
async def test_unknown_or_non_model_folders_are_refused(api, folder):
    status, _ = await api.post("/civitai-identify/identify", {"folder": folder, "name": "x.pt"})
    assert status in (400, 404)


async def test_symlinked_model_folder_and_file_work(api, fake_civitai, tmp_path):
    # A LoRA folder on another disk, linked in as an extra model path, plus a linked file.
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "deep").mkdir(parents=True)
    data = safetensors(b"linked" * 50)
    (elsewhere / "deep" / "linked.safetensors").write_bytes(data)
    link = tmp_path / "lora_link"
    link.symlink_to(elsewhere, target_is_directory=True)
    api.env.add_folder_path("loras", link)
    (api.env.models_dir / "loras" / "alias.safetensors").symlink_to(
        elsewhere / "deep" / "linked.safetensors"
    )
    fake_civitai.add_file_model(sha256=sha256(data), name="Linked")

    for name in ("deep/linked.safetensors", "alias.safetensors"):
        body = {"folder": "loras", "name": name}
        _, record = await api.post("/civitai-identify/identify", body, expect=200)
        assert record["civitai_info"]["model_name"] == "Linked"
        _, again = await api.get(f"/civitai-identify/models/loras/{name}", expect=200)
        assert again["status"] == "identified"


async def test_encoded_segments_inside_a_real_name_are_fine(api):
    # Each segment encoded on its own (the documented way) resolves normally.
    api.env.add_model("loras", "my folder/ä b.safetensors", b"x" * 4)
    url = "/civitai-identify/models/loras/my%20folder/%C3%A4%20b.safetensors"
    _, record = await api.get(url, expect=200)
    assert record["name"] == "my folder/ä b.safetensors"


@pytest.mark.parametrize(
    "name", ["100% real.safetensors", "50%off.safetensors", "x%41 #1?.safetensors"]
)
async def test_a_percent_sign_in_a_real_name_opens(api, name):
    # '%' is sent as %25 (the panel's encodeURIComponent): a plain percent sign in a file
    # name is not an escape and the panel must be able to open such a file.
    api.env.add_model("loras", f"sub/{name}", b"x" * 4)
    url = "/civitai-identify/models/loras/sub/" + quote(name, safe="")
    _, record = await api.get(url, expect=200)
    assert record["name"] == f"sub/{name}"


async def test_scan_summary_and_events_carry_no_absolute_paths(api, tmp_path):
    pipe = api.env.add_model("loras", "pipe.safetensors", b"")
    pipe.unlink()
    os.mkfifo(pipe)  # not a file: skipped, listed with its path
    api.env.add_model("other", "bad.safetensors", b"not a safetensors header at all")
    _, job = await api.post("/civitai-identify/scan", {"identify": "none"}, expect=202)
    done = await api.wait_done(job["job_id"])
    _, last = await api.get("/civitai-identify/scan", expect=200)
    skipped = [s["path"] for s in last["summary"]["skipped"]]
    assert "loras/pipe.safetensors" in skipped
    assert [e["name"] for e in last["summary"]["errors"]] == ["bad.safetensors"]
    assert str(tmp_path) not in str(api.events) and str(tmp_path) not in str(done)


def test_redactor_replaces_model_dirs_and_other_absolute_paths(tmp_path):
    redact = pack_module("nodes.comfy.redact").Redactor(
        {"loras": [str(tmp_path / "m" / "loras")], "other": [str(tmp_path / "m")]},
        str(tmp_path / "m"),
    )
    message = f"cannot read {tmp_path}/m/loras/a/b.pt: gone"
    assert redact(message) == "cannot read loras/a/b.pt: gone"
    assert redact([{"p": f"{tmp_path}/m/x.pt"}]) == [{"p": "models/x.pt"}]
    assert redact("No such file: '/etc/secret/thing.pt'") == "No such file: 'thing.pt'"
    url = "see https://civitai.com/models/12?x=/a/b and loras/x.pt"
    assert redact(url) == url
    assert redact(7) == 7
