# ruff: noqa: E501  (the cases below read best one file per line)
"""Model files for the header classifier's tests and benchmark, generated: a real header
(the tensor names and shapes each trainer or exporter writes) over a sparse data region
(allocated by ``truncate``, never written). No weights are downloaded.

``tensors`` maps a name to ``(dtype, shape)``; the cases built from these pieces are in
model_header_cases.py. ``write_safetensors`` / ``write_gguf`` / ``write_pickle_zip`` write
files.
"""

import json
import struct
import zipfile

_ITEMSIZE = {"F32": 4, "F16": 2, "BF16": 2, "F8_E4M3": 1, "F8_E5M2": 1, "I64": 8, "U8": 1}


def numel(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def write_safetensors(path, tensors: dict, metadata: dict | None = None) -> None:
    header, offset = {}, 0
    for name, (dtype, shape) in tensors.items():
        size = numel(shape) * _ITEMSIZE[dtype]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    if metadata is not None:
        header["__metadata__"] = metadata
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(len(raw).to_bytes(8, "little") + raw)
        f.truncate(8 + len(raw) + offset)


# GGUF: ggml type ids and (block elements, block bytes) for the types the tests use
GGML = {"F32": (0, 1, 4), "F16": (1, 1, 2), "Q8_0": (8, 32, 34), "Q4_K": (12, 256, 144)}


def _gguf_string(s: str) -> bytes:
    raw = s.encode()
    return struct.pack("<Q", len(raw)) + raw


def write_gguf(path, tensors: dict, kv: dict | None = None, version: int = 3) -> None:
    """``tensors``: name → (ggml type name, PyTorch shape); ``kv``: str/int/list-of-int
    values (a list is written as an array of u64)."""
    kv = dict(kv or {})
    out = [b"GGUF", struct.pack("<IQQ", version, len(tensors), len(kv))]
    for key, value in kv.items():
        out.append(_gguf_string(key))
        if isinstance(value, str):
            out.append(struct.pack("<I", 8) + _gguf_string(value))
        elif isinstance(value, list):
            out.append(struct.pack("<IIQ", 9, 10, len(value)))
            out.append(struct.pack(f"<{len(value)}Q", *value))
        else:
            out.append(struct.pack("<II", 4, value))
    offset = 0
    for name, (gtype, shape) in tensors.items():
        type_id, block, nbytes = GGML[gtype]
        dims = list(reversed(shape))
        out.append(_gguf_string(name) + struct.pack(f"<I{len(dims)}Q", len(dims), *dims))
        out.append(struct.pack("<IQ", type_id, offset))
        offset += -(-numel(shape) // block) * nbytes
        offset += -offset % 32
    raw = b"".join(out)
    raw += b"\0" * (-len(raw) % 32)
    with open(path, "wb") as f:
        f.write(raw)
        f.truncate(len(raw) + offset)


def write_pickle_zip(path) -> None:
    """A PyTorch-style zip archive (``archive/data.pkl`` + storages). The pickle is junk
    bytes that would fail to load: the classifier must never try."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", b"\x80\x02 not a real pickle")
        z.writestr("archive/version", b"3\n")
        for i in range(3):
            z.writestr(f"archive/data/{i}", b"\0" * 64)


def f16(*shape):
    return ("F16", tuple(shape))


def f32(*shape):
    return ("F32", tuple(shape))


def bf16(*shape):
    return ("BF16", tuple(shape))


def with_prefix(prefix: str, tensors: dict) -> dict:
    return {prefix + k: v for k, v in tensors.items()}


# -- diffusion models (bare names, as a single-file unet / DiT) -------------------------
def sd_unet(context: int, in_channels: int = 4, sdxl: bool = False) -> dict:
    t = {
        "input_blocks.0.0.weight": f16(320, in_channels, 3, 3),
        "input_blocks.0.0.bias": f16(320),
        "time_embed.0.weight": f16(1280, 320),
        "out.2.weight": f16(4, 320, 3, 3),
        "middle_block.1.transformer_blocks.0.attn2.to_k.weight": f16(1280, context),
    }
    if sdxl:
        t["label_emb.0.0.weight"] = f16(1280, 2816)
        t["input_blocks.4.1.transformer_blocks.0.attn2.to_k.weight"] = f16(640, context)
    else:
        t["input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight"] = f16(320, context)
    return t


def flux(dev: bool = True, dtype=bf16) -> dict:
    t = {
        "img_in.weight": dtype(3072, 64),
        "double_blocks.0.img_attn.qkv.weight": dtype(9216, 3072),
        "double_blocks.0.img_mlp.0.weight": dtype(12288, 3072),
        "single_blocks.0.linear1.weight": dtype(21504, 3072),
        "final_layer.linear.weight": dtype(64, 3072),
    }
    if dev:
        t["guidance_in.in_layer.weight"] = dtype(3072, 256)
    return t


def sd3(depth: int, width: int, mmdit_x: bool = False) -> dict:
    t = {"x_embedder.proj.weight": f16(width, 16, 2, 2), "pos_embed": f16(1, 36864, width)}
    for i in range(depth):
        t[f"joint_blocks.{i}.x_block.attn.qkv.weight"] = f16(3 * width, width)
        t[f"joint_blocks.{i}.context_block.attn.qkv.weight"] = f16(3 * width, width)
    if mmdit_x:
        t["joint_blocks.0.x_block.attn2.qkv.weight"] = f16(3 * width, width)
    return t


def wan(width: int, in_dim: int, image: bool = False) -> dict:
    t = {
        "patch_embedding.weight": bf16(width, in_dim, 1, 2, 2),
        "blocks.0.self_attn.q.weight": bf16(width, width),
        "blocks.0.cross_attn.q.weight": bf16(width, width),
        "blocks.0.ffn.0.weight": bf16(width * 4 // 3 * 2, width),
        "head.head.weight": bf16(64, width),
    }
    if image:
        t["img_emb.proj.1.weight"] = bf16(1280, 1280)
        t["blocks.0.cross_attn.k_img.weight"] = bf16(width, width)
    return t


HUNYUAN_VIDEO = {
    "img_in.proj.weight": bf16(3072, 16, 1, 2, 2),
    "double_blocks.0.img_attn_qkv.weight": bf16(9216, 3072),
    "double_blocks.0.img_mlp.fc1.weight": bf16(12288, 3072),
    "txt_in.individual_token_refiner.blocks.0.norm1.weight": bf16(3072),
}
HUNYUAN_VIDEO_COMFY = {
    "img_in.proj.weight": bf16(3072, 16, 1, 2, 2),
    "double_blocks.0.img_attn.qkv.weight": bf16(9216, 3072),
    "double_blocks.0.img_mlp.0.weight": bf16(12288, 3072),
    "txt_in.individual_token_refiner.blocks.0.norm1.weight": bf16(3072),
}
LTXV = {
    "patchify_proj.weight": bf16(2048, 128),
    "adaln_single.emb.timestep_embedder.linear_1.weight": bf16(2048, 256),
    "transformer_blocks.0.attn1.to_q.weight": bf16(2048, 2048),
}
AURAFLOW = {
    "double_layers.0.attn.w1q.weight": f16(3072, 3072),
    "cond_seq_linear.weight": f16(3072, 2048),
    "register_tokens": f16(1, 8, 3072),
}
PIXART_SIGMA = {
    "x_embedder.proj.weight": f16(1152, 4, 2, 2),
    "t_block.1.weight": f16(6912, 1152),
    "blocks.0.cross_attn.q_linear.weight": f16(1152, 1152),
}
PIXART = {
    "ar_embedder.mlp.0.weight": f16(1152, 256),
    "x_embedder.proj.weight": f16(1152, 4, 2, 2),
    "t_block.1.weight": f16(6912, 1152),
    "blocks.0.cross_attn.q_linear.weight": f16(1152, 1152),
}
CASCADE_C = {
    "clip_txt_mapper.weight": bf16(8192, 1280),
    "down_blocks.0.0.channelwise.0.weight": bf16(8192, 2048),
}

# -- what a checkpoint bundles ------------------------------------------------------------
SD_VAE = {
    "encoder.conv_in.weight": f32(128, 3, 3, 3),
    "decoder.conv_in.weight": f32(512, 4, 3, 3),
    "quant_conv.weight": f32(8, 8, 1, 1),
    "post_quant_conv.weight": f32(4, 4, 1, 1),
}
FLUX_VAE = {
    "encoder.conv_in.weight": f32(128, 3, 3, 3),
    "decoder.conv_in.weight": f32(512, 16, 3, 3),
    "decoder.conv_out.weight": f32(3, 128, 3, 3),
}
WAN_VAE = {"encoder.conv1.weight": bf16(96, 3, 3, 3, 3), "decoder.conv1.weight": bf16(384, 16, 3, 3, 3)}


def clip_text(width: int, prefix: str = "") -> dict:
    return with_prefix(
        prefix,
        {
            "text_model.embeddings.token_embedding.weight": f16(49408, width),
            "text_model.encoder.layers.0.self_attn.q_proj.weight": f16(width, width),
            "text_model.final_layer_norm.weight": f16(width),
        },
    )


def t5(vocab: int, per_block_bias: bool, prefix: str = "") -> dict:
    t = {
        "shared.weight": bf16(vocab, 4096),
        "encoder.block.0.layer.0.SelfAttention.q.weight": bf16(4096, 4096),
        "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight": bf16(32, 64),
        "encoder.block.0.layer.1.DenseReluDense.wi_0.weight": bf16(10240, 4096),
    }
    if per_block_bias:
        t["encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight"] = bf16(32, 64)
    return with_prefix(prefix, t)


def checkpoint(unet: dict, *bundles: dict) -> dict:
    out = with_prefix("model.diffusion_model.", unet)
    for b in bundles:
        out.update(b)
    return out


# -- LoRAs in each trainer's naming --------------------------------------------------------
def kohya(module: str, rank: int, out: int, inp: int, conv: bool = False) -> dict:
    k = (3, 3) if conv else ()
    return {
        f"{module}.lora_down.weight": f16(rank, inp, *k),
        f"{module}.lora_up.weight": f16(out, rank, *((1, 1) if conv else ())),
        f"{module}.alpha": f16(),
    }


def peft(module: str, rank: int, out: int, inp: int) -> dict:
    return {f"{module}.lora_A.weight": bf16(rank, inp), f"{module}.lora_B.weight": bf16(out, rank)}


SD15_TO_K = "down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k"
SD15_LORA = {
    **kohya(f"lora_unet_{SD15_TO_K}", 16, 320, 768),
    **kohya("lora_unet_down_blocks_0_attentions_0_proj_in", 16, 320, 320),
    **kohya("lora_te_text_model_encoder_layers_0_self_attn_q_proj", 16, 768, 768),
}
SDXL_LORA = {
    **kohya("lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k", 32, 640, 2048),
    **kohya("lora_te1_text_model_encoder_layers_0_self_attn_q_proj", 32, 768, 768),
    **kohya("lora_te2_text_model_encoder_layers_0_self_attn_q_proj", 32, 1280, 1280),
}
KOHYA_SD15_META = {
    "ss_base_model_version": "sd_v1",
    "ss_network_module": "networks.lora",
    "ss_network_dim": "16",
    "ss_network_alpha": "8.0",
    "ss_resolution": "(512, 512)",
    "ss_num_epochs": "10",
    "ss_output_name": "my_character",
    "ss_sd_model_name": "v1-5-pruned-emaonly.safetensors",
    "ss_tag_frequency": json.dumps(
        {
            "10_mychar": {f"tag{i}": 100 - i for i in range(30)},
            "5_style": {"tag3": 50, "1girl": 500},
        }
    ),
    "modelspec.title": "My Character",
    "modelspec.trigger_phrase": "mychar",
    "modelspec.author": "someone",
    "modelspec.architecture": "stable-diffusion-v1/lora",
}

