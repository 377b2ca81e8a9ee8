"""connect_db: WAL, busy timeout, versioned schema, and a corrupt file moved aside."""

import logging
import os
import sqlite3
import threading

import pytest
from packload import pack_module


@pytest.fixture
def db():
    return pack_module("hashing.db")


def test_creates_parents_wal_and_settings(db, tmp_path):
    path = tmp_path / "a" / "b" / "x.sqlite"
    conn = db.connect_db(path)
    assert path.exists()
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    assert db.get_schema_version(conn, "anything") is None
    with conn:
        db.set_schema_version(conn, "anything", 3)
        db.set_schema_version(conn, "anything", 4)
    assert db.get_schema_version(conn, "anything") == 4
    conn.close()


def test_not_a_database_is_moved_aside(db, tmp_path, caplog):
    path = tmp_path / "x.sqlite"
    path.write_bytes(b"this is not a database, just some text " * 100)
    (tmp_path / "x.sqlite-wal").write_bytes(b"junk")
    with caplog.at_level(logging.WARNING):
        conn = db.connect_db(path)
    assert conn.execute("PRAGMA quick_check").fetchone() == ("ok",)
    conn.close()
    # (SQLite itself may already have discarded the junk -wal; it is moved along if not.)
    moved = [n for n in os.listdir(tmp_path) if ".corrupt-" in n and not n.endswith("-wal")]
    assert len(moved) == 1
    assert any("moved to" in r.getMessage() and str(path) in r.getMessage() for r in caplog.records)
    assert (tmp_path / moved[0]).read_bytes().startswith(b"this is not a database")


def test_damaged_pages_are_moved_aside(db, tmp_path):
    path = tmp_path / "x.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (a TEXT)")
    conn.execute("CREATE INDEX ti ON t (a)")
    conn.executemany("INSERT INTO t VALUES (?)", [(str(i) * 20,) for i in range(5000)])
    conn.commit()
    conn.close()
    data = bytearray(path.read_bytes())
    data[4096 * 3 : 4096 * 6] = os.urandom(4096 * 3)  # pages 4-6: table/index b-tree pages
    path.write_bytes(bytes(data))
    conn = db.connect_db(path)
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 't'").fetchone() is None
    conn.close()
    assert any(".corrupt-" in n for n in os.listdir(tmp_path))


def test_hash_cache_survives_a_corrupt_database(tmp_path):
    hashing = pack_module("hashing")
    path = tmp_path / "cache.sqlite"
    path.write_bytes(os.urandom(8192))
    model = tmp_path / "m.bin"
    model.write_bytes(b"hello world")
    with hashing.HashCache(path) as c:
        assert c.get_or_hash(model).hashes["CRC32"] == "85114A0D"
        assert c.get_or_hash(model).bytes_read == 0


def test_quick_check_reads_a_file_once_per_process(db, tmp_path, monkeypatch):
    """Each worker thread opens its own connection: checking the whole file every time
    cost ~1 s per connection at 100,000 records."""
    calls = []
    real = db._quick_check
    monkeypatch.setattr(db, "_quick_check", lambda conn: calls.append(1) or real(conn))
    for _ in range(3):
        db.connect_db(tmp_path / "a.sqlite").close()
    assert len(calls) == 1
    db.connect_db(tmp_path / "b.sqlite").close()
    assert len(calls) == 2
    conns = db.ThreadConnections(tmp_path / "b.sqlite")

    threads = [threading.Thread(target=conns.get) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    conns.close()
    assert len(calls) == 2  # four threads, one file already checked


def test_a_locked_database_is_not_moved_aside(db, tmp_path):
    path = tmp_path / "x.sqlite"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE t (a)")
    holder.execute("BEGIN EXCLUSIVE")  # rollback-journal mode: nobody else may even read
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        db.connect_db(path, timeout=0.2)
    holder.execute("ROLLBACK")
    holder.close()
    assert not any(".corrupt-" in n for n in os.listdir(tmp_path))
    db.connect_db(path).close()


def test_hash_cache_version_is_recorded(tmp_path):
    hashing = pack_module("hashing")
    db = pack_module("hashing.db")
    path = tmp_path / "x.sqlite"
    hashing.HashCache(path).close()
    conn = hashing.connect_db(path)
    assert db.get_schema_version(conn, "hash_cache") == max(hashing.cache.MIGRATIONS) == 4
    conn.close()


def test_nested_transaction_raises_and_keeps_the_outer_one_atomic(db, tmp_path):
    conn = db.connect_db(tmp_path / "x.sqlite")
    conn.execute("CREATE TABLE t (a INTEGER)")
    with pytest.raises(db.NestedTransactionError, match="inside another"):
        with db.transaction(conn):
            conn.execute("INSERT INTO t VALUES (1)")
            with db.transaction(conn):
                conn.execute("INSERT INTO t VALUES (2)")
    # The outer transaction was rolled back as a whole, not committed half-way.
    assert conn.execute("SELECT COUNT(*) FROM t").fetchone() == (0,)
    assert not conn.in_transaction
    with db.transaction(conn):
        conn.execute("INSERT INTO t VALUES (3)")
    assert conn.execute("SELECT a FROM t").fetchall() == [(3,)]
    conn.close()


def test_connections_are_autocommit_so_only_transaction_opens_one(db, tmp_path):
    conn = db.connect_db(tmp_path / "x.sqlite")
    conn.execute("CREATE TABLE t (a INTEGER)")
    conn.execute("INSERT INTO t VALUES (1)")
    assert not conn.in_transaction  # Python opened no implicit transaction
    conn.close()


def test_migrate_runs_each_new_version_once_in_order(db, tmp_path):
    conn = db.connect_db(tmp_path / "x.sqlite")
    steps = {1: ["CREATE TABLE t (a INTEGER)"]}
    assert db.migrate(conn, "thing", steps) == 1
    assert db.migrate(conn, "thing", steps) == 1  # nothing to do the second time
    seen = []
    steps[2] = ["ALTER TABLE t ADD COLUMN b TEXT", lambda c: seen.append(c.in_transaction)]
    assert db.migrate(conn, "thing", steps) == 2
    assert seen == [True]  # a function step runs inside the version's transaction
    assert [r[1] for r in conn.execute("PRAGMA table_info(t)")] == ["a", "b"]
    assert db.get_schema_version(conn, "thing") == 2
    with pytest.raises(ValueError, match="without gaps"):
        db.migrate(conn, "other", {1: [], 3: []})
    conn.close()


def test_a_table_rebuild_passes_triggers_of_other_tables_that_name_it(db, tmp_path):
    """SQLite's table rebuild (create new, copy, drop old, rename new) while a trigger on
    another table reads the old one (the search index's trigger on files reads lookups)."""
    conn = db.connect_db(tmp_path / "x.sqlite")
    steps = {1: ["CREATE TABLE a (x)", "CREATE TABLE b (y)", "CREATE TABLE log (z)",
                 "CREATE TRIGGER a_ai AFTER INSERT ON a BEGIN "
                 "INSERT INTO log SELECT count(*) FROM b; END"]}  # fmt: skip
    db.migrate(conn, "thing", steps)
    steps[2] = ["CREATE TABLE b2 (y, w)", "INSERT INTO b2 (y) SELECT y FROM b",
                "DROP TABLE b", "ALTER TABLE b2 RENAME TO b"]  # fmt: skip
    assert db.migrate(conn, "thing", steps) == 2
    conn.execute("INSERT INTO b (y) VALUES (1)")
    conn.execute("INSERT INTO a (x) VALUES (1)")
    assert conn.execute("SELECT z FROM log").fetchall() == [(1,)]
    assert conn.execute("PRAGMA legacy_alter_table").fetchone()[0] == 0  # restored
    conn.close()


def test_a_version_another_process_ran_meanwhile_is_not_run_again(db, tmp_path, monkeypatch):
    # Two processes open a new store at once (a CLI scan starting beside ComfyUI): both read
    # "version 1"; the first runs version 2; the second must see that under the write lock.
    path = tmp_path / "x.sqlite"
    steps = {1: ["CREATE TABLE t (a INTEGER)"], 2: ["ALTER TABLE t ADD COLUMN b TEXT"]}
    first, second = db.connect_db(path), db.connect_db(path)
    db.migrate(first, "thing", {1: steps[1]})
    real = db.get_schema_version
    reads = []

    def stale_first_read(conn, component):
        reads.append(component)
        if len(reads) == 1:  # what the second process read before the first one migrated
            version = real(conn, component)
            db.migrate(first, "thing", steps)
            return version
        return real(conn, component)

    monkeypatch.setattr(db, "get_schema_version", stale_first_read)
    assert db.migrate(second, "thing", steps) == 2  # no "duplicate column name: b"
    assert [r[1] for r in second.execute("PRAGMA table_info(t)")] == ["a", "b"]
    first.close()
    second.close()


def test_a_failed_migration_leaves_the_previous_version(db, tmp_path):
    conn = db.connect_db(tmp_path / "x.sqlite")
    db.migrate(conn, "thing", {1: ["CREATE TABLE t (a INTEGER)"]})
    with pytest.raises(sqlite3.OperationalError):
        db.migrate(conn, "thing", {1: [], 2: ["ALTER TABLE t ADD COLUMN b", "SELECT nope"]})
    assert db.get_schema_version(conn, "thing") == 1
    assert [r[1] for r in conn.execute("PRAGMA table_info(t)")] == ["a"]
    conn.close()


def test_journal_mode_and_busy_timeout_are_parameters(db, tmp_path):
    conn = db.connect_db(tmp_path / "x.sqlite", timeout=2.5, journal_mode="delete")
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    assert conn.execute("PRAGMA busy_timeout").fetchone() == (2500,)
    conn.close()
    with pytest.raises(ValueError, match="journal_mode"):
        db.connect_db(tmp_path / "y.sqlite", journal_mode="memory")


def test_a_connection_per_thread(db, tmp_path):
    import threading

    conns = db.ThreadConnections(tmp_path / "x.sqlite", timeout=5)
    mine = conns.get()
    assert conns.get() is mine
    other = []
    t = threading.Thread(target=lambda: other.append(conns.get()))
    t.start()
    t.join()
    assert other[0] is not mine
    assert other[0].execute("PRAGMA busy_timeout").fetchone() == (5000,)
    conns.close()
    with pytest.raises(sqlite3.ProgrammingError):
        mine.execute("SELECT 1")


def _bump(path, component, version):
    conn = sqlite3.connect(path)
    conn.execute("UPDATE schema_version SET version = ? WHERE component = ?", (version, component))
    conn.commit()
    conn.close()


def _rows(path, table):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"SELECT * FROM {table}").fetchall()
    finally:
        conn.close()


def test_a_newer_schema_is_refused_by_both_users_and_loses_nothing(tmp_path):
    hashing = pack_module("hashing")
    store_mod = pack_module("nodes.store")
    path = tmp_path / "shared.sqlite3"
    model = tmp_path / "m.bin"
    model.write_bytes(b"hello world")
    with hashing.HashCache(path) as cache:
        cache.get_or_hash(model)
    store = store_mod.ModelStore(path)
    store.save_files([store_mod.FileUpdate(str(model), "loras", "m.bin", (1, 2, 11, 3))])
    store.close()
    cached, files = _rows(path, "hash_cache"), _rows(path, "files")
    assert len(cached) == 1 and len(files) == 1

    for component, user in (
        ("hash_cache", hashing.HashCache),
        ("model_store", store_mod.ModelStore),
    ):
        _bump(path, component, 99)
        with pytest.raises(hashing.SchemaTooNewError) as refused:
            user(path)
        sentence = str(refused.value)
        assert "newer version of CivitAI Identify" in sentence and str(path) in sentence
        assert "schema 99" in sentence
        # Refused, not rebuilt: every row of both users is still there, versions unchanged.
        assert _rows(path, "hash_cache") == cached and _rows(path, "files") == files
        conn = sqlite3.connect(path)
        assert conn.execute(
            "SELECT version FROM schema_version WHERE component = ?", (component,)
        ).fetchone() == (99,)
        conn.close()
        _bump(path, component, 1)


def test_hash_command_hashes_without_a_newer_cache_and_leaves_it(tmp_path):
    import json
    import subprocess
    import sys

    from packload import PACK_DIR

    hashing = pack_module("hashing")
    path = tmp_path / "shared.sqlite3"
    model = tmp_path / "m.bin"
    model.write_bytes(b"hello world")
    hashing.HashCache(path).close()
    _bump(path, "hash_cache", 99)
    run = subprocess.run(
        [sys.executable, str(PACK_DIR), "hash", "--db", str(path), str(model)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["CRC32"] == "85114A0D"
    assert "newer version of CivitAI Identify" in run.stderr
    assert _rows(path, "hash_cache") == []  # nothing written into the newer cache either


def test_opening_waits_while_another_connection_holds_the_file(db, tmp_path):
    """Opening waits (up to ``timeout``) while another connection has the file to itself.
    The race this guards, two processes opening a NEW store at once (SQLite answering
    "database is locked" at once while switching the journal mode), is exercised by
    tests/test_two_processes_store.py's two CLI scans."""
    path = tmp_path / "new.sqlite"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(0.3, holder.execute, ("COMMIT",))
    release.start()
    try:
        conn = db.connect_db(path, timeout=10)
    finally:
        release.join()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    holder.close()
