"""Update notices: a newer version of the same model for the same base model, computed from
the models?ids answer the scan already gets (zero extra requests), refreshed when old."""

from models_tree import build_models_tree, open_scanner, safetensors_bytes
from packload import pack_module

find_update = pack_module("civitai.info").find_update
SHA = "AB" * 32


def version(vid, base="SDXL 1.0", published="2024-01-01T00:00:00.000Z", sha=None, **extra):
    files = [{"hashes": {"SHA256": sha or f"{vid:064X}"}, "primary": True}]
    return {"id": vid, "modelId": 7, "name": f"v{vid}", "baseModel": base,
            "publishedAt": published, "files": files, **extra}  # fmt: skip


def model(*versions):
    return {"id": 7, "modelVersions": list(versions)}


def test_newer_version_for_the_same_base_model_is_the_update():
    local = version(1, sha=SHA)
    newer = version(2, published="2024-06-01T10:00:00.000")  # CivitAI: no Z at times
    update = find_update(local, model(newer, local), SHA, web_base="https://civitai.red")
    assert update == {
        "version_id": 2, "version_name": "v2", "base_model": "SDXL 1.0",
        "published_at": "2024-06-01T10:00:00Z",
        "url": "https://civitai.red/models/7?modelVersionId=2",
    }  # fmt: skip


def test_the_newest_of_several_same_base_versions_wins():
    local = version(1, sha=SHA)
    versions = [version(4, published="2024-03-01T00:00:00Z"),
                version(3, published="2024-09-01T00:00:00Z"),
                version(2, published="2024-05-01T00:00:00Z"), local]  # fmt: skip
    assert find_update(local, model(*versions), SHA)["version_id"] == 3


def test_no_update_for_an_older_version_another_base_model_or_the_same_file():
    local = version(5, published="2024-06-01T00:00:00Z", sha=SHA)
    older = version(4, published="2024-01-01T00:00:00Z")
    other_base = version(6, base="Pony", published="2024-09-01T00:00:00Z")
    same_file = version(7, published="2024-10-01T00:00:00Z", sha=SHA.lower())
    unpublished = version(8, published=None)
    draft = version(9, published="2024-11-01T00:00:00Z", status="Draft")
    everything = model(local, older, other_base, same_file, unpublished, draft)
    assert find_update(local, everything, SHA) is None


def test_no_update_without_dates_or_model_data():
    local = version(1, published=None, sha=SHA)
    assert find_update(local, model(local, version(2)), SHA) is None
    assert find_update(version(1, sha=SHA), None, SHA) is None
    assert find_update(version(1, sha=SHA), {"modelVersions": "junk"}, SHA) is None
    bad = model(version(1, sha=SHA), {"id": "x"}, 3, version(2, published="yesterday"))
    assert find_update(version(1, sha=SHA), bad, SHA) is None


def _register_versions(fake, tf):
    """v1 holds the local file (SDXL, January); v2 SDXL in June (the update); v3 Pony in
    September (another base model: not an update); v0 SDXL, older."""
    ids = fake.add_file_model(
        sha256=tf.sha256,
        name="Updated LoRA",
        base_model="SDXL 1.0",
        version_name="v1",
        published_at="2024-01-01T00:00:00.000Z",
    )
    mid = ids.model_id
    v2 = fake.add_version(mid, files=[_file(fake, "B")], name="v2", base_model="SDXL 1.0",
                          published_at="2024-06-01T00:00:00.000Z")  # fmt: skip
    fake.add_version(mid, files=[_file(fake, "C")], name="v3", base_model="Pony",
                     published_at="2024-09-01T00:00:00.000Z")  # fmt: skip
    fake.add_version(mid, files=[_file(fake, "D")], name="v0", base_model="SDXL 1.0",
                     published_at="2023-06-01T00:00:00.000Z")  # fmt: skip
    return ids, v2


def _file(fake, letter):
    from fake_civitai import fake_file

    return fake_file(letter * 64, name=f"{letter}.safetensors")


async def test_scan_reports_the_update_with_zero_extra_requests(tmp_path, fake_civitai):
    tree = build_models_tree(tmp_path / "models")
    tf = tree.files["other_known"]
    ids, v2 = _register_versions(fake_civitai, tf)
    async with open_scanner(tree.root, tmp_path / "db", fake_civitai) as (scanner, store, _):
        summary = await scanner.scan()
        record = store.get_record(tf.folder, tf.name)
        flagged = store.list_records(update="1")
    assert record["update"] == {
        "version_id": v2, "version_name": "v2", "base_model": "SDXL 1.0",
        "published_at": "2024-06-01T00:00:00Z",
        "url": f"https://civitai.com/models/{ids.model_id}?modelVersionId={v2}",
    }  # fmt: skip
    assert record["civitai_info"]["update"] == record["update"]
    assert [(r["folder"], r["name"]) for r in flagged] == [(tf.folder, tf.name)]
    assert summary["updates"] == 1
    # the requests any scan makes (hash lookups, one models call): no version or model GET
    paths = [r.path.removeprefix("/api/v1") for r in fake_civitai.requests]
    assert all(p.startswith("/model-versions/by-hash") or p == "/models" for p in paths), paths
    assert len(fake_civitai.calls("/models")) == 1


async def test_old_model_data_is_refreshed_in_the_next_scans_bulk_call(tmp_path, fake_civitai):
    tree = build_models_tree(tmp_path / "models")
    tf = tree.files["other_known"]
    ids, v2 = _register_versions(fake_civitai, tf)
    async with open_scanner(tree.root, tmp_path / "db", fake_civitai) as (scanner, store, _):
        await scanner.scan()
        v4 = fake_civitai.add_version(ids.model_id, files=[_file(fake_civitai, "E")], name="v4",
                                      published_at="2025-01-01T00:00:00.000Z")  # fmt: skip
        fake_civitai.requests.clear()
        await scanner.scan()  # fresh data: nothing asked
        assert fake_civitai.requests == []
        assert store.get_record(tf.folder, tf.name)["update"]["version_id"] == v2

        # eight days later (the default limit is 7), and a new file appears meanwhile
        store._conn.execute("UPDATE lookups SET checked_at = '2020-01-01T00:00:00Z'")
        store._conn.commit()
        new = tree.add("new", "other", "new.safetensors", safetensors_bytes(42))
        fake_civitai.add_file_model(sha256=new.sha256, name="New one")
        await scanner.scan()
        record = store.get_record(tf.folder, tf.name)
    bulk = fake_civitai.calls("/model-versions/by-hash")
    assert len(bulk) == 1  # one bulk call for the stale and the new hash
    assert {tf.sha256, new.sha256} <= {h.upper() for h in bulk[0].json}
    assert record["update"]["version_id"] == v4


async def test_refresh_of_a_hash_civitai_dropped_keeps_the_info_and_is_not_asked_again(
    tmp_path, fake_civitai
):
    tree = build_models_tree(tmp_path / "models")
    tf = tree.files["other_known"]
    _register_versions(fake_civitai, tf)
    async with open_scanner(tree.root, tmp_path / "db", fake_civitai) as (scanner, store, _):
        await scanner.scan()
        store._conn.execute("UPDATE lookups SET checked_at = '2020-01-01T00:00:00Z'")
        store._conn.commit()
        fake_civitai.clear()  # CivitAI no longer knows the file
        await scanner.scan()
        assert store.get_record(tf.folder, tf.name)["status"] == "identified"
        fake_civitai.requests.clear()
        await scanner.scan()
    assert tf.sha256 not in {h.upper() for r in fake_civitai.calls("/by-hash") for h in r.json}


def test_cli_report_has_the_update_in_json_and_csv(tmp_path, fake_civitai):
    import csv
    import json

    from test_cli_scan import run_cli

    tree = build_models_tree(tmp_path / "models")
    tf = tree.files["other_known"]
    ids, v2 = _register_versions(fake_civitai, tf)
    done = run_cli(tmp_path, fake_civitai, tree.root, "--report", tmp_path / "r.json")
    assert done.returncode == 0, done.stderr
    assert "1 file(s) with a newer version for their base model." in done.stderr
    data = json.loads((tmp_path / "r.json").read_text())
    by_name = {m["name"]: m for m in data["models"]}
    assert by_name[tf.name]["update"]["version_id"] == v2
    assert by_name["misc/unknown.ckpt"]["update"] is None
    assert data["summary"]["updates"] == 1
    run_cli(tmp_path, fake_civitai, tree.root, "--report", tmp_path / "r.csv")
    rows = {r["name"]: r for r in csv.DictReader((tmp_path / "r.csv").open())}
    assert rows[tf.name]["update_version"] == "v2"
    assert rows[tf.name]["update_url"].endswith(f"/models/{ids.model_id}?modelVersionId={v2}")
    assert rows["misc/unknown.ckpt"]["update_url"] == ""


async def test_models_route_filters_update_available(api, fake_civitai):
    from routes_helpers import safetensors, sha256

    old, plain = safetensors(b"o" * 100), safetensors(b"p" * 100)
    api.env.add_model("loras", "old.safetensors", old)
    api.env.add_model("loras", "plain.safetensors", plain)
    ids = fake_civitai.add_file_model(sha256=sha256(old), published_at="2024-01-01T00:00:00Z")
    fake_civitai.add_file_model(sha256=sha256(plain))
    fake_civitai.add_version(ids.model_id, files=[_file(fake_civitai, "A")], name="v9",
                             published_at="2025-01-01T00:00:00Z")  # fmt: skip
    _, job = await api.post("/civitai-identify/scan", {"identify": "all"}, expect=202)
    done = await api.wait_done(job["job_id"])
    assert done["summary"]["updates"] == 1
    _, body = await api.get("/civitai-identify/models?update=1&view=brief", expect=200)
    assert [(m["name"], m["update"]["version_name"]) for m in body["models"]] == [
        ("old.safetensors", "v9")
    ]
    _, body = await api.get("/civitai-identify/models", expect=200)
    assert body["total"] == 2
    _, body = await api.get("/civitai-identify/models?update=maybe", expect=400)
    assert body["error"].endswith(".")


async def test_old_data_of_a_file_outside_the_looked_up_folders_is_refreshed_too(
    tmp_path, fake_civitai
):
    # A LoRA identified once (Identify node, panel) is refreshed by a default scan, which
    # looks up only "other" files otherwise: its update notice must not go stale.
    tree = build_models_tree(tmp_path / "models")
    tf = tree.files["anime"]  # loras/style/anime.safetensors
    ids, v2 = _register_versions(fake_civitai, tf)
    async with open_scanner(tree.root, tmp_path / "db", fake_civitai) as (scanner, store, _):
        await scanner.identify(tf.folder, tf.name)
        assert store.get_record(tf.folder, tf.name)["update"]["version_id"] == v2
        v4 = fake_civitai.add_version(ids.model_id, files=[_file(fake_civitai, "E")], name="v4",
                                      published_at="2025-01-01T00:00:00.000Z")  # fmt: skip
        fake_civitai.requests.clear()
        await scanner.scan()  # default "other": the fresh LoRA is not asked again
        assert tf.sha256 not in {h.upper() for r in fake_civitai.calls("/by-hash") for h in r.json}
        store._conn.execute("UPDATE lookups SET checked_at = '2020-01-01T00:00:00Z'")
        store._conn.commit()
        fake_civitai.requests.clear()
        await scanner.scan()
        record = store.get_record(tf.folder, tf.name)
    assert tf.sha256 in {h.upper() for r in fake_civitai.calls("/by-hash") for h in r.json}
    assert record["update"]["version_id"] == v4
