"""``python <pack-dir> lookup HASH...`` in a subprocess against the fake CivitAI server."""

import json
import os
import subprocess
import sys

from packload import PACK_DIR

TOKEN = "cli-SECRET-token-42"
KNOWN, UNKNOWN = "D" * 64, "E" * 64


def run_cli(fake, *args, tmp_path):
    """``python <pack-dir> -v lookup ...``: DEBUG logging on, so a leaked token would show."""
    env = dict(os.environ, CIVITAI_TOKEN=TOKEN, CIVITAI_IDENTIFY_INTERVAL="0")
    env.pop("CIVITAI_API_BASE", None)
    cmd = [sys.executable, str(PACK_DIR), "-v", "lookup", *args]
    done = subprocess.run(
        cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=False
    )
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    return done, lines


def test_lookup_prints_one_json_line_per_hash(fake_civitai, tmp_path):
    ids = fake_civitai.add_file_model(KNOWN, name="CLI model", type="Checkpoint")
    done, lines = run_cli(
        fake_civitai, KNOWN, UNKNOWN, "0123456789AB", "--api-base", fake_civitai.url,
        tmp_path=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [line["hash"] for line in lines] == [KNOWN, UNKNOWN, "0123456789AB"]
    assert [line["status"] for line in lines] == ["identified", "unknown", "unknown"]
    assert set(lines[0]) >= {"hash", "status", "civitai_info", "error"}
    assert lines[0]["civitai_info"]["version_id"] == ids.version_id
    assert lines[0]["civitai_info"]["category"] == "checkpoints"
    assert lines[1]["civitai_info"] is None and lines[1]["error"] is None
    assert TOKEN not in done.stdout and TOKEN not in done.stderr  # stderr has DEBUG logs
    assert "model-versions/by-hash" in done.stderr
    assert fake_civitai.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"


def test_lookup_exits_1_when_a_lookup_failed(fake_civitai, tmp_path):
    # a 403 challenge page is not retried: no real backoff sleeps in this subprocess
    fake_civitai.fail_next(403, body="<html>challenge</html>", content_type="text/html")
    done, lines = run_cli(fake_civitai, KNOWN, "--api-base", fake_civitai.url, tmp_path=tmp_path)
    assert done.returncode == 1
    assert lines[0]["status"] == "error" and lines[0]["error_kind"] == "cloudflare"
    assert lines[0]["error"]
    assert TOKEN not in done.stdout + done.stderr


def test_lookup_rejects_a_bad_api_base(fake_civitai, tmp_path):
    done, lines = run_cli(fake_civitai, KNOWN, "--api-base", "nonsense", tmp_path=tmp_path)
    assert done.returncode == 2 and lines == []
    assert "--api-base" in done.stderr
