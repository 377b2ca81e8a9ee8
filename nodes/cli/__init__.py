"""The headless command line: ``python3 <pack-dir> COMMAND ...``."""

from ..lazy import lazy_surface

__all__ = ["main"]

__getattr__ = lazy_surface(__name__, {"main": "main"})
