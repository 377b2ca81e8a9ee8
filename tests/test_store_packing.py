"""How the store packs its parts and hashes (nodes/store/packing.py, schema 8): lossless,
smaller, older rows read as before, damage is reported and never misread."""

import json
import sqlite3
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packload import pack_module
from test_store_query import FileUpdate, ModelStore, Query, sha

packing = pack_module("nodes.store.packing")
info_parts = pack_module("nodes.store.info_parts")

# A part packed by schema 8's dictionary, kept as written: if DICTIONARY ever changed, every
# stored brief would become unreadable (a new dictionary needs a new _DICTIONARIES entry).
WRITTEN = bytes.fromhex(
    "78f919b9ec5bab46cd8a019915c076856351891235529141926132524a32842425509280052d2803d60200a9392cbe"
)
HEX = "0123456789ABCDEF"
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4)
    ),
    max_leaves=20,
)


def real_info(n: int = 1) -> dict:
    return {
        "model_id": 4201 + n, "version_id": 130072 + n, "model_name": f"Pixel Art {n}",
        "version_name": "v1.5", "type": "LORA", "category": "loras", "base_model": "SDXL 1.0",
        "description": None, "version_description": None, "creator": None,
        "tags": ["pixel art", "style"], "trained_words": ["pixel", "pxl"],
        "stats": {"download_count": 51234 + n, "thumbs_up_count": 4321},
        "images": [{"url": "https://image.civitai.com/xG1nkqKTMzGDvpLrqFT7WA/8c3f2d1e-5b7a-4c9e-"
                           f"a1f0-3d2b6e9c7a{n:02d}/width=832/{10_000_000 + n}.jpeg",
                    "width": 832, "height": 1216, "nsfw_level": 1, "type": "image"}],
        "nsfw": False, "file": None, "matched_by": "SHA256",
        "url": f"https://civitai.com/models/{4201 + n}?modelVersionId={130072 + n}",
        "update": None, "fetched_at": "2026-11-25T14:00:00Z",
    }  # fmt: skip


def test_a_part_written_by_schema_8_reads_back():
    assert packing.unpack(WRITTEN) == {
        "model_name": "Pixel Art",
        "images": [
            {"url": "https://image.civitai.com/xG1nkqKTMzGDvpLrqFT7WA/0b1c/width=832/1.jpeg"}
        ],
        "update": None,
    }


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=12), json_values, max_size=8))
def test_pack_is_lossless(value):
    assert packing.unpack(packing.pack(value)) == value


def test_a_brief_packs_to_a_third_of_its_json():
    info = info_parts.brief_info(real_info())
    text = json.dumps(info, separators=(",", ":")).encode()
    assert len(packing.pack(info)) * 3 < len(text)
    assert len(packing.pack(info)) < len(zlib.compress(text, 9)) * 0.7  # the dictionary's part


def test_parts_packed_before_schema_8_read_as_before():
    value = {"version_description": "<p>notes</p>", "file": None}
    assert packing.unpack(zlib.compress(json.dumps(value).encode(), 6)) == value
    info, problem = info_parts.join_info(json.dumps(real_info()), None, None, full=False)
    assert info == real_info() and problem is None


@pytest.mark.parametrize(
    "blob",
    [
        b"", b"not zlib at all", WRITTEN[:-5],
        zlib.compress(b"[1, 2]"), zlib.compress(b"{broken"),
        WRITTEN[:2] + b"\x00\x00\x00\x01" + WRITTEN[6:],  # names a dictionary nobody has
    ],
)  # fmt: skip
def test_a_damaged_part_is_a_value_error(blob):
    with pytest.raises(ValueError):
        packing.unpack(blob)


hex_of = lambda n: st.text(HEX, min_size=n, max_size=n)  # noqa: E731
hashes_like = st.fixed_dictionaries(
    {"SHA256": hex_of(64)},
    optional={
        "AutoV1": st.none() | hex_of(8) | st.text(max_size=9),
        "AutoV2": st.none() | st.just("SAME") | st.text(HEX, max_size=10),
        "AutoV3": st.none() | hex_of(64) | st.text("0123456789abcdef", min_size=64, max_size=64),
        "CRC32": hex_of(8) | st.text(max_size=8),
        "BLAKE3": hex_of(64) | st.none(),
        "extra": st.text(max_size=4),
    },
)


@settings(max_examples=300, deadline=None)
@given(hashes_like)
def test_pack_hashes_is_lossless(hashes):
    if hashes.get("AutoV2") == "SAME":
        hashes["AutoV2"] = hashes["SHA256"][:10]
    assert packing.unpack_hashes(packing.pack_hashes(hashes), hashes["SHA256"]) == hashes


def test_a_scans_hashes_are_79_bytes_and_older_rows_read_as_before():
    h = {"SHA256": "A1" * 32, "AutoV1": "486218C4", "AutoV2": "A1A1A1A1A1", "AutoV3": "B2" * 32,
         "CRC32": "34D57A0C", "BLAKE3": "C3" * 32}  # fmt: skip
    packed = packing.pack_hashes(h)
    assert isinstance(packed, bytes) and len(packed) == 79 < len(json.dumps(h)) / 3.5
    assert packing.unpack_hashes(packed, h["SHA256"]) == h  # the SHA256: the row's column
    with_sha = b"\x01" + packed[1:7] + bytes.fromhex(h["SHA256"]) + packed[7:]  # first form
    assert packing.unpack_hashes(with_sha) == h
    assert packing.unpack_hashes(json.dumps(h)) == h
    assert packing.pack_hashes(None) is None and packing.unpack_hashes(None) is None
    for damaged, row_sha in ((packed[:-1], h["SHA256"]), (packed + b"\x00", h["SHA256"]),
                         (b"\x07" + packed[1:], h["SHA256"]), (b"", None), (packed, None),
                         (packed, "not a hash")):  # fmt: skip
        with pytest.raises(ValueError):
            packing.unpack_hashes(damaged, row_sha)


def test_the_store_keeps_hashes_and_says_when_they_are_damaged(tmp_path):
    db = tmp_path / "db.sqlite3"
    store = ModelStore(db)
    six = {"SHA256": sha(1), "AutoV1": "486218C4", "AutoV2": sha(1)[:10], "AutoV3": None,
           "CRC32": "34D57A0C", "BLAKE3": "C3" * 32}  # fmt: skip
    odd = {**six, "SHA256": sha(2), "AutoV2": "odd"}
    store.save_files([FileUpdate("/m/loras/a.safetensors", "loras", "a.safetensors",
                                 (1, 1, 1, 1), six),
                      FileUpdate("/m/loras/b.safetensors", "loras", "b.safetensors",
                                 (1, 2, 1, 1), odd)])  # fmt: skip
    store.save_outcome(sha(1), "identified", real_info())
    records = {r["name"]: r for r in store.page(Query(limit=10))[0]}
    assert records["a.safetensors"]["hashes"] == six
    assert records["b.safetensors"]["hashes"]["AutoV2"] == "odd"  # kept as JSON text
    assert store.get_path("/m/loras/a.safetensors").hashes == six
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE files SET hashes = x'0102' WHERE name = 'a.safetensors'")
    records = {r["name"]: r for r in store.page(Query(limit=10))[0]}
    damaged = records["a.safetensors"]
    assert damaged["hashes"]["SHA256"] is None and "hashes" in damaged["warnings"][-1]
    assert damaged["civitai_info"]["model_name"] == "Pixel Art 1"  # the rest still listed
    assert store.get_path("/m/loras/a.safetensors").hashes is None  # hashed again
    store.close()


def test_an_update_notice_in_a_schema_7_brief_is_found_after_the_upgrade(tmp_path):
    db = tmp_path / "db.sqlite3"
    store = ModelStore(db)
    for n in (1, 2):
        store.save_files([FileUpdate(f"/m/loras/{n}.safetensors", "loras", f"{n}.safetensors",
                                     (1, n, 1, 1), {"SHA256": sha(n)})])  # fmt: skip
    notice = {
        "version_id": 9,
        "version_name": "v2",
        "base_model": "SDXL 1.0",
        "published_at": "2026-01-01T00:00:00Z",
        "url": "https://civitai.com/models/1",
    }
    store.save_outcome(sha(1), "identified", {**real_info(1), "update": notice})
    store.save_outcome(sha(2), "identified", real_info(2))
    assert store.with_update() == {sha(1)}
    store.close()
    with sqlite3.connect(db) as conn:  # as schema 7 wrote them: briefs as JSON text
        for n, info in ((1, {**real_info(1), "update": notice}), (2, real_info(2))):
            brief = json.dumps(info_parts.brief_info(info))
            conn.execute("UPDATE lookups SET brief = ? WHERE sha256 = ?", (brief, sha(n)))
        conn.execute("DROP INDEX lookups_with_update")
        conn.execute("ALTER TABLE lookups DROP COLUMN has_update")
        conn.execute("UPDATE schema_version SET version = 7 WHERE component = 'model_store'")
    store = ModelStore(db)
    assert store.with_update() == {sha(1)}
    assert [r["name"] for r in store.page(Query(filters={"update": "1"}, limit=9))[0]] == [
        "1.safetensors"
    ]
    assert store.page(Query(limit=9))[0][0]["civitai_info"]["update"] == notice
    store.close()


def test_header_verdicts_are_packed_and_older_json_reads_as_before(tmp_path):
    detections = pack_module("nodes.store.detections")
    db = tmp_path / "db.sqlite3"
    store = ModelStore(db)
    verdict = {
        "kind": "lora",
        "format": "lora",
        "base_model": "SDXL 1.0",
        "category": "loras",
        "precision": "fp16",
        "parameters": 217091,
        "training": {"epochs": "10"},
        "title": None,
        "trigger_phrase": None,
        "author": None,
        "evidence": ["lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k"],
    }
    store.save_detections([
        detections.Detection("/m/other/a.safetensors", "other", "a.safetensors", (1, 1, 1, 1),
                             verdict),
        detections.Detection("/m/other/b.safetensors", "other", "b.safetensors", (1, 2, 1, 1),
                             error="The header is not JSON."),
    ])  # fmt: skip
    with sqlite3.connect(db) as conn:
        stored = dict(conn.execute("SELECT name, detected FROM files").fetchall())
    assert isinstance(stored["a.safetensors"], bytes)
    assert len(stored["a.safetensors"]) * 2 < len(json.dumps(verdict))
    records = {r["name"]: r for r in store.page(Query(limit=10))[0]}
    assert records["a.safetensors"]["detected"] == verdict
    assert records["a.safetensors"]["suggested_category"] == "loras"
    assert records["b.safetensors"]["detect_error"] == "The header is not JSON."
    with sqlite3.connect(db) as conn:  # as schema 7 wrote it
        conn.execute("UPDATE files SET detected = ? WHERE name = 'a.safetensors'",
                     (json.dumps(verdict),))  # fmt: skip
    assert store.page(Query(limit=10))[0][0]["detected"] == verdict
    store.close()


def test_what_the_dropped_indexes_served_still_walks_an_index(tmp_path):
    """Schema 8 drops files_folder_name and hash cache 2 its path index (~12 MB at 100,000
    files): a file by folder and name and a rewritten inode's old row are still seeks."""
    hashing = pack_module("hashing")
    db = tmp_path / "db.sqlite3"
    store, cache = ModelStore(db), hashing.HashCache(db)
    store.save_files([FileUpdate("/m/loras/a.safetensors", "loras", "a.safetensors",
                                 (1, 1, 1, 1), {"SHA256": sha(1)})])  # fmt: skip
    store.mark_missing(["/m/loras/a.safetensors"])
    store.save_files([FileUpdate("/n/loras/a.safetensors", "loras", "a.safetensors",
                                 (1, 2, 1, 1), {"SHA256": sha(2)})])  # fmt: skip
    assert store.get_file("loras", "a.safetensors").path == "/n/loras/a.safetensors"
    assert store.get_record("loras", "a.safetensors", include_path=True)["path"] == (
        "/n/loras/a.safetensors"
    )
    names = {r[0] for r in store._conn.execute("SELECT name FROM sqlite_master")}
    assert "files_folder_name" not in names and "hash_cache_path" not in names
    plans = [
        " ".join(str(step[-1]) for step in store._conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
        for sql in (
            "SELECT path FROM files WHERE missing IN (0, 1) AND folder = 'loras' "
            "AND name = 'a' ORDER BY missing, last_seen DESC LIMIT 1",
            "DELETE FROM hash_cache WHERE dev = 1 AND ino = 2 AND (size, mtime_ns) != (3, 4)",
        )
    ]
    assert "files_missing_folder_name (missing=? AND folder=? AND name=?)" in plans[0]
    assert "PRIMARY KEY (dev=? AND ino=?)" in plans[1]  # WITHOUT ROWID: the table is the key
    store.close()
    cache.close()
