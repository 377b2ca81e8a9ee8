"""Scanner: walk model folders → classify → hash via the cache → pick lookups → ask CivitAI
→ save to the store. See docs/data-flow.md. No ComfyUI import: the caller passes the
folders (ComfyUI's folder_paths, or the CLI's directory) and owns the client's lifetime.
"""

import asyncio
import contextlib
import logging
import os
import time

from ...civitai import DEFAULT_WEB_BASE, IDENTIFY_MODES
from ...hashing import FileIdentity, identity_key
from ..store import FileUpdate, iso, utc_now
from .beside import nsfw_limit, write_previews
from .discover import Entry, Listing, list_models
from .hash_step import (
    CLASSIFIED_EXTENSIONS,
    EMPTY_FILE,
    classify_entries,
    file_problem,
    hash_entries,
    hash_one,
    in_worker,
)
from .lookup_step import LookupRunner, ScanCancelled
from .progress import ScanProgress
from .sidecars import has_sidecar, read_sidecar_info
from .stream import LookupFeed
from .tally import any_pending, gone, report, to_touch

_log = logging.getLogger(__name__)

TOUCH_AFTER_SECONDS = 3600


class Scanner:
    """``folders`` maps a ComfyUI folder name (or "other") to its directories.
    ``write_sidecars``: write ``<stem>.civitai.info`` next to newly identified files.
    ``web_base``: the site of links built from sidecars (default: the client's
    ``settings.web_base``, else civitai.com)."""

    def __init__(self, store, cache, client, folders, *, write_sidecars=False, web_base=None,
                 write_previews=False, preview_nsfw=None):  # fmt: skip
        self.store, self.cache, self.client = store, cache, client
        self.folders = {k: list(v) for k, v in folders.items()}
        self.write_sidecars = write_sidecars
        self.write_previews = write_previews  # previews.py; preview_nsfw: "PG-13" by default
        self.preview_limit = nsfw_limit(preview_nsfw)
        settings = getattr(client, "settings", None)
        self.web_base = web_base or getattr(settings, "web_base", None) or DEFAULT_WEB_BASE

    def _selected(self, folders) -> dict[str, list[str]]:
        if folders is None or folders == "all":
            return self.folders
        if isinstance(folders, dict):
            return {k: list(v) for k, v in folders.items()}
        unknown = [f for f in folders if f not in self.folders]
        if unknown:
            raise ValueError(f"Unknown model folder(s): {', '.join(map(str, unknown))}.")
        return {k: self.folders[k] for k in folders}

    async def scan(
        self, folders=None, identify="other", retry_unknown=False, progress=None, cancel=None,
        *, within=None, listing=None,
    ) -> dict:  # fmt: skip
        """Scan and return the summary dict (see ``_summary``). Never raises for a bad file:
        it lands in ``summary["skipped"]`` or as a record with status error. ``cancel()``
        is polled between files and blocks; a cancelled scan returns ``cancelled: True``.
        ``within``: only files under that directory (see ``list_models``); ``listing``: a
        ``list_models`` result made beforehand for the same folders (the CLI prints it)."""
        if identify not in IDENTIFY_MODES:
            raise ValueError(f"identify must be one of {IDENTIFY_MODES}, not {identify!r}.")
        started, t0 = utc_now(), time.monotonic()
        calls_before = getattr(self.client, "calls", 0) if self.client else 0
        tracker = ScanProgress(progress)
        selected = self._selected(folders)
        # the stored rows, then the listing (a thread) compares each file with its row as it
        # walks: an unchanged file is one stat, a get and a compare (run side by side, the
        # two only fight over the GIL and end later than one after the other)
        known = self.store.known_files()
        if any_pending(known):
            self.store.set_pending(None, False)  # stale flags from an interrupted scan
        if listing is None:
            listing = await asyncio.to_thread(list_models, selected, cancel, within, known)
        for s in listing.skipped:
            _log.warning("skipped %s: %s", s.path, s.reason)
        totals = {"bytes_hashed": 0, "files_hashed": 0, "from_sidecars": 0}

        unchanged = list(listing.unchanged)  # known_files tuples (a given listing has none)
        with_sidecar = set(listing.unchanged_beside)
        changed, to_hash, from_cache = [], [], []
        to_classify = []  # new or changed content, or no stored verdict yet
        get, file_row, lookup = known.get, self.store.file_row, self.cache.lookup
        for e in listing.entries:  # new or changed (or a listing made beforehand: every file)
            st, path = e.st, e.path
            ident = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
            k = get(path)  # a known_files tuple: path, identity, sha256, folder, name, …
            if e.has_sidecar:
                with_sidecar.add(path)
            if k is not None and k[1:5] != ident:
                ident = identity_key(ident)  # inodes ≥ 2**63 are stored folded
            same = k is not None and k[1:5] == ident
            if not (same and k[11]) and path.lower().endswith(CLASSIFIED_EXTENSIONS):
                to_classify.append(e)
            if same and k[5]:
                if k[6] == e.folder and k[7] == e.name:
                    unchanged.append(k)  # a FileRow only where one is needed
                else:
                    row = file_row(k)
                    changed.append(FileUpdate(path, e.folder, e.name, ident, row.hashes,
                                              row.file_error))  # fmt: skip
                continue
            ident = identity_key(ident)
            if st.st_size == 0:  # nothing to hash or look up: an error record
                changed.append(FileUpdate(path, e.folder, e.name, ident, None, EMPTY_FILE))
                continue
            hashes = lookup(FileIdentity(*ident))
            if hashes:
                from_cache.append(FileUpdate(path, e.folder, e.name, ident, dict(hashes)))
            else:
                to_hash.append(e)
        # not read now (renamed, or hashed by `hash`): checked as a fresh hash would be
        if from_cache:
            changed += await asyncio.to_thread(_checked, from_cache)
        # last_seen of an unchanged file moves at most hourly: a re-scan writes nothing
        stale = iso(started - TOUCH_AFTER_SECONDS)
        self.store.touch_files(to_touch(unchanged, stale), started)
        # what each new or changed file is, from its header: cheap, and before the hashing
        totals["files_classified"] = await classify_entries(
            to_classify, self.store, cancel, started, checked=True
        )
        self.store.save_files(changed, started)

        tracker.phase("hashing", files_total=len(to_hash),
                      bytes_total=sum(e.st.st_size for e in to_hash))  # fmt: skip
        runner = LookupRunner(self.store, self.cache, self.client, tracker, cancel,
                              write_sidecars=self.write_sidecars)  # fmt: skip
        # lookups while hashing goes on (stream.py): small files of looked-up folders first
        feed = LookupFeed(self, listing, with_sidecar, identify, retry_unknown, runner, totals)
        to_hash.sort(key=lambda e: (not feed.folder_looked_up(e.folder), e.st.st_size))
        # offline, the feed only reads sidecars: rows only for the files with one
        beside = unchanged if feed.lookups else _with_paths(unchanged, with_sidecar)
        feed.add([*map(file_row, beside), *changed])
        lookups = asyncio.ensure_future(feed.run())
        try:
            hashed, skipped, cancelled = await hash_entries(
                to_hash, self.cache, self.store, tracker, cancel, totals, on_file=feed.add,
                on_pause=feed.pause,
            )  # fmt: skip
        except BaseException:
            await _stop(lookups)
            raise
        feed.close()
        skipped = listing.skipped + skipped
        files = changed + hashed  # FileUpdates; unchanged: known_files tuples
        if cancelled:
            await _stop(lookups)
        else:
            asked = len(feed.wanted) if self.client is not None else 0
            tracker.phase("looking_up", current=None, lookups_total=asked)
            try:
                await lookups
            except ScanCancelled:
                cancelled = True
        missing = (
            [] if cancelled else self._mark_missing(known, files, unchanged, listing, selected)
        )
        previews = {"written": 0}
        if self.write_previews and self.client is not None and not cancelled:
            tracker.phase("previews", current=None)
            previews = await write_previews(self.store, self.client,
                                            [*map(file_row, unchanged), *files],
                                            self.preview_limit, cancel)  # fmt: skip
        tracker.phase("done", current=None)
        calls = (getattr(self.client, "calls", 0) if self.client else 0) - calls_before
        by_status, by_category, errors = self._report(files, unchanged)
        with_update = self.store.with_update()
        summary = {
            "identify": identify,
            "files_total": len(unchanged) + len(files),
            "files_hashed": totals["files_hashed"],
            "files_classified": totals["files_classified"],
            "bytes_hashed": totals["bytes_hashed"] + runner.totals["bytes_hashed"],
            "lookups": {k: v for k, v in runner.totals.items() if k != "bytes_hashed"},
            "from_sidecars": totals["from_sidecars"],
            "calls": calls,
            "by_status": by_status,
            "by_category": by_category,
            "errors": errors,
            "skipped": [s.to_json() for s in skipped],
            "missing": len(missing),
            "updates": sum(1 for f in files if f.sha256 and f.sha256 in with_update)
            + (sum(1 for k in unchanged if k[5] in with_update) if with_update else 0),
            "previews": previews["written"],
            "cancelled": cancelled,
            "started_at": iso(started),
            "duration_seconds": round(time.monotonic() - t0, 3),
        }
        _log.info(
            "scan %s: %s, %d hashed (%s), %s, %s; %d skipped, %s",
            "cancelled" if cancelled else "done", _count(summary["files_total"], "file"),
            totals["files_hashed"], _count(summary["bytes_hashed"], "byte"),
            _count(calls, "API call"), _counts_text(by_status), len(skipped),
            _count(len(errors), "error"),
        )  # fmt: skip
        return summary

    async def _read_sidecars(self, files, listing, states) -> int:
        todo = [
            f for f in files
            if f.sha256 and states.get(f.sha256, (None,))[0] != "identified"
        ]  # fmt: skip
        found = 0
        for f in todo:
            names = listing.dir_names.get(os.path.dirname(f.path))
            info = await asyncio.to_thread(
                read_sidecar_info, f.path, f.hashes, names, web_base=self.web_base
            )
            if info is not None:
                self.store.save_outcome(f.hashes["SHA256"], "identified", info,
                                        matched_by="sidecar")  # fmt: skip
                states[f.hashes["SHA256"]] = ("identified", None)
                found += 1
        return found

    def _report(self, files, unchanged=()) -> tuple[dict, dict, list[dict]]:
        """Counts by status and by category, and the errors (tally.report)."""
        return report(self.store.lookup_states(), self.store.lookup_errors(), files, unchanged)

    def _mark_missing(self, known, files, unchanged, listing, selected) -> list[str]:
        missing = gone(known, files, unchanged, listing, selected)
        if missing:
            self.store.mark_missing(missing)
            _log.info("%d file(s) no longer on disk: marked missing", len(missing))
        return missing

    async def hashed_file(self, folder: str, name: str, tracker, cancel=None) -> FileUpdate:
        """The file ``folder``/``name`` with its hashes, saved in the store: read only when
        neither its stored row (same identity) nor the hash cache has them. An empty file
        comes back with ``hashes`` None and its error. FileNotFoundError as ``identify``."""
        path = self._resolve(folder, name)
        st = await asyncio.to_thread(os.stat, path)
        identity = FileIdentity.from_stat(st)
        ident = identity.key
        row = self.store.get_file(folder, name)
        problem = None
        if st.st_size == 0:
            empty = FileUpdate(path, folder, name, ident, None, EMPTY_FILE)
            self.store.save_files([empty])
            return empty
        if row and row.path == path and row.identity == ident and row.hashes:
            hashes, problem = row.hashes, row.file_error
        else:
            hashes = self.cache.lookup(identity)
            if hashes:
                problem = await asyncio.to_thread(file_problem, path, st.st_size)
            else:
                tracker.phase("hashing", files_total=1, bytes_total=st.st_size,
                              current=f"{folder}/{name}")  # fmt: skip
                result, problem = await in_worker(hash_one, self.cache, path, st.st_size,
                                                  autov3=False, progress=tracker.bytes_progress,
                                                  cancel=cancel)  # fmt: skip
                hashes, ident = result.hashes, result.identity.key
                tracker.file_finished(st.st_size)
        f = FileUpdate(path, folder, name, ident, dict(hashes), problem)
        await classify_entries([Entry(folder, name, path, st)], self.store)
        self.store.save_files([f])
        return f

    async def identify(
        self, folder: str, name: str, force=False, progress=None, cancel=None
    ) -> dict:
        """Hash (if needed) and look up one file; return its record. Without ``force`` an
        identified file, or a known-unknown within its retry date, makes no API call.
        Raises FileNotFoundError (a sentence) when no such file exists; HashCancelledError
        when ``cancel()`` turned true (or the task was cancelled) during the read."""
        tracker = ScanProgress(progress)
        f = await self.hashed_file(folder, name, tracker, cancel)
        if not f.hashes:  # an empty file: saved with its error, nothing to ask
            tracker.phase("done")
            return self.store.get_record(folder, name)
        path, hashes = f.path, f.hashes
        sha = hashes["SHA256"]
        listing = Listing(dir_names={})
        if self.store.lookup_state(sha) is None and has_sidecar(path):
            await self._read_sidecars([f], listing, {})
        status, retry_after = self.store.lookup_state(sha) or (None, None)
        within_retry = status == "unknown" and (retry_after or "") > iso(utc_now())
        if self.client is not None and (force or not (status == "identified" or within_retry)):
            tracker.phase("looking_up", lookups_total=1)
            self.store.set_pending([sha])
            runner = LookupRunner(self.store, self.cache, self.client, tracker,
                                  write_sidecars=self.write_sidecars)  # fmt: skip
            try:
                await runner.run({sha: [f]})
            finally:
                self.store.set_pending([sha], False)
        tracker.phase("done")
        return self.store.get_record(folder, name)

    def _resolve(self, folder: str, name: str) -> str:
        row = self.store.get_file(folder, name)
        if row and os.path.isfile(row.path):
            return row.path
        parts = name.split("/")
        if name.startswith("/") or ".." in parts:
            raise FileNotFoundError(f"Not a model name: {name!r}.")
        for root in self.folders.get(folder, []):
            candidate = os.path.join(root, *parts)
            if os.path.isfile(candidate):
                return candidate
        raise FileNotFoundError(f"No model file {folder}/{name} was found.")


def _with_paths(rows: list[tuple], paths: set) -> list[tuple]:
    """The known_files tuples among ``rows`` whose path is in ``paths``."""
    return [k for k in rows if k[0] in paths] if paths else []


def _checked(updates: list[FileUpdate]) -> list[FileUpdate]:
    return [
        FileUpdate(u.path, u.folder, u.name, u.identity, u.hashes,
                   file_problem(u.path, u.identity[2]))
        for u in updates
    ]  # fmt: skip


async def _stop(task) -> None:
    """Cancel the lookup task and wait for it (its answers so far stay saved)."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, ScanCancelled):
        await task


def _count(n: int, noun: str) -> str:
    """``1 error``, ``2 errors``, ``0 errors``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _counts_text(by_status: dict) -> str:
    return ", ".join(f"{n} {s}" for s, n in by_status.items() if n) or "no files"
