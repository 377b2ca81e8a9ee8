"""A fake CivitAI API: a real aiohttp server on 127.0.0.1, in its own thread and event loop.

Because it runs in its own thread, sync tests, async tests (any loop) and CLI subprocesses
can all talk to it. Use the ``fake_civitai`` fixture (registered in conftest.py); it is one
server per session, reset before each test.

    def test_x(fake_civitai):
        ids = fake_civitai.add_file_model(sha256="AB12...64 hex", autov3="0123456789AB",
                                          name="My LoRA", type="LORA", base_model="SDXL 1.0",
                                          trained_words=["trigger"], nsfw_level=1)
        ids.model_id, ids.version_id          # the ids the fake gave
        settings_base = fake_civitai.url      # "http://127.0.0.1:PORT/api/v1" = CIVITAI_API_BASE

API (all thread-safe, call from any thread):
- ``.url`` the API base; ``.origin`` "http://127.0.0.1:PORT".
- ``.add_file_model(sha256=None, *, autov1=None, autov2=None (default: sha256[:10]),
  autov3=None, crc32=None, blake3=None, name="Fake model N", version_name="v1.0",
  file_name=None, type="LORA", base_model="SDXL 1.0", trained_words=(), tags=(),
  creator="fake_creator" (None → no creator key), description="<p>…</p>", images=None
  (default: one image with nsfw_level), nsfw_level=1, nsfw=False, archived=False,
  model_id=None (reuse a model → a second version), size_kb=1024.0, primary=True,
  extra_files=())`` → ``FakeIds(model_id, version_id)``. ``archived=True`` makes the
  bulk answer carry ``files: []`` (CivitAI's archived-model trap).
- ``.add_model(name=..., type=..., ...) -> model_id`` and
  ``.add_version(model_id, files=[fake_file(sha256=...)...], ...) -> version_id`` for
  finer control; ``fake_file(...)`` (module function) builds one file dict.
- ``.fail_next(status, n=1, *, body=None, content_type="application/json", headers=None,
  path=None)``: the next n requests (whose path contains ``path``, if given) get this
  answer instead. ``status="reset"`` drops the connection; ``.delay_next(seconds, n=1)``
  makes the next n answers late (for timeouts).
- ``.down = True``: every request gets a 503 Cloudflare HTML page (``.down = "reset"``:
  every connection is dropped).
- ``.requests``: list of ``FakeRequest(method, path, query, json, headers, start, end)``;
  ``path`` is the full URL path ("/api/v1/model-versions/by-hash"), ``query`` a dict,
  ``json`` the parsed body or None, ``headers`` a dict (Authorization kept so token tests
  can check it), ``start``/``end`` from ``.clock`` (default ``time.monotonic``; set it to a
  fake clock shared with the client's SpacingLimiter to check spacing).
  ``.calls(path_suffix)`` → the requests whose path ends with it. ``.started``: ``(path,
  start)`` appended as each request arrives (``.requests`` only gets it once answered).
- ``.reset()`` forgets models, failures, requests, ``down`` and ``clock``.

Helpers: ``FakeClock()`` (real monotonic time plus everything "slept"; ``await
clock.sleep(s)`` returns at once and records ``s`` in ``clock.sleeps``) and
``fake_client(fake, *, token=None, interval=3.0, timeout=5.0, clock=None)`` → a
``CivitaiClient`` on ``fake.url`` whose SpacingLimiter (and retry backoff) runs on that
clock, shared with ``fake.clock``: no real waiting. Use ``async with`` or ``await .close()``.

Images: ``.add_image(name, data=PNG_BYTES, content_type)`` → a URL on the fake
(``<origin>/images/<name>``); ``.image(url, nsfw_level, type)`` → one ``images[]`` entry.
Every version's default image is PNG bytes at a ``.jpeg`` URL (as CivitAI's CDN does).
``add_version(..., published_at=...)`` sets ``publishedAt`` (None: unpublished); several
versions of one model (``model_id=``) with different base models and dates model updates.

Endpoints (under /api/v1): POST model-versions/by-hash (≤100 SHA256, else 400),
POST model-versions/by-hash/ids, GET model-versions/by-hash/{hash} (404
``{"error": "Model not found"}``), GET model-versions/{id}, GET models?ids=&nsfw=
(NSFW models hidden unless nsfw=true), GET models/{id}, GET enums.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from typing import Any, NamedTuple

import pytest
from aiohttp import web
from fake_civitai_catalog import JPEG_BYTES, PNG_BYTES, WEBP_BYTES, FakeCatalog, FakeIds, fake_file

__all__ = [
    "JPEG_BYTES",
    "PNG_BYTES",
    "WEBP_BYTES",
    "FakeCivitai",
    "FakeClock",
    "FakeIds",
    "FakeRequest",
    "fake_client",
    "fake_file",
]

API_PREFIX = "/api/v1"
IMAGE_PREFIX = "/images"  # the fake's image CDN (not API calls: no spacing)
MODEL_TYPES = [
    "Checkpoint", "TextualInversion", "Hypernetwork", "AestheticGradient", "LORA", "LoCon",
    "DoRA", "Controlnet", "Upscaler", "MotionModule", "VAE", "Poses", "Wildcards", "Workflows",
    "Detection", "Other",
]  # fmt: skip
CLOUDFLARE_HTML = (
    "<!DOCTYPE html><html><head><title>Just a moment...</title></head>"
    "<body>Checking your browser before accessing civitai.com. Cloudflare Ray ID: 0</body></html>"
)
#: What Cloudflare serves when the origin is down: HTML, but no challenge.
OUTAGE_HTML = (
    "<!DOCTYPE html><html><head><title>civitai.com | 502: Bad gateway</title></head>"
    "<body>Bad gateway. Cloudflare Ray ID: 0</body></html>"
)
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


class FakeRequest(NamedTuple):
    method: str
    path: str
    query: dict
    json: Any
    headers: dict
    start: float
    end: float


class FakeCivitai(FakeCatalog):
    """See the module docstring."""

    def __init__(self) -> None:
        super().__init__()
        self.host = "127.0.0.1"
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.reset()

    # --- lifecycle -------------------------------------------------------------------
    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return self.origin + API_PREFIX

    def start(self) -> FakeCivitai:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake CivitAI server did not start")
        return self

    def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, self.host, 0)
        self._loop.run_until_complete(site.start())
        self.port = self._runner.addresses[0][1]
        self.image_base = self.origin + IMAGE_PREFIX
        ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()

    def stop(self) -> None:
        if self._loop and self._thread:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def reset(self) -> None:
        self.clear()
        with self._lock:
            self.requests: list[FakeRequest] = []
            self.started: list[tuple[str, float]] = []  # (path, start) as each one arrives
            self._failures: list[dict] = []
            self.down: bool | str = False
            self.clock = time.monotonic

    # --- failure modes ---------------------------------------------------------------
    def fail_next(self, status, n=1, *, body=None, content_type="application/json",
                  headers=None, path=None) -> None:  # fmt: skip
        if body is None and content_type == "application/json":
            body = '{"error": "fake failure"}'
        with self._lock:
            for _ in range(n):
                self._failures.append(
                    {"status": status, "body": body or "", "content_type": content_type,
                     "headers": headers or {}, "path": path, "delay": 0}
                )  # fmt: skip

    def delay_next(self, seconds: float, n=1, *, path=None) -> None:
        with self._lock:
            for _ in range(n):
                self._failures.append({"status": None, "delay": seconds, "path": path})

    def calls(self, path_suffix: str) -> list[FakeRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith(path_suffix)]

    # --- serving ---------------------------------------------------------------------
    def _take_failure(self, path: str) -> dict | None:
        with self._lock:
            for i, f in enumerate(self._failures):
                if f["path"] is None or f["path"] in path:
                    return self._failures.pop(i)
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        start = self.clock()
        log = self.requests  # a late answer (after a client timeout) must not leak past reset()
        with self._lock:
            self.started.append((request.path, start))
        body = None
        if request.can_read_body:
            try:
                body = await request.json()
            except ValueError:
                body = await request.text()
        try:
            return await self._answer(request, body)
        finally:
            with self._lock:
                log.append(
                    FakeRequest(request.method, request.path, dict(request.query), body,
                                dict(request.headers), start, self.clock())
                )  # fmt: skip

    async def _answer(self, request: web.Request, body: Any) -> web.StreamResponse:
        if self.down:
            if self.down == "reset":
                return self._drop(request)
            return web.Response(status=503, text=OUTAGE_HTML, content_type="text/html")
        failure = self._take_failure(request.path)
        if failure:
            if failure["delay"]:
                await asyncio.sleep(failure["delay"])
            if failure["status"] == "reset":
                return self._drop(request)
            if failure["status"] is not None:
                return web.Response(
                    status=failure["status"], text=failure["body"], headers=failure["headers"],
                    content_type=failure["content_type"] or None,
                )  # fmt: skip
        if request.path.startswith(IMAGE_PREFIX + "/"):
            with self._lock:
                found = self.images.get(request.path[len(IMAGE_PREFIX) + 1 :])
            if found is None:
                return web.Response(status=404, text="no such image")
            return web.Response(body=found[0], content_type=found[1])
        path = request.path.removeprefix(API_PREFIX)
        with self._lock:
            return self._route(request.method, path, request.query, body)

    @staticmethod
    def _drop(request: web.Request) -> web.StreamResponse:
        # Abort the socket under aiohttp's feet: the client sees a reset / disconnect.
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=500)

    def _route(self, method: str, path: str, query, body) -> web.Response:
        parts = path.strip("/").split("/")
        if method == "POST" and path == "/model-versions/by-hash":
            return self._bulk(body)
        if method == "POST" and path == "/model-versions/by-hash/ids":
            return self._bulk_ids(body)
        if method == "GET" and parts[:2] == ["model-versions", "by-hash"] and len(parts) == 3:
            found = self._versions_with_hash(parts[2])
            if not found:
                return web.json_response({"error": "Model not found"}, status=404)
            return web.json_response(self._version_json(found[0], keep_files=True))
        if method == "GET" and parts[0] == "model-versions" and len(parts) == 2:
            version = self.versions.get(_int(parts[1]))
            if not version:
                return web.json_response({"error": "Missing model file"}, status=404)
            return web.json_response(self._version_json(version, keep_files=True))
        if method == "GET" and path == "/models":
            ids = [_int(i) for i in query.get("ids", "").split(",") if i]
            show_nsfw = query.get("nsfw") == "true"
            items = [
                self._model_json(self.models[i])
                for i in ids
                if i in self.models and (show_nsfw or not self.models[i]["nsfw"])
            ]
            return web.json_response({"items": items, "metadata": {"totalItems": len(items)}})
        if method == "GET" and parts[0] == "models" and len(parts) == 2:
            model = self.models.get(_int(parts[1]))
            if not model:
                return web.json_response({"error": f"No model with id {parts[1]}"}, status=404)
            return web.json_response(self._model_json(model))
        if method == "GET" and path == "/enums":
            return web.json_response({"ModelType": MODEL_TYPES})
        return web.json_response({"error": "Not found"}, status=404)

    def _bulk(self, body) -> web.Response:
        if not isinstance(body, list) or not body:
            return web.json_response({"error": "Expected an array of hashes"}, status=400)
        if len(body) > 100:
            return web.json_response({"error": "Too many hashes"}, status=400)
        if not all(isinstance(h, str) and _SHA256.match(h) for h in body):
            return web.json_response({"error": "Invalid SHA256 hash"}, status=400)
        answer = []
        for h in body:
            for version in self._versions_with_hash(h, sha256_only=True):
                for f in version["files"]:
                    if f["hashes"].get("SHA256", "").upper() == h.upper():
                        answer.append(self._version_json(version))
        return web.json_response(answer)

    def _bulk_ids(self, body) -> web.Response:
        if not isinstance(body, list):
            return web.json_response({"error": "Expected an array of hashes"}, status=400)
        answer = []
        for h in body:
            for version in self._versions_with_hash(str(h), sha256_only=True):
                answer.append(
                    {"modelVersionId": version["id"], "modelId": version["modelId"], "hash": h}
                )
        return web.json_response(answer)


class FakeClock:
    """``clock()`` = real monotonic time + everything slept; ``sleep`` never really waits."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return time.monotonic() + self.offset

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.offset += max(0.0, seconds)
        await asyncio.sleep(0)


def fake_client(fake: FakeCivitai, *, token=None, interval=3.0, timeout=5.0, clock=None):
    """A CivitaiClient pointed at ``fake``, spaced on a FakeClock (see the module doc)."""
    from packload import pack_module

    civitai = pack_module("civitai")
    clock = clock or FakeClock()
    fake.clock = clock
    settings = civitai.Settings(api_base=fake.url, token=token, interval=interval, timeout=timeout)
    limiter = civitai.SpacingLimiter(interval, clock=clock, sleep=clock.sleep)
    client = civitai.CivitaiClient(settings, limiter=limiter)
    client.clock = clock
    return client


KNOWN_SHA = "A" * 64  # the SHA256 the ``known`` fixture's model has


async def lookup_once(fake: FakeCivitai, hashes=(KNOWN_SHA,), **kw):
    """One ``client.lookup(hashes)`` through ``fake_client`` (no spacing unless asked):
    the outcomes and the client (its ``clock.sleeps`` say how it waited)."""
    kw.setdefault("interval", 0)
    async with fake_client(fake, **kw) as client:
        out = await client.lookup(list(hashes))
    return out, client


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return -1


@pytest.fixture(scope="session")
def _fake_civitai_server():
    server = FakeCivitai().start()
    yield server
    server.stop()


@pytest.fixture
def fake_civitai(_fake_civitai_server):
    """A running FakeCivitai, emptied before each test."""
    _fake_civitai_server.reset()
    yield _fake_civitai_server
    _fake_civitai_server.reset()


@pytest.fixture
def known(fake_civitai):
    """The fake CivitAI knowing one model, by the file SHA256 ``KNOWN_SHA``."""
    fake_civitai.add_file_model(KNOWN_SHA, name="Known")
    return fake_civitai
