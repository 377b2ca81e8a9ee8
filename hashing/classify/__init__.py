"""What a model file is, from its own header: kind, base model, ComfyUI folder, precision,
trainer metadata. Pure and offline (no network, no ComfyUI); reads only headers (a
safetensors JSON header, a GGUF tensor table, a zip listing) and never unpickles.
Contract in docs/internals.md ("detected"). Names load on first use."""

import importlib

_EXPORTS = {
    "classify": "core",
    "classify_file": "core",
    "inspect_file": "core",
    "FIELDS": "core",
    "CATEGORIES": "core",
    "read_table": "table",
    "TensorTable": "table",
    "family": "families",
    "same_family": "families",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
