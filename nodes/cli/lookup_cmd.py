"""``python <pack-dir> lookup HASH... [--api-base URL]``: ask CivitAI about hashes.

Prints one JSON line per distinct hash, in the order given:
``{"hash", "status", "civitai_info", "error", "error_kind"}`` (status identified | unknown |
error). Exit 0 when every hash got an answer (identified or unknown), 1 when any ended in
error, 2 for a bad ``--api-base``. Settings (token, spacing, timeout) come from the
environment / ``.env``, see civitai/config.py. The 3-second spacing is shared with every
process using the store this pack would open (ComfyUI's inside a ComfyUI tree).
"""

from __future__ import annotations

import argparse
import json

from .options import add_api_base_option, settings_from_args


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "lookup",
        help="look model hashes up on CivitAI (one JSON line per hash)",
        description="Look hashes up on CivitAI: full SHA256s in bulk (100 per call), other "
        "kinds (AutoV2, AutoV3, CRC32, BLAKE3, AutoV1) one call each.",
    )
    parser.add_argument("hashes", nargs="+", metavar="HASH", help="SHA256, AutoV3, AutoV2, …")
    add_api_base_option(parser)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    import asyncio  # on use: building the parser (also for `hash`) must not load asyncio

    settings = settings_from_args(args)
    hashes = list(dict.fromkeys(args.hashes))
    outcomes = asyncio.run(_lookup(settings, hashes))
    for key in hashes:
        print(json.dumps(outcomes[key].to_json(), ensure_ascii=False), flush=True)
    return 1 if any(o.status == "error" for o in outcomes.values()) else 0


async def _lookup(settings, hashes: list[str]):
    from ...civitai import CivitaiClient  # here: `python3 . hash` must not import aiohttp
    from ..store import shared_limiter
    from .options import default_store

    # the spacing is shared with every process on the store this pack would use
    db_path = default_store(settings)
    async with CivitaiClient(settings, limiter=shared_limiter(db_path, settings)) as client:
        return await client.lookup(hashes)
