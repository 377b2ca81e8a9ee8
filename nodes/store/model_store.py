"""ModelStore: the files the scanner saw and what CivitAI said about their SHA256.

Two tables (see docs/data-flow.md): ``files`` keyed by absolute path, and ``lookups`` keyed
by SHA256, so a moved or duplicated file shares its lookup. Every write is one explicit
transaction: a crash loses at most the write in flight. The store is used from one thread
(the event loop's, or the CLI's); SQLite's WAL lets other connections read meanwhile.
"""

import functools
import json
import logging
import os

from ...hashing import connect_db, identity_key, transaction
from .detections import detected_identities, save_detections
from .fts import ensure_fts
from .info_parts import (
    learned_dictionary,
    load_dictionaries,
    prose_dictionary,
    save_model,
    split_info,
)
from .packing import add_source, pack_hashes
from .query import Lister, Query
from .records import (  # FileRow, FileUpdate: the rows the store takes and gives
    RECORD_COLUMNS,
    RECORD_FROM,
    FileRow,
    FileUpdate,
    iso,
    lookup_columns,
    row_to_record,
    utc_now,
)
from .schema import migrate

_log = logging.getLogger(__name__)

STATUSES = ("identified", "unknown", "error", "pending", "not_checked")


class ModelStore:
    """Records of model files. ``unknown_retry_days``: how long a hash CivitAI does not
    know is left alone before it is asked again (``retry_unknown`` overrides); default the
    ``retry_days`` setting (``CIVITAI_IDENTIFY_RETRY_DAYS``, civitai/config.py).
    ``model_refresh_days``: how old identified info may get before a scan asks again
    (default the ``refresh_days`` setting, ``CIVITAI_IDENTIFY_REFRESH_DAYS``)."""

    def __init__(
        self,
        db_path,
        *,
        unknown_retry_days: float | None = None,
        model_refresh_days: float | None = None,
        busy_timeout: float = 30.0,
    ):
        """``busy_timeout``: seconds a call waits for another connection's (or process's)
        lock before failing; short for connections that answer requests."""
        self.db_path = os.fspath(db_path)
        if unknown_retry_days is None or model_refresh_days is None:
            from ...civitai import load_settings

            settings = load_settings()
            if unknown_retry_days is None:
                unknown_retry_days = settings.retry_days
            if model_refresh_days is None:
                model_refresh_days = settings.refresh_days
        self.unknown_retry_days = unknown_retry_days
        self.model_refresh_days = model_refresh_days
        self._conn = connect_db(self.db_path, timeout=busy_timeout)
        self._conn.create_function("py_lower", 1, _lower, deterministic=True)
        try:
            migrate(self._conn)
            self.lister = Lister(self._conn, fts=ensure_fts(self._conn))
            load_dictionaries(self._conn)
        except BaseException:
            self._conn.close()
            raise
        add_source(self.db_path, functools.partial(learned_dictionary, self.db_path))

    def close(self) -> None:
        self._conn.close()

    # -- files -------------------------------------------------------------------------
    def known_files(self) -> dict[str, tuple]:
        """Every file row by path as a plain ``KNOWN_COLUMNS`` tuple: one narrow query, no
        objects (a re-scan compares identities in a tight loop; ``file_row`` makes a row)."""
        return {r[0]: r for r in self._conn.execute(f"SELECT {KNOWN_COLUMNS} FROM files")}

    def file_row(self, known: tuple) -> FileRow:
        path, dev, ino, size, mtime_ns, sha, folder, name, error, missing, last_seen = known[:11]
        return FileRow(path, folder, name, (dev, ino, size, mtime_ns), sha, error,
                       bool(missing), self._stored_hashes, last_seen)  # fmt: skip

    def get_path(self, path: str) -> FileRow | None:
        r = self._conn.execute(f"SELECT {KNOWN_COLUMNS} FROM files WHERE path = ?", (path,))
        r = r.fetchone()
        return self.file_row(r) if r else None

    def _stored_hashes(self, path: str) -> bytes | str | None:
        row = self._conn.execute("SELECT hashes FROM files WHERE path = ?", (path,)).fetchone()
        return row[0] if row else None

    def save_files(self, updates: list[FileUpdate], now: float | None = None) -> None:
        """Insert or refresh files seen by a scan (clears ``missing``, keeps ``first_seen``)."""
        if not updates:
            return
        stamp = iso(now or utc_now())
        params = [
            (
                u.path,
                u.folder,
                u.name,
                *identity_key(u.identity),
                (u.hashes or {}).get("SHA256"),
                pack_hashes(u.hashes) if u.hashes else None,
                u.file_error,
                stamp,
                stamp,
            )
            for u in updates
        ]
        with transaction(self._conn):
            self._conn.executemany(
                "INSERT INTO files (path, folder, name, dev, ino, size, mtime_ns, sha256, "
                "hashes, file_error, first_seen, last_seen) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT(path) DO UPDATE SET folder=excluded.folder, name=excluded.name, "
                "dev=excluded.dev, ino=excluded.ino, size=excluded.size, "
                "mtime_ns=excluded.mtime_ns, sha256=excluded.sha256, hashes=excluded.hashes, "
                "file_error=excluded.file_error, missing=0, last_seen=excluded.last_seen",
                params,
            )

    def save_detections(self, detections: list, now: float | None = None) -> None:
        """Store what each file's header says (``Detection``s; see detections.py)."""
        if detections:
            with transaction(self._conn):
                save_detections(self._conn, detections, iso(now or utc_now()))

    def detected_identities(self) -> dict[str, tuple]:
        """path → identity, for the files whose header verdict is stored."""
        return detected_identities(self._conn)

    def touch_files(self, paths: list[str], now: float | None = None) -> None:
        """Unchanged files seen again: only ``last_seen`` moves (and ``missing`` clears).
        One statement over a JSON array: a 10,000-file re-scan stays a few milliseconds."""
        if not paths:
            return
        stamp = iso(now or utc_now())
        with transaction(self._conn):
            self._conn.execute(
                "UPDATE files SET last_seen = ?, missing = 0 "
                "WHERE path IN (SELECT value FROM json_each(?))",
                (stamp, json.dumps(paths)),
            )

    def mark_missing(self, paths: list[str]) -> None:
        """Files no longer on disk: kept with their status, hidden from default listings."""
        with transaction(self._conn):
            self._conn.executemany(
                "UPDATE files SET missing = 1 WHERE path = ?", [(p,) for p in paths]
            )

    def set_pending(self, sha256s, pending: bool = True) -> None:
        with transaction(self._conn):
            if not pending and sha256s is None:
                self._conn.execute("UPDATE files SET pending = 0 WHERE pending = 1")
                return
            self._conn.executemany(
                "UPDATE files SET pending = ? WHERE sha256 = ?",
                [(int(pending), s) for s in sha256s],
            )

    def get_file(self, folder: str, name: str) -> FileRow | None:
        """The present file registered as ``folder``/``name`` (most recently seen first)."""
        r = self._conn.execute(
            f"SELECT {KNOWN_COLUMNS} FROM files WHERE missing IN (0, 1) AND folder = ? "
            "AND name = ? ORDER BY missing, last_seen DESC LIMIT 1",  # files_missing_folder_name
            (folder, name),
        ).fetchone()
        return self.file_row(r) if r else None

    # -- lookups -----------------------------------------------------------------------
    def lookup_states(self, sha256s=None) -> dict[str, tuple[str, str | None]]:
        """SHA256 → (status, retry_after) for every lookup done so far (only those of
        ``sha256s`` when given: one statement over a JSON array)."""
        if sha256s is None:
            rows = self._conn.execute("SELECT sha256, status, retry_after FROM lookups")
        else:
            rows = self._conn.execute(
                "SELECT sha256, status, retry_after FROM lookups "
                "WHERE sha256 IN (SELECT value FROM json_each(?))",
                (json.dumps([s.upper() for s in sha256s if s]),),
            )
        return {r[0]: (r[1], r[2]) for r in rows}

    def stale_identified(self, now: float | None = None) -> set[str]:
        """SHA256s identified more than ``model_refresh_days`` ago (not manual links: their
        hash is unknown to CivitAI, asking again by hash cannot refresh them)."""
        cutoff = iso((now or utc_now()) - self.model_refresh_days * 86400)
        rows = self._conn.execute(
            "SELECT sha256 FROM lookups WHERE status = 'identified' AND checked_at < ? "
            "AND COALESCE(matched_by, '') != 'manual'",
            (cutoff,),
        )
        return {r[0] for r in rows}

    def forget_manual(self, sha256: str) -> bool:
        """Drop a manual link (the lookup of ``sha256`` with ``matched_by`` "manual"); True
        when there was one. The file is then not checked, as before any lookup."""
        with transaction(self._conn):
            gone = self._conn.execute(
                "DELETE FROM lookups WHERE sha256 = ? AND matched_by = 'manual'",
                (sha256.upper(),),
            ).rowcount
        return gone > 0

    def with_update(self) -> set[str]:
        """SHA256s whose stored info carries an update notice."""
        rows = self._conn.execute(
            "SELECT sha256 FROM lookups WHERE status = 'identified' AND has_update = 1"
        )
        return {r[0] for r in rows}

    def save_outcome(
        self,
        sha256: str,
        status: str,
        civitai_info: dict | None = None,
        error: str | None = None,
        *,
        error_kind: str | None = None,
        matched_by: str | None = None,
        now: float | None = None,
    ) -> None:
        """Record what CivitAI (or a sidecar) said about ``sha256`` and clear ``pending``.

        ``error`` never replaces a previous identified/unknown answer (an outage is not news
        about the model); ``unknown`` never replaces ``identified``; unknowns get
        ``retry_after`` = now + ``unknown_retry_days``.
        """
        if status not in ("identified", "unknown", "error"):
            raise ValueError(f"unexpected lookup status {status!r}")
        sha256 = sha256.upper()
        now = now or utc_now()
        retry = iso(now + self.unknown_retry_days * 86400) if status == "unknown" else None
        if status == "identified" and civitai_info is not None:
            matched_by = matched_by or civitai_info.get("matched_by")
        columns = lookup_columns(civitai_info)
        with transaction(self._conn):
            row = self._conn.execute(
                "SELECT status FROM lookups WHERE sha256 = ?", (sha256,)
            ).fetchone()
            old = row[0] if row else None
            keep = (status == "error" and old in ("identified", "unknown")) or (
                status == "unknown" and old == "identified"
            )
            if keep and status == "unknown":  # asked again (a refresh): not stale any more
                self._conn.execute(
                    "UPDATE lookups SET attempts = attempts + 1, checked_at = ? WHERE sha256 = ?",
                    (iso(now), sha256),
                )
            elif keep:
                self._conn.execute(
                    "UPDATE lookups SET attempts = attempts + 1 WHERE sha256 = ?", (sha256,)
                )
            else:  # packed only when written (the prose dictionary: under the write lock)
                prose = prose_dictionary(self._conn) if civitai_info is not None else None
                brief, details, model_id, model = (
                    split_info(civitai_info, prose) if prose is not None else (None,) * 4
                )
                self._conn.execute(
                    "INSERT INTO lookups (sha256, status, brief, details, model_id, error, "
                    "error_kind, checked_at, retry_after, matched_by, attempts, base_model, "
                    "search_text, model_name, title, downloads, has_update) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,1,?,?,?,?,?,?) ON CONFLICT(sha256) DO UPDATE SET "
                    "status=excluded.status, brief=excluded.brief, details=excluded.details, "
                    "model_id=excluded.model_id, civitai_info=NULL, "
                    "error=excluded.error, error_kind=excluded.error_kind, "
                    "checked_at=excluded.checked_at, retry_after=excluded.retry_after, "
                    "matched_by=excluded.matched_by, attempts=lookups.attempts + 1, "
                    "base_model=excluded.base_model, search_text=excluded.search_text, "
                    "model_name=excluded.model_name, title=excluded.title, "
                    "downloads=excluded.downloads, has_update=excluded.has_update",
                    (
                        sha256,
                        status,
                        brief,
                        details,
                        model_id,
                        error if status == "error" else None,
                        error_kind,
                        iso(now),
                        retry,
                        matched_by,
                        columns["base_model"],
                        columns["search_text"],
                        columns["model_name"],
                        columns["title"],
                        columns["downloads"],
                        columns["has_update"],
                    ),
                )
                if model is not None:
                    save_model(self._conn, model_id, model, prose)
            self._conn.execute("UPDATE files SET pending = 0 WHERE sha256 = ?", (sha256,))

    # -- records -----------------------------------------------------------------------
    def list_records(
        self,
        q=None,
        category=None,
        status=None,
        base_model=None,
        include_path=False,
        include_missing=False,
        update=None,
        kind=None,
        full=True,
    ) -> list[dict]:
        """Every matching record sorted by folder then name (query.py: ``q`` is words that
        must all occur in the file name, model/version name, tags or trigger words,
        case-insensitively; the other filters are exact, ``category`` is the folder name,
        ``base_model`` CivitAI's string, else the header's; ``update`` "1": only those with
        an update notice, "0": only those without; ``kind`` the header's kind). ``full``
        False: each ``civitai_info`` as the brief view shows it (info_parts.py), read
        without its compressed parts."""
        filters = {"category": category, "status": status, "base_model": base_model,
                   "update": update, "kind": kind}  # fmt: skip
        query = Query(q=q, filters=filters, include_missing=include_missing)
        return self.page(query, include_path, full=full)[0]

    def page(
        self, query: Query, include_path: bool = False, full: bool = True
    ) -> tuple[list[dict], str | None]:
        """One page of records for ``query`` and the cursor of the next (None: last page);
        ``full=False``: brief infos (see ``list_records``)."""
        rows, nxt = self.lister.rows(query, full)
        return [row_to_record(r, include_path, full) for r in rows], nxt

    def total(self, query: Query) -> int:
        return self.lister.total(query)

    def facets(self, query: Query) -> dict:
        """Counts per category, base model and status for the filter menus (query.py)."""
        return self.lister.facets(query)

    def get_record(self, folder: str, name: str, include_path: bool = False) -> dict | None:
        row = self._conn.execute(
            f"SELECT {RECORD_COLUMNS} FROM {RECORD_FROM} WHERE f.missing IN (0, 1) "
            "AND f.folder = ? AND f.name = ? ORDER BY f.missing, f.last_seen DESC LIMIT 1",
            (folder, name),
        ).fetchone()
        return row_to_record(row, include_path) if row else None

    def lookup_state(self, sha256: str) -> tuple[str, str | None] | None:
        row = self._conn.execute(
            "SELECT status, retry_after FROM lookups WHERE sha256 = ?", (sha256.upper(),)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def lookup_errors(self) -> dict[str, str]:
        """SHA256 → the error sentence, for lookups whose last answer was an error."""
        rows = self._conn.execute("SELECT sha256, error FROM lookups WHERE status = 'error'")
        return dict(rows.fetchall())

    def counts(self, include_missing: bool = False) -> dict[str, int]:
        """``{status: n}`` for all five statuses (zeros included), by the same rules as a
        record's status, from the tallies triggers keep (schema 7; no grouping of files)."""
        counts = dict.fromkeys(STATUSES, 0)
        for _, status, _, _, n in self.lister.tallies(include_missing):
            counts[status] += n
        return counts


#: ``known_files``' tuple: the path, then the identity the scan compares (the listing reads
#: these by index: nodes/scan/discover.py)
KNOWN_COLUMNS = (
    "path, dev, ino, size, mtime_ns, sha256, folder, name, file_error, missing, last_seen, "
    "detected IS NOT NULL, pending"
)


def _lower(value):
    return value.lower() if isinstance(value, str) else value
