"""HashCache: an unchanged file is never read again; a changed one always is."""

import os
import subprocess
import sys
import textwrap
import threading

import pytest
from packload import PACK_DIR, pack_module
from test_hashing_vectors import gen, safetensors

MiB = 1024 * 1024


@pytest.fixture
def engine():
    return pack_module("hashing.engine")


@pytest.fixture
def cache(tmp_path):
    c = pack_module("hashing").HashCache(tmp_path / "db" / "cache.sqlite")
    yield c
    c.close()


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "models" / "m.safetensors"
    path.parent.mkdir()
    path.write_bytes(safetensors({"n": "1"}, gen("model", 2 * MiB + 100)))
    return path


@pytest.fixture
def no_reads(engine, monkeypatch):
    """After this fixture is used, opening any file for hashing fails the test."""

    def refuse():
        def fail(path):
            raise AssertionError(f"{path} was opened although its hashes are cached")

        monkeypatch.setattr(engine, "_open", fail)

    return refuse


def test_second_hash_of_an_unchanged_file_reads_nothing(cache, model, no_reads):
    first = cache.get_or_hash(model)
    assert first.bytes_read == first.size > 0
    no_reads()
    second = cache.get_or_hash(model)
    assert second.bytes_read == 0
    assert second.hashes == first.hashes and second.identity == first.identity


def test_remembered_across_restarts(tmp_path, model, no_reads):
    hashing = pack_module("hashing")
    db = tmp_path / "cache.sqlite"
    with hashing.HashCache(db) as c:
        first = c.get_or_hash(model)
    no_reads()
    with hashing.HashCache(db) as c:
        assert c.lookup(hashing.file_identity(model)) == first.hashes
        assert c.get_or_hash(model).bytes_read == 0


def test_rename_and_move_keep_the_cache(cache, model, tmp_path, no_reads):
    first = cache.get_or_hash(model)
    no_reads()
    moved = tmp_path / "elsewhere" / "renamed.safetensors"
    moved.parent.mkdir()
    os.rename(model, moved)
    again = cache.get_or_hash(moved)
    assert again.bytes_read == 0 and again.hashes == first.hashes
    assert again.path == str(moved)
    # one row per inode's content, whatever its path (the store keeps paths)
    assert cache._conn.execute("SELECT count(*) FROM hash_cache").fetchone() == (1,)


def test_rewrite_with_the_same_size_is_hashed_again(cache, model):
    first = cache.get_or_hash(model)
    before = os.stat(model)
    with open(model, "r+b") as f:
        f.seek(MiB)
        f.write(b"new bytes")
    if os.stat(model).st_mtime_ns == before.st_mtime_ns:  # coarse clock: same tick
        os.utime(model, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000))
    second = cache.get_or_hash(model)
    assert second.bytes_read == second.size == first.size
    assert second.hashes["SHA256"] != first.hashes["SHA256"]
    assert cache._conn.execute("SELECT count(*) FROM hash_cache").fetchone() == (1,)


def test_touch_alone_is_hashed_again(cache, model):
    first = cache.get_or_hash(model)
    st = os.stat(model)
    os.utime(model, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    second = cache.get_or_hash(model)
    assert second.bytes_read == first.size
    assert second.hashes == first.hashes


def test_replaced_file_is_hashed_again(cache, model, tmp_path):
    first = cache.get_or_hash(model)
    new = tmp_path / "new.bin"
    new.write_bytes(gen("other", 3 * MiB))
    os.replace(new, model)
    second = cache.get_or_hash(model)
    assert second.bytes_read == 3 * MiB
    assert second.hashes["SHA256"] != first.hashes["SHA256"]


def test_five_cached_then_autov3_wanted_computes_and_merges(cache, model, no_reads):
    five = cache.get_or_hash(model, autov3=False)
    assert "AutoV3" not in five.hashes
    assert cache.lookup(five.identity) == five.hashes
    six = cache.get_or_hash(model, autov3=True)
    assert six.bytes_read == six.size
    assert six.hashes["AutoV3"] is not None
    assert {k: v for k, v in six.hashes.items() if k != "AutoV3"} == five.hashes
    no_reads()
    assert cache.get_or_hash(model, autov3=True).hashes == six.hashes
    # Asking for fewer later still answers from the cache, with the known AutoV3.
    assert cache.get_or_hash(model, autov3=False).hashes == six.hashes


def test_a_none_autov3_is_remembered_as_computed(cache, tmp_path, no_reads):
    path = tmp_path / "plain.bin"
    path.write_bytes(gen("plain", 1000))
    cache.get_or_hash(path)
    no_reads()
    again = cache.get_or_hash(path)
    assert again.bytes_read == 0 and again.hashes["AutoV3"] is None


def test_errors_store_nothing(cache, tmp_path):
    hashing = pack_module("hashing")
    with pytest.raises(hashing.FileReadError):
        cache.get_or_hash(tmp_path / "missing.bin")
    path = tmp_path / "growing.bin"
    path.write_bytes(gen("g", 2 * MiB))

    def grow(done, total):
        with open(path, "ab") as f:
            f.write(b"x")

    with pytest.raises(hashing.FileChangedError):
        cache.get_or_hash(path, progress=grow)
    assert cache._conn.execute("SELECT count(*) FROM hash_cache").fetchone() == (0,)


def test_huge_inode_numbers_fit(cache):
    hashing = pack_module("hashing")
    engine = pack_module("hashing.engine")
    ident = hashing.FileIdentity(2**64 - 5, 2**64 - 1, 10, 123)
    hashes = {n: "AB" for n in engine.HASH_NAMES}
    cache.store(engine.HashResult("/x", ident, hashes, 10))
    assert cache.lookup(ident) == hashes
    assert cache.lookup(ident._replace(ino=2**63 - 1)) is None


def test_threads_share_one_cache(cache, tmp_path):
    paths = []
    for i in range(8):
        p = tmp_path / f"t{i}.bin"
        p.write_bytes(gen(f"t{i}", 300_000 + i))
        paths.append(p)
    results, errors = {}, []

    def work(p):
        try:
            for _ in range(3):
                results[p] = cache.get_or_hash(p)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(p,)) for p in paths + paths]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for p in paths:
        assert cache.lookup(results[p].identity) == results[p].hashes
    assert cache._conn.execute("SELECT count(*) FROM hash_cache").fetchone() == (8,)


def test_processes_share_one_database(tmp_path):
    db = tmp_path / "shared.sqlite"
    code = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(PACK_DIR / "tests")!r})
        from packload import pack_module
        hashing = pack_module("hashing")
        with hashing.HashCache(sys.argv[1]) as c:
            for p in sys.argv[2:]:
                for _ in range(3):
                    c.get_or_hash(p)
        """
    )
    groups = []
    for g in range(3):
        files = []
        for i in range(10):
            p = tmp_path / f"p{g}_{i}.bin"
            p.write_bytes(gen(f"p{g}_{i}", 50_000))
            files.append(str(p))
        groups.append(files)
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(db), *files], stderr=subprocess.PIPE)
        for files in groups
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    hashing = pack_module("hashing")
    with hashing.HashCache(db) as c:
        assert c._conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        for files in groups:
            for p in files:
                assert c.lookup(hashing.file_identity(p)) is not None


def test_database_trouble_during_a_scan_degrades_to_hashing(cache, model, caplog):
    import sqlite3

    first = cache.get_or_hash(model)

    class Broken:
        in_transaction = False

        def execute(self, *a):
            raise sqlite3.DatabaseError("database disk image is malformed")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def close(self):
            pass

    cache._conn = Broken()
    again = cache.get_or_hash(model)
    assert again.bytes_read == again.size and again.hashes == first.hashes
    assert "malformed" in caplog.text


def test_a_file_name_that_is_not_utf8_is_hashed_and_cached(cache, tmp_path, no_reads):
    # Linux names are bytes: a Latin-1 name reaches Python with surrogates, which SQLite
    # cannot store as text. Hashing must still work (the hash CLI crashed here).
    raw = os.path.join(os.fsencode(tmp_path), b"caf\xe9.safetensors")
    try:
        with open(raw, "wb") as f:
            f.write(b"x" * 100)
    except OSError:
        pytest.skip("this filesystem refuses non-UTF-8 names")
    path = os.fsdecode(raw)
    first = cache.get_or_hash(path)
    assert first.bytes_read == 100 and first.path == path
    no_reads()
    again = cache.get_or_hash(path)
    assert again.bytes_read == 0 and again.hashes == first.hashes and again.path == path
    assert cache.get_or_hash(raw).hashes == first.hashes  # a bytes path works too


def test_hashes_are_kept_as_bytes_and_a_schema_2_cache_reads_the_same(tmp_path, model):
    """Schema 3 keeps each hash as its bytes (half its hex, ~11 MB at 100,000 files), 4
    no path; the rows of an older cache are converted, and what ``lookup`` gives never
    changes."""
    import sqlite3

    hashing = pack_module("hashing")
    db = tmp_path / "c.sqlite"
    with hashing.HashCache(db) as c:
        first = c.get_or_hash(model)
        conn = c._conn
        stored = conn.execute("SELECT sha256, autov1, autov2, autov3, crc32, blake3 "
                              "FROM hash_cache").fetchone()  # fmt: skip
        assert [type(v) for v in stored] == [bytes] * 6 and len(stored[0]) == 32
        assert c.lookup(first.identity) == first.hashes
    with sqlite3.connect(db) as conn:  # as schema 2 kept it: hex text
        conn.execute("UPDATE hash_cache SET " + ", ".join(
            f"{c} = upper(hex({c}))" for c in ("sha256", "autov1", "autov2", "autov3", "crc32",
                                               "blake3")))  # fmt: skip
        conn.execute("ALTER TABLE hash_cache ADD COLUMN path TEXT NOT NULL DEFAULT '/m/x'")
        conn.execute("UPDATE schema_version SET version = 2 WHERE component = 'hash_cache'")
        assert isinstance(conn.execute("SELECT sha256 FROM hash_cache").fetchone()[0], str)
    with hashing.HashCache(db) as c:
        assert isinstance(c._conn.execute("SELECT blake3 FROM hash_cache").fetchone()[0], bytes)
        with pytest.raises(sqlite3.OperationalError):  # WITHOUT ROWID: the key is the table
            c._conn.execute("SELECT rowid FROM hash_cache")
        assert c.lookup(first.identity) == first.hashes
        assert c.get_or_hash(model).bytes_read == 0


def test_a_moved_then_rewritten_inode_leaves_no_stale_row(cache, model, tmp_path):
    """A row is an inode's content: when the inode's content changes its old row goes,
    whatever path the file had when it was hashed (schema 4 keeps no path)."""
    cache.get_or_hash(model)
    moved = tmp_path / "renamed.safetensors"
    os.rename(model, moved)
    before = os.stat(moved)
    with open(moved, "r+b") as f:
        f.write(b"rewritten")
    os.utime(moved, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000))
    assert cache.get_or_hash(moved).bytes_read > 0
    assert cache._conn.execute("SELECT count(*) FROM hash_cache").fetchone() == (1,)
