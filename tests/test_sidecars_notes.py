"""rgthree-comfy's ``<file>.rgthree-info.json`` (its CivitAI data is known info when the
hash agrees) and A1111/Forge's ``<stem>.json`` (the user's own notes; trigger words "from
your notes" when CivitAI has none), each from a sample written the way its tool writes it."""

import json

from packload import pack_module
from routes_helpers import safetensors, sha256
from test_sidecars import HASHES, SHA, model_file, version_json

sidecars = pack_module("nodes.scan.sidecars")


def rgthree_info(path, sha=SHA, civitai=None):
    """What rgthree-comfy's get_model_info saves (py/server/utils_info.py): file, path,
    images, raw.civitai (the by-hash answer + _sha256/_civitai_api), raw.metadata, sha256
    (hashlib's lower-case hexdigest), name, type, baseModel, trainedWords, links."""
    api = f"https://civitai.com/api/v1/model-versions/by-hash/{sha.lower()}"
    raw = civitai if civitai is not None else version_json()
    return {
        "file": "pixel.safetensors", "path": str(path),
        "images": [{"url": "https://image.example/1.jpeg", "civitaiUrl": None, "width": 512,
                    "height": 768, "type": "image", "nsfwLevel": 1, "seed": 1}],
        "raw": {"civitai": {**raw, "_sha256": sha.lower(), "_civitai_api": api},
                "metadata": {"ss_output_name": "pixel", "_sha256": sha.lower()}},
        "sha256": sha.lower(), "name": "Pixel Art - v1.5", "type": "LORA",
        "baseModel": "SDXL 1.0",
        "trainedWords": [{"word": "pxl", "civitai": True}, {"word": "mine", "user": True}],
        "links": ["https://civitai.com/models/4201?modelVersionId=130072", api],
        "strengthMin": 0.5,
    }  # fmt: skip


def test_rgthree_info_counts_when_its_hash_agrees(tmp_path):
    path = model_file(tmp_path)
    sidecar = tmp_path / "pixel.safetensors.rgthree-info.json"  # <file>, not <stem>
    sidecar.write_text(json.dumps(rgthree_info(path)))
    info = sidecars.read_sidecar_info(path, HASHES)
    assert info["matched_by"] == "sidecar" and info["model_id"] == 4201
    assert info["version_id"] == 130072 and info["trained_words"] == ["pxl"]
    assert sidecars.has_sidecar(path)
    other = {**HASHES, "SHA256": "CD" * 32, "AutoV2": "CDCDCDCDCD"}
    sidecar.write_text(json.dumps(rgthree_info(path, sha="CD" * 32,
                                               civitai=version_json(sha="CD" * 32))))  # fmt: skip
    assert sidecars.read_sidecar_info(path, HASHES) is None  # about another file
    assert sidecars.read_sidecar_info(path, other)["model_id"] == 4201


def test_rgthree_info_without_civitai_data_is_not_info(tmp_path):
    path = model_file(tmp_path)
    sidecar = tmp_path / "pixel.safetensors.rgthree-info.json"
    sidecar.write_text(json.dumps(rgthree_info(path, civitai={"error": "Model not found"})))
    assert sidecars.read_sidecar_info(path, HASHES) is None
    light = {"file": "pixel.safetensors", "path": str(path), "images": []}  # "light" info
    sidecar.write_text(json.dumps(light))
    assert sidecars.read_sidecar_info(path, HASHES) is None
    (tmp_path / "pixel.rgthree-info.json").write_text(json.dumps(rgthree_info(path)))
    assert sidecars.read_sidecar_info(path, HASHES) is None  # rgthree never names it <stem>


A1111 = {"description": "Pixel style", "sd version": "SDXL",
         "activation text": "pixel art, 8bit ,", "preferred weight": 0.8,
         "negative text": "blurry", "notes": "Works best below 1.0."}  # fmt: skip


def test_a1111_user_metadata_are_the_users_notes(tmp_path):
    path = model_file(tmp_path)
    assert sidecars.read_user_notes(path) is None
    (tmp_path / "pixel.json").write_text(json.dumps(A1111, indent=4))
    notes = sidecars.read_user_notes(path)
    assert notes == {
        "activation_text": "pixel art, 8bit ,",
        "preferred_weight": 0.8,
        "negative_text": "blurry",
        "notes": "Works best below 1.0.",
        "description": "Pixel style",
        "sd_version": "SDXL",
        "source": "a1111",
    }
    assert sidecars.notes_trigger_words(notes) == ["pixel art", "8bit"]
    (tmp_path / "pixel.json").write_text(json.dumps({**A1111, "preferred weight": 0}))
    assert sidecars.read_user_notes(path)["preferred_weight"] is None  # 0: not set
    for other in ([1, 2], {"some": "other tool"}, "not json{"):
        (tmp_path / "pixel.json").write_text(other if isinstance(other, str) else json.dumps(other))
        assert sidecars.read_user_notes(path) is None


async def test_notes_in_the_details_and_as_trigger_words_when_civitai_has_none(api, fake_civitai):
    plain, rich = safetensors(b"n" * 100), safetensors(b"r" * 100)
    p1 = api.env.add_model("loras", "noted.safetensors", plain)
    p2 = api.env.add_model("loras", "rich.safetensors", rich)
    fake_civitai.add_file_model(sha256=sha256(plain), trained_words=[])
    fake_civitai.add_file_model(sha256=sha256(rich), trained_words=["civitai word"])
    for path in (p1, p2):
        path.with_suffix(".json").write_text(json.dumps(A1111))
    _, job = await api.post("/civitai-identify/scan", {"identify": "all"}, expect=202)
    await api.wait_done(job["job_id"])
    _, noted = await api.get("/civitai-identify/models/loras/noted.safetensors", expect=200)
    assert noted["user_notes"]["notes"] == "Works best below 1.0."
    assert noted["notes_trigger_words"] == ["pixel art", "8bit"]
    _, rich_rec = await api.get("/civitai-identify/models/loras/rich.safetensors", expect=200)
    assert rich_rec["user_notes"]["activation_text"] == "pixel art, 8bit ,"
    assert rich_rec["notes_trigger_words"] == []  # CivitAI's words win

    # the Identify Model node's outputs (what the LoRA loader node uses too)
    run = pack_module("nodes.comfy.node_run")
    out = await run.identify_outputs(api.service, "loras/noted.safetensors", False, _Bar)
    assert out[4] == "pixel art, 8bit"
    assert json.loads(out[0])["trigger_words_source"] == "your notes"
    out = await run.identify_outputs(api.service, "loras/rich.safetensors", False, _Bar)
    assert out[4] == "civitai word" and json.loads(out[0])["trigger_words_source"] == "civitai"


class _Bar:  # comfy.utils.ProgressBar's shape
    def __init__(self, total):
        self.total = total

    def update_absolute(self, value, total=None, preview=None):
        pass
