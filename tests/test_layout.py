"""Guards for the rules every room relies on: relative imports only, doors one way, layers in
``nodes/`` one way, no arrow back up to the pack root, small files and small folders."""

import ast
from pathlib import Path

import tomllib
from packload import PACK_DIR

ROOMS = ("hashing", "civitai", "nodes")
SOURCE_DIRS = (*ROOMS, "web", "benchmarks", "examples", "tests")
# What each layer of nodes/ may import from the others (besides hashing and civitai).
LAYERS = {"store": set(), "scan": {"store"}, "comfy": {"store", "scan"}, "cli": {"store", "scan"}}
MAX_MODULES_PER_FOLDER = 12


def _pack_sources():
    yield PACK_DIR / "__init__.py"
    for room in ROOMS:
        yield from sorted((PACK_DIR / room).rglob("*.py"))


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield 0, alias.name, None
        elif isinstance(node, ast.ImportFrom):
            yield node.level, node.module or "", [a.name for a in node.names]


def _targets(path: Path):
    """Each relative import of ``path`` as pack-relative module parts, e.g. ("nodes", "scan")."""
    package = list(path.relative_to(PACK_DIR).parts[:-1])
    for level, module, names in _imports(path):
        if level == 0:
            continue
        base = package[: len(package) - (level - 1)]
        parts = tuple(base + (module.split(".") if module else []))
        if not module:  # `from . import x`: x is a module (or a name) of that package
            yield from ((*parts, name) for name in names)
        else:
            yield parts


def test_pack_never_imports_its_own_rooms_absolutely():
    # ComfyUI has a top-level `nodes` module and PyPI has `civitai`: absolute imports break.
    offenders = [
        f"{path.relative_to(PACK_DIR)}: import {name}"
        for path in _pack_sources()
        for level, name, _ in _imports(path)
        if level == 0 and name.split(".")[0] in ROOMS
    ]
    assert offenders == []


def test_doors_go_one_way():
    # hashing and civitai never import nodes, nor each other.
    offenders = []
    for room in ("hashing", "civitai"):
        for path in sorted((PACK_DIR / room).rglob("*.py")):
            for target in _targets(path):
                if not target or target[0] != room:
                    offenders.append(f"{path.relative_to(PACK_DIR)} → {'.'.join(target) or 'root'}")
    assert offenders == []


def test_no_room_imports_the_pack_root():
    # The root imports nodes/; a room that imported the root back would close a loop.
    offenders = [
        str(path.relative_to(PACK_DIR))
        for room in ROOMS
        for path in sorted((PACK_DIR / room).rglob("*.py"))
        for target in _targets(path)
        if (len(target) == 1 and target[0] not in ROOMS) or target == ()
    ]
    assert offenders == []


def test_layers_in_nodes_go_one_way():
    offenders = []
    for layer, allowed in LAYERS.items():
        for path in sorted((PACK_DIR / "nodes" / layer).rglob("*.py")):
            for target in _targets(path):
                if len(target) >= 2 and target[0] == "nodes" and target[1] in LAYERS:
                    if target[1] != layer and target[1] not in allowed:
                        offenders.append(f"{path.relative_to(PACK_DIR)} → {'.'.join(target)}")
    assert offenders == []


def test_nodes_is_four_layer_folders():
    modules = sorted(p.name for p in (PACK_DIR / "nodes").glob("*.py"))
    folders = sorted(p.name for p in (PACK_DIR / "nodes").iterdir() if (p / "__init__.py").exists())
    assert folders == sorted(LAYERS)
    assert modules == ["__init__.py", "lazy.py"]


def test_folders_stay_small_and_name_their_surface():
    packages = [p.parent for room in ROOMS for p in (PACK_DIR / room).rglob("__init__.py")]
    too_big = {
        str(p.relative_to(PACK_DIR)): n
        for p in packages
        if (n := len([m for m in p.glob("*.py") if m.name != "__init__.py"]))
        > MAX_MODULES_PER_FOLDER
    }
    assert too_big == {}
    no_surface = []
    for p in packages:
        if p.name == "nodes":
            continue
        tree = ast.parse((p / "__init__.py").read_text(encoding="utf-8"))
        names = {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets
                 if isinstance(t, ast.Name)}  # fmt: skip
        if "__all__" not in names:
            no_surface.append(str(p.relative_to(PACK_DIR)))
    assert no_surface == []


def test_version_is_one_leaf_and_matches_pyproject():
    leaf = PACK_DIR / "civitai" / "version.py"
    assert list(_targets(leaf)) == [] and not any(True for _ in _imports(leaf))
    namespace: dict = {}
    exec(leaf.read_text(encoding="utf-8"), namespace)
    pyproject = tomllib.loads((PACK_DIR / "pyproject.toml").read_text(encoding="utf-8"))
    assert namespace["__version__"] == pyproject["project"]["version"]


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


def test_one_place_opens_sqlite():
    # hashing/db.py's connect_db is the one door to SQLite (WAL, busy timeout, quick check,
    # autocommit so that only transaction() opens transactions).
    callers = sorted(
        str(path.relative_to(PACK_DIR))
        for path in _pack_sources()
        if "sqlite3.connect(" in path.read_text(encoding="utf-8")
    )
    assert callers == ["hashing/db.py"]
