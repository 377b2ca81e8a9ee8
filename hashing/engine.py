"""``hash_file``: all of CivitAI's hashes of a file from one sequential read.

A reader loop (this thread) fills a ring of reusable page-aligned buffers with ``readinto``
while a ``WorkerPool`` hashes the blocks already read, so reading overlaps hashing and both
cores work. Memory: the ring (4 × 2 MiB by default) plus, for a safetensors file, its header
(< 16 MiB) — whatever the file size. The model file is never mmapped: a file
truncated under a mapping raises SIGBUS and would kill the whole process (ComfyUI).
"""

import mmap
import os
from collections.abc import Callable
from dataclasses import dataclass

from .errors import FileChangedError, HashCancelledError
from .identity import FileIdentity, file_identity, read_error
from .streams import AutoV1Stream, AutoV3Stream, Blake3Stream, Crc32Stream, Sha256Stream
from .workers import WorkerPool

HASH_NAMES = ("SHA256", "AutoV1", "AutoV2", "AutoV3", "CRC32", "BLAKE3")
DEFAULT_BLOCK_SIZE = 2 * 1024 * 1024
_PAGE = mmap.PAGESIZE
#: Blocks in flight. More than two lets the threads drift apart by a few blocks, so a thread
#: briefly descheduled on a busy machine does not stall the others (measured: see
#: docs/hashing.md).
_BUFFERS = 4


@dataclass(frozen=True)
class HashResult:
    """``hashes``: UPPERCASE hex in ``HASH_NAMES`` order, None where CivitAI has no such
    hash; no "AutoV3" key when it was not computed. ``bytes_read`` is 0 from the cache."""

    path: str
    identity: FileIdentity
    hashes: dict
    bytes_read: int

    @property
    def size(self) -> int:
        return self.identity.size


def stream_groups(size: int, autov3: bool) -> list[list]:
    """Streams split in two groups of about the same work (per GB, one core of the 2-core
    test box: SHA256 0.78 s, AutoV3 0.78, BLAKE3 0.33, CRC32 0.36 with zlib or 0.08 with
    zlib-ng, reading 0.13; AutoV1 is 64 KiB)."""
    if autov3:
        return [
            [Sha256Stream(), Crc32Stream(), AutoV1Stream(size)],
            [AutoV3Stream(size), Blake3Stream()],
        ]
    return [[Sha256Stream()], [Crc32Stream(), Blake3Stream(), AutoV1Stream(size)]]


def _open(path: str):
    """Open for reading without blocking on a FIFO swapped in after the stat."""
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    return open(os.open(path, flags), "rb", buffering=0)


def hash_file(
    path: str | os.PathLike,
    *,
    autov3: bool = True,
    block_size: int = DEFAULT_BLOCK_SIZE,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> HashResult:
    """Hash ``path`` (see HashResult). ``progress(bytes_done, total)`` is called after each
    block and ``cancel()`` checked before each, both in this thread.

    Raises ``FileReadError`` (missing, directory, not regular, permission, I/O error),
    ``FileChangedError`` (the file changed or was truncated during the read),
    ``HashCancelledError``.
    """
    if block_size <= 0:
        raise ValueError(f"block_size must be positive, not {block_size}")
    path = os.fspath(path)
    identity = file_identity(path)  # clear messages for missing / directory / FIFO
    try:
        f = _open(path)
    except OSError as exc:
        raise read_error(path, exc) from exc
    with f:
        opened = FileIdentity.from_stat(os.fstat(f.fileno()))
        if opened != identity:
            raise _changed(path, "it was replaced just before reading")
        _advise_sequential(f.fileno())
        groups = stream_groups(identity.size, autov3)
        if identity.size < block_size:  # one block: threads would cost more than they give
            groups, block_size = [[s for g in groups for s in g]], _fit(identity.size)
        # Five hashes fit in two cores with room to spare: both groups get a worker and this
        # thread only reads. Six need more than two cores' worth: this thread hashes the
        # first group itself, as a third busy thread would only add contention (measured).
        pool = WorkerPool(groups, inline=autov3 or len(groups) == 1)
        done = _read_blocks(f, path, identity.size, pool, block_size, progress, cancel)
        _check_unchanged(f, path, identity)
    found = pool.results()
    hashes = {name: found[name] for name in HASH_NAMES if name in found}
    return HashResult(path, identity, hashes, done)


def _advise_sequential(fd: int) -> None:
    """Ask for a larger read-ahead (helps cold files); a hint, so failure is ignored."""
    if hasattr(os, "posix_fadvise"):
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
        except OSError:
            pass


def _fit(size: int) -> int:
    """A buffer just larger than ``size`` (the read after the last byte must see EOF)."""
    return (size // _PAGE + 1) * _PAGE


def _read_blocks(f, path, size, pool, block_size, progress, cancel) -> int:
    """The reader loop: returns the number of bytes read (== size, or raises)."""
    try:
        buffers = [mmap.mmap(-1, block_size) for _ in range(_BUFFERS)]
    except BaseException:
        pool.close()  # its threads would otherwise wait forever, one pair per file
        raise
    views = [memoryview(b) for b in buffers]
    done = block = 0
    try:
        while True:
            if cancel is not None and cancel():
                raise HashCancelledError(f"Hashing '{path}' was cancelled.", path)
            pool.wait_for(_BUFFERS - 1)  # the buffer about to be refilled is free
            view = views[block % _BUFFERS]
            try:
                n = f.readinto(view)
            except OSError as exc:
                raise read_error(path, exc) from exc
            if not n:
                break
            pool.feed(view[:n], done)
            done += n
            block += 1
            if done > size:
                raise _changed(path, "it grew while it was being read")
            if progress is not None:
                progress(done, size)
        pool.wait_for(0)
        if done < size:
            raise _changed(path, f"it became shorter while it was read ({done} of {size} bytes)")
        return done
    finally:
        pool.close()  # drains the blocks in flight before the buffers go away
        view = None
        for v, b in zip(views, buffers, strict=True):
            v.release()
            try:
                b.close()
            except BufferError:  # a slice still referenced somewhere: the GC frees it
                pass


def _check_unchanged(f, path: str, before: FileIdentity) -> None:
    try:
        after_fd = FileIdentity.from_stat(os.fstat(f.fileno()))
        after_path = FileIdentity.from_stat(os.stat(path))
    except OSError as exc:
        raise _changed(path, "it was removed while it was being read") from exc
    if after_fd != before:
        raise _changed(path, "its size or modification time changed while it was being read")
    if after_path != before:
        raise _changed(path, "it was replaced by another file while it was being read")


def _changed(path: str, why: str) -> FileChangedError:
    return FileChangedError(
        f"'{path}' changed while it was being hashed: {why}. Hash it again once nothing "
        "is writing to it.",
        path,
    )
