"""Test server for the sidebar panel: the pack's REAL routes (nodes.routes.make_app over a real
Service and a real SQLite store) plus what ComfyUI's server would add around them:

- ``/`` the test page, ``/scripts/app.js`` + ``/scripts/api.js`` stand-ins (tests/browser/page),
- ``/extensions`` (every .js file under web/, as ComfyUI lists them) and
  ``/extensions/civitai-identify/...`` (web/ itself),
- ``/ws``: the Service's ``emit(event, data)`` goes to every websocket as
  ``{"type": event, "data": data}`` (ComfyUI's message shape),
- ``/img/{name}.png``: small generated PNGs, so seeded records have previews offline.

``PanelServer(...).start()`` runs it in its own thread and event loop (any test can use it);
``python tests/browser/panel_server.py --records 10000`` serves a seeded store by hand.
"""

from __future__ import annotations

import asyncio
import functools
import json
import struct
import sys
import threading
import types
import zlib
from pathlib import Path

from aiohttp import WSMsgType, web

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
PACK = TESTS.parent
sys.path.insert(0, str(TESTS))
from packload import pack_module  # noqa: E402

MODEL_EXTS = {".safetensors", ".ckpt", ".pt", ".pth", ".bin", ".sft", ".gguf"}
FOLDERS = ("checkpoints", "loras", "embeddings", "vae")


def fake_folder_paths(models_dir: Path) -> types.SimpleNamespace:
    """A ``folder_paths`` with the attributes the pack reads, over ``models_dir``."""
    table = {name: ([str(models_dir / name)], set(MODEL_EXTS)) for name in FOLDERS}

    def get_full_path(folder, name):
        for root in table.get(folder, ([], None))[0]:
            path = Path(root) / name
            if path.is_file():
                return str(path)
        return None

    return types.SimpleNamespace(
        folder_names_and_paths=table,
        models_dir=str(models_dir),
        supported_pt_extensions=set(MODEL_EXTS),
        get_folder_paths=lambda name: list(table[name][0]),
        get_full_path=get_full_path,
        get_user_directory=lambda: str(models_dir.parent / "user"),
    )


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A solid-colour PNG (stdlib only) with a lighter diagonal band so it reads as a picture."""
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            band = abs(x - y * width // height) < width // 6
            row += bytes(min(255, c + 70) if band else c for c in rgb)
        rows.append(bytes(row))

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    head = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", head)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


@functools.lru_cache(maxsize=16)
def _png_cached(colour):
    return png(64, 96, colour)


COLOURS = {
    "red": (170, 50, 60),
    "blue": (50, 90, 170),
    "green": (50, 140, 80),
    "gold": (170, 130, 40),
    "violet": (110, 60, 160),
}


class PanelServer:
    """The routes + page on 127.0.0.1:<free port>, in a thread. ``settings``: a civitai
    Settings (point it at the fake CivitAI); ``db_path``: the store the Service opens;
    ``port``: a fixed one (a kept store's image URLs name the origin it was seeded with)."""

    def __init__(
        self,
        models_dir: Path,
        db_path: Path,
        settings=None,
        progress_interval=0.05,
        controls=None,
        port=0,
    ):
        self.models_dir = Path(models_dir)
        self.db_path = Path(db_path)
        self.settings = settings
        self.progress_interval = progress_interval
        # POST /harness/{name} runs controls[name]() in a thread: lets the driver set up a
        # situation mid-run (e.g. a slow CivitAI answer before it clicks Cancel).
        self.controls = dict(controls or {})
        self.sockets: set[web.WebSocketResponse] = set()
        self.sent: list[tuple[str, dict]] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self.port = port  # 0: a free one, known once started
        self._ready = threading.Event()
        self._stop = None
        self._error = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> PanelServer:
        self._thread = threading.Thread(target=self._run, name="panel-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(30) or self._error:
            raise RuntimeError(f"panel test server did not start: {self._error}")
        return self

    def stop(self) -> None:
        if self.loop and self._stop:
            self.loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(15)

    def emit(self, event: str, data: dict) -> None:
        """Thread-safe, like PromptServer.send_sync."""
        self.sent.append((event, data))
        self.loop.call_soon_threadsafe(self._broadcast, json.dumps({"type": event, "data": data}))

    def _broadcast(self, text: str) -> None:
        for ws in list(self.sockets):
            if not ws.closed:
                self.loop.create_task(ws.send_str(text))

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        try:
            self.loop.run_until_complete(self._serve())
        except Exception as exc:  # noqa: BLE001 - reported to start() as a sentence
            self._error = f"{type(exc).__name__}: {exc}"
            self._ready.set()
        finally:
            self.loop.close()

    async def _serve(self) -> None:
        routes, service_mod = pack_module("nodes.comfy.routes"), pack_module("nodes.comfy.service")
        self.service = service_mod.Service(
            fake_folder_paths(self.models_dir),
            emit=self.emit,
            loop=asyncio.get_running_loop(),
            db_path=str(self.db_path),
            settings=self.settings,
            environ={},
            progress_interval=self.progress_interval,
        )
        app = routes.make_app(self.service)
        app.router.add_get("/", self._index)
        app.router.add_static("/scripts/", HERE / "page" / "scripts")
        app.router.add_get("/extensions", self._extensions)
        app.router.add_static("/extensions/civitai-identify/", PACK / "web")
        app.router.add_get("/ws", self._websocket)
        app.router.add_get("/img/{name}.png", self._image)
        app.router.add_post("/harness/{name}", self._control)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        self._stop = asyncio.Event()
        self._ready.set()
        await self._stop.wait()
        for ws in list(self.sockets):
            await ws.close()
        await self.service.close()
        await runner.cleanup()

    async def _control(self, request):
        control = self.controls.get(request.match_info["name"])
        if control is None:
            return web.json_response({"error": "no such control"}, status=404)
        await asyncio.to_thread(control)
        return web.json_response({"ok": True})

    async def _index(self, request):
        return web.FileResponse(HERE / "page" / "index.html")

    async def _extensions(self, request):
        web_dir = PACK / "web"
        files = sorted(p.relative_to(web_dir).as_posix() for p in web_dir.rglob("*.js"))
        return web.json_response([f"/extensions/civitai-identify/{f}" for f in files])

    async def _websocket(self, request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.add(ws)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.ERROR:
                    break
        finally:
            self.sockets.discard(ws)
        return ws

    async def _image(self, request):
        name = request.match_info["name"]
        colour = COLOURS.get(name.split("-")[0], (90, 90, 90))
        body = _png_cached(colour)
        return web.Response(
            body=body, content_type="image/png", headers={"Cache-Control": "max-age=3600"}
        )


if __name__ == "__main__":  # serve a seeded store by hand: look at the panel in a browser
    import argparse
    import tempfile
    import time

    from panel_seed import seed_bulk, seed_small_tree

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=0, help="add this many synthetic records")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cid-panel-"))
    server = PanelServer(tmp / "models", tmp / "store.sqlite")
    server.start()
    seed_small_tree(tmp / "models", tmp / "store.sqlite", server.origin)
    if args.records:
        seed_bulk(tmp / "store.sqlite", args.records, server.origin)
    print(f"serving {server.origin}/ (Ctrl-C to stop)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
