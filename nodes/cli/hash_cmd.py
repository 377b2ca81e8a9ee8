"""``python <pack-dir> hash FILE... [--no-cache] [--db PATH]``: CivitAI's six hashes.

Prints one JSON line per file, in the order given:
``{"path", "size", "SHA256", "AutoV1", "AutoV2", "AutoV3", "CRC32", "BLAKE3"}`` (null where
CivitAI has no such hash for the file), or ``{"path", "error"}`` for a file that cannot be
hashed. Exit 0 when every file was hashed, 1 when any failed, 2 for a usage error.
Unchanged files are answered from the hash cache (the pack's database) without being read.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3

from ...hashing import HASH_NAMES, HashCache, HashingError, hash_file
from .options import add_db_option, default_store

_log = logging.getLogger(__name__)


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "hash",
        help="print CivitAI's six hashes of files (one JSON line per file)",
        description="Compute SHA256, AutoV1, AutoV2, AutoV3, CRC32 and BLAKE3 exactly as "
        "CivitAI does, reading each file once. Results are cached by file identity.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="model files to hash")
    parser.add_argument(
        "--no-cache", action="store_true", help="neither read nor write the hash cache"
    )
    add_db_option(parser)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    cache = None if args.no_cache else _open_cache(args.db or default_store())
    failed = 0
    try:
        for name in args.files:
            path = os.path.abspath(name)
            try:
                result = cache.get_or_hash(path) if cache else hash_file(path)
            except HashingError as exc:
                failed += 1
                print(json.dumps({"path": path, "error": str(exc)}), flush=True)
                continue
            line = {"path": path, "size": result.size}
            line.update({n: result.hashes.get(n) for n in HASH_NAMES})
            print(json.dumps(line), flush=True)
    finally:
        if cache is not None:
            cache.close()
    return 1 if failed else 0


def _open_cache(db_path) -> HashCache | None:
    """The cache, or None (hash without it) when the database cannot be opened."""
    try:
        return HashCache(db_path)
    except (OSError, sqlite3.Error) as exc:
        _log.warning("Hash cache %s unavailable (%s); hashing without it.", db_path, exc)
        return None
