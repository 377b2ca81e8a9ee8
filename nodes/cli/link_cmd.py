"""``python <pack-dir> link FILE URL`` and ``unlink FILE``: say "this file IS that CivitAI
version" for a file CivitAI does not know by hash (a converted or re-saved file), or take
it back. URL: a CivitAI model URL (``…/models/123?modelVersionId=456``; without the version:
the model's newest), a civitai.red URL, or an AIR (``urn:air:sdxl:lora:civitai:123@456``).

The link lives in the pack's store (``--db``, default as for ``scan``) under the file's
SHA256: a re-scan keeps it while the file is unchanged. The record is printed as one JSON
line; a size mismatch with the version's files is a warning on stderr (linked anyway).
Exit: 0 linked, 1 CivitAI could not answer, 2 bad FILE/URL or nothing to unlink.
"""

import argparse
import json
import os
import sys

from .options import add_api_base_option, add_db_option, settings_from_args


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "link",
        help="link a model file to a CivitAI version by hand (URL or AIR)",
        description="Link FILE to the CivitAI version URL points at, for a file CivitAI "
        "does not know by hash. One version request and its model.",
    )
    p.add_argument("file", metavar="FILE", help="the model file")
    p.add_argument("url", metavar="URL", help="CivitAI model URL or AIR")
    add_api_base_option(p)
    add_db_option(p)
    p.set_defaults(run=run_link)
    u = subparsers.add_parser("unlink", help="forget a link made by hand",
                              description="Forget FILE's manual link.")  # fmt: skip
    u.add_argument("file", metavar="FILE", help="the model file")
    add_db_option(u)
    u.set_defaults(run=run_unlink, api_base=None)


def _fail(command: str, message: str, code: int = 2) -> int:
    print(f"{command}: error: {message}", file=sys.stderr)
    return code


def _open(args, settings):
    """(store, cache, folder, name, folders) for FILE: the (folder, name) a scan gave it,
    else ``other`` / its file name in its own directory."""
    from ...hashing import HashCache
    from ..scan import comfy_user_dir, find_comfy_root
    from ..store import ModelStore, default_db_path
    from .options import PACK_DIR

    root = find_comfy_root(PACK_DIR)
    db_path = args.db or default_db_path(settings, comfy_user_dir(root) if root else None)
    store = ModelStore(
        db_path, unknown_retry_days=settings.retry_days, model_refresh_days=settings.refresh_days
    )
    path = os.path.abspath(args.file)
    row = store.get_path(path)
    if row is not None and path.endswith(os.sep + row.name.replace("/", os.sep)):
        folder, name = row.folder, row.name
        top = path[: -len(row.name) - 1]
    else:
        folder, name, top = "other", os.path.basename(path), os.path.dirname(path)
    return db_path, store, HashCache(db_path), folder, name, {folder: [top]}


def run_link(args: argparse.Namespace) -> int:
    import asyncio

    from ..scan import BadLink, LinkFailed

    if not os.path.isfile(args.file):
        return _fail("link", f"{args.file} is not a file.")
    settings = settings_from_args(args)
    db_path, store, cache, folder, name, folders = _open(args, settings)
    try:
        record, warning = asyncio.run(_link(db_path, store, cache, settings, folders,
                                            folder, name, args.url))  # fmt: skip
    except BadLink as exc:
        return _fail("link", str(exc))
    except LinkFailed as exc:
        return _fail("link", str(exc), 1)
    finally:
        cache.close()
        store.close()
    if warning:
        print(f"link: warning: {warning}", file=sys.stderr)
    print(json.dumps(record, ensure_ascii=False))
    return 0


async def _link(db_path, store, cache, settings, folders, folder, name, url):
    from ...civitai import CivitaiClient
    from ..scan import Scanner, link_file
    from ..store import shared_limiter

    async with CivitaiClient(settings, limiter=shared_limiter(db_path, settings)) as client:
        return await link_file(Scanner(store, cache, client, folders), folder, name, url)


def run_unlink(args: argparse.Namespace) -> int:
    from ..scan import BadLink, unlink_file

    settings = settings_from_args(args)
    _, store, cache, folder, name, _ = _open(args, settings)
    try:
        record = unlink_file(store, folder, name)
    except BadLink as exc:
        return _fail("unlink", str(exc))
    finally:
        cache.close()
        store.close()
    print(json.dumps(record, ensure_ascii=False))
    return 0
