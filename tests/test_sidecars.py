"""Sidecars other tools write next to a model: read when their hash agrees, never trusted
otherwise; our own .civitai.info written atomically and never over someone else's."""

import json
import os

from models_tree import build_models_tree, open_scanner
from packload import pack_module

sidecars = pack_module("nodes.scan.sidecars")

SHA = "AB" * 32
HASHES = {"SHA256": SHA, "AutoV2": SHA[:10], "AutoV1": None, "CRC32": "0" * 8, "BLAKE3": "1" * 64}


def version_json(sha=SHA, **extra):
    """A model-version object as CivitAI's by-hash endpoint returns it."""
    return {
        "id": 130072, "modelId": 4201, "name": "v1.5", "baseModel": "SDXL 1.0",
        "trainedWords": ["pxl"], "description": "<p>version</p>",
        "model": {"name": "Pixel Art", "type": "LORA", "nsfw": False},
        "files": [{"name": "pixel.safetensors", "sizeKB": 1.5, "primary": True,
                   "metadata": {"format": "SafeTensor", "fp": "fp16"},
                   "hashes": {"SHA256": sha.lower(), "AutoV2": sha[:10]}}],
        "images": [{"url": "https://image.example/1.jpeg", "width": 512, "height": 768,
                    "nsfwLevel": 1, "type": "image"}],
        **extra,
    }  # fmt: skip


def model_file(tmp_path, name="pixel.safetensors"):
    path = tmp_path / name
    path.write_bytes(b"weights")
    return str(path)


def test_civitai_helper_info_is_read_when_sha256_agrees(tmp_path):
    path = model_file(tmp_path)
    (tmp_path / "pixel.civitai.info").write_text(json.dumps(version_json()))
    info = sidecars.read_sidecar_info(path, HASHES)
    assert info["matched_by"] == "sidecar" and info["model_id"] == 4201
    assert info["model_name"] == "Pixel Art" and info["version_id"] == 130072
    assert info["category"] == "loras" and info["trained_words"] == ["pxl"]
    assert info["file"]["fp"] == "fp16" and info["images"][0]["nsfw_level"] == 1
    other = {**HASHES, "SHA256": "CD" * 32, "AutoV2": "CDCDCDCDCD"}
    assert sidecars.read_sidecar_info(path, other) is None  # someone else's file


def test_lora_manager_metadata_json(tmp_path):
    path = model_file(tmp_path)
    short = {"name": "Pixel Art", "type": "LORA", "tags": ["pixel art"], "description": "<p>m</p>"}
    meta = {"file_name": "pixel", "sha256": SHA.lower(), "base_model": "SDXL 1.0",
            "civitai": version_json(model=short)}  # fmt: skip
    (tmp_path / "pixel.metadata.json").write_text(json.dumps(meta))
    info = sidecars.read_sidecar_info(path, HASHES)
    assert info["matched_by"] == "sidecar" and info["tags"] == ["pixel art"]
    assert info["description"] == "<p>m</p>"
    # LoRA Manager also writes metadata for models CivitAI doesn't know: civitai is empty
    (tmp_path / "pixel.metadata.json").write_text(json.dumps({**meta, "civitai": {}}))
    assert sidecars.read_sidecar_info(path, HASHES) is None


def test_stability_matrix_cm_info_by_sha256_or_autov2_only(tmp_path):
    path = model_file(tmp_path)
    cm = {"ModelId": 4201, "ModelName": "Pixel Art", "ModelDescription": "<p>m</p>",
          "Nsfw": False, "Tags": ["pixel"], "ModelType": "LORA", "VersionId": 130072,
          "VersionName": "v1.5", "VersionDescription": None, "BaseModel": "Pony",
          "FileMetadata": {"Fp": "fp16", "Size": "pruned", "Format": "SafeTensor"},
          "ImportedAt": "2024-01-01T00:00:00+00:00", "TrainedWords": ["pxl"],
          "Hashes": {"SHA256": SHA, "BLAKE3": "1" * 64}}  # fmt: skip
    (tmp_path / "pixel.cm-info.json").write_text(json.dumps(cm))
    info = sidecars.read_sidecar_info(path, HASHES)
    assert info["base_model"] == "Pony" and info["category"] == "loras"
    assert info["url"] == "https://civitai.com/models/4201?modelVersionId=130072"
    assert info["matched_by"] == "sidecar" and info["tags"] == ["pixel"]
    cm["Hashes"] = {"AutoV2": SHA[:10]}  # all it has: AutoV2 decides
    (tmp_path / "pixel.cm-info.json").write_text(json.dumps(cm))
    assert sidecars.read_sidecar_info(path, HASHES)["model_id"] == 4201
    cm["Hashes"] = {"SHA256": "CD" * 32, "AutoV2": SHA[:10]}  # SHA256 present and wrong
    (tmp_path / "pixel.cm-info.json").write_text(json.dumps(cm))
    assert sidecars.read_sidecar_info(path, HASHES) is None


def test_broken_sidecars_are_ignored(tmp_path):
    path = model_file(tmp_path)
    (tmp_path / "pixel.civitai.info").write_text("{not json")
    (tmp_path / "pixel.metadata.json").write_text(json.dumps([1, 2]))
    (tmp_path / "pixel.cm-info.json").write_text(json.dumps({"ModelId": "x", "Hashes": 5}))
    assert sidecars.read_sidecar_info(path, HASHES) is None


def test_write_civitai_info_is_atomic_and_never_overwrites(tmp_path):
    path = model_file(tmp_path)
    info = pack_module("nodes.scan.sidecar_info").from_civitai_info(
        version_json(), HASHES, "https://civitai.com"
    )
    target = sidecars.write_civitai_info(path, info, HASHES)
    assert target == str(tmp_path / "pixel.civitai.info")
    assert sorted(os.listdir(tmp_path)) == ["pixel.civitai.info", "pixel.safetensors"]
    assert sidecars.read_sidecar_info(path, HASHES)["version_id"] == 130072  # round trip
    assert sidecars.write_civitai_info(path, info, HASHES) is None


async def test_scanner_uses_sidecars_without_calling_the_api(tmp_path, fake_civitai):
    tree = build_models_tree(tmp_path / "models")
    tf = tree.files["other_unknown"]
    side = tf.path.with_suffix(".civitai.info")
    side.write_text(json.dumps(version_json(sha=tf.sha256)))
    before = tree.snapshot()
    async with open_scanner(tree.root, tmp_path / "db", fake_civitai) as (scanner, store, _):
        summary = await scanner.scan()
        rec = store.get_record("other", tf.name)
    assert rec["status"] == "identified" and rec["civitai_info"]["matched_by"] == "sidecar"
    assert summary["from_sidecars"] == 1
    asked = {h.upper() for r in fake_civitai.requests for h in (r.json or [])}
    assert tf.sha256 not in asked
    assert tree.snapshot() == before


async def test_write_sidecars_after_identification(tmp_path, fake_civitai):
    tree = build_models_tree(tmp_path / "models")
    tree.register(fake_civitai, "other_known")
    before = tree.snapshot()
    async with open_scanner(tree.root, tmp_path / "db", fake_civitai,
                            write_sidecars=True) as (scanner, _s, _c):  # fmt: skip
        await scanner.scan()
    side = tree.files["other_known"].path.with_suffix(".civitai.info")
    data = json.loads(side.read_text())
    assert data["model"]["name"] == "Model other_known"
    assert data["files"][0]["hashes"]["SHA256"] == tree.files["other_known"].sha256
    assert tree.snapshot() == before  # the model files themselves are untouched


async def test_a_sidecar_written_or_fixed_beside_an_unchanged_file_is_read_next_scan(tmp_path):
    """An unchanged file is its stored row on a re-scan (no Entry), yet a sidecar beside it
    is still noticed: one added after the first scan, then one whose content changed."""
    tree = build_models_tree(tmp_path / "models")
    tf = tree.files["other_unknown"]
    side = tf.path.with_suffix(".civitai.info")
    async with open_scanner(tree.root, tmp_path / "db") as (scanner, store, _):
        await scanner.scan(identify="none")
        side.write_text(json.dumps(version_json(sha="CD" * 32)))  # another file's hash
        again = await scanner.scan(identify="none")
        assert again["files_hashed"] == 0 and again["from_sidecars"] == 0
        assert store.get_record("other", tf.name)["status"] == "not_checked"
        side.write_text(json.dumps(version_json(sha=tf.sha256)))  # fixed: this file's hash
        fixed = await scanner.scan(identify="none")
        rec = store.get_record("other", tf.name)
    assert fixed["files_hashed"] == 0 and fixed["from_sidecars"] == 1
    assert rec["status"] == "identified" and rec["civitai_info"]["matched_by"] == "sidecar"
