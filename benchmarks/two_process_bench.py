"""One library, two processes: what ComfyUI's routes feel while a CLI scan writes the same
store, and how far apart CivitAI requests of two processes really are.

    python benchmarks/two_process_bench.py [--files 400] [--mb 1] [--interval 0.5]

1. Builds a fake ComfyUI tree (tests/comfy_tree.py) with ``--files`` model files of
   ``--mb`` MB, starts ``python3 <tree>/custom_nodes/civitai-identify scan --offline`` (a
   real second process) and, while it runs, ComfyUI's Service in this process runs its own
   scan of the same store and answers ``status()`` every 20 ms (what the panel polls).
   Prints the status latency (median, p95, max) and the server loop's worst lag.
2. Starts two ``lookup`` processes against the fake CivitAI (tests/fake_civitai.py) at
   ``--interval`` and prints the smallest gap between one request's end and the next one's
   start in the fake's log, over both processes (the rule: ≥ interval).

Run by hand; the tests assert only correctness (tests/test_two_processes_store.py,
tests/test_spacing_shared.py).
"""

import argparse
import asyncio
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

PACK_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PACK_DIR / "tests"))

from comfy_tree import build_fake_comfy, cli_env  # noqa: E402
from fake_civitai import FakeCivitai  # noqa: E402
from packload import pack_module  # noqa: E402


async def route_latency(base: Path, fake, files: int, mb: float) -> None:
    tree = build_fake_comfy(base)
    blob_size = int(mb * 1024 * 1024)
    for i in range(files):
        path = tree.models / "loras" / "bulk" / f"{i:04}.ckpt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(i.to_bytes(4, "little") * (blob_size // 4))
    folder_paths = types.SimpleNamespace(
        folder_names_and_paths=tree.folder_names_and_paths(), models_dir=str(tree.models),
        get_user_directory=lambda: str(tree.root / "user"), get_full_path=lambda f, n: None,
    )  # fmt: skip
    service_mod = pack_module("nodes.comfy.service")
    settings = pack_module("civitai").Settings(api_base=fake.url, interval=0.01)
    service = service_mod.Service(folder_paths, emit=lambda *a: None, settings=settings,
                                  db_path=tree.store, own_loop=True)  # fmt: skip
    await service.status()
    cli = subprocess.Popen(
        [sys.executable, str(tree.pack), "scan", "--offline", "--no-progress"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=base, env=cli_env(tree, fake),
    )  # fmt: skip
    job, _ = await service.call(service.start_scan, identify="none")
    latencies, lags, t0 = [], [], time.monotonic()
    while cli.poll() is None or job.running:
        started = time.monotonic()
        await service.status()
        latencies.append(time.monotonic() - started)
        tick = time.monotonic()
        await asyncio.sleep(0.02)
        lags.append(time.monotonic() - tick - 0.02)
    took = time.monotonic() - t0
    await service.close()
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(f"route latency while a CLI scan and ComfyUI's scan write one store "
          f"({files} files x {mb:g} MB, {took:.1f} s, {len(latencies)} status calls):")
    print(f"  GET status: median {statistics.median(latencies) * 1000:.1f} ms, "
          f"p95 {p95 * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms "
          f"(goal < 250 ms); server loop worst lag {max(lags) * 1000:.1f} ms; "
          f"CLI exit {cli.returncode}, ComfyUI scan {job.state}")


def min_gap(base: Path, fake, interval: float, per_process: int = 6) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVITAI")}
    env.update(CIVITAI_API_BASE=fake.url, CIVITAI_IDENTIFY_INTERVAL=str(interval),
               CIVITAI_IDENTIFY_DB=str(base / "gap.sqlite3"))  # fmt: skip
    fake.reset()
    hashes = [[f"{n * 1000 + i:010X}" for i in range(per_process)] for n in range(2)]
    commands = [[sys.executable, str(PACK_DIR), "lookup", *h] for h in hashes]
    procs = [
        subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        for c in commands
    ]
    for p in procs:
        p.wait(300)
    log = sorted(fake.requests, key=lambda r: r.start)
    gaps = [b.start - a.end for a, b in itertools.pairwise(log)]
    print(f"two lookup processes, {len(log)} requests at interval {interval:g} s: "
          f"min gap end→start {min(gaps):.3f} s, mean {statistics.mean(gaps):.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--mb", type=float, default=1.0)
    parser.add_argument("--interval", type=float, default=0.5)
    args = parser.parse_args()
    fake = FakeCivitai().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(route_latency(Path(tmp) / "latency", fake, args.files, args.mb))
            min_gap(Path(tmp), fake, args.interval)
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
