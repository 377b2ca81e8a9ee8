"""Use the scanner from Python: scan a folder offline and print its records.

    python examples/scan_from_python.py /path/to/ComfyUI/models [--db /tmp/example.sqlite3]

The pack is loaded by path as a package, the way ComfyUI and ``__main__.py`` load it (its
modules use relative imports, and ``nodes`` would clash with ComfyUI's own module).
Nothing is sent to CivitAI: the client is None and identify="none".
"""

import argparse
import asyncio
import importlib
import importlib.util
import os
import sys
import tempfile
from pathlib import Path

PACK_DIR = Path(__file__).resolve().parent.parent
PACKAGE = "civitai_identify"


def load_pack():
    sys.path[:] = [p for p in sys.path if Path(p or os.curdir).resolve() != PACK_DIR]
    spec = importlib.util.spec_from_file_location(
        PACKAGE, PACK_DIR / "__init__.py", submodule_search_locations=[str(PACK_DIR)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = module
    spec.loader.exec_module(module)
    return module


async def scan(models_dir: str, db_path: str) -> None:
    paths = importlib.import_module(f"{PACKAGE}.nodes.scan")
    ModelStore = importlib.import_module(f"{PACKAGE}.nodes.store").ModelStore
    Scanner = importlib.import_module(f"{PACKAGE}.nodes.scan").Scanner
    HashCache = importlib.import_module(f"{PACKAGE}.hashing").HashCache

    store, cache = ModelStore(db_path), HashCache(db_path)
    try:
        folders = paths.folders_for_directory(models_dir)  # {"loras": [...], "other": [dir]}
        scanner = Scanner(store, cache, None, folders)  # no client: offline
        summary = await scanner.scan(identify="none")
        for record in store.list_records():
            sha = record["hashes"]["SHA256"] or "-"
            print(f"{record['folder']:<16} {record['name']:<50} {record['status']:<12} {sha[:12]}")
        print(f"{summary['files_total']} files, {summary['files_hashed']} hashed "
              f"({summary['bytes_hashed']} bytes), {len(summary['skipped'])} skipped, "
              f"{summary['duration_seconds']} s")  # fmt: skip
    finally:
        cache.close()
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models_dir")
    parser.add_argument("--db", help="database file (default: a temporary one)")
    args = parser.parse_args()
    load_pack()
    if args.db:
        asyncio.run(scan(args.models_dir, args.db))
        return
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(scan(args.models_dir, os.path.join(tmp, "example.sqlite3")))


if __name__ == "__main__":
    main()
