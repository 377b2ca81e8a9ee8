"""``connect_db``: the one way the pack opens its SQLite file (hash cache and model store).

Also the small shared ``schema_version(component, version)`` table through which each room
versions its own tables.
"""

import logging
import os
import sqlite3
from datetime import datetime, timezone

_log = logging.getLogger(__name__)

BUSY_TIMEOUT_S = 30.0
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26


class _FailedCheck(sqlite3.DatabaseError):
    """``PRAGMA quick_check`` did not answer "ok"."""


def connect_db(path, *, timeout: float = BUSY_TIMEOUT_S) -> sqlite3.Connection:
    """Open (creating parent directories and the file) the database at ``path``.

    WAL journal, a busy timeout of ``timeout`` seconds (other processes may write), foreign
    keys on, ``check_same_thread=False`` (callers serialize their own use of a connection).
    A file that is not a database or fails ``PRAGMA quick_check`` is moved aside to
    ``<path>.corrupt-<UTC timestamp>`` (with its -wal/-shm), a warning is logged and a
    fresh database is created. A locked database is waited for, never moved aside.
    """
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    try:
        return _open_checked(path, timeout)
    except sqlite3.DatabaseError as exc:
        if not _is_corruption(exc):
            raise
        moved = _move_aside(path)
        _log.warning(
            "The database %s was unreadable (%s); it was moved to %s and a new one was created.",
            path,
            exc,
            moved,
        )
    return _open_checked(path, timeout)


def _open_checked(path: str, timeout: float) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=timeout, check_same_thread=False)
    try:
        # busy_timeout first, so switching to WAL waits for another opener.
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        result = conn.execute("PRAGMA quick_check").fetchone()
        if not result or result[0] != "ok":
            raise _FailedCheck(f"quick_check: {result[0] if result else 'no answer'}")
        with conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version "
                "(component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
            )
    except BaseException:
        conn.close()
        raise
    return conn


def _is_corruption(exc: sqlite3.DatabaseError) -> bool:
    """Not a database / malformed / failed check — but not 'locked' or 'cannot open'."""
    if isinstance(exc, _FailedCheck):
        return True
    if isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+
    if code is not None:
        return code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB)
    return True  # Python 3.10: a plain DatabaseError means a corrupt or foreign file


def _move_aside(path: str) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = f"{path}.corrupt-{stamp}"
    n = 1
    while os.path.exists(target):
        n += 1
        target = f"{path}.corrupt-{stamp}-{n}"
    os.replace(path, target)
    for suffix in ("-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.replace(path + suffix, target + suffix)
    return target


def get_schema_version(conn: sqlite3.Connection, component: str) -> int | None:
    """The version recorded for ``component`` (e.g. "hash_cache"), None if never set."""
    row = conn.execute(
        "SELECT version FROM schema_version WHERE component = ?", (component,)
    ).fetchone()
    return None if row is None else int(row[0])


def set_schema_version(conn: sqlite3.Connection, component: str, version: int) -> None:
    """Record ``component``'s version (inside the caller's transaction)."""
    conn.execute(
        "INSERT INTO schema_version (component, version) VALUES (?, ?) "
        "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
        (component, version),
    )
