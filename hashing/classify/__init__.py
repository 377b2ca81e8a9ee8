"""What a model file is, from its own header: kind, base model, ComfyUI folder, precision,
trainer metadata. Pure and offline (no network, no ComfyUI); reads only headers (a
safetensors JSON header, a GGUF tensor table, a zip listing) and never unpickles.
Contract in docs/internals.md ("detected"). Names load on first use."""

from .. import lazy_surface

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

__getattr__, __dir__ = lazy_surface(__name__, _EXPORTS)
