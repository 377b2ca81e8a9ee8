"""Base model names → the architecture family they run on, so "SDXL 1.0", "Pony" and
"Illustrious" compare equal and "SD 1.5" vs "SDXL 1.0" do not. Used to refine a detected
base model with metadata and to cross-check CivitAI's answer against the header."""

import re

# lower-case prefix of a CivitAI baseModel (or a detected name) → family
_PREFIXES = (
    ("sd 1", "SD 1"),
    ("sd 2", "SD 2"),
    ("sdxl", "SDXL"),
    ("pony", "SDXL"),
    ("illustrious", "SDXL"),
    ("noobai", "SDXL"),
    ("playground v2", "SDXL"),
    ("sd 3", "SD 3"),
    ("flux.1", "Flux.1"),
    ("flux.2", "Flux.2"),
    ("chroma", "Chroma"),
    ("wan video", "Wan Video"),
    ("hunyuan video", "Hunyuan Video"),
    ("ltxv", "LTXV"),
    ("auraflow", "AuraFlow"),
    ("pixart", "PixArt"),
    ("stable cascade", "Stable Cascade"),
    ("svd", "SVD"),
    ("hidream", "HiDream"),
    ("qwen", "Qwen"),
    ("lumina", "Lumina"),
)
_WAN_SIZE = re.compile(r"\b(?:a)?(1\.3b|14b|5b)\b")


def family(base_model: str | None) -> str | None:
    """``"SDXL Lightning"`` → ``"SDXL"``; ``"Wan Video 14B t2v"`` → ``"Wan Video 14B"``;
    None for names that say nothing about the architecture ("Other", encoders)."""
    if not isinstance(base_model, str):
        return None
    low = base_model.strip().lower()
    for prefix, fam in _PREFIXES:
        if low.startswith(prefix):
            if fam == "Wan Video":
                m = _WAN_SIZE.search(
                    low.replace("ti2v-", "").replace("i2v-", "").replace("t2v-", "")
                )
                return f"Wan Video {m.group(1).upper()}" if m else fam
            return fam
    return None


def same_family(a: str | None, b: str | None) -> bool | None:
    """True/False when both names have a family; None when either says nothing. A name
    whose family is less specific ("Wan Video") agrees with a more specific one."""
    fa, fb = family(a), family(b)
    if fa is None or fb is None:
        return None
    return fa == fb or fa.startswith(fb) or fb.startswith(fa)
