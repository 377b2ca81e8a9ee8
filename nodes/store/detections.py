"""What a file's header says it is, in the store: writing ``detected`` (before the file is
hashed, so the panel shows kinds early) and reading it back into a record with the two
things it makes possible — ``suggested_category`` for a file in no model folder, and
``warnings`` when CivitAI's match disagrees with the tensors.

The ``detected`` column holds hashing/classify's dict, or ``{"error": sentence}`` when the
header could not be read (so an unreadable file is not re-read every scan): packed
(packing.py) since schema 8, JSON text before (read as before).
"""

import json
from dataclasses import dataclass

from ...hashing.classify import same_family
from .packing import pack, unpack

OTHER = "other"
# CivitAI categories (civitai/types.py) that the same weights may honestly carry
_SAME_PLACE = {"checkpoints": {"checkpoints", "diffusion_models"},
               "diffusion_models": {"checkpoints", "diffusion_models"},
               "text_encoders": {"text_encoders", "clip"}}  # fmt: skip
_KIND_WORDS = {
    "checkpoint": "a checkpoint", "diffusion_model": "a diffusion model", "lora": "a LoRA",
    "embedding": "an embedding", "vae": "a VAE", "controlnet": "a ControlNet",
    "upscaler": "an upscaler", "text_encoder": "a text encoder",
    "clip_vision": "a CLIP vision model", "ip_adapter": "an IP-Adapter",
}  # fmt: skip


@dataclass(frozen=True)
class Detection:
    """One file's header verdict: ``detected`` (the classifier's dict) or ``error``."""

    path: str
    folder: str
    name: str
    identity: tuple
    detected: dict | None = None
    error: str | None = None

    def columns(self) -> tuple:
        d = self.detected or {}
        blob = {"error": self.error} if self.error else self.detected
        stored = pack(blob) if isinstance(blob, dict) else json.dumps(blob)
        return stored, d.get("kind"), d.get("base_model")


def save_detections(conn, detections: list[Detection], stamp: str) -> None:
    """Store each verdict. A file the store has not seen yet gets a row without hashes (the
    hashing step fills them in); a known row keeps its identity and hashes — only the hash
    step may move them, so a crash in between can never pair new content with old hashes."""
    conn.executemany(
        "INSERT INTO files (path, folder, name, dev, ino, size, mtime_ns, detected, "
        "detected_kind, detected_base, first_seen, last_seen) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) "
        "ON CONFLICT(path) DO UPDATE SET detected = excluded.detected, "
        "detected_kind = excluded.detected_kind, detected_base = excluded.detected_base",
        [(d.path, d.folder, d.name, *d.identity, *d.columns(), stamp, stamp) for d in detections],
    )


def detected_identities(conn) -> dict[str, tuple]:
    """path → the (dev, ino, size, mtime_ns) stored with a file that has a verdict."""
    rows = conn.execute(
        "SELECT path, dev, ino, size, mtime_ns FROM files WHERE detected IS NOT NULL"
    )
    return {r[0]: tuple(r[1:]) for r in rows}


def detection_fields(raw: str | None, folder: str, info: dict | None) -> dict:
    """The record's ``detected``, ``detect_error``, ``suggested_category``, ``warnings``."""
    try:  # packed (schema 8), or JSON text
        blob = (json.loads(raw) if isinstance(raw, str) else unpack(raw)) if raw else None
    except (ValueError, RecursionError):
        blob = None
    error = blob.get("error") if isinstance(blob, dict) and "kind" not in blob else None
    detected = blob if isinstance(blob, dict) and "kind" in blob else None
    category = (detected or {}).get("category")
    return {
        "detected": detected,
        "detect_error": error,
        "suggested_category": category if folder == OTHER and category else None,
        "warnings": cross_check(info, detected),
    }


def cross_check(info: dict | None, detected: dict | None) -> list[str]:
    """Sentences for each way CivitAI's answer disagrees with the file's header."""
    if not info or not detected or not detected.get("kind"):
        return []
    warnings = []
    theirs, ours = info.get("category"), detected.get("category")
    if theirs and theirs != OTHER and ours and ours not in _SAME_PLACE.get(theirs, {theirs}):
        kind = _KIND_WORDS.get(detected["kind"], detected["kind"])
        said = info.get("type") or theirs
        warnings.append(f"CivitAI says this is a {said} but the file's tensors are {kind}")
    base, mine = info.get("base_model"), detected.get("base_model")
    if same_family(base, mine) is False:
        source = ("metadata says" if any(str(e).startswith("base model from metadata")
                                         for e in detected.get("evidence") or [])
                  else "tensors are")  # fmt: skip
        warnings.append(f"CivitAI says {base} but the file's {source} {mine}")
    return warnings
