"""Attach the pack to a running ComfyUI: the routes at import, the one Service on first use.

Import-light on purpose (the root ``__init__`` imports it at ComfyUI start-up): nothing
heavy is imported until ComfyUI's ``server`` module is known to be loaded. ComfyUI imports
``server`` and ``folder_paths`` before it loads custom nodes, so looking in ``sys.modules``
is enough and never picks up an unrelated ``server.py`` from the path.
"""

import logging
import sys
import threading

_log = logging.getLogger(__name__)

_service = None  # the one Service of this ComfyUI process (see get_service)
_service_lock = threading.Lock()  # a route (server thread) and a node (worker) may race


def _prompt_server():
    server = sys.modules.get("server")
    return getattr(getattr(server, "PromptServer", None), "instance", None)


def attach() -> bool:
    """Register the routes on ``PromptServer.instance.routes`` if ComfyUI is running.
    Returns False (and does nothing) outside ComfyUI. Raises on a real failure; the caller
    logs it in one line."""
    prompt_server = _prompt_server()
    if prompt_server is None:
        return False
    from .routes import add_routes

    add_routes(prompt_server.routes, get_service)
    _on_shutdown_of(getattr(prompt_server, "app", None))
    return True


def _on_shutdown_of(app) -> None:
    """Close the Service when ComfyUI's aiohttp app shuts down (Ctrl+C, a restart from the
    Manager): running jobs are cancelled (a read stops within one block), then the aiohttp
    session, the hash cache and the store are closed, so nothing is left half-written."""
    try:
        app.on_shutdown.append(_shutdown)
    except (AttributeError, RuntimeError) as exc:  # no app, or already started (frozen)
        _log.warning("CivitAI Identify: no shutdown hook (%s); jobs end with the process", exc)


async def _shutdown(_app) -> None:
    global _service
    with _service_lock:
        service, _service = _service, None
    if service is not None:
        try:
            await service.call(service.close)
        except Exception as exc:  # noqa: BLE001 - never in the way of ComfyUI's shutdown
            _log.warning("CivitAI Identify: closing at shutdown: %s: %s", type(exc).__name__, exc)


def get_service():
    """The process-wide Service, built on first use (first request or node run) on top of
    ComfyUI's ``folder_paths`` and ``PromptServer.instance.send_sync``, with its own loop."""
    global _service
    with _service_lock:
        if _service is None:
            from .service import Service

            folder_paths = sys.modules.get("folder_paths")
            prompt_server = _prompt_server()
            if folder_paths is None or prompt_server is None:
                raise RuntimeError("CivitAI Identify needs ComfyUI's server and folder_paths.")
            # its own loop, not the server's: store calls may wait on a CLI's lock
            _service = Service(folder_paths, emit=prompt_server.send_sync, own_loop=True)
        return _service


def set_service(service) -> None:
    """Install (or with None, forget) the Service: for tests and harnesses."""
    global _service
    _service = service
