"""A store on a network volume: a rollback journal instead of WAL (one log line why), and a
filesystem without working locks is a sentence, never a moved-aside or corrupt store."""

import logging
import sqlite3

import pytest
from packload import pack_module


@pytest.fixture
def mounts(tmp_path, monkeypatch):
    """A fake /proc/mounts: tmp/vol is NFS, tmp/sshfs dir (with a space) is FUSE."""
    netfs = pack_module("hashing.netfs")
    table = tmp_path / "mounts"
    space = str(tmp_path / "my dir").replace(" ", "\\040")
    table.write_text(
        "/dev/sda1 / ext4 rw,relatime 0 0\n"
        f"overlay {tmp_path} overlay rw 0 0\n"
        f"server:/export {tmp_path}/vol nfs4 rw,vers=4.2 0 0\n"
        f"me@host:/x {space} fuse.sshfs rw 0 0\n"
        f"/dev/sdb1 {tmp_path}/vol/local ext4 rw 0 0\n"
    )
    monkeypatch.setattr(netfs, "MOUNTS", str(table))
    return netfs


def test_network_mounts_are_told_from_local_ones(tmp_path, mounts):
    assert mounts.network_fs_type(tmp_path / "vol" / "ComfyUI" / "db.sqlite3") == "nfs4"
    assert mounts.network_fs_type(tmp_path / "vol" / "db.sqlite3") == "nfs4"
    assert mounts.network_fs_type(tmp_path / "my dir" / "db.sqlite3") == "fuse.sshfs"
    assert mounts.network_fs_type(tmp_path / "vol" / "local" / "db.sqlite3") is None
    assert mounts.network_fs_type(tmp_path / "volume" / "db.sqlite3") is None  # not vol/
    assert mounts.network_fs_type(tmp_path / "db.sqlite3") is None


def test_a_store_on_nfs_uses_a_rollback_journal_and_says_why_once(tmp_path, mounts, caplog):
    caplog.set_level(logging.INFO)
    path = tmp_path / "vol" / "user" / "civitai-identify.sqlite3"
    store = pack_module("nodes.store").ModelStore(path)
    cache = pack_module("hashing").HashCache(path)
    try:
        for conn in (store._conn, cache._conn):
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert sum(store.counts().values()) == 0  # the store works in that mode
    finally:
        cache.close()
        store.close()
    why = [r for r in caplog.records if "network filesystem (nfs4)" in r.getMessage()]
    assert len(why) == 1 and "rollback journal" in why[0].getMessage()
    assert not (tmp_path / "vol" / "user" / "civitai-identify.sqlite3-wal").exists()
    local = pack_module("hashing").connect_db(tmp_path / "local.sqlite3")
    assert local.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    local.close()


def test_a_filesystem_without_locks_is_a_sentence_and_the_file_stays(tmp_path, monkeypatch):
    db = pack_module("hashing.db")
    path = tmp_path / "store.sqlite3"
    db.connect_db(path).close()
    before = path.read_bytes()

    def no_locks(*_args):
        exc = sqlite3.OperationalError("locking protocol")
        exc.sqlite_errorcode = 15  # SQLITE_PROTOCOL
        raise exc

    monkeypatch.setattr(db, "_open_checked", no_locks)
    with pytest.raises(db.StoreLockError, match=r"cannot be locked .*local disk"):
        db.connect_db(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if "corrupt" in p.name] == []
