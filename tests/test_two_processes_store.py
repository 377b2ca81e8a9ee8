"""A CLI scan (a real second process) and ComfyUI's service (this process) on one store at
the same time: no lock error, every record, and requests never wait on the CLI's lock for
longer than the short read timeout (latency figures: benchmarks/two_process_bench.py)."""

import asyncio
import subprocess
import sys
import threading
import time
import types

from comfy_tree import build_fake_comfy, cli_env
from models_tree import safetensors_bytes
from packload import pack_module

BULK = 120


def _start_cli(tree, fake, *args):
    proc = subprocess.Popen(
        [sys.executable, str(tree.pack), "scan", *map(str, args)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tree.base,
        env=cli_env(tree, fake),
    )  # fmt: skip
    lines, planned = [], threading.Event()

    def read():
        for line in proc.stderr:
            lines.append(line)
            if line.startswith("Folders:"):
                planned.set()
        planned.set()

    threading.Thread(target=read, daemon=True).start()
    return proc, lines, planned


def _folder_paths(tree):
    return types.SimpleNamespace(
        folder_names_and_paths=tree.folder_names_and_paths(),
        models_dir=str(tree.models),
        get_user_directory=lambda: str(tree.root / "user"),
        get_full_path=lambda folder, name: None,
    )


async def test_a_cli_scan_while_comfyui_serves_and_scans_the_same_store(tmp_path, fake_civitai):
    tree = build_fake_comfy(tmp_path)
    for i in range(BULK):
        path = tree.models / "loras" / "bulk" / f"{i:03}.safetensors"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(safetensors_bytes(1000 + i, n_floats=64 * 1024))
    service_mod = pack_module("nodes.comfy.service")
    settings = pack_module("civitai").Settings(api_base=fake_civitai.url, interval=0.01)
    service = service_mod.Service(_folder_paths(tree), emit=lambda *a: None, settings=settings,
                                  db_path=tree.store, own_loop=True)  # fmt: skip
    await service.status()  # the store exists before the CLI opens it too
    cli, cli_lines, planned = _start_cli(tree, fake_civitai, "--offline")
    try:
        assert await asyncio.to_thread(planned.wait, 60)
        job, created = await service.call(service.start_scan, identify="none")
        assert created
        latencies, lags = [], []
        while cli.poll() is None or job.running:
            started = time.monotonic()
            status = await service.status()  # what the panel polls
            latencies.append(time.monotonic() - started)
            tick = time.monotonic()
            await asyncio.sleep(0.01)
            lags.append(time.monotonic() - tick - 0.01)  # this loop is ComfyUI's server loop
        assert cli.wait(60) == 0, "".join(cli_lines)
        assert job.state == "done", job.error
    finally:
        await service.close()
    output = "".join(cli_lines)
    assert "locked" not in output and "Traceback" not in output
    assert job.summary["errors"] == [] and job.summary["skipped"] == []
    # every record, once, under ComfyUI's keys — whichever process wrote it
    reader = pack_module("nodes.store").ModelStore(tree.store)
    try:
        keys = [(r["folder"], r["name"]) for r in reader.list_records()]
    finally:
        reader.close()
    bulk = {("loras", f"bulk/{i:03}.safetensors") for i in range(BULK)}
    expected = tree.expected_keys() | bulk  # the service also has ~/shared/vae
    assert sorted(keys) == sorted(expected)
    assert status["counts"]["not_checked"] == len(expected)
    # no request waited on the other process's lock beyond the short read timeout
    assert len(latencies) > 3
    assert max(latencies) < service_mod.READ_BUSY_TIMEOUT_S, max(latencies)
    assert max(lags) < service_mod.READ_BUSY_TIMEOUT_S, max(lags)


async def test_a_file_another_process_hashed_meanwhile_is_not_read_again(tmp_path):
    # Two scans of the same files: the second listed them before the first stored a hash;
    # the cache is asked again right before each read, so that file costs no second read.
    from models_tree import build_models_tree, open_scanner

    tree = build_models_tree(tmp_path / "models")
    db = tmp_path / "db"
    async with open_scanner(tree.root, db) as (scanner, _store, _):
        listing = pack_module("nodes.scan").list_models(scanner.folders)
        other = pack_module("hashing").HashCache(db)  # the other process's connection
        try:
            done_there = other.get_or_hash(tree.files["base"].path, autov3=False)
        finally:
            other.close()
        summary = await scanner.scan(identify="none", listing=listing)
    sizes = {e.path: e.st.st_size for e in listing.entries}
    assert summary["files_total"] == len(listing.entries)
    assert summary["files_hashed"] == len(listing.entries) - 1
    assert summary["bytes_hashed"] == sum(sizes.values()) - done_there.bytes_read


def test_two_cli_scans_at_once_read_each_file_once(tmp_path, fake_civitai):
    import json

    tree = build_fake_comfy(tmp_path)
    big = tree.models / "checkpoints" / "big"
    big.mkdir()
    for i in range(10):  # big enough that the two scans overlap
        (big / f"{i}.ckpt").write_bytes(bytes([i]) * (24 * 1024 * 1024))
    procs = []
    for n in range(2):
        cmd = [sys.executable, str(tree.pack), "scan", str(big), "--offline", "--no-progress",
               "--report", str(tmp_path / f"report{n}.json")]  # fmt: skip
        procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      text=True, cwd=tree.base, env=cli_env(tree, fake_civitai)))
    for proc in procs:
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    summaries = [json.loads((tmp_path / f"report{n}.json").read_text())["summary"]
                 for n in range(2)]  # fmt: skip
    assert [s["files_total"] for s in summaries] == [10, 10]
    assert sum(s["files_hashed"] for s in summaries) == 10  # each file read by one of them
    assert sum(s["bytes_hashed"] for s in summaries) == 10 * 24 * 1024 * 1024
