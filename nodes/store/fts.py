"""The trigram FTS5 index for the listing's ``q`` (see query.py), kept by triggers.

One table, ``files_search(name, search)``, one row per ``files`` row under the same rowid:
the file's name and its lookup's ``search_text`` (model/version names, tags, trigger
words). So a word is one MATCH that yields file rowids, even when 90,000 records match it;
the page, its total and the facets then walk ``files`` alone. (Two tables, names and
lookups, cost ~0.4 s at 100,000 records: every matching lookup was mapped back to its files
through their SHA256.) Triggers on ``files`` and on ``lookups`` keep it in step with every
writer (the scanner, the CLI, another process). A trigram index answers "contains this
substring, ignoring case" for words of 3+ characters, the same question the LIKE fallback
answers; a phrase never spans the two columns, as a word never spans the name and the
search text in LIKE.

The index keeps no copy of the text (FTS5 external content, read from the view
``files_search_source``; the copy was ~9 MB at 100,000 files). So a trigger takes a row out
with FTS5's 'delete' and the very values the row went in with: the old name, the search
text of the old SHA256's lookup, the lookup's old text. tests/test_store_search.py runs
FTS5's integrity-check against the view after every kind of write.

Not a numbered migration: a SQLite built without FTS5 (or older than 3.34, no trigram
tokenizer) simply has no such table and the listing uses LIKE. ``ensure_fts`` is
idempotent, fills the table the first time it is made and drops the older indexes it
replaces (``files_fts`` + ``lookups_fts``; ``files_search_fts``, schema 7's, which held a
copy of its text). Keyed by rowid: a ``VACUUM`` may renumber the rowids of ``files``, so
whoever vacuums the store calls ``rebuild_fts`` after.
"""

import sqlite3

from ...hashing import transaction

TABLE = "files_search"
SOURCE = "files_search_source"  # the view the index reads its text from (external content)
_OLD_TABLES = ("files_fts", "lookups_fts", "files_search_fts")  # indexes this one replaced
_SEARCH_OF = "(SELECT search_text FROM lookups WHERE sha256 = {}.sha256)"


def _add(rowid: str, name: str, search: str) -> str:
    return f"INSERT INTO {TABLE} (rowid, name, search) VALUES ({rowid}, {name}, {search});"


def _drop(rowid: str, name: str, search: str) -> str:
    """FTS5's 'delete' for external content: given the very values once indexed."""
    return (f"INSERT INTO {TABLE} ({TABLE}, rowid, name, search) "
            f"VALUES ('delete', {rowid}, {name}, {search});")  # fmt: skip


def _refile(sha: str, old: str, new: str) -> str:
    """Every file whose SHA256 is ``sha``: out with search text ``old``, in with ``new``."""
    return (f"INSERT INTO {TABLE} ({TABLE}, rowid, name, search) "
            f"SELECT 'delete', rowid, name, {old} FROM files WHERE sha256 = {sha}; "
            f"INSERT INTO {TABLE} (rowid, name, search) "
            f"SELECT rowid, name, {new} FROM files WHERE sha256 = {sha};")  # fmt: skip


_TRIGGERS = {  # name -> body; what each writes out is what was written in (see ensure_fts)
    f"{TABLE}_files_ai": "AFTER INSERT ON files BEGIN "
    f"{_add('new.rowid', 'new.name', _SEARCH_OF.format('new'))} END",
    f"{TABLE}_files_ad": "AFTER DELETE ON files BEGIN "
    f"{_drop('old.rowid', 'old.name', _SEARCH_OF.format('old'))} END",
    f"{TABLE}_files_au": "AFTER UPDATE OF name, sha256 ON files "
    "WHEN old.name IS NOT new.name OR old.sha256 IS NOT new.sha256 BEGIN "
    f"{_drop('old.rowid', 'old.name', _SEARCH_OF.format('old'))} "
    f"{_add('new.rowid', 'new.name', _SEARCH_OF.format('new'))} END",
    f"{TABLE}_lookups_ai": "AFTER INSERT ON lookups WHEN new.search_text IS NOT NULL "
    f"BEGIN {_refile('new.sha256', 'NULL', 'new.search_text')} END",
    f"{TABLE}_lookups_au": "AFTER UPDATE OF search_text ON lookups "
    "WHEN old.search_text IS NOT new.search_text BEGIN "
    f"{_refile('new.sha256', 'old.search_text', 'new.search_text')} END",
    f"{TABLE}_lookups_ad": "AFTER DELETE ON lookups WHEN old.search_text IS NOT NULL "
    f"BEGIN {_refile('old.sha256', 'old.search_text', 'NULL')} END",
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
            "(name LIKE 'files_fts_%' OR name LIKE 'lookups_fts_%' "
            "OR name LIKE 'files_search_fts_%')"
        ).fetchall():
            conn.execute(f"DROP TRIGGER {name}")
        if TABLE not in tables:
            conn.execute(f"CREATE VIEW IF NOT EXISTS {SOURCE} (id, name, search) AS "
                         "SELECT f.rowid, f.name, l.search_text FROM files AS f "
                         "LEFT JOIN lookups AS l ON l.sha256 = f.sha256")  # fmt: skip
            conn.execute(f"CREATE VIRTUAL TABLE {TABLE} USING fts5(name, search, "
                         f"content='{SOURCE}', content_rowid='id', tokenize='trigram', "
                         "detail='full', columnsize=0)")  # fmt: skip
            conn.execute(f"INSERT INTO {TABLE} ({TABLE}) VALUES ('rebuild')")
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
    """Index ``files`` and ``lookups`` anew (after a VACUUM renumbered rowids)."""
    with transaction(conn):
        conn.execute(f"INSERT INTO {TABLE} ({TABLE}) VALUES ('rebuild')")
