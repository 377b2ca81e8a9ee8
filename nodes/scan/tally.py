"""What a scan works out over every file it saw: the summary's counts and errors, the files no
longer on disk, the unchanged rows whose ``last_seen`` moves. A re-scan has one stored row
per file (a ``ModelStore.known_files`` tuple) and most are unchanged, so these are passes
with ``map``/``zip``/``compress``/``countOf`` (loops in C), column by column; only the rare
row (a file problem, a lookup error) gets Python code of its own.
"""

import os
from collections import Counter
from itertools import compress, repeat
from operator import countOf, eq, itemgetter, lt, or_

from ..store import STATUSES

# a known_files tuple: path, dev, ino, size, mtime_ns, sha256, folder, name, file_error,
# missing, last_seen, header verdict stored, pending
PATH, SHA, FOLDER, PROBLEM = itemgetter(0), itemgetter(5), itemgetter(6), itemgetter(8)
MISSING, LAST_SEEN, PENDING = itemgetter(9), itemgetter(10), itemgetter(12)
_FIRST = itemgetter(0)
_NO_STATE = (None, None)


def any_pending(known: dict) -> bool:
    """Whether a stored row still has its ``pending`` flag (an interrupted scan's)."""
    return any(map(PENDING, known.values()))


def to_touch(unchanged: list, stale: str) -> list[str]:
    """The paths of the ``unchanged`` rows marked missing or last seen before ``stale``."""
    touch = map(or_, map(bool, map(MISSING, unchanged)), map(lt, map(LAST_SEEN, unchanged),
                                                             repeat(stale)))  # fmt: skip
    return list(compress(map(PATH, unchanged), touch))


def report(states, lookup_errors, files, unchanged=()) -> tuple[dict, dict, list[dict]]:
    """Counts by status and by category, and the errors, for a scan's ``files``
    (``FileUpdate``s) and ``unchanged`` rows, given every lookup's ``states`` (SHA256 →
    (status, retry_after)) and ``lookup_errors`` (SHA256 → sentence): the statuses follow
    the same rules as the store's records."""
    shas = [*(f.sha256 for f in files), *map(SHA, unchanged)]
    folders = [*(f.folder for f in files), *map(FOLDER, unchanged)]
    problems = [*(f.file_error for f in files), *map(PROBLEM, unchanged)]
    statuses = list(map(_FIRST, map(states.get, shas, repeat(_NO_STATE))))
    pairs = Counter(zip(folders, statuses, strict=True))
    errors = []
    flagged = map(or_, map(bool, problems), map(eq, statuses, repeat("error")))
    for i in compress(range(len(shas)), flagged):  # a file problem or a lookup error
        status, problem, folder = statuses[i], problems[i], folders[i]
        name = files[i].name if i < len(files) else unchanged[i - len(files)][7]
        if problem and status != "identified":
            errors.append({"folder": folder, "name": name, "error": problem})
            pairs[(folder, status)] -= 1
            pairs[(folder, "error")] += 1
        elif status == "error":
            errors.append({"folder": folder, "name": name, "error": lookup_errors.get(shas[i])})
    by_status = dict.fromkeys(STATUSES, 0)
    by_category: dict[str, dict[str, int]] = {}
    for (folder, status), n in pairs.items():
        if n:
            status = status or "not_checked"
            by_status[status] += n
            by_category.setdefault(folder, {})[status] = n
    return by_status, by_category, errors


def gone(known: dict, files, unchanged, listing, selected) -> list[str]:
    """The paths of the stored rows not marked missing, under a walked root of their
    folder, that the scan did not see (neither as a file nor as skipped)."""
    present = countOf(map(MISSING, known.values()), 0)  # the rows not marked missing
    seen = countOf(map(MISSING, unchanged), 0)  # of them, those seen (each path once)
    seen += sum(1 for f in files if (k := known.get(f.path)) is not None and not k[9])
    if seen == present:
        return []  # every present row was seen: a re-scan of an unchanged tree
    unseen = known.keys() - set(map(PATH, unchanged))
    unseen.difference_update([f.path for f in files], [s.path for s in listing.skipped])
    roots = {cat: [os.path.join(r, "") for r in listing.roots.get(cat, [])]
             for cat in selected}  # fmt: skip
    return [
        path for path in unseen  # known[path][9]: missing, [6]: folder
        if not (k := known[path])[9] and k[6] in roots
        and any(path.startswith(r) for r in roots[k[6]])
    ]  # fmt: skip
