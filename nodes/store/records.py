"""Store rows → model records (the shape in docs/internals.md "A model record"), the file rows
the store takes and gives (``FileUpdate``, ``FileRow``), and the small helpers the store
needs to fill its columns (timestamps, search text)."""

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property

from .detections import detection_fields
from .info_parts import join_info
from .packing import unpack_hashes

HASH_KEYS = ("SHA256", "AutoV1", "AutoV2", "AutoV3", "CRC32", "BLAKE3")
DAMAGED_HASHES = (
    "The stored hashes of this file cannot be read (the store's copy is damaged); "
    "they are computed again when the file changes or the store is made anew."
)


@dataclass
class FileRow:
    """What the scanner needs to know about a file it saw before. ``hashes`` is parsed on
    first use: a re-scan of 10,000 unchanged files only needs ``identity`` and ``sha256``."""

    path: str
    folder: str
    name: str
    identity: tuple  # (dev, ino, size, mtime_ns)
    sha256: str | None
    file_error: str | None
    missing: bool
    loader: object = field(default=None, repr=False, compare=False)  # path → stored hashes
    last_seen: str | None = field(default=None, compare=False)

    @cached_property
    def hashes(self) -> dict | None:
        """None also when the stored hashes are damaged: the file is hashed again."""
        raw = self.loader(self.path) if self.loader is not None and self.sha256 else None
        try:
            return unpack_hashes(raw, self.sha256) or None
        except ValueError:
            return None


@dataclass(frozen=True)
class FileUpdate:
    """One file as seen by a scan (``hashes`` None when it could not be hashed)."""

    path: str
    folder: str
    name: str
    identity: tuple
    hashes: dict | None = None
    file_error: str | None = None

    @property
    def sha256(self) -> str | None:
        return (self.hashes or {}).get("SHA256")


# The SELECT every record query uses; ``status`` is computed here so filters and counts agree.
# A file problem (unreadable, truncated safetensors) shows as error unless CivitAI still
# recognised the file's SHA256.
def status_sql(lookup_status: str, row: str = "f") -> str:
    """The record status as SQL, given the column holding the lookup's status (``l.status``
    when lookups are joined, ``f.lookup_status``, its copy kept by triggers, when not) and
    the files row's name (``new``/``old`` in the tally triggers, schema.py)."""
    return f"""CASE
        WHEN {row}.pending = 1 THEN 'pending'
        WHEN {lookup_status} = 'identified' THEN 'identified'
        WHEN {row}.file_error IS NOT NULL THEN 'error'
        WHEN {lookup_status} IS NOT NULL THEN {lookup_status}
        ELSE 'not_checked'
    END"""


STATUS_SQL = status_sql("l.status")


def record_columns(full: bool = True) -> str:
    """The record's columns; ``full=False`` (the brief view) reads the small ``brief`` info
    only, never the compressed details nor the model row (info_parts.py)."""
    parts = "l.details, m.data" if full else "NULL, NULL"
    return f"""
    f.path, f.folder, f.name, f.size, f.mtime_ns, f.hashes, f.sha256, l.checked_at, l.brief,
    {parts},
    {STATUS_SQL} AS status,
    COALESCE(f.file_error, CASE WHEN l.status = 'error' THEN l.error END) AS error,
    f.detected
"""


RECORD_COLUMNS, BRIEF_COLUMNS = record_columns(), record_columns(full=False)
MODEL_JOIN = "LEFT JOIN civitai_models AS m ON m.model_id = l.model_id"
RECORD_FROM = f"files AS f LEFT JOIN lookups AS l ON l.sha256 = f.sha256 {MODEL_JOIN}"


def utc_now() -> float:
    return time.time()


def iso(ts: float | None) -> str | None:
    """Seconds since the epoch → ``2026-11-25T14:00:00Z`` (sorts as text)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def full_hashes(hashes: dict | None) -> dict:
    """Always the six keys; a hash not computed (AutoV3 skipped) or not existing is None."""
    hashes = hashes or {}
    return {key: hashes.get(key) for key in HASH_KEYS}


def search_text(info: dict | None) -> str | None:
    """What ``q`` matches besides the file name: model and version names, tags, trigger
    words; lower-cased once here so the query is a plain LIKE."""
    if not info:
        return None
    parts = [info.get("model_name"), info.get("version_name")]
    parts += list(info.get("tags") or []) + list(info.get("trained_words") or [])
    return "\n".join(str(p) for p in parts if p).lower()


def lookup_columns(info: dict | None) -> dict:
    """The lookup's columns the listing sorts and filters on, taken from its info."""
    info = info or {}
    model, version = info.get("model_name"), info.get("version_name")
    title = (f"{model} \u2014 {version}" if version else model) if model else None
    downloads = (info.get("stats") or {}).get("download_count")
    return {
        "base_model": info.get("base_model"),
        "search_text": search_text(info),
        "model_name": model,
        "title": title.lower() if title else None,
        "downloads": downloads if isinstance(downloads, (int, float)) else None,
        # a newer version is known (civitai/info.py find_update): the ``update`` filter
        "has_update": int(info.get("update") is not None),
    }


def row_to_record(row, include_path: bool = False, full: bool = True) -> dict:
    """A record from RECORD_COLUMNS (``full=False``: BRIEF_COLUMNS, the brief info). A
    damaged stored part never fails the listing: the record says so in ``warnings``."""
    (path, folder, name, size, mtime_ns, hashes, sha256, checked_at, brief, details, model,
     status, error, detected) = row  # fmt: skip
    civitai_info, problem = None, None
    if status == "identified":
        civitai_info, problem = join_info(brief, details, model, full=full)
    try:
        hashes = unpack_hashes(hashes, sha256)
    except ValueError:
        hashes, problem = None, problem or DAMAGED_HASHES
    record = {
        "folder": folder,
        "name": name,
        "size": size,
        "mtime": mtime_ns / 1e9,
        "category": folder,
        "hashes": full_hashes(hashes),
        "status": status,
        "error": error if status == "error" else None,
        "checked_at": checked_at,
        "civitai_info": civitai_info,
        **detection_fields(detected, folder, civitai_info),
    }
    if problem:
        record["warnings"] = [*record["warnings"], problem]
    # a newer version for the same base model (civitai/info.py find_update), or None
    record["update"] = (record["civitai_info"] or {}).get("update")
    if include_path:
        record["path"] = path
    return record


def like_pattern(q: str) -> str:
    escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
