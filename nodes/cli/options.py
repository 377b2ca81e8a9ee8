"""Options several commands share (``--db``, ``--api-base``), parsed one way for all."""

import argparse
import dataclasses
import os

#: The pack's folder as it was found (not resolved: a symlinked custom_nodes/<pack> still
#: tells which ComfyUI it belongs to).
PACK_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class UsageError(ValueError):
    """A bad command-line value; ``cli.main`` prints it and exits with status 2."""


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="PATH",
        help="database file (default: CIVITAI_IDENTIFY_DB, else ComfyUI's store when the "
        "pack is in a ComfyUI tree, else the user cache directory)",
    )


def add_api_base_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--api-base",
        metavar="URL",
        help="CivitAI API base (default: CIVITAI_API_BASE or https://civitai.com/api/v1; "
        "https://civitai.red/api/v1 for NSFW content)",
    )


def settings_from_args(args: argparse.Namespace):
    """``load_settings()`` (environment, then ``.env``) with ``--api-base`` applied."""
    from ...civitai import SettingError, load_settings, parse_setting

    settings = load_settings()
    if args.api_base:
        try:
            api_base = parse_setting("CIVITAI_API_BASE", args.api_base)
        except SettingError:
            raise UsageError(f"--api-base must be an http(s) URL, not {args.api_base!r}.") from None
        settings = dataclasses.replace(settings, api_base=api_base)
    return settings


def default_store(settings=None):
    """The store a command uses without ``--db``: ComfyUI's when the pack sits in a ComfyUI
    tree (``<root>/user/civitai-identify/…``), else ``default_db_path``'s choice; the
    ``CIVITAI_IDENTIFY_DB`` setting wins either way. (``scan`` also takes ``--comfyui``.)"""
    from ..scan import comfy_user_dir, find_comfy_root
    from ..store import default_db_path

    root = find_comfy_root(PACK_DIR)
    return default_db_path(settings, comfy_user_dir(root) if root else None)
