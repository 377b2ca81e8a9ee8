"""The model store's tables and their migrations.

The store shares its SQLite file with the hash cache (hashing/ owns its own tables); this
module owns ``files`` and ``lookups``. Its version is the row ``component = 'model_store'``
of the shared ``schema_version(component, version)`` table (created by hashing's
``connect_db``; created here too so the store never depends on the order of opening).
A migration is a list of statements run in one transaction; the version only moves forward.
A database written by a newer pack (higher version) is refused with a clear error rather
than guessed at.
"""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

SCHEMA_VERSION = 1
COMPONENT = "model_store"

# version → statements that bring the previous version to this one
MIGRATIONS: dict[int, list[str]] = {
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
}


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """An explicit ``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on any exception).

    Explicit because Python's implicit transactions do not cover DDL, and IMMEDIATE takes the
    write lock up front so a concurrent writer waits (busy timeout) instead of failing late.
    """
    if conn.in_transaction:
        conn.commit()
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


class StoreSchemaError(RuntimeError):
    """The database was written by a newer version of the pack."""


def migrate(conn: sqlite3.Connection) -> int:
    """Create or upgrade the store's tables; return the schema version now in place."""
    with transaction(conn):
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version "
            "(component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
        )
    row = conn.execute(
        "SELECT version FROM schema_version WHERE component = ?", (COMPONENT,)
    ).fetchone()
    current = int(row[0]) if row else 0
    if current > SCHEMA_VERSION:
        raise StoreSchemaError(
            f"The model store was written by a newer CivitAI Identify (schema {current}, this "
            f"version knows {SCHEMA_VERSION}). Update the pack or use another database file."
        )
    for version in range(current + 1, SCHEMA_VERSION + 1):
        with transaction(
            conn
        ):  # one transaction per step: a crash leaves the previous version intact
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_version (component, version) VALUES (?, ?) "
                "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                (COMPONENT, version),
            )
    return SCHEMA_VERSION
