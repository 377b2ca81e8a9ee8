"""The 3-second spacing shared by every process that uses one store: a small lock file next to
it (``<store>.spacing``) holding when the last request ended and who is requesting now.

``SpacingFile`` is the ``SharedSlot`` civitai's ``SpacingLimiter`` is given (civitai/ does
no file IO, so the file lives here). Before a request a process *claims* the next slot:
under an exclusive lock held for microseconds (``fcntl.flock``; ``msvcrt.locking`` on
Windows) it reads the file (JSON); if another process holds a lease that has not run out,
or another waiter came first, it notes itself as waiting and reads again shortly; else it
writes its own lease (``start + timeout``) and starts no earlier than ``last end +
interval``. Waiters are served first come, first served, so a long CLI scan does not starve
ComfyUI's one lookup (nor the reverse). After the request it *releases*: ``last end = now``
and its lease cleared. A process killed mid-request leaves its lease behind, which runs
out one request timeout after that request started: nobody waits longer than that.
The lease is never held through a lock, so a stopped or hung process cannot block others.

The blocking calls (lock, read, write, the short polling sleeps) run in a worker thread:
the limiter calls them through ``asyncio.to_thread``. Wall-clock time (``time.time``) is
shared between processes; times that are absurd (a clock set back) are ignored.

Not across machines: two hosts must not share one store file (see the README).
"""

import json
import logging
import os
import threading
import time
import uuid

_log = logging.getLogger(__name__)

SUFFIX = ".spacing"
#: how often a waiting process looks at another one's lease again
POLL_SECONDS = 0.05
#: a waiting process not seen for this long is taken for dead (it polls every POLL_SECONDS)
WAITER_STALE_SECONDS = 2.0
#: how long taking the file lock may take before the spacing is kept in this process only
LOCK_WAIT_SECONDS = 5.0

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    try:
        import msvcrt
    except ImportError:
        msvcrt = None

_process_locks: dict[str, threading.Lock] = {}
_process_locks_guard = threading.Lock()


def spacing_path(db_path) -> str:
    """The spacing file for the store at ``db_path``."""
    return os.fspath(db_path) + SUFFIX


class SpacingFile:
    """``claim(interval) -> seconds to wait`` and ``release()``, both blocking (see the module
    doc). ``clock`` and ``sleep`` are injectable for tests."""

    def __init__(self, path, timeout: float, *, clock=time.time, sleep=time.sleep):
        self.path = os.fspath(path)
        self.timeout = float(timeout)
        self.clock = clock
        self.sleep = sleep
        self.token = uuid.uuid4().hex
        self.waited_for_others = 0.0  # seconds spent waiting on another process's lease
        with _process_locks_guard:  # flock excludes other processes; this, other threads
            self._thread_lock = _process_locks.setdefault(os.path.abspath(self.path),
                                                          threading.Lock())  # fmt: skip
        self._warned = False
        self._interval = 0.0

    def claim(self, interval: float) -> float:
        """Take the next slot; return how long to wait before starting the request."""
        self._interval = interval
        first_wait = None
        while True:
            with self._locked() as f:
                now = self.clock()
                state = _read(f, now, self.timeout + interval)
                waiting = state["waiting"]
                busy = state["owner"] not in (None, self.token) and state["lease_until"] > now
                ahead = [w for t, w in waiting.items() if t != self.token
                         and w[0] < (first_wait if first_wait is not None else now)]  # fmt: skip
                if not busy and not ahead:
                    waiting.pop(self.token, None)
                    start = max(now, state["last_end"] + interval)
                    _write(f, dict(state, lease_until=start + self.timeout, owner=self.token))
                    return start - now
                first_wait = now if first_wait is None else first_wait
                waiting[self.token] = [first_wait, now]  # first in, first served
                _write(f, state)
                wait = POLL_SECONDS
                if busy and not ahead:
                    wait = min(max(state["lease_until"] - now, 0.001), POLL_SECONDS)
            self.waited_for_others += wait
            self.sleep(wait)

    def release(self) -> None:
        """The request ended now (or never started: the slot is given back as used)."""
        with self._locked() as f:
            now = self.clock()
            state = _read(f, now, self.timeout + self._interval)
            state["last_end"] = max(state["last_end"], now)
            if state["owner"] == self.token:
                state.update(lease_until=0.0, owner=None)
            _write(f, state)

    # -- the file lock -----------------------------------------------------------------
    def _locked(self):
        return _Locked(self)


class _Locked:
    """``with``: the thread lock, the file open and exclusively locked; yields the file."""

    def __init__(self, owner: SpacingFile):
        self.owner = owner
        self.file = None

    def __enter__(self):
        owner = self.owner
        owner._thread_lock.acquire()
        try:
            os.makedirs(os.path.dirname(os.path.abspath(owner.path)), exist_ok=True)
            fd = os.open(owner.path, os.O_RDWR | os.O_CREAT, 0o644)
            self.file = os.fdopen(fd, "r+b")
            if not _lock(self.file, owner.clock, owner.sleep) and not owner._warned:
                owner._warned = True
                _log.warning("The spacing file %s could not be locked; CivitAI requests are "
                             "spaced within this process only.", owner.path)  # fmt: skip
        except BaseException:
            self._close()
            raise
        return self.file

    def __exit__(self, *exc_info):
        self._close()

    def _close(self):
        try:
            if self.file is not None:
                _unlock(self.file)
                self.file.close()
        finally:
            self.owner._thread_lock.release()


def _lock(f, clock, sleep) -> bool:
    """Exclusive lock on ``f``, waiting up to LOCK_WAIT_SECONDS; False if it was not had."""
    deadline = clock() + LOCK_WAIT_SECONDS
    while True:
        try:
            if fcntl is not None:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            elif msvcrt is not None:
                f.seek(0)
                msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                return False
            return True
        except BlockingIOError:
            pass
        except OSError as exc:
            if fcntl is not None:  # ENOLCK (a filesystem without locks) and the like
                _log.debug("flock %s: %s", f.name, exc)
                return False
        if clock() >= deadline:
            return False
        sleep(0.005)


def _unlock(f) -> None:
    try:
        if fcntl is not None:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
        elif msvcrt is not None:
            f.seek(0)
            msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)
    except OSError:
        pass  # closing the file drops the lock anyway


def _read(f, now: float, max_ahead: float) -> dict:
    """The file's state; a missing, torn or absurd file (a clock set back) reads as free.
    Waiters not seen for WAITER_STALE_SECONDS (a process that died waiting) are dropped."""
    f.seek(0)
    raw = f.read(64 * 1024)
    state = {"last_end": 0.0, "lease_until": 0.0, "owner": None, "waiting": {}}
    try:
        found = json.loads(raw) if raw.strip() else {}
    except ValueError:
        found = {}
    if not isinstance(found, dict):
        found = {}
    last_end, lease_until = _number(found.get("last_end")), _number(found.get("lease_until"))
    if last_end <= now + max_ahead:
        state["last_end"] = last_end
    owner = found.get("owner")
    if lease_until <= now + max_ahead and isinstance(owner, str):
        state.update(lease_until=lease_until, owner=owner)
    waiting = found.get("waiting")
    for token, seen in (waiting.items() if isinstance(waiting, dict) else ()):
        if (isinstance(seen, list) and len(seen) == 2
                and now - WAITER_STALE_SECONDS < _number(seen[1]) <= now + max_ahead):  # fmt: skip
            state["waiting"][token] = [_number(seen[0]), _number(seen[1])]
    return state


def _number(value) -> float:
    if isinstance(value, (int, float)) and value == value and abs(value) != float("inf"):
        return float(value)
    return 0.0


def _write(f, state: dict) -> None:
    f.seek(0)
    f.write(json.dumps(state, separators=(",", ":")).encode("ascii"))
    f.truncate()
    f.flush()


def shared_limiter(db_path, settings):
    """The ``SpacingLimiter`` for a client whose process uses the store at ``db_path``:
    ``settings.interval`` apart from every other process's requests too."""
    from ...civitai import SpacingLimiter

    return SpacingLimiter(settings.interval, shared=SpacingFile(spacing_path(db_path),
                                                                settings.timeout))  # fmt: skip
