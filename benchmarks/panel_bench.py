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
import functools
import itertools
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BROWSER = ROOT / "tests" / "browser"
sys.path.insert(0, str(ROOT / "tests"))
from packload import load_browser_module  # noqa: E402 - tests/ is put on the path first

_rng = random.Random(15)
_LETTERS = "etaoinshrdlcumwfgypbvkjxqz"
_FREQ = (12.7, 9.1, 8.2, 7.5, 7.0, 6.7, 6.3, 6.1, 6.0, 4.3, 4.0, 2.8, 2.8, 2.4, 2.4, 2.2, 2.0,
         2.0, 1.9, 1.5, 1.0, 0.8, 0.15, 0.15, 0.1, 0.07)  # fmt: skip
# ~2,900 made-up words with English letter frequencies, drawn Zipf-like (exponent 1.2):
# zlib squeezes a 3 KB description ~2.7x, as it does CivitAI's real HTML descriptions
# (a repeated sentence would squeeze to nothing and flatter any compression).
VOCAB = sorted({"".join(_rng.choices(_LETTERS, _FREQ, k=_rng.randint(2, 11))) for _ in range(3000)})
_CUM = list(itertools.accumulate(1 / (i + 1) ** 1.2 for i in range(len(VOCAB))))
_MARKUP = ("</p><p>", "<br>", "<b>", "</b>", "<i>", "</i>", "<strong>", "</strong>", ", ", ". ")


@functools.lru_cache(maxsize=4096)
def prose(seed, chars: int) -> str:
    """About ``chars`` characters of HTML-ish text, the same for the same ``seed``."""
    rng, out, n = random.Random(seed), ["<p>"], 3
    while n < chars:
        words = rng.choices(VOCAB, cum_weights=_CUM, k=rng.randint(4, 14))
        piece = " ".join(words) + rng.choice(_MARKUP)
        out.append(piece)
        n += len(piece)
    return "".join(out) + "</p>"


def civitai_image_url(image_id: int) -> str:
    """An image URL shaped like CivitAI's (its CDN key, a random UUID, a width, the id):
    ~110 characters that compress like the real ones, not a short repeated local path.
    The thumbnail (the first image) stays on the local server so the panel can load it."""
    key = uuid.UUID(int=random.Random(image_id).getrandbits(128), version=4)
    return f"https://image.civitai.com/xG1nkqKTMzGDvpLrqFT7WA/{key}/width=832/{image_id}.jpeg"


def _rich(info_for, files_per_model: float = 1.0):
    """The seed's infos are small (one image, one-line descriptions); real ones are not:
    a ~3 KB description (one per CivitAI model), ~0.5 KB version notes, 10 images.
    ``files_per_model`` > 1: bulk records (model ids from 1000) share CivitAI models, as
    versions of one model do (each keeps its own version id)."""

    def rich(origin, model_id, *args, **kwargs):
        info = info_for(origin, model_id, *args, **kwargs)
        if model_id >= 1000 and files_per_model > 1:
            shared = 1000 + int((model_id - 1000) / files_per_model)
            info["model_id"] = shared
            info["url"] = f"https://civitai.com/models/{shared}?modelVersionId={model_id * 10}"
            info["creator"] = {"username": f"creator_{shared}", "image": None}
        info["description"] = prose(f"model {info['model_id']}", 3000)
        info["version_description"] = prose(f"version {info['version_id']}", 500)
        first = info["images"][0]
        info["images"] += [
            {**first, "url": civitai_image_url(model_id * 10 + i), "nsfw_level": 1 + i % 2}
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
