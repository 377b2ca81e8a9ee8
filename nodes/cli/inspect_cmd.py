"""``python <pack-dir> inspect FILE...``: what each model file is, from its header alone.

Prints one JSON line per file, in the order given: ``{"path", "detected"}`` (the
``detected`` dict of hashing/classify: kind, format, base_model, category, precision,
parameters, training, title, trigger_phrase, author, evidence) or ``{"path", "error"}``.
Reads only headers (a safetensors JSON header, a GGUF tensor table, a zip listing; never
unpickles), no database and no network. Exit 0 when every file was read, 1 when any failed.
"""

from __future__ import annotations

import argparse
import json
import os

from ...hashing import HashingError


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "inspect",
        help="say what model files are from their headers (one JSON line per file)",
        description="Classify model files offline from their headers: kind (checkpoint, "
        "LoRA, VAE, ...), base model (SD 1.5, SDXL 1.0, Flux.1 D, Wan Video 14B t2v, ...), "
        "the ComfyUI folder they belong in, precision and trainer metadata.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="model files to inspect")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from ...hashing.classify import classify_file  # on use: other commands never load it

    failed = 0
    for name in args.files:
        path = os.path.abspath(name)
        try:
            line = {"path": path, "detected": classify_file(path)}
        except HashingError as exc:
            failed += 1
            line = {"path": path, "error": str(exc)}
        print(json.dumps(line), flush=True)
    return 1 if failed else 0
