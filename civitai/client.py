"""CivitaiClient: hashes in, one LookupOutcome per hash out, in as few calls as possible."""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterable, Callable, Iterable

from .config import Settings, load_settings
from .constants import BREAKER_FAILURES, BULK_LIMIT, MODELS_LIMIT, OUTAGE_REQUESTS
from .errors import AuthError, CivitaiError, NotFoundError, as_sentence
from .http import HttpCaller
from .info import build_civitai_info, slim_model
from .limiter import SpacingLimiter
from .mapping import (
    is_hash,
    is_sha256,
    map_bulk,
    map_ids,
    matched_kind,
    models_by_id,
    newest_version_id,
    normalize,
)
from .outcome import LookupOutcome
from .responses import expect

log = logging.getLogger(__name__)
DOWN = "CivitAI appears to be down; try again later."


class CivitaiClient:
    """Async CivitAI client for one event loop (``async with CivitaiClient(...) as c:``).

    ``lookup`` sends full SHA256s (64 hex) in bulk batches of ≤ 100, every other hash kind
    one GET each, then fetches the parent models (tags, creator, description, stats) in
    batches of ≤ 100 ids. If a models call fails the versions are still "identified", with
    the model-level fields empty (tags [], creator None, description None). After
    ``BREAKER_FAILURES`` failed calls in a row (or one auth failure) the rest is marked
    error without asking. Every request goes through ``limiter`` (one per process).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        limiter: SpacingLimiter | None = None,
        session=None,
    ):
        self.settings = settings or load_settings()
        self.limiter = limiter or SpacingLimiter(self.settings.interval)
        self._http = HttpCaller(self.settings, self.limiter, session)

    @property
    def calls(self) -> int:
        return self._http.calls

    async def __aenter__(self) -> CivitaiClient:
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.close()

    def __repr__(self) -> str:
        return f"CivitaiClient({self.settings!r})"

    async def lookup(
        self, hashes: Iterable[str], *, on_outcome: Callable | None = None
    ) -> dict[str, LookupOutcome]:
        """One outcome per input hash, keyed exactly as given, in input order.

        ``on_outcome(outcome)`` (sync or async) is called for each outcome as its batch
        resolves: unknowns and errors right after their call, identified ones after their
        parent models arrived.
        """
        return await self.lookup_stream(_one(list(hashes)), on_outcome=on_outcome)

    async def lookup_stream(
        self,
        batches: AsyncIterable[Iterable[str]],
        *,
        on_outcome: Callable | None = None,
        keep: bool = True,
    ) -> dict[str, LookupOutcome]:
        """``lookup`` for hashes that arrive while it runs (a scan still hashing): each
        batch from ``batches`` is sent as it comes (SHA256s in bulk calls of ≤ 100, so a
        batch of ≤ 100 is one call); parent models are still fetched in full batches of ≤ 100
        ids across batches, the rest after the last one, and other hash kinds after the last
        batch: the same calls as one ``lookup`` of every hash when each batch but the last
        holds 100 SHA256s. A batch with a true ``settle`` attribute (the scan's early batch
        when hashing pauses) also has its parent models fetched at once, however few. A hash
        already seen in an earlier batch is not asked again. ``keep=False`` (with
        ``on_outcome``): no outcome is kept for the return value (it is ``{}``), so a scan of
        100,000 files never holds every answer at once: each goes to ``on_outcome`` and is
        released."""
        run = _Run(self, on_outcome, keep or on_outcome is None)
        self._http.failed_in_row = 0  # each lookup call (one per scan) has its outage budget
        given: list[str] = []
        later: list[str] = []  # not SHA256: one GET each, after the bulk calls
        async for batch in batches:
            norms = []
            for key in dict.fromkeys(batch):
                norm = normalize(key)
                if norm in run.asked:  # asked in an earlier batch (as this or another key)
                    continue
                given.append(key)
                if norm not in run.keys:
                    norms.append(norm)
                run.keys.setdefault(norm, []).append(key)
            run.asked.update(norms)
            for norm in (n for n in norms if not is_hash(n)):
                await run.emit_error(
                    norm, f"{norm or 'empty'!r} is not a CivitAI hash.", "invalid_hash"
                )
            sha = [n for n in norms if is_sha256(n)]
            later += [n for n in norms if is_hash(n) and not is_sha256(n)]
            for start in range(0, len(sha), BULK_LIMIT):
                await run.bulk(sha[start : start + BULK_LIMIT])
                await run.flush_models(final=False)
            if getattr(batch, "settle", False):  # its answers now: models of < 100 ids too
                await run.flush_models(final=True)
        for norm in later:
            await run.single(norm)
            await run.flush_models(final=False)
        await run.flush_models(final=True)
        if not run.keep:
            return {}
        return {key: run.results[key] for key in given}  # in the order given

    async def link(self, model_id: int | None, version_id: int | None) -> tuple[dict, list]:
        """For a file linked by hand: ``(civitai_info, [sizeKB of each of the version's
        files])``, ``matched_by`` "manual". ``version_id`` None → the model's newest
        published version. One version request and its model (a model URL without a version
        asks the model first). Raises NotFoundError (a sentence) for an id CivitAI does not
        have, another CivitaiError when it cannot answer."""
        model = None
        if version_id is None:
            model = await self._get_one(f"models/{model_id}", "model", model_id)
            version_id = newest_version_id(model)
            if version_id is None:
                raise NotFoundError(f"CivitAI model {model_id} has no published version.")
        version = await self._get_one(f"model-versions/{version_id}", "model version", version_id)
        owner = version.get("modelId")
        if model_id is not None and isinstance(owner, int) and owner != model_id:
            raise NotFoundError(
                f"Version {version_id} belongs to CivitAI model {owner}, not to {model_id}."
            )
        if model is None and isinstance(owner, int):
            model = await self._get_one(f"models/{owner}", "model", owner)
        info = build_civitai_info(version, model, "manual", web_base=self.settings.web_base)
        files = version.get("files") if isinstance(version.get("files"), list) else []
        sizes = [f.get("sizeKB") for f in files if isinstance(f, dict)]
        return info, [s for s in sizes if isinstance(s, (int, float)) and not isinstance(s, bool)]

    async def fetch_image(self, url: str, *, max_bytes: int) -> bytes:
        """A preview image's bytes, through this client's session (HttpCaller.get_image)."""
        return await self._http.get_image(url, max_bytes=max_bytes)

    async def _get_one(self, path: str, what: str, ident) -> dict:
        try:
            data = await self._http.request_json("GET", self._http.url(path), note=f"1 {what}")
        except NotFoundError as exc:
            raise NotFoundError(f"CivitAI has no {what} {ident}.", status=404) from exc
        return expect(data, dict, f"a {what}")


async def _one(batch: list[str]):
    yield batch


class _Run:
    """The state of one ``lookup`` call."""

    def __init__(self, client: CivitaiClient, on_outcome, keep: bool = True):
        self.client, self.keep = client, keep
        self.http = client._http
        self.on_outcome = on_outcome
        self.keys: dict[str, list[str]] = {}  # normalised hash → the keys as given
        self.asked: set[str] = set()  # normalised hashes of the batches before this one
        self.results: dict[str, LookupOutcome] = {}
        self.pending: list[tuple[str, dict, str]] = []  # (hash, version, matched_by)
        self.models: dict[int, dict | None] = {}  # None = asked, not got
        self.failures = 0
        self.tripped: CivitaiError | None = None

    # --- outcomes ------------------------------------------------------------------
    async def emit(self, norm: str, make: Callable[[str], LookupOutcome]) -> None:
        for key in self.keys[norm]:
            outcome = make(key)
            if self.keep:
                self.results[key] = outcome
            if self.on_outcome is not None:
                result = self.on_outcome(outcome)
                if inspect.isawaitable(result):
                    await result

    async def emit_error(self, norm: str, message: str, kind: str) -> None:
        await self.emit(norm, lambda k: LookupOutcome.failed(k, message, kind))

    async def fail_all(self, norms: Iterable[str], exc: CivitaiError) -> None:
        for norm in norms:
            await self.emit_error(norm, str(exc), exc.kind)

    def failed(self, exc: CivitaiError) -> None:
        """Count a failed call; trip the breaker after several in a row (auth: at once)."""
        self.failures += 1
        if isinstance(exc, AuthError):
            self.tripped = exc
        elif self.failures >= BREAKER_FAILURES or self.http.failed_in_row >= OUTAGE_REQUESTS:
            log.warning("%d CivitAI calls failed in a row; not asking for the rest", self.failures)
            self.tripped = type(exc)(DOWN, status=getattr(exc, "status", None))

    # --- calls ---------------------------------------------------------------------
    async def bulk(self, batch: list[str]) -> None:
        if self.tripped:
            return await self.fail_all(batch, self.tripped)
        url = self.http.url("model-versions/by-hash")
        try:
            data = await self.http.request_json(
                "POST", url, json=batch, note=f"{len(batch)} hashes",
                describe=lambda d: _found(map_bulk(batch, d).found, batch),
            )  # fmt: skip
            answer = map_bulk(batch, data)
        except CivitaiError as exc:
            self.failed(exc)
            return await self.fail_all(batch, exc)
        self.failures = 0
        for norm in sorted(answer.ambiguous):
            log.info("%s is in several model versions; using the oldest (lowest id)", norm)
        found = answer.found
        missing = [h for h in batch if h not in found]
        if missing and answer.archived:
            mapped = await self.archived(missing, answer.archived)
            if mapped is None:  # the call failed: the misses already got their error
                missing = []
            else:
                found.update(mapped)
                missing = [h for h in batch if h not in found]
        for norm, version in found.items():
            self.pending.append((norm, version, "SHA256"))
        for norm in missing:
            if answer.bad:
                await self.emit_error(
                    norm, "CivitAI sent part of its answer in a shape the pack does not "
                    "understand; try again later.", "bad_response",
                )  # fmt: skip
            else:
                await self.emit(norm, LookupOutcome.unknown)

    async def archived(
        self, missing: list[str], archived: dict[int, dict]
    ) -> dict[str, dict] | None:
        """Archived models come back with ``files: []``: map them via by-hash/ids. None when
        that call failed (``missing`` were then emitted as errors, never as unknown)."""
        url = self.http.url("model-versions/by-hash/ids")
        try:
            data = await self.http.request_json(
                "POST", url, json=missing, note=f"{len(missing)} hashes, archived versions"
            )
            ids = map_ids(data)
        except CivitaiError as exc:
            log.warning("Could not map archived versions back to hashes: %s", exc)
            self.failed(exc)
            await self.fail_all(missing, exc)
            return None
        found = {}
        for norm, version_id in ids.items():
            if norm in missing and version_id in archived:
                found[norm] = archived[version_id]
        return found

    async def single(self, norm: str) -> None:
        if self.tripped:
            return await self.fail_all([norm], self.tripped)
        url = self.http.url(f"model-versions/by-hash/{norm}")
        try:
            data = await self.http.request_json("GET", url, note="1 hash", describe=_one_found)
            version = expect(data, dict, "a model version")
            if not isinstance(version.get("id"), int):
                expect(None, dict, "a model version")
        except NotFoundError:
            self.failures = 0
            return await self.emit(norm, LookupOutcome.unknown)
        except CivitaiError as exc:
            self.failed(exc)
            return await self.fail_all([norm], exc)
        self.failures = 0
        self.pending.append((norm, version, matched_kind(version, norm)))

    async def flush_models(self, *, final: bool) -> None:
        """Fetch parent models for pending versions (full batches only, unless ``final``)
        and emit every outcome whose model is settled."""
        while True:
            todo = list(dict.fromkeys(_model_id(v) for _, v, _ in self.pending))
            todo = [m for m in todo if m is not None and m not in self.models]
            if not todo or (len(todo) < MODELS_LIMIT and not final):
                break
            await self.fetch_models(todo[:MODELS_LIMIT])
        ready, waiting = [], []
        for item in self.pending:
            (ready if final or _model_id(item[1]) in self.models else waiting).append(item)
        self.pending = waiting
        web = self.client.settings.web_base
        for norm, version, matched_by in ready:
            model = self.models.get(_model_id(version))
            info = build_civitai_info(version, model, matched_by, matched_hash=norm, web_base=web)
            await self.emit(norm, lambda k, info=info: LookupOutcome.identified(k, info))

    async def fetch_models(self, ids: list[int]) -> None:
        for model_id in ids:
            self.models[model_id] = None
        if self.tripped:
            return
        query = ",".join(str(i) for i in ids)
        url = self.http.url("models").with_query(ids=query, limit=str(MODELS_LIMIT), nsfw="true")
        try:
            data = await self.http.request_json(
                "GET", url, note=f"{len(ids)} models",
                describe=lambda d: f"{len(models_by_id(d))} models",
            )  # fmt: skip
            got = models_by_id(data)  # kept slim: only what the info is built from
            self.models.update({k: slim_model(v) for k, v in got.items() if k in self.models})
            self.failures = 0
        except CivitaiError as exc:
            log.warning(
                "Parent models unavailable: %s Tags and creator left empty.", as_sentence(exc)
            )
            self.failed(exc)


def _model_id(version: dict) -> int | None:
    model_id = version.get("modelId")
    return model_id if isinstance(model_id, int) else None


def _found(found: dict, batch: list[str]) -> str:
    return f"{len(found)} found, {len(batch) - len(found)} unknown"


def _one_found(_data) -> str:
    return "1 found"
