"""The sidebar panel (web/) in real headless Chromium, against the pack's REAL routes.

tests/browser/panel_server.py serves the routes (nodes.routes.make_app over a real Service and
a seeded SQLite store), the panel files as ComfyUI serves them, stand-ins for ComfyUI's
/scripts/app.js and /scripts/api.js, and a websocket carrying the Service's events. The Node
driver (tests/browser/panel_driver.mjs, playwright-core) runs every scenario once per server
and reports JSON; each test below asserts one part of that report. Screenshots land in
tests/artifacts/panel/. Needs node, tests/browser/node_modules (tests/run.sh installs it)
and Chromium: skipped without them, failed instead when $CI is set.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from packload import load_browser_module, pack_module

pytestmark = pytest.mark.browser

TESTS = Path(__file__).resolve().parent
BROWSER = TESTS / "browser"
ARTIFACTS = TESTS / "artifacts" / "panel"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
BULK_RECORDS = 10_000


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def node():
    node = shutil.which("node")
    if not node:
        _unavailable("Node.js is not installed: the panel's browser tests need it")
    if not Path(CHROMIUM).exists():
        _unavailable(f"Chromium not found at {CHROMIUM}: apt-get install chromium, or set CHROMIUM")
    if not (BROWSER / "node_modules" / "playwright-core").is_dir():
        _unavailable("playwright-core missing: run tests/run.sh (or npm install in tests/browser)")
    return node


def _drive(node, url, scenario, **extra) -> dict:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    cmd = [node, str(BROWSER / "panel_driver.mjs"), "--url", url, "--scenario", scenario,
           "--out", str(ARTIFACTS)]  # fmt: skip
    for key, value in extra.items():
        cmd += [f"--{key.replace('_', '-')}", str(value)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=150, cwd=BROWSER)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        out = f"{done.stdout}\n{done.stderr}"
        pytest.fail(f"driver gave no report (exit {done.returncode}):\n{out}")
    (ARTIFACTS / f"report-{scenario}.json").write_text(json.dumps(report, indent=1))
    return report


@pytest.fixture(scope="module")
def main_report(node, tmp_path_factory, _fake_civitai_server):
    """The small seeded store; the fake CivitAI knows mystery_lora (for Retry) and the file
    only a scan finds (fresh_download)."""
    server_mod, seed = load_browser_module("panel_server"), load_browser_module("panel_seed")
    civitai, hashing = pack_module("civitai"), pack_module("hashing")
    fake = _fake_civitai_server
    fake.reset()
    tmp = tmp_path_factory.mktemp("panel")
    settings = civitai.Settings(api_base=fake.url, token=None, interval=0.0, timeout=10.0)

    def slow_new_file():  # a file to look up, and CivitAI slow to answer: time to Cancel
        seed.write_file(tmp / "models" / "loras" / "late_arrival.safetensors", 2048, "late")
        fake.delay_next(8.0, n=1, path="by-hash")

    server = server_mod.PanelServer(tmp / "models", tmp / "store.sqlite", settings=settings,
                                    controls={"slow-new-file": slow_new_file})  # fmt: skip
    server.start()
    try:
        shas = seed.seed_small_tree(tmp / "models", tmp / "store.sqlite", server.origin)
        folder, name, _size = seed.NEW_FILE
        fresh_sha = hashing.hash_file(tmp / "models" / folder / name).hashes["SHA256"]
        image = {"url": f"{server.origin}/img/green-fresh.png", "nsfwLevel": 1, "width": 64,
                 "height": 96, "type": "image", "hash": None, "meta": None}  # fmt: skip
        fake.add_file_model(sha256=shas["mystery_lora.safetensors"], name="Mystery Solved",
                            type="LORA", base_model="SDXL 1.0", images=[image])  # fmt: skip
        fake.add_file_model(sha256=fresh_sha, name="Fresh Checkpoint", type="Checkpoint",
                            base_model="Flux.1 D", images=[image])  # fmt: skip
        report = _drive(node, server.origin + "/", "main", identify_name="Mystery Solved",
                        scan_name="Fresh Checkpoint")  # fmt: skip
        report["events"] = [e for e, _ in server.sent]
        yield report
    finally:
        server.stop()
        fake.reset()


@pytest.fixture(scope="module")
def bulk_report(node, tmp_path_factory):
    server_mod, seed = load_browser_module("panel_server"), load_browser_module("panel_seed")
    tmp = tmp_path_factory.mktemp("panel-bulk")
    server = server_mod.PanelServer(tmp / "models", tmp / "store.sqlite")
    server.start()
    try:
        seed.seed_small_tree(tmp / "models", tmp / "store.sqlite", server.origin, new_file=False)
        seed.seed_bulk(tmp / "store.sqlite", BULK_RECORDS, server.origin)
        total = BULK_RECORDS + len(seed.TREE)
        yield _drive(node, server.origin + "/", "bulk", total=total,
                     bulk_count=seed.bulk_identified(BULK_RECORDS),
                     not_checked=BULK_RECORDS - seed.bulk_identified(BULK_RECORDS) + 1)  # fmt: skip
    finally:
        server.stop()


def _assert_checks(report, *names):
    failed = {n: report["checks"].get(n, {"ok": False, "detail": "not run"}) for n in names}
    failed = {n: c["detail"] for n, c in failed.items() if not c["ok"]}
    assert not failed, f"{failed}\nerrors: {report['errors']}"


def test_tab_registers_and_lists_every_record(main_report):
    _assert_checks(main_report, "extension_files_load_alone", "tab_registered", "list_renders",
                   "status_badges", "thumbnails", "layout_fills_and_fits",
                   "broken_thumbnail_becomes_letter")  # fmt: skip


def test_the_rows_never_wait_for_the_menus(main_report):
    """GET facets held: the list opens and a search answers; the menus fill in after."""
    _assert_checks(main_report, "rows_before_menus")


def test_search_filters_and_sort_narrow_the_list(main_report):
    _assert_checks(main_report, "search_narrows", "search_no_match_and_clear", "filters_narrow",
                   "sort_by_size")  # fmt: skip


def test_details_show_the_civitai_info_and_copy(main_report):
    _assert_checks(main_report, "details_show_info", "click_to_copy", "video_preview")


def test_hostile_description_runs_nothing(main_report):
    _assert_checks(main_report, "description_sanitized")


def test_nsfw_images_blurred_until_clicked(main_report):
    _assert_checks(main_report, "nsfw_blur")


def test_retry_identifies_an_unknown_model(main_report):
    _assert_checks(main_report, "identify_retry")


def test_scan_shows_progress_and_refreshes_the_list(main_report):
    _assert_checks(main_report, "scan_progress_and_refresh", "scan_cancel",
                   "scan_refreshes_visible_page")  # fmt: skip
    assert "civitai-identify.progress" in main_report["events"]


def test_states_tell_the_user_what_to_do(main_report):
    _assert_checks(main_report, "token_notice", "error_notice", "api_error_and_retry",
                   "empty_state")  # fmt: skip


def test_no_page_errors(main_report, bulk_report):
    assert main_report["errors"] == []
    assert bulk_report["errors"] == []


def test_ten_thousand_records_stay_responsive(bulk_report):
    _assert_checks(bulk_report, "bulk_all_listed", "bulk_virtualised", "bulk_search_and_filter",
                   "bulk_sort", "bulk_scroll_to_end", "bulk_dom_stays_small")  # fmt: skip


def test_the_panel_pages_searches_and_counts_on_the_server(bulk_report):
    """First page + facets on open (never every record), more pages as the list scrolls,
    search on the server, the menus' counts from GET facets."""
    _assert_checks(bulk_report, "bulk_first_page_only", "bulk_scroll_loads_pages",
                   "bulk_search_on_server", "bulk_facets_in_menus")  # fmt: skip
    t = bulk_report["timings"]
    # Generous sanity bounds (a hang, not a regression test: benchmarks/ has the figures).
    assert t["first_rows_ms"] < 20_000, t
    assert t["search_many_ms"] < 5_000, t
    assert t["max_main_thread_gap_ms"] < 3_000, t
