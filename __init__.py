"""CivitAI Identify: a ComfyUI custom node pack that identifies model files on CivitAI.

ComfyUI imports this file with importlib under the pack's folder name. Importing it must
stay cheap and side-effect free (no file IO, no scanning): the nodes are built lazily in
``comfy_entrypoint`` and the HTTP routes are attached only when ComfyUI's PromptServer is
running. Any failure is logged in one line and never stops ComfyUI from starting.
"""

import logging

WEB_DIRECTORY = "./web"

_log = logging.getLogger(__name__)


async def comfy_entrypoint():
    """V3 entry point: ComfyUI awaits this to get the extension listing the nodes."""
    from .nodes.comfy import CivitaiIdentifyExtension

    return CivitaiIdentifyExtension()


def _attach_to_comfyui() -> None:
    try:
        from .nodes.comfy import attach

        attach()
    except Exception as exc:  # noqa: BLE001 - ComfyUI must start whatever happens here
        _log.error("CivitAI Identify: routes not registered: %s: %s", type(exc).__name__, exc)


def __getattr__(name: str):
    # Resolved on use, not at import: pytest imports this file as a bare module when the
    # checkout's folder is not a valid Python name (``custom_nodes/civitai-identify``), where
    # a top-level relative import would fail the whole test run.
    if name == "__version__":
        from .civitai.version import __version__

        return __version__
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_attach_to_comfyui()

__all__ = ["WEB_DIRECTORY", "comfy_entrypoint"]
