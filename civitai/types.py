"""CivitAI model type (enum ``ModelType``) → the ComfyUI model folder it belongs in."""

from __future__ import annotations

# Types without a natural ComfyUI folder (Poses, Wildcards, Workflows, …) map to "other".
_CATEGORIES = {
    "checkpoint": "checkpoints",
    "lora": "loras",
    "locon": "loras",
    "dora": "loras",
    "lycoris": "loras",
    "textualinversion": "embeddings",
    "hypernetwork": "hypernetworks",
    "controlnet": "controlnet",
    "upscaler": "upscale_models",
    "vae": "vae",
    "motionmodule": "animatediff_models",
    "textencoder": "text_encoders",
    "clip": "text_encoders",
    "unet": "diffusion_models",
    "clipvision": "clip_vision",
    "aestheticgradient": "other",
    "poses": "other",
    "wildcards": "other",
    "workflows": "other",
    "detection": "other",
    "visionlanguage": "other",
    "llm": "other",
    "other": "other",
}


def category_for_type(model_type: str | None) -> str:
    """``"LORA"`` → ``"loras"``; case-insensitive; unknown, empty or None → ``"other"``."""
    if not isinstance(model_type, str):
        return "other"
    key = model_type.strip().lower().replace(" ", "").replace("_", "")
    return _CATEGORIES.get(key, "other")
