"""``classify``: a parsed tensor table → ``detected`` (what the file is), and
``classify_file``: the same straight from a file's header.

Order of evidence: tensor names and shapes decide kind and base model; trainer metadata
only refines a base model within the family the shapes show (Flux dev vs schnell, Wan
480p vs 720p), or names one when the shapes cannot (and the evidence says so). A layout
nobody here knows gives ``kind: None`` — never a guess dressed as fact.
"""

import os

from .diffusion import diffusion_base
from .families import same_family
from .keys import Keys
from .lora import is_lora, lora_base, lora_format
from .metadata import base_hints, modelspec, training
from .parts import DETECTORS, LATE_DETECTORS
from .table import read_table

CATEGORIES = {
    "checkpoint": "checkpoints",
    "diffusion_model": "diffusion_models",
    "lora": "loras",
    "embedding": "embeddings",
    "vae": "vae",
    "controlnet": "controlnet",
    "upscaler": "upscale_models",
    "text_encoder": "text_encoders",
    "clip_vision": "clip_vision",
    "ip_adapter": "ipadapter",
}
CHECKPOINT_PREFIX = "model.diffusion_model."
# a checkpoint also carries its VAE and/or text encoders under one of these
_BUNDLED = ("first_stage_model.", "cond_stage_model.", "conditioner.", "text_encoders.", "vae.")
# safetensors dtype → precision name
_DTYPES = {
    "F32": "fp32",
    "F16": "fp16",
    "BF16": "bf16",
    "F64": "fp64",
    "F8_E4M3": "fp8_e4m3fn",
    "F8_E4M3FN": "fp8_e4m3fn",
    "F8_E5M2": "fp8_e5m2",
}
_DOMINANT = 0.9  # share of the weights one dtype needs to name the file's precision
_TRUSTED_HINTS = ("modelspec.architecture", "ss_base_model_version", "general.architecture")
FIELDS = (
    "kind",
    "format",
    "base_model",
    "category",
    "precision",
    "parameters",
    "training",
    "title",
    "trigger_phrase",
    "author",
    "evidence",
)


def classify(
    tensors: dict,
    metadata: dict | None = None,
    *,
    container: str = "safetensors",
    file_name: str | None = None,
) -> dict:
    """``tensors``: name → (dtype, shape); ``metadata``: str → str. Returns ``detected``
    with every key of ``FIELDS``. ``file_name`` is only a last hint for a base model."""
    metadata = metadata or {}
    keys = Keys(tensors)
    kind, base, fmt, evidence = (
        _decide(keys) if tensors else (None, None, None, ["no tensors in the header"])
    )
    base, evidence = _refine(kind, base, evidence, metadata, file_name)
    if container == "gguf":
        fmt = "gguf"
    detected = {
        "kind": kind,
        "format": fmt,
        "base_model": base,
        "category": CATEGORIES.get(kind),
        "precision": precision(tensors, metadata, container),
        "parameters": parameters(tensors) if tensors else None,
        "training": training(metadata),
        **modelspec(metadata),
        "evidence": evidence[:8],
    }
    return detected


def _decide(keys):
    if is_lora(keys):
        fmt, evidence = lora_format(keys)
        base, more = lora_base(keys)
        return "lora", base, fmt, evidence + more
    for detect in DETECTORS:
        found = detect(keys)
        if found:
            return found
    if keys.starts(CHECKPOINT_PREFIX):
        found = diffusion_base(keys, CHECKPOINT_PREFIX)
        if found is not None:
            bundled = [p for p in _BUNDLED if keys.starts(p)]
            kind = "checkpoint" if bundled else "diffusion_model"
            extra = [f"bundles {', '.join(p + '*' for p in bundled)}"] if bundled else []
            return kind, found[0], None, found[1] + extra
    found = diffusion_base(keys, "")
    if found is not None:
        return "diffusion_model", found[0], None, found[1]
    for detect in LATE_DETECTORS:
        found = detect(keys)
        if found:
            return found
    return None, None, None, ["no known layout matches these tensor names"]


def _refine(kind, base, evidence, metadata, file_name):
    """Let metadata sharpen (never overturn) what the shapes said."""
    if kind is None:
        return None, evidence
    hints = base_hints(metadata, file_name)
    if base is None:
        trusted = [h for h in hints if h[1].split(" ")[0] in _TRUSTED_HINTS]
        if trusted:
            return trusted[0][0], [*evidence, f"base model from metadata: {trusted[0][1]}"]
        return None, evidence
    for hint, where in hints:
        agrees = same_family(hint, base)
        if agrees is False:
            evidence = [*evidence, f"metadata says {hint} ({where}) but the tensors say {base}"]
            continue
        if agrees and len(hint) > len(base) and hint.startswith(base):
            return hint, [*evidence, f"refined by {where}"]  # "Flux.1" → "Flux.1 D"
    return base, evidence


def precision(tensors: dict, metadata: dict, container: str) -> str | None:
    """The dtype holding ≥ 90 % of the weights, "mixed" when none does; for GGUF the
    file's quantisation (``general.file_type``) or its dominant tensor type."""
    if container == "gguf":
        from .gguf import FILE_TYPES

        file_type = metadata.get("general.file_type")
        if file_type is not None and file_type.isdigit() and int(file_type) in FILE_TYPES:
            return FILE_TYPES[int(file_type)]
    weights: dict[str, int] = {}
    for dtype, shape in tensors.values():
        name = _DTYPES.get(dtype, dtype) if container != "gguf" else dtype
        weights[name] = weights.get(name, 0) + _numel(shape)
    total = sum(weights.values())
    if not total:
        return None
    name, top = max(weights.items(), key=lambda item: item[1])
    if container == "gguf":
        quantised = {k: v for k, v in weights.items() if k not in ("F32", "F16", "BF16")}
        if quantised:
            name, top = max(quantised.items(), key=lambda item: item[1])
            return name if top * 2 >= total else "mixed"
        return name
    return name if top >= _DOMINANT * total else "mixed"


def parameters(tensors: dict) -> int:
    return sum(_numel(shape) for _, shape in tensors.values())


def _numel(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def classify_file(path: str | os.PathLike) -> dict:
    """``detected`` for the file at ``path`` from its header alone. Raises FileReadError
    or HeaderError (both HashingError, so OSError)."""
    return inspect_file(path)[0]


def inspect_file(path: str | os.PathLike) -> tuple[dict, int]:
    """(``detected``, bytes read). A zip/pickle file is never unpickled: its kind is None."""
    table = read_table(path)
    name = os.path.basename(os.fspath(path))
    if table.container == "pickle":
        detected = classify({}, {}, container="pickle")
        detected["format"] = "pickle"
        detected["evidence"] = [
            "a PyTorch pickle: its tensor names are inside the pickle, which is never loaded"
        ]
        return detected, table.bytes_read
    return classify(
        table.tensors, table.metadata, container=table.container, file_name=name
    ), table.bytes_read
