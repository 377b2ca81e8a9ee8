"""Shutdown and cancel: ComfyUI's app shutting down cancels running jobs and closes the
store and the HTTP session; identifying one big file (route job, node) stops within one
block when cancelled or when ComfyUI interrupts the prompt."""

import asyncio
import threading

import pytest
from packload import pack_module
from routes_helpers import settings

BIG = 4 * 1024**3  # sparse: costs no disk, ~6 s to hash, so the test only ever reads a few blocks
BLOCK = 2 * 1024 * 1024


def _sparse(path, size=BIG):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.truncate(size)
    return path


class WatchedCache:
    """The real hash cache; records how each read ended and the bytes read by then."""

    def __init__(self, cache):
        self.cache = cache
        self.bytes_done = 0
        self.started = threading.Event()
        self.ended = threading.Event()
        self.outcome = None

    def __getattr__(self, name):
        return getattr(self.cache, name)

    def get_or_hash(self, path, **kwargs):
        progress = kwargs.pop("progress", None)

        def watch(done, total):
            self.bytes_done = done
            self.started.set()
            if progress is not None:
                progress(done, total)

        try:
            result = self.cache.get_or_hash(path, progress=watch, **kwargs)
            self.outcome = "finished"
            return result
        except BaseException as exc:
            self.outcome = type(exc).__name__
            raise
        finally:
            self.ended.set()


async def _wait(event: threading.Event, timeout=20.0):
    assert await asyncio.to_thread(event.wait, timeout), "timed out"


async def _watched(service):
    store, cache, client = await service._ready()
    watched = WatchedCache(cache)
    service._parts = (store, watched, client)
    return watched


async def test_the_shutdown_hook_cancels_jobs_and_closes_everything(comfy_env, fake_civitai):
    glue = pack_module("nodes.comfy.glue")
    prompt_server = comfy_env.prompt_server(asyncio.get_running_loop())
    assert glue.attach()  # the routes and the on_shutdown hook, as at ComfyUI start-up
    service = comfy_env.make_service(settings(fake_civitai), loop=asyncio.get_running_loop())
    watched = await _watched(service)
    _, _, client = service._parts
    _sparse(comfy_env.models_dir / "checkpoints" / "huge.safetensors")
    job, _created = await service.start_scan(identify="all")
    await _wait(watched.started)  # the read is under way
    at_cancel = watched.bytes_done
    prompt_server.app.freeze()
    await prompt_server.app.shutdown()  # what aiohttp runs when ComfyUI stops
    assert job.state == "cancelled"
    assert watched.ended.is_set() and watched.outcome == "HashCancelledError"
    assert watched.bytes_done - at_cancel <= 2 * BLOCK  # within a block, not at 4 GiB
    assert service._parts is None and client._http._session is None
    assert glue._service is None
    assert fake_civitai.requests == []


async def test_cancelling_a_route_identify_job_stops_the_read(comfy_env, fake_civitai):
    service = comfy_env.make_service(
        settings(fake_civitai), emit=lambda *a: None, loop=asyncio.get_running_loop(),
        big_file_bytes=1,
    )
    watched = await _watched(service)
    _sparse(comfy_env.models_dir / "loras" / "huge.safetensors")
    record, job = await service.identify_request("loras", "huge.safetensors")
    assert record is None and job is not None  # a big file: a background job
    await _wait(watched.started)
    at_cancel = watched.bytes_done
    job.cancel()  # what the panel's cancel does
    await asyncio.wait({job.task}, timeout=20)
    assert job.state == "cancelled"
    assert watched.outcome == "HashCancelledError"
    assert watched.bytes_done - at_cancel <= 2 * BLOCK
    await service.close()


def test_an_interrupted_node_raises_comfys_exception_and_stops_the_read(comfy_env, fake_civitai):
    comfy_env.start_server()
    service = comfy_env.make_service(settings(fake_civitai))
    watched = asyncio.run_coroutine_threadsafe(_watched(service), comfy_env.loop).result(10)
    _sparse(comfy_env.models_dir / "loras" / "huge.safetensors")
    management = pack_module_comfy("comfy.model_management")
    identify = pack_module("nodes.comfy.nodes").IdentifyModel

    pressed = {}

    def press_cancel():
        watched.started.wait(20)
        pressed["at"] = watched.bytes_done
        management.interrupt_current_processing()  # ComfyUI's "Cancel" button

    presser = threading.Thread(target=press_cancel)
    presser.start()
    try:
        with pytest.raises(management.InterruptProcessingException):
            asyncio.run(identify.EXECUTE_NORMALIZED_ASYNC(model="loras/huge.safetensors",
                                                          refresh=True))  # fmt: skip
    finally:
        presser.join(20)
        management.interrupt_current_processing(False)
    assert watched.ended.wait(20) and watched.outcome == "HashCancelledError"
    assert watched.bytes_done - pressed["at"] <= 2 * BLOCK
    assert not management.processing_interrupted()  # the flag was consumed, as ComfyUI does


def pack_module_comfy(name):
    import importlib

    return importlib.import_module(name)
