"""build_civitai_info on varied answer shapes, and the CivitAI type → folder map."""

from datetime import datetime, timezone

import pytest
from packload import pack_module

civitai = pack_module("civitai")
build = civitai.build_civitai_info
KEYS = {
    "model_id", "version_id", "model_name", "version_name", "type", "category", "base_model",
    "description", "version_description", "creator", "tags", "trained_words", "stats",
    "images", "nsfw", "file", "matched_by", "url", "update", "fetched_at",
}  # fmt: skip
NOW = datetime(2026, 11, 25, 14, 0, 0, 123456, tzinfo=timezone.utc)
SHA = "AB" * 32


def version(**over):
    v = {
        "id": 130072,
        "modelId": 4201,
        "name": "v2.0",
        "baseModel": "Pony",
        "trainedWords": ["trigger", None, 3],
        "description": "<p>version</p>",
        "stats": {"downloadCount": None, "thumbsUpCount": 3},
        "model": {"name": "Short name", "type": "LORA", "nsfw": False, "poi": False},
        "files": [
            {"name": "other.pt", "sizeKB": 10.5, "primary": True, "hashes": {"SHA256": "00"},
             "metadata": {"format": "PickleTensor", "fp": "fp32"}},
            {"name": "match.safetensors", "sizeKB": 20, "primary": False,
             "hashes": {"SHA256": SHA.lower(), "AutoV3": "0123456789AB"},
             "metadata": {"format": "SafeTensor", "fp": "fp16", "size": "pruned"}},
        ],
        "images": [
            {"url": "https://i/1.jpeg", "width": 512, "height": 768, "nsfwLevel": 4,
             "type": "image", "meta": {"prompt": "x"}, "brandNew": True},
            {"url": "https://i/2.jpeg", "nsfw": "Mature"},
            {"url": "https://i/3.mp4", "nsfw": "None", "type": "video"},
            {"url": "https://i/4.jpeg", "nsfw": "X"},
            "not an image",
        ],
        "somethingNew": {"ignored": True},
    }  # fmt: skip
    v.update(over)
    return v


MODEL = {
    "id": 4201,
    "name": "Full name",
    "type": "LORA",
    "nsfw": True,
    "description": "<p>model</p>",
    "tags": ["style", {"name": "old-tag"}, 7],
    "creator": {"username": "someone", "image": "https://i/avatar.jpeg"},
    "stats": {"downloadCount": 10, "thumbsUpCount": 4, "thumbsDownCount": 1,
              "commentCount": 2, "tippedAmountCount": 0, "rating": 4.5},
}  # fmt: skip


def test_full_answer():
    info = build(version(), MODEL, "SHA256", matched_hash=SHA, now=NOW)
    assert set(info) == KEYS
    assert info["model_name"] == "Full name" and info["version_name"] == "v2.0"
    assert (info["type"], info["category"], info["base_model"]) == ("LORA", "loras", "Pony")
    assert info["tags"] == ["style", "old-tag"] and info["trained_words"] == ["trigger"]
    assert info["creator"] == {"username": "someone", "image": "https://i/avatar.jpeg"}
    assert info["stats"] == {
        "download_count": 10, "thumbs_up_count": 4, "thumbs_down_count": 1,
        "comment_count": 2, "tipped_amount_count": 0, "rating": 4.5,
    }  # fmt: skip
    assert info["file"] == {
        "name": "match.safetensors", "size_kb": 20, "format": "SafeTensor", "fp": "fp16",
        "primary": False,
    }  # fmt: skip
    assert [i["nsfw_level"] for i in info["images"]] == [4, 4, 1, 8]
    assert info["images"][0] == {
        "url": "https://i/1.jpeg", "width": 512, "height": 768, "nsfw_level": 4, "type": "image"
    }  # fmt: skip
    assert info["images"][2]["type"] == "video" and info["images"][1]["width"] is None
    assert info["nsfw"] is True
    assert info["url"] == "https://civitai.com/models/4201?modelVersionId=130072"
    assert info["fetched_at"] == "2026-11-25T14:00:00Z"
    assert info["description"] == "<p>model</p>"
    assert info["version_description"] == "<p>version</p>"


def test_without_model_and_sparse_version():
    info = build(
        {"id": 5, "modelId": 6, "files": [], "images": None, "stats": None}, None, "AutoV3"
    )
    assert set(info) == KEYS
    assert info["creator"] is None and info["tags"] == [] and info["images"] == []
    assert info["file"] is None and info["type"] is None and info["category"] == "other"
    assert info["stats"]["download_count"] is None and "rating" not in info["stats"]
    assert info["nsfw"] is False and info["matched_by"] == "AutoV3"
    assert info["description"] is None and info["model_name"] is None


def test_missing_creator_null_stats_no_images_uses_version_summary():
    model = {"id": 4201, "name": "By CivitAI", "type": "Checkpoint", "stats": None}
    info = build(version(images=[]), model, "SHA256", now=NOW)
    assert info["creator"] is None
    assert info["stats"] == dict.fromkeys(
        ["download_count", "thumbs_up_count", "thumbs_down_count", "comment_count",
         "tipped_amount_count"]
    )  # fmt: skip
    assert info["images"] == [] and info["category"] == "checkpoints"
    assert info["file"]["name"] == "other.pt"  # no matched hash → the primary file
    assert info["nsfw"] is False  # model without nsfw → the version's summary


def test_garbage_never_crashes():
    info = build({"id": "x", "files": "nope", "images": [None], "model": []}, [], "SHA256")
    assert set(info) == KEYS and info["version_id"] is None and info["url"] is None


def test_web_host_follows_the_api_base():
    red = civitai.Settings(api_base="https://civitai.red/api/v1")
    info = build(version(), MODEL, "SHA256", web_base=red.web_base)
    assert info["url"] == "https://civitai.red/models/4201?modelVersionId=130072"
    assert civitai.Settings().web_base == "https://civitai.com"


EXPECTED = {
    "Checkpoint": "checkpoints", "TextualInversion": "embeddings",
    "Hypernetwork": "hypernetworks", "AestheticGradient": "other", "LORA": "loras",
    "LoCon": "loras", "DoRA": "loras", "Controlnet": "controlnet",
    "Upscaler": "upscale_models", "VAE": "vae", "MotionModule": "animatediff_models",
    "Poses": "other", "Wildcards": "other", "Workflows": "other", "Detection": "other",
    "Other": "other", "TextEncoder": "text_encoders", "CLIP": "text_encoders",
    "UNet": "diffusion_models", "CLIPVision": "clip_vision", "VisionLanguage": "other",
    "LLM": "other",
}  # fmt: skip


@pytest.mark.parametrize(("model_type", "category"), EXPECTED.items())
def test_every_model_type_has_a_category(model_type, category):
    assert civitai.category_for_type(model_type) == category
    assert civitai.category_for_type(model_type.upper()) == category
    assert civitai.category_for_type(model_type.lower()) == category


@pytest.mark.parametrize("odd", [None, "", "BrandNewType2030", 42, "lora "])
def test_unseen_types_map_to_other(odd):
    expected = "loras" if odd == "lora " else "other"
    assert civitai.category_for_type(odd) == expected
