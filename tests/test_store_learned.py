"""The prose dictionary a store learns from its own model descriptions (schema 9,
nodes/store/info_parts.py prose_dictionary): smaller parts, lossless, one per store, and
readable by a process that opened the store before it was learned."""

import random
import sqlite3
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from packload import pack_module
from test_store_query import FileUpdate, ModelStore, Query, sha

info_parts = pack_module("nodes.store.info_parts")
packing = pack_module("nodes.store.packing")
TESTS = Path(__file__).resolve().parent
_rng = random.Random(9)
# a language's worth of words, most of them rarer than one description can repeat
WORDS = ["".join(_rng.choices("etaoinshrdlucmfwyp", k=_rng.randint(3, 9))) for _ in range(800)]
WEIGHTS = [1 / (i + 1) for i in range(len(WORDS))]


def description(n: int) -> str:
    rng = random.Random(n)
    words = rng.choices(WORDS, WEIGHTS, k=300)
    return "<p>" + " ".join(words) + f"</p><p><strong>model {n}</strong></p>"


def info(n: int) -> dict:
    return {"model_id": 5000 + n, "version_id": 90000 + n, "model_name": f"M{n}",
            "description": description(n), "version_description": description(-n)[:400],
            "creator": {"username": f"c{n}", "image": None}, "images": []}  # fmt: skip


def save(store, numbers) -> None:
    for n in numbers:
        store.save_files([FileUpdate(f"/m/loras/{n}.safetensors", "loras", f"{n}.safetensors",
                                     (1, n, 1, 1), {"SHA256": sha(n)})])  # fmt: skip
        store.save_outcome(sha(n), "identified", info(n))


def dictionary_of(blob: bytes) -> int | None:
    return int.from_bytes(blob[2:6], "big") if blob[1] & 0x20 else None


@pytest.fixture
def learn_from(monkeypatch):
    monkeypatch.setattr(info_parts, "LEARN_FROM", 20)
    return 20


def test_a_store_learns_once_from_its_descriptions_and_packs_smaller(tmp_path, learn_from):
    db = tmp_path / "db.sqlite3"
    store = ModelStore(db)
    save(store, range(1, learn_from))
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM packing_dictionaries").fetchone() == (0,)
    save(store, range(learn_from, learn_from + 10))
    learned = conn.execute("SELECT dict_id, data FROM packing_dictionaries").fetchall()
    assert len(learned) == 1  # once, and kept
    dict_id, data = learned[0]
    assert zlib.adler32(data) == dict_id and len(data) <= packing.LEARNED_SIZE
    parts = dict(conn.execute("SELECT model_id - 5000, data FROM civitai_models").fetchall())
    assert dictionary_of(parts[1]) == zlib.adler32(packing.DICTIONARY)  # before: the fixed one
    assert {dictionary_of(parts[n]) for n in range(learn_from + 1, learn_from + 10)} == {dict_id}
    fixed = packing.pack({"description": description(99), "creator": None})
    assert len(packing.pack({"description": description(99), "creator": None}, data)) < (
        0.8 * len(fixed)
    )
    records = {r["name"]: r for r in store.page(Query(limit=100), full=True)[0]}
    for n in (1, learn_from + 5):
        got = records[f"{n}.safetensors"]["civitai_info"]
        assert got["description"] == description(n)
        assert got["version_description"] == description(-n)[:400]
    conn.close()
    store.close()


def test_a_process_that_opened_the_store_before_reads_what_another_learned(tmp_path):
    db = tmp_path / "db.sqlite3"
    reader = ModelStore(db)  # opened first: it has never seen the dictionary
    writer = f"""
import sys
sys.path.insert(0, {str(TESTS)!r})
from packload import pack_module
from test_store_learned import save
pack_module("nodes.store.info_parts").LEARN_FROM = 20
store = pack_module("nodes.store.model_store").ModelStore({str(db)!r})
save(store, range(101, 131))  # other texts than the tests here: another dictionary
store.close()
"""
    subprocess.run([sys.executable, "-c", writer], check=True, cwd=TESTS, timeout=120)
    with sqlite3.connect(db) as conn:
        (dict_id,) = conn.execute("SELECT dict_id FROM packing_dictionaries").fetchone()
        (blob,) = conn.execute("SELECT data FROM civitai_models WHERE model_id = 5130").fetchone()
    assert dictionary_of(blob) == dict_id and packing.registered(dict_id) is None
    record = reader.get_record("loras", "130.safetensors")
    assert record["civitai_info"]["description"] == description(130)
    assert not record["warnings"]
    reader.close()


def test_a_part_naming_a_dictionary_no_store_has_is_damaged_not_misread(tmp_path, learn_from):
    db = tmp_path / "db.sqlite3"
    store = ModelStore(db)
    numbers = range(201, 201 + learn_from + 3)  # texts no other test's store learned from
    save(store, numbers)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM packing_dictionaries")
    with packing._LOCK:  # this process forgets it too
        for key in [k for k in packing._DICTIONARIES if k != zlib.adler32(packing.DICTIONARY)]:
            del packing._DICTIONARIES[key]
    record = store.get_record("loras", f"{numbers[-1]}.safetensors")
    assert record["civitai_info"]["model_name"] == f"M{numbers[-1]}"  # the brief part
    assert "cannot be read" in record["warnings"][-1]
    first = store.get_record("loras", f"{numbers[0]}.safetensors")  # the fixed dictionary's
    assert first["civitai_info"]["description"] == description(numbers[0])
    store.close()
