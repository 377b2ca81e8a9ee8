"""One civitai_info contract (civitai/info.py's CivitaiInfo): every producer — the builder on
CivitAI's JSON, the client against the fake CivitAI, each sidecar adapter, a sidecar we
wrote read back — gives exactly its keys with its types."""

import json
import types
import typing

import pytest
from fake_civitai import fake_client
from packload import pack_module

civitai = pack_module("civitai")
info_mod = pack_module("civitai.info")
sidecar_info = pack_module("nodes.scan.sidecar_info")
sidecars = pack_module("nodes.scan.sidecars")

SHA = "AB" * 32
HASHES = {"SHA256": SHA, "AutoV2": SHA[:10], "AutoV1": None, "CRC32": "0" * 8, "BLAKE3": "1" * 64}
RED = "https://civitai.red"


def problems(value, hint, where="info") -> list[str]:
    """Every way ``value`` differs from the type ``hint`` (TypedDicts checked key by key)."""
    if typing.is_typeddict(hint):
        if not isinstance(value, dict):
            return [f"{where}: {type(value).__name__}, not a dict"]
        hints = typing.get_type_hints(hint)
        out = [f"{where}: missing {k}" for k in sorted(hint.__required_keys__ - set(value))]
        out += [f"{where}: unexpected {k}" for k in sorted(set(value) - set(hints))]
        for key in set(value) & set(hints):
            out += problems(value[key], hints[key], f"{where}.{key}")
        return out
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [problems(value, arg, where) for arg in typing.get_args(hint)]
        return [] if any(not p for p in options) else [f"{where}: {value!r} is not {hint}"]
    if hint is type(None):
        return [] if value is None else [f"{where}: {value!r} is not None"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{where}: {value!r} is not a list"]
        (item,) = typing.get_args(hint)
        return [p for i, v in enumerate(value) for p in problems(v, item, f"{where}[{i}]")]
    if hint in (int, float) and isinstance(value, bool):
        return [f"{where}: {value!r} is a bool"]
    return [] if isinstance(value, hint) else [f"{where}: {value!r} is not {hint.__name__}"]


def assert_contract(info):
    assert problems(info, civitai.CivitaiInfo) == []


def test_the_checker_can_fail():
    good = civitai.build_civitai_info({"id": 1, "modelId": 2}, None, "SHA256")
    assert_contract(good)
    assert problems({**good, "extra": 1}, civitai.CivitaiInfo) == ["info: unexpected extra"]
    bad = {**good, "tags": ["a", 3], "nsfw": 1}
    del bad["url"]
    assert sorted(problems(bad, civitai.CivitaiInfo)) == [
        "info.nsfw: 1 is not bool", "info.tags[1]: 3 is not str", "info: missing url"
    ]  # fmt: skip


def version_json(sha=SHA):
    return {
        "id": 130072, "modelId": 4201, "name": "v1.5", "baseModel": "SDXL 1.0",
        "trainedWords": ["pxl", 7], "description": "<p>version</p>",
        "model": {"name": "Pixel Art", "type": "LORA", "nsfw": False},
        "stats": {"downloadCount": 3, "rating": 4.5},
        "files": [{"name": "pixel.safetensors", "sizeKB": 1.5, "primary": True,
                   "metadata": {"format": "SafeTensor", "fp": "fp16"},
                   "hashes": {"SHA256": sha.lower(), "AutoV2": sha[:10]}}],
        "images": [{"url": "https://image.example/1.jpeg", "width": 512, "height": 768,
                    "nsfwLevel": 1, "type": "image"}, {"url": "https://i/2", "nsfw": "X"}],
    }  # fmt: skip


MODEL = {
    "id": 4201, "name": "Pixel Art", "type": "LORA", "nsfw": True, "tags": ["a", {"name": "b"}],
    "creator": {"username": "someone", "image": None}, "description": "<p>m</p>",
    "stats": {"downloadCount": 10, "thumbsUpCount": 4, "rating": 4.5},
}  # fmt: skip

# One parsed sample per sidecar format (a new format must add its sample here).
SIDECAR_SAMPLES = {
    ".civitai.info": version_json(),
    ".metadata.json": {
        "sha256": SHA.lower(),
        "civitai": {**version_json(), "model": {**version_json()["model"], "tags": ["x"]}},
    },
    ".cm-info.json": {
        "ModelId": 4201,
        "ModelName": "Pixel Art",
        "ModelDescription": "<p>m</p>",
        "Nsfw": False,
        "Tags": ["pixel", 3],
        "ModelType": "LORA",
        "VersionId": 130072,
        "VersionName": "v1.5",
        "VersionDescription": None,
        "BaseModel": "Pony",
        "FileMetadata": {"Fp": "fp16", "Format": "SafeTensor"},
        "TrainedWords": ["pxl"],
        "Stats": {"DownloadCount": 5, "Rating": 4.0},
        "Hashes": {"SHA256": SHA},
    },
    ".rgthree-info.json": {  # rgthree-comfy's py/server/utils_info.py
        "file": "pixel.safetensors",
        "sha256": SHA.lower(),
        "raw": {"civitai": {**version_json(), "_sha256": SHA.lower()}, "metadata": {}},
        "trainedWords": [{"word": "pxl", "civitai": True}],
    },
}


@pytest.mark.parametrize(
    "version, model",
    [(version_json(), MODEL), (version_json(), None), ({}, None),
     ({"id": "x", "files": "no", "images": [None], "trainedWords": None}, {"tags": 5})],
)  # fmt: skip
def test_the_builder_on_civitai_json(version, model):
    assert_contract(civitai.build_civitai_info(version, model, "SHA256", matched_hash=SHA))


async def test_the_client_against_the_fake_civitai(fake_civitai):
    fake_civitai.add_file_model(SHA, name="Known")
    async with fake_client(fake_civitai) as client:
        outcomes = await client.lookup([SHA])
    assert outcomes[SHA].status == "identified"
    assert_contract(outcomes[SHA].civitai_info)


def test_every_sidecar_format_has_a_sample():
    assert set(SIDECAR_SAMPLES) == set(sidecar_info.SIDECAR_SUFFIXES)


@pytest.mark.parametrize("fmt", sidecar_info.SIDECAR_FORMATS, ids=lambda f: f.suffix)
def test_each_sidecar_adapter_gives_the_contract_and_the_configured_site(fmt):
    info = fmt.adapt(SIDECAR_SAMPLES[fmt.suffix], HASHES, RED)
    assert_contract(info)
    assert info["matched_by"] == "sidecar" and info["model_id"] == 4201
    assert info["url"] == f"{RED}/models/4201?modelVersionId=130072"
    other = {**HASHES, "SHA256": "CD" * 32}
    assert fmt.adapt(SIDECAR_SAMPLES[fmt.suffix], other, RED) is None  # another file's


def test_sidecar_links_follow_a_civitai_red_api_base(tmp_path):
    model = tmp_path / "pixel.safetensors"
    model.write_bytes(b"weights")
    (tmp_path / "pixel.cm-info.json").write_text(json.dumps(SIDECAR_SAMPLES[".cm-info.json"]))
    web = civitai.Settings(api_base="https://civitai.red/api/v1").web_base
    info = sidecars.read_sidecar_info(str(model), HASHES, web_base=web)
    assert info["url"].startswith("https://civitai.red/models/4201")


def test_a_sidecar_we_wrote_reads_back_as_the_contract(tmp_path):
    model = tmp_path / "pixel.safetensors"
    model.write_bytes(b"weights")
    original = civitai.build_civitai_info(version_json(), MODEL, "SHA256", matched_hash=SHA)
    assert sidecars.write_civitai_info(str(model), original, HASHES)
    back = sidecars.read_sidecar_info(str(model), HASHES)
    assert_contract(back)
    same = ("model_id", "version_id", "model_name", "version_name", "type", "category",
            "base_model", "trained_words", "images", "file", "url")  # fmt: skip
    assert {k: back[k] for k in same} == {k: original[k] for k in same}
