"""Link by hand: a CivitAI URL (with or without modelVersionId, civitai.red) or an AIR says
"this file IS that version" for a file CivitAI does not know by hash."""

import pytest
from fake_civitai import fake_file
from packload import pack_module
from routes_helpers import safetensors, sha256

parse = pack_module("civitai").parse_civitai_ref


@pytest.mark.parametrize(
    "text, expected",
    [
        ("https://civitai.com/models/123?modelVersionId=456", (123, 456)),
        ("https://civitai.com/models/123/some-slug?modelVersionId=456&x=1", (123, 456)),
        ("https://civitai.com/models/123", (123, None)),
        ("civitai.red/models/77/name", (77, None)),
        ("https://www.civitai.com/models/5?modelVersionId=6", (5, 6)),
        ("https://civitai.com/api/download/models/456", (None, 456)),
        ("urn:air:sdxl:lora:civitai:123@456", (123, 456)),
        ("URN:AIR:flux1:checkpoint:civitai:9", (9, None)),
        ("  https://civitai.red/models/1?modelVersionId=2  ", (1, 2)),
    ],
)
def test_references_users_paste(text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", None, 42, "https://example.com/models/1", "https://civitai.com/user/x",
     "https://civitai.com/models/abc", "https://civitai.com/models/1?modelVersionId=x",
     "urn:air:sdxl:lora:huggingface:1@2", "ftp://civitai.com/models/1", "javascript:alert(1)",
     "https://evilcivitai.com/models/1"],
)  # fmt: skip
def test_bad_references_are_a_sentence(text):
    with pytest.raises(ValueError) as err:
        parse(text)
    assert str(err.value).endswith(".")


def _catalog(fake, size_kb=1.0):
    """A model with an older SDXL version (the one to link) and a newer one."""
    mid = fake.add_model(name="Converted LoRA", tags=["style"])
    v1 = fake.add_version(
        mid,
        files=[fake_file("C" * 64, size_kb=size_kb)],
        name="v1",
        trained_words=["cvt"],
        published_at="2024-01-01T00:00:00Z",
    )
    v2 = fake.add_version(mid, files=[fake_file("D" * 64)], name="v2",
                          published_at="2024-05-01T00:00:00Z")  # fmt: skip
    return mid, v1, v2


async def _scanned(api, name, data):
    api.env.add_model("loras", name, data)
    _, job = await api.post("/civitai-identify/scan", {"identify": "all"}, expect=202)
    await api.wait_done(job["job_id"])


async def test_link_by_version_url_is_kept_across_rescans(api, fake_civitai):
    data = safetensors(b"c" * 1000)  # ~1 KiB: the size of v1's file
    await _scanned(api, "converted.safetensors", data)
    mid, v1, v2 = _catalog(fake_civitai, size_kb=len(data) / 1024)
    fake_civitai.requests.clear()
    body = {"folder": "loras", "name": "converted.safetensors",
            "url": f"https://civitai.com/models/{mid}?modelVersionId={v1}"}  # fmt: skip
    _, answer = await api.post("/civitai-identify/link", body, expect=200)
    record = answer["record"]
    assert answer["warning"] is None  # same size as the version's file
    assert record["status"] == "identified"
    info = record["civitai_info"]
    assert (info["matched_by"], info["model_id"], info["version_id"]) == ("manual", mid, v1)
    assert info["trained_words"] == ["cvt"] and info["tags"] == ["style"]
    assert record["update"]["version_id"] == v2  # the model came along: updates work too
    paths = sorted(r.path.removeprefix("/api/v1") for r in fake_civitai.requests)
    assert paths == [f"/model-versions/{v1}", f"/models/{mid}"]  # one version + its model

    fake_civitai.requests.clear()
    _, job = await api.post("/civitai-identify/scan", {"identify": "all"}, expect=202)
    await api.wait_done(job["job_id"])
    assert fake_civitai.requests == []  # identified: not asked again
    _, again = await api.get("/civitai-identify/models/loras/converted.safetensors")
    assert again["civitai_info"]["matched_by"] == "manual"


async def test_link_by_model_url_takes_the_newest_version_and_warns_on_size(api, fake_civitai):
    await _scanned(api, "x.safetensors", safetensors(b"x" * 5000))
    mid, _v1, v2 = _catalog(fake_civitai)
    body = {"folder": "loras", "name": "x.safetensors", "url": f"https://civitai.red/models/{mid}"}
    _, answer = await api.post("/civitai-identify/link", body, expect=200)
    assert answer["record"]["civitai_info"]["version_id"] == v2
    assert answer["record"]["civitai_info"]["url"].startswith("http")
    assert "differs in size" in answer["warning"] and answer["warning"].endswith(".")


async def test_link_by_air_then_unlink(api, fake_civitai):
    await _scanned(api, "air.safetensors", safetensors(b"a" * 300))
    mid, v1, _ = _catalog(fake_civitai)
    body = {"folder": "loras", "name": "air.safetensors",
            "url": f"urn:air:sdxl:lora:civitai:{mid}@{v1}"}  # fmt: skip
    _, answer = await api.post("/civitai-identify/link", body, expect=200)
    assert answer["record"]["civitai_info"]["version_id"] == v1
    target = {"folder": "loras", "name": "air.safetensors"}
    _, record = await api.post("/civitai-identify/unlink", target, expect=200)
    assert record["status"] == "not_checked" and record["civitai_info"] is None
    _, err = await api.post("/civitai-identify/unlink", target, expect=400)
    assert "not linked by hand" in err["error"]


async def test_a_linked_file_that_changes_loses_the_link(api, fake_civitai):
    await _scanned(api, "c.safetensors", safetensors(b"1" * 300))
    mid, v1, _ = _catalog(fake_civitai)
    body = {"folder": "loras", "name": "c.safetensors",
            "url": f"https://civitai.com/models/{mid}?modelVersionId={v1}"}  # fmt: skip
    await api.post("/civitai-identify/link", body, expect=200)
    api.env.add_model("loras", "c.safetensors", safetensors(b"2" * 400))  # re-saved
    _, job = await api.post("/civitai-identify/scan", {"identify": "all"}, expect=202)
    await api.wait_done(job["job_id"])
    _, record = await api.get("/civitai-identify/models/loras/c.safetensors")
    assert record["status"] == "unknown" and record["civitai_info"] is None


@pytest.mark.parametrize(
    "body, status, words",
    [
        ({"folder": "loras", "name": "b.safetensors", "url": "https://example.com/x"}, 400,
         "not a CivitAI URL"),
        ({"folder": "loras", "name": "b.safetensors", "url": 5}, 400, "url must be"),
        ({"folder": "loras", "name": "b.safetensors"}, 400, "url must be"),
        ({"folder": "loras", "name": "b.safetensors",
          "url": "https://civitai.com/models/9999?modelVersionId=888888"}, 400, "no model version"),
        ({"folder": "loras", "name": "b.safetensors", "url": "https://civitai.com/models/999999"},
         400, "no model 999999"),
        ({"folder": "loras", "name": "../b.safetensors", "url": "urn:air:x:y:civitai:1"}, 400,
         ""),
        ({"folder": "loras", "name": "absent.safetensors", "url": "urn:air:x:y:civitai:1"}, 404,
         ""),
    ],
)  # fmt: skip
async def test_bad_link_requests_are_a_sentence(api, fake_civitai, body, status, words):
    api.env.add_model("loras", "b.safetensors", safetensors(b"b" * 100))
    _, err = await api.post("/civitai-identify/link", body, expect=status)
    assert err["error"].endswith(".") and words in err["error"]
    _, record = await api.get("/civitai-identify/models/loras/b.safetensors")
    assert record["status"] != "identified"


async def test_a_version_of_another_model_is_refused(api, fake_civitai):
    api.env.add_model("loras", "m.safetensors", safetensors(b"m" * 100))
    mid, v1, _ = _catalog(fake_civitai)
    other = fake_civitai.add_model(name="Other")
    body = {"folder": "loras", "name": "m.safetensors",
            "url": f"https://civitai.com/models/{other}?modelVersionId={v1}"}  # fmt: skip
    _, err = await api.post("/civitai-identify/link", body, expect=400)
    assert f"belongs to CivitAI model {mid}" in err["error"]


async def test_civitai_down_is_a_502_and_stores_nothing(api, fake_civitai):
    api.env.add_model("loras", "d.safetensors", safetensors(b"d" * 100))
    fake_civitai.fail_next(401, n=3)
    body = {"folder": "loras", "name": "d.safetensors", "url": "urn:air:sdxl:lora:civitai:1@2"}
    _, err = await api.post("/civitai-identify/link", body, expect=502)
    assert err["error"].endswith(".")
    _, record = await api.get("/civitai-identify/models/loras/d.safetensors")
    assert record["status"] != "identified" and record["hashes"]["SHA256"] == sha256(
        safetensors(b"d" * 100)
    )  # hashed, nothing stored as a link


def _cli(tmp_path, fake, *args):
    import subprocess
    import sys

    from packload import PACK_DIR
    from test_cli_scan import cli_env

    return subprocess.run(
        [sys.executable, str(PACK_DIR), *map(str, args), "--db", str(tmp_path / "db")],
        capture_output=True, text=True, cwd=tmp_path, env=cli_env(fake), timeout=120,
    )  # fmt: skip


def test_cli_link_and_unlink(tmp_path, fake_civitai):
    import json

    models = tmp_path / "models"
    (models / "loras").mkdir(parents=True)
    lora = models / "loras" / "re-saved.safetensors"
    lora.write_bytes(safetensors(b"r" * 800))
    assert _cli(tmp_path, fake_civitai, "scan", models, "--all").returncode == 0
    mid, v1, _ = _catalog(fake_civitai, size_kb=500.0)

    bad = _cli(tmp_path, fake_civitai, "link", lora, "https://example.com/models/1")
    assert bad.returncode == 2 and "not a CivitAI URL" in bad.stderr
    done = _cli(tmp_path, fake_civitai, "link", lora, f"urn:air:sdxl:lora:civitai:{mid}@{v1}")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert (record["folder"], record["name"]) == ("loras", "re-saved.safetensors")
    assert record["civitai_info"]["matched_by"] == "manual"
    assert "link: warning:" in done.stderr and "differs in size" in done.stderr

    fake_civitai.requests.clear()
    report = tmp_path / "r.json"
    again = _cli(tmp_path, fake_civitai, "scan", models, "--all", "--report", report)
    assert again.returncode == 0 and fake_civitai.requests == []
    (kept,) = json.loads(report.read_text())["models"]
    assert kept["civitai_info"]["version_id"] == v1

    gone = _cli(tmp_path, fake_civitai, "unlink", lora)
    assert gone.returncode == 0 and json.loads(gone.stdout)["status"] == "not_checked"
    twice = _cli(tmp_path, fake_civitai, "unlink", lora)
    assert twice.returncode == 2 and "not linked by hand" in twice.stderr
