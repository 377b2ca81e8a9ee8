"""``python <pack-dir> scan [DIR]``: scan model folders and identify their files on CivitAI.

Inside a ComfyUI tree (the pack at ``<root>/custom_nodes/<pack>``, or ``--comfyui ROOT``)
the scan is ComfyUI's: its store (``<root>/user/civitai-identify/…``), its model folders as
ComfyUI registers them (``extra_model_paths.yaml`` and ``--extra-model-paths`` included,
see nodes/scan/comfy_tree/), so records get the (folder, name) ComfyUI gives them; a DIR
inside those folders limits the scan to what is under it, with the same keys.

Outside a tree, DIR is required: its subfolders named like ComfyUI's model folders
(checkpoints, loras, vae, …) are those categories; files directly in DIR or in other
subfolders are ``other``; the store is in the user cache directory.

By default only ``other`` files are looked up (``--all``: every file; ``--offline``: none).
The store and the folders (with file counts) are printed first; progress goes to stderr, a
summary at the end; ``--report FILE`` writes the records (with paths) as JSON
``{"models": [...], "summary": {...}}`` or CSV. Exit: 0 done (unknowns are fine), 1 some
file or lookup errors, 2 usage, 130 interrupted (what was saved stays saved).
"""

import argparse
import logging
import os
import signal
import sys
import threading

from .options import PACK_DIR, add_api_base_option, add_db_option, settings_from_args

_log = logging.getLogger(__name__)


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "scan",
        help="scan a models directory and identify the files on CivitAI",
        description="Hash every model file under DIR (cached by file identity) and look up "
        "the ones that need it on CivitAI, in bulk. Results go to the pack's database.",
    )
    p.add_argument(
        "dir",
        metavar="DIR",
        nargs="?",
        help="folder to scan; inside a ComfyUI tree default: all of ComfyUI's model folders",
    )
    p.add_argument(
        "--comfyui",
        metavar="ROOT",
        help="the ComfyUI folder whose store and model folders to use (default: the one this "
        "pack is installed in, if any)",
    )
    p.add_argument(
        "--extra-model-paths",
        metavar="FILE",
        action="append",
        default=[],
        help="an extra_model_paths.yaml to read after ROOT/extra_model_paths.yaml, like "
        "ComfyUI's --extra-model-paths-config (repeatable)",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--all", action="store_true",
                      help="look up files in every category, not only 'other'")  # fmt: skip
    mode.add_argument("--offline", action="store_true", help="hash only; no API calls")
    p.add_argument(
        "--retry-unknown",
        action="store_true",
        help="ask again about files CivitAI did not know, before their retry date",
    )
    add_api_base_option(p)
    add_db_option(p)
    p.add_argument("--report", metavar="FILE", help="write the records to FILE")
    p.add_argument(
        "--format",
        choices=("json", "csv"),
        help="report format (default: from the FILE extension, else json)",
    )
    p.add_argument(
        "--write-sidecars",
        action="store_true",
        help="write <model>.civitai.info next to newly identified files",
    )
    p.add_argument(
        "--write-previews",
        action="store_true",
        help="save <model>.preview.<ext> (a CivitAI image, at most CIVITAI_IDENTIFY_PREVIEW_NSFW)"
        " beside identified models that have no preview",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    p.set_defaults(run=run)  # fmt: skip
    return p


def _usage(message: str) -> int:
    print(f"scan: error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    # Imported here, not at the top: `python3 . hash` builds this parser too and must not pay
    # for aiohttp and sqlite3.
    import asyncio
    import sqlite3

    from ...hashing import HashCache
    from ..scan import ComfyTreeError, list_models
    from ..store import ModelStore, default_db_path
    from .progress import ProgressPrinter
    from .report import report_text, summary_text, write_atomically

    if args.dir is not None and not os.path.isdir(args.dir):
        what = "does not exist" if not os.path.exists(args.dir) else "is not a directory"
        return _usage(f"{args.dir} {what}.")
    fmt = args.format or ("csv" if (args.report or "").lower().endswith(".csv") else "json")
    if args.report and not os.path.isdir(os.path.dirname(os.path.abspath(args.report))):
        return _usage(f"the folder for the report {args.report} does not exist.")
    try:
        tree = _comfy_tree(args)
    except ComfyTreeError as exc:
        return _usage(str(exc))
    if tree is None and args.dir is None:
        return _usage("give the models folder to scan (DIR); this pack is not inside a "
                      "ComfyUI folder (or pass --comfyui ROOT).")  # fmt: skip
    folders, within = _folders(tree, args.dir)
    settings = settings_from_args(args)
    identify = "none" if args.offline else "all" if args.all else "other"
    db_path = args.db or default_db_path(settings, tree.user_dir if tree else None)
    listing = list_models(folders, None, within)
    _print_plan(sys.stderr, db_path, tree, listing)
    try:
        store = ModelStore(
            db_path,
            unknown_retry_days=settings.retry_days,
            model_refresh_days=settings.refresh_days,
        )
        cache = HashCache(db_path)
    except (OSError, sqlite3.Error, RuntimeError) as exc:
        return _usage(f"cannot open the database {db_path}: {exc}")
    printer = None if args.no_progress else ProgressPrinter(sys.stderr)
    scan_args = (folders, within, listing)
    try:
        summary = asyncio.run(
            _scan(store, cache, settings, (*scan_args, db_path), identify, args, printer)
        )
        if printer:
            printer.finish()
        if args.report:
            roots = tuple(os.path.join(r, "") for rs in listing.roots.values() for r in rs)
            records = [r for r in store.list_records(include_path=True)
                       if r["path"].startswith(roots)]  # fmt: skip
            write_atomically(args.report, report_text(records, summary, fmt))
    finally:
        cache.close()
        store.close()
    print(summary_text(summary), file=sys.stderr)
    if summary["cancelled"]:
        return 130
    return 1 if summary["errors"] else 0


def _comfy_tree(args):
    """The ComfyUI tree to follow (``--comfyui``, else the one the pack sits in), or None."""
    from ..scan import ComfyTreeError, find_comfy_root, is_comfy_root, load_comfy_tree

    if args.comfyui is not None and not is_comfy_root(args.comfyui):
        raise ComfyTreeError(f"--comfyui {args.comfyui} is not a ComfyUI folder "
                             "(no main.py and folder_paths.py in it).")  # fmt: skip
    root = args.comfyui or find_comfy_root(PACK_DIR)
    if root is None:
        if args.extra_model_paths:
            raise ComfyTreeError("--extra-model-paths needs a ComfyUI folder: run the pack "
                                 "from ComfyUI/custom_nodes or pass --comfyui ROOT.")  # fmt: skip
        return None
    return load_comfy_tree(root, args.extra_model_paths)


def _folders(tree, directory):
    """``(folders, within)``: ComfyUI's folders (limited to DIR when it is inside them), or
    the folders guessed from DIR's subfolder names outside a tree."""
    from ..scan import folders_for_directory, start_within

    if tree is not None:
        folders = tree.model_folders()
        if directory is None:
            return folders, None
        within = os.path.abspath(directory)
        for candidate in dict.fromkeys((within, os.path.realpath(within))):
            if any(start_within(os.path.abspath(r), candidate) for rs in folders.values()
                   for r in rs):  # fmt: skip
                return folders, candidate
    return folders_for_directory(os.path.abspath(directory)), None


def _print_plan(out, db_path, tree, listing) -> None:
    """What the scan will use, before it starts: the store, and each folder with its files."""
    where = f" (ComfyUI at {tree.root})" if tree else ""
    print(f"Store: {db_path}{where}", file=out)
    for path in tree.configs if tree else ():
        print(f"Extra model paths: {path}", file=out)
    print("Folders:", file=out)
    for folder, roots in listing.roots.items():
        for root in roots:
            under = os.path.join(root, "")
            n = sum(1 for e in listing.entries if e.folder == folder and e.path.startswith(under))
            noun = "file" if n == 1 else "files"
            print(f"  {folder:<18} {n:>6} {noun:<5}  {root}", file=out)
    if not listing.roots:
        print("  (none)", file=out)


async def _scan(store, cache, settings, scan_args, identify, args, printer) -> dict:
    import asyncio

    from ...civitai import CivitaiClient
    from ..scan import Scanner
    from ..store import shared_limiter

    folders, within, listing, db_path = scan_args

    stop = threading.Event()
    loop = asyncio.get_running_loop()
    try:  # first Ctrl-C: stop cleanly between blocks; a second one interrupts for real
        loop.add_signal_handler(signal.SIGINT, _on_sigint, loop, stop)
    except (NotImplementedError, RuntimeError):  # Windows: KeyboardInterrupt as usual
        pass
    where = {"within": within, "listing": listing}
    if identify == "none":
        scanner = Scanner(store, cache, None, folders, web_base=settings.web_base)
        return await scanner.scan(identify="none", progress=printer, cancel=stop.is_set, **where)
    async with CivitaiClient(settings, limiter=shared_limiter(db_path, settings)) as client:
        scanner = Scanner(store, cache, client, folders, write_sidecars=args.write_sidecars,
                          write_previews=args.write_previews,
                          preview_nsfw=settings.preview_nsfw)  # fmt: skip
        return await scanner.scan(identify=identify, retry_unknown=args.retry_unknown,
                                  progress=printer, cancel=stop.is_set, **where)  # fmt: skip


def _on_sigint(loop, stop: threading.Event) -> None:
    if stop.is_set():
        loop.remove_signal_handler(signal.SIGINT)
        raise KeyboardInterrupt
    print("\ninterrupted: stopping after the current block (Ctrl-C again to force)",
          file=sys.stderr)  # fmt: skip
    stop.set()
