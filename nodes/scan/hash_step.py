"""The scanner's reading steps, off the loop: the header verdicts, then the hashes.

Classify (``classify_entries``): what each new or changed file is, from its header alone,
stored before the file is hashed — so the panel shows kinds and base models within seconds
of a scan starting. A file whose stored verdict was made at its current identity is not
read again; a bad header becomes a stored sentence, never a stopped scan.

Hash (``hash_entries``): which files need reading, and reading them.

A file whose (dev, ino, size, mtime_ns) matches the store or the hash cache costs no read.
The rest are hashed one at a time in a worker thread (the engine parallelises inside a file)
with AutoV3 skipped (computed later only for files CivitAI doesn't know by SHA256). Results
are saved in small batches, so a crash loses at most one batch — and those hashes are in the
hash cache already, so the next scan still reads nothing twice.
"""

import asyncio
import contextlib
import errno
import logging
import os
import threading
import time

from ...civitai import as_sentence
from ...hashing import (
    FileChangedError,
    FileIdentity,
    HashCancelledError,
    HashingError,
    header_problem,
    identity_key,
    is_safetensors_name,
    read_error,
)
from ..store import Detection, FileUpdate
from .discover import Entry, Skipped

_log = logging.getLogger(__name__)

FLUSH_FILES = 50
FLUSH_SECONDS = 1.0
#: A file this big takes seconds to read: hashing "pauses" before the first one (``on_pause``)
PAUSE_BYTES = 1 << 30


EMPTY_FILE = "Empty file (0 bytes): a failed or interrupted download? Download it again."


def file_problem(path: str, size: int) -> str | None:
    """The check for a file whose hashes come from the store or the hash cache (not read
    now): empty, a broken safetensors header, or no longer readable. None when fine."""
    if size == 0:
        return EMPTY_FILE
    if is_safetensors_name(path):
        return header_problem(path, size)
    try:  # non-blocking: a FIFO swapped in since the listing must not hang the scan
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            os.read(fd, 1)
        finally:
            os.close(fd)
    except OSError as exc:
        return str(read_error(path, exc))
    return None


def hash_one(cache, path: str, size: int, *, autov3: bool, progress, cancel):
    """Runs in a worker thread: (HashResult, problem sentence or None)."""
    problem = header_problem(path, size)
    result = cache.get_or_hash(path, autov3=autov3, progress=progress, cancel=cancel)
    return result, problem


async def in_worker(fn, *args, cancel=None, **kwargs):
    """``fn(*args, cancel=..., **kwargs)`` in a worker thread, where ``cancel()`` also turns
    true once the awaiting task is cancelled (ComfyUI shutting down, an interrupted node):
    the engine then stops within one block instead of reading a big file to its end, and
    the task ends only after the thread did (nothing reads a store being closed)."""
    stop = threading.Event()

    def stopped() -> bool:
        return stop.is_set() or (cancel is not None and bool(cancel()))

    work = asyncio.ensure_future(asyncio.to_thread(fn, *args, cancel=stopped, **kwargs))
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        stop.set()
        with contextlib.suppress(BaseException):
            await work  # HashCancelledError within one block
        raise


async def hash_entries(
    entries: list[Entry], cache, store, tracker, cancel, totals: dict, on_file=None,
    on_pause=None,
):  # fmt: skip
    """Hash ``entries`` in order; save each as a FileUpdate. Returns (updates, skipped,
    cancelled). Per-file trouble never stops the loop. ``on_file(updates)`` (on the loop) as
    each batch is saved (every FLUSH_FILES files or FLUSH_SECONDS): the scan's lookups
    start while hashing goes on, on rows that are in the store. ``on_pause()``: once, just
    before the first file of ``PAUSE_BYTES`` or more is read, after the files hashed so far
    were saved and handed to ``on_file`` (the scan sends its queued partial batch then)."""
    on_file = on_file or (lambda updates: None)

    def save(batch):
        store.save_files(batch)
        on_file(batch)

    updates: list[FileUpdate] = []
    skipped: list[Skipped] = []
    pending: list[FileUpdate] = []
    last_flush = time.monotonic()
    for entry in entries:
        if cancel is not None and cancel():
            save(pending)
            return updates, skipped, True
        if on_pause is not None and entry.st.st_size >= PAUSE_BYTES:
            save(pending)
            pending, last_flush = [], time.monotonic()
            on_pause()
            on_pause = None  # once per scan
        tracker.file_started(f"{entry.folder}/{entry.name}")
        try:
            result, problem = await in_worker(
                hash_one, cache, entry.path, entry.st.st_size, autov3=False,
                progress=tracker.bytes_progress, cancel=cancel,
            )  # fmt: skip
        except HashCancelledError:
            save(pending)
            return updates, skipped, True
        except FileChangedError as exc:
            skipped.append(Skipped(entry.path, f"changed while it was read; next scan: {exc}"))
            tracker.file_finished(entry.st.st_size)
            continue
        except (HashingError, OSError) as exc:
            cause = exc.__cause__ if isinstance(exc.__cause__, OSError) else exc
            if getattr(cause, "errno", None) == errno.ENOENT or not os.path.lexists(entry.path):
                skipped.append(Skipped(entry.path, "deleted during the scan"))
            else:
                update = FileUpdate(
                    entry.path,
                    entry.folder,
                    entry.name,
                    FileIdentity.from_stat(entry.st).key,
                    None,
                    as_sentence(exc),
                )
                pending.append(update)
                updates.append(update)
                _log.warning("cannot hash %s: %s", entry.path, exc)
            tracker.file_finished(entry.st.st_size)
            continue
        totals["bytes_hashed"] += result.bytes_read
        totals["files_hashed"] += 1 if result.bytes_read else 0
        update = FileUpdate(
            entry.path,
            entry.folder,
            entry.name,
            result.identity.key,
            dict(result.hashes),
            problem,
        )
        if problem:
            _log.warning("%s: %s", entry.path, problem)
        pending.append(update)
        updates.append(update)
        tracker.file_finished(entry.st.st_size)
        if len(pending) >= FLUSH_FILES or time.monotonic() - last_flush >= FLUSH_SECONDS:
            save(pending)
            pending, last_flush = [], time.monotonic()
    save(pending)
    for s in skipped:
        _log.warning("skipped %s: %s", s.path, s.reason)
    return updates, skipped, False


# -- classify ---------------------------------------------------------------------------
#: Extensions whose headers the classifier reads (safetensors, GGUF, PyTorch zips).
CLASSIFIED_EXTENSIONS = (".safetensors", ".sft", ".gguf", ".ckpt", ".pt", ".pth", ".bin")
BATCH = 100


def needs_classifying(entries, stored: dict[str, tuple]) -> list:
    """The entries whose verdict is missing or was made for other file content."""
    return [
        e for e in entries
        if e.path.lower().endswith(CLASSIFIED_EXTENSIONS) and stored.get(e.path) != _ident(e.st)
    ]  # fmt: skip


async def classify_entries(
    entries, store, cancel=None, now: float | None = None, *, checked=False
) -> int:
    """Classify and store the entries that need it; returns how many were read.
    ``checked``: ``entries`` are those already (the scan compares them with its rows)."""
    todo = entries if checked else needs_classifying(entries, store.detected_identities())
    done = 0
    for start in range(0, len(todo), BATCH):
        if cancel is not None and cancel():
            break
        batch = await asyncio.to_thread(classify_batch, todo[start : start + BATCH], cancel)
        store.save_detections(batch, now)
        done += len(batch)
    if done:
        _log.debug("classified %d file(s) from their headers", done)
    return done


def classify_batch(entries, cancel=None) -> list[Detection]:
    """Runs in a worker thread: one Detection per entry (until ``cancel()``)."""
    from ...hashing.classify import classify_file

    out = []
    for e in entries:
        if cancel is not None and cancel():
            break
        try:
            out.append(Detection(e.path, e.folder, e.name, _ident(e.st), classify_file(e.path)))
        except (HashingError, ValueError) as exc:  # a sentence, stored with the file
            out.append(Detection(e.path, e.folder, e.name, _ident(e.st), error=str(exc)))
    return out


def _ident(st: os.stat_result) -> tuple:
    """As stored (inodes ≥ 2**63 folded: hashing.identity_key), so comparisons hold."""
    return identity_key((st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns))
