"""The panel's update badge and filter, update notice, "save preview" button and link field,
in real headless Chromium against the pack's real routes (see test_panel_browser.py for the
harness). The run also renders panel-update-badge.png into tests/artifacts/panel/: the
README's screenshot (docs/panel-update-badge.png) is a copy of it."""

from __future__ import annotations

import pytest
from fake_civitai import fake_file
from packload import load_browser_module, pack_module
from test_panel_browser import (
    ARTIFACTS,
    _assert_checks,
    _drive,
    node,  # noqa: F401 - the `node` fixture (Node.js + Chromium)
)

pytestmark = pytest.mark.browser
SHOT = ARTIFACTS / "panel-update-badge.png"


@pytest.fixture(scope="module")
def features(node, tmp_path_factory, _fake_civitai_server):  # noqa: F811
    server_mod, seed = load_browser_module("panel_server"), load_browser_module("panel_seed")
    civitai = pack_module("civitai")
    fake = _fake_civitai_server
    fake.reset()
    tmp = tmp_path_factory.mktemp("panel-features")
    settings = civitai.Settings(api_base=fake.url, token=None, interval=0.0, timeout=10.0)
    server = server_mod.PanelServer(tmp / "models", tmp / "store.sqlite", settings=settings)
    server.start()
    try:
        shas = seed.seed_small_tree(tmp / "models", tmp / "store.sqlite", server.origin,
                                    new_file=False)  # fmt: skip
        store = pack_module("nodes.store.model_store").ModelStore(tmp / "store.sqlite")
        try:  # Detail Tweaker XL (seed row 1) gets a newer SDXL version
            sha = shas["detail_tweaker_xl.safetensors"]
            info = store.get_record("loras", "detail_tweaker_xl.safetensors")["civitai_info"]
            url = "https://civitai.com/models/101?modelVersionId=1019"
            info["update"] = {"version_id": 1019, "version_name": "v2.0", "base_model": "SDXL 1.0",
                              "published_at": "2026-10-01T00:00:00Z", "url": url}  # fmt: skip
            store.save_outcome(sha, "identified", info)
        finally:
            store.close()
        mid = fake.add_model(name="Linked Mystery")
        vid = fake.add_version(mid, files=[fake_file("E" * 64, size_kb=1.2)], name="v3")
        report = _drive(node, server.origin + "/", "features", shot=SHOT,
                        link_url=f"https://civitai.com/models/{mid}?modelVersionId={vid}")
        report["models"] = tmp / "models"
        yield report
    finally:
        server.stop()
        fake.reset()


def test_update_badge_filter_and_notice(features):
    _assert_checks(features, "update_badge", "update_filter", "update_filter_off", "update_notice")
    assert SHOT.is_file() and SHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_save_preview_button_writes_beside_the_model(features):
    _assert_checks(features, "save_preview")
    written = features["models"] / "loras" / "detail_tweaker_xl.preview.png"
    assert written.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_scan_with_save_previews_ticked(features):
    _assert_checks(features, "scan_saves_previews")
    written = features["models"] / "checkpoints" / "dreamshaper_8.preview.png"
    assert written.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_link_field_links_an_unknown_file(features):
    _assert_checks(features, "link_bad_url", "link_by_hand", "link_field_only_when_unknown")
    assert features["errors"] == []
