"""The scanner's lookup step: ask CivitAI about SHA256s, save each answer as it arrives, and
fall back to AutoV3 for the SHA256s CivitAI doesn't know (a safetensors file whose header was
rewritten keeps its AutoV3). An error is saved as an error (retried next scan), never as
unknown.
"""

import asyncio
import contextlib
import logging

from ...hashing import HashCancelledError, HashingError, is_safetensors_name
from ..store import FileUpdate
from .hash_step import in_worker
from .sidecars import write_civitai_info

_log = logging.getLogger(__name__)


class ScanCancelled(Exception):
    """Raised inside the lookup step when the caller's ``cancel()`` turned true."""


async def cancellable(coro, cancel, poll: float = 0.1):
    """Await ``coro``; cancel it (and raise ScanCancelled) when ``cancel()`` turns true.
    Outcomes saved before that stay saved."""
    task = asyncio.ensure_future(coro)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=None if cancel is None else poll)
            if done:
                return task.result()
            if cancel():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                raise ScanCancelled()
    except asyncio.CancelledError:
        task.cancel()
        raise


def _can_autov3(files: list[FileUpdate]) -> bool:
    """True when a file has an AutoV3, or may have one (a safetensors file whose AutoV3 was
    skipped: the key is absent). Other files are saved as unknown at once."""
    for f in files:
        hashes = f.hashes or {}
        if hashes.get("AutoV3"):
            return True
        if "AutoV3" not in hashes and is_safetensors_name(f.path):
            return True
    return False


class LookupRunner:
    """One scan's (or one identify's) lookups. ``totals`` collects the summary figures."""

    def __init__(self, store, cache, client, tracker, cancel=None, *, write_sidecars=False):
        self.store, self.cache, self.client = store, cache, client
        self.tracker, self.cancel = tracker, cancel
        self.write_sidecars = write_sidecars
        self.totals = {"identified": 0, "unknown": 0, "errors": 0, "autov3_identified": 0,
                       "bytes_hashed": 0}  # fmt: skip

    async def run(self, files_by_sha: dict[str, list[FileUpdate]]) -> None:
        """Look up every SHA256 in ``files_by_sha`` (one client call; it batches by 100)."""
        if not files_by_sha:
            return
        await self.run_stream(_one(list(files_by_sha)), files_by_sha)

    async def run_stream(self, batches, files_by_sha: dict[str, list[FileUpdate]]) -> None:
        """Look up the SHA256s ``batches`` (an async iterator of lists) yields, as they come
        (``client.lookup_stream``); ``files_by_sha`` may grow meanwhile (it is read when an
        answer lands). The AutoV3 fallback runs once, after the last batch."""
        deferred: dict[str, list[FileUpdate]] = {}
        handled: set[str] = set()

        def on_outcome(outcome) -> None:
            sha = outcome.hash.upper()
            if sha in handled:
                return
            handled.add(sha)
            self.tracker.lookup_done()
            files = files_by_sha.get(sha, [])
            if outcome.status == "unknown" and _can_autov3(files):
                deferred[sha] = files  # saved after the AutoV3 fallback
                return
            self._save(sha, outcome, files)

        try:
            outcomes = await cancellable(self._lookup(batches, on_outcome), self.cancel)
        except (ScanCancelled, asyncio.CancelledError):
            raise
        except Exception as exc:  # noqa: BLE001 - a client bug must not lose the scan
            message = _unexpected("lookup", exc)
            outcomes = {sha: _Failed(sha, message) for sha in files_by_sha if sha not in handled}
        for outcome in (outcomes or {}).values():
            on_outcome(outcome)  # any the client did not report through on_outcome
        if deferred:
            await self._autov3_fallback(deferred)

    async def _lookup(self, batches, on_outcome):
        stream = getattr(self.client, "lookup_stream", None)
        if stream is not None:  # each answer saved by on_outcome, then released (keep)
            return await stream(batches, on_outcome=on_outcome, keep=False)
        # a client with only ``lookup`` (a wrapper): everything in one call at the end
        hashes = [h async for batch in batches for h in batch]
        return await self.client.lookup(hashes, on_outcome=on_outcome)

    def _save(self, sha: str, outcome, files, matched_by=None) -> None:
        info = outcome.civitai_info
        if outcome.status == "identified" and matched_by and info is not None:
            info = {**info, "matched_by": matched_by}
        self.store.save_outcome(
            sha,
            outcome.status,
            info,
            outcome.error,
            error_kind=outcome.error_kind,
            matched_by=matched_by,
        )
        key = {"identified": "identified", "unknown": "unknown"}.get(outcome.status, "errors")
        self.totals[key] += 1
        if outcome.status == "error":
            _log.warning("lookup failed for %s: %s", sha[:10], outcome.error)
        if outcome.status == "identified" and self.write_sidecars and info is not None:
            for f in files:
                write_civitai_info(f.path, info, f.hashes or {})

    async def _autov3_fallback(self, deferred: dict[str, list[FileUpdate]]) -> None:
        """Ask CivitAI by AutoV3 for the SHA256s it did not know. Several SHA256s may share
        one AutoV3 (same tensors, other metadata): every one of them gets the answer. An
        unexpected error here is that SHA256's error, as in the bulk step."""
        by_v3: dict[str, list[str]] = {}
        for sha, files in deferred.items():
            try:
                autov3 = await self._autov3_for(files)
            except (ScanCancelled, asyncio.CancelledError):
                raise
            except Exception as exc:  # noqa: BLE001 - one file's trouble, not the scan's
                self._save(sha, _Failed(sha, _unexpected("AutoV3 step", exc)), files)
                continue
            if autov3:
                by_v3.setdefault(autov3.upper(), []).append(sha)
            else:
                self._save(sha, _Unknown(sha), files)
        if not by_v3:
            return
        _log.info("%d file(s) unknown by SHA256: trying AutoV3", len(deferred))
        self.tracker.update(lookups_total=self.tracker.snapshot()["lookups_total"] + len(by_v3))
        try:
            outcomes = await cancellable(self.client.lookup(list(by_v3)), self.cancel)
        except (ScanCancelled, asyncio.CancelledError):
            raise
        except Exception as exc:  # noqa: BLE001 - a client bug must not lose the scan
            message = _unexpected("AutoV3 lookup", exc)
            outcomes = {v3: _Failed(v3, message) for v3 in by_v3}
        for v3, shas in by_v3.items():
            outcome = outcomes.get(v3) or next(
                (o for k, o in outcomes.items() if k.upper() == v3), None
            )
            if outcome is None:
                continue  # not answered: stays without a lookup, retried next scan
            self.tracker.lookup_done()
            for sha in shas:
                if outcome.status == "identified":
                    self.totals["autov3_identified"] += 1
                    self._save(sha, outcome, deferred[sha], matched_by="AutoV3")
                else:
                    self._save(sha, outcome, deferred[sha])

    async def _autov3_for(self, files: list[FileUpdate]) -> str | None:
        """The AutoV3 of the first file that has (or can compute) one: a second read."""
        for f in files:
            hashes = f.hashes or {}
            if "AutoV3" in hashes:
                if hashes["AutoV3"]:
                    return hashes["AutoV3"]
                continue
            if self.cancel is not None and self.cancel():
                raise ScanCancelled()
            try:
                result = await in_worker(
                    self.cache.get_or_hash, f.path, autov3=True, cancel=self.cancel
                )
            except HashCancelledError as exc:
                raise ScanCancelled() from exc
            except (HashingError, OSError) as exc:
                _log.warning("cannot compute AutoV3 of %s: %s", f.path, exc)
                continue
            self.totals["bytes_hashed"] += result.bytes_read
            self.store.save_files([FileUpdate(f.path, f.folder, f.name,
                                              result.identity.key, dict(result.hashes),
                                              f.file_error)])  # fmt: skip
            if result.hashes.get("AutoV3"):
                return result.hashes["AutoV3"]
        return None


async def _one(batch: list[str]):
    yield batch


def _unexpected(step: str, exc: Exception) -> str:
    _log.error("%s failed: %s: %s", step, type(exc).__name__, exc)
    return f"The {step} failed unexpectedly ({type(exc).__name__}); the next scan retries it."


class _Failed:
    status, civitai_info, error_kind = "error", None, "bad_response"

    def __init__(self, sha, error):
        self.hash, self.error = sha, error


class _Unknown:
    status, civitai_info, error, error_kind = "unknown", None, None, None

    def __init__(self, sha):
        self.hash = sha
