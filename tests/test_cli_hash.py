"""``python <pack-dir> hash``, run as a user runs it: in a subprocess."""

import json
import os
import sqlite3
import subprocess
import sys

import pytest
from packload import PACK_DIR
from test_hashing_vectors import CASES, build

FIELDS = ["path", "size", "SHA256", "AutoV1", "AutoV2", "AutoV3", "CRC32", "BLAKE3"]


def run_cli(*args, env_db=None, cwd=None):
    env = dict(os.environ)
    if env_db is not None:
        env["CIVITAI_IDENTIFY_DB"] = str(env_db)
    return subprocess.run(
        [sys.executable, str(PACK_DIR), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
    )


@pytest.fixture
def files(tmp_path):
    paths = []
    for case in CASES:
        p = tmp_path / case["name"]
        p.write_bytes(build(case["build"]))
        paths.append(p)
    return paths


def test_one_json_line_per_file_with_civitais_hashes(files, tmp_path):
    db = tmp_path / "state" / "db.sqlite"
    out = run_cli("hash", *files, env_db=db)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(lines) == len(CASES)
    for line, case, path in zip(lines, CASES, files, strict=True):
        assert list(line) == FIELDS
        assert line["path"] == str(path) and line["size"] == case["size"]
        assert {k: line[k] for k in FIELDS[2:]} == {k: case[k] for k in FIELDS[2:]}
    # The default database (CIVITAI_IDENTIFY_DB here) now remembers every file.
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM hash_cache").fetchone() == (len(CASES),)


def test_second_run_answers_from_the_cache(tmp_path):
    model = tmp_path / "m.bin"
    model.write_bytes(b"hello world")
    db = tmp_path / "explicit.sqlite"
    first = run_cli("hash", "--db", db, model)
    with sqlite3.connect(db) as conn:  # make the cached row recognisably different
        conn.execute("UPDATE hash_cache SET blake3 = 'FROM-CACHE'")
    second = run_cli("hash", "--db", db, model)
    assert json.loads(first.stdout)["BLAKE3"].startswith("D74981EF")
    assert json.loads(second.stdout)["BLAKE3"] == "FROM-CACHE"
    third = run_cli("hash", "--db", db, "--no-cache", model)
    assert json.loads(third.stdout)["BLAKE3"].startswith("D74981EF")


def test_no_cache_touches_no_database(tmp_path):
    model = tmp_path / "m.bin"
    model.write_bytes(b"x" * 100)
    db = tmp_path / "never" / "db.sqlite"
    out = run_cli("hash", "--no-cache", model, env_db=db)
    assert out.returncode == 0, out.stderr
    assert not db.parent.exists()


def test_bad_files_get_an_error_line_and_exit_1(tmp_path):
    good = tmp_path / "good.bin"
    good.write_bytes(b"hello world")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    out = run_cli("hash", tmp_path / "missing.bin", good, tmp_path, fifo, env_db=tmp_path / "d")
    assert out.returncode == 1, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [sorted(line) for line in lines] == [
        ["error", "path"],
        sorted(FIELDS),
        ["error", "path"],
        ["error", "path"],
    ]
    missing = tmp_path / "missing.bin"
    assert lines[0]["error"] == f"Cannot read '{missing}': the file does not exist."
    assert lines[1]["CRC32"] == "85114A0D"
    assert "directory" in lines[2]["error"] and str(tmp_path) in lines[2]["error"]
    assert "not a regular file" in lines[3]["error"]
    assert "Traceback" not in out.stderr


def test_relative_paths_are_printed_absolute(tmp_path):
    (tmp_path / "rel.bin").write_bytes(b"hello world")
    out = run_cli("hash", "--no-cache", "rel.bin", cwd=tmp_path)
    assert json.loads(out.stdout)["path"] == str(tmp_path / "rel.bin")


@pytest.mark.parametrize("args", [["hash"], ["hash", "--bogus", "x"], ["hash", "--db"]])
def test_usage_errors_exit_2(args):
    out = run_cli(*args)
    assert out.returncode == 2
    assert "usage" in out.stderr and out.stdout == ""


def test_unusable_database_falls_back_to_hashing(tmp_path):
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    model = tmp_path / "m.bin"
    model.write_bytes(b"hello world")
    out = run_cli("hash", "--db", blocker / "db.sqlite", model)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["CRC32"] == "85114A0D"
    assert "unavailable" in out.stderr
