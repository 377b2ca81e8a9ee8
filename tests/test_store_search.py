"""The listing's search index (nodes/store/fts.py): one FTS5 table over file names and
their lookups' search text, kept by triggers for every writer."""

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packload import pack_module
from test_store_query import FileUpdate, ModelStore, Query, keys_of, seed, sha

fts = pack_module("nodes.store.fts")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    store = ModelStore(tmp_path_factory.mktemp("search") / "db.sqlite3")
    seed(store, 600)
    yield store
    store.close()


def test_fts_follows_every_write(tmp_path):
    store = ModelStore(tmp_path / "db.sqlite3")
    seed(store, 40)
    found = lambda q: keys_of(store.page(Query(q=q, limit=1000))[0])  # noqa: E731
    assert not found("zebra")
    store.save_files([FileUpdate("/m/loras/zebra.safetensors", "loras", "Zebra.safetensors",
                                 (1, 999, 1, 1), {"SHA256": sha(999)})])  # fmt: skip
    assert found("zebra") == {("loras", "Zebra.safetensors")}
    store.save_outcome(sha(3), "identified", {"model_name": "Quokka Deluxe"})
    assert len(found("quokka")) == 1
    store.save_outcome(sha(3), "identified", {"model_name": "Wombat"})
    assert not found("quokka") and len(found("wombat")) == 1
    store.close()


def test_a_word_is_one_fts_match_that_never_reads_lookups(seeded):
    """q walks ``files`` and one FTS table keyed by its rowids: mapping 90,000 matching
    lookups back to their files by SHA256 was most of a search's time at 100,000."""
    where, params = seeded.lister.where(Query(q="anime"))
    plan = seeded.lister.conn.execute(
        "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM files AS f WHERE " + " AND ".join(where), params
    ).fetchall()
    detail = " ".join(r[-1] for r in plan)
    assert fts.TABLE in detail and "lookups" not in detail, detail


def test_the_search_index_follows_duplicates_and_forgotten_links(tmp_path):
    store = ModelStore(tmp_path / "db.sqlite3")
    twin = "C" * 64
    store.save_files(
        [
            FileUpdate(f"/m/{f}/a.safetensors", f, "a.safetensors", (1, i, 1, 1), {"SHA256": twin})
            for i, f in enumerate(("loras", "other"))
        ]
    )
    found = lambda q: keys_of(store.page(Query(q=q, limit=100))[0])  # noqa: E731
    assert not found("kangaroo")
    store.save_outcome(twin, "identified", {"model_name": "Kangaroo", "matched_by": "manual"})
    assert found("kangaroo") == {("loras", "a.safetensors"), ("other", "a.safetensors")}
    assert store.forget_manual(twin)
    assert not found("kangaroo") and len(found("a.safe")) == 2
    store.close()


def test_the_two_table_search_index_of_older_stores_is_replaced(tmp_path):
    """A store written before one table held both columns (files_fts + lookups_fts)."""
    db = tmp_path / "db.sqlite3"
    store = ModelStore(db)
    seed(store, 60)
    want = store.total(Query(q="anime"))
    conn = store.lister.conn
    conn.execute(f"DROP TABLE {fts.TABLE}")
    for name in fts._TRIGGERS:
        conn.execute(f"DROP TRIGGER {name}")
    for table, column in (("files_fts", "name"), ("lookups_fts", "search_text")):
        conn.execute(f"CREATE VIRTUAL TABLE {table} USING fts5({column}, tokenize='trigram')")
        conn.execute(f"CREATE TRIGGER {table}_ai AFTER INSERT ON files BEGIN SELECT 1; END")
    conn.commit()
    store.close()
    store = ModelStore(db)
    names = {r[0] for r in store.lister.conn.execute("SELECT name FROM sqlite_master")}
    assert not {n for n in names if n.startswith(("files_fts", "lookups_fts"))}
    assert store.lister.fts and store.total(Query(q="anime")) == want > 0
    store.close()


@pytest.mark.parametrize("small", [0, 10**9])
def test_both_page_plans_give_the_like_fallbacks_rows(seeded, monkeypatch, small):
    """A page walks the sort index (a word matching many files) or starts from the search
    index's matches (a rare word): the same rows, totals and facets either way."""
    query_mod = pack_module("nodes.store.query")
    monkeypatch.setattr(query_mod, "SMALL_MATCH", small)
    like = query_mod.Lister(seeded.lister.conn, fts=False)
    for q in ("anime", "ANIME style", "ink ink", "_0001 dream", "v2.0", "nothing", "ink/ sty"):
        for sort in ("name", "-downloads", "size"):
            query = Query(q=q, sort=sort, limit=50)
            assert like.rows(query) == seeded.lister.rows(query), (q, sort)
        assert like.total(Query(q=q)) == seeded.lister.total(Query(q=q)), q
        cursor, pages = None, 0
        while pages < 4:  # keyset paging follows the same rows
            query = Query(q=q, sort="name", limit=7, cursor=cursor)
            got = seeded.lister.rows(query)
            assert like.rows(query) == got, q
            cursor, pages = got[1], pages + 1
            if cursor is None:
                break
        assert like.facets(Query(q=q)) == seeded.lister.facets(Query(q=q)), q


def test_a_rare_word_starts_from_its_matches(seeded):
    """Counting a word's 1 match probed every file (16 ms at 100,000); now it starts from
    the search index, so the count does not grow with the library."""
    source, params, driven = seeded.lister.source(Query(q="_00012"))
    where, more = seeded.lister.where(Query(q="_00012"), driven=driven)
    plan = seeded.lister.conn.execute(
        f"EXPLAIN QUERY PLAN SELECT COUNT(*) FROM {source} WHERE " + " AND ".join(where),
        params + more,
    ).fetchall()
    assert driven == "_00012" and fts.TABLE in plan[0][-1], plan
    assert seeded.lister.total(Query(q="_00012")) == 1


def test_writes_go_on_after_another_connection_changes_the_schema(tmp_path):
    """SQLite 3.40 answers "no such table: files" to the first upsert whose trigger feeds
    the FTS5 table when another connection changed the schema since this one opened (the
    hash cache making its table in the same file, a newer CLI adding one). The store
    connects the index when it opens, so that first write of a scan is not lost."""
    db = tmp_path / "db.sqlite3"
    ModelStore(db).close()
    store = ModelStore(db)
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("CREATE TABLE someone_elses (x)")
    other.close()
    store.save_files([FileUpdate("/m/loras/a.safetensors", "loras", "a.safetensors",
                                 (1, 1, 1, 1), {"SHA256": sha(1)})])  # fmt: skip
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("CREATE TABLE someone_elses_too (x)")
    other.close()
    store.save_outcome(sha(1), "identified", {"model_name": "Quokka"})
    assert keys_of(store.page(Query(q="quokka", limit=10))[0]) == {("loras", "a.safetensors")}
    store.close()


def integrity_ok(store) -> None:
    """FTS5 checks its index against the view it reads (raises when they disagree)."""
    conn = store.lister.conn
    conn.execute(f"INSERT INTO {fts.TABLE} ({fts.TABLE}, rank) VALUES ('integrity-check', 1)")


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("rsiudf"), st.integers(0, 5), st.integers(0, 3)),
                max_size=30))  # fmt: skip
def test_the_index_holds_only_what_the_files_and_lookups_say(tmp_path_factory, steps):
    """The index keeps no copy of the text (external content, ~8 MB at 100,000 files): what
    a trigger takes out must be what went in, through renames, re-hashes, new, changed
    and forgotten lookups and forgotten files, in any order."""
    store = ModelStore(tmp_path_factory.mktemp("fts") / "db.sqlite3")
    names = ["koala", "emu", "wombat", "dingo", "quoll", "numbat"]
    like = pack_module("nodes.store.query").Lister(store.lister.conn, fts=False)
    for op, n, k in steps:
        path = f"/m/loras/{n}.safetensors"
        if op in "rs":  # a file (re)named, or (re)hashed to another content
            name = f"{names[n]}_{k}.safetensors" if op == "r" else f"{n}.safetensors"
            store.save_files([FileUpdate(path, "loras", name, (1, n, 1, k), {"SHA256": sha(k)})])
        elif op == "i":  # identified (again: other words)
            store.save_outcome(sha(k), "identified", {"model_name": f"{names[n]} deluxe {k}",
                                                       "matched_by": "manual"})  # fmt: skip
        elif op == "u":
            store.save_outcome(sha(k), "unknown")
        elif op == "d":
            store.forget_manual(sha(k))
        else:
            store.lister.conn.execute("DELETE FROM files WHERE path = ?", (path,))
        integrity_ok(store)
    for q in ("koala", "deluxe", "wombat_1", ".safe", "emu deluxe 2"):
        query = Query(q=q, limit=100, include_missing=True)
        assert like.rows(query) == store.lister.rows(query), q
    store.close()


def test_the_index_that_kept_its_own_copy_is_replaced(tmp_path):
    """Schema 7's files_search_fts held a copy of every name and search text."""
    db = tmp_path / "db.sqlite3"
    store = ModelStore(db)
    seed(store, 60)
    want = keys_of(store.page(Query(q="anime", limit=100))[0])
    conn = store.lister.conn
    conn.execute(f"DROP TABLE {fts.TABLE}")
    conn.execute(f"DROP VIEW {fts.SOURCE}")
    for name in fts._TRIGGERS:
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute("CREATE VIRTUAL TABLE files_search_fts USING fts5(name, search, "
                 "tokenize='trigram', detail='full')")  # fmt: skip
    conn.execute(
        "CREATE TRIGGER files_search_fts_files_ai AFTER INSERT ON files BEGIN "
        "INSERT INTO files_search_fts (rowid, name) VALUES (new.rowid, new.name); END"
    )
    store.close()
    store = ModelStore(db)
    names = {r[0] for r in store.lister.conn.execute("SELECT name FROM sqlite_master")}
    assert not {n for n in names if n.startswith("files_search_fts")}
    assert keys_of(store.page(Query(q="anime", limit=100))[0]) == want and want
    integrity_ok(store)
    store.close()


def test_a_searchs_total_is_its_rows_and_is_counted_once(seeded):
    """A total with ``q`` and menu filters comes from the search's facet groups (kept
    until the store changes): the same number as its rows, and a second page, the facets
    and another menu value under the same search count nothing again."""
    lister = seeded.lister
    for q in ("anime", "ink ink", "_0001", "v2.0", "nothing"):
        for filters in ({}, {"category": "loras"}, {"status": "identified", "base_model": "Pony"}):
            query = Query(q=q, filters=filters)
            assert lister.total(query) == len(lister.rows(query)[0]), (q, filters)
    lister.facets(Query(q="style"))  # the panel asks the facets of its search
    statements = []
    lister.conn.set_trace_callback(statements.append)
    try:
        for category in ("loras", "checkpoints", None):
            lister.total(Query(q="style", filters={"category": category}, offset=50))
    finally:
        lister.conn.set_trace_callback(None)
    assert not [s for s in statements if "COUNT(" in s or "GROUP BY" in s], statements
