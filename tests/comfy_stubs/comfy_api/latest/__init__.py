"""Stand-in for ``comfy_api.latest``: ``ComfyExtension`` and the ``io`` module, with the
same signatures as ComfyUI 0.3.x (``comfy_api/latest/__init__.py``)."""

from abc import ABC, abstractmethod

from . import _io as io


class ComfyExtension(ABC):
    async def on_load(self) -> None:  # noqa: B027 - not abstract in ComfyUI either
        """Called when an extension is loaded."""

    @abstractmethod
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        """Returns a list of nodes that this extension provides."""


IO = io

__all__ = ["IO", "ComfyExtension", "io"]
