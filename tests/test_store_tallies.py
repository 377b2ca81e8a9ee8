"""The facet tallies (schema 7, ``file_tallies``, kept by triggers on files) that GET status
and the unfiltered GET facets read: after any sequence of writes, by this connection,
another one or another process, they equal a full recount of the files by the listing's own
rules (query.F_STATUS, FILTERS["base_model"]), and the counts equal the records' statuses."""

import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from packload import pack_module

store_mod = pack_module("nodes.store.model_store")
query_mod = pack_module("nodes.store.query")
Detection = pack_module("nodes.store.detections").Detection
ModelStore, FileUpdate, Query = store_mod.ModelStore, store_mod.FileUpdate, query_mod.Query

FOLDERS = ("loras", "loras", "checkpoints", "vae", "other", "loras")
PATHS = [(f"/m/{folder}/{i}.safetensors", folder) for i, folder in enumerate(FOLDERS)]
BASES = (None, "SD 1.5", "Pony")
KINDS = (None, "lora", "checkpoint")


def sha(i):
    return f"{i:064X}"


def recount(conn) -> Counter:
    """(missing, folder, status, base model, kind) → files, grouped the slow way."""
    rows = conn.execute(
        f"SELECT f.missing, f.folder, {query_mod.F_STATUS}, "
        f"{query_mod.FILTERS['base_model']}, f.detected_kind, COUNT(*) FROM files AS f "
        "GROUP BY 1, 2, 3, 4, 5"
    )
    return Counter({tuple(r[:-1]): r[-1] for r in rows})


def tallied(conn) -> Counter:
    rows = conn.execute("SELECT missing, facet_key, n FROM file_tallies WHERE n != 0")
    return Counter({(missing, *json.loads(key)): n for missing, key, n in rows})


def check(store, step):
    negative = store.lister.conn.execute("SELECT COUNT(*) FROM file_tallies WHERE n < 0")
    assert negative.fetchone()[0] == 0, step
    assert tallied(store.lister.conn) == recount(store.lister.conn), step
    for include_missing in (False, True):
        want = dict.fromkeys(store_mod.STATUSES, 0)
        records = store.list_records(include_missing=include_missing)
        want.update(Counter(r["status"] for r in records))
        assert store.counts(include_missing=include_missing) == want, step
        assert store.facets(Query(include_missing=include_missing))["total"] == len(records)
        # with q: one GROUP BY, kept in memory until the store changes (by anyone)
        for q in ("safetensors", "1.s"):
            found = store.list_records(q=q, include_missing=include_missing)
            facets = store.facets(Query(q=q, include_missing=include_missing))
            assert facets["total"] == len(found), (step, q)
            assert dict(map(tuple, facets["status"])) == Counter(r["status"] for r in found)


def _apply(store, op) -> None:
    kind, *args = op
    if kind == "save":
        (p, folder), s, error = PATHS[args[0]], args[1], args[2]
        hashes = {"SHA256": sha(s)} if s is not None else None
        store.save_files([FileUpdate(p, folder if args[3] else "other", p.rsplit("/", 1)[1],
                                     (1, args[0], 10, 20), hashes, error)])  # fmt: skip
    elif kind == "detect":
        (p, folder), d_kind, base, error = PATHS[args[0]], *args[1:]
        detected = None if error else {"kind": d_kind, "base_model": base}
        store.save_detections([Detection(p, folder, p.rsplit("/", 1)[1], (1, args[0], 10, 20),
                                          detected, "Bad header." if error else None)])  # fmt: skip
    elif kind == "touch":
        store.touch_files([PATHS[i][0] for i in args[0]])
    elif kind == "missing":
        store.mark_missing([PATHS[i][0] for i in args[0]])
    elif kind == "pending":
        store.set_pending([sha(i) for i in args[0]], args[1])
    elif kind == "unpend_all":
        store.set_pending(None, False)
    elif kind == "outcome":
        s, status, base, manual = args
        info = {"model_name": f"M{s}", "base_model": base} if status == "identified" else None
        store.save_outcome(sha(s), status, info, "Down." if status == "error" else None,
                           matched_by="manual" if manual else None)  # fmt: skip
    elif kind == "forget":
        store.forget_manual(sha(args[0]))
    elif kind == "delete_file":  # no writer of the pack deletes files yet; a trigger does count
        with store.lister.conn:
            store.lister.conn.execute("DELETE FROM files WHERE path = ?", (PATHS[args[0]][0],))
    elif kind == "delete_lookup":
        with store.lister.conn:
            store.lister.conn.execute("DELETE FROM lookups WHERE sha256 = ?", (sha(args[0]),))


path_i = st.integers(0, len(PATHS) - 1)
sha_i = st.integers(0, 3)
some_paths = st.lists(path_i, max_size=3)
OPS = st.one_of(
    st.tuples(st.just("save"), path_i, st.none() | sha_i, st.none() | st.just("Truncated."),
              st.booleans()),
    st.tuples(st.just("detect"), path_i, st.sampled_from(KINDS), st.sampled_from(BASES),
              st.booleans()),
    st.tuples(st.just("touch"), some_paths),
    st.tuples(st.just("missing"), some_paths),
    st.tuples(st.just("pending"), st.lists(sha_i, max_size=2), st.booleans()),
    st.tuples(st.just("unpend_all")),
    st.tuples(st.just("outcome"), sha_i, st.sampled_from(("identified", "unknown", "error")),
              st.sampled_from(BASES), st.booleans()),
    st.tuples(st.just("forget"), sha_i),
    st.tuples(st.just("delete_file"), path_i),
    st.tuples(st.just("delete_lookup"), sha_i),
)  # fmt: skip


@settings(max_examples=60)
@given(st.lists(st.tuples(st.booleans(), OPS), min_size=1, max_size=25))
def test_tallies_equal_a_full_recount_after_any_writes(steps):
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "db.sqlite3"
        mine, other = ModelStore(db), ModelStore(db)  # other: another connection writing
        try:
            for i, (elsewhere, op) in enumerate(steps):
                _apply(other if elsewhere else mine, op)
                check(mine, (i, elsewhere, op))
        finally:
            mine.close()
            other.close()


def test_error_never_replaces_and_a_sha_change_moves_the_tallies(tmp_path):
    store = ModelStore(tmp_path / "db.sqlite3")
    store.save_files([FileUpdate(p, f, p.rsplit("/", 1)[1], (1, i, 1, 1), {"SHA256": sha(i)})
                      for i, (p, f) in enumerate(PATHS)])  # fmt: skip
    store.save_outcome(sha(0), "identified", {"model_name": "A", "base_model": "Pony"})
    store.save_outcome(sha(1), "unknown")
    store.save_outcome(sha(0), "error", error="Down.")  # keeps identified
    store.save_outcome(sha(1), "error", error="Down.")  # keeps unknown
    store.save_outcome(sha(2), "error", error="Down.")
    check(store, "outcomes")
    assert store.counts() == {"identified": 1, "unknown": 1, "error": 1, "pending": 0,
                              "not_checked": 3}  # fmt: skip
    store.save_files([FileUpdate(PATHS[3][0], "vae", "3.safetensors", (1, 3, 2, 2),
                                 {"SHA256": sha(0)})])  # fmt: skip
    check(store, "file 3 now has file 0's content")
    assert store.counts()["identified"] == 2
    assert dict(map(tuple, store.facets(Query())["base_model"])) == {"Pony": 2}
    store.close()


def test_another_process_keeps_the_tallies(tmp_path):
    db = tmp_path / "db.sqlite3"
    store = ModelStore(db)
    store.save_files([FileUpdate(p, f, p.rsplit("/", 1)[1], (1, i, 1, 1), {"SHA256": sha(i)})
                      for i, (p, f) in enumerate(PATHS)])  # fmt: skip
    assert store.counts()["not_checked"] == len(PATHS)
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); from packload import pack_module\n"
        "m = pack_module('nodes.store.model_store'); s = m.ModelStore(sys.argv[2])\n"
        f"s.save_outcome({sha(0)!r}, 'identified', {{'model_name': 'A', 'base_model': 'X'}})\n"
        f"s.save_outcome({sha(1)!r}, 'unknown'); s.mark_missing([{PATHS[2][0]!r}]); s.close()\n"
    )
    tests = Path(__file__).resolve().parent
    subprocess.run([sys.executable, "-c", script, str(tests), str(db)], check=True, timeout=60)
    check(store, "after the other process")
    assert store.counts() == {"identified": 1, "unknown": 1, "error": 0, "pending": 0,
                              "not_checked": len(PATHS) - 3}  # fmt: skip
    store.close()


def test_a_filtered_total_without_q_reads_the_tallies_not_the_files(tmp_path):
    """The panel asks a page and its total for every menu choice: counting a status filter
    read every file's status; the tallies give the same number."""
    store = ModelStore(tmp_path / "db.sqlite3")
    updates = [FileUpdate(f"/m/{f}/{i}.safetensors", f, f"{i}.safetensors", (1, i, 1, 1),
                          {"SHA256": f"{i:064X}"}) for i, f in
               enumerate(["loras", "checkpoints", "loras", "vae"] * 25)]  # fmt: skip
    store.save_files(updates)
    for i in range(0, 100, 3):
        store.save_outcome(f"{i:064X}", "identified", {"model_name": f"m{i}", "base_model": "Pony"})
    store.save_outcome(f"{1:064X}", "unknown")
    store.mark_missing(["/m/loras/0.safetensors"])
    cases = [{"status": "identified"}, {"status": "not_checked", "category": "loras"},
             {"category": "vae"}, {"base_model": "Pony", "category": "checkpoints"},
             {"status": "unknown"}, {}]  # fmt: skip
    seen = []
    store.lister.conn.set_trace_callback(seen.append)
    for filters in cases:
        for missing in (False, True):
            query = Query(filters=filters, include_missing=missing)
            want = sum(1 for r in store.list_records(**filters, include_missing=missing))
            seen.clear()
            assert store.total(query) == want, (filters, missing)
            assert not [s for s in seen if "FROM files" in s], seen
    store.close()
