"""``python <pack-dir> inspect``, run as a user runs it: in a subprocess."""

import json
import subprocess
import sys

from model_header_cases import CASES
from model_headers import write_pickle_zip, write_safetensors
from packload import PACK_DIR


def run_cli(*args):
    return subprocess.run([sys.executable, str(PACK_DIR), *map(str, args)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_one_json_line_per_file_in_order_with_errors_in_place(tmp_path):
    by_name = {c[0]: c for c in CASES}
    files = []
    for name in ("kohya_sdxl.safetensors", "flux1-dev.safetensors"):
        _, tensors, meta, _ = by_name[name]
        write_safetensors(tmp_path / name, tensors, meta)
        files.append(tmp_path / name)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a model at all, just some words\n")
    ckpt = tmp_path / "old.ckpt"
    write_pickle_zip(ckpt)
    out = run_cli("inspect", files[0], notes, files[1], ckpt, tmp_path / "missing.safetensors")
    assert out.returncode == 1, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [line["path"] for line in lines] == [
        str(files[0]), str(notes), str(files[1]), str(ckpt), str(tmp_path / "missing.safetensors")
    ]
    assert lines[0]["detected"]["kind"] == "lora"
    assert lines[0]["detected"]["base_model"] == "SDXL 1.0"
    assert list(lines[1]) == ["path", "error"] and "not a safetensors, GGUF" in lines[1]["error"]
    assert lines[2]["detected"]["base_model"] == "Flux.1 D"
    assert lines[3]["detected"]["kind"] is None and lines[3]["detected"]["format"] == "pickle"
    assert "does not exist" in lines[4]["error"]


def test_all_good_exits_zero_and_loads_no_network_code(tmp_path):
    path = tmp_path / "emb.safetensors"
    write_safetensors(path, {"emb_params": ("F32", (4, 768))})
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['x', 'inspect', {str(path)!r}]\n"
        "try:\n"
        f"    runpy.run_path({str(PACK_DIR)!r}, run_name='__main__')\n"
        "except SystemExit as e:\n"
        "    assert e.code == 0, e.code\n"
        "heavy = sorted(m for m in ('aiohttp', 'yarl', 'blake3') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    first, heavy = out.stdout.split("HEAVY")
    assert json.loads(first)["detected"]["kind"] == "embedding"
    assert heavy.strip() == "[]"


def test_the_scan_report_shows_the_header_verdict_and_the_warnings(tmp_path, fake_civitai):
    import csv
    import hashlib

    from model_headers import SD15_LORA
    from test_cli_scan import run_cli as run_scan

    root = tmp_path / "models"
    root.mkdir()
    lora = root / "stray.safetensors"
    write_safetensors(lora, SD15_LORA)
    sha = hashlib.sha256(lora.read_bytes()).hexdigest().upper()
    fake_civitai.add_file_model(sha256=sha, type="LORA", base_model="SDXL 1.0")
    for fmt in ("csv", "json"):
        report = tmp_path / f"report.{fmt}"
        done = run_scan(tmp_path, fake_civitai, root, "--report", report)
        assert done.returncode == 0, done.stderr
        if fmt == "csv":
            (row,) = csv.DictReader(report.open(encoding="utf-8"))
        else:
            (row,) = json.loads(report.read_text())["models"]
            row = {**row, "detected_kind": row["detected"]["kind"],
                   "detected_base_model": row["detected"]["base_model"],
                   "warnings": "; ".join(row["warnings"])}  # fmt: skip
        assert row["status"] == "identified"
        assert (row["detected_kind"], row["detected_base_model"]) == ("lora", "SD 1.5")
        assert row["suggested_category"] == "loras"
        assert row["warnings"] == "CivitAI says SDXL 1.0 but the file's tensors are SD 1.5"
