"""The scanner's classify step: what each new or changed file is, from its header alone,
stored before the file is hashed — so the panel shows kinds and base models within seconds
of a scan starting, long before the last checkpoint is hashed.

A file whose stored verdict was made at its current (dev, ino, size, mtime_ns) is not read
again. Headers are read in a worker thread, in small batches saved as they finish; a bad
header becomes a stored sentence, never a stopped scan.
"""

import asyncio
import logging
import os

from ...hashing import HashingError, identity_key
from ..store import Detection

_log = logging.getLogger(__name__)

#: Extensions whose headers the classifier reads (safetensors, GGUF, PyTorch zips).
CLASSIFIED_EXTENSIONS = (".safetensors", ".sft", ".gguf", ".ckpt", ".pt", ".pth", ".bin")
BATCH = 100


def needs_classifying(entries, stored: dict[str, tuple]) -> list:
    """The entries whose verdict is missing or was made for other file content."""
    return [
        e for e in entries
        if e.path.lower().endswith(CLASSIFIED_EXTENSIONS) and stored.get(e.path) != _ident(e.st)
    ]  # fmt: skip


async def classify_entries(entries, store, cancel=None, now: float | None = None) -> int:
    """Classify and store the entries that need it; returns how many were read."""
    todo = needs_classifying(entries, store.detected_identities())
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
