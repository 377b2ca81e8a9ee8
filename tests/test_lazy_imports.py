"""Lazy imports where users pay for them: ``python3 . hash`` loads no network stack (the
pack import's own check is in test_package.py). The time this saves is measured by
benchmarks/hash_cli_bench.py, not here."""

import subprocess
import sys

from packload import PACK_DIR

NETWORK = ("aiohttp", "yarl", "multidict", "asyncio", "dotenv")


def _top_level_imports(stderr: str) -> set[str]:
    return {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in stderr.splitlines()
            if line.startswith("import time:")}  # fmt: skip


def test_the_hash_command_imports_no_network_stack(tmp_path):
    model = tmp_path / "m.bin"
    model.write_bytes(b"hello world")
    run = subprocess.run(
        [sys.executable, "-X", "importtime", str(PACK_DIR), "hash", "--db",
         str(tmp_path / "db.sqlite3"), str(model)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert '"CRC32": "85114A0D"' in run.stdout
    imported = _top_level_imports(run.stderr)
    assert "sqlite3" in imported  # the check can see what was imported (the cache needs it)
    assert imported.isdisjoint(NETWORK), sorted(imported & set(NETWORK))
