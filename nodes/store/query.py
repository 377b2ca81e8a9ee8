"""The store answers the panel's questions in SQLite: one page of records, sorted and
filtered, its total and a cursor for the next page; the counts for the filter menus.

Contract (docs/internals.md "Paged listing"):

- ``Query`` holds the filters (``q``, ``category``, ``status``, ``base_model`` and any
  column registered in ``FILTERS``), ``sort`` (a key of ``SORTS``, ``-`` prefix for
  descending), ``limit`` (1..``MAX_LIMIT``), ``offset`` and ``cursor``.
- ``q``: every whitespace-separated word must occur, case-insensitively, in the file name
  or the lookup's search text (model/version names, tags, trigger words) - like the panel's
  own search. A word of 3+ characters goes through the trigram FTS5 index when the SQLite
  has FTS5 (``fts.py``); shorter words, and every word without FTS5, use LIKE. Both give
  the same rows (tests/test_store_query.py proves it).
- A cursor is keyset paging: the sort key values and the file's rowid of the last row of a
  page. A record inserted, changed or removed elsewhere never makes a page repeat or skip
  a record that did not change. It carries no path (nothing absolute leaves the service).
- Facets: for each facet, the counts of its values under all the OTHER active filters
  (selecting a category still shows the other categories' counts), one grouped query.
  Other layers add a facet/filter (i13's ``kind``, i14's ``update``) by adding its SQL
  expression to ``FILTERS`` (and its name to ``FACETS``).
"""

import base64
import json
from dataclasses import dataclass

from .fts import TABLE as FTS_TABLE
from .records import MODEL_JOIN, like_pattern, record_columns, status_sql

DEFAULT_LIMIT = 200
# the rowids of the files one phrase matches (its parameter: _phrase(word))
_MATCHES = f"SELECT rowid AS r FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ?"
SMALL_MATCH = 2000  # a q word matching at most this many files drives a page (source())
MAX_LIMIT = 1000

# The listing reads ``files`` alone: schema 5 copies each lookup's small columns into its
# files (f.lookup_*), so the status is RECORD_COLUMNS' rule over that copy.
F_STATUS = status_sql("f.lookup_status")
_IDENTIFIED = f"({F_STATUS}) = 'identified'"
# filter name -> the SQL expression its value is compared with (exact match)
FILTERS: dict[str, str] = {
    "category": "f.folder",
    "status": F_STATUS,
    # CivitAI's base model when identified, else what the file's header says (i13)
    "base_model": f"CASE WHEN {_IDENTIFIED} THEN f.lookup_base ELSE f.detected_base END",
    "kind": "f.detected_kind",
    # "1": a newer version for the same base model is known (civitai_info.update; the
    # lookup's has_update column: schema 8), "0": not
    "update": f"CASE WHEN {_IDENTIFIED} AND f.sha256 IN (SELECT sha256 FROM lookups WHERE "
    "has_update = 1) THEN '1' ELSE '0' END",
}
FILTER_VALUES = {"update": ("0", "1")}  # filters with a closed set of values
FACETS: tuple[str, ...] = ("category", "base_model", "status", "kind")

# sort name -> the key expressions (all non-NULL, so row-value comparisons hold); "name"
# and "downloads" walk their indexes (schema 5), so a first page does not sort 100,000 rows
SORTS: dict[str, tuple[str, ...]] = {
    "file": ("f.folder", "f.name"),  # folder then relative name: the listing's old order
    # the title the panel shows: "Model — Version" when identified, else the file's name
    "name": ("COALESCE(f.lookup_title, f.sort_name)",),
    "date": ("f.mtime_ns",),
    "size": ("f.size",),
    "model": ("f.lookup_model IS NULL", "COALESCE(lower(f.lookup_model), '')"),
    "downloads": ("COALESCE(f.lookup_downloads, -1)",),
}


# The raw columns GET facets groups by, and each built-in facet's value from them (the same
# rules as F_STATUS and FILTERS, in Python: evaluating CASEs per row is the slow part).
FACET_COLUMNS = ("f.folder", "f.pending", "f.lookup_status", "f.file_error IS NOT NULL",
                 "f.lookup_base", "f.detected_base", "f.detected_kind")  # fmt: skip


def _status(r) -> str:
    _, pending, status, broken = r[:4]
    if pending == 1:
        return "pending"
    if status == "identified":
        return "identified"
    return "error" if broken else (status or "not_checked")


# the order of a facet key's values in file_tallies (schema.py tally_key)
TALLY_FACETS = ("category", "status", "base_model", "kind")

_FACET_RULES = {
    "category": lambda r: r[0],
    "status": _status,
    "base_model": lambda r: r[4] if _status(r) == "identified" else r[5],
    "kind": lambda r: r[6],
}


class BadQuery(ValueError):
    """A listing parameter is wrong; the message is a sentence for the client (HTTP 400)."""


@dataclass
class Query:
    q: str | None = None
    filters: dict | None = None  # name -> value, names from FILTERS
    sort: str = "file"
    limit: int | None = None  # None: every record (the old answer)
    offset: int = 0
    cursor: str | None = None
    include_missing: bool = False

    @classmethod
    def parse(cls, params: dict, *, paged: bool | None = None) -> "Query":
        """From request parameters (strings); raises BadQuery with a sentence."""
        filters = {k: params[k] for k in FILTERS if params.get(k)}
        for name, allowed in FILTER_VALUES.items():
            if name in filters and filters[name] not in allowed:
                raise BadQuery(f"{name} must be one of {', '.join(allowed)}.")
        limit = params.get("limit")
        if paged is None:
            paged = limit not in (None, "") or bool(params.get("cursor"))
        query = cls(q=params.get("q") or None, filters=filters,
                    sort=params.get("sort") or ("name" if paged else "file"),
                    cursor=params.get("cursor") or None)  # fmt: skip
        if paged:
            query.limit = _int(limit, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        query.offset = _int(params.get("offset"), "offset", 0, 0, None)
        if query.offset and query.cursor:
            raise BadQuery("Send either offset or cursor, not both.")
        query.check_sort()
        return query

    def check_sort(self) -> tuple[tuple[str, ...], bool]:
        name = self.sort.lstrip("-")
        if name not in SORTS or self.sort.count("-") > 1:
            raise BadQuery(f"sort must be one of {', '.join(SORTS)} (a '-' before it sorts "
                           f"descending), not {self.sort[:40]!r}.")  # fmt: skip
        return SORTS[name], self.sort.startswith("-")


class Lister:
    """The queries over one store connection (``fts``: the FTS5 tables are in place)."""

    def __init__(self, conn, fts: bool):
        self.conn, self.fts = conn, fts
        self._groups: dict = {}  # (q, include_missing, extra facets) -> _facet_groups' answer
        self._groups_at = None  # the store's version those were counted at (_version)

    def source(self, query: Query, rows: bool = False) -> tuple[str, list, str | None]:
        """The FROM clause (``files AS f``, possibly driven by the search index), its
        parameters, and the ``q`` word it already applies (give it to ``where``).

        A word of 3+ characters makes the FTS matches of the rarest such word the outer
        loop: 1 match is found in under a millisecond instead of probing 100,000 files.
        With ``rows`` (a page, the facets) only when that word matches at most
        ``SMALL_MATCH`` files: a word matching most of the library is faster the other way
        round, walking the sort index and stopping after one page, or grouping the covering
        facets index, instead of reading 90,000 table rows by rowid."""
        words = [w for w in (query.q or "").split() if self.fts and len(w) >= 3]
        if not words:
            return "files AS f", [], None
        counted = [(self._matches(w), i, w) for i, w in enumerate(words)]
        n, _, word = min(counted)
        if rows and n > SMALL_MATCH:
            return "files AS f", [], None
        return (f"({_MATCHES}) AS m CROSS JOIN files AS f ON f.rowid = m.r",
                [_phrase(word)], word)  # fmt: skip

    def matching(self, query: Query, rows: bool = False, extra=((), ())) -> tuple[str, list]:
        """``FROM … [WHERE …]`` of the files ``query`` matches (``source`` + ``where``) and
        its parameters; ``extra``: more (terms, parameters), e.g. a page's cursor."""
        source, params, driven = self.source(query, rows=rows)
        where, more = self.where(query, driven=driven)
        where, params = [*where, *extra[0]], [*params, *more, *extra[1]]
        return f"FROM {source}" + (" WHERE " + " AND ".join(where) if where else ""), params

    def _matches(self, word: str) -> int:
        """How many files ``word`` matches, counted up to SMALL_MATCH + 1."""
        sql = f"SELECT COUNT(*) FROM ({_MATCHES} LIMIT ?)"
        return self.conn.execute(sql, (_phrase(word), SMALL_MATCH + 1)).fetchone()[0]

    def where(
        self, query: Query, skip: str | None = None, driven: str | None = None
    ) -> tuple[list[str], list]:
        """WHERE terms and parameters; ``skip`` leaves one filter out (for its facet),
        ``driven`` one ``q`` word the FROM clause already applies (``source``)."""
        where, params = [], []
        if not query.include_missing:
            where.append("f.missing = 0")
        for word in (query.q or "").split():
            if word == driven:
                driven = None  # only once: "ink ink" still needs the second
                continue
            term, args = self._word(word)
            where.append(term)
            params += args
        for name, value in (query.filters or {}).items():
            if name != skip and value:
                where.append(f"({FILTERS[name]}) = ?")
                params.append(value)
        return where, params

    def _word(self, word: str) -> tuple[str, list]:
        if self.fts and len(word) >= 3:
            return f"f.rowid IN ({_MATCHES})", [_phrase(word)]
        return ("(py_lower(f.name) LIKE ? ESCAPE '\\' OR f.sha256 IN "
                "(SELECT sha256 FROM lookups WHERE search_text LIKE ? ESCAPE '\\'))",
                [like_pattern(word)] * 2)  # fmt: skip

    def rows(self, query: Query, full: bool = True) -> tuple[list, str | None]:
        """The matching rows (records.record_columns(full)) of one page, and the next page's
        cursor. ``full=False``: the brief info only (no details, no model rows read)."""
        keys, desc = query.check_sort()
        after = ((), ())
        if query.cursor:
            values = _decode_cursor(query.cursor, query.sort, len(keys))
            cols = ", ".join((*keys, "f.rowid"))
            term = f"({cols}) {'<' if desc else '>'} ({', '.join('?' * len(values))})"
            after = ((term,), values)
        matching, params = self.matching(query, rows=True, extra=after)
        order = ", ".join(f"k{i}{' DESC' if desc else ''}" for i in range(len(keys) + 1))
        inner = ", ".join(f"{k} AS k{i}" for i, k in enumerate((*keys, "f.rowid")))
        sql = f"SELECT {inner} {matching} ORDER BY {order}"
        if query.limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [query.limit + 1, query.offset]
        elif query.offset:
            sql += " LIMIT -1 OFFSET ?"
            params.append(query.offset)
        # Sort narrow rows first, then read the page's (big) columns: the sorter never
        # carries 100,000 civitai_info blobs.
        page = f"({sql}) AS page"
        sql = (f"SELECT {record_columns(full)}, page.* FROM {page} JOIN files AS f "
               f"ON f.rowid = page.k{len(keys)} LEFT JOIN lookups AS l ON l.sha256 = f.sha256 "
               f"{MODEL_JOIN if full else ''} ORDER BY {order}")  # fmt: skip
        fetched = self.conn.execute(sql, params).fetchall()
        width = len(fetched[0]) - len(keys) - 1 if fetched else 0
        nxt = None
        if query.limit is not None and len(fetched) > query.limit:
            fetched = fetched[: query.limit]
            nxt = _encode_cursor(query.sort, list(fetched[-1][width:]))
        return [r[:width] for r in fetched], nxt

    def total(self, query: Query) -> int:
        """How many records match ``query``. With menu filters only (FACETS), facets'
        ``total``: without ``q`` from the tallies (a status filter counted 100,000 files'
        statuses, ~0.1-0.5 s, for every page the panel asked), with ``q`` from its groups,
        kept until the store changes: the panel's facets for the same search, every further
        page and a changed menu then count nothing again (a word matching 90,000 files:
        ~70 ms a count)."""
        active = [k for k, v in (query.filters or {}).items() if v]
        if all(k in FACETS for k in active):
            return self.facets(query)["total"]
        matching, params = self.matching(query)
        return self.conn.execute(f"SELECT COUNT(*) {matching}", params).fetchone()[0]

    def facets(self, query: Query) -> dict:
        """``{facet: [[value, count], …]}`` (sorted by value) and ``total`` for ``query``:
        one GROUP BY over the raw columns of the ``files_facets`` index (a facet another
        layer adds to FACETS without a Python rule is grouped by its SQL expression)."""
        groups = self._facet_groups(query)
        active = {k: v for k, v in (query.filters or {}).items() if v and k in FACETS}
        index = {name: i for i, name in enumerate(FACETS)}

        def passes(row, skip=None):
            return all(row[index[k]] == v for k, v in active.items() if k != skip)

        out = {}
        for name in FACETS:
            counts: dict = {}
            for row in groups:
                value = row[index[name]]
                if value is not None and passes(row, skip=name):
                    counts[value] = counts.get(value, 0) + row[-1]
            out[name] = sorted(([v, n] for v, n in counts.items()), key=lambda e: str(e[0]))
        out["total"] = sum(row[-1] for row in groups if passes(row))
        return out

    def _facet_groups(self, query: Query) -> list[tuple]:
        """(value of each of FACETS…, count) per group of the files ``query.q`` matches."""
        extra = [n for n in FACETS if n not in _FACET_RULES]
        if not query.q and not extra:  # every file: the tallies (schema 7), no grouping
            index = {name: i for i, name in enumerate(TALLY_FACETS)}
            return [(*(r[index[n]] for n in FACETS), r[-1])
                    for r in self.tallies(query.include_missing)]  # fmt: skip
        # The groups depend on q alone (the filters are applied to them in Python): a menu
        # changed under the same search is answered from memory until the store changes.
        key, version = (query.q, query.include_missing, tuple(extra)), self._version()
        if version != self._groups_at or len(self._groups) > 16:
            self._groups, self._groups_at = {}, version
        if key not in self._groups:
            self._groups[key] = self._grouped(query, extra)
        return self._groups[key]

    def _version(self) -> tuple[int, int]:
        """Changes whenever the store does: ``data_version`` moves with every commit by any
        other connection (another process too), ``total_changes`` with this one's writes."""
        return self.conn.execute("PRAGMA data_version").fetchone()[0], self.conn.total_changes

    def _grouped(self, query: Query, extra: list[str]) -> list[tuple]:
        """One GROUP BY over the raw columns of the files ``query.q`` matches."""
        base = Query(q=query.q, include_missing=query.include_missing)
        matching, params = self.matching(base, rows=True)  # big: the covering index
        cols = ", ".join([*FACET_COLUMNS, *(f"({FILTERS[n]})" for n in extra)])
        raw = self.conn.execute(f"SELECT {cols}, COUNT(*) {matching} GROUP BY {cols}",
                                params).fetchall()  # fmt: skip
        width = len(FACET_COLUMNS)
        return [(*(_FACET_RULES[n](r) if n in _FACET_RULES else r[width + extra.index(n)]
                   for n in FACETS), r[-1]) for r in raw]  # fmt: skip

    def tallies(self, include_missing: bool = False) -> list[tuple]:
        """``(folder, status, base model, kind, n)`` for every facet key of the present files
        (and the missing ones too with ``include_missing``): the ``file_tallies`` table that
        triggers keep (schema.py 7), a few dozen rows whatever the library's size."""
        where = "" if include_missing else " WHERE missing = 0"
        rows = self.conn.execute(
            f"SELECT facet_key, SUM(n) FROM file_tallies{where} GROUP BY facet_key"
        ).fetchall()
        return [(*json.loads(key), n) for key, n in rows if n]


def _phrase(word: str) -> str:
    """``word`` as an FTS5 phrase (a quoted string: no query syntax reaches MATCH)."""
    return '"' + word.replace('"', '""') + '"'


def _int(raw, name, default, low, high) -> int:
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = None
    if value is None or value < low or (high is not None and value > high):
        span = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise BadQuery(f"{name} must be a whole number {span} (got {str(raw)[:40]!r}).")
    return value


def _encode_cursor(sort: str, values: list) -> str:
    raw = json.dumps([sort, values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str, n_keys: int) -> list:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        got_sort, values = json.loads(raw)
        ok = (got_sort == sort and isinstance(values, list) and len(values) == n_keys + 1
              and all(isinstance(v, (str, int, float)) for v in values))  # fmt: skip
    except (ValueError, TypeError):
        ok = False
    if not ok:
        raise BadQuery("cursor is not one this listing gave out for this sort; "
                       "start again without it.")  # fmt: skip
    return values
