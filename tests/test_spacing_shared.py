"""The spacing shared through the lock file beside the store (nodes/store/spacing.py): on a
fake clock in one process, then with two real processes against the fake CivitAI."""

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from fake_civitai import FakeClock
from packload import PACK_DIR, pack_module

INTERVAL = 0.3


@pytest.fixture
def spacing():
    return pack_module("nodes.store.spacing")


class Clock:
    def __init__(self, t=1000.0):
        self.t = t
        self.sleeps = []

    def __call__(self):
        return self.t

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.t += seconds


def test_claims_wait_for_the_last_end_plus_the_interval(tmp_path, spacing):
    clock = Clock()
    a = spacing.SpacingFile(tmp_path / "s", timeout=10, clock=clock, sleep=clock.sleep)
    b = spacing.SpacingFile(tmp_path / "s", timeout=10, clock=clock, sleep=clock.sleep)
    assert a.claim(3.0) == 0.0
    clock.t += 1.0  # a's request takes 1 s
    a.release()
    clock.t += 0.5
    assert b.claim(3.0) == pytest.approx(2.5)  # 3 s after a's request ended
    clock.t += 2.5 + 0.2
    b.release()
    assert a.claim(3.0) == pytest.approx(3.0)


def test_a_live_lease_is_waited_for_and_a_dead_one_runs_out_after_one_timeout(
    tmp_path, spacing
):
    clock = Clock()
    holder = spacing.SpacingFile(tmp_path / "s", timeout=10, clock=clock, sleep=clock.sleep)
    other = spacing.SpacingFile(tmp_path / "s", timeout=10, clock=clock, sleep=clock.sleep)
    assert holder.claim(3.0) == 0.0
    started = clock.t
    # the holder never releases (killed mid-request): the other polls until the lease ends
    assert other.claim(3.0) == 0.0
    assert clock.t == pytest.approx(started + 10, abs=0.01)
    assert other.waited_for_others == pytest.approx(10, abs=0.01)
    assert all(s <= spacing.POLL_SECONDS + 1e-9 for s in clock.sleeps)


def test_a_torn_or_absurd_file_reads_as_free(tmp_path, spacing):
    clock = Clock()
    path = tmp_path / "s"
    slot = spacing.SpacingFile(path, timeout=10, clock=clock, sleep=clock.sleep)
    absurd = '{"last_end": 1e30, "lease_until": 1e30, "owner": "x", "waiting": {"y": [1, 1e30]}}'
    for text in ("", "garbage", "[1, 2]", absurd, '{"last_end": NaN, "owner": 5}'):
        path.write_text(text)
        assert slot.claim(3.0) == 0.0, text
        slot.release()
        path.write_text(text)


def test_waiters_are_served_first_come_first_served(tmp_path, spacing):
    # a process that just released does not take the next slot from one already waiting
    a = spacing.SpacingFile(tmp_path / "s", timeout=10)
    b = spacing.SpacingFile(tmp_path / "s", timeout=10)
    order = []
    a.claim(0.0)

    def other():
        b.claim(0.0)
        order.append("b")
        b.release()

    thread = threading.Thread(target=other)
    thread.start()
    deadline = time.monotonic() + 10
    while b.token not in (tmp_path / "s").read_text():  # b has noted itself as waiting
        assert time.monotonic() < deadline
        time.sleep(0.01)
    a.release()
    a.claim(0.0)
    order.append("a")
    a.release()
    thread.join(10)
    assert order == ["b", "a"]


async def test_the_limiter_claims_and_releases_in_a_worker_thread():
    loop_thread = threading.get_ident()
    calls = []

    class Shared:
        def claim(self, interval):
            calls.append(("claim", interval, threading.get_ident()))
            return 2.0

        def release(self):
            calls.append(("release", None, threading.get_ident()))

    clock = FakeClock()
    limiter = pack_module("civitai").SpacingLimiter(
        3.0, clock=clock, sleep=clock.sleep, shared=Shared()
    )
    async with limiter:
        pass
    assert [c[:2] for c in calls] == [("claim", 3.0), ("release", None)]
    assert all(c[2] != loop_thread for c in calls)  # never on the event loop
    assert clock.sleeps == [2.0]  # the wait the shared slot asked for

    async def cancelled_while_waiting():
        async with limiter:
            raise AssertionError("not reached")

    calls.clear()
    limiter = pack_module("civitai").SpacingLimiter(3.0, sleep=_never, shared=Shared())
    task = asyncio.ensure_future(cancelled_while_waiting())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [c[0] for c in calls] == ["claim", "release"]  # the slot was handed back


async def _never(_seconds):
    await asyncio.Event().wait()


# -- two real processes -----------------------------------------------------------------


def _lookup(tmp_path, fake, hashes, timeout="5"):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVITAI")}
    env.update(CIVITAI_API_BASE=fake.url, CIVITAI_IDENTIFY_INTERVAL=str(INTERVAL),
               CIVITAI_IDENTIFY_TIMEOUT=timeout,
               CIVITAI_IDENTIFY_DB=str(tmp_path / "store.sqlite3"))  # fmt: skip
    return subprocess.Popen(
        [sys.executable, str(PACK_DIR), "lookup", *hashes],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env,
    )  # fmt: skip


def test_two_processes_keep_the_interval_between_all_their_requests(tmp_path, fake_civitai):
    # AutoV2-sized hashes: one GET each, CivitAI does not know them (unknown, exit 0)
    first = _lookup(tmp_path, fake_civitai, [f"{i:010X}" for i in range(4)])
    second = _lookup(tmp_path, fake_civitai, [f"{i:010X}" for i in range(100, 104)])
    for proc in (first, second):
        _out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    log = sorted(fake_civitai.requests, key=lambda r: r.start)
    assert len(log) == 8
    gaps = [b.start - a.end for a, b in itertools.pairwise(log)]
    assert min(gaps) >= INTERVAL * 0.98, gaps


def test_a_process_killed_mid_request_blocks_the_other_for_at_most_one_timeout(
    tmp_path, fake_civitai
):
    timeout = 3.0
    fake_civitai.delay_next(20, path="AAAAAAAAAA")
    holder = _lookup(tmp_path, fake_civitai, ["AAAAAAAAAA"], timeout=str(timeout))
    deadline = time.monotonic() + 30
    while not any(p.endswith("AAAAAAAAAA") for p, _ in fake_civitai.started):
        assert time.monotonic() < deadline and holder.poll() is None, holder.stderr.read()
        time.sleep(0.01)
    held_since = next(s for p, s in fake_civitai.started if p.endswith("AAAAAAAAAA"))
    other = _lookup(tmp_path, fake_civitai, ["BBBBBBBBBB"], timeout=str(timeout))
    os.kill(holder.pid, signal.SIGKILL)  # while its request is in flight, holding the slot
    holder.communicate(timeout=10)
    _out, err = other.communicate(timeout=60)
    assert other.returncode == 0, err
    started = next(s for p, s in fake_civitai.started if p.endswith("BBBBBBBBBB"))
    waited = started - held_since
    # the dead holder's lease is respected, and runs out one timeout after its request began
    assert timeout - 0.2 <= waited <= timeout + 1.0, waited
