"""A scan's progress on stderr: one line redrawn with ``\\r`` on a terminal, otherwise a
plain line at each phase change and every ``plain_interval`` seconds (logs stay readable)."""

import sys
import threading
import time


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def human_seconds(s: float | None) -> str:
    if s is None:
        return "?"
    s = round(s)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def progress_line(p: dict) -> str:
    phase = p.get("phase", "")
    if phase == "listing":
        return "listing files…"
    parts = [f"{phase:<10}"]
    if p.get("files_total"):
        parts.append(f"hashed {p['files_done']}/{p['files_total']} files")
        parts.append(f"{human_bytes(p['bytes_done'])}/{human_bytes(p['bytes_total'])}")
    if p.get("lookups_total"):
        parts.append(f"lookups {p['lookups_done']}/{p['lookups_total']}")
    if phase not in ("done",) and p.get("eta_seconds") is not None:
        parts.append(f"ETA {human_seconds(p['eta_seconds'])}")
    return "  ".join(parts)


class ProgressPrinter:
    """Callable with a progress dict (from any thread)."""

    def __init__(self, stream=None, *, tty=None, min_interval=0.1, plain_interval=10.0,
                 clock=time.monotonic):  # fmt: skip
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.min_interval = min_interval if self.tty else plain_interval
        self.clock = clock
        self._lock = threading.Lock()
        self._last = None
        self._phase = None
        self._width = 0

    def __call__(self, progress: dict) -> None:
        now = self.clock()
        with self._lock:
            changed = progress.get("phase") != self._phase
            if not changed and self._last is not None and now - self._last < self.min_interval:
                return
            self._last, self._phase = now, progress.get("phase")
            line = progress_line(progress)
            if self.tty:
                pad = max(0, self._width - len(line))
                self.stream.write("\r" + line + " " * pad)
                self._width = len(line)
            else:
                self.stream.write(line + "\n")
            self.stream.flush()

    def finish(self) -> None:
        with self._lock:
            if self.tty and self._width:
                self.stream.write("\n")
                self.stream.flush()
                self._width = 0
