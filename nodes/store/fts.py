"""The trigram FTS5 index for the listing's ``q`` (see query.py), kept by triggers.

One table, ``files_search_fts(name, search)``, one row per ``files`` row under the same
rowid: the file's name and its lookup's ``search_text`` (model/version names, tags,
trigger words). So a word is one MATCH that yields file rowids, even when 90,000 records
match it; the page, its total and the facets then walk ``files`` alone. (Two tables, names
and lookups, cost ~0.4 s at 100,000 records: every matching lookup was mapped back to its
files through their SHA256.) Triggers on ``files`` and on ``lookups`` keep it in step with
every writer (the scanner, the CLI, another process). A trigram index answers "contains
this substring, ignoring case" for words of 3+ characters, the same question the LIKE
fallback answers; a phrase never spans the two columns, as a word never spans the name and
the search text in LIKE.

Not a numbered migration: a SQLite built without FTS5 (or older than 3.34, no trigram
tokenizer) simply has no such table and the listing uses LIKE. ``ensure_fts`` is
idempotent, fills the table the first time it is made and drops the older two-table
index (``files_fts``, ``lookups_fts``) it replaces. Keyed by rowid: a ``VACUUM`` may
renumber the rowids of ``files``, so whoever vacuums the store calls ``rebuild_fts`` after.
"""

import sqlite3

from ...hashing import transaction

TABLE = "files_search_fts"
_OLD_TABLES = ("files_fts", "lookups_fts")  # before one table held both columns
_FILL = (f"INSERT INTO {TABLE} (rowid, name, search) SELECT f.rowid, f.name, l.search_text "
         "FROM files AS f LEFT JOIN lookups AS l ON l.sha256 = f.sha256")  # fmt: skip


def _refresh(sha: str) -> str:
    """Statements that re-index every file whose SHA256 is ``sha`` (an SQL expression)."""
    return (f"DELETE FROM {TABLE} WHERE rowid IN (SELECT rowid FROM files WHERE sha256 = {sha}); "
            f"INSERT INTO {TABLE} (rowid, name, search) SELECT rowid, name, "
            f"(SELECT search_text FROM lookups WHERE sha256 = {sha}) "
            f"FROM files WHERE sha256 = {sha};")  # fmt: skip


_NEW_FILE = (f"INSERT INTO {TABLE} (rowid, name, search) VALUES (new.rowid, new.name, "
             "(SELECT search_text FROM lookups WHERE sha256 = new.sha256));")  # fmt: skip
_TRIGGERS = {  # name -> body
    f"{TABLE}_files_ai": f"AFTER INSERT ON files BEGIN {_NEW_FILE} END",
    f"{TABLE}_files_ad": f"AFTER DELETE ON files BEGIN DELETE FROM {TABLE} "
    "WHERE rowid = old.rowid; END",
    f"{TABLE}_files_au": "AFTER UPDATE OF name, sha256 ON files "
    "WHEN old.name IS NOT new.name OR old.sha256 IS NOT new.sha256 BEGIN "
    f"DELETE FROM {TABLE} WHERE rowid = old.rowid; {_NEW_FILE} END",
    f"{TABLE}_lookups_ai": "AFTER INSERT ON lookups WHEN new.search_text IS NOT NULL "
    f"BEGIN {_refresh('new.sha256')} END",
    f"{TABLE}_lookups_au": "AFTER UPDATE OF search_text ON lookups "
    f"WHEN old.search_text IS NOT new.search_text BEGIN {_refresh('new.sha256')} END",
    f"{TABLE}_lookups_ad": f"AFTER DELETE ON lookups BEGIN {_refresh('old.sha256')} END",
}


def fts_available(conn: sqlite3.Connection) -> bool:
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.cid_fts_probe USING fts5(x, tokenize='trigram')")
        conn.execute("DROP TABLE temp.cid_fts_probe")
        return True
    except sqlite3.OperationalError:
        return False


def ensure_fts(conn: sqlite3.Connection) -> bool:
    """Create the FTS table and its triggers if missing; False without FTS5."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    old = [t for t in _OLD_TABLES if t in tables]
    if TABLE in tables and not old:
        _ensure_triggers(conn)  # a rebuilt source table (schema 3) dropped its triggers
        _connect(conn)
        return True
    if TABLE not in tables and not fts_available(conn):
        return False
    with transaction(conn):
        # read again under the write lock: another process opening a new store at the same
        # moment may have made the table since the look above
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        old = [t for t in _OLD_TABLES if t in tables]
        for name in old:  # the two-table index this one replaces (and its triggers)
            conn.execute(f"DROP TABLE {name}")
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND "
            "(name LIKE 'files_fts_%' OR name LIKE 'lookups_fts_%')"
        ).fetchall():
            conn.execute(f"DROP TRIGGER {name}")
        if TABLE not in tables:
            conn.execute(f"CREATE VIRTUAL TABLE {TABLE} USING fts5(name, search, "
                         "tokenize='trigram', detail='full')")  # fmt: skip
            conn.execute(_FILL)
        for name, body in _TRIGGERS.items():
            conn.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")
    return True


def _connect(conn: sqlite3.Connection) -> None:
    """Connect the index in this connection now. SQLite 3.40 answers "no such table:
    files" to the first upsert on files or lookups whose trigger connects it when another
    connection changed the schema since this one opened (the hash cache making its table
    in the same file, another process's migration): that write would be lost."""
    conn.execute(f"SELECT 1 FROM {TABLE} LIMIT 0").fetchall()


def _ensure_triggers(conn: sqlite3.Connection) -> None:
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    if not set(_TRIGGERS) <= names:
        with transaction(conn):
            for name, body in _TRIGGERS.items():
                conn.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")


def rebuild_fts(conn: sqlite3.Connection) -> None:
    """Refill the table from ``files`` and ``lookups`` (after a VACUUM renumbered rowids)."""
    with transaction(conn):
        conn.execute(f"DELETE FROM {TABLE}")
        conn.execute(_FILL)
