"""``python <pack-dir> scan`` in a subprocess, against the fake CivitAI server."""

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from models_tree import build_models_tree, safetensors_bytes
from packload import PACK_DIR

KNOWN = ("anime", "other_known", "base", "rewritten")


def cli_env(fake, interval="0.01"):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVITAI")}
    env.update(CIVITAI_API_BASE=fake.url, CIVITAI_IDENTIFY_INTERVAL=interval)
    return env


def run_cli(tmp_path, fake, *args, interval="0.01"):
    return subprocess.run(
        [sys.executable, str(PACK_DIR), "scan", *map(str, args), "--db", str(tmp_path / "db")],
        capture_output=True, text=True, cwd=tmp_path, env=cli_env(fake, interval), timeout=120,
    )  # fmt: skip


def start_cli(tmp_path, fake, *args, interval):
    return subprocess.Popen(
        [sys.executable, str(PACK_DIR), "scan", *map(str, args), "--db", str(tmp_path / "db")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env=cli_env(fake, interval),
    )  # fmt: skip


def test_json_report_then_a_free_rescan(tmp_path, fake_civitai):
    tree = build_models_tree(tmp_path / "models")
    tree.register(fake_civitai, *KNOWN)
    before = tree.snapshot()
    report = tmp_path / "report.json"
    done = run_cli(tmp_path, fake_civitai, tree.root, "--report", report)
    assert done.returncode == 0, done.stderr
    data = json.loads(report.read_text())
    models = {m["name"]: m for m in data["models"]}
    assert len(models) == 8 and all(m["path"].startswith(str(tree.root)) for m in models.values())
    assert models["some_lora.safetensors"]["status"] == "identified"
    assert models["style/anime.safetensors"]["status"] == "not_checked"  # default: other only
    assert data["summary"]["by_category"]["other"] == {"identified": 2, "unknown": 1}
    assert "Scan done: 8 model files" in done.stderr and "\r" not in done.stderr
    assert "hashing" in done.stderr  # plain progress lines when stderr is not a TTY
    fake_civitai.requests.clear()
    again = run_cli(tmp_path, fake_civitai, tree.root, "--all", "--report", report)
    assert again.returncode == 0, again.stderr
    summary = json.loads(report.read_text())["summary"]
    assert summary["bytes_hashed"] > 0  # only the AutoV3 of the two new safetensors misses
    assert summary["by_status"]["identified"] == 4
    fake_civitai.requests.clear()
    third = run_cli(tmp_path, fake_civitai, tree.root, "--all", "--report", report)
    summary = json.loads(report.read_text())["summary"]
    assert third.returncode == 0 and summary["calls"] == 0 and summary["bytes_hashed"] == 0
    assert fake_civitai.requests == []
    assert tree.snapshot() == before


def test_csv_report_offline_and_exit_1_on_file_errors(tmp_path, fake_civitai):
    tree = build_models_tree(tmp_path / "models")
    (tree.root / "broken.safetensors").write_bytes(safetensors_bytes(7)[:90])
    report = tmp_path / "report.csv"
    done = run_cli(tmp_path, fake_civitai, tree.root, "--offline", "--report", report)
    assert done.returncode == 1, done.stderr
    assert "error   other/broken.safetensors: Truncated" in done.stderr
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert len(rows) == 9 and {"path", "SHA256", "model_name", "status"} <= set(rows[0])
    by_name = {r["name"]: r for r in rows}
    assert by_name["style/anime.safetensors"]["SHA256"] == tree.files["anime"].sha256
    assert by_name["broken.safetensors"]["status"] == "error"
    assert fake_civitai.requests == []


@pytest.mark.parametrize(
    ("args", "message"),
    [(["missing_dir"], "does not exist"), (["{root}", "--all", "--offline"], "not allowed"),
     (["{root}", "--api-base", "ftp://x"], "http(s) URL")],
)  # fmt: skip
def test_usage_errors_exit_2(tmp_path, fake_civitai, args, message):
    root = tmp_path / "models"
    root.mkdir()
    done = run_cli(tmp_path, fake_civitai, *[a.format(root=root) for a in args])
    assert done.returncode == 2 and message in done.stderr


def _db_unknowns(db) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return conn.execute("SELECT COUNT(*) FROM lookups WHERE status='unknown'").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def _wait_for(predicate, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_sigkill_mid_lookup_leaves_a_sound_db_and_the_next_scan_finishes(tmp_path,
                                                                       fake_civitai):  # fmt: skip
    tree = build_models_tree(tmp_path / "models")
    tree.register(fake_civitai, *KNOWN)
    before = tree.snapshot()
    db = tmp_path / "db"
    # 60 s between calls: after the bulk call the CLI waits before fetching parent models
    proc = start_cli(tmp_path, fake_civitai, tree.root, "--all", interval="60")
    try:
        # the pickles' "unknown" answers are saved as soon as the bulk call returns
        assert _wait_for(lambda: _db_unknowns(db) >= 3), "no outcome saved in time"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    report = tmp_path / "r.json"
    done = run_cli(tmp_path, fake_civitai, tree.root, "--all", "--report", report)
    assert done.returncode == 0, done.stderr
    data = json.loads(report.read_text())
    status = tree.by_status(data["models"])
    assert {k for k, s in status.items() if s == "identified"} == set(KNOWN)
    assert {k for k, s in status.items() if s == "unknown"} == set(tree.files) - set(KNOWN)
    assert data["summary"]["files_hashed"] == 0  # every hash survived the kill
    assert tree.snapshot() == before


def test_ctrl_c_stops_cleanly_with_exit_130(tmp_path, fake_civitai):
    tree = build_models_tree(tmp_path / "models")
    tree.register(fake_civitai, *KNOWN)
    db = tmp_path / "db"
    proc = start_cli(tmp_path, fake_civitai, tree.root, "--all", interval="60")
    try:
        assert _wait_for(lambda: _db_unknowns(db) >= 3), "no outcome saved in time"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Scan cancelled" in err
    assert _db_unknowns(db) >= 3  # what was saved stays saved


def test_scan_from_python_example_runs(tmp_path):
    tree = build_models_tree(tmp_path / "models")
    example = PACK_DIR / "examples" / "scan_from_python.py"
    done = subprocess.run([sys.executable, str(example), str(tree.root)], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "style/anime.safetensors" in done.stdout and "8 files, 8 hashed" in done.stdout


def test_progress_redraws_on_a_tty_and_prints_plain_lines_otherwise():
    import io

    from packload import pack_module

    progress_cli = pack_module("nodes.cli.progress")
    clock = [0.0]
    p = {"phase": "hashing", "files_done": 1, "files_total": 4, "bytes_done": 3 << 20,
         "bytes_total": 12 << 20, "current": "loras/a.safetensors", "lookups_done": 0,
         "lookups_total": 0, "eta_seconds": 75}  # fmt: skip
    tty = io.StringIO()
    printer = progress_cli.ProgressPrinter(tty, tty=True, clock=lambda: clock[0])
    printer(p)
    clock[0] += 1
    printer({**p, "files_done": 2})
    printer.finish()
    assert tty.getvalue().count("\r") == 2 and tty.getvalue().endswith("\n")
    assert "hashed 2/4 files  3.0 MB/12.0 MB  ETA 1m15s" in tty.getvalue()
    plain = io.StringIO()
    printer = progress_cli.ProgressPrinter(plain, tty=False, clock=lambda: clock[0])
    for i in range(5):  # within 10 s: one line, then a line at the phase change
        printer({**p, "files_done": i})
    printer({**p, "phase": "looking_up", "lookups_total": 3, "lookups_done": 1})
    lines = plain.getvalue().splitlines()
    assert "\r" not in plain.getvalue() and len(lines) == 2
    assert lines[1].startswith("looking_up") and "lookups 1/3" in lines[1]


def _count(db, table) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def test_sigkill_mid_hashing_loses_no_finished_hash(tmp_path, fake_civitai):
    root = tmp_path / "models" / "checkpoints"
    root.mkdir(parents=True)
    n, size = 24, 32 << 20  # sparse files: cheap to make, under a second to hash in all
    for i in range(n):
        with open(root / f"big{i:02d}.ckpt", "wb") as f:
            f.write(i.to_bytes(8, "little"))
            f.truncate(size)
    db = tmp_path / "db"
    proc = start_cli(tmp_path, fake_civitai, root.parent, "--offline", interval="0.01")
    try:
        assert _wait_for(lambda: _count(db, "hash_cache") >= 3), "hashing did not start"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL, "the scan finished before it could be killed"
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    report = tmp_path / "r.json"
    done = run_cli(tmp_path, fake_civitai, root.parent, "--offline", "--report", report)
    assert done.returncode == 0, done.stderr
    summary = json.loads(report.read_text())["summary"]
    assert summary["files_total"] == n and summary["by_status"]["not_checked"] == n
    assert summary["files_hashed"] <= n - 3  # hashes finished before the kill were kept
