"""The whole ``python3 . hash FILE`` process vs a bare ``hashlib.sha256`` process.

    python3 benchmarks/hash_cli_bench.py [--size 2G] [--rounds 5] [--dir DIR]

Creates a sparse file of --size bytes (instant to set up: reading a hole costs no disk IO,
so both sides run at memory speed, the worst case for start-up overhead) and times, in the
same run and interleaved, for several rounds:
  bare sha256    ``python3 -c`` reading the file in 1 MiB ``readinto`` blocks into
                 ``hashlib.sha256`` — the yardstick, interpreter start-up included
  pack hash      ``python3 <pack> hash --db <fresh db> FILE`` — the real command on a file
                 not in the cache: start-up, imports, settings, the store, five hashes, the
                 cache write and the JSON line
  pack start-up  ``python3 <pack> hash --db <db> <tiny file>`` — the fixed cost alone
  bare start-up  ``python3 -c "import hashlib"`` — the interpreter's own share of it
and prints the throughput of ``pack hash`` as a ratio of ``bare sha256`` (best round and
median; goal ≥ 0.95×). The processes run with a bytecode cache (in the temporary
directory, warmed once), as an installed pack has, even when PYTHONDONTWRITEBYTECODE is set.
Also lists which heavy modules the hash command imported (``-X importtime``): aiohttp must
not be among them. Run by hand; no test asserts timings.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PACK_DIR = Path(__file__).resolve().parent.parent
HEAVY = ("aiohttp", "yarl", "multidict", "asyncio", "sqlite3", "dotenv", "blake3", "zlib_ng")
BARE = """
import hashlib, sys
h, buf = hashlib.sha256(), bytearray(1 << 20)
view = memoryview(buf)
with open(sys.argv[1], "rb", buffering=0) as f:
    while n := f.readinto(buf):
        h.update(view[:n])
print(h.hexdigest().upper())
"""


def parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper().removesuffix("IB").removesuffix("B")
    return int(float(text[:-1]) * units[text[-1]]) if text[-1] in units else int(text)


ENV: dict[str, str] = {}


def timed(cmd: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, env=ENV)
    return time.perf_counter() - t0, done.stdout


def heavy_imports(tmp: Path, tiny: Path) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(PACK_DIR), "hash", "--db", str(tmp / "i.db"),
         str(tiny)],
        capture_output=True, text=True, check=True, env=ENV,
    )  # fmt: skip
    names = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    return sorted(n for n in names if n.split(".")[0] in HEAVY and "." not in n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="2G")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dir", default=None, help="where the sparse file goes (default: tmp)")
    args = parser.parse_args()
    size = parse_size(args.size)
    with tempfile.TemporaryDirectory(prefix="hash-cli-bench-", dir=args.dir) as tmp_name:
        tmp = Path(tmp_name)
        big, tiny = tmp / "big.bin", tmp / "tiny.bin"
        with open(big, "wb") as f:
            f.truncate(size)
        tiny.write_bytes(b"x")
        ENV.update(os.environ, PYTHONPYCACHEPREFIX=str(tmp / "pycache"))
        ENV.pop("PYTHONDONTWRITEBYTECODE", None)
        timed([sys.executable, str(PACK_DIR), "hash", "--db", str(tmp / "w.db"), str(tiny)])
        bare_cmd = [sys.executable, "-c", BARE, str(big)]
        bare, pack, startup, bare_startup = [], [], [], []
        for i in range(args.rounds):
            seconds, out = timed(bare_cmd)
            bare.append(seconds)
            db = tmp / f"round{i}.sqlite3"
            seconds, line = timed([sys.executable, str(PACK_DIR), "hash", "--db", str(db),
                                   str(big)])  # fmt: skip
            pack.append(seconds)
            assert out.strip() in line, "the two processes disagree on the SHA256"
            seconds, _ = timed([sys.executable, str(PACK_DIR), "hash", "--db", str(db),
                                str(tiny)])  # fmt: skip
            startup.append(seconds)
            seconds, _ = timed([sys.executable, "-c", "import hashlib"])
            bare_startup.append(seconds)
        imported = heavy_imports(tmp, tiny)
    gib = size / (1 << 30)
    print(f"file: {gib:g} GiB sparse, {args.rounds} rounds, interleaved")
    rows = (("bare sha256", bare), ("pack hash", pack), ("pack start-up", startup),
            ("bare start-up", bare_startup))  # fmt: skip
    for name, runs in rows:
        print(f"{name:>14}: best {min(runs):.3f} s, median {statistics.median(runs):.3f} s")
    best = min(bare) / min(pack)
    median = statistics.median(bare) / statistics.median(pack)
    print(f"ratio (pack throughput / bare sha256): best {best:.2f}x, median {median:.2f}x "
          "(goal >= 0.95x)")  # fmt: skip
    print(f"heavy modules imported by `hash`: {', '.join(imported) or 'none'}")
    if "aiohttp" in imported:
        print("FAIL: `python3 . hash` imported aiohttp")
        sys.exit(1)


if __name__ == "__main__":
    main()
