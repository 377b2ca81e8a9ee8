"""The end-to-end promise "a bad file never stops a scan": one tree mixing good files with
every bad kind, scanned by the CLI (a real process) and by the ComfyUI service."""

import asyncio
import csv
import json
import os
import socket
import struct

from models_tree import build_models_tree, safetensors_bytes
from routes_helpers import settings
from test_cli_scan import run_cli

DEEP = b"[" * 200_000
BOMB = b'{"a":[' + b"[]," * 2**20 + b"[]]}"

#: bad model file → the start of its error sentence
BAD_FILES = {
    "empty.safetensors": (b"", "Empty file (0 bytes)"),
    "truncated.safetensors": (safetensors_bytes(70)[:300], "Truncated safetensors file: its t"),
    "cut_header.safetensors": (safetensors_bytes(71)[:40], "Truncated safetensors file: its h"),
    "nested.safetensors": (struct.pack("<Q", len(DEEP)) + DEEP,
                           "Unreadable safetensors header: it is nested more than 100"),
    "not_utf8.safetensors": (struct.pack("<Q", 8) + b'{"\xff":1} ' + b"x" * 10,
                             "Unreadable safetensors header: it is not UTF-8 text"),
    "declared_90mib.safetensors": (struct.pack("<Q", 90 * 2**20) + b"{}" * 8,
                                   "Not a valid safetensors file: it declares a"),
    "bomb.safetensors": (struct.pack("<Q", len(BOMB)) + BOMB,
                         "Unreadable safetensors header: it holds"),
    "bad_entry.safetensors": (struct.pack("<Q", 22) + b'{"w":{"dtype":"F32"}}  ',
                              "Not a valid safetensors file: tensor 'w' has no valid"),
}  # fmt: skip
#: not a file → the skip reason
NOT_FILES = {
    "pipe.safetensors": "not a regular file (a pipe, socket or device)",
    "sock.ckpt": "not a regular file (a pipe, socket or device)",
    "dir.safetensors": "a directory, not a model file (its contents are scanned)",
    "loop.pt": "symlink loop",
}


def build(root):
    tree = build_models_tree(root)
    bad_dir = root / "broken"
    bad_dir.mkdir()
    for name, (data, _) in BAD_FILES.items():
        (bad_dir / name).write_bytes(data)
    (bad_dir / "m.civitai.info").write_bytes(DEEP)  # a hostile sidecar beside a good file
    (bad_dir / "m.safetensors").write_bytes(safetensors_bytes(72))
    (bad_dir / "m.metadata.json").write_bytes(b'{"civitai": ' + DEEP)
    os.mkfifo(bad_dir / "pipe.safetensors")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(bad_dir / "sock.ckpt"))
    (bad_dir / "dir.safetensors").mkdir()
    os.symlink("loop.pt", bad_dir / "loop.pt")
    return tree, sock


def check_summary(summary, tree):
    errors = {e["name"].rsplit("/", 1)[-1]: e["error"] for e in summary["errors"]}
    assert set(errors) == set(BAD_FILES)
    for name, (_, sentence) in BAD_FILES.items():
        assert errors[name].startswith(sentence), (name, errors[name])
    skipped = {os.path.basename(s["path"]): s["reason"] for s in summary["skipped"]}
    assert skipped == NOT_FILES
    good = len(tree.files) + 1  # the tree, and m.safetensors beside its hostile sidecars
    assert summary["files_total"] == good + len(BAD_FILES)
    assert summary["by_status"]["error"] == len(BAD_FILES)


def test_the_cli_scan_finishes_exits_1_and_reports_every_bad_file(tmp_path, fake_civitai):
    tree, sock = build(tmp_path / "models")
    try:
        tree.register(fake_civitai, "anime", "other_known")
        report = tmp_path / "report.json"
        done = run_cli(tmp_path, fake_civitai, tree.root, "--all", "--report", report)
        csv_report = tmp_path / "report.csv"
        again = run_cli(tmp_path, fake_civitai, tree.root, "--all", "--report", csv_report)
    finally:
        sock.close()
    assert done.returncode == 1, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    data = json.loads(report.read_text())
    check_summary(data["summary"], tree)
    records = {r["name"]: r for r in data["models"]}
    for tf in tree.files.values():  # every good file hashed
        assert records[tf.name]["hashes"]["SHA256"] == tf.sha256
    assert records["broken/m.safetensors"]["status"] in ("unknown", "identified")
    assert records[tree.files["anime"].name]["status"] == "identified"
    for line in (f"error   other/broken/{n}" for n in BAD_FILES):
        assert line in done.stderr
    # the re-scan reads nothing again and reports the same; the CSV lists every bad thing
    assert again.returncode == 1
    rows = {os.path.basename(r["path"] or r["name"]): r for r in
            csv.DictReader(csv_report.open(encoding="utf-8"))}  # fmt: skip
    for name, (_, sentence) in BAD_FILES.items():
        assert rows[name]["status"] == "error" and rows[name]["error"].startswith(sentence)
    for name, reason in NOT_FILES.items():
        assert rows[name]["status"] == "skipped" and rows[name]["error"] == reason


async def test_the_same_scan_in_comfyui_ends_done(comfy_env, fake_civitai):
    tree, sock = build(comfy_env.models_dir / "tree")
    comfy_env.add_folder_path("loras", tree.root)
    events = []
    service = comfy_env.make_service(settings(fake_civitai), loop=asyncio.get_running_loop(),
                                     emit=lambda e, d: events.append((e, d)))  # fmt: skip
    try:
        job, _ = await service.start_scan(folders=["loras"], identify="all")
        await asyncio.wait({job.task}, timeout=60)
        assert job.state == "done", job.error
        summary = job.summary
    finally:
        sock.close()
        await service.close()
    errors = {e["name"].rsplit("/", 1)[-1] for e in summary["errors"]}
    assert errors == set(BAD_FILES)
    assert {os.path.basename(s["path"]) for s in summary["skipped"]} == set(NOT_FILES)
