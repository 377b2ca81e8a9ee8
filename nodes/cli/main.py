"""``python <pack-dir> <command> ...``: the headless command line.

Each command lives in its own module (``hash_cmd``, ``inspect_cmd``, ``lookup_cmd``,
``scan_cmd``) exposing ``add_parser(subparsers)`` and ``run(args) -> int``; this file only
dispatches. Exit status: 0 success, 1 some files or lookups failed, 2 usage error, 130 interrupted.
"""

import argparse
import importlib
import logging
import sys

from .options import UsageError

COMMANDS = {
    "hash": "hash_cmd",
    "inspect": "inspect_cmd",
    "link": "link_cmd",  # also adds `unlink`
    "lookup": "lookup_cmd",
    "scan": "scan_cmd",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python <pack-dir>",
        description="CivitAI Identify: hash model files and identify them on CivitAI.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    parser.add_argument("-q", "--quiet", action="store_true", help="log warnings only")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in dict.fromkeys(COMMANDS.values()):
        module = importlib.import_module(f"{__package__}.{module_name}")
        module.add_parser(sub)
    return parser


def configure_logging(verbose: bool, quiet: bool) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose, args.quiet)
    try:
        return int(args.run(args) or 0)
    except UsageError as exc:
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
