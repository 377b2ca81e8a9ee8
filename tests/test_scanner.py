"""The scanner end to end: a generated models tree, real SQLite, the fake CivitAI server."""

import os
import shutil

from models_tree import build_models_tree, open_scanner

DESIGN_INFO_KEYS = {
    "model_id", "version_id", "model_name", "version_name", "type", "category", "base_model",
    "description", "version_description", "creator", "tags", "trained_words", "stats",
    "images", "nsfw", "file", "matched_by", "url", "update", "fetched_at",
}  # fmt: skip
KNOWN = ("anime", "other_known", "base", "rewritten")


def lookups_asked(fake) -> set[str]:
    """Every hash the fake was asked about (bulk bodies and single GETs), upper-case."""
    asked = set()
    for r in fake.requests:
        if r.path.endswith("/model-versions/by-hash") and r.json:
            asked |= {h.upper() for h in r.json}
        elif "/model-versions/by-hash/" in r.path:
            asked.add(r.path.rsplit("/", 1)[1].upper())
    return asked


async def test_default_scan_looks_up_only_other_files(tmp_path, fake_civitai):
    tree = build_models_tree(tmp_path / "models")
    tree.register(fake_civitai, *KNOWN)
    before = tree.snapshot()
    async with open_scanner(tree.root, tmp_path / "db", fake_civitai) as (scanner, store, _):
        summary = await scanner.scan()
        records = store.list_records()
    folders = {(r["folder"], r["name"]) for r in records}
    assert {(tf.folder, tf.name) for tf in tree.files.values()} == folders
    status = tree.by_status(records)
    assert status == {
        "base": "not_checked", "anime": "not_checked", "lora_unknown": "not_checked",
        "vae": "not_checked", "emb": "not_checked", "other_known": "identified",
        "other_unknown": "unknown", "rewritten": "identified",
    }  # fmt: skip
    other_shas = {tf.sha256 for tf in tree.files.values() if tf.folder == "other"}
    sha_asked = {h for h in lookups_asked(fake_civitai) if len(h) == 64}
    assert sha_asked == other_shas
    assert summary["calls"] == len(fake_civitai.requests) and summary["calls"] > 0
    assert summary["files_total"] == 8 and summary["files_hashed"] == 8
    assert summary["by_category"]["other"] == {"identified": 2, "unknown": 1}
    assert summary["errors"] == [] and summary["skipped"] == [] and not summary["cancelled"]
    assert tree.snapshot() == before


async def test_all_identifies_every_category_with_complete_info(tmp_path, fake_civitai):
    tree = build_models_tree(tmp_path / "models")
    ids = tree.register(fake_civitai, *KNOWN)
    async with open_scanner(tree.root, tmp_path / "db", fake_civitai) as (scanner, store, _):
        await scanner.scan(identify="all")
        records = {r["name"]: r for r in store.list_records(include_path=True)}
        unknown_state = store.lookup_state(tree.files["lora_unknown"].sha256)
    for key in KNOWN:
        tf = tree.files[key]
        rec = records[tf.name]
        info = rec["civitai_info"]
        assert rec["status"] == "identified" and set(info) == DESIGN_INFO_KEYS, key
        assert info["model_id"] == ids[key].model_id and info["version_id"] == ids[key].version_id
        assert info["model_name"] == f"Model {key}" and info["trained_words"] == [f"trigger_{key}"]
        assert info["tags"] == [f"tag_{key}"] and rec["path"] == str(tf.path)
        assert info["matched_by"] == ("AutoV3" if key == "rewritten" else "SHA256")
        assert rec["checked_at"] and rec["hashes"]["SHA256"] == tf.sha256
    assert records["unknown.safetensors"]["status"] == "unknown"
    assert unknown_state[0] == "unknown" and unknown_state[1] > records["kl-f8.pt"]["checked_at"]


async def test_rescan_of_unchanged_tree_reads_nothing_and_calls_nothing(tmp_path, fake_civitai):
    tree = build_models_tree(tmp_path / "models")
    tree.register(fake_civitai, *KNOWN)
    before = tree.snapshot()
    async with open_scanner(tree.root, tmp_path / "db", fake_civitai) as (scanner, store, _):
        await scanner.scan(identify="all")
        first = store.list_records()
        fake_civitai.requests.clear()
        for mode in ("other", "all"):
            summary = await scanner.scan(identify=mode)
            assert summary["bytes_hashed"] == 0 and summary["files_hashed"] == 0, mode
            assert summary["calls"] == 0 and fake_civitai.requests == [], mode
        assert [r["status"] for r in store.list_records()] == [r["status"] for r in first]
        # retry_unknown asks again about the known-unknowns (and only them)
        summary = await scanner.scan(identify="all", retry_unknown=True)
        unknown = {tf.sha256 for k, tf in tree.files.items() if k not in KNOWN}
        assert {h for h in lookups_asked(fake_civitai) if len(h) == 64} == unknown
        assert summary["bytes_hashed"] == 0
    assert tree.snapshot() == before


async def test_header_rewritten_safetensors_is_found_by_autov3(tmp_path, fake_civitai):
    tree = build_models_tree(tmp_path / "models")
    tree.register(fake_civitai, "rewritten")
    tf = tree.files["rewritten"]
    async with open_scanner(tree.root, tmp_path / "db", fake_civitai) as (scanner, store, _):
        summary = await scanner.scan()
        rec = store.get_record("other", tf.name)
        # AutoV3 is computed only for the SHA256 misses; a pickle has none
        assert store.get_record("other", "misc/unknown.ckpt")["hashes"]["AutoV3"] is None
        assert store.get_record("loras", "unknown.safetensors")["hashes"]["AutoV3"] is None
    asked = lookups_asked(fake_civitai)
    assert tf.sha256 in asked and tf.autov3 in asked  # SHA256 missed, then one AutoV3 GET
    assert len(fake_civitai.calls(f"/by-hash/{tf.autov3}")) == 1
    assert rec["status"] == "identified" and rec["civitai_info"]["matched_by"] == "AutoV3"
    assert rec["hashes"]["AutoV3"] == tf.autov3
    assert summary["lookups"]["autov3_identified"] == 1


async def test_moved_file_keeps_its_info_and_deleted_one_is_marked_missing(tmp_path,
                                                                         fake_civitai):  # fmt: skip
    tree = build_models_tree(tmp_path / "models")
    tree.register(fake_civitai, "other_known")
    async with open_scanner(tree.root, tmp_path / "db", fake_civitai) as (scanner, store, _):
        await scanner.scan()
        os.rename(tree.files["other_known"].path, tree.root / "loras" / "moved.safetensors")
        os.remove(tree.files["vae"].path)
        fake_civitai.requests.clear()
        summary = await scanner.scan()
        moved = store.get_record("loras", "moved.safetensors")
        assert moved["status"] == "identified" and moved["civitai_info"]["model_name"]
        assert summary["bytes_hashed"] == 0 and summary["calls"] == 0
        assert summary["missing"] == 2  # the old name of the moved file, and the vae
        assert store.get_record("vae", "kl-f8.pt") is not None  # kept, hidden by default
        assert "kl-f8.pt" not in {r["name"] for r in store.list_records()}


async def test_offline_scan_and_identify_one_file(tmp_path, fake_civitai):
    tree = build_models_tree(tmp_path / "models")
    tree.register(fake_civitai, "anime")
    db = tmp_path / "db"
    async with open_scanner(tree.root, db) as (scanner, _s, _c):
        summary = await scanner.scan(identify="all")
        assert summary["calls"] == 0 and set(summary["by_status"]) >= {"not_checked"}
        assert summary["by_status"]["not_checked"] == 8
    assert fake_civitai.requests == []
    async with open_scanner(tree.root, db, fake_civitai) as (scanner, _s, _c):
        rec = await scanner.identify("loras", "style/anime.safetensors")
        assert rec["status"] == "identified" and rec["civitai_info"]["model_name"] == "Model anime"
        calls = len(fake_civitai.requests)
        again = await scanner.identify("loras", "style/anime.safetensors")
        assert again["status"] == "identified" and len(fake_civitai.requests) == calls
        forced = await scanner.identify("loras", "style/anime.safetensors", force=True)
        assert forced["status"] == "identified" and len(fake_civitai.requests) > calls


async def test_progress_reports_every_phase(tmp_path, fake_civitai):
    tree = build_models_tree(tmp_path / "models")
    seen = []
    async with open_scanner(tree.root, tmp_path / "db", fake_civitai) as (scanner, _, _c):
        await scanner.scan(progress=seen.append)
    phases = [p["phase"] for p in seen]
    assert phases[0] == "hashing" and phases[-1] == "done" and "looking_up" in phases
    last = seen[-1]
    assert last["files_done"] == last["files_total"] == 8
    assert (
        last["bytes_done"]
        == last["bytes_total"]
        == sum(tf.path.stat().st_size for tf in tree.files.values())
    )
    assert last["lookups_done"] == last["lookups_total"] >= 3
    assert set(last) == {"phase", "files_done", "files_total", "bytes_done", "bytes_total",
                         "current", "lookups_done", "lookups_total", "eta_seconds"}  # fmt: skip


async def test_symlinked_folder_is_scanned_once(tmp_path, fake_civitai):
    tree = build_models_tree(tmp_path / "models")
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(tree.root / "vae", elsewhere)
    os.symlink(elsewhere, tree.root / "loras" / "linked")
    os.symlink(tree.root / "loras", tree.root / "loras" / "style" / "back_up")  # a loop
    async with open_scanner(tree.root, tmp_path / "db") as (scanner, store, _):
        summary = await scanner.scan()
        names = {r["name"] for r in store.list_records(category="loras")}
    assert names == {"style/anime.safetensors", "unknown.safetensors", "linked/kl-f8.pt"}
    assert [s["reason"] for s in summary["skipped"]] == ["symlink loop (directory skipped)"]


async def test_identify_unknown_file_raises_a_sentence(tmp_path):
    tree = build_models_tree(tmp_path / "models")
    async with open_scanner(tree.root, tmp_path / "db") as (scanner, _s, _c):
        for name in ("nope.safetensors", "../checkpoints/base.safetensors"):
            try:
                await scanner.identify("loras", name)
            except FileNotFoundError as exc:
                assert str(exc).endswith(".")
            else:
                raise AssertionError(f"{name} should not resolve")
