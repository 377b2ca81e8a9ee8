"""The ComfyUI adapter: V3 nodes, the service they and the routes share, jobs and routes."""

from ..lazy import lazy_surface

__all__ = ["CivitaiIdentifyExtension", "attach"]

__getattr__ = lazy_surface(__name__, {"CivitaiIdentifyExtension": "nodes", "attach": "glue"})
