"""Re-scan cost of an unchanged 100,000-file tree vs a bare ``os.scandir`` + ``stat`` walk.

    python benchmarks/rescan_bench.py [--files 100000] [--repeat 5]

Builds the tree in a temporary directory (tiny safetensors files spread over ComfyUI
folders and "other": ~1 min for 100,000), runs a first scan offline (hashing everything:
a few minutes), then times, in the same run and interleaved, the best of ``--repeat``
re-scans against the best of ``--repeat`` bare walks, and prints the ratio. Goal: ≤ 3×.
Run by hand; no test asserts timings. ``--files 10000`` gives a quick look.
"""

import argparse
import asyncio
import importlib
import importlib.util
import json
import logging
import os
import struct
import sys
import tempfile
import time
from pathlib import Path

PACK_DIR = Path(__file__).resolve().parent.parent
PACKAGE = "civitai-identify"  # the name tests/packload.py loads it under
FOLDERS = ("checkpoints", "loras", "vae", "embeddings", "controlnet", "upscale_models")


def load_pack():
    """Import the pack as a package, the way ComfyUI does (see tests/packload.py)."""
    sys.path.insert(0, str(PACK_DIR / "tests"))
    from packload import load_pack as load

    return load()


def tiny_safetensors(i: int) -> bytes:
    data = i.to_bytes(4, "little") * 64
    header = json.dumps({"w": {"dtype": "F32", "shape": [64], "data_offsets": [0, len(data)]}})
    header += " " * (-len(header) % 8)
    return struct.pack("<Q", len(header)) + header.encode() + data


def build_tree(root: Path, n: int) -> None:
    for i in range(n):
        folder = FOLDERS[i % len(FOLDERS)] if i % 7 else f"downloads/batch{i % 13}"
        sub = root / folder / f"set{i % 20}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"model_{i:05d}.safetensors").write_bytes(tiny_safetensors(i))


def bare_walk(root: str) -> int:
    count, stack = 0, [root]
    while stack:
        with os.scandir(stack.pop()) as it:
            for entry in it:
                st = entry.stat()
                if entry.is_dir():
                    stack.append(entry.path)
                elif st.st_size >= 0:
                    count += 1
    return count


async def rescan(scanner) -> dict:
    return await scanner.scan(identify="none")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    load_pack()
    paths = importlib.import_module(PACKAGE + ".nodes.scan")
    Scanner = importlib.import_module(PACKAGE + ".nodes.scan").Scanner
    ModelStore = importlib.import_module(PACKAGE + ".nodes.store").ModelStore
    HashCache = importlib.import_module(PACKAGE + ".hashing").HashCache
    with tempfile.TemporaryDirectory(prefix="rescan-bench-") as tmp:
        root, db = Path(tmp) / "models", Path(tmp) / "db.sqlite3"
        t0 = time.perf_counter()
        build_tree(root, args.files)
        print(f"tree: {args.files} files in {time.perf_counter() - t0:.1f} s")
        store, cache = ModelStore(db), HashCache(db)
        scanner = Scanner(store, cache, None, paths.folders_for_directory(root))
        t0 = time.perf_counter()
        first = asyncio.run(rescan(scanner))
        print(f"first scan (offline): {first['files_total']} files, "
              f"{first['files_hashed']} hashed, {time.perf_counter() - t0:.2f} s")  # fmt: skip
        scans, walks = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            summary = asyncio.run(rescan(scanner))
            scans.append(time.perf_counter() - t0)
            assert summary["bytes_hashed"] == 0 and summary["files_total"] == args.files
            t0 = time.perf_counter()
            assert bare_walk(str(root)) == args.files
            walks.append(time.perf_counter() - t0)
        cache.close()
        store.close()
    scan_s, walk_s = min(scans), min(walks)
    print(f"re-scan (unchanged, best of {args.repeat}): {scan_s * 1000:.0f} ms")
    print(f"bare scandir + stat walk (best of {args.repeat}): {walk_s * 1000:.0f} ms")
    print(f"ratio: {scan_s / walk_s:.2f}x (goal <= 3x)")
    print("load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
