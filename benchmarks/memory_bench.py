"""Peak memory (RSS) of a CLI scan of a big tree: offline, then identifying.

    python benchmarks/memory_bench.py [--files 100000] [--identify-files 2000] [--interval 3]

Each scan is ``python <pack> scan DIR ...`` in its own SUBPROCESS; its peak RSS is the
child's ``ru_maxrss`` from ``os.wait4`` (that child only). Budgets (issue #15): offline
<= 300 MB, identifying <= 500 MB.

1. offline: a first scan of ``--files`` tiny safetensors files (hashing all of them;
   ~10 min for 100,000 on a loaded 2-core machine), then a re-scan of the same tree.
2. identifying: ``scan --all`` of a tree of ``--identify-files`` files that the fake
   CivitAI (tests/fake_civitai.py, a real aiohttp server on 127.0.0.1) knows, every file a
   model of its own: 2 calls per 100 files, each spaced ``--interval`` s (the pack's
   default 3 s; a smaller one is printed as used; the pack's spacing itself is untouched).
   100,000 files at 3 s would take ~100 min of spacing alone: hence fewer files by default.
Run by hand; no test asserts these figures.
"""

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACK_DIR = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(PACK_DIR / "tests"))

from rescan_bench import build_tree, tiny_safetensors  # noqa: E402

OFFLINE_BUDGET_MB, IDENTIFY_BUDGET_MB = 300, 500


def run_scan(args: list[str], env: dict, cwd: Path) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, exit status) of ``python <pack> scan ARGS``."""
    log = open(cwd / "scan.log", "ab")  # closed below
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(PACK_DIR), "scan", *args, "--no-progress"],
                            env=env, cwd=cwd, stdout=log, stderr=log)  # fmt: skip
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    log.close()
    return time.perf_counter() - t0, usage.ru_maxrss / 1024, proc.returncode  # KiB on Linux


def report(label: str, seconds: float, peak: float, status: int, budget: int) -> None:
    verdict = "within" if peak <= budget else "OVER"
    print(f"{label}: {seconds:.1f} s, exit {status}, peak RSS {peak:.0f} MB "
          f"(budget {budget} MB: {verdict})", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--identify-files", type=int, default=2_000)
    parser.add_argument("--interval", type=float, default=3.0)
    parser.add_argument("--skip-offline", action="store_true")
    args = parser.parse_args()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("CIVITAI")}
    with tempfile.TemporaryDirectory(prefix="memory-bench-") as tmp:
        tmp = Path(tmp)
        if not args.skip_offline:
            root, db = tmp / "offline" / "models", tmp / "offline.sqlite3"
            t0 = time.perf_counter()
            build_tree(root, args.files)
            print(f"tree: {args.files} files in {time.perf_counter() - t0:.1f} s", flush=True)
            scan = [str(root), "--offline", "--db", str(db)]
            report(f"offline scan, first ({args.files} files hashed)",
                   *run_scan(scan, base_env, tmp), OFFLINE_BUDGET_MB)  # fmt: skip
            report(f"offline re-scan ({args.files} files unchanged)",
                   *run_scan(scan, base_env, tmp), OFFLINE_BUDGET_MB)  # fmt: skip
        from fake_civitai import FakeCivitai

        fake = FakeCivitai().start()
        try:
            n = args.identify_files
            root, db = tmp / "identify" / "models", tmp / "identify.sqlite3"
            build_tree(root, n)
            for i in range(n):
                sha = hashlib.sha256(tiny_safetensors(i)).hexdigest().upper()
                fake.add_file_model(sha256=sha, name=f"Model {i}")
            if args.interval != 3.0:
                print(f"NOTE: CIVITAI_IDENTIFY_INTERVAL={args.interval} used for this bench "
                      "(the pack's default spacing is 3 s)")  # fmt: skip
            env = {**base_env, "CIVITAI_API_BASE": fake.url,
                   "CIVITAI_IDENTIFY_INTERVAL": str(args.interval)}  # fmt: skip
            seconds, peak, status = run_scan([str(root), "--all", "--db", str(db)], env, tmp)
            calls = len(fake.requests)
            report(f"identifying scan ({n} files, {calls} CivitAI requests, "
                   f"{args.interval:g} s spacing)", seconds, peak, status,
                   IDENTIFY_BUDGET_MB)  # fmt: skip
        finally:
            fake.stop()
        if any(b"Traceback" in line for line in (tmp / "scan.log").open("rb")):
            print((tmp / "scan.log").read_text(errors="replace")[-3000:])


if __name__ == "__main__":
    main()
