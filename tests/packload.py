"""Load the pack the way ComfyUI loads it: by importlib, from its folder, under a package
name that cannot be imported any other way (it has a hyphen). An absolute ``import nodes``
or ``import hashing`` inside the pack therefore fails here exactly as it would in ComfyUI."""

import importlib
import importlib.util
import os
import sys
from pathlib import Path

PACK_DIR = Path(__file__).resolve().parent.parent
PACK_NAME = "civitai-identify"

# Neither the pack folder nor its sub-packages may be importable as top-level modules.
sys.path[:] = [p for p in sys.path if Path(p or os.curdir).resolve() != PACK_DIR]


def load_pack():
    """Import the pack as ComfyUI does and return the package module."""
    if PACK_NAME in sys.modules:
        return sys.modules[PACK_NAME]
    spec = importlib.util.spec_from_file_location(
        PACK_NAME, PACK_DIR / "__init__.py", submodule_search_locations=[str(PACK_DIR)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[PACK_NAME] = module
    spec.loader.exec_module(module)
    return module


def pack_module(relative: str):
    """``pack_module("hashing.engine")`` → that submodule, loaded through the package."""
    load_pack()
    return importlib.import_module(f"{PACK_NAME}.{relative}")


def load_browser_module(name: str):
    """``tests/browser/<name>.py`` (the panel's test server and seed), loaded by path: that
    folder is no package, and the panel tests and the panel benchmark both use it."""
    module_name = f"panel_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    path = PACK_DIR / "tests" / "browser" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
