"""The store opens SQLite through hashing's ``connect_db`` (same file as the hash cache).

Until hashing/ provides it, a minimal stand-in with the same contract is used: parent dirs
created, WAL, a busy timeout.
"""

import os
import sqlite3

try:
    from ..hashing import connect_db
except ImportError:  # hashing/ not there yet: same contract, without the corrupt-file rescue

    def connect_db(path) -> sqlite3.Connection:
        path = os.fspath(path)
        parent = os.path.dirname(os.path.abspath(path))
        os.makedirs(parent, exist_ok=True)
        conn = sqlite3.connect(path, timeout=30.0)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn


__all__ = ["connect_db"]
