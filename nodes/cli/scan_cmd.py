"""``python <pack-dir> scan DIR``: scan a models directory and identify its files on CivitAI.

DIR's subfolders named like ComfyUI's model folders (checkpoints, loras, vae, …) are those
categories; files directly in DIR or in other subfolders are ``other``. By default only
``other`` files are looked up (``--all``: every file; ``--offline``: none). Progress goes
to stderr, a summary at the end; ``--report FILE`` writes the records (with paths) as JSON
``{"models": [...], "summary": {...}}`` or CSV. Exit: 0 done (unknowns are fine), 1 some
file or lookup errors, 2 usage, 130 interrupted (what was saved stays saved).
"""

import argparse
import asyncio
import logging
import os
import signal
import sys
import threading

from .options import add_api_base_option, add_db_option, settings_from_args

_log = logging.getLogger(__name__)


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "scan",
        help="scan a models directory and identify the files on CivitAI",
        description="Hash every model file under DIR (cached by file identity) and look up "
        "the ones that need it on CivitAI, in bulk. Results go to the pack's database.",
    )
    p.add_argument("dir", metavar="DIR", help="a ComfyUI models directory (or any folder)")
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
    p.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    p.set_defaults(run=run)  # fmt: skip
    return p


def _usage(message: str) -> int:
    print(f"scan: error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    # Imported here, not at the top: `python3 . hash` builds this parser too and must not pay
    # for aiohttp and sqlite3.
    import sqlite3

    from ...hashing import HashCache
    from ..store import ModelStore, default_db_path
    from .progress import ProgressPrinter
    from .report import report_text, summary_text, write_atomically

    root = os.path.abspath(args.dir)
    if not os.path.isdir(root):
        what = "does not exist" if not os.path.exists(root) else "is not a directory"
        return _usage(f"{args.dir} {what}.")
    fmt = args.format or ("csv" if (args.report or "").lower().endswith(".csv") else "json")
    if args.report and not os.path.isdir(os.path.dirname(os.path.abspath(args.report))):
        return _usage(f"the folder for the report {args.report} does not exist.")
    settings = settings_from_args(args)
    identify = "none" if args.offline else "all" if args.all else "other"
    db_path = args.db or default_db_path(settings)
    try:
        store = ModelStore(db_path, unknown_retry_days=settings.retry_days)
        cache = HashCache(db_path)
    except (OSError, sqlite3.Error, RuntimeError) as exc:
        return _usage(f"cannot open the database {db_path}: {exc}")
    printer = None if args.no_progress else ProgressPrinter(sys.stderr)
    try:
        summary = asyncio.run(_scan(store, cache, settings, root, identify, args, printer))
        if printer:
            printer.finish()
        if args.report:
            paths_under = os.path.join(root, "")
            records = [r for r in store.list_records(include_path=True)
                       if r["path"].startswith(paths_under)]  # fmt: skip
            write_atomically(args.report, report_text(records, summary, fmt))
    finally:
        cache.close()
        store.close()
    print(summary_text(summary), file=sys.stderr)
    if summary["cancelled"]:
        return 130
    return 1 if summary["errors"] else 0


async def _scan(store, cache, settings, root, identify, args, printer) -> dict:
    from ...civitai import CivitaiClient
    from ..scan import Scanner, folders_for_directory

    stop = threading.Event()
    loop = asyncio.get_running_loop()
    try:  # first Ctrl-C: stop cleanly between blocks; a second one interrupts for real
        loop.add_signal_handler(signal.SIGINT, _on_sigint, loop, stop)
    except (NotImplementedError, RuntimeError):  # Windows: KeyboardInterrupt as usual
        pass
    folders = folders_for_directory(root)
    if identify == "none":
        scanner = Scanner(store, cache, None, folders)
        return await scanner.scan(identify="none", progress=printer, cancel=stop.is_set)
    async with CivitaiClient(settings) as client:
        scanner = Scanner(store, cache, client, folders, write_sidecars=args.write_sidecars)
        return await scanner.scan(identify=identify, retry_unknown=args.retry_unknown,
                                  progress=printer, cancel=stop.is_set)  # fmt: skip


def _on_sigint(loop, stop: threading.Event) -> None:
    if stop.is_set():
        loop.remove_signal_handler(signal.SIGINT)
        raise KeyboardInterrupt
    print("\ninterrupted: stopping after the current block (Ctrl-C again to force)",
          file=sys.stderr)  # fmt: skip
    stop.set()
