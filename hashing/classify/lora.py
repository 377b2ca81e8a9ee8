"""LoRA-family files: which trainer format (kohya LoRA/LoCon, LyCORIS LoHa/LoKr, DoRA,
diffusers, PEFT) and which base model the adapted layers belong to.

Module names are normalised first (``lora_unet_down_blocks_0_…`` and
``unet.down_blocks.0.…`` and ``base_model.model.down_blocks.0.…`` all become
``down_blocks_0_…``), then read like a full model: which blocks exist and how wide the
adapted layers are (a LoRA's down matrix has the layer's input width).
"""

import re

from .diffusion import UNET_CONTEXT, WAN_SIZES

# suffix of an adapter tensor → the format it implies (first match wins, most specific first)
_SUFFIXES = (
    (".hada_w1_a", "loha"),
    (".hada_w1_b", "loha"),
    (".lokr_w1", "lokr"),
    (".lokr_w1_a", "lokr"),
    (".lokr_w2", "lokr"),
    (".lokr_w2_a", "lokr"),
    (".oft_blocks", "oft"),
    (".oft_diag", "oft"),
    (".dora_scale", "dora"),
    (".lora_down.weight", "lora"),
    (".lora_up.weight", "lora"),
    (".lora_A.weight", "lora_A"),
    (".lora_B.weight", "lora_A"),
    (".lora.down.weight", "diffusers_lora"),
    (".lora_linear_layer.down.weight", "diffusers_lora"),
    (".diff", "full"),
    (".diff_b", "full"),
)
_MARKER = re.compile(
    r"^(.+?)(" + "|".join(re.escape(s) for s, _ in _SUFFIXES) + r")$", re.MULTILINE
)
_FORMATS = dict(_SUFFIXES)
_UNET_PREFIXES = (
    "lora_unet_",
    "lora_transformer_",
    "base_model_model_",
    "model_diffusion_model_",
    "diffusion_model_",
    "unet_",
    "transformer_",
    "lycoris_",
)
_TE_PREFIXES = (
    "lora_te1_",
    "lora_te2_",
    "lora_te3_",
    "lora_te_",
    "text_encoder_2_",
    "text_encoder_",
    "te1_",
    "te2_",
    "te_",
)


def is_lora(keys) -> bool:
    return _MARKER.search(keys.text) is not None


def lora_format(keys) -> tuple[str, list[str]]:
    found: dict[str, str] = {}
    for m in _MARKER.finditer(keys.text):  # the first tensor of each format is its evidence
        found.setdefault(_FORMATS[m.group(2)], m.group(0))
    for fmt in ("loha", "lokr", "oft", "dora"):
        if fmt in found:
            return fmt, [found[fmt]]
    if "lora_A" in found:
        peft = keys.starts("base_model.model.")
        return ("peft_lora" if peft else "diffusers_lora"), [found["lora_A"]]
    if "diffusers_lora" in found:
        return "diffusers_lora", [found["diffusers_lora"]]
    if "lora" in found:
        for name in keys.find_all(r".*\.lora_down\.weight"):
            shape = keys.shape(name)
            if len(shape) == 4 and tuple(shape[2:]) != (1, 1):
                return "locon", [f"{name} {list(shape)} (3×3 convolution)"]
        return "lora", [found["lora"]]
    return "full", [found.get("full", "")]


def modules(keys) -> tuple[dict[str, str], dict[str, str]]:
    """(unet modules, text-encoder modules): normalised name → original module name."""
    unet, te = {}, {}
    for m in _MARKER.finditer(keys.text):
        original = m.group(1)
        name = original.replace(".", "_")
        for prefix in _TE_PREFIXES:
            if name.startswith(prefix):
                te[prefix + "|" + name[len(prefix) :]] = original
                break
        else:
            for prefix in _UNET_PREFIXES:
                if name.startswith(prefix) and not name.startswith("transformer_blocks_"):
                    name = name[len(prefix) :]
                    break
            unet[name] = original
    return unet, te


def in_features(keys, module: str) -> int | None:
    """The input width of the layer ``module`` adapts, from its adapter matrices."""
    for suffix in (
        ".lora_down.weight",
        ".lora_A.weight",
        ".lora.down.weight",
        ".lora_linear_layer.down.weight",
        ".hada_w1_b",
        ".diff",
    ):
        width = keys.dim(module + suffix, 1)
        if width is not None:
            return width
    w1 = keys.dim(module + ".lokr_w1", 1) or keys.dim(module + ".lokr_w1_b", 1)
    w2 = keys.dim(module + ".lokr_w2", 1) or keys.dim(module + ".lokr_w2_b", 1)
    return w1 * w2 if w1 and w2 else None


def lora_base(keys) -> tuple[str | None, list[str]]:
    """(base model or a family name when only the family is certain, evidence)."""
    unet, te = modules(keys)
    text = "\n" + "\n".join(unet) + "\n"

    def width(pattern: str):
        m = re.search(rf"^({pattern})$", text, re.MULTILINE)
        if not m:
            return None, None
        original = unet[m.group(1)]
        return in_features(keys, original), original

    def blocks(pattern: str) -> int:
        found = [int(n) for n in re.findall(pattern, text, re.MULTILINE)]
        return max(found, default=-1) + 1

    if re.search(r"^double_blocks_\d+_", text, re.MULTILINE) or "\nsingle_blocks_" in text:
        if (
            "img_mlp_fc" in text
            or "individual_token_refiner" in text
            or blocks(r"^double_blocks_(\d+)_") > 19
            or blocks(r"^single_blocks_(\d+)_") > 38
        ):
            return "Hunyuan Video", ["double_blocks/single_blocks with Hunyuan's layer names"]
        return "Flux.1", ["double_blocks/single_blocks (Flux layer names)"]
    if "\nsingle_transformer_blocks_" in text or re.search(
        r"^transformer_blocks_\d+_attn_add_[qkv]_proj", text, re.MULTILINE
    ):
        w, name = width(r"(?:single_)?transformer_blocks_\d+_attn_to_[qk]")
        if w == 3072:
            if blocks(r"^single_transformer_blocks_(\d+)_") > 38:
                return "Hunyuan Video", [f"{name} (width 3072, 40 single blocks)"]
            return "Flux.1", [f"{name} (width 3072: Flux)"]
        if w == 2432:
            return "SD 3.5 Large", [f"{name} (width 2432)"]
        if w == 1536:
            return "SD 3", [f"{name} (width 1536)"]
        return None, ["diffusers transformer blocks of unknown width"]
    if "\njoint_blocks_" in text:
        w, name = width(r"joint_blocks_\d+_x_block_attn_(?:qkv|proj)")
        if w == 2432:
            return "SD 3.5 Large", [f"{name} (width 2432)"]
        if "x_block_attn2" in text:
            return "SD 3.5 Medium", ["joint_blocks with x_block.attn2"]
        return "SD 3", ["joint_blocks (MMDiT)"]
    if re.search(r"^blocks_\d+_(?:self_attn|cross_attn|ffn|attn1|attn2)_", text, re.MULTILINE):
        w, name = width(r"blocks_\d+_(?:self_attn_[qkv]|attn1_to_[qkv])")
        size = WAN_SIZES.get(w)
        evidence = [f"{name} (width {w})" if name else "blocks.N.self_attn (Wan)"]
        if size == "1.3B":
            return "Wan Video 1.3B t2v", evidence
        if size == "5B":
            return "Wan Video 2.2 TI2V-5B", evidence
        if "cross_attn_k_img" in text or "attn2_add_k_proj" in text:
            return "Wan Video 14B i2v", [*evidence, "image cross-attention (i2v)"]
        return ("Wan Video 14B" if size else "Wan Video"), evidence
    if "\ndouble_layers_" in text or "\nsingle_layers_" in text:
        return "AuraFlow", ["double_layers/single_layers (AuraFlow)"]
    if re.search(r"^transformer_blocks_\d+_attn1_to_[qkv]", text, re.MULTILINE):
        w, name = width(r"transformer_blocks_\d+_attn1_to_[qkv]")
        if w == 2048:
            return "LTXV", [f"{name} (width 2048)"]
        if w == 1152:
            return "PixArt a", [f"{name} (width 1152)"]
        return None, ["transformer_blocks of unknown width"]
    return _sd_unet(keys, text, unet, te, width)


def _sd_unet(keys, text, unet, te, width):
    w, name = width(r".*attn2_to_k")
    if w in UNET_CONTEXT:
        return UNET_CONTEXT[w], [f"{name} (cross-attention width {w})"]
    tes = {k.split("|")[0] for k in te}
    if {"lora_te1_", "lora_te2_"} <= tes or {"text_encoder_", "text_encoder_2_"} <= tes:
        return "SDXL 1.0", ["two text encoders (CLIP-L and CLIP-G)"]
    if re.search(r"(?:down|up)_blocks_|(?:input|output)_blocks_|mid(?:dle)?_block_", text):
        return None, ["UNet layers without cross-attention: the SD version is not visible"]
    for k, original in te.items():
        if k.endswith("q_proj") or k.endswith("mlp_fc1"):
            w = in_features(keys, original)
            if w == 768:
                return "SD 1.5", [f"{original} (text encoder width 768)"]
            if w == 1024:
                return "SD 2.1", [f"{original} (text encoder width 1024)"]
    return None, []
