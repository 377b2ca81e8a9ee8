"""Guards for the rules every room relies on: relative imports only, doors one way, small files."""

import ast
from pathlib import Path

from packload import PACK_DIR

ROOMS = ("hashing", "civitai", "nodes")
SOURCE_DIRS = (*ROOMS, "web", "benchmarks", "examples", "tests")


def _pack_sources():
    yield PACK_DIR / "__init__.py"
    for room in ROOMS:
        yield from sorted((PACK_DIR / room).rglob("*.py"))


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield 0, alias.name
        elif isinstance(node, ast.ImportFrom):
            yield node.level, node.module or ""


def test_pack_never_imports_its_own_rooms_absolutely():
    # ComfyUI has a top-level `nodes` module and PyPI has `civitai`: absolute imports break.
    offenders = [
        f"{path.relative_to(PACK_DIR)}: import {name}"
        for path in _pack_sources()
        for level, name in _imports(path)
        if level == 0 and name.split(".")[0] in ROOMS
    ]
    assert offenders == []


def test_doors_go_one_way():
    # hashing and civitai never import nodes, nor each other.
    offenders = []
    for room in ("hashing", "civitai"):
        others = {"nodes", *ROOMS} - {room}
        for path in sorted((PACK_DIR / room).rglob("*.py")):
            for level, name in _imports(path):
                depth = len(path.relative_to(PACK_DIR / room).parts)  # 1 = room top level
                if level > depth and name.split(".")[0] in others:
                    offenders.append(f"{path.relative_to(PACK_DIR)}: from {'.' * level}{name}")
    assert offenders == []


def test_source_files_stay_small():
    big = []
    for folder in SOURCE_DIRS:
        for path in (PACK_DIR / folder).rglob("*"):
            if "node_modules" in path.parts or path.suffix not in {".py", ".js", ".mjs"}:
                continue
            lines = path.read_text(encoding="utf-8", errors="replace").count("\n")
            if lines > 400:
                big.append(f"{path.relative_to(PACK_DIR)} ({lines} lines)")
    assert big == []
