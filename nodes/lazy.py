"""Lazy package surfaces: ``from ..store import ModelStore`` imports ``store/model_store.py``
(and sqlite3 behind it) only when the name is first used, so importing the pack in ComfyUI, or
running ``python3 . hash``, loads no layer it does not need."""

import importlib


def lazy_surface(package: str, exports: dict[str, str]):
    """A module ``__getattr__`` for ``package`` that resolves each name in ``exports``
    (name → submodule, relative to the package) on first access."""

    def __getattr__(name: str):
        try:
            submodule = exports[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        return getattr(importlib.import_module(f"{package}.{submodule}"), name)

    return __getattr__
