"""Broken model files are records with status error on every path (fresh hash, hash-cache
hit, store hit); only what is not a file is skipped; identities outside SQLite's range are
folded once."""

import os
import socket
import types

import pytest
from models_tree import build_models_tree, open_scanner, safetensors_bytes
from packload import pack_module

hashing = pack_module("hashing")
discover = pack_module("nodes.scan.discover")
TRUNCATED = safetensors_bytes(21)[:300]


async def test_a_truncated_file_stays_an_error_after_a_rename(tmp_path):
    root = tmp_path / "models"
    build_models_tree(root)
    (root / "cut.safetensors").write_bytes(TRUNCATED)
    async with open_scanner(root, tmp_path / "db") as (scanner, store, _):
        await scanner.scan(identify="none")
        os.rename(root / "cut.safetensors", root / "renamed.safetensors")
        summary = await scanner.scan(identify="none")  # a hash-cache hit: nothing read
        records = {r["name"]: r for r in store.list_records()}
    assert summary["files_hashed"] == 0
    assert records["renamed.safetensors"]["status"] == "error"
    assert records["renamed.safetensors"]["error"].startswith("Truncated safetensors file")
    assert summary["by_status"]["error"] == 1
    assert [e["name"] for e in summary["errors"]] == ["renamed.safetensors"]


async def test_a_file_hashed_by_the_hash_command_is_still_checked(tmp_path):
    root = tmp_path / "models"
    root.mkdir()
    (root / "cut.safetensors").write_bytes(TRUNCATED)
    async with open_scanner(root, tmp_path / "db") as (scanner, store, _):
        scanner.cache.get_or_hash(root / "cut.safetensors")  # what `python3 . hash` does
        summary = await scanner.scan(identify="none")
        again = await scanner.scan(identify="none")  # store hit: the error is kept
        record = store.list_records()[0]
    assert summary["files_hashed"] == 0 and record["status"] == "error"
    assert [e["name"] for e in again["errors"]] == ["cut.safetensors"]


async def test_identify_of_a_renamed_truncated_or_empty_file_is_an_error(tmp_path):
    root = tmp_path / "models"
    root.mkdir()
    (root / "cut.safetensors").write_bytes(TRUNCATED)
    (root / "empty.ckpt").write_bytes(b"")
    async with open_scanner(root, tmp_path / "db") as (scanner, _store, _):
        scanner.cache.get_or_hash(root / "cut.safetensors")
        cut = await scanner.identify("other", "cut.safetensors")
        empty = await scanner.identify("other", "empty.ckpt")
    assert cut["status"] == "error" and cut["error"].startswith("Truncated safetensors")
    assert empty["status"] == "error" and empty["error"].startswith("Empty file (0 bytes)")


async def test_only_things_that_are_not_files_are_skipped_each_with_a_reason(tmp_path):
    root = tmp_path / "models"
    root.mkdir()
    (root / "good.safetensors").write_bytes(safetensors_bytes(22))
    (root / "empty.pt").write_bytes(b"")
    os.mkfifo(root / "pipe.safetensors")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(root / "sock.ckpt"))
    (root / "folder.safetensors").mkdir()
    (root / "folder.safetensors" / "inner.safetensors").write_bytes(safetensors_bytes(23))
    os.symlink("loop.pt", root / "loop.pt")
    try:
        async with open_scanner(root, tmp_path / "db") as (scanner, store, _):
            summary = await scanner.scan(identify="none")
            records = {r["name"]: r for r in store.list_records()}
    finally:
        sock.close()
    skipped = {os.path.basename(s["path"]): s["reason"] for s in summary["skipped"]}
    assert skipped == {
        "pipe.safetensors": "not a regular file (a pipe, socket or device)",
        "sock.ckpt": "not a regular file (a pipe, socket or device)",
        "folder.safetensors": "a directory, not a model file (its contents are scanned)",
        "loop.pt": "symlink loop",
    }
    assert set(records) == {"good.safetensors", "empty.pt", "folder.safetensors/inner.safetensors"}
    assert records["empty.pt"]["status"] == "error"
    assert summary["by_status"]["error"] == 1 and summary["files_total"] == 3


class _ShiftedOs:
    """``os`` as a FUSE filesystem shows it: every inode number ≥ 2**63."""

    SHIFT = 1 << 63

    def __init__(self, real):
        self._real = real

    def __getattr__(self, name):
        return getattr(self._real, name)

    def _shift(self, st):
        fields = {k: getattr(st, k) for k in dir(st) if k.startswith("st_")}
        fields["st_ino"] = st.st_ino + self.SHIFT
        return types.SimpleNamespace(**fields)

    def stat(self, *a, **k):
        return self._shift(self._real.stat(*a, **k))

    def fstat(self, *a, **k):
        return self._shift(self._real.fstat(*a, **k))

    def scandir(self, path):
        shift = self._shift

        class Entries:
            def __init__(self):
                self._it = self_real_scandir(path)

            def __enter__(self):
                return [_Entry(e, shift) for e in self._it.__enter__()]

            def __exit__(self, *exc):
                return self._it.__exit__(*exc)

        self_real_scandir = self._real.scandir
        return Entries()


class _Entry:
    def __init__(self, entry, shift):
        self._e, self._shift = entry, shift
        self.name, self.path = entry.name, entry.path

    def stat(self):
        return self._shift(self._e.stat())

    def is_dir(self):
        return self._e.is_dir()

    def is_symlink(self):
        return self._e.is_symlink()


@pytest.fixture
def huge_inodes(monkeypatch):
    shifted = _ShiftedOs(os)
    for module in ("hashing.identity", "hashing.engine", "nodes.scan.discover"):
        monkeypatch.setattr(pack_module(module), "os", shifted)
    return shifted


async def test_inodes_past_2_63_are_folded_once_and_rescans_read_nothing(tmp_path, huge_inodes):
    tree = build_models_tree(tmp_path / "models")
    async with open_scanner(tree.root, tmp_path / "db") as (scanner, store, _):
        first = await scanner.scan(identify="none")
        again = await scanner.scan(identify="none")
        records = store.list_records()
    assert first["files_hashed"] == len(tree.files) and not first["errors"]
    assert again["files_hashed"] == 0  # the stored key matches the folded stat
    assert len(records) == len(tree.files)
    key = hashing.identity_key((1, (1 << 64) - 5, 3, 4))
    assert key == (1, -5, 3, 4) and hashing.identity_key(key) == key  # idempotent


def test_the_hash_cache_and_the_store_share_the_one_fold(tmp_path):
    big = hashing.FileIdentity(2**64 - 1, 2**63, 10, 5)
    assert big.key == (-1, -(2**63), 10, 5)
    assert hashing.identity_key(big) == big.key


async def test_an_unreadable_file_on_a_cache_hit_is_an_error(tmp_path, monkeypatch):
    import errno

    root = tmp_path / "models"
    root.mkdir()
    locked = root / "locked.ckpt"
    locked.write_bytes(b"weights" * 10)
    real_open = os.open

    def refuse(path, *args, **kwargs):  # root reads everything: refuse as EACCES would
        if os.fspath(path) == str(locked):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_open(path, *args, **kwargs)

    async with open_scanner(root, tmp_path / "db") as (scanner, store, _):
        scanner.cache.get_or_hash(locked)  # hashed earlier (`hash`), unreadable since
        monkeypatch.setattr(os, "open", refuse)
        summary = await scanner.scan(identify="none")
        monkeypatch.undo()
        record = store.list_records()[0]
    assert summary["files_hashed"] == 0
    assert record["status"] == "error" and "permission denied" in record["error"]
