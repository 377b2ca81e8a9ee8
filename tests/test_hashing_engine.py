"""The one-read engine: block boundaries, progress, cancellation, bytes read."""

import hashlib
import os
import threading
import zlib

import pytest
from packload import pack_module
from test_hashing_vectors import gen, safetensors

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def engine():
    return pack_module("hashing.engine")


def reference(data: bytes) -> dict:
    """The six hashes computed the plain way, from the definitions in HASHES.md."""
    import blake3

    sha = hashlib.sha256(data).hexdigest().upper()
    autov1 = None
    if len(data) >= 0x200000:
        autov1 = hashlib.sha256(data[0x100000:0x110000]).hexdigest()[:8].upper()
    autov3 = None
    if len(data) >= 8:
        n = int.from_bytes(data[:8], "little")
        if n < 16 * MiB and 8 + n <= len(data) and data[8 : 8 + n].lstrip().startswith(b"{"):
            autov3 = hashlib.sha256(data[8 + n :]).hexdigest()[:12].upper()
    return {
        "SHA256": sha,
        "AutoV1": autov1,
        "AutoV2": sha[:10],
        "AutoV3": autov3,
        "CRC32": zlib.crc32(data).to_bytes(4, "little").hex().upper(),
        "BLAKE3": blake3.blake3(data).hexdigest().upper(),
    }


@pytest.mark.parametrize("size", [0, 1, 0x1FFFFF, 0x200000])
def test_sizes_around_the_autov1_threshold(engine, tmp_path, size):
    data = gen(f"size{size}", size)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    result = engine.hash_file(path)
    assert result.hashes == reference(data)
    assert (result.hashes["AutoV1"] is None) == (size < 0x200000)


@pytest.mark.parametrize(
    "block_size",
    [
        4096,
        0x100000 - 0x8000,  # AutoV1's window (0x100000..0x110000) straddles blocks 1 and 2
        0x100000 + 0x8000,  # ... straddles blocks 0 and 1
        3 * 0x8000 + 1,  # odd size: tensor data and window start mid-block
        MiB,
        8 * MiB,
    ],
)
def test_block_size_never_changes_the_result(engine, tmp_path, block_size):
    data = safetensors({"k": "v" * 1000}, gen("blocks", 3 * MiB + 12345))
    path = tmp_path / "m.safetensors"
    path.write_bytes(data)
    result = engine.hash_file(path, block_size=block_size)
    assert result.hashes == reference(data)
    assert result.hashes["AutoV3"] is not None
    assert result.bytes_read == len(data)


def test_header_spanning_many_blocks(engine, tmp_path):
    data = safetensors({"big": "x" * 200_000}, gen("hdr", 70_000))
    path = tmp_path / "m.safetensors"
    path.write_bytes(data)
    assert engine.hash_file(path, block_size=4096).hashes == reference(data)


def test_progress_reports_every_block_in_the_calling_thread(engine, tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(gen("p", 5 * MiB + 3))
    calls = []
    caller = threading.get_ident()
    engine.hash_file(
        path, block_size=MiB, progress=lambda d, t: calls.append((d, t, threading.get_ident()))
    )
    assert [d for d, _, _ in calls] == [MiB, 2 * MiB, 3 * MiB, 4 * MiB, 5 * MiB, 5 * MiB + 3]
    assert {t for _, t, _ in calls} == {5 * MiB + 3}
    assert {tid for _, _, tid in calls} == {caller}


def test_cancel_is_checked_between_blocks(engine, tmp_path):
    hashing = pack_module("hashing")
    path = tmp_path / "f.bin"
    path.write_bytes(gen("c", 4 * MiB))
    seen = []
    with pytest.raises(hashing.HashCancelledError) as err:
        engine.hash_file(
            path,
            block_size=MiB,
            progress=lambda d, t: seen.append(d),
            cancel=lambda: len(seen) >= 2,
        )
    assert seen == [MiB, 2 * MiB]
    assert str(path) in str(err.value)


def test_no_worker_threads_are_left_behind(engine, tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(gen("t", MiB))
    before = threading.active_count()
    for _ in range(5):
        engine.hash_file(path, block_size=65536)
    assert threading.active_count() == before


def test_no_worker_threads_left_when_the_buffers_cannot_be_allocated(engine, tmp_path, monkeypatch):
    path = tmp_path / "f.bin"
    path.write_bytes(gen("t", MiB))

    def no_memory(*args):
        raise MemoryError("no room for the read buffers")

    before = threading.active_count()
    monkeypatch.setattr(engine.mmap, "mmap", no_memory)
    for autov3 in (True, False):
        with pytest.raises(MemoryError):
            engine.hash_file(path, autov3=autov3, block_size=65536)
    monkeypatch.undo()
    assert threading.active_count() == before


def test_reads_the_file_once_with_readinto(engine, tmp_path, monkeypatch):
    # Count every byte that really comes from the file.
    path = tmp_path / "f.bin"
    path.write_bytes(gen("r", 3 * MiB + 5))
    counted = []
    real_open = engine._open

    class Counting:
        def __init__(self, f):
            self._f = f

        def readinto(self, buf):
            n = self._f.readinto(buf)
            counted.append(n)
            return n

        def __getattr__(self, name):
            return getattr(self._f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._f.close()

    monkeypatch.setattr(engine, "_open", lambda p: Counting(real_open(p)))
    result = engine.hash_file(path, block_size=MiB)
    assert sum(counted) == result.bytes_read == 3 * MiB + 5
    assert counted[-1] == 0  # read to the end, so a grown file would be noticed


def test_symlink_is_followed(engine, tmp_path):
    target = tmp_path / "real.bin"
    target.write_bytes(b"hello world")
    link = tmp_path / "link.bin"
    os.symlink(target, link)
    result = engine.hash_file(link)
    assert result.hashes["CRC32"] == "85114A0D"
    assert result.identity.ino == os.stat(target).st_ino


def test_memory_stays_bounded_whatever_the_file_size(tmp_path):
    # A fresh process, so its peak RSS measures only this: reading 128 MiB must add about
    # two blocks, not the file. (The page cache is not part of RSS.)
    import subprocess
    import sys
    import textwrap

    from packload import PACK_DIR

    path = tmp_path / "big.bin"
    with open(path, "wb") as f:
        chunk = gen("big", MiB)
        for _ in range(128):
            f.write(chunk)
    code = textwrap.dedent(
        f"""
        import resource, sys
        sys.path.insert(0, {str(PACK_DIR / "tests")!r})
        from packload import pack_module
        engine = pack_module("hashing.engine")
        import blake3
        engine.hash_file({str(PACK_DIR / "tests" / "packload.py")!r})  # warm up imports
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result = engine.hash_file({str(path)!r})  # default: 4 blocks of 2 MiB in flight
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print((after - before) // 1024, result.bytes_read)
        print("grew", after - before, "KiB", file=sys.stderr)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    grown_mib, bytes_read = map(int, out.stdout.split())
    assert bytes_read == 128 * MiB
    assert grown_mib <= 24, f"peak RSS grew by {grown_mib} MiB"


def test_threads_are_used_only_for_files_larger_than_a_block(engine, tmp_path, monkeypatch):
    workers = pack_module("hashing.workers")
    started = []
    real = workers.StreamWorker.__init__

    def spy(self, *a, **k):
        started.append(1)
        real(self, *a, **k)

    monkeypatch.setattr(workers.StreamWorker, "__init__", spy)
    small = tmp_path / "small.bin"
    small.write_bytes(gen("small", 100_000))
    assert engine.hash_file(small).hashes == reference(gen("small", 100_000))
    assert started == []
    assert engine.hash_file(small, block_size=65536).hashes == reference(gen("small", 100_000))
    assert started  # two blocks: the streams run in worker threads


def test_block_size_must_be_positive(engine, tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"x")
    with pytest.raises(ValueError):
        engine.hash_file(path, block_size=0)


def test_stdlib_crc32_fallback_gives_the_same_values(engine, tmp_path, monkeypatch):
    # zlib-ng's CRC-32 is used when installed; the stdlib one must agree (and is the default
    # where zlib-ng is absent).
    streams = pack_module("hashing.streams")
    data = gen("crc", 300_000)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    fast = engine.hash_file(path, block_size=65536).hashes
    monkeypatch.setattr(streams, "_crc32", zlib.crc32)
    assert engine.hash_file(path, block_size=65536).hashes == fast == reference(data)
