"""How the sidebar panel copes with a big store: N records (default 10,000) in a real
SQLite store behind the pack's real routes, driven in headless Chromium.

    python3 benchmarks/panel_bench.py [--records 10000] [--runs 3]

Needs node, Chromium (/usr/bin/chromium or $CHROMIUM) and tests/browser/node_modules
(npm install in tests/browser). Prints the GET models answer (size, time) for the full
and the brief view (the panel asks for brief), then, per run and as the median: time to
the first rows on screen, search and filter times (typing to the list settling, 150 ms
debounce included), scroll frame times, and the longest main-thread stall.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BROWSER = ROOT / "tests" / "browser"
sys.path.insert(0, str(ROOT / "tests"))
from packload import load_browser_module  # noqa: E402 - tests/ is put on the path first


def _rich(info_for):
    """The seed's infos are small (one image, one-line descriptions); real ones are not."""

    def rich(origin, model_id, *args, **kwargs):
        info = info_for(origin, model_id, *args, **kwargs)
        info["description"] = "<p>" + "A long model description with <b>tips</b>. " * 70 + "</p>"
        info["version_description"] = "<p>" + "Version notes, settings. " * 20 + "</p>"
        first = info["images"][0]
        info["images"] += [
            {**first, "url": f"{origin}/img/extra-{model_id}-{i}.png", "nsfw_level": 1 + i % 2}
            for i in range(9)
        ]
        return info

    return rich


def main() -> int:
    parser = argparse.ArgumentParser(description="Sidebar panel with many records.")
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--rich",
        action="store_true",
        help="CivitAI-sized infos: 3 KB description, 0.5 KB version notes, 10 images",
    )
    args = parser.parse_args()
    node = shutil.which("node")
    if not node or not (BROWSER / "node_modules" / "playwright-core").is_dir():
        print("needs node and tests/browser/node_modules (npm install in tests/browser)")
        return 2
    server_mod, seed = load_browser_module("panel_server"), load_browser_module("panel_seed")
    if args.rich:
        seed.info_for = _rich(seed.info_for)
    tmp = Path(tempfile.mkdtemp(prefix="cid-panel-bench-"))
    server = server_mod.PanelServer(tmp / "models", tmp / "store.sqlite").start()
    try:
        t0 = time.perf_counter()
        seed.seed_small_tree(tmp / "models", tmp / "store.sqlite", server.origin, new_file=False)
        seed.seed_bulk(tmp / "store.sqlite", args.records, server.origin)
        print(f"seeded {args.records:,} records in {time.perf_counter() - t0:.1f} s")
        for view in ("full", "brief"):  # the panel asks for brief
            for _ in range(2):  # the second answer is the warm one
                t0 = time.perf_counter()
                url = f"{server.origin}/api/civitai-identify/models?view={view}"
                with urllib.request.urlopen(url) as answer:
                    size = len(answer.read())
                ms = (time.perf_counter() - t0) * 1000
            print(f"GET models?view={view}: {size / 1e6:.1f} MB in {ms:.0f} ms")
        identified = seed.bulk_identified(args.records)
        results = []
        for run in range(args.runs):
            cmd = [node, str(BROWSER / "panel_driver.mjs"), "--url", server.origin + "/",
                   "--scenario", "bulk", "--out", str(tmp),
                   "--total", str(args.records + len(seed.TREE)),
                   "--bulk-count", str(identified),
                   "--not-checked", str(args.records - identified + 1)]  # fmt: skip
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=BROWSER)
            report = json.loads(done.stdout)
            bad = [name for name, c in report["checks"].items() if not c["ok"]]
            print(f"run {run + 1}: {report['timings']}" + (f"  FAILED {bad}" if bad else ""))
            results.append(report["timings"])
        print("median:")
        for key in results[0]:
            print(f"  {key:26} {statistics.median(r[key] for r in results):8.0f}")
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
