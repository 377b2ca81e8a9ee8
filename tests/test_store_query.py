"""The paged listing and facets (nodes/store/query.py) against a seeded store of a few
thousand records on a real SQLite file, checked against a plain-Python reading of the same
records: every filter, every sort (both directions), paging by offset and by cursor, the
cursor while records change, the facets, and FTS5 vs the LIKE fallback."""

import json
import random
import sqlite3
from collections import Counter

import pytest
from packload import pack_module

store_mod = pack_module("nodes.store.model_store")
query_mod = pack_module("nodes.store.query")
fts = pack_module("nodes.store.fts")
ModelStore, FileUpdate = store_mod.ModelStore, store_mod.FileUpdate
Query, BadQuery, Lister = query_mod.Query, query_mod.BadQuery, query_mod.Lister

N = 3000
FOLDERS = ("loras", "checkpoints", "embeddings", "vae", "other")
BASES = ("SD 1.5", "SDXL 1.0", "Pony", "Flux.1 D")
WORDS = ("Anime", "style", "Portrait", "pixel", "neon", "retro", "Cyber", "dream", "ink")


def sha(i):
    return f"{i:064X}"


def seed(store, n=N, start=0, rnd=None):
    """Files in five folders; 60 % identified, 15 % unknown, 5 % error, the rest unchecked."""
    rnd = rnd or random.Random(15)
    updates = []
    for i in range(start, start + n):
        folder = FOLDERS[i % len(FOLDERS)]
        sub = f"{rnd.choice(WORDS)}/" if i % 3 == 0 else ""
        name = f"{sub}{rnd.choice(WORDS)}_{i:05d}.safetensors"
        updates.append(FileUpdate(f"/m/{folder}/{name}", folder, name,
                                  (1, i, rnd.randrange(1, 10**9), rnd.randrange(10**18)),
                                  {"SHA256": sha(i)}))  # fmt: skip
    store.save_files(updates)
    for i in range(start, start + n):
        roll = i % 20
        if roll < 12:
            info = {
                "model_name": f"{rnd.choice(WORDS)} {rnd.choice(WORDS)} {i}",
                "version_name": rnd.choice(["v1", "v2.0", None]),
                "base_model": BASES[i % len(BASES)],
                "tags": rnd.sample(WORDS, 2),
                "trained_words": [f"trg{i % 97}"],
                "stats": {"download_count": rnd.randrange(0, 50_000)},
                "matched_by": "SHA256",
            }
            store.save_outcome(sha(i), "identified", info)
        elif roll < 15:
            store.save_outcome(sha(i), "unknown")
        elif roll < 16:
            store.save_outcome(sha(i), "error", error="CivitAI did not answer.")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    store = ModelStore(tmp_path_factory.mktemp("q") / "db.sqlite3")
    seed(store)
    store.mark_missing(["/m/loras/" + n for n in _names(store, "loras")[:5]])
    yield store
    store.close()


def _names(store, folder):
    return [r["name"] for r in store.list_records(category=folder)]


# -- the plain-Python reading ---------------------------------------------------------------
def title(r):
    info = r["civitai_info"]
    if info and info.get("model_name"):
        t = info["model_name"] + (f" \u2014 {info['version_name']}" if info["version_name"] else "")
        return t.lower()
    return r["name"].rsplit("/", 1)[-1].lower()


def text(r):
    info = r["civitai_info"] or {}
    parts = [r["name"], info.get("model_name"), info.get("version_name"),
             *(info.get("tags") or []), *(info.get("trained_words") or [])]  # fmt: skip
    return "\n".join(p for p in parts if p).lower()


def field(r, name):
    if name == "category":
        return r["folder"]
    if name == "base_model":
        return (r["civitai_info"] or {}).get("base_model")
    return r["status"]


SORT_KEYS = {
    "name": title,
    "file": lambda r: (r["folder"], r["name"]),
    "date": lambda r: r["mtime"],
    "size": lambda r: r["size"],
    "downloads": lambda r: (r["civitai_info"] or {}).get("stats", {}).get("download_count", -1),
    "model": lambda r: (
        (0, r["civitai_info"]["model_name"].lower()) if r["civitai_info"] else (1, "")
    ),
}  # fmt: skip


def expected(all_records, q=None, **filters):
    words = (q or "").lower().split()
    return [r for r in all_records
            if all(w in text(r) for w in words)
            and all(field(r, k) == v for k, v in filters.items() if v)]  # fmt: skip


def keys_of(records):
    return {(r["folder"], r["name"]) for r in records}


def page_all(store, query):
    out, pages = [], 0
    while True:
        rows, nxt = store.page(query)
        out += rows
        pages += 1
        if nxt is None:
            return out, pages
        query.cursor = nxt


CASES = [
    {},
    {"q": "anime"},
    {"q": "PIXEL neon"},
    {"q": "in"},  # short word: LIKE even with FTS
    {"q": "trg5"},
    {"q": "_0004"},
    {"q": "\u2014 v2"},
    {"q": "nothing-matches-this"},
    {"category": "loras"},
    {"status": "unknown"},
    {"status": "error"},
    {"status": "not_checked", "category": "vae"},
    {"base_model": "SDXL 1.0"},
    {"base_model": "Pony", "category": "checkpoints", "q": "style"},
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: repr(c))
def test_filters_and_total_match_the_records(seeded, case):
    every = seeded.list_records()
    q = case.get("q")
    filters = {k: v for k, v in case.items() if k != "q"}
    want = expected(every, q, **filters)
    query = Query(q=q, filters=filters, sort="file", limit=1000)
    got, _ = page_all(seeded, query)
    assert keys_of(got) == keys_of(want) and len(got) == len(want)
    assert seeded.total(Query(q=q, filters=filters)) == len(want)
    assert keys_of(seeded.list_records(q=q, **filters)) == keys_of(want)


@pytest.mark.parametrize("sort", sorted(SORT_KEYS))
@pytest.mark.parametrize("desc", [False, True])
def test_every_sort_pages_through_every_record_once_in_order(seeded, sort, desc):
    every = seeded.list_records()
    query = Query(sort=("-" if desc else "") + sort, limit=173)
    got, pages = page_all(seeded, query)
    assert pages == -(-len(every) // 173)
    assert len(got) == len(every) and keys_of(got) == keys_of(every)
    values = [SORT_KEYS[sort](r) for r in got]
    assert values == sorted(values, reverse=desc)


def test_offset_pages_equal_cursor_pages(seeded):
    by_cursor, _ = page_all(seeded, Query(sort="-size", limit=200, filters={"category": "loras"}))
    by_offset = []
    for offset in range(0, len(by_cursor) + 200, 200):
        rows, _ = seeded.page(Query(sort="-size", limit=200, offset=offset,
                                    filters={"category": "loras"}))  # fmt: skip
        by_offset += rows
    assert [r["name"] for r in by_offset] == [r["name"] for r in by_cursor]


def test_a_cursor_neither_repeats_nor_skips_while_records_change(tmp_path):
    store = ModelStore(tmp_path / "db.sqlite3")
    seed(store, 1200)
    before = keys_of(store.list_records())
    query = Query(sort="name", limit=100)
    seen, changed, step = [], set(), 0
    while True:
        rows, nxt = store.page(query)
        seen += [(r["folder"], r["name"]) for r in rows]
        if nxt is None:
            break
        query.cursor = nxt
        step += 1
        # between pages: new files (some sort before the cursor), a rename of the info of
        # an identified file, a file gone missing
        seed(store, 20, start=5000 + step * 20, rnd=random.Random(step))
        victim = store.list_records(status="identified")[step * 7]
        changed.add((victim["folder"], victim["name"]))
        moved = {**victim["civitai_info"], "model_name": f"AAA moved {step}"}
        store.save_outcome(victim["hashes"]["SHA256"], "identified", moved)
        gone = store.list_records(category="vae")[step]
        changed.add((gone["folder"], gone["name"]))
        store.mark_missing([f"/m/vae/{gone['name']}"])
    counts = Counter(seen)
    assert max(counts.values()) == 1, "a record came twice"
    assert not (before - changed) - set(seen), "an unchanged record was skipped"
    store.close()


def test_facets_count_each_menu_under_the_other_filters(seeded):
    every = seeded.list_records()
    for case in CASES:
        q = case.get("q")
        filters = {k: v for k, v in case.items() if k != "q"}
        got = seeded.facets(Query(q=q, filters=filters))
        for name in ("category", "base_model", "status"):
            others = {k: v for k, v in filters.items() if k != name}
            want = Counter(field(r, name) for r in expected(every, q, **others))
            want.pop(None, None)
            assert dict(map(tuple, got[name])) == dict(want), (case, name)
        assert got["total"] == len(expected(every, q, **filters))


def test_fts_and_like_fallback_give_the_same_rows(seeded):
    assert seeded.lister.fts, "this SQLite has FTS5 with the trigram tokenizer"
    like = Lister(seeded.lister.conn, fts=False)
    for q in ("anime", "ANIME style", "trg1", "_0001", "00", "ink/", "v2.0", "\u2014 v1",
              "dream 12", "sty", "nothing"):  # fmt: skip
        query = Query(q=q, sort="file")
        assert like.rows(query)[0] == seeded.lister.rows(query)[0], q
        assert like.total(query) == seeded.lister.total(query), q


def undo(conn, *versions):
    """Drop the indexes and triggers those schema versions made, and schema 5's column,
    as if the store were older (the callers drop the other columns); 6: each info back in
    civitai_info as one JSON text, its parts and the model rows gone; 7: the tallies."""
    migrations = pack_module("nodes.store.schema").MIGRATIONS
    if 10 in versions:  # a rowid table again, in schema 9's column order (has_update last)
        types = {r[1]: r[2] for r in conn.execute("PRAGMA table_info(lookups)")}
        order = [c for c in types if c != "has_update"] + ["has_update"]
        defs = ", ".join(f"{c} {types[c]}{' PRIMARY KEY' if c == 'sha256' else ''}" for c in order)
        conn.execute(f"CREATE TABLE lookups_old ({defs})")
        conn.execute(f"INSERT INTO lookups_old SELECT {', '.join(order)} FROM lookups")
        conn.execute("PRAGMA legacy_alter_table = ON")  # the search view names lookups
        conn.execute("DROP TABLE lookups")
        conn.execute("ALTER TABLE lookups_old RENAME TO lookups")
        conn.execute("PRAGMA legacy_alter_table = OFF")
    if 9 in versions:
        conn.execute("DROP TABLE packing_dictionaries")
    if 8 in versions:
        conn.execute("DROP INDEX IF EXISTS lookups_with_update")
        conn.execute("ALTER TABLE lookups DROP COLUMN has_update")
    if 6 in versions:
        join_info = pack_module("nodes.store.info_parts").join_info
        rows = conn.execute("SELECT l.rowid, l.brief, l.details, m.data FROM lookups AS l "
                            "LEFT JOIN civitai_models AS m ON m.model_id = l.model_id "
                            "WHERE l.brief IS NOT NULL").fetchall()  # fmt: skip
        for rowid, brief, details, model in rows:
            info, problem = join_info(brief, details, model)
            assert problem is None
            conn.execute("UPDATE lookups SET civitai_info = ? WHERE rowid = ?",
                         (json.dumps(info), rowid))  # fmt: skip
        for column in ("details", "brief", "model_id"):
            conn.execute(f"ALTER TABLE lookups DROP COLUMN {column}")
        conn.execute("DROP TABLE civitai_models")
    later = [s for v in versions for s in migrations[v] if isinstance(s, str)]
    for kind in ("INDEX", "TRIGGER"):
        for name in [s.split()[5] for s in later if s.startswith(f"CREATE {kind}")]:
            conn.execute(f"DROP {kind} IF EXISTS {name}")
    if 7 in versions:
        conn.execute("DROP TABLE file_tallies")
    if 5 in versions:
        for column in ("lookup_status", "lookup_base", "lookup_title", "lookup_model",
                       "lookup_downloads"):  # fmt: skip
            conn.execute(f"ALTER TABLE files DROP COLUMN {column}")


def test_an_old_store_is_migrated_and_indexed(tmp_path):
    """A version-1 store (no sort columns, no FTS) opens with its records sortable and
    searchable."""
    db = tmp_path / "db.sqlite3"
    store = ModelStore(db)
    seed(store, 60)
    want = [(r["folder"], r["name"]) for r in store.page(Query(sort="-downloads", limit=60))[0]]
    conn = store.lister.conn
    undo(conn, 10, 9, 8, 7, 6, 5, 4, 2)
    conn.execute(f"DROP TABLE {fts.TABLE}")
    for name in fts._TRIGGERS:
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")  # lookups' went with its table
    for table, column in (
        ("files", "sort_name"),
        ("lookups", "model_name"),
        ("lookups", "title"),
        ("lookups", "downloads"),
        ("files", "detected"),
        ("files", "detected_kind"),
        ("files", "detected_base"),
    ):
        conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")  # fmt: skip
    conn.execute("UPDATE schema_version SET version = 1 WHERE component = 'model_store'")
    conn.commit()
    store.close()
    store = ModelStore(db)
    got = [(r["folder"], r["name"]) for r in store.page(Query(sort="-downloads", limit=60))[0]]
    assert got == want
    columns = [r[1] for r in store.lister.conn.execute("PRAGMA table_info(lookups)")]
    # the big columns last (small ones are read without them); civitai_info is NULL since 6
    assert columns[-5:] == ["has_update", "model_id", "civitai_info", "brief", "details"]
    plan = store.lister.conn.execute("EXPLAIN QUERY PLAN SELECT sha256 FROM lookups "
                                     "WHERE has_update = 1").fetchall()  # fmt: skip
    assert "lookups_with_update" in str(plan)
    assert store.lister.fts and store.total(Query(q="anime")) > 0
    store.close()


@pytest.mark.parametrize("params, word", [
    ({"limit": "0"}, "limit"), ({"limit": "1001"}, "limit"), ({"limit": "ten"}, "limit"),
    ({"offset": "-1", "limit": "5"}, "offset"), ({"sort": "colour", "limit": "5"}, "sort"),
    ({"sort": "--name", "limit": "5"}, "sort"), ({"cursor": "garbage"}, "cursor"),
    ({"cursor": "x", "offset": "5"}, "either"),
])  # fmt: skip
def test_bad_parameters_are_a_sentence(seeded, params, word):
    with pytest.raises(BadQuery, match=word):
        seeded.page(Query.parse(params))


def test_a_cursor_for_another_sort_is_refused(seeded):
    _, nxt = seeded.page(Query.parse({"limit": "5", "sort": "size"}))
    with pytest.raises(BadQuery, match="cursor"):
        seeded.page(Query.parse({"limit": "5", "sort": "date", "cursor": nxt}))


def test_the_lookups_rebuild_keeps_the_search_index(tmp_path):
    """Schema 3 rebuilds lookups (same rowids): the FTS index still finds the old rows and
    its triggers follow the new table."""
    db = tmp_path / "db.sqlite3"
    store = ModelStore(db)
    seed(store, 60)
    want = store.total(Query(q="anime"))
    conn = store.lister.conn
    undo(conn, 10, 9, 8, 7, 6, 5, 4)  # 10-8 (packing), 7 (tallies), 6, 5, 4 (verdicts)
    for column in ("detected", "detected_kind", "detected_base"):
        conn.execute(f"ALTER TABLE files DROP COLUMN {column}")
    conn.execute("UPDATE schema_version SET version = 2 WHERE component = 'model_store'")
    store.close()
    store = ModelStore(db)
    assert store.lister.fts and store.total(Query(q="anime")) == want > 0
    like = Lister(store.lister.conn, fts=False)
    assert like.total(Query(q="anime")) == want
    store.save_outcome(sha(7), "identified", {"model_name": "Platypus"})
    assert store.total(Query(q="platypus")) == 1
    # schema 10: WITHOUT ROWID, and the copy triggers its rebuild dropped are made again
    with pytest.raises(sqlite3.OperationalError):
        store.lister.conn.execute("SELECT rowid FROM lookups")
    found = store.page(Query(q="platypus", limit=5))[0]
    assert [r["status"] for r in found] == ["identified"]
    assert store.page(Query(sort="model", limit=1))[0][0]["civitai_info"]["model_name"]
    store.close()


def test_status_counts_follow_every_write(tmp_path):
    """GET status's counts (the tallies over files.lookup_status, both kept by triggers)
    always equal the records' own statuses (tests/test_store_tallies.py: any writes)."""
    store = ModelStore(tmp_path / "db.sqlite3")
    seed(store, 300)

    def check(step):
        want = dict.fromkeys(store_mod.STATUSES, 0)
        want.update(Counter(r["status"] for r in store.list_records()))
        assert store.counts() == want, step
        every = Counter(r["status"] for r in store.list_records(include_missing=True))
        assert {k: v for k, v in store.counts(include_missing=True).items() if v} == every, step

    check("seeded")
    store.set_pending([sha(1), sha(2), sha(299)])
    check("pending")
    store.set_pending(None, False)
    store.save_outcome(sha(12), "identified", {"model_name": "Now known"})  # was unknown
    store.save_outcome(sha(15), "unknown")  # was error
    check("outcomes")
    store.mark_missing(["/m/loras/" + n for n in _names(store, "loras")[:7]])
    check("missing")
    first = store.list_records(status="identified")[0]
    store.save_files([FileUpdate(f"/m/{first['folder']}/{first['name']}", first["folder"],
                                 first["name"], (1, 1, 1, 1), {"SHA256": sha(777)})])  # fmt: skip
    check("rehashed to an unknown SHA256")
    store.save_files([FileUpdate("/m/other/broken.safetensors", "other", "broken.safetensors",
                                 (1, 2, 3, 4), None, "Truncated header.")])  # fmt: skip
    check("broken file")
    store.lister.conn.execute("DELETE FROM lookups WHERE sha256 = ?", (sha(0),))
    check("lookup deleted")
    store.close()
