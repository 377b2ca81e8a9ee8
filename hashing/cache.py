"""``HashCache``: hashes remembered by file identity, so an unchanged file is never read
twice — across restarts, and after a rename or move on the same filesystem."""

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable

from .claims import hashing_claim
from .db import connect_db, migrate, transaction
from .engine import HASH_NAMES, HashResult, hash_file
from .identity import FileIdentity, file_identity, identity_key

_log = logging.getLogger(__name__)

COMPONENT = "hash_cache"
_COLUMNS = ("sha256", "autov1", "autov2", "autov3", "crc32", "blake3")

_CREATE = """
CREATE TABLE IF NOT EXISTS hash_cache (
    dev INTEGER NOT NULL, ino INTEGER NOT NULL, size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL, autov1 TEXT, autov2 TEXT NOT NULL,
    autov3 TEXT, has_autov3 INTEGER NOT NULL,
    crc32 TEXT NOT NULL, blake3 TEXT NOT NULL,
    hashed_at REAL NOT NULL,
    PRIMARY KEY (dev, ino, size, mtime_ns)
)"""
_INDEX = "CREATE INDEX IF NOT EXISTS hash_cache_path ON hash_cache (path)"

# version → steps (hashing/db.py ``migrate``); add a version to change the table.
MIGRATIONS = {
    1: (_CREATE, _INDEX),
    # 2: no query looks a path up (the row of a rewritten inode is found by its key's
    # dev, ino): the index was ~7 MB at 100,000 files
    2: ("DROP INDEX IF EXISTS hash_cache_path",),
    # 3: the hashes as bytes (_packed), half their hex, in a table that is its key's
    # index (WITHOUT ROWID: no second copy of the key): ~14 MB at 100,000 files
    3: (
        """CREATE TABLE hash_cache_v3 (
            dev INTEGER NOT NULL, ino INTEGER NOT NULL, size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL, path TEXT NOT NULL,
            sha256 TEXT NOT NULL, autov1 TEXT, autov2 TEXT NOT NULL,
            autov3 TEXT, has_autov3 INTEGER NOT NULL,
            crc32 TEXT NOT NULL, blake3 TEXT NOT NULL,
            hashed_at REAL NOT NULL,
            PRIMARY KEY (dev, ino, size, mtime_ns)
        ) WITHOUT ROWID""",
        lambda conn: _pack_stored(conn),
        "DROP TABLE hash_cache",
        "ALTER TABLE hash_cache_v3 RENAME TO hash_cache",
    ),
    # 4: no path: a row is an inode's content, and a row of the same inode with another
    # size or mtime is stale whatever its path (the store keeps the paths): ~5 MB at 100,000
    4: ("ALTER TABLE hash_cache DROP COLUMN path",),
}
SCHEMA_VERSION = max(MIGRATIONS)


def _packed(value):
    """A hash as stored (schema 3): uppercase hex of even length as its bytes (what the
    engine computes), anything else as it is (SQLite's TEXT columns keep a BLOB a BLOB)."""
    if isinstance(value, str) and len(value) % 2 == 0 and value == value.upper():
        try:
            return bytes.fromhex(value)
        except ValueError:
            pass
    return value


def _unpacked(value):
    return value.hex().upper() if isinstance(value, bytes) else value


_ALL = ("dev", "ino", "size", "mtime_ns", "path", *_COLUMNS, "has_autov3", "hashed_at")


def _pack_stored(conn: sqlite3.Connection) -> None:
    """Schema 3's step: every row into the new table, each hash ``_packed`` (inside the
    migration's transaction, one statement)."""
    conn.create_function("cid_packed", 1, _packed, deterministic=True)
    picked = ", ".join(f"cid_packed({c})" if c in _COLUMNS else c for c in _ALL)
    conn.execute(f"INSERT INTO hash_cache_v3 ({', '.join(_ALL)}) SELECT {picked} FROM hash_cache")


class HashCache:
    """Hashes by ``FileIdentity`` in the SQLite file ``db_path`` (opened with
    ``connect_db``; the model store may share the file).

    Thread-safe (one connection behind a lock, never held while hashing) and safe with other
    processes (WAL, busy timeout). An inode's row is replaced when it gets a new size or mtime.
    A cache written by a newer pack raises ``SchemaTooNewError`` (a ``sqlite3.DatabaseError``)
    and is left as it is: two installs of different versions never rebuild each other's cache.
    """

    def __init__(self, db_path) -> None:
        self.db_path = os.fspath(db_path)
        self._lock = threading.Lock()
        self._conn = connect_db(self.db_path)
        try:
            migrate(self._conn, COMPONENT, MIGRATIONS, label="hash cache")
        except BaseException:
            self._conn.close()
            raise

    def lookup(self, identity: FileIdentity) -> dict | None:
        """The known hashes of a file with this identity (no "AutoV3" key when it was never
        computed), or None. Reads nothing from the file."""
        with self._lock:
            row = self._conn.execute(
                f"SELECT {', '.join(_COLUMNS)}, has_autov3 FROM hash_cache "
                "WHERE dev = ? AND ino = ? AND size = ? AND mtime_ns = ?",
                identity_key(identity),
            ).fetchone()
        if row is None:
            return None
        values = dict(zip(HASH_NAMES, map(_unpacked, row[:6]), strict=True))
        if not row[6]:
            del values["AutoV3"]
        return values

    def get_or_hash(
        self,
        path,
        *,
        autov3: bool = True,
        progress: Callable[[int, int], None] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> HashResult:
        """The file's hashes: from the cache (``bytes_read == 0``) when its identity is
        known and has what is asked for (AutoV3 included when known, even if not asked),
        else hashed (see ``hash_file`` for the errors) and stored. A database error (locked
        past the busy timeout, damaged) is logged and the file hashed: never fatal here."""
        path = os.fspath(path)
        identity = file_identity(path)
        # another process hashing the same file (a CLI scan beside ComfyUI's) goes first;
        # its hashes are then in the cache (claims.py)
        with hashing_claim(self.db_path, identity, cancel):
            known = self._safely(self.lookup, identity)
            if known is not None and (not autov3 or "AutoV3" in known):
                return HashResult(path, identity, known, 0)
            result = hash_file(path, autov3=autov3, progress=progress, cancel=cancel)
            self._safely(self.store, result)
            return result

    def _safely(self, method, *args):
        try:
            return method(*args)
        except sqlite3.DatabaseError as exc:  # includes OperationalError ("locked")
            _log.warning("Hash cache %s: %s; going on without it.", self.db_path, exc)
            return None

    def store(self, result: HashResult) -> None:
        """Remember ``result`` (replacing the row of an older version of the same inode)."""
        h = result.hashes
        has_autov3 = "AutoV3" in h
        key = identity_key(result.identity)
        with self._lock, transaction(self._conn):
            if not has_autov3:  # keep an AutoV3 computed earlier for the same identity
                row = self._conn.execute(
                    "SELECT autov3 FROM hash_cache WHERE dev = ? AND ino = ? AND size = ? "
                    "AND mtime_ns = ? AND has_autov3",
                    key,
                ).fetchone()
                if row is not None:
                    h = {**h, "AutoV3": _unpacked(row[0])}
                    has_autov3 = True
            # The same inode rewritten in place (or reused by a new file) can never match
            # its old row again.
            self._conn.execute(
                "DELETE FROM hash_cache WHERE dev = ? AND ino = ? AND (size, mtime_ns) != (?, ?)",
                key,
            )
            self._conn.execute(
                "INSERT OR REPLACE INTO hash_cache (dev, ino, size, mtime_ns, "
                f"{', '.join(_COLUMNS)}, has_autov3, hashed_at) VALUES ({', '.join('?' * 12)})",
                (
                    *key,
                    *map(_packed, (h.get(n) for n in HASH_NAMES)),
                    int(has_autov3),
                    time.time(),
                ),
            )

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> "HashCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


__all__ = ["HashCache"]
