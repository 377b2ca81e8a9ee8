"""Everything that is not a diffusion model or a LoRA: textual-inversion embeddings,
IP-Adapters, ControlNets, VAEs, CLIP vision towers, text encoders, upscalers.

Each ``detect_*`` returns ``(kind, base_model, format, evidence)`` or None.
"""

import re

from .diffusion import UNET_CONTEXT

_EMBED_WIDTH = {768: "SD 1.5", 1024: "SD 2.1"}
_CLIP_TEXT = {768: "CLIP-L", 1024: "OpenCLIP-H", 1280: "CLIP-G"}
_CLIP_VISION = {1024: "CLIP-ViT-L", 1280: "CLIP-ViT-H", 1664: "CLIP-ViT-bigG", 1152: "SigLIP"}
_T5 = {512: "T5-Small", 768: "T5-Base", 1024: "T5-Large", 2048: "T5-XL", 4096: "T5-XXL"}


def detect_embedding(keys):
    if len(keys) > 8:
        return None
    if "clip_l" in keys and "clip_g" in keys:
        return "embedding", "SDXL 1.0", None, ["clip_l and clip_g vectors"]
    for name in ("emb_params", "string_to_param.*", "*"):
        shape = keys.shape(name)
        if shape is not None and len(shape) == 2:
            base = _EMBED_WIDTH.get(shape[1])
            return "embedding", base, None, [f"{name} {list(shape)}"]
    return None


def detect_ip_adapter(keys):
    if not (keys.starts("image_proj.") and keys.starts("ip_adapter.")):
        return None
    to_k = keys.find(r"ip_adapter\.\d+\.to_k_ip\.weight")
    width = keys.dim(to_k, 1) if to_k else None
    base = {768: "SD 1.5", 2048: "SDXL 1.0"}.get(width)
    evidence = ["image_proj.* and ip_adapter.*"] + (
        [f"{to_k} {list(keys.shape(to_k))}"] if to_k else []
    )
    return "ip_adapter", base, None, evidence


def detect_controlnet(keys):
    hint = next(
        (
            n
            for n in (
                "control_model.input_hint_block.0.weight",
                "input_hint_block.0.weight",
                "controlnet_cond_embedding.conv_in.weight",
            )
            if n in keys
        ),
        None,
    )
    if hint is None:
        if keys.starts("controlnet_blocks.") and (
            keys.starts("double_blocks.") or keys.starts("transformer_blocks.")
        ):
            width = keys.dim("controlnet_blocks.0.weight", 0)
            base = "Flux.1" if width == 3072 else None
            return "controlnet", base, None, ["controlnet_blocks.* on transformer blocks"]
        return None
    to_k = keys.find(r".*transformer_blocks\.0\.attn2\.to_k\.weight")
    width = keys.dim(to_k, 1) if to_k else None
    evidence = [hint] + ([f"{to_k} {list(keys.shape(to_k))}"] if to_k else [])
    return "controlnet", UNET_CONTEXT.get(width), None, evidence


def detect_vae(keys):
    if "encoder.conv1.weight" in keys and "decoder.conv1.weight" in keys:
        shape = keys.shape("decoder.conv1.weight")
        if len(shape) == 5:  # causal 3D convolutions: Wan's video VAE
            return "vae", "Wan Video", None, [f"decoder.conv1.weight {list(shape)} (3D)"]
    conv = next(
        (n for n in ("decoder.conv_in.weight", "decoder.conv_in.conv.weight") if n in keys), None
    )
    if conv is None or not keys.starts("encoder."):
        return None
    shape = keys.shape(conv)
    evidence = [f"{conv} {list(shape)}"]
    if len(shape) == 5:
        return "vae", "Hunyuan Video", None, [*evidence, "3D convolutions (video VAE)"]
    latent = shape[1] if len(shape) > 1 else None
    evidence.append(f"{latent}-channel latent")
    # SD 1.x, SD 2 and SDXL VAEs share one layout (4 channels), Flux and SD 3 another (16):
    # the shapes cannot tell them apart, so no base model is claimed.
    return "vae", None, None, evidence


def detect_clip_vision(keys):
    name = keys.find(r"(?:.*\.)?vision_model\.embeddings\.patch_embedding\.weight")
    if name is None:
        return None
    width = keys.dim(name, 0)
    return "clip_vision", _CLIP_VISION.get(width), None, [f"{name} {list(keys.shape(name))}"]


def detect_text_encoder(keys):
    q = keys.find(r"(?:.*\.)?text_model\.encoder\.layers\.0\.self_attn\.q_proj\.weight")
    if q is not None:
        return "text_encoder", _CLIP_TEXT.get(keys.dim(q, 0)), None, [_show(keys, q)]
    attn = keys.find(r"(?:.*\.)?transformer\.resblocks\.0\.attn\.in_proj_weight")
    if attn is not None and not keys.has("visual."):
        return "text_encoder", _CLIP_TEXT.get(keys.dim(attn, 1)), None, [_show(keys, attn)]
    q = keys.find(r"(?:.*\.)?encoder\.block\.0\.layer\.0\.SelfAttention\.q\.weight")
    if q is not None:
        return _t5(keys, q)
    q = keys.find(r"(?:.*\.)?layers\.0\.self_attn\.q_proj\.weight")
    if q is not None and keys.find(r"(?:.*\.)?embed_tokens\.weight"):
        return "text_encoder", None, None, [_show(keys, q), "a decoder-only language model"]
    return None


def _t5(keys, q):
    prefix = q[: -len("encoder.block.0.layer.0.SelfAttention.q.weight")]
    width = keys.dim(q, 1)
    evidence = [_show(keys, q)]
    vocab_key = next(
        (
            n
            for n in (f"{prefix}shared.weight", f"{prefix}encoder.embed_tokens.weight")
            if n in keys
        ),
        None,
    )
    vocab = keys.dim(vocab_key, 0) if vocab_key else None
    # umT5 gives every block its own relative position bias; T5 only the first block
    per_block = f"{prefix}encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight"
    family = _T5.get(width)
    if family and (per_block in keys or (vocab or 0) > 200_000):
        family = "um" + family
        evidence.append(per_block if per_block in keys else f"{vocab_key} vocabulary {vocab}")
    return "text_encoder", family, None, evidence


def detect_upscaler(keys):
    if "conv_first.weight" in keys and (keys.has(".rdb1.") or keys.has(".RDB1.")):
        return "upscaler", None, "esrgan", ["conv_first.weight", "residual dense blocks"]
    if keys.has(".sub.0.RDB1.") and keys.starts("model.0."):
        return "upscaler", None, "esrgan", ["model.1.sub.*.RDB1 (old ESRGAN layout)"]
    if "conv_first.weight" in keys and keys.has(".residual_group."):
        return "upscaler", None, "swinir", ["conv_first.weight", "layers.*.residual_group"]
    names = list(keys.tensors)
    if names and all(re.fullmatch(r"body\.\d+\.(?:weight|bias)", n) for n in names):
        return "upscaler", None, "compact", ["body.N only (SRVGGNetCompact)"]
    return None


def _show(keys, name: str) -> str:
    return f"{name} {list(keys.shape(name))}"


DETECTORS = (detect_embedding, detect_ip_adapter, detect_controlnet)
LATE_DETECTORS = (detect_vae, detect_clip_vision, detect_text_encoder, detect_upscaler)
