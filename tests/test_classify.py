"""The header classifier on generated model files: every kind and base model, each
trainer's format, GGUF unets, lying metadata, and files it must not guess about."""

import json
import os

import pytest
from model_header_cases import CASES, GGUF_CASES
from model_headers import (
    KOHYA_SD15_META,
    SD15_LORA,
    write_gguf,
    write_pickle_zip,
    write_safetensors,
)
from packload import pack_module

classify = pack_module("hashing.classify")
errors = pack_module("hashing.errors")


@pytest.mark.parametrize("name, tensors, metadata, expected", CASES, ids=[c[0] for c in CASES])
def test_safetensors_files_are_named_from_their_header(tmp_path, name, tensors, metadata, expected):
    path = tmp_path / name
    write_safetensors(path, tensors, metadata)
    detected = classify.classify_file(path)
    assert list(detected) == list(classify.FIELDS)
    assert {k: detected[k] for k in expected} == expected, detected["evidence"]
    assert detected["evidence"], "every answer says what decided it"


@pytest.mark.parametrize("name, tensors, kv, expected", GGUF_CASES, ids=[c[0] for c in GGUF_CASES])
def test_gguf_unets_are_named_from_their_tensor_table(tmp_path, name, tensors, kv, expected):
    path = tmp_path / name
    write_gguf(path, tensors, kv)
    detected = classify.classify_file(path)
    assert {k: detected[k] for k in expected} == expected, detected["evidence"]


def test_training_metadata_and_the_twenty_most_frequent_tags(tmp_path):
    path = tmp_path / "lora.safetensors"
    write_safetensors(path, SD15_LORA, KOHYA_SD15_META)
    training = classify.classify_file(path)["training"]
    assert training["base_model_version"] == "sd_v1"
    assert training["network_dim"] == "16" and training["network_alpha"] == "8.0"
    assert training["resolution"] == "(512, 512)" and training["epochs"] == "10"
    assert training["output_name"] == "my_character"
    tags = training["tags"]
    assert len(tags) == 20
    # counts add up over the dataset folders: 1girl (500) first, tag3 97 + 50
    assert tags[0] == {"tag": "1girl", "count": 500}
    assert tags[1] == {"tag": "tag3", "count": 147}
    assert [t["count"] for t in tags] == sorted((t["count"] for t in tags), reverse=True)


def test_metadata_that_contradicts_the_tensors_is_reported_not_believed(tmp_path):
    path = tmp_path / "lora.safetensors"
    write_safetensors(path, SD15_LORA, {"ss_base_model_version": "sdxl_base_v1-0"})
    detected = classify.classify_file(path)
    assert detected["base_model"] == "SD 1.5"
    assert any("metadata says SDXL 1.0" in e for e in detected["evidence"])


def test_metadata_names_the_base_only_when_the_tensors_cannot_and_says_so(tmp_path):
    # a LoRA on UNet convolutions only: no cross-attention width to read
    tensors = {
        "lora_unet_down_blocks_0_resnets_0_conv1.lora_down.weight": ("F16", (8, 320, 3, 3)),
        "lora_unet_down_blocks_0_resnets_0_conv1.lora_up.weight": ("F16", (320, 8, 1, 1)),
    }
    path = tmp_path / "conv.safetensors"
    write_safetensors(path, tensors, {})
    assert classify.classify_file(path)["base_model"] is None
    write_safetensors(path, tensors, {"ss_base_model_version": "sdxl_base_v1-0"})
    detected = classify.classify_file(path)
    assert detected["base_model"] == "SDXL 1.0"
    assert any("from metadata" in e for e in detected["evidence"])
    # a title is no evidence of a base model
    write_safetensors(path, tensors, {"modelspec.title": "sdxl style"})
    assert classify.classify_file(path)["base_model"] is None


def test_a_ckpt_is_listed_never_unpickled(tmp_path):
    path = tmp_path / "model.ckpt"
    write_pickle_zip(path)  # its data.pkl is junk: loading it would raise
    detected = classify.classify_file(path)
    assert detected["kind"] is None and detected["format"] == "pickle"
    assert "never loaded" in detected["evidence"][0]


def test_a_safetensors_file_with_another_extension_is_still_read(tmp_path):
    path = tmp_path / "model.ckpt"
    write_safetensors(path, {"emb_params": ("F32", (4, 768))})
    assert classify.classify_file(path)["kind"] == "embedding"


@pytest.mark.parametrize(
    "name, content, words",
    [
        ("notes.safetensors", b"hello, this is a text file\n" * 4, "declares a"),
        ("bad.safetensors", b"\x10\x00\x00\x00\x00\x00\x00\x00{not json!!!!!!}",
         "Unreadable safetensors header"),
        ("cut.safetensors", b"\xff\x00\x00\x00\x00\x00\x00\x00{}", "Truncated safetensors file"),
        ("old.gguf", b"GGUF\x01\x00\x00\x00" + b"\0" * 16, "GGUF version 1"),
        ("huge.gguf", b"GGUF\x03\x00\x00\x00" + (10**9).to_bytes(8, "little") + b"\0" * 8,
         "malformed GGUF"),
        ("model.ckpt", b"PK\x03\x04 truncated zip" + b"\0" * 20, "damaged zip"),
        ("tiny.pt", b"1234", "only 4 bytes"),
    ],
)  # fmt: skip
def test_files_that_are_no_model_get_a_sentence(tmp_path, name, content, words):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(errors.HeaderError) as exc:
        classify.classify_file(path)
    assert words in str(exc.value) and str(path) in str(exc.value)


def test_a_file_of_unknown_format_says_so(tmp_path):
    path = tmp_path / "notes.bin"
    path.write_bytes(b"hello, this is a text file\n" * 4)
    with pytest.raises(errors.HeaderError, match="not a safetensors, GGUF or PyTorch file"):
        classify.classify_file(path)


def test_a_truncated_gguf_table_is_an_error_not_a_hang(tmp_path):
    path = tmp_path / "cut.gguf"
    write_gguf(path, {"img_in.weight": ("F16", (3072, 64))}, {"general.architecture": "flux"})
    raw = path.read_bytes()[:40]
    path.write_bytes(raw)
    with pytest.raises(errors.HeaderError):
        classify.classify_file(path)


def test_missing_file_and_directory_are_read_errors(tmp_path):
    with pytest.raises(errors.FileReadError, match="does not exist"):
        classify.classify_file(tmp_path / "nope.safetensors")
    with pytest.raises(errors.FileReadError, match="directory"):
        classify.classify_file(tmp_path)


def _rchar() -> int:
    with open("/proc/self/io") as f:
        return int(next(line for line in f if line.startswith("rchar:")).split()[1])


@pytest.mark.skipif(not os.path.exists("/proc/self/io"), reason="needs Linux /proc/self/io")
def test_only_the_header_is_read(tmp_path):
    """Measured by the kernel's count of bytes this process read, not by the code's own
    counter: a multi-gigabyte sparse checkpoint costs its header and nothing more."""
    from model_headers import SD_VAE, checkpoint, sd_unet, with_prefix

    tensors = checkpoint(sd_unet(2048, sdxl=True), with_prefix("first_stage_model.", SD_VAE))
    for i in range(2500):  # a real SDXL checkpoint has ~2,500 tensors
        name = f"model.diffusion_model.output_blocks.{i}.0.in_layers.2.weight"
        tensors[name] = ("F16", (1280, 1280, 3, 3))
    path = tmp_path / "big.safetensors"
    write_safetensors(path, tensors)
    with open(path, "rb") as f:
        header = int.from_bytes(f.read(8), "little")
    assert os.path.getsize(path) > 10 * 1024**3
    before = _rchar()
    detected, counted = classify.inspect_file(path)
    read = _rchar() - before
    assert detected["kind"] == "checkpoint"
    assert read <= 8 + header + 64 * 1024 and counted <= read
    assert read < 2 * 1024 * 1024


@pytest.mark.skipif(not os.path.exists("/proc/self/io"), reason="needs Linux /proc/self/io")
def test_a_gguf_reads_only_its_table_even_with_a_large_vocabulary(tmp_path):
    path = tmp_path / "llm.gguf"
    write_gguf(path, {"blk.0.attn_q.weight": ("Q8_0", (4096, 4096))},
               {"general.architecture": "llama", "general.file_type": 7})
    before = _rchar()
    detected = classify.classify_file(path)
    assert _rchar() - before < 256 * 1024
    assert detected["precision"] == "Q8_0" and detected["kind"] is None


def test_classify_takes_an_already_parsed_table():
    detected = classify.classify({"emb_params": ("F32", (2, 1024))}, {})
    assert detected["kind"] == "embedding" and detected["base_model"] == "SD 2.1"
    assert json.loads(json.dumps(detected)) == detected  # JSON-ready as it stands


def test_a_header_length_that_looks_like_a_pickle_mark_is_still_safetensors(tmp_path):
    path = tmp_path / "lora.safetensors"
    tensors = {"emb_params": ("F32", (4, 768))}
    write_safetensors(path, tensors, {"pad": "x" * (0x280 - 112 + 1)})
    assert path.read_bytes()[:2] == b"\x80\x02"  # 640-byte header: 0x80 0x02 ...
    assert classify.classify_file(path)["kind"] == "embedding"


def test_precision_is_the_dtype_of_nine_tenths_of_the_weights_else_mixed():
    half = {"a": ("F16", (1000,)), "b": ("F32", (1000,))}
    assert classify.classify(half, {})["precision"] == "mixed"
    mostly = {"a": ("BF16", (10000,)), "norm": ("F32", (100,))}
    assert classify.classify(mostly, {})["precision"] == "bf16"
