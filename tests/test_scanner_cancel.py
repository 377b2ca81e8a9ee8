"""Cancelling a scan while a CivitAI call is in flight: every file keeps the state it had
before the scan (never "error"), and no ``pending`` flag is left behind. Both ways a scan
stops: its ``cancel()`` turning true (panel, node, CLI) and its task being cancelled."""

import asyncio
import time

import pytest
from models_tree import build_models_tree, open_scanner
from packload import pack_module
from routes_helpers import make_api, safetensors

KNOWN = ("anime", "other_known", "base")
LATE = 3.0  # the slow answer; a cancelled scan must end long before it


class CancelDuringLookup:
    """``progress`` + ``cancel`` for a scan: cancel() turns true ``after`` seconds into the
    looking_up phase (the fake CivitAI is told to answer later than that)."""

    def __init__(self, after: float = 0.3):
        self.after, self.since = after, None

    def progress(self, p: dict) -> None:
        if p.get("phase") == "looking_up" and self.since is None:
            self.since = time.monotonic()

    def cancel(self) -> bool:
        return self.since is not None and time.monotonic() - self.since >= self.after


def _states(store):
    return {r["name"]: r["status"] for r in store.list_records()}


@pytest.mark.parametrize(
    "slow_path",
    [
        "/model-versions/by-hash",  # the bulk SHA256 call
        "/models",  # parent models of the identified ones
        "/model-versions/by-hash/",  # the AutoV3 fallback (single GETs)
    ],
)
@pytest.mark.parametrize("checked_before", [False, True])
async def test_cancel_while_a_call_is_in_flight_leaves_files_as_they_were(
    tmp_path, fake_civitai, slow_path, checked_before
):
    tree = build_models_tree(tmp_path / "models")
    tree.register(fake_civitai, *KNOWN)
    async with open_scanner(tree.root, tmp_path / "db", fake_civitai) as (scanner, store, _):
        if checked_before:
            await scanner.scan(identify="all")
            tree.register(fake_civitai, "lora_unknown")  # news for the re-scan to fetch
        before = _states(store)
        fake_civitai.delay_next(LATE, n=3, path=slow_path)
        stop = CancelDuringLookup()
        t0 = time.monotonic()
        summary = await scanner.scan(identify="all", retry_unknown=True, progress=stop.progress,
                                     cancel=stop.cancel)  # fmt: skip
        assert time.monotonic() - t0 < LATE - 0.5  # stopped mid-call, not at its answer
        assert summary["cancelled"] and summary["lookups"]["errors"] == 0
        after = _states(store)
        assert store.counts()["pending"] == 0
    assert "error" not in after.values() and summary["errors"] == []
    if checked_before:
        assert set(before.values()) == {"identified", "unknown"}
        news = tree.files["lora_unknown"].name  # identified once its models call answered
        assert {**after, news: None} == {**before, news: None}  # the rest stays as it was
        assert after[news] == ("identified" if slow_path.endswith("/") else "unknown")
    elif slow_path == "/model-versions/by-hash":
        assert set(after.values()) == {"not_checked"}  # nothing was answered yet
    else:  # answers that arrived before the cancel are kept; the rest is not checked
        assert set(after.values()) <= {"identified", "unknown", "not_checked"}
        assert "not_checked" in after.values()


async def test_cancel_route_during_lookup_leaves_the_file_not_checked(
    comfy_env, fake_civitai, aiohttp_client
):
    api = await make_api(comfy_env, fake_civitai, aiohttp_client)
    comfy_env.add_model("loras", "new.safetensors", safetensors(b"never checked" * 10))
    fake_civitai.delay_next(LATE, path="by-hash")
    _, job = await api.post("/civitai-identify/scan", {"identify": "all"}, expect=202)
    for _ in range(250):
        if api.service.jobs.scan.progress.get("phase") == "looking_up":
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)  # the by-hash call is in flight
    await api.post("/civitai-identify/scan/cancel", expect=200)
    done = await api.wait_done(job["job_id"], timeout=LATE - 0.5)
    assert done["state"] == "cancelled"
    _, models = await api.get("/civitai-identify/models", expect=200)
    assert [(m["name"], m["status"]) for m in models["models"]] == [
        ("new.safetensors", "not_checked")
    ]


async def test_scan_task_cancelled_during_lookup_clears_pending(tmp_path, fake_civitai):
    tree = build_models_tree(tmp_path / "models")
    fake_civitai.delay_next(LATE, path="by-hash")
    stop = CancelDuringLookup()
    async with open_scanner(tree.root, tmp_path / "db", fake_civitai) as (scanner, store, _):
        task = asyncio.ensure_future(scanner.scan(identify="all", progress=stop.progress))
        while not stop.cancel():
            await asyncio.sleep(0.02)
        assert store.counts()["pending"] == len(tree.files)  # the lookup is in flight
        task.cancel()  # e.g. ComfyUI shutting down
        with pytest.raises(asyncio.CancelledError):
            await task
        assert store.counts()["pending"] == 0 and store.counts()["error"] == 0
        assert set(_states(store).values()) == {"not_checked"}


async def test_identify_cancelled_mid_lookup_keeps_the_previous_answer(tmp_path, fake_civitai):
    # the node path: ComfyUI's interrupt cancels the identify task (no cancel() callable)
    root = tmp_path / "models"
    root.mkdir()
    (root / "x.safetensors").write_bytes(safetensors(b"unknown to CivitAI" * 10))
    async with open_scanner(root, tmp_path / "db", fake_civitai) as (scanner, store, _):
        await scanner.scan(identify="all")
        assert store.get_record("other", "x.safetensors")["status"] == "unknown"
        fake_civitai.delay_next(LATE, path="by-hash")
        task = asyncio.ensure_future(scanner.identify("other", "x.safetensors", force=True))
        for _ in range(250):
            if store.counts()["pending"]:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)  # the by-hash call is in flight
        assert store.get_record("other", "x.safetensors")["status"] == "pending"
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert store.get_record("other", "x.safetensors")["status"] == "unknown"
        assert store.counts()["pending"] == 0


async def test_closing_the_service_mid_lookup_cancels_the_scan_and_records_no_error(
    comfy_env, fake_civitai, aiohttp_client, tmp_path
):
    db_path = tmp_path / "store.sqlite3"
    api = await make_api(comfy_env, fake_civitai, aiohttp_client, db_path=db_path)
    comfy_env.add_model("loras", "new.safetensors", safetensors(b"closing time" * 10))
    fake_civitai.delay_next(LATE, path="by-hash")
    await api.post("/civitai-identify/scan", {"identify": "all"}, expect=202)
    for _ in range(250):
        if api.service.jobs.scan.progress.get("phase") == "looking_up":
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)  # the by-hash call is in flight
    await api.service.close()  # e.g. shutting down: the HTTP session goes away
    assert api.service.jobs.scan.state == "cancelled"
    store = pack_module("nodes.store.model_store").ModelStore(db_path)
    try:
        assert [(r["name"], r["status"]) for r in store.list_records()] == [
            ("new.safetensors", "not_checked")
        ]
    finally:
        store.close()
