"""Each civitai_info stored in three parts (nodes/store/info_parts.py, schema 6): the brief
JSON, the compressed details, the model part once per CivitAI model. Real SQLite on disk:
records read back equal to what was saved (full and brief), a model's description stored
once, a schema-5 store migrated to the same records, damaged parts reported per record."""

import json
import zlib

import pytest
from packload import pack_module

store_mod = pack_module("nodes.store.model_store")
parts = pack_module("nodes.store.info_parts")
schema = pack_module("nodes.store.schema")
hashing = pack_module("hashing")
hashing_db = pack_module("hashing.db")
views = pack_module("nodes.comfy.record_views")
Query = pack_module("nodes.store.query").Query
ModelStore, FileUpdate = store_mod.ModelStore, store_mod.FileUpdate


def sha(i):
    return f"{i:064X}"


def rich(i, model_id=None, description="", update=None):
    """A CivitAI-sized info (every key of the contract); ``model_id`` shared by versions."""
    model_id = 4000 + i if model_id is None else model_id
    return {
        "model_id": model_id,
        "version_id": 90_000 + i,
        "model_name": f"Model {model_id}",
        "version_name": f"v{i}",
        "type": "LORA",
        "category": "loras",
        "base_model": "SDXL 1.0",
        "description": description or f"<p>The model {model_id}: " + "tips, " * 300 + "</p>",
        "version_description": f"<p>Notes of version {i}.</p>",
        "creator": {"username": f"maker{model_id}", "image": None},
        "tags": ["style", f"t{i}"],
        "trained_words": [f"word{i}"],
        "stats": {
            "download_count": 10 * i,
            "thumbs_up_count": 1,
            "thumbs_down_count": 0,
            "comment_count": 0,
            "tipped_amount_count": 0,
        },
        "images": [
            {
                "url": f"https://img/{i}/{n}.png",
                "width": 512,
                "height": 768,
                "nsfw_level": level,
                "type": "image",
            }
            for n, level in enumerate((4, 1, 2, 1, 16))
        ],
        "nsfw": False,
        "file": {
            "name": f"m{i}.safetensors",
            "size_kb": 1.5,
            "format": "SafeTensor",
            "fp": "fp16",
            "primary": True,
        },
        "matched_by": "SHA256",
        "url": f"https://civitai.com/models/{model_id}?modelVersionId={90_000 + i}",
        "fetched_at": "2026-11-25T14:00:00Z",
        "update": update,
    }


def add_files(store, n):
    store.save_files(
        [
            FileUpdate(
                f"/m/loras/f{i}.safetensors",
                "loras",
                f"f{i}.safetensors",
                (1, i, 100 + i, 10**18 + i),
                {"SHA256": sha(i)},
            )
            for i in range(n)
        ]
    )


def infos_of(records):
    return {r["name"]: r["civitai_info"] for r in records}


@pytest.fixture
def store(tmp_path):
    store = ModelStore(tmp_path / "db.sqlite3")
    yield store
    store.close()


SAVED = [
    rich(0),
    rich(1, model_id=7),
    rich(2, model_id=7, description="<p>The same model, newer answer.</p>"),
    {**rich(3), "model_id": None, "matched_by": "sidecar"},  # no model id: all inline
    {"model_name": "Partial", "matched_by": "manual"},  # a partial info keeps its keys
    {**rich(5), "images": [], "creator": None, "file": None},
    # the thumbnail candidates are not the first images (levels 1, 4, 0): all kept in details
    {**rich(6), "images": [{**rich(6)["images"][0], "nsfw_level": v} for v in (1, 4, 0)]},
]


def test_the_details_keep_only_the_images_after_the_briefs():
    brief, details, _model_id, _model = parts.split_info(SAVED[0])
    kept = pack_module("nodes.store.packing").unpack(details)
    assert "images" not in kept
    assert kept["images after the brief's"] == SAVED[0]["images"][2:]  # levels 4, 1 in brief
    assert parts.join_info(brief, details, None)[0]["images"] == SAVED[0]["images"]


def test_rich_infos_come_back_as_saved_full_and_brief(store):
    add_files(store, len(SAVED))
    for i, info in enumerate(SAVED):
        store.save_outcome(sha(i), "identified", info)
    want = {f"f{i}.safetensors": info for i, info in enumerate(SAVED)}
    # two versions of model 7: the last answer's description is the model's
    want["f1.safetensors"] = {**SAVED[1], "description": SAVED[2]["description"]}
    full = store.list_records()
    assert infos_of(full) == want
    assert [list(r["civitai_info"]) for r in full] == [list(want[r["name"]]) for r in full]
    assert infos_of(store.page(Query(limit=50))[0]) == want
    for name, info in want.items():
        assert store.get_record("loras", name)["civitai_info"] == info
    # the brief listing reads only the brief part: the brief view of the same records
    brief = store.list_records(full=False)
    assert [views.brief_record(r) for r in brief] == [views.brief_record(r) for r in full]
    assert infos_of(brief) == {n: parts.brief_info(i) for n, i in want.items()}
    paged = store.page(Query(limit=2, sort="-downloads"), full=False)[0]
    assert [r["name"] for r in paged] == ["f6.safetensors", "f5.safetensors"]
    assert all(r["warnings"] == [] for r in full + brief)


def test_a_model_description_is_stored_once(store):
    add_files(store, 6)
    text = "<p>" + " ".join(f"w{n * 7919 % 10007}" for n in range(600)) + "</p>"
    for i in range(6):  # six versions (files) of two models
        store.save_outcome(sha(i), "identified", rich(i, model_id=1 + i % 2, description=text))
    conn = store._conn
    assert conn.execute("SELECT COUNT(*) FROM civitai_models").fetchone()[0] == 2
    details = conn.execute("SELECT SUM(length(details)), MAX(length(details)) FROM lookups")
    total, biggest = details.fetchone()
    assert biggest < len(zlib.compress(text.encode())) and total < 6 * len(text) / 4
    stored = conn.execute("SELECT COUNT(*) FROM lookups WHERE civitai_info IS NOT NULL")
    assert stored.fetchone()[0] == 0  # the big JSON text is no longer kept
    assert all(r["civitai_info"]["description"] == text for r in store.list_records())


def test_a_none_description_never_erases_the_stored_one(store):
    add_files(store, 2)
    store.save_outcome(sha(0), "identified", rich(0, model_id=9))
    # the parent model could not be fetched: the builder says description/creator None
    store.save_outcome(
        sha(1), "identified", {**rich(1, model_id=9), "description": None, "creator": None}
    )
    infos = infos_of(store.list_records())
    assert infos["f1.safetensors"]["description"] == rich(0, model_id=9)["description"]
    assert infos["f1.safetensors"]["creator"] == {"username": "maker9", "image": None}
    store.save_outcome(sha(1), "identified", rich(1, model_id=9, description="<p>new</p>"))
    assert {i["description"] for i in infos_of(store.list_records()).values()} == {"<p>new</p>"}


def test_the_update_filter_reads_the_brief_part(store):
    add_files(store, 3)
    notice = {
        "version_id": 5,
        "version_name": "v9",
        "base_model": "SDXL 1.0",
        "published_at": "2026-11-30T00:00:00Z",
        "url": "https://civitai.com/models/1",
    }
    store.save_outcome(sha(0), "identified", rich(0, update=notice))
    store.save_outcome(sha(1), "identified", rich(1))
    store.save_outcome(sha(2), "unknown")
    assert [r["name"] for r in store.list_records(update="1")] == ["f0.safetensors"]
    assert [r["name"] for r in store.list_records(update="0")] == [
        "f1.safetensors",
        "f2.safetensors",
    ]
    assert store.with_update() == {sha(0)}
    assert store.get_record("loras", "f0.safetensors")["update"] == notice
    assert store.list_records(full=False)[0]["update"] == notice


def test_a_damaged_part_is_a_sentence_for_that_record_only(store):
    add_files(store, 4)
    for i in range(4):
        store.save_outcome(sha(i), "identified", rich(i))
    conn = store._conn
    conn.execute("UPDATE lookups SET details = x'00ff' WHERE sha256 = ?", (sha(0),))
    conn.execute(
        "UPDATE civitai_models SET data = ? WHERE model_id = 4001", (zlib.compress(b"[1, 2]"),)
    )
    conn.execute("UPDATE lookups SET brief = '{not json' WHERE sha256 = ?", (sha(2),))
    records = {r["name"]: r for r in store.list_records()}
    for name in ("f0.safetensors", "f1.safetensors"):
        record = records[name]
        assert record["status"] == "identified" and parts.UNREADABLE in record["warnings"]
        assert record["civitai_info"]["model_name"] and record["civitai_info"]["tags"]
    assert records["f2.safetensors"]["civitai_info"] is None
    assert records["f2.safetensors"]["warnings"] == [parts.UNREADABLE]
    assert records["f3.safetensors"]["civitai_info"] == rich(3)
    assert records["f3.safetensors"]["warnings"] == []
    assert parts.UNREADABLE in store.get_record("loras", "f0.safetensors")["warnings"]
    # the brief listing never opens the compressed parts: only the damaged brief shows
    brief = {r["name"]: r for r in store.list_records(full=False)}
    assert [n for n, r in brief.items() if r["warnings"]] == ["f2.safetensors"]
    assert brief["f0.safetensors"]["civitai_info"] == parts.brief_info(rich(0))
    # a new answer replaces the damaged model row
    store.save_outcome(sha(1), "identified", rich(1))
    assert store.get_record("loras", "f1.safetensors")["civitai_info"] == rich(1)


def test_a_schema_5_store_is_migrated_to_the_same_records(tmp_path):
    db = tmp_path / "old.sqlite3"
    conn = hashing.connect_db(db)
    old = {v: steps for v, steps in schema.MIGRATIONS.items() if v <= 5}
    assert hashing.migrate(conn, schema.COMPONENT, old) == 5
    stamp = "2026-11-25T14:00:00Z"
    for i in range(5):
        conn.execute(
            "INSERT INTO files (path, folder, name, dev, ino, size, mtime_ns, sha256, hashes, "
            "first_seen, last_seen) VALUES (?, 'loras', ?, 1, ?, 10, 1, ?, ?, ?, ?)",
            (
                f"/m/loras/f{i}.safetensors",
                f"f{i}.safetensors",
                i,
                sha(i),
                json.dumps({"SHA256": sha(i)}),
                stamp,
                stamp,
            ),
        )
    saved = [
        rich(0),
        rich(1, model_id=7),
        rich(2, model_id=7, description="<p>newer</p>"),
        {"model_name": "Partial"},
    ]
    for i, info in enumerate([*saved, None]):
        text = json.dumps(info) if info else "{damaged"
        conn.execute(  # f2, the newer answer of model 7, was checked last
            "INSERT INTO lookups (sha256, status, checked_at, civitai_info) "
            "VALUES (?, 'identified', ?, ?)",
            (sha(i), f"2026-11-2{i}T00:00:00Z", text),
        )
    conn.close()
    store = ModelStore(db)
    try:
        records = {r["name"]: r for r in store.list_records()}
        assert records["f0.safetensors"]["civitai_info"] == saved[0]
        assert records["f1.safetensors"]["civitai_info"] == {
            **saved[1],
            "description": "<p>newer</p>",
        }
        assert records["f2.safetensors"]["civitai_info"] == saved[2]
        assert records["f3.safetensors"]["civitai_info"] == saved[3]
        damaged = records["f4.safetensors"]
        assert damaged["civitai_info"] is None and damaged["warnings"] == [parts.UNREADABLE]
        rows = store._conn.execute("SELECT civitai_info FROM lookups ORDER BY sha256")
        assert [r[0] for r in rows] == [None] * 4 + ["{damaged"]  # kept, not dropped
        assert store._conn.execute("SELECT COUNT(*) FROM civitai_models").fetchone()[0] == 2
    finally:
        store.close()


def test_a_new_store_has_8_kib_pages(store):
    """Lookup rows of ~1.3 KB waste a third of a 4 KiB page (two fit); 8 KiB holds five."""
    assert store._conn.execute("PRAGMA page_size").fetchone()[0] == hashing_db.PAGE_SIZE == 8192
