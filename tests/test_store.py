"""ModelStore on a real SQLite file: record shape, shared lookups, search, retry dates."""

import json
import sqlite3
import time

import pytest
from packload import pack_module

store_mod = pack_module("nodes.store.model_store")
schema = pack_module("nodes.store.schema")
ModelStore, FileUpdate = store_mod.ModelStore, store_mod.FileUpdate

SHA_A, SHA_B, SHA_C = "A" * 64, "B" * 64, "C" * 64
INFO = {
    "model_id": 1, "version_id": 2, "model_name": "Pixel Dreams", "version_name": "v2 Final",
    "type": "LORA", "category": "loras", "base_model": "SDXL 1.0", "tags": ["Anime", "style"],
    "trained_words": ["pxl_drm"], "matched_by": "SHA256",
}  # fmt: skip
RECORD_KEYS = {"folder", "name", "size", "mtime", "category", "hashes", "status", "error",
               "checked_at", "civitai_info", "update", "detected", "detect_error",
               "suggested_category", "warnings"}  # fmt: skip


def hashes(sha):
    return {"SHA256": sha, "AutoV1": None, "AutoV2": sha[:10], "CRC32": "0" * 8,
            "BLAKE3": "1" * 64}  # fmt: skip


@pytest.fixture
def store(tmp_path):
    s = ModelStore(tmp_path / "db.sqlite3")
    yield s
    s.close()


def add(store, path, folder, name, sha, ino=1):
    store.save_files([FileUpdate(path, folder, name, (1, ino, 100, 5_000_000_000), hashes(sha))])


def test_record_shape_and_path_only_on_request(store):
    add(store, "/m/loras/a.safetensors", "loras", "a.safetensors", SHA_A)
    rec = store.get_record("loras", "a.safetensors")
    assert set(rec) == RECORD_KEYS
    assert rec["status"] == "not_checked" and rec["civitai_info"] is None
    assert rec["hashes"]["AutoV3"] is None and rec["hashes"]["SHA256"] == SHA_A
    assert rec["mtime"] == 5.0 and rec["category"] == "loras"
    assert store.get_record("loras", "a.safetensors", include_path=True)["path"] == (
        "/m/loras/a.safetensors"
    )
    assert store.get_record("loras", "nope.safetensors") is None


def test_moved_and_duplicated_files_share_the_lookup(store):
    add(store, "/m/a.safetensors", "other", "a.safetensors", SHA_A, ino=1)
    store.save_outcome(SHA_A.lower(), "identified", INFO)
    add(store, "/m/loras/copy.safetensors", "loras", "copy.safetensors", SHA_A, ino=2)
    for folder, name in (("other", "a.safetensors"), ("loras", "copy.safetensors")):
        rec = store.get_record(folder, name)
        assert rec["status"] == "identified" and rec["civitai_info"]["model_name"] == "Pixel Dreams"


def test_search_matches_names_tags_and_trigger_words_case_insensitively(store):
    add(store, "/m/a.safetensors", "loras", "Folder/MyFile.safetensors", SHA_A, ino=1)
    add(store, "/m/b.safetensors", "loras", "b.safetensors", SHA_B, ino=2)
    store.save_outcome(SHA_A, "identified", INFO)
    for q in ("myfile", "PIXEL", "v2 final", "anime", "PXL_DRM"):
        assert [r["name"] for r in store.list_records(q=q)] == ["Folder/MyFile.safetensors"], q
    assert store.list_records(q="%") == []
    assert [r["name"] for r in store.list_records(q="_")] == ["Folder/MyFile.safetensors"]
    assert store.list_records(base_model="SDXL 1.0")[0]["name"] == "Folder/MyFile.safetensors"
    assert [r["name"] for r in store.list_records(status="not_checked")] == ["b.safetensors"]
    assert store.list_records(category="vae") == []


def test_unknown_gets_a_retry_date_and_errors_never_replace_answers(tmp_path):
    store = ModelStore(tmp_path / "db.sqlite3", unknown_retry_days=2)
    add(store, "/m/b.ckpt", "other", "b.ckpt", SHA_B)
    now = time.time()
    store.save_outcome(SHA_B, "unknown", now=now)
    status, retry_after = store.lookup_state(SHA_B)
    assert status == "unknown"
    assert retry_after == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 2 * 86400))
    store.save_outcome(SHA_B, "error", error="CivitAI appears to be down.")
    assert store.get_record("other", "b.ckpt")["status"] == "unknown"
    store.save_outcome(SHA_A, "error", error="Rate limited; try later.", error_kind="rate_limited")
    add(store, "/m/a.ckpt", "other", "a.ckpt", SHA_A, ino=9)
    rec = store.get_record("other", "a.ckpt")
    assert rec["status"] == "error" and rec["error"] == "Rate limited; try later."
    store.save_outcome(SHA_A, "identified", INFO)
    store.save_outcome(SHA_A, "unknown")
    assert store.get_record("other", "a.ckpt")["status"] == "identified"
    with pytest.raises(ValueError):
        store.save_outcome(SHA_A, "pending")
    store.close()


def test_pending_missing_and_counts(store):
    add(store, "/m/a.ckpt", "other", "a.ckpt", SHA_A, ino=1)
    add(store, "/m/c.ckpt", "other", "c.ckpt", SHA_C, ino=3)
    store.set_pending([SHA_A])
    assert store.get_record("other", "a.ckpt")["status"] == "pending"
    store.save_outcome(SHA_A, "identified", INFO)
    assert store.get_record("other", "a.ckpt")["status"] == "identified"
    store.mark_missing(["/m/c.ckpt"])
    assert [r["name"] for r in store.list_records()] == ["a.ckpt"]
    assert len(store.list_records(include_missing=True)) == 2
    assert store.counts() == {"identified": 1, "unknown": 0, "error": 0, "pending": 0,
                              "not_checked": 0}  # fmt: skip
    store.touch_files(["/m/c.ckpt"])  # seen again → no longer missing, status kept
    assert store.get_record("other", "c.ckpt")["status"] == "not_checked"
    assert len(store.list_records()) == 2


def test_schema_is_versioned_and_a_newer_database_is_refused(tmp_path):
    db = tmp_path / "db.sqlite3"
    ModelStore(db).close()
    conn = sqlite3.connect(db)
    assert conn.execute(
        "SELECT version FROM schema_version WHERE component = 'model_store'"
    ).fetchone() == (schema.SCHEMA_VERSION,)
    conn.execute("UPDATE schema_version SET version = 99 WHERE component = 'model_store'")
    conn.commit()
    conn.close()
    with pytest.raises(schema.StoreSchemaError, match="newer"):
        ModelStore(db)


def test_ten_thousand_records_list_and_search_quickly(store):
    updates = [FileUpdate(f"/m/{i}.safetensors", "loras", f"{i:05d}.safetensors",
                          (1, i, 100, 1), hashes(f"{i:064X}")) for i in range(10_000)]  # fmt: skip
    store.save_files(updates)
    for i in range(0, 10_000, 2):
        store.save_outcome(f"{i:064X}", "identified", {**INFO, "model_name": f"Model {i}"})
    t0 = time.perf_counter()
    records = store.list_records()
    found = store.list_records(q="model 4242")
    counts = store.counts()
    elapsed = time.perf_counter() - t0
    assert len(records) == 10_000 and [r["name"] for r in found] == ["04242.safetensors"]
    assert counts["identified"] == 5_000 and counts["not_checked"] == 5_000
    assert json.dumps(records[:5])  # JSON-serialisable records
    assert elapsed < 5.0  # generous sanity bound; the real figure is in the report


@pytest.mark.parametrize(
    ("value", "days"),
    [
        (None, 7.0),
        ("1", 1.0),
        ("0.5", 0.5),
        ("0", 0.0),
        ("soon", 7.0),
        ("-3", 7.0),
        ("nan", 7.0),
        ("inf", 7.0),
    ],
)
def test_retry_days_come_from_the_environment(tmp_path, monkeypatch, caplog, value, days):
    if value is None:
        monkeypatch.delenv("CIVITAI_IDENTIFY_RETRY_DAYS", raising=False)
    else:
        monkeypatch.setenv("CIVITAI_IDENTIFY_RETRY_DAYS", value)
    store = ModelStore(tmp_path / "db.sqlite3")
    add(store, "/m/b.ckpt", "other", "b.ckpt", SHA_B)
    now = time.time()
    store.save_outcome(SHA_B, "unknown", now=now)
    _, retry_after = store.lookup_state(SHA_B)
    assert retry_after == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + days * 86400))
    bad = value is not None and days == 7.0
    assert ("CIVITAI_IDENTIFY_RETRY_DAYS" in caplog.text) == bad
    store.close()
