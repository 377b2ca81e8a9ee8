"""``inspect`` of 1,000 model files: files per second and bytes read per file.

    python3 benchmarks/inspect_bench.py [--files 1000] [--dir DIR] [--rounds 3]

Writes (in --dir, default a temporary directory; removed afterwards) --files sparse model
files cycling through every generated case of the classifier's tests (checkpoints with
~2,500 tensors, unets, LoRAs in each trainer's format, GGUF unets, encoders, VAEs, ...):
real headers, data regions never written. Each file is classified once first (warm page
cache), then for --rounds rounds:
  in-process     hashing.classify.inspect_file over every file
  command line   ``python3 . inspect`` on every file in one process (start-up included)
and prints files/s, seconds, and bytes read per file (the classifier's count and the
kernel's, from /proc/self/io). Goals: < 2 MB read per file on average, < 5 s warm.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PACK_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PACK_DIR / "tests"))

from model_header_cases import CASES, GGUF_CASES  # noqa: E402
from model_headers import write_gguf, write_safetensors  # noqa: E402
from packload import pack_module  # noqa: E402

MB = 1_000_000


def big_checkpoint() -> dict:
    """An SDXL-sized tensor table (~2,500 entries, as a real ComfyUI-saved checkpoint)."""
    from model_headers import SD_VAE, checkpoint, sd_unet, with_prefix

    tensors = checkpoint(sd_unet(2048, sdxl=True), with_prefix("first_stage_model.", SD_VAE))
    for i in range(2500):
        tensors[f"model.diffusion_model.output_blocks.{i}.0.in_layers.2.weight"] = (
            "F16", (1280, 1280, 3, 3))  # fmt: skip
    return tensors


def write_library(directory: Path, n: int) -> list[Path]:
    kinds = [("st", c) for c in CASES] + [("gguf", c) for c in GGUF_CASES]
    kinds.append(("st", ("sdxl_full.safetensors", big_checkpoint(), {}, None)))
    paths = []
    for i in range(n):
        kind, (name, tensors, meta, _) = kinds[i % len(kinds)]
        path = directory / f"{i:05d}_{name}"
        if kind == "gguf":
            write_gguf(path, tensors, meta)
        else:
            write_safetensors(path, tensors, meta)
        paths.append(path)
    return paths


def rchar() -> int | None:
    try:
        with open("/proc/self/io") as f:
            return int(next(line for line in f if line.startswith("rchar:")).split()[1])
    except OSError:
        return None


def in_process(paths, inspect_file) -> tuple[float, int, int | None]:
    before, t0 = rchar(), time.perf_counter()
    counted = 0
    for p in paths:
        counted += inspect_file(p)[1]
    seconds = time.perf_counter() - t0
    after = rchar()
    return seconds, counted, (after - before) if before is not None else None


def command_line(paths) -> float:
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, str(PACK_DIR), "inspect", *map(str, paths)],
                          capture_output=True, text=True)  # fmt: skip
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"inspect failed: {done.stderr[-500:]}")
    assert len(done.stdout.splitlines()) == len(paths)
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dir", type=Path, default=None)
    args = ap.parse_args()
    inspect_file = pack_module("hashing.classify").inspect_file
    tmp = Path(tempfile.mkdtemp(prefix="inspect-bench-", dir=args.dir))
    try:
        paths = write_library(tmp, args.files)
        apparent = sum(os.path.getsize(p) for p in paths)
        in_process(paths, inspect_file)  # warm the page cache
        runs = [in_process(paths, inspect_file) for _ in range(args.rounds)]
        cli = [command_line(paths) for _ in range(args.rounds)]
        n = len(paths)
        best = min(r[0] for r in runs)
        counted, kernel = runs[0][1], runs[0][2]
        print(f"{n} files, {apparent / 1e12:.2f} TB apparent size (sparse)")
        median = statistics.median(r[0] for r in runs)
        print(f"in-process    best {best:.2f} s, median {median:.2f} s  → {n / best:,.0f} files/s")
        print(f"command line  best {min(cli):.2f} s, median {statistics.median(cli):.2f} s"
              f"  → {n / min(cli):,.0f} files/s (one process, start-up included)")  # fmt: skip
        print(f"bytes read    {counted / n / MB:.3f} MB/file counted by the classifier"
              + (f", {kernel / n / MB:.3f} MB/file by the kernel (rchar)" if kernel else ""))
        print(f"goals         < 2 MB/file: {'met' if counted / n < 2 * MB else 'MISSED'}; "
              f"< 5 s warm: {'met' if min(cli) < 5 else 'MISSED'}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
