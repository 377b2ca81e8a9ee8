"""The pack imports the way ComfyUI imports it, with no ComfyUI present and no IO."""

import builtins
import os
import subprocess
import sys
import textwrap

from packload import PACK_DIR


def test_import_without_comfyui_does_no_io():
    # A fresh interpreter so nothing is cached; open() and os.scandir are watched.
    code = textwrap.dedent(
        f"""
        import builtins, importlib.util, os, sys
        opened = []
        real_open = builtins.open
        def spy_open(file, *a, **k):
            opened.append(str(file))
            return real_open(file, *a, **k)
        builtins.open = spy_open
        real_scandir = os.scandir
        os.scandir = lambda *a, **k: opened.append(("scandir", a)) or real_scandir(*a, **k)
        spec = importlib.util.spec_from_file_location(
            "civitai-identify", {str(PACK_DIR / "__init__.py")!r},
            submodule_search_locations=[{str(PACK_DIR)!r}])
        mod = importlib.util.module_from_spec(spec)
        sys.modules["civitai-identify"] = mod
        spec.loader.exec_module(mod)
        assert mod.WEB_DIRECTORY == "./web"
        assert callable(mod.comfy_entrypoint)
        assert not hasattr(mod, "NODE_CLASS_MAPPINGS")
        assert "server" not in sys.modules and "folder_paths" not in sys.modules
        # no network stack and no sqlite3 until first use (ComfyUI start-up stays cheap)
        heavy = {{"aiohttp", "yarl", "multidict", "asyncio", "dotenv", "sqlite3"}}
        loaded = sorted(heavy & {{n.split(".")[0] for n in sys.modules}})
        assert not loaded, f"importing the pack loaded {{loaded}}"
        print("OPENED", opened)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd="/", timeout=60
    )
    assert out.returncode == 0, out.stderr
    opened = out.stdout.split("OPENED", 1)[1].strip()
    assert opened == "[]", f"import touched files: {opened}"


def test_sub_packages_are_not_top_level_modules():
    # An absolute `import hashing` inside the pack would only work if these resolved.
    for name in ("hashing", "nodes", "civitai"):
        assert name not in sys.modules or not str(
            getattr(sys.modules[name], "__file__", "")
        ).startswith(str(PACK_DIR))
    assert str(PACK_DIR) not in [os.path.abspath(p or os.curdir) for p in sys.path]
    assert builtins is not None


def test_the_suite_runs_from_a_checkout_with_a_hyphen_in_its_name(tmp_path):
    # Users clone into custom_nodes/civitai-identify: pytest then imports the root __init__.py
    # as a bare module (no parent package), so nothing at its top level may import relatively.
    checkout = tmp_path / "civitai-identify"
    checkout.mkdir()
    for name in ("__init__.py", "pyproject.toml"):
        (checkout / name).write_bytes((PACK_DIR / name).read_bytes())
    for room in ("civitai", "hashing", "nodes", "tests"):
        os.symlink(PACK_DIR / room, checkout / room)
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "tests/test_layout.py"],
        capture_output=True, text=True, cwd=checkout, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    root = {"__name__": "bare"}
    exec(compile((PACK_DIR / "__init__.py").read_text(encoding="utf-8"), "bare", "exec"), root)
    assert root["WEB_DIRECTORY"] == "./web"
