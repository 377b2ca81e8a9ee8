"""Lazy imports where users pay for them: importing the pack (ComfyUI start-up) and
``python3 . hash`` load no network stack; the pack import loads no sqlite3 either.
(The time these save is measured by benchmarks/hash_cli_bench.py, not here.)"""

import subprocess
import sys
import textwrap

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


def test_importing_the_pack_imports_no_network_stack_and_no_sqlite():
    code = textwrap.dedent(
        f"""
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location(
            "civitai-identify", {str(PACK_DIR / "__init__.py")!r},
            submodule_search_locations=[{str(PACK_DIR)!r}])
        module = importlib.util.module_from_spec(spec)
        sys.modules["civitai-identify"] = module
        spec.loader.exec_module(module)
        print(sorted({{n.split(".")[0] for n in sys.modules}}))
        """
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd="/", timeout=60)  # fmt: skip
    assert run.returncode == 0, run.stderr
    loaded = set(eval(run.stdout))  # a printed list of module names
    assert "civitai-identify" in loaded
    assert loaded.isdisjoint((*NETWORK, "sqlite3")), sorted(loaded & {*NETWORK, "sqlite3"})
