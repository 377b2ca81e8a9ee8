"""Big reads stay off the server loop: listing 10,000 records takes about half a second, and
the other routes must keep answering meanwhile."""

import asyncio
import threading
import time

from packload import pack_module
from routes_helpers import safetensors


async def test_listing_runs_in_a_worker_thread_and_status_answers_meanwhile(api, monkeypatch):
    api.env.add_model("other", "a.safetensors", safetensors(b"a" * 64))
    _, job = await api.post("/civitai-identify/scan", {"identify": "none"}, expect=202)
    assert (await api.wait_done(job["job_id"]))["state"] == "done"

    store_cls = pack_module("nodes.store.model_store").ModelStore
    real_list = store_cls.list_records
    loop_thread = threading.get_ident()
    seen = {}

    def slow_list(self, *args, **kwargs):
        seen["thread"] = threading.get_ident()
        time.sleep(0.8)  # stands in for 10,000 records being loaded and parsed
        return real_list(self, *args, **kwargs)

    monkeypatch.setattr(store_cls, "list_records", slow_list)
    listing = asyncio.ensure_future(api.get("/civitai-identify/models", expect=200))
    await asyncio.sleep(0.1)  # the listing is now inside slow_list
    started = time.monotonic()
    await api.get("/civitai-identify/status", expect=200)
    status_took = time.monotonic() - started
    _, body = await listing

    assert [m["name"] for m in body["models"]] == ["a.safetensors"]
    assert seen["thread"] != loop_thread
    assert status_took < 0.5, f"status waited {status_took:.2f} s behind the listing"
