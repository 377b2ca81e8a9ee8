"""Which process is hashing which file right now, so two scans of one library (a CLI scan and
ComfyUI's) read each file once instead of both reading it side by side.

``hashing_claim(db_path, identity, cancel)`` is a context manager around "look the file up
in the cache, else hash it and store the result". It holds an advisory POSIX byte-range lock
(``fcntl.lockf``) on one byte of ``<db>.hashing`` chosen by the file's (dev, ino): another
process about to hash the same file waits until the first has stored its hashes, then
finds them in the cache. The kernel drops the lock when a process dies, so a crashed
hasher never blocks anyone; a waiter gives up after ``wait_limit(size)`` (a stopped
process) and hashes the file itself. Without ``fcntl`` (Windows) nothing is claimed.

One file descriptor per lock file stays open for the life of the process: closing any
descriptor of a file drops all of the process's POSIX locks on it.
"""

import contextlib
import errno
import os
import threading
import time

try:
    import fcntl
except ImportError:  # Windows: no claims, scans may read a file twice
    fcntl = None

SUFFIX = ".hashing"
POLL_SECONDS = 0.05
_SLOTS = 1 << 30

_fds: dict[str, int] = {}
_fds_lock = threading.Lock()


def wait_limit(size: int) -> float:
    """How long to wait for another process hashing a file of ``size`` bytes (≥ 20 MB/s)."""
    return 30.0 + size / 20e6


@contextlib.contextmanager
def hashing_claim(db_path, identity, cancel=None):
    """Hold the claim on ``identity`` (a FileIdentity) while the body runs (see module)."""
    fd = _fd(db_path) if fcntl is not None and db_path else None
    if fd is None:
        yield
        return
    offset = (identity.dev * 1_000_003 ^ identity.ino) % _SLOTS
    deadline = time.monotonic() + wait_limit(identity.size)
    held = False
    while not held:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, offset)
            held = True
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                break  # no working locks on this filesystem: hash without a claim
            if time.monotonic() > deadline or (cancel is not None and cancel()):
                break  # another process is hashing it (or stopped while doing so)
            time.sleep(POLL_SECONDS)
    try:
        yield
    finally:
        if held:
            with contextlib.suppress(OSError):
                fcntl.lockf(fd, fcntl.LOCK_UN, 1, offset)


def _fd(db_path) -> int | None:
    path = os.path.abspath(os.fspath(db_path)) + SUFFIX
    with _fds_lock:
        if path not in _fds:
            try:
                _fds[path] = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError:
                return None
        return _fds[path]
