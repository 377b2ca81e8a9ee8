"""A scan's lookups while it still hashes (docs/internals.md "Streaming scan").

The files whose SHA256 is known at once (unchanged, renamed, in the hash cache) are handed
in first, then each file as its hashing finishes. A file with a sidecar is read first
(offline); a file to look up (its folder is looked up, its SHA256 not identified and not a
known-unknown within its retry date; or, in any folder, identified long ago:
``stale_identified``) queues its SHA256. A bulk call goes out as soon as
``BULK_LIMIT`` (100) SHA256s are queued, while hashing goes on in its thread; the rest go
once hashing is over. Once per scan, when hashing pauses (``pause()``: it is about to read
its first file of ``hash_step.PAUSE_BYTES``, a read of seconds), the queued partial batch
goes at once with its parent models (an ``EarlyBatch``), so small models already hashed
are answered while the checkpoints are read. So the calls are those of looking everything
up after hashing (full batches of 100, one remainder; the parent models in batches of 100
ids across them) plus at most one by-hash call and one models call for that early batch;
the 3 s spacing is the client's as ever, and each answer is saved as it lands. Duplicates
of a looked-up SHA256 in other folders share its answer.
"""

import asyncio

from ...civitai import BULK_LIMIT
from ..store import iso, utc_now
from .folders import OTHER


class EarlyBatch(list):
    """A partial batch sent when hashing pauses: the client settles its parent models at once
    (``settle``) instead of waiting for 100 model ids."""

    settle = True


class LookupFeed:
    """``add(files)`` from the scan (on the loop), ``close()`` after the last one;
    ``run()`` is the lookup task: it ends after the last answer (and the AutoV3 fallback)."""

    def __init__(self, scanner, listing, with_sidecar, identify, retry_unknown, runner, totals):
        self.scanner, self.store = scanner, scanner.store
        self.listing, self.with_sidecar = listing, with_sidecar
        self.identify, self.retry_unknown = identify, retry_unknown
        self.runner, self.totals = runner, totals
        self.lookups = identify != "none" and scanner.client is not None
        # offline: nothing is looked up, states are read only for the files with a sidecar
        self.states = self.store.lookup_states() if self.lookups else {}
        # identified long ago: asked again in the same bulk calls, so update notices stay fresh
        self.stale = self.store.stale_identified() if self.lookups else set()
        self.now = iso(utc_now())
        self.wanted: dict[str, list] = {}  # SHA256 → every file sharing it
        self._others: dict[str, list] = {}  # SHA256 → files seen, not (yet) looked up
        self._queue: list[str] = []  # looked-up SHA256s not sent yet
        self._inbox: list = []  # files handed in, not sorted yet
        self._closed = False
        self._paused = False  # hashing reached a big file: send the partial batch (once)
        self._wake = asyncio.Event()

    def folder_looked_up(self, folder: str) -> bool:
        return self.lookups and (self.identify == "all" or folder == OTHER)

    def add(self, files) -> None:
        self._inbox.extend(files)
        self._wake.set()

    def pause(self) -> None:
        """Hashing pauses (a big file next; called once per scan): the SHA256s queued by
        then go now, even fewer than 100."""
        self._paused = True
        self._wake.set()

    def close(self) -> None:
        self._closed = True
        self._wake.set()

    async def run(self) -> None:
        """Sidecars for every file; the lookups (if any) through ``runner.run_stream``."""
        if not self.lookups:
            async for _ in self._batches():
                pass  # only sidecars to read
            return
        try:
            await self.runner.run_stream(self._batches(), self.wanted)
        finally:  # also when cancelled: no file left pending
            self.store.set_pending(list(self.wanted), False)

    async def _batches(self):
        while True:
            await self._sort_inbox()
            while len(self._queue) >= BULK_LIMIT or (self._queue and self._closed):
                batch, self._queue = self._queue[:BULK_LIMIT], self._queue[BULK_LIMIT:]
                yield batch
                await self._sort_inbox()
            if self._paused and self._queue:  # < 100 queued, hashing not over
                batch, self._queue = EarlyBatch(self._queue), []
                self._paused = False
                yield batch
                continue
            self._paused = False  # nothing queued at the pause: no extra call
            if self._closed and not self._inbox and not self._queue:
                return
            self._wake.clear()
            if not self._inbox and not self._closed:
                await self._wake.wait()

    async def _sort_inbox(self) -> None:
        while self._inbox:
            files, self._inbox = self._inbox, []
            beside = [f for f in files if f.path in self.with_sidecar]
            if beside:
                if not self.lookups:
                    self.states.update(self.store.lookup_states(f.sha256 for f in beside))
                self.totals["from_sidecars"] += await self.scanner._read_sidecars(
                    beside, self.listing, self.states
                )
            if not self.lookups:
                continue  # nothing is wanted (_wants): no per-file work
            fresh = []
            for f in files:
                sha = f.sha256
                if not sha:
                    continue
                if sha in self.wanted:
                    self.wanted[sha].append(f)
                elif self._wants(f):
                    self.wanted[sha] = [f, *self._others.pop(sha, [])]
                    fresh.append(sha)
                else:
                    self._others.setdefault(sha, []).append(f)
            if fresh:
                self.store.set_pending(fresh)
                self._queue += fresh
                tracker = self.runner.tracker
                tracker.update(lookups_total=len(self.wanted))

    def _wants(self, f) -> bool:
        status, retry_after = self.states.get(f.sha256, (None, None))
        if status == "identified":  # asked once already: refreshed when old, in any folder
            return self.lookups and f.sha256 in self.stale
        if not self.folder_looked_up(f.folder):
            return False
        return not (status == "unknown" and not self.retry_unknown
                    and (retry_after or "") > self.now)  # fmt: skip
