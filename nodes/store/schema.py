"""The model store's tables: only their migration steps (the runner is hashing/db.py).

The store shares its SQLite file with the hash cache (hashing/ owns its own tables); this
module owns ``files`` and ``lookups``, versioned as ``component = 'model_store'`` in the one
``schema_version`` table. To change a table add version N+1 to ``MIGRATIONS`` (e.g.
``["ALTER TABLE files ADD COLUMN detected TEXT"]``), never edit an old version; a database
written by a newer pack is refused (``SchemaTooNewError``) and left untouched.
See docs/internals.md ("The store").
"""

import json
import sqlite3

from ...hashing import SchemaTooNewError, Step
from ...hashing import migrate as run_migrations
from .info_parts import join_info, save_model, split_info
from .records import status_sql

COMPONENT = "model_store"

_LOOKUP_COLUMNS = (
    "sha256, status, checked_at, retry_after, matched_by, attempts, error_kind, base_model, "
    "model_name, title, downloads, error, search_text, civitai_info"
)

# schema 5: lookups' columns copied into files (files column, type, lookups column)
_COPIED = (("lookup_status", "TEXT"), ("lookup_base", "TEXT"), ("lookup_title", "TEXT"),
           ("lookup_model", "TEXT"), ("lookup_downloads", "INTEGER"))  # fmt: skip
_SOURCE = "status, base_model, title, model_name, downloads"
_COPIED_NAMES = ", ".join(c for c, _ in _COPIED)
_FROM_LOOKUP = f"SELECT {_SOURCE} FROM lookups AS l"
_COPY_TO_FILE = (f"UPDATE files SET ({_COPIED_NAMES}) = ({_FROM_LOOKUP} "
                 "WHERE l.sha256 = new.sha256) WHERE rowid = new.rowid;")  # fmt: skip
_COPY_NEW = (f"UPDATE files SET ({_COPIED_NAMES}) = "
             f"({', '.join('new.' + c.strip() for c in _SOURCE.split(','))}) "
             "WHERE sha256 = new.sha256;")  # fmt: skip

# schema 5 (made again by 10, whose table rebuild drops them): a lookup's columns to its files
_LOOKUP_COPIES = (
    ("lookups_copy_ai", f"AFTER INSERT ON lookups BEGIN {_COPY_NEW} END"),
    ("lookups_copy_au", "AFTER UPDATE OF status, base_model, title, model_name, "
     f"downloads ON lookups BEGIN {_COPY_NEW} END"),
    ("lookups_copy_ad", f"AFTER DELETE ON lookups BEGIN UPDATE files SET "
     f"({_COPIED_NAMES}) = ({', '.join(['NULL'] * len(_COPIED))}) "
     "WHERE sha256 = old.sha256; END"),
)  # fmt: skip
# schema 10: lookups' columns, the small first, the big parts last
_V10_COLUMNS = (
    "sha256, status, checked_at, retry_after, matched_by, attempts, error_kind, base_model, "
    "model_name, title, downloads, error, search_text, has_update, model_id, civitai_info, "
    "brief, details"
)

# schema 7: the facet key of a files row, as one JSON text (NULLs kept apart from any string):
# [folder, record status, base model (CivitAI's when identified, else the header's), kind],
# by the same rules as query.py's F_STATUS / FILTERS["base_model"] / _FACET_RULES.
def tally_key(row: str) -> str:
    status = status_sql(f"{row}.lookup_status", row=row)
    base = (f"CASE WHEN ({status}) = 'identified' THEN {row}.lookup_base "
            f"ELSE {row}.detected_base END")  # fmt: skip
    return f"json_array({row}.folder, {status}, {base}, {row}.detected_kind)"


def _tally(row: str, step: str) -> str:
    if step == "+1":
        return (f"INSERT INTO file_tallies (missing, facet_key, n) VALUES ({row}.missing, "
                f"{tally_key(row)}, 1) ON CONFLICT (missing, facet_key) "
                "DO UPDATE SET n = n + 1;")  # fmt: skip
    return (f"UPDATE file_tallies SET n = n - 1 WHERE missing = {row}.missing "
            f"AND facet_key = {tally_key(row)};")  # fmt: skip


_TALLIED = ("missing, folder, pending, lookup_status, file_error, lookup_base, detected_base, "
            "detected_kind")  # fmt: skip
_TALLY_MOVED = f"old.missing IS NOT new.missing OR {tally_key('old')} IS NOT {tally_key('new')}"

# version → steps that bring the previous version to this one (SQL text or a function)
MIGRATIONS: dict[int, list[Step]] = {
    1: [
        """CREATE TABLE IF NOT EXISTS files (
            path TEXT PRIMARY KEY,
            folder TEXT NOT NULL,
            name TEXT NOT NULL,
            dev INTEGER NOT NULL,
            ino INTEGER NOT NULL,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            sha256 TEXT,
            hashes TEXT,
            file_error TEXT,
            pending INTEGER NOT NULL DEFAULT 0,
            missing INTEGER NOT NULL DEFAULT 0,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS files_folder_name ON files(folder, name)",
        "CREATE INDEX IF NOT EXISTS files_sha256 ON files(sha256)",
        """CREATE TABLE IF NOT EXISTS lookups (
            sha256 TEXT PRIMARY KEY,
            status TEXT NOT NULL CHECK (status IN ('identified', 'unknown', 'error')),
            civitai_info TEXT,
            error TEXT,
            error_kind TEXT,
            checked_at TEXT NOT NULL,
            retry_after TEXT,
            matched_by TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            base_model TEXT,
            search_text TEXT
        )""",
    ],
    # 2: the listing sorts and filters in SQLite (nodes/store/query.py): the file's base
    # name for the title sort (a generated column, so every writer keeps it right), the
    # lookup's model name, title and downloads, and the indexes the pages walk.
    2: [
        "ALTER TABLE files ADD COLUMN sort_name TEXT GENERATED ALWAYS AS "
        "(lower(replace(name, rtrim(name, replace(name, '/', '')), ''))) VIRTUAL",
        "ALTER TABLE lookups ADD COLUMN model_name TEXT",
        "ALTER TABLE lookups ADD COLUMN title TEXT",
        "ALTER TABLE lookups ADD COLUMN downloads INTEGER",
        """UPDATE lookups SET
            model_name = json_extract(civitai_info, '$.model_name'),
            title = lower(CASE
                WHEN json_extract(civitai_info, '$.version_name') IS NOT NULL
                THEN json_extract(civitai_info, '$.model_name') || ' \u2014 '
                     || json_extract(civitai_info, '$.version_name')
                ELSE json_extract(civitai_info, '$.model_name') END),
            downloads = json_extract(civitai_info, '$.stats.download_count')
            WHERE civitai_info IS NOT NULL AND json_valid(civitai_info)""",
        "CREATE INDEX IF NOT EXISTS files_missing_sort_name ON files(missing, sort_name)",
        "CREATE INDEX IF NOT EXISTS files_missing_mtime ON files(missing, mtime_ns)",
        "CREATE INDEX IF NOT EXISTS files_missing_size ON files(missing, size)",
        "CREATE INDEX IF NOT EXISTS files_missing_folder_name ON files(missing, folder, name)",
        "CREATE INDEX IF NOT EXISTS lookups_base_model ON lookups(base_model)",
    ],
    # 3: lookups with its small columns first and civitai_info (kilobytes) last: SQLite
    # reads a row's columns in order, and a column after a big one costs its overflow
    # pages, so every listing, facet and count read all the infos. Same rowids (the FTS
    # index keys on them); the triggers are made again by fts.ensure_fts.
    3: [
        """CREATE TABLE lookups_v3 (
            sha256 TEXT PRIMARY KEY,
            status TEXT NOT NULL CHECK (status IN ('identified', 'unknown', 'error')),
            checked_at TEXT NOT NULL,
            retry_after TEXT,
            matched_by TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            error_kind TEXT,
            base_model TEXT,
            model_name TEXT,
            title TEXT,
            downloads INTEGER,
            error TEXT,
            search_text TEXT,
            civitai_info TEXT
        )""",
        f"INSERT INTO lookups_v3 (rowid, {_LOOKUP_COLUMNS}) "
        f"SELECT rowid, {_LOOKUP_COLUMNS} FROM lookups",
        "DROP TABLE lookups",
        "ALTER TABLE lookups_v3 RENAME TO lookups",
        "CREATE INDEX IF NOT EXISTS lookups_base_model ON lookups(base_model)",
    ],
    # 4: what the file's own header says it is (hashing/classify's ``detected`` as JSON, or
    # ``{"error": sentence}`` for a header that cannot be read), and the two values the
    # listing filters on. Written before hashing; refreshed when the file changes.
    4: [
        "ALTER TABLE files ADD COLUMN detected TEXT",
        "ALTER TABLE files ADD COLUMN detected_kind TEXT",
        "ALTER TABLE files ADD COLUMN detected_base TEXT",
        "CREATE INDEX IF NOT EXISTS files_detected_base ON files(detected_base)",
    ],
    # 5: each file carries its lookup's small columns (status, base model, title, model
    # name, downloads; kept by triggers for every writer), so the listing, its facets and
    # GET status read one table with indexes and never join 100,000 files to lookups.
    5: [
        *(f"ALTER TABLE files ADD COLUMN {c} {t}" for c, t in _COPIED),
        f"UPDATE files SET ({_COPIED_NAMES}) = ({_FROM_LOOKUP} WHERE l.sha256 = files.sha256)",
        "CREATE INDEX IF NOT EXISTS files_status_counts "
        "ON files(missing, pending, lookup_status, file_error IS NOT NULL)",
        "CREATE INDEX IF NOT EXISTS files_by_title "
        "ON files(missing, COALESCE(lookup_title, sort_name))",
        "CREATE INDEX IF NOT EXISTS files_by_downloads "
        "ON files(missing, COALESCE(lookup_downloads, -1))",
        "CREATE INDEX IF NOT EXISTS files_by_model "
        "ON files(missing, lookup_model IS NULL, COALESCE(lower(lookup_model), ''))",
        # GET facets groups these raw columns (query.py FACET_COLUMNS) from the index alone
        "CREATE INDEX IF NOT EXISTS files_facets ON files(missing, folder, pending, "
        "lookup_status, file_error IS NOT NULL, lookup_base, detected_base, detected_kind)",
        *(
            f"CREATE TRIGGER IF NOT EXISTS {name} {body}"
            for name, body in (
                ("files_lookup_copy_ai", f"AFTER INSERT ON files BEGIN {_COPY_TO_FILE} END"),
                (
                    "files_lookup_copy_au",
                    "AFTER UPDATE OF sha256 ON files "
                    f"WHEN old.sha256 IS NOT new.sha256 BEGIN {_COPY_TO_FILE} END",
                ),
                *_LOOKUP_COPIES,
            )
        ),
    ],
    # 6: the store's size budget (issue #15: 100,000 records in <= 300 MB) and a brief
    # listing that reads only what it shows: each info in three parts (info_parts.py), the
    # brief JSON, the compressed details, and the model-level part once per CivitAI model;
    # civitai_info is then NULL (a text that is not JSON is kept there, its brief JSON null:
    # the record says its details are damaged).
    6: [
        "ALTER TABLE lookups ADD COLUMN model_id INTEGER",
        "ALTER TABLE lookups ADD COLUMN brief TEXT",
        "ALTER TABLE lookups ADD COLUMN details BLOB",
        "CREATE TABLE IF NOT EXISTS civitai_models (model_id INTEGER PRIMARY KEY, "
        "data BLOB NOT NULL)",
        lambda conn: split_stored_infos(conn),
        # indexes no query uses any more (the name sort walks files_by_title, the base model
        # filter reads files' lookup_base / detected_base through CASE): ~7 MB at 100,000
        "DROP INDEX IF EXISTS files_missing_sort_name",
        "DROP INDEX IF EXISTS lookups_base_model",
        "DROP INDEX IF EXISTS files_detected_base",
    ],
    # 7: how many files have each facet key, present and missing apart (file_tallies), kept
    # by triggers on files for every writer (scanner, CLI, links, another process), so GET
    # status and the unfiltered GET facets read a few dozen rows instead of grouping
    # 100,000 (query.py Lister.tallies).
    7: [
        """CREATE TABLE IF NOT EXISTS file_tallies (
            missing INTEGER NOT NULL,
            facet_key TEXT NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (missing, facet_key)
        ) WITHOUT ROWID""",
        # GET status read files_status_counts (schema 5); the tallies replace it
        "DROP INDEX IF EXISTS files_status_counts",
        "INSERT INTO file_tallies (missing, facet_key, n) "
        f"SELECT missing, {tally_key('files')}, COUNT(*) FROM files GROUP BY 1, 2",
        *(f"CREATE TRIGGER IF NOT EXISTS {name} {body}" for name, body in (
            ("files_tally_ai", f"AFTER INSERT ON files BEGIN {_tally('new', '+1')} END"),
            ("files_tally_ad", f"AFTER DELETE ON files BEGIN {_tally('old', '-1')} END"),
            ("files_tally_au", f"AFTER UPDATE OF {_TALLIED} ON files WHEN {_TALLY_MOVED} "
             f"BEGIN {_tally('old', '-1')} {_tally('new', '+1')} END"),
        )),
    ],
    # 8: the parts and the header verdicts packed with a preset dictionary (packing.py: a
    # brief ~600 → ~170 bytes) and files' hashes as bytes (~300 → 111), for the size
    # budget. The brief is no JSON text the ``update`` filter can read in SQL any more: the
    # lookup says it in has_update. Rows written before stay as they are and read as before.
    8: [
        "ALTER TABLE lookups ADD COLUMN has_update INTEGER NOT NULL DEFAULT 0",
        "UPDATE lookups SET has_update = 1 WHERE typeof(brief) = 'text' AND json_valid(brief) "
        "AND json_extract(brief, '$.update') IS NOT NULL",
        lambda conn: _mark_packed_updates(conn),
        # the column comes after the big parts: the filter reads this index instead
        "CREATE INDEX IF NOT EXISTS lookups_with_update ON lookups(sha256) WHERE has_update = 1",
        # a file by folder and name walks files_missing_folder_name (missing IN (0, 1)): 5 MB
        "DROP INDEX IF EXISTS files_folder_name",
    ],
    # 9: the dictionary a store learns from its own model descriptions (info_parts.py
    # prose_dictionary): a part names its dictionary by id, so every learned one is kept
    9: [
        """CREATE TABLE IF NOT EXISTS packing_dictionaries (
            seq INTEGER PRIMARY KEY,
            dict_id INTEGER NOT NULL UNIQUE,
            data BLOB NOT NULL,
            learned_at TEXT NOT NULL
        )""",
    ],
    # 10: lookups WITHOUT ROWID, its SHA256 key the table itself instead of a second copy
    # in an index (~8 MB at 100,000 records; no query needs a lookup's rowid since the
    # search index keys on files). has_update moves before the big parts.
    10: [
        """CREATE TABLE lookups_v10 (
            sha256 TEXT PRIMARY KEY,
            status TEXT NOT NULL CHECK (status IN ('identified', 'unknown', 'error')),
            checked_at TEXT NOT NULL,
            retry_after TEXT,
            matched_by TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            error_kind TEXT,
            base_model TEXT,
            model_name TEXT,
            title TEXT,
            downloads INTEGER,
            error TEXT,
            search_text TEXT,
            has_update INTEGER NOT NULL DEFAULT 0,
            model_id INTEGER,
            civitai_info TEXT,
            brief BLOB,
            details BLOB
        ) WITHOUT ROWID""",
        f"INSERT INTO lookups_v10 ({_V10_COLUMNS}) SELECT {_V10_COLUMNS} FROM lookups",
        "DROP TABLE lookups",
        "ALTER TABLE lookups_v10 RENAME TO lookups",
        "CREATE INDEX IF NOT EXISTS lookups_with_update ON lookups(sha256) WHERE has_update = 1",
        *(f"CREATE TRIGGER IF NOT EXISTS {name} {body}" for name, body in _LOOKUP_COPIES),
    ],
}
SCHEMA_VERSION = max(MIGRATIONS)


def _mark_packed_updates(conn: sqlite3.Connection) -> None:
    """Schema 8's step for briefs already packed (a store older than 6 split its infos
    with this version's packing in step 6)."""
    rows = conn.execute("SELECT sha256, brief FROM lookups WHERE typeof(brief) = 'blob'")
    marked = []
    for sha256, brief in rows:
        info, _problem = join_info(brief, None, None, full=False)
        if info and info.get("update") is not None:
            marked.append((sha256,))
    conn.executemany("UPDATE lookups SET has_update = 1 WHERE sha256 = ?", marked)


def split_stored_infos(conn: sqlite3.Connection, chunk: int = 500) -> None:
    """Schema 6's data step: every stored civitai_info into its parts, oldest answer first
    (so a model's part is its newest answer's), a chunk of rows in memory at a time."""
    rowids = [r[0] for r in conn.execute(
        "SELECT rowid FROM lookups WHERE civitai_info IS NOT NULL ORDER BY checked_at, rowid"
    )]  # fmt: skip
    for start in range(0, len(rowids), chunk):
        ids = rowids[start : start + chunk]
        rows = dict(conn.execute(
            f"SELECT rowid, civitai_info FROM lookups WHERE rowid IN ({','.join('?' * len(ids))})",
            ids,
        ).fetchall())  # fmt: skip
        for rowid in ids:
            try:
                info = json.loads(rows[rowid])
            except (TypeError, ValueError, RecursionError):
                info = None
            if not isinstance(info, dict):  # unreadable before too: kept, reported
                conn.execute("UPDATE lookups SET brief = 'null' WHERE rowid = ?", (rowid,))
                continue
            brief, details, model_id, model = split_info(info)
            conn.execute(
                "UPDATE lookups SET brief = ?, details = ?, model_id = ?, civitai_info = NULL "
                "WHERE rowid = ?",
                (brief, details, model_id, rowid),
            )
            if model is not None:
                save_model(conn, model_id, model)


# The store's name for the shared error (kept so callers can say what they catch).
StoreSchemaError = SchemaTooNewError


def migrate(conn: sqlite3.Connection) -> int:
    """Create or upgrade the store's tables; return the schema version now in place."""
    return run_migrations(conn, COMPONENT, MIGRATIONS, label="model store")
