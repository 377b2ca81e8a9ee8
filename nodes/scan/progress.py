"""The progress dict a scan reports (see docs/internals.md) and its ETA.

Thread-safe: hashing reports bytes from a worker thread while the loop reports lookups.
The callback gets a fresh dict each time and may be called from either thread.
"""

import threading
import time

PHASES = ("listing", "hashing", "looking_up", "previews", "done")


class ScanProgress:
    def __init__(self, callback=None, *, clock=time.monotonic, min_interval: float = 0.1):
        self._callback = callback
        self._clock = clock
        self._min_interval = min_interval
        self._lock = threading.Lock()
        self._last_emit = None
        self._phase_start = clock()
        self._bytes_base = 0  # bytes of the files finished before the current one
        self.state = {
            "phase": "listing",
            "files_done": 0,
            "files_total": 0,
            "bytes_done": 0,
            "bytes_total": 0,
            "current": None,
            "lookups_done": 0,
            "lookups_total": 0,
            "eta_seconds": None,
        }

    def snapshot(self) -> dict:
        with self._lock:
            return dict(self.state)

    def phase(self, phase: str, **values) -> None:
        with self._lock:
            self.state["phase"] = phase
            self.state.update(values)
            self._phase_start = self._clock()
            self.state["eta_seconds"] = 0.0 if phase == "done" else None
        self._emit(force=True)

    def update(self, **values) -> None:
        with self._lock:
            self.state.update(values)
        self._emit()

    def file_started(self, current: str) -> None:
        self.update(current=current)

    def bytes_progress(self, done: int, _total: int = 0) -> None:
        """The hashing engine's ``progress(bytes_done, bytes_total)`` for the current file."""
        with self._lock:
            self.state["bytes_done"] = self._bytes_base + done
        self._emit()

    def file_finished(self, size: int) -> None:
        with self._lock:
            self._bytes_base += size
            self.state["bytes_done"] = self._bytes_base
            self.state["files_done"] += 1
        self._emit()

    def lookup_done(self, n: int = 1) -> None:
        with self._lock:
            self.state["lookups_done"] += n
        self._emit()

    def _eta(self) -> float | None:
        s = self.state
        elapsed = self._clock() - self._phase_start
        if elapsed <= 0:
            return None
        if s["phase"] == "hashing" and s["bytes_done"] > 0:
            rate = s["bytes_done"] / elapsed
            return max(0.0, (s["bytes_total"] - s["bytes_done"]) / rate)
        if s["phase"] == "looking_up" and s["lookups_done"] > 0:
            rate = s["lookups_done"] / elapsed
            return max(0.0, (s["lookups_total"] - s["lookups_done"]) / rate)
        return None

    def _emit(self, force: bool = False) -> None:
        if self._callback is None:
            return
        now = self._clock()
        with self._lock:
            if not force and self._last_emit is not None:
                if now - self._last_emit < self._min_interval:
                    return
            self._last_emit = now
            self.state["eta_seconds"] = 0.0 if self.state["phase"] == "done" else self._eta()
            data = dict(self.state)
        self._callback(data)
