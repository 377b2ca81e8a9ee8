"""What trainers write into a file's metadata: kohya's ``ss_*`` keys, the ``modelspec.*``
keys (Stability's model spec, also written by ai-toolkit and OneTrainer), GGUF's
``general.*``. Metadata is shown and used as a hint; the tensors decide (see core)."""

import math

from ..safe_json import UntrustedJSONError, loads_untrusted

TOP_TAGS = 20
MAX_TAG_JSON = 4 * 1024 * 1024  # inside a header already capped at 16 MiB
_TRAINING = (
    ("ss_base_model_version", "base_model_version"),
    ("ss_sd_model_name", "base_checkpoint"),
    ("ss_network_module", "network_module"),
    ("ss_network_dim", "network_dim"),
    ("ss_network_alpha", "network_alpha"),
    ("ss_resolution", "resolution"),
    ("ss_num_epochs", "epochs"),
    ("ss_epoch", "epoch"),
    ("ss_steps", "steps"),
    ("ss_learning_rate", "learning_rate"),
    ("ss_output_name", "output_name"),
    ("ss_training_comment", "comment"),
    ("modelspec.resolution", "resolution"),
)
_MAX_VALUE = 500


def training(meta: dict) -> dict | None:
    """The trainer metadata worth showing, or None when there is none."""
    out = {}
    for key, name in _TRAINING:
        value = meta.get(key)
        if isinstance(value, str) and value.strip() and value != "None" and name not in out:
            out[name] = value.strip()[:_MAX_VALUE]
    tags = top_tags(meta.get("ss_tag_frequency"))
    if tags:
        out["tags"] = tags
    return out or None


def top_tags(raw, n: int = TOP_TAGS) -> list[dict]:
    """``ss_tag_frequency`` (JSON: dataset folder → {tag: count}) → the ``n`` most frequent
    tags over all folders, ``[{"tag", "count"}]``; [] for anything malformed."""
    if not isinstance(raw, str):
        return []
    try:  # metadata is untrusted: the pack's one guarded JSON reader
        data = loads_untrusted(raw.encode("utf-8", "replace"), max_bytes=MAX_TAG_JSON)
    except UntrustedJSONError:
        return []
    if not isinstance(data, dict):
        return []
    totals: dict[str, int] = {}
    for folder in data.values():
        if not isinstance(folder, dict):
            continue
        for tag, count in folder.items():
            if isinstance(count, int | float) and not isinstance(count, bool) and (
                math.isfinite(count) and count > 0
            ):
                tag = str(tag).strip()
                if tag:
                    totals[tag] = totals.get(tag, 0) + int(count)
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:n]
    return [{"tag": tag, "count": count} for tag, count in ranked]


def modelspec(meta: dict) -> dict:
    """title / trigger_phrase / author from ``modelspec.*`` (None when absent)."""

    def get(key):
        value = meta.get(f"modelspec.{key}")
        return value.strip()[:_MAX_VALUE] if isinstance(value, str) and value.strip() else None

    return {"title": get("title"), "trigger_phrase": get("trigger_phrase"), "author": get("author")}


# lower-case fragment of a metadata value → the base model it names (most specific first)
_HINTS = (
    ("flux-1-dev", "Flux.1 D"),
    ("flux.1-dev", "Flux.1 D"),
    ("flux1-dev", "Flux.1 D"),
    ("flux1_dev", "Flux.1 D"),
    ("flux-1-schnell", "Flux.1 S"),
    ("flux1-schnell", "Flux.1 S"),
    ("flux.1-schnell", "Flux.1 S"),
    ("flux1_schnell", "Flux.1 S"),
    ("schnell", "Flux.1 S"),
    ("flux", "Flux.1"),
    ("stable-diffusion-3.5-large", "SD 3.5 Large"),
    ("stable-diffusion-3.5-medium", "SD 3.5 Medium"),
    ("stable-diffusion-3", "SD 3"),
    ("sd3", "SD 3"),
    ("stable-diffusion-xl", "SDXL 1.0"),
    ("sdxl", "SDXL 1.0"),
    ("stable-diffusion-v2", "SD 2.1"),
    ("sd_v2", "SD 2.1"),
    ("sd_v1", "SD 1.5"),
    ("stable-diffusion-v1", "SD 1.5"),
    ("i2v-14b-720p", "Wan Video 14B i2v 720p"),
    ("i2v_14b_720p", "Wan Video 14B i2v 720p"),
    ("i2v-14b-480p", "Wan Video 14B i2v 480p"),
    ("i2v_14b_480p", "Wan Video 14B i2v 480p"),
    ("720p", "Wan Video 14B i2v 720p"),
    ("480p", "Wan Video 14B i2v 480p"),
    ("i2v", "Wan Video 14B i2v"),
    ("t2v-14b", "Wan Video 14B t2v"),
    ("t2v_14b", "Wan Video 14B t2v"),
    ("t2v", "Wan Video 14B t2v"),
    ("wan", "Wan Video"),
    ("hunyuan", "Hunyuan Video"),
    ("ltx", "LTXV"),
    ("pixart-sigma", "PixArt E"),
    ("pixart_sigma", "PixArt E"),
    ("sigma", "PixArt E"),
    ("auraflow", "AuraFlow"),
)
_HINT_KEYS = (
    "modelspec.architecture",
    "ss_base_model_version",
    "ss_sd_model_name",
    "modelspec.title",
    "general.name",
    "general.architecture",
)


def base_hints(meta: dict, file_name: str | None = None) -> list[tuple[str, str]]:
    """``[(base model named, where)]`` from the metadata (and the file name, last)."""
    hints = []
    sources = [(k, meta.get(k)) for k in _HINT_KEYS]
    if file_name:
        sources.append(("file name", file_name))
    for where, value in sources:
        if not isinstance(value, str):
            continue
        low = value.lower()
        for fragment, base in _HINTS:
            if fragment in low:
                hints.append((base, f"{where} {value[:80]!r}"))
                break
    return hints
