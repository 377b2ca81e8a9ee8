"""Load LoRA (CivitAI): ComfyUI's own LoraLoader (the stand-in in tests/comfy_stubs/nodes.py
records its calls) applies the LoRA; the node adds the stored trigger words, makes no
request when info is stored, and never holds the prompt past one request timeout."""

import asyncio
import hashlib
import json
import sys
import time

import pytest
from packload import pack_module
from routes_helpers import safetensors


@pytest.fixture
def env(comfy_env, fake_civitai):
    settings_cls = pack_module("civitai.config").Settings
    comfy_env.start_server()
    comfy_env.make_service(settings_cls(api_base=fake_civitai.url, interval=0.01, timeout=1.0))
    sys.modules["nodes"].CALLS.clear()
    return comfy_env


def _node():
    return pack_module("nodes.comfy.nodes").LoadLora


def _run(**inputs):
    return asyncio.run(_node().EXECUTE_NORMALIZED_ASYNC(**inputs)).args


def _lora(env, fake, rel, payload, **model):
    data = safetensors(payload)
    env.add_model("loras", rel, data)
    return fake.add_file_model(sha256=hashlib.sha256(data).hexdigest().upper(), **model)


def test_schema_matches_comfyuis_lora_loader(env):
    env.add_model("loras", "style/ink.safetensors", safetensors(b"i" * 64))
    info = _node().GET_NODE_INFO_V1()
    assert info["category"] == "CivitAI" and info["display_name"] == "Load LoRA (CivitAI)"
    required = info["input"]["required"]
    assert list(required) == ["model", "clip", "lora_name", "strength_model", "strength_clip"]
    assert (required["model"][0], required["clip"][0]) == ("MODEL", "CLIP")
    assert required["lora_name"][1]["options"] == ["style/ink.safetensors"]
    assert required["strength_model"][0] == "FLOAT"
    assert required["strength_model"][1]["default"] == 1.0
    assert info["output"] == ["MODEL", "CLIP", "STRING", "STRING"]
    assert info["output_name"] == ["MODEL", "CLIP", "trigger_words", "civitai_info"]


def test_applies_the_lora_with_comfyuis_loader_and_outputs_trigger_words(env, fake_civitai):
    ids = _lora(env, fake_civitai, "style/ink.safetensors", b"ink" * 50, name="Ink",
                trained_words=["ink style", " bold lines "])  # fmt: skip
    model, clip = object(), object()
    out = _run(model=model, clip=clip, lora_name="style/ink.safetensors",
               strength_model=0.8, strength_clip=0.5)  # fmt: skip
    calls = sys.modules["nodes"].CALLS
    assert len(calls) == 1
    call = calls[0]
    assert call["model"] is model and call["clip"] is clip
    assert (call["lora_name"], call["strength_model"], call["strength_clip"]) == (
        "style/ink.safetensors", 0.8, 0.5)  # fmt: skip
    assert call["path"] == str(env.models_dir / "loras" / "style" / "ink.safetensors")
    assert out[0] == {"patched": model, "lora": "style/ink.safetensors", "strength": 0.8}
    assert out[1] == {"patched": clip, "lora": "style/ink.safetensors", "strength": 0.5}
    assert out[2] == "ink style, bold lines"
    info = json.loads(out[3])
    assert info["status"] == "identified" and info["version_id"] == ids.version_id

    fake_civitai.requests.clear()
    again = _run(model=model, clip=clip, lora_name="style/ink.safetensors",
                 strength_model=1.0, strength_clip=1.0)  # fmt: skip
    assert again[2] == "ink style, bold lines"
    assert fake_civitai.requests == []  # stored info: no CivitAI call during the prompt


def test_zero_strengths_return_the_inputs_as_comfyui_does(env, fake_civitai):
    _lora(env, fake_civitai, "a.safetensors", b"a" * 40, trained_words=["aaa"])
    model, clip = object(), object()
    out = _run(model=model, clip=clip, lora_name="a.safetensors",
               strength_model=0.0, strength_clip=0.0)  # fmt: skip
    assert out[0] is model and out[1] is clip and out[2] == "aaa"


def test_an_unknown_lora_applies_with_empty_trigger_words(env, fake_civitai):
    env.add_model("loras", "mystery.safetensors", safetensors(b"?" * 40))
    out = _run(model="m", clip="c", lora_name="mystery.safetensors",
               strength_model=1.0, strength_clip=1.0)  # fmt: skip
    assert out[2] == "" and json.loads(out[3])["status"] == "unknown"
    assert out[0]["lora"] == "mystery.safetensors"


def test_civitai_slower_than_the_timeout_does_not_hold_the_prompt(env, fake_civitai):
    _lora(env, fake_civitai, "slow.safetensors", b"s" * 40, trained_words=["slowpoke"])
    fake_civitai.delay_next(4.0, n=5)  # the request timeout is 1 s
    started = time.monotonic()
    out = _run(model="m", clip="c", lora_name="slow.safetensors",
               strength_model=1.0, strength_clip=1.0)  # fmt: skip
    took = time.monotonic() - started
    assert took < 3.5, took  # well under the answer's 4 s: the prompt went on
    assert out[0]["lora"] == "slow.safetensors" and out[2] == ""
    assert json.loads(out[3])["status"] == "pending"


def test_trigger_words_from_the_users_a1111_notes_when_civitai_has_none(env, fake_civitai):
    path = env.add_model("loras", "noted.safetensors", safetensors(b"n" * 40))
    notes = {"activation text": "my style, ink", "preferred weight": 0.7, "notes": "mine"}
    path.with_suffix(".json").write_text(json.dumps(notes))
    out = _run(model="m", clip="c", lora_name="noted.safetensors",
               strength_model=1.0, strength_clip=1.0)  # fmt: skip
    assert out[2] == "my style, ink"  # CivitAI does not know the file
