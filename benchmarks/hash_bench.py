"""Hashing throughput, relative to hashlib's SHA256 alone, on a warm page cache.

    python3 benchmarks/hash_bench.py [--size 1G] [--rounds 5] [--file PATH]
                                     [--block-sizes 1M,2M,4M,8M] [--dir DIR]

Creates (in --dir, default a temporary directory; removed afterwards) a plain file and a
safetensors file of --size bytes, or uses --file as the plain file. Each file is read once
first so every round runs from the page cache. Then, in one run and for several rounds:
  sha256 alone   hashlib.sha256 over 1 MiB ``readinto`` blocks (the yardstick)
  a1111 loop     ``f.read(1 MiB)`` + sha256, as A1111's ``hashes.py`` does
  engine five    hash_file(autov3=False) on the plain file (SHA256 AutoV1 AutoV2 CRC32 BLAKE3)
  engine six     hash_file(autov3=True) on the safetensors file (+ AutoV3)
and prints each one's throughput as a ratio of sha256-alone's (best round and median).
Targets on 2 cores: engine five ≥ 0.95×, engine six ≥ 0.65×.
"""

import argparse
import hashlib
import json
import mmap
import os
import statistics
import struct
import sys
import tempfile
import time
import zlib
from pathlib import Path

PACK_DIR = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024


def load_engine():
    """Import hashing.engine the way ComfyUI would import the pack (see tests/packload.py)."""
    sys.path.insert(0, str(PACK_DIR / "tests"))
    from packload import pack_module

    return pack_module("hashing.engine")


def parse_size(text: str) -> int:
    units = {"K": 1024, "M": MiB, "G": 1024 * MiB}
    text = text.strip().upper().removesuffix("IB").removesuffix("B")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def write_file(path: Path, size: int, header: bytes = b"") -> None:
    chunk = os.urandom(16 * MiB)  # content does not change hashing speed
    with open(path, "wb") as f:
        f.write(header)
        left = size - len(header)
        while left > 0:
            left -= f.write(chunk[: min(left, len(chunk))])


def safetensors_header(size: int) -> bytes:
    n_data = size - 8 - 256  # a header padded to 256 bytes
    meta = {"__metadata__": {"format": "pt"}}
    meta["w"] = {"dtype": "U8", "shape": [n_data], "data_offsets": [0, n_data]}
    h = json.dumps(meta).encode()
    h += b" " * (256 - len(h))
    return struct.pack("<Q", len(h)) + h


def warm(path: Path) -> None:
    with open(path, "rb", buffering=0) as f:
        buf = bytearray(8 * MiB)
        while f.readinto(buf):
            pass


def sha256_alone(path: Path) -> None:
    buf = mmap.mmap(-1, MiB)
    view = memoryview(buf)
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(view):
            h.update(view[:n])
    h.hexdigest()


def a1111_loop(path: Path) -> None:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MiB), b""):
            h.update(chunk)
    h.hexdigest()


def timed(fn, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", default="1G", help="file size (e.g. 1G, 512M); default 1G")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--file", help="use this file as the plain (non-safetensors) file")
    p.add_argument("--block-sizes", default="4M", help="engine block sizes to compare")
    p.add_argument("--dir", help="where to create the files (default: a temporary dir)")
    p.add_argument("--stdlib-crc", action="store_true", help="use zlib's CRC-32 even when "
                   "zlib-ng is installed")  # fmt: skip
    args = p.parse_args(argv)
    engine = load_engine()
    streams = sys.modules[engine.__package__ + ".streams"]
    if args.stdlib_crc:
        streams._crc32 = zlib.crc32
    crc_backend = streams._crc32.__module__ or "zlib"
    size = os.path.getsize(args.file) if args.file else parse_size(args.size)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        plain = Path(args.file) if args.file else Path(tmp) / "plain.bin"
        st_file = Path(tmp) / "model.safetensors"
        if not args.file:
            write_file(plain, size)
        write_file(st_file, size, safetensors_header(size))
        for f in (plain, st_file):
            warm(f)
        load = os.getloadavg()[0]
        print(f"size {size / MiB:.0f} MiB, {args.rounds} rounds, {os.cpu_count()} CPUs, "
              f"CRC-32 from {crc_backend}, load average before {load:.2f}")  # fmt: skip
        runs = {
            "sha256 alone": lambda: sha256_alone(plain),
            "a1111 loop": lambda: a1111_loop(plain),
        }
        for bs in [parse_size(b) for b in args.block_sizes.split(",")]:
            tag = f"{bs // MiB}M" if bs >= MiB else f"{bs // 1024}K"
            runs[f"engine five {tag}"] = lambda bs=bs: engine.hash_file(
                plain, autov3=False, block_size=bs
            )
            runs[f"engine six {tag}"] = lambda bs=bs: engine.hash_file(st_file, block_size=bs)
        # Interleave the rounds so background load hits every variant alike.
        times = {name: [] for name in runs}
        for _ in range(args.rounds):
            for name, fn in runs.items():
                times[name] += timed(fn, 1)
        base_best = min(times["sha256 alone"])
        base_median = statistics.median(times["sha256 alone"])
        print(f"{'':18} {'best GB/s':>10} {'ratio':>7} {'median GB/s':>12} {'ratio':>7}")
        for name, ts in times.items():
            best, med = min(ts), statistics.median(ts)
            print(f"{name:18} {size / best / 1e9:10.2f} {base_best / best:6.2f}x "
                  f"{size / med / 1e9:12.2f} {base_median / med:6.2f}x")  # fmt: skip
        print(f"load average after {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
