"""Background jobs (a scan, a long identify) with throttled progress events.

A job runs as an asyncio task on the service's loop. Its progress may be reported from any
thread (hashing runs in worker threads); events go out through ``emit(event, data)``, which
must be thread-safe (ComfyUI's ``PromptServer.send_sync`` is):

- ``civitai-identify.progress``: the progress dict plus ``job_id`` (and ``kind``), at most
  every ``min_interval`` seconds per job, except that a new ``phase`` always goes out;
- ``civitai-identify.done``: the job dict, once, when it ends.

The job dict: ``{"job_id", "kind", "state": "running"|"done"|"cancelled"|"error",
"progress", "summary", "error"}``. ``error`` is a sentence, never a stack trace.
"""

import asyncio
import itertools
import logging
import threading
import time
import uuid

from ...civitai import as_sentence
from ...hashing import HashCancelledError

_log = logging.getLogger(__name__)

PROGRESS_EVENT = "civitai-identify.progress"
DONE_EVENT = "civitai-identify.done"
_ids = itertools.count(1)


class Job:
    """One background job. ``report(progress)`` and ``cancel()`` are thread-safe."""

    def __init__(self, kind: str, emit, *, min_interval: float, clock=time.monotonic):
        self.job_id = f"{kind}-{next(_ids)}-{uuid.uuid4().hex[:8]}"
        self.kind = kind
        self.state = "running"
        self.progress: dict = {}
        self.summary = None
        self.error = None
        self.exception: BaseException | None = None  # for the service, never sent
        self.task: asyncio.Task | None = None
        self._emit = emit
        self._min_interval = min_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._last_sent = None
        self._cancelled = threading.Event()

    def to_dict(self) -> dict:
        with self._lock:
            return {
                "job_id": self.job_id,
                "kind": self.kind,
                "state": self.state,
                "progress": dict(self.progress),
                "summary": self.summary,
                "error": self.error,
            }

    @property
    def running(self) -> bool:
        return self.state == "running"

    def cancel(self) -> None:
        """Ask the job to stop; the scanner sees it between files and blocks."""
        self._cancelled.set()

    def cancelled(self) -> bool:
        """The ``cancel`` callable handed to the scanner."""
        return self._cancelled.is_set()

    def report(self, progress: dict) -> None:
        """Record the latest progress; emit it unless one went out very recently."""
        now = self._clock()
        with self._lock:
            phase_changed = progress.get("phase") != self.progress.get("phase")
            self.progress = dict(progress)
            due = self._last_sent is None or now - self._last_sent >= self._min_interval
            if not (due or phase_changed):
                return
            self._last_sent = now
        self._send(PROGRESS_EVENT, {**progress, "job_id": self.job_id, "kind": self.kind})

    def _finish(self, state: str, summary=None, error=None) -> None:
        with self._lock:
            self.state, self.summary, self.error = state, summary, error
        self._send(DONE_EVENT, self.to_dict())

    def _send(self, event, data) -> None:
        try:
            self._emit(event, data)
        except Exception as exc:  # noqa: BLE001 - a broken listener must not kill the job
            _log.warning("could not send %s: %s", event, exc)


class JobManager:
    """Starts jobs on the running loop and remembers the current/last scan."""

    def __init__(self, emit, *, min_interval: float = 0.25, clock=time.monotonic):
        self._emit = emit
        self._min_interval = min_interval
        self._clock = clock
        self.scan: Job | None = None  # the running or last scan
        self._jobs: set[Job] = set()  # running ones (also keeps their tasks referenced)

    def start(self, kind: str, run) -> Job:
        """Run ``await run(job)`` in a task; its return value becomes the summary. Must be
        called on the loop the job should run on."""
        job = Job(kind, self._emit, min_interval=self._min_interval, clock=self._clock)
        job.task = asyncio.get_running_loop().create_task(self._run(job, run))
        self._jobs.add(job)
        job.task.add_done_callback(lambda _: self._jobs.discard(job))
        return job

    async def stop_all(self) -> None:
        """Cancel every running job and wait for it to finish (before the client and store
        close under it: an in-flight request must end as cancelled, not as an error)."""
        running = [job.task for job in self._jobs if job.running]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    def start_scan(self, run) -> tuple[Job, bool]:
        """One scan at a time: ``(running job, False)`` if a scan runs, else a new one."""
        if self.scan is not None and self.scan.running:
            return self.scan, False
        self.scan = self.start("scan", run)
        return self.scan, True

    async def _run(self, job: Job, run) -> None:
        try:
            summary = await run(job)
        except (asyncio.CancelledError, HashCancelledError):
            job._finish("cancelled", error="The job was cancelled.")
            return
        except Exception as exc:  # noqa: BLE001 - turned into a job error, never lost
            if not isinstance(exc, (OSError, ValueError)):  # expected ones: no trace
                _log.exception("CivitAI Identify %s job failed", job.kind)
            job.exception = exc
            job._finish("error", error=as_sentence(exc))
            return
        job._finish("cancelled" if job.cancelled() else "done", summary=summary)
