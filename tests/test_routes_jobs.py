"""The job manager behind the routes: throttled progress events, states, one scan slot."""

import asyncio

from packload import pack_module


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


async def test_progress_events_are_throttled_but_phase_changes_always_go_out():
    jobs_mod = pack_module("nodes.comfy.jobs")
    events, clock = [], Clock()
    manager = jobs_mod.JobManager(lambda e, d: events.append((e, d)), min_interval=0.25,
                                  clock=clock)  # fmt: skip
    release = asyncio.Event()

    async def run(job):
        for i in range(50):
            job.report({"phase": "hashing", "bytes_done": i})
        clock.now += 0.3
        job.report({"phase": "hashing", "bytes_done": 99})
        job.report({"phase": "looking_up", "bytes_done": 99})
        await release.wait()
        return {"ok": True}

    job = manager.start("scan", run)
    await asyncio.sleep(0)
    progress = [d for e, d in events if e == jobs_mod.PROGRESS_EVENT]
    assert [(p["phase"], p["bytes_done"]) for p in progress] == [
        ("hashing", 0),
        ("hashing", 99),
        ("looking_up", 99),
    ]
    assert all(p["job_id"] == job.job_id for p in progress)
    assert job.to_dict()["progress"]["phase"] == "looking_up" and job.running
    release.set()
    await job.task
    done = [d for e, d in events if e == jobs_mod.DONE_EVENT]
    assert done == [job.to_dict()] and done[0]["state"] == "done"
    assert done[0]["summary"] == {"ok": True}


async def test_errors_and_cancel_become_states_with_sentences():
    jobs_mod = pack_module("nodes.comfy.jobs")
    manager = jobs_mod.JobManager(lambda e, d: None)

    async def boom(job):
        raise OSError("disk gone")

    failed = manager.start("identify", boom)
    await failed.task
    assert failed.state == "error" and failed.error == "disk gone."

    async def polite(job):
        while not job.cancelled():
            await asyncio.sleep(0.01)
        return {"cancelled": True}

    scan, created = manager.start_scan(polite)
    again, created_again = manager.start_scan(polite)
    assert created and not created_again and again is scan
    scan.cancel()
    await scan.task
    assert scan.state == "cancelled"
    _, created = manager.start_scan(polite)
    assert created  # the slot is free again
    manager.scan.cancel()
    await manager.scan.task


async def test_a_broken_listener_does_not_kill_the_job():
    jobs_mod = pack_module("nodes.comfy.jobs")

    def broken(event, data):
        raise RuntimeError("websocket closed")

    async def run(job):
        job.report({"phase": "hashing"})
        return {}

    job = jobs_mod.JobManager(broken).start("scan", run)
    await job.task
    assert job.state == "done"
