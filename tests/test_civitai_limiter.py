"""The spacing rule, on a fake clock: no real sleeping."""

import asyncio
import itertools

from fake_civitai import fake_client
from packload import pack_module

SpacingLimiter = pack_module("civitai").SpacingLimiter


class StepClock:
    """Time moves only when someone sleeps or a 'request' takes time."""

    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def __call__(self):
        return self.now

    async def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


async def test_interval_counts_from_the_end_of_the_previous_request():
    clock = StepClock()
    limiter = SpacingLimiter(3.0, clock=clock, sleep=clock.sleep)
    spans = []

    async def request(duration):
        async with limiter:
            start = clock()
            await asyncio.sleep(0)  # let the other tasks pile up on the lock
            clock.now += duration
            spans.append((start, clock()))

    await asyncio.gather(*(request(d) for d in (2.0, 0.5, 4.0, 0.0, 1.0)))
    assert spans[0][0] == 100.0  # the first request does not wait
    for (_, prev_end), (start, _) in itertools.pairwise(spans):
        assert start - prev_end == 3.0
    assert spans[1][0] == 105.0  # 100 + 2 s request + 3 s: from the END, not the start


async def test_no_wait_when_the_interval_has_already_passed():
    clock = StepClock()
    limiter = SpacingLimiter(3.0, clock=clock, sleep=clock.sleep)
    async with limiter:
        pass
    clock.now += 10
    async with limiter:
        pass
    assert clock.sleeps == []


async def test_a_failing_request_still_counts_and_releases_the_lock():
    clock = StepClock()
    limiter = SpacingLimiter(3.0, clock=clock, sleep=clock.sleep)
    try:
        async with limiter:
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    async with limiter:
        pass
    assert clock.sleeps == [3.0]


async def test_five_concurrent_lookups_are_spaced_by_the_interval(fake_civitai):
    hashes = [f"{i:064X}" for i in range(5)] + ["0123456789AB", "FEDCBA987654"]
    fake_civitai.add_file_model(hashes[0])
    async with fake_client(fake_civitai, interval=3.0) as client:
        results = await asyncio.gather(
            *(asyncio.create_task(client.lookup([h])) for h in hashes[:5]),
            client.lookup(hashes[5:]),
        )
    assert results[0][hashes[0]].status == "identified"
    spans = sorted((r.start, r.end) for r in fake_civitai.requests)
    assert len(spans) >= 8
    gaps = [start - prev_end for (_, prev_end), (start, _) in itertools.pairwise(spans)]
    assert min(gaps) >= 3.0 - 1e-6
    assert len(client.clock.sleeps) >= len(spans) - 1  # every later request waited its turn
