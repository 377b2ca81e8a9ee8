"""Which diffusion model a set of weights is, from tensor names and shapes.

``diffusion_base(keys, p)`` looks at the keys under prefix ``p`` (``"model.diffusion_model."``
in a checkpoint, ``""`` in a single-file unet) and returns ``(base_model, evidence)`` or
None when the keys are no diffusion model this module knows. Patterns follow ComfyUI's
``comfy/model_detection.py`` (the names the original trainers' code gives each layer).
"""

import re

# Cross-attention context width of a UNet → CivitAI's base model (SD 2.0 and 2.1 share a
# layout; "SD 2.1" is the one users have).
UNET_CONTEXT = {768: "SD 1.5", 1024: "SD 2.1", 2048: "SDXL 1.0", 1280: "SDXL Refiner"}
# Wan: transformer width → size; input channels → task.
WAN_SIZES = {1536: "1.3B", 5120: "14B", 3072: "5B"}


def diffusion_base(keys, p: str = "") -> tuple[str | None, list[str]] | None:
    for test in _ARCHS:
        found = test(keys, p)
        if found is not None:
            return found
    return None


def _unet(keys, p):
    first = f"{p}input_blocks.0.0.weight"
    if first not in keys:
        return None
    evidence = [first]
    if keys.has(".time_stack."):
        return "SVD", [*evidence, "time_stack layers (video UNet)"]
    to_k = keys.find(
        rf"{re.escape(p)}(?:input|output|middle)_blocks?\.[\d.]*"
        r"transformer_blocks\.0\.attn2\.to_k\.weight"
    )
    width = keys.dim(to_k, 1) if to_k else None
    base = UNET_CONTEXT.get(width)
    if to_k:
        evidence.append(f"{to_k} {list(keys.shape(to_k))}")
    if keys.dim(first, 1) == 9:
        evidence.append("9 input channels (inpainting)")
    return base, evidence


def _diffusers_unet(keys, p):
    conv_in, time = f"{p}conv_in.weight", f"{p}time_embedding.linear_1.weight"
    if conv_in not in keys or time not in keys or not keys.starts(f"{p}up_blocks."):
        return None
    to_k = keys.find(
        rf"{re.escape(p)}(?:down|up|mid)_blocks?\.[\d.]*attentions\.\d+\."
        r"transformer_blocks\.0\.attn2\.to_k\.weight"
    )
    if not to_k:
        return None, [conv_in, time]
    return UNET_CONTEXT.get(keys.dim(to_k, 1)), [f"{to_k} {list(keys.shape(to_k))}"]


def _flux(keys, p):
    qkv = f"{p}double_blocks.0.img_attn.qkv.weight"
    diffusers = f"{p}single_transformer_blocks.0.attn.to_q.weight"
    if qkv in keys:
        guidance = keys.starts(f"{p}guidance_in.")
        evidence = [qkv]
    elif diffusers in keys and keys.starts(f"{p}x_embedder."):
        if (keys.max_index(rf"^{re.escape(p)}single_transformer_blocks\.(?P<n>\d+)\.") or 0) >= 38:
            return "Hunyuan Video", [diffusers, "40 single blocks"]
        guidance = keys.starts(f"{p}time_text_embed.guidance_embedder.")
        evidence = [diffusers]
    else:
        return None
    if keys.starts(f"{p}double_stream_modulation_img."):
        return "Flux.2", [*evidence, "double_stream_modulation_img (Flux.2)"]
    if keys.starts(f"{p}distilled_guidance_layer."):
        return "Chroma", [*evidence, "distilled_guidance_layer (Chroma)"]
    if guidance:
        return "Flux.1 D", [*evidence, "guidance embedding (guidance-distilled: dev)"]
    return "Flux.1 S", [*evidence, "no guidance embedding (schnell)"]


def _hunyuan_video(keys, p):
    for name in (
        f"{p}double_blocks.0.img_attn_qkv.weight",
        f"{p}txt_in.individual_token_refiner.blocks.0.norm1.weight",
    ):
        if name in keys:
            return "Hunyuan Video", [name]
    return None


def _sd3(keys, p):
    qkv = f"{p}joint_blocks.0.x_block.attn.qkv.weight"
    if qkv not in keys:
        return None
    depth = (keys.max_index(rf"^{re.escape(p)}joint_blocks\.(?P<n>\d+)\.") or 0) + 1
    evidence = [qkv, f"{depth} joint blocks"]
    if depth >= 38:
        return "SD 3.5 Large", evidence
    if keys.has(".x_block.attn2."):
        return "SD 3.5 Medium", [*evidence, "x_block.attn2 (MMDiT-X)"]
    return ("SD 3" if depth == 24 else None), evidence


def _wan(keys, p):
    q = f"{p}blocks.0.self_attn.q.weight"
    if q not in keys or not keys.starts(f"{p}blocks.0.cross_attn."):
        return None
    width = keys.dim(q, 0)
    size = WAN_SIZES.get(width)
    patch = f"{p}patch_embedding.weight"
    in_dim = keys.dim(patch, 1)
    evidence = [f"{q} {list(keys.shape(q))}"]
    if in_dim is not None:
        evidence.append(f"{patch} {list(keys.shape(patch))}")
    image = keys.starts(f"{p}img_emb.") or f"{p}blocks.0.cross_attn.k_img.weight" in keys
    if size == "5B":
        return "Wan Video 2.2 TI2V-5B", evidence
    if size == "1.3B":
        return "Wan Video 1.3B t2v", evidence
    if size is None:
        return None, evidence
    if image:
        return "Wan Video 14B i2v", [*evidence, "image cross-attention (i2v)"]
    if in_dim == 36:
        return "Wan Video 2.2 I2V-A14B", [*evidence, "36 input channels, no image encoder"]
    if in_dim == 16:
        return "Wan Video 14B t2v", evidence
    return "Wan Video 14B", evidence


def _ltxv(keys, p):
    name = f"{p}patchify_proj.weight"
    if name in keys and keys.starts(f"{p}adaln_single."):
        return "LTXV", [name]
    return None


def _auraflow(keys, p):
    for name in (f"{p}double_layers.0.attn.w1q.weight", f"{p}cond_seq_linear.weight"):
        if name in keys:
            return "AuraFlow", [name]
    return None


def _pixart(keys, p):
    name = f"{p}blocks.0.cross_attn.q_linear.weight"
    if name in keys and keys.starts(f"{p}t_block."):
        # α has the aspect-ratio micro-conditioning embedder, Σ (CivitAI: "PixArt E") not
        if keys.starts(f"{p}ar_embedder."):
            return "PixArt a", [name, "ar_embedder (PixArt-α)"]
        return "PixArt E", [name, "t_block without ar_embedder (PixArt-Σ)"]
    return None


def _cascade(keys, p):
    for name, stage in (
        (f"{p}clip_txt_mapper.weight", "stage C"),
        (f"{p}effnet_mapper.0.weight", "stage B"),
    ):
        if name in keys:
            return "Stable Cascade", [name, stage]
    return None


def _others(keys, p):
    if keys.starts(f"{p}double_stream_blocks."):
        return "HiDream", [f"{p}double_stream_blocks.*"]
    if f"{p}txt_norm.weight" in keys and keys.starts(f"{p}transformer_blocks.0.img_mod."):
        return "Qwen", [f"{p}transformer_blocks.0.img_mod.*", f"{p}txt_norm.weight"]
    if keys.starts(f"{p}cap_embedder.") and keys.starts(f"{p}noise_refiner."):
        return "Lumina", [f"{p}cap_embedder.*", f"{p}noise_refiner.*"]
    return None


# Hunyuan Video before Flux: ComfyUI's own Hunyuan files use Flux's layer names
_ARCHS = (
    _unet,
    _diffusers_unet,
    _hunyuan_video,
    _flux,
    _sd3,
    _wan,
    _ltxv,
    _auraflow,
    _pixart,
    _cascade,
    _others,
)
