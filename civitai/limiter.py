"""The spacing rule: a request starts no earlier than ``interval`` after the previous one ENDED."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class SpacingLimiter:
    """``async with limiter: <one request>``, from any number of tasks on ONE event loop.

    One ``asyncio.Lock`` serialises requests; after acquiring it a caller sleeps until
    ``interval`` seconds have passed since the previous request left the block. ``clock`` and
    ``sleep`` are injectable so tests run on a fake clock; the client also uses ``sleep`` for
    its retry backoff, so one fake covers every wait.
    """

    def __init__(
        self,
        interval: float = 3.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ):
        self.interval = max(0.0, float(interval))
        self.clock = clock
        self.sleep = sleep
        self._lock: asyncio.Lock | None = None
        self._last_end: float | None = None

    async def __aenter__(self) -> SpacingLimiter:
        if self._lock is None:  # created on first use, so on the loop that uses it
            self._lock = asyncio.Lock()
        await self._lock.acquire()
        try:
            if self._last_end is not None:
                wait = self._last_end + self.interval - self.clock()
                if wait > 0:
                    await self.sleep(wait)
        except BaseException:
            self._lock.release()
            raise
        return self

    async def __aexit__(self, *exc_info) -> None:
        self._last_end = self.clock()
        self._lock.release()
