"""The one SQLite module of the pack (the hash cache and the model store share one file).

- ``connect_db``: open a database (WAL, or a rollback journal on a network filesystem;
  busy timeout, quick check, a corrupt file moved aside, a lock failure a clear sentence).
  It is the only place in the pack that calls ``sqlite3.connect`` (tests/test_layout.py).
- ``ThreadConnections``: one connection per thread to the same file.
- ``transaction``: the one explicit ``BEGIN IMMEDIATE`` … ``COMMIT``; nesting raises.
- ``migrate``: the one migration runner over the one ``schema_version(component, version)``
  table. A database written by a newer pack is refused (``SchemaTooNewError``), never dropped.

Connections are opened in autocommit mode (``isolation_level=None``): Python never opens a
transaction behind the caller's back, so every write that must be atomic goes through
``transaction``. See docs/internals.md ("The store").
"""

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from urllib.parse import quote

_log = logging.getLogger(__name__)

BUSY_TIMEOUT_S = 30.0
JOURNAL_MODES = ("WAL", "DELETE", "TRUNCATE", "PERSIST")
# Pages of a new database (SQLite's default is 4 KiB). The store's lookup rows are ~1.3 KB:
# two fit a 4 KiB page with a third of it unused, five fit 8 KiB (issue #15: 100,000
# records <= 300 MB). An existing file keeps its page size (it changes only on VACUUM
# outside WAL mode).
PAGE_SIZE = 8192
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26
_SQLITE_PROTOCOL = 15
_SQLITE_NOLFS = 22
_SQLITE_IOERR_LOCK = 10 | (15 << 8)
_SQLITE_IOERR_SHMLOCK = 10 | (20 << 8)

# A migration step: SQL text, or a function of the connection (for data moves) — run in order.
Step = str | Callable[[sqlite3.Connection], None]


class _FailedCheck(sqlite3.DatabaseError):
    """``PRAGMA quick_check`` did not answer "ok"."""


class SchemaTooNewError(sqlite3.DatabaseError):
    """The database holds tables written by a newer version of the pack; nothing was changed."""


class StoreLockError(sqlite3.OperationalError):
    """The database's filesystem gives no working locks; the message says what to do."""


class NestedTransactionError(RuntimeError):
    """``transaction()`` was entered on a connection already inside a transaction."""


def connect_db(
    path, *, timeout: float = BUSY_TIMEOUT_S, journal_mode: str = "auto"
) -> sqlite3.Connection:
    """Open (creating parent directories and the file) the database at ``path``.

    ``journal_mode`` one of ``JOURNAL_MODES`` or ``"auto"`` (the default: WAL, except on a
    network filesystem — NFS, CIFS/SMB, FUSE, see netfs.py — where WAL's shared memory is
    not safe: a rollback journal, DELETE, with one log line saying why), a busy timeout of
    ``timeout`` seconds (other processes may write), foreign keys on, autocommit (see
    ``transaction``), ``check_same_thread=False`` (callers serialize their own use of a
    connection, or use ``ThreadConnections``). A file that is not a database or fails
    ``PRAGMA quick_check`` is moved aside to ``<path>.corrupt-<UTC timestamp>`` (with its
    -wal/-shm), a warning is logged and a fresh database is created. A locked database is
    waited for, never moved; one whose filesystem has no working locks raises
    ``StoreLockError`` with a sentence saying what to do.
    """
    mode = journal_mode.upper()
    if mode not in (*JOURNAL_MODES, "AUTO"):
        raise ValueError(
            f"journal_mode must be one of {', '.join(JOURNAL_MODES)} or auto, not {journal_mode!r}"
        )
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if mode == "AUTO":
        mode = _auto_journal_mode(path)
    try:
        return _open_checked(path, timeout, mode)
    except sqlite3.DatabaseError as exc:
        if _is_lock_failure(exc):
            raise StoreLockError(
                f"The database {path} cannot be locked ({exc}): its filesystem does not "
                "give SQLite working file locks. Put it on a local disk "
                "(CIVITAI_IDENTIFY_DB=/local/path/civitai-identify.sqlite3)."
            ) from exc
        if not _is_corruption(exc):
            raise
        moved = _move_aside(path)
        _log.warning(
            "The database %s was unreadable (%s); it was moved to %s and a new one was created.",
            path,
            exc,
            moved,
        )
    return _open_checked(path, timeout, mode)


def connect_existing(path, *, timeout: float = BUSY_TIMEOUT_S) -> sqlite3.Connection:
    """Open the database at ``path`` read-only, never creating it (``sqlite3.Error`` when
    it is not there): for a look into a store that may have been deleted since."""
    uri = f"file:{quote(os.path.abspath(os.fspath(path)))}?mode=ro"
    return sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)


def _open_checked(path: str, timeout: float, mode: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=timeout, check_same_thread=False, isolation_level=None)
    try:
        # busy_timeout first, so switching the journal mode waits for another opener.
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        # before WAL writes a new file's header
        _while_locked(conn, f"PRAGMA page_size = {PAGE_SIZE}", timeout)
        _while_locked(conn, f"PRAGMA journal_mode = {mode}", timeout)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        _check_once(conn, path)
        _while_locked(
            conn,
            "CREATE TABLE IF NOT EXISTS schema_version "
            "(component TEXT PRIMARY KEY, version INTEGER NOT NULL)",
            timeout,
        )
    except BaseException:
        conn.close()
        raise
    return conn


def _while_locked(conn: sqlite3.Connection, sql: str, timeout: float) -> None:
    """``sql``, tried again for up to ``timeout`` s while another connection holds the lock
    it needs. Two processes opening a NEW store at once (a CLI scan starting beside
    ComfyUI): switching its journal mode needs the file to itself, and SQLite answers
    "database is locked" at once instead of calling the busy handler (it would deadlock)."""
    deadline, pause = time.monotonic() + timeout, 0.01
    while True:
        try:
            conn.execute(sql)
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY / SQLITE_LOCKED (by its code, as ``_is_lock_failure`` reads codes)."""
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+
    if code is not None:
        return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    text = str(exc).lower()
    return "database is locked" in text or "database is busy" in text


# (st_dev, st_ino) of the database files this process has checked: quick_check reads the
# whole file (~1 s for a 100,000-record store, far more from a cold network volume), and
# every worker thread of the service opens its own connection.
_checked: set[tuple[int, int]] = set()
_checked_lock = threading.Lock()


def _check_once(conn: sqlite3.Connection, path: str) -> None:
    """``PRAGMA quick_check`` on the first connection of this process to this file (a
    file moved aside and made anew is another file, checked again)."""
    try:
        st = os.stat(path)
        key = (st.st_dev, st.st_ino)
    except OSError:
        key = None
    with _checked_lock:
        if key is not None and key in _checked:
            return
    _quick_check(conn)
    if key is not None:
        with _checked_lock:
            _checked.add(key)


def _quick_check(conn: sqlite3.Connection) -> None:
    result = conn.execute("PRAGMA quick_check").fetchone()
    if not result or result[0] != "ok":
        raise _FailedCheck(f"quick_check: {result[0] if result else 'no answer'}")


_explained: set[str] = set()
_explained_lock = threading.Lock()


def _auto_journal_mode(path: str) -> str:
    """WAL, or DELETE when ``path`` is on a network filesystem (logged once per file)."""
    from .netfs import network_fs_type

    fs_type = network_fs_type(path)
    if fs_type is None:
        return "WAL"
    with _explained_lock:
        first = path not in _explained
        _explained.add(path)
    if first:
        _log.info(
            "The database %s is on a network filesystem (%s): using a rollback journal "
            "instead of WAL, which needs shared memory on one host. Two machines must not "
            "use one database file.",
            path,
            fs_type,
        )
    return "DELETE"


def _is_lock_failure(exc: sqlite3.DatabaseError) -> bool:
    """SQLITE_PROTOCOL / SQLITE_NOLFS or an I/O error while locking: no working file locks."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in (_SQLITE_PROTOCOL, _SQLITE_NOLFS):
        return True
    if code is not None and code in (_SQLITE_IOERR_LOCK, _SQLITE_IOERR_SHMLOCK):
        return True
    return "locking protocol" in str(exc)


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


class ThreadConnections:
    """One connection per thread to the database at ``path`` (``connect_db`` arguments
    passed through), opened on a thread's first ``get()``; ``close()`` closes them all."""

    def __init__(self, path, **connect_kwargs) -> None:
        self.path = os.fspath(path)
        self._kwargs = connect_kwargs
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []

    def get(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = connect_db(self.path, **self._kwargs)
            with self._lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """An explicit ``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on any exception).

    Explicit because implicit transactions do not cover DDL, and IMMEDIATE takes the write
    lock up front so a concurrent writer waits (busy timeout) instead of failing late.
    Entering it while ``conn`` is already in a transaction raises ``NestedTransactionError``
    (committing the outer one early would break its atomicity).
    """
    if conn.in_transaction:
        raise NestedTransactionError(
            "A database transaction was started inside another one on the same connection."
        )
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise
    conn.commit()


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


def migrate(
    conn: sqlite3.Connection,
    component: str,
    migrations: Mapping[int, Sequence[Step]],
    *,
    label: str | None = None,
) -> int:
    """Bring ``component``'s tables to the highest version in ``migrations`` and return it.

    ``migrations`` maps version → the steps that bring the previous version to it (versions
    1, 2, … with no gaps; add a new number to change a table, never edit an old one). Each
    version runs in its own transaction with its ``schema_version`` row, so a crash leaves
    the previous version intact. A recorded version above the highest known raises
    ``SchemaTooNewError`` before anything is changed. ``label`` names the component in that
    sentence (e.g. "model store").
    """
    latest = max(migrations, default=0)
    if sorted(migrations) != list(range(1, latest + 1)):
        raise ValueError(f"{component} migrations must be numbered 1..n without gaps")
    current = get_schema_version(conn, component) or 0
    if current > latest:
        what = label or component.replace("_", " ")
        raise SchemaTooNewError(
            f"The {what} in {_db_file(conn)} was written by a newer version of CivitAI "
            f"Identify (schema {current}; this version knows up to {latest}); it was left "
            "untouched. Update the pack, or point CIVITAI_IDENTIFY_DB at another file."
        )
    if current == latest:
        return latest
    # A table rebuild (create new, copy, drop old, rename new: SQLite's way to change a
    # table) must not trip over triggers on OTHER tables that name it (the search index's
    # trigger on files reads lookups): legacy renames leave their text alone.
    legacy = conn.execute("PRAGMA legacy_alter_table").fetchone()[0]
    conn.execute("PRAGMA legacy_alter_table = ON")
    try:
        _run_versions(conn, component, migrations, current, latest)
    finally:
        conn.execute(f"PRAGMA legacy_alter_table = {int(legacy)}")
    return latest


def _run_versions(conn, component, migrations, current: int, latest: int) -> None:
    for version in range(current + 1, latest + 1):
        with transaction(conn):
            # read again under the write lock: another process opening the same new store
            # (a CLI scan starting beside ComfyUI) may have run this version meanwhile
            if (get_schema_version(conn, component) or 0) >= version:
                continue
            for step in migrations[version]:
                if callable(step):
                    step(conn)
                else:
                    conn.execute(step)
            set_schema_version(conn, component, version)


def _db_file(conn: sqlite3.Connection) -> str:
    row = conn.execute("PRAGMA database_list").fetchone()
    return (row[2] if row and row[2] else None) or "the database"


__all__ = [
    "BUSY_TIMEOUT_S",
    "JOURNAL_MODES",
    "NestedTransactionError",
    "SchemaTooNewError",
    "Step",
    "StoreLockError",
    "ThreadConnections",
    "connect_db",
    "get_schema_version",
    "migrate",
    "set_schema_version",
    "transaction",
]
