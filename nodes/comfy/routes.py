"""HTTP routes under ``/civitai-identify/``: parse the request, call the service, answer JSON.

Inside ComfyUI ``comfy_glue`` calls ``add_routes(PromptServer.instance.routes, get_service)``
and ComfyUI serves every route at ``/civitai-identify/...`` and ``/api/civitai-identify/...``.
On a bare aiohttp app (tests, the web panel's browser harness)::

    app = web.Application()
    app.add_routes(route_table(service))                      # /civitai-identify/...
    app.add_routes(route_table(service, prefix="/api/civitai-identify"))   # optional
    # or simply: app = make_app(service)   (both prefixes)

``service`` is a ``Service`` or a zero-argument callable returning one (built lazily).

Model names in URLs: ``GET models/{folder}/{name}`` takes the relative name with its ``/``
kept as ``/``; encode each segment, not the whole name (JS:
``name.split("/").map(encodeURIComponent).join("/")``). ``%2F``, ``%2E``, ``%5C`` and
``%00`` in the raw path are refused (400), as are ``..``, ``//``, absolute names,
backslashes and NUL. ``%25`` is a plain ``%`` in a file name ("100% real.safetensors");
a double-encoded escape (``%252e``) is still refused once decoded. Errors are
``{"error": "sentence"}`` with 400 (bad input), 404 (unknown model), 500 or 503 (the store
cannot be opened); never a stack trace.

``GET models?view=brief`` answers the same records with ``civitai_info`` trimmed for a list
(see ``record_views.py``); ``view=full`` (the default) is the stored record.
"""

import asyncio
import json
import logging
import re
from urllib.parse import unquote

from aiohttp import web

from .names import BadName, ModelNotFound, has_dangerous_escape
from .record_views import BadView

_log = logging.getLogger(__name__)

PREFIX = "/civitai-identify"

# Escapes that hide a dot, slash, backslash or NUL in the raw path. Not %25: that is how a
# literal '%' in a file name travels; the decoded forms are checked by has_dangerous_escape.
_RAW_ESCAPE = re.compile(r"%(2e|2f|5c|00)", re.IGNORECASE)


# GET models' parameters (the rest are ignored, as before); FILTER_PARAMS also for facets
FILTER_PARAMS = ("q", "category", "status", "base_model", "update", "kind")
LIST_PARAMS = (*FILTER_PARAMS, "view", "limit", "offset", "cursor", "sort")


class Routes:
    """The handlers; ``add_routes(routes, prefix)`` registers them on a RouteTableDef."""

    def __init__(self, service):
        self._get = service if callable(service) and not hasattr(service, "status") else None
        self._service = None if self._get else service

    @property
    def service(self):
        if self._service is None:
            self._service = self._get()
        return self._service

    def add_routes(self, routes: web.RouteTableDef, prefix: str = PREFIX) -> None:
        routes.get(f"{prefix}/status")(self.status)
        routes.get(f"{prefix}/models")(self.list_models)
        routes.get(f"{prefix}/facets")(self.facets)
        routes.get(prefix + "/models/{folder}/{name:.*}")(self.get_model)
        routes.post(f"{prefix}/identify")(self.identify)
        routes.post(f"{prefix}/link")(self.link)
        routes.post(f"{prefix}/unlink")(self.unlink)
        routes.post(f"{prefix}/preview")(self.preview)
        routes.get(f"{prefix}/scan")(self.get_scan)
        routes.post(f"{prefix}/scan")(self.start_scan)
        routes.post(f"{prefix}/scan/cancel")(self.cancel_scan)

    async def status(self, request):
        return await _answer(self.service.status())

    async def list_models(self, request):
        filters = {k: v for k, v in request.query.items() if k in LIST_PARAMS}
        filters["view"] = filters.get("view") or "full"  # "brief": civitai_info trimmed
        result = await _answer(self.service.list_models(**filters), raw=True)
        if isinstance(result, web.Response):
            return result
        # 10,000 records are ~10 MB of JSON: encode them off the server loop too.
        body = await asyncio.to_thread(json.dumps, result)
        return web.Response(text=body, content_type="application/json")

    async def facets(self, request):
        filters = {k: v for k, v in request.query.items() if k in FILTER_PARAMS}
        return await _answer(self.service.facets(**filters))

    async def get_model(self, request):
        raw = request.raw_path.split("?", 1)[0]
        if _RAW_ESCAPE.search(raw) or has_dangerous_escape(unquote(raw)):
            return _error(400, "The model name contains an encoded escape; send the plain name.")
        folder, name = request.match_info["folder"], request.match_info["name"]
        return await _answer(self.service.get_model(folder, name))

    async def identify(self, request):
        body = await _json_body(request)
        if isinstance(body, web.Response):
            return body
        force = body.get("force", False)
        if not isinstance(force, bool):
            return _error(400, "force must be true or false.")
        svc = self.service
        coro = svc.call(svc.identify_request, body.get("folder"), body.get("name"), force)
        result = await _answer(coro, raw=True)
        if isinstance(result, web.Response):
            return result
        record, job = result
        if job is not None:
            return web.json_response({"job": svc.job_dict(job)}, status=202)
        return web.json_response(record)

    async def link(self, request):
        """``{"folder", "name", "url"}`` → ``{"record", "warning"}`` (nodes/comfy/links.py)."""
        return await self._file_call(request, "link", "url")

    async def unlink(self, request):
        """``{"folder", "name"}`` → the record without its manual link."""
        return await self._file_call(request, "unlink")

    async def preview(self, request):
        """``{"folder", "name"}`` → ``{"result": "written"|"exists"|"no_image", "record"}``."""
        return await self._file_call(request, "preview")

    async def _file_call(self, request, action: str, *extra: str):
        """POST ``{"folder", "name", *extra}`` → ``links.<action>(service, folder, name, …)``
        on the service loop, its errors as JSON answers."""
        from . import links

        body = await _json_body(request)
        if isinstance(body, web.Response):
            return body
        svc = self.service
        args = [body.get(key) for key in ("folder", "name", *extra)]
        return await _answer(svc.call(getattr(links, action), svc, *args))

    async def get_scan(self, request):
        return web.json_response(self.service.scan_job())

    async def start_scan(self, request):
        body = await _json_body(request)
        if isinstance(body, web.Response):
            return body
        retry = body.get("retry_unknown", False)
        previews = body.get("write_previews")  # absent: the CIVITAI_IDENTIFY_PREVIEWS setting
        if not isinstance(retry, bool) or not isinstance(previews, (bool, type(None))):
            return _error(400, "retry_unknown and write_previews must be true or false.")
        svc = self.service
        coro = svc.call(svc.start_scan, body.get("folders", "all"), body.get("identify"), retry,
                        previews)  # fmt: skip
        result = await _answer(coro, raw=True)
        if isinstance(result, web.Response):
            return result
        job, created = result
        return web.json_response(svc.job_dict(job), status=202 if created else 200)

    async def cancel_scan(self, request):
        job = self.service.cancel_scan()
        if job is None:
            return _error(404, "No scan has run yet.")
        return web.json_response(job)


def add_routes(routes: web.RouteTableDef, service, prefix: str = PREFIX) -> Routes:
    """Register every route on ``routes`` (ComfyUI's ``PromptServer.instance.routes``)."""
    handlers = Routes(service)
    handlers.add_routes(routes, prefix)
    return handlers


def route_table(service, prefix: str = PREFIX) -> web.RouteTableDef:
    routes = web.RouteTableDef()
    add_routes(routes, service, prefix)
    return routes


def make_app(service) -> web.Application:
    """A bare app serving the routes at both ``/civitai-identify/`` and ``/api/...``."""
    app = web.Application()
    handlers = Routes(service)
    for prefix in (PREFIX, "/api" + PREFIX):
        routes = web.RouteTableDef()
        handlers.add_routes(routes, prefix)
        app.add_routes(routes)
    return app


async def _json_body(request):
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, "The request body must be JSON.")
    if not isinstance(body, dict):
        return _error(400, "The request body must be a JSON object.")
    return body


async def _answer(coro, raw=False):
    """Await a service call and map its errors to JSON answers."""
    from ..scan import BadLink, LinkFailed
    from ..store import BadQuery
    from .service import IdentifyFailed, ServiceUnavailable

    try:
        result = await coro
    except (BadName, BadView, BadQuery, BadLink) as exc:
        return _error(400, str(exc))
    except LinkFailed as exc:
        return _error(502, str(exc))
    except ModelNotFound as exc:
        return _error(404, str(exc))
    except IdentifyFailed as exc:
        return _error(500, str(exc))
    except ServiceUnavailable as exc:
        return _error(503, str(exc))
    except Exception as exc:  # noqa: BLE001 - a sentence for the client, the trace in the log
        _log.exception("CivitAI Identify route failed")
        return _error(500, f"Internal error ({type(exc).__name__}); see the ComfyUI log.")
    return result if raw else web.json_response(result)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)
