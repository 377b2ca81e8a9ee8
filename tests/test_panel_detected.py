"""The panel shows what files are from their headers (real headless Chromium, the real
routes over a store filled by a real scan): see tests/browser/scenario_detected.mjs."""

import asyncio
import hashlib

import pytest
from model_headers import (
    KOHYA_SD15_META,
    SD15_LORA,
    SD_VAE,
    SDXL_LORA,
    checkpoint,
    kohya,
    sd_unet,
    with_prefix,
    write_safetensors,
)
from models_tree import open_scanner
from packload import load_browser_module, pack_module
from test_panel_browser import _assert_checks, _drive, node  # noqa: F401  (node: a fixture)

pytestmark = pytest.mark.browser


def _tree(root):
    (root / "loras").mkdir(parents=True)
    (root / "checkpoints").mkdir()
    write_safetensors(root / "loras" / "style.safetensors", SD15_LORA, KOHYA_SD15_META)
    sd15 = checkpoint(sd_unet(768), with_prefix("first_stage_model.", SD_VAE))
    write_safetensors(root / "mystery.safetensors", sd15)
    write_safetensors(root / "loras" / "flux_lora.safetensors",
                      kohya("lora_unet_double_blocks_0_img_attn_qkv", 4, 9216, 3072),
                      {"modelspec.architecture": "flux-1-dev/lora"})  # fmt: skip
    write_safetensors(root / "wrong_match.safetensors", SDXL_LORA)
    return hashlib.sha256((root / "wrong_match.safetensors").read_bytes()).hexdigest().upper()


@pytest.fixture(scope="module")
def detected_report(node, tmp_path_factory, _fake_civitai_server):  # noqa: F811
    server_mod = load_browser_module("panel_server")
    fake = _fake_civitai_server
    fake.reset()
    tmp = tmp_path_factory.mktemp("panel-detected")
    models, db = tmp / "models", tmp / "store.sqlite"
    wrong = _tree(models)
    fake.add_file_model(sha256=wrong, name="Wrong Match", type="LORA", base_model="SD 1.5")

    async def scan():
        async with open_scanner(models, db, fake) as (scanner, _store, _client):
            await scanner.scan()

    asyncio.run(scan())
    civitai = pack_module("civitai")
    settings = civitai.Settings(api_base=fake.url, token=None, interval=0.0, timeout=10.0)
    server = server_mod.PanelServer(models, db, settings=settings).start()
    try:
        yield _drive(node, server.origin + "/", "detected")
    finally:
        server.stop()
        fake.reset()


def test_the_panel_names_files_civitai_does_not_know(detected_report):
    _assert_checks(detected_report, "kind_from_the_file", "belongs_in_folder",
                   "civitai_kind_when_identified", "base_filter_uses_both",
                   "details_from_the_file", "wrong_match_warned")  # fmt: skip
    assert detected_report["errors"] == []
