"""connect_db: WAL, busy timeout, versioned schema, and a corrupt file moved aside."""

import logging
import os
import sqlite3

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


def test_a_locked_database_is_not_moved_aside(db, tmp_path):
    path = tmp_path / "x.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
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
    assert db.get_schema_version(conn, "hash_cache") == 1
    with conn:  # an unknown version: the cache table is rebuilt, other tables untouched
        db.set_schema_version(conn, "hash_cache", 99)
        db.set_schema_version(conn, "model_store", 7)
    conn.close()
    hashing.HashCache(path).close()
    conn = hashing.connect_db(path)
    assert db.get_schema_version(conn, "hash_cache") == 1
    assert db.get_schema_version(conn, "model_store") == 7
    conn.close()
