"""The spacing rule: a request starts no earlier than ``interval`` after the previous one ENDED."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Protocol


class SharedSlot(Protocol):
    """A spacing shared with other processes (the store's lock file, nodes/store/spacing.py).
    Both methods block (file locks), so the limiter runs them in a worker thread."""

    def claim(self, interval: float) -> float:
        """Reserve the next request slot; return the seconds to wait before starting."""

    def release(self) -> None:
        """The request that claimed the slot has ended (or will not be made)."""


class SpacingLimiter:
    """``async with limiter: <one request>``, from any number of tasks on ONE event loop.

    One ``asyncio.Lock`` serialises requests; after acquiring it a caller sleeps until
    ``interval`` seconds have passed since the previous request left the block. ``clock`` and
    ``sleep`` are injectable so tests run on a fake clock; the client also uses ``sleep`` for
    its retry backoff, so one fake covers every wait.

    ``shared`` (optional) extends the rule to other processes: inside the lock the limiter
    also claims a slot from it (in a worker thread, never blocking the loop) and releases it
    when the request ends, so requests of every process using it are ``interval`` apart.
    """

    def __init__(
        self,
        interval: float = 3.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        shared: SharedSlot | None = None,
    ):
        self.interval = max(0.0, float(interval))
        self.clock = clock
        self.sleep = sleep
        self.shared = shared
        self._lock: asyncio.Lock | None = None
        self._last_end: float | None = None
        self._late: set[asyncio.Future] = set()  # late releases, referenced until done

    async def __aenter__(self) -> SpacingLimiter:
        if self._lock is None:  # created on first use, so on the loop that uses it
            self._lock = asyncio.Lock()
        await self._lock.acquire()
        claimed = False
        try:
            if self._last_end is not None:
                wait = self._last_end + self.interval - self.clock()
                if wait > 0:
                    await self.sleep(wait)
            if self.shared is not None:
                claim = asyncio.to_thread(self.shared.claim, self.interval)
                claiming = asyncio.ensure_future(claim)
                try:
                    wait = await asyncio.shield(claiming)
                except asyncio.CancelledError:
                    claiming.add_done_callback(self._release_late)  # the thread goes on
                    raise
                claimed = True
                if wait > 0:
                    await self.sleep(wait)
        except BaseException:
            if claimed:
                await _release_in_thread(self.shared)
            self._lock.release()
            raise
        return self

    async def __aexit__(self, *exc_info) -> None:
        try:
            if self.shared is not None:
                await _release_in_thread(self.shared)
        finally:
            self._last_end = self.clock()
            self._lock.release()

    def _release_late(self, claiming: asyncio.Future) -> None:
        """A claim that finished after its caller was cancelled: give the slot back."""
        if not claiming.cancelled() and claiming.exception() is None:
            late = asyncio.ensure_future(_release_in_thread(self.shared))
            self._late.add(late)
            late.add_done_callback(self._late.discard)


async def _release_in_thread(shared: SharedSlot) -> None:
    # shielded: a request cancelled mid-flight still hands its slot back
    await asyncio.shield(asyncio.ensure_future(asyncio.to_thread(shared.release)))
