"""Trigram FTS5 indexes for the listing's ``q`` (see query.py), kept by triggers.

``files_fts(name)`` has the rowid of its ``files`` row, ``lookups_fts(search_text)`` the
rowid of its ``lookups`` row; triggers keep them in step with every writer (the scanner,
the CLI, another process). A trigram index answers "contains this substring, ignoring
case" for words of 3+ characters, the same question the LIKE fallback answers.

Not a numbered migration: a SQLite built without FTS5 (or older than 3.34, no trigram
tokenizer) simply has no such tables and the listing uses LIKE. ``ensure_fts`` is
idempotent and fills the tables the first time they are made. Both tables are keyed by
rowid: a ``VACUUM`` may renumber the rowids of ``files``/``lookups``, so whoever vacuums
the store calls ``rebuild_fts`` after it.
"""

import sqlite3

from ...hashing import transaction

_TABLES = {  # fts table -> (source table, indexed column)
    "files_fts": ("files", "name"),
    "lookups_fts": ("lookups", "search_text"),
}


def fts_available(conn: sqlite3.Connection) -> bool:
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.cid_fts_probe USING fts5(x, tokenize='trigram')")
        conn.execute("DROP TABLE temp.cid_fts_probe")
        return True
    except sqlite3.OperationalError:
        return False


def ensure_fts(conn: sqlite3.Connection) -> bool:
    """Create the FTS tables and their triggers if missing; False without FTS5."""
    have = {r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (?, ?)", tuple(_TABLES)
    )}  # fmt: skip
    if len(have) == len(_TABLES):
        _ensure_triggers(conn)  # a rebuilt source table (schema 3) dropped its triggers
        return True
    if not fts_available(conn):
        return False
    with transaction(conn):
        for fts, (table, column) in _TABLES.items():
            if fts in have:
                for statement in _triggers(fts, table, column):
                    conn.execute(statement)
                continue
            conn.execute(
                f"CREATE VIRTUAL TABLE {fts} USING fts5({column}, tokenize='trigram', "
                "detail='full')"
            )
            for statement in _triggers(fts, table, column):
                conn.execute(statement)
            conn.execute(
                f"INSERT INTO {fts} (rowid, {column}) SELECT rowid, {column} FROM {table} "
                f"WHERE {column} IS NOT NULL"
            )
    return True


def _ensure_triggers(conn: sqlite3.Connection) -> None:
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    wanted = [(fts, table, column) for fts, (table, column) in _TABLES.items()
              if not {f"{fts}_ai", f"{fts}_ad", f"{fts}_au"} <= names]  # fmt: skip
    if wanted:
        with transaction(conn):
            for fts, table, column in wanted:
                for statement in _triggers(fts, table, column):
                    conn.execute(statement)


def rebuild_fts(conn: sqlite3.Connection) -> None:
    """Refill both tables from their sources (after a VACUUM renumbered rowids)."""
    with transaction(conn):
        for fts, (table, column) in _TABLES.items():
            conn.execute(f"DELETE FROM {fts}")
            conn.execute(
                f"INSERT INTO {fts} (rowid, {column}) SELECT rowid, {column} FROM {table} "
                f"WHERE {column} IS NOT NULL"
            )


def _triggers(fts: str, table: str, column: str) -> list[str]:
    new = f"INSERT INTO {fts} (rowid, {column}) SELECT new.rowid, new.{column} " \
          f"WHERE new.{column} IS NOT NULL"  # fmt: skip
    return [
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ai AFTER INSERT ON {table} BEGIN {new}; END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ad AFTER DELETE ON {table} BEGIN "
        f"DELETE FROM {fts} WHERE rowid = old.rowid; END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_au AFTER UPDATE OF {column} ON {table} "
        f"WHEN old.{column} IS NOT new.{column} BEGIN "
        f"DELETE FROM {fts} WHERE rowid = old.rowid; {new}; END",
    ]
