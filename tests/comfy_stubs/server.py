"""Stand-in for ComfyUI's ``server`` module: only what custom node packs touch.

Faithful to ComfyUI 0.3.x ``server.PromptServer``: the constructor takes the server's
event loop and sets ``PromptServer.instance``; ``routes`` is an ``aiohttp.web.RouteTableDef``
that packs decorate at import time; ``add_routes()`` mounts every route twice, at ``/path``
and ``/api/path``, as ComfyUI does; ``send_sync(event, data, sid=None)`` is thread-safe
(it hops onto ``loop``). The stand-in also keeps every message in ``sent`` for tests.
"""

import asyncio
import threading

from aiohttp import web


class PromptServer:
    instance = None

    def __init__(self, loop):
        PromptServer.instance = self
        self.loop = loop
        self.routes = web.RouteTableDef()
        self.app = web.Application()
        self.messages = asyncio.Queue()
        self.client_id = None
        self.last_node_id = None
        self.last_prompt_id = None
        self.sent = []  # stand-in only: (event, data, sid) in order
        self._sent_lock = threading.Lock()

    def add_routes(self):
        api_routes = web.RouteTableDef()
        for route in self.routes:
            if isinstance(route, web.RouteDef):
                api_routes.route(route.method, "/api" + route.path)(route.handler, **route.kwargs)
        self.app.add_routes(api_routes)
        self.app.add_routes(self.routes)

    def send_sync(self, event, data, sid=None):
        with self._sent_lock:
            self.sent.append((event, data, sid))
        self.loop.call_soon_threadsafe(self.messages.put_nowait, (event, data, sid))
