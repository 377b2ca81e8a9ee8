"""The composition root inside ComfyUI: one store, one hash cache, one CivitAI client (so one
spacing lock) and one job manager, shared by the routes and the V3 nodes.

Everything that writes the store or talks to CivitAI runs on ONE event loop,
``service.loop``. Inside ComfyUI that is the pack's own loop in its own thread
(``own_loop=True``), never ComfyUI's server loop: a CLI scan on the same store may hold
SQLite's write lock for a moment, and a store call that waits for it must not freeze
ComfyUI's server. In tests it is the loop passed in, or the one that first awaits the
service. Code on another loop (routes on the server loop, nodes on the prompt worker's loop)
goes through ``await service.call(coro_fn, ...)``, which hops with
``asyncio.run_coroutine_threadsafe``.

Reads that requests wait for (status, models, facets, one model) do not hop: they run in a
worker thread on a reader connection with a short busy timeout (``READ_BUSY_TIMEOUT_S``),
so they answer while the service loop is busy. Hashing happens in worker threads (the
scanner's ``asyncio.to_thread``). The heavy parts are built on first use.
"""

import asyncio
import logging
import os
import threading
import time

from ...civitai import IDENTIFY_MODES
from ..store import default_db_path
from . import names
from .jobs import JobManager
from .record_views import brief_record, check_view, with_user_notes
from .redact import Redactor

_log = logging.getLogger(__name__)

#: A file this big that is not in the hash cache is identified as a background job.
BIG_FILE_BYTES = 256 * 1024 * 1024
#: How long POST identify waits for a result before answering 202 with the job.
QUICK_WAIT_SECONDS = 20.0
#: How long a read for a request waits for another process's lock (WAL readers never wait;
#: a rollback journal on a network volume makes them wait while a writer commits).
READ_BUSY_TIMEOUT_S = 2.0


class Service:
    """``Service(folder_paths, emit=...)``; ``settings`` default: ``civitai.load_settings``
    (``environ``, then ``.env``), built once on first use; ``db_path`` default: the
    ``db_path`` setting, else ``store.default_db_path``."""

    def __init__(
        self,
        folder_paths,
        *,
        emit,
        loop=None,
        db_path=None,
        settings=None,
        environ=None,
        big_file_bytes=BIG_FILE_BYTES,
        quick_wait=QUICK_WAIT_SECONDS,
        progress_interval=0.25,
        own_loop=False,
    ):
        environ = os.environ if environ is None else environ
        self.folder_paths = folder_paths
        self.loop = loop
        self._own_loop = own_loop and loop is None
        if self._own_loop:
            self.loop = asyncio.new_event_loop()
            threading.Thread(target=self.loop.run_forever, name="civitai-identify",
                             daemon=True).start()  # fmt: skip
        self._emit = emit
        self.jobs = JobManager(self._emit_public, min_interval=progress_interval)
        self._db_path = db_path
        self._settings = settings
        self._environ = environ
        self._big = big_file_bytes
        self._quick_wait = quick_wait
        self._parts = None
        self._building = None
        self._redactor = (0.0, None)
        self._reader = threading.local()  # .store: this thread's reader connection
        self._readers = []  # every reader, to close them
        self._reader_lock = threading.Lock()

    # -- one loop ----------------------------------------------------------------------
    async def call(self, fn, *args, **kwargs):
        """``await fn(*args, **kwargs)`` on the service loop, from any loop or thread."""
        running = asyncio.get_running_loop()
        if self.loop is None:
            self.loop = running
        if self.loop is running:
            return await fn(*args, **kwargs)
        future = asyncio.run_coroutine_threadsafe(fn(*args, **kwargs), self.loop)
        return await asyncio.wrap_future(future)

    async def _ready(self):
        """Store, cache, client: built once, on the service loop, on first use."""
        if self._parts is None:
            if self._building is None:
                self._building = asyncio.ensure_future(self._build())
            try:
                await asyncio.shield(self._building)
            except Exception as exc:
                self._building = None  # e.g. an unwritable store path: try again next time
                message = f"CivitAI Identify cannot start: {type(exc).__name__}: {exc}"
                if isinstance(exc, ImportError):
                    message += " (install the pack's requirements.txt with ComfyUI's Python)"
                _log.error("%s", message)  # one line, no trace: the cause is the message
                raise ServiceUnavailable(self.redact(message)) from exc
        return self._parts

    async def _built(self):
        """The parts exist (built on the service loop, errors as ``ServiceUnavailable``);
        callable from any loop, and after the first time without a hop."""
        if self._parts is None:
            await self.call(self._ready)

    @property
    def settings(self):
        """Every ``CIVITAI_*`` setting (civitai/config.py), read on first use."""
        if self._settings is None:
            from ...civitai import load_settings

            self._settings = load_settings(self._environ)
        return self._settings

    @property
    def identify_mode(self) -> str:
        """What a scan started without ``identify`` looks up (``CIVITAI_IDENTIFY_MODE``)."""
        return self.settings.identify_mode

    async def _build(self):
        from ...civitai import CivitaiClient
        from ...hashing import HashCache
        from ..store import ModelStore, shared_limiter

        settings = self.settings
        db_path = self._db_path = self._db_path or default_db_path(settings)
        store = ModelStore(db_path, unknown_retry_days=settings.retry_days,
                           model_refresh_days=settings.refresh_days)  # fmt: skip
        cache = HashCache(db_path)
        # one spacing with every other process on this store (a CLI scan, a second ComfyUI)
        client = CivitaiClient(settings, limiter=shared_limiter(db_path, settings))
        self._parts = (store, cache, client)
        _log.info("CivitAI Identify: store at %s", db_path)

    def folders(self) -> dict[str, list[str]]:
        return names.model_folders(self.folder_paths)

    # -- nothing absolute leaves -------------------------------------------------------
    def redact(self, value):
        """``value`` with model directories replaced by folder names (see redact.py)."""
        built_at, redactor = self._redactor
        if redactor is None or time.monotonic() - built_at > 10.0:
            redactor = Redactor(self.folders(), self.folder_paths.models_dir)
            self._redactor = (time.monotonic(), redactor)
        return redactor(value)

    def _emit_public(self, event, data):
        self._emit(event, self.redact(data))

    def job_dict(self, job) -> dict | None:
        return self.redact(job.to_dict()) if job is not None else None

    def _public(self, record: dict) -> dict:
        """Records leave the service without absolute paths."""
        record = {k: v for k, v in record.items() if k != "path"}
        if record.get("error"):
            record["error"] = self.redact(record["error"])
        return record

    async def _scanner(self):
        from ..scan import Scanner

        store, cache, client = await self._ready()
        return Scanner(store, cache, client, self.folders(),
                       preview_nsfw=self.settings.preview_nsfw)  # fmt: skip

    # -- reads -------------------------------------------------------------------------
    async def status(self) -> dict:
        from ...civitai.version import __version__

        await self._built()
        counts = await asyncio.to_thread(self._read, lambda store: store.counts())
        scan = self.jobs.scan
        return {
            "version": __version__,
            "token_configured": bool(self._settings.token),
            "api_base": self._settings.api_base,
            "counts": counts,
            "identify_mode": self.identify_mode,
            "scan": self.job_dict(scan),
        }

    async def list_models(
        self, q=None, category=None, status=None, base_model=None, view="full", **paging
    ) -> dict:
        """Matching records, read in a worker thread on its own connection (WAL lets it read
        while others write): routes keep answering during a scan, even another process's.

        Without ``limit``/``cursor`` in ``paging``: every record, ``{"models", "total"}``;
        with them one page and ``next`` (``limit``/``offset``/``cursor``/``sort`` as URL
        strings: store/query.py). ``view="brief"``: record_views.py. Bad values raise
        ``BadView``/``BadQuery`` with a sentence."""
        from ..store import Query

        view = check_view(view)
        params = {"q": q, "category": category, "status": status, "base_model": base_model}
        query = Query.parse({**params, **paging})
        filters = {**params, **{k: (query.filters or {}).get(k) for k in ("update", "kind")}}
        await self._built()
        return await asyncio.to_thread(self._list_models_off_loop, query, filters, view)

    async def facets(self, **params) -> dict:
        """Counts per category, base model and status for ``params``' filters (query.py)."""
        from ..store import Query

        query = Query.parse(params, paged=False)
        await self._built()
        return await asyncio.to_thread(self._read, lambda store: store.facets(query))

    def _read(self, fn):
        """``fn(store)`` on this worker thread's reader connection (one per thread, so a
        long listing does not hold up a status read; call it in a worker thread)."""
        from ..store import ModelStore

        reader = getattr(self._reader, "store", None)
        if reader is None:
            reader = ModelStore(
                self._db_path,
                unknown_retry_days=self.settings.retry_days,
                busy_timeout=READ_BUSY_TIMEOUT_S,
            )
            self._reader.store = reader
            with self._reader_lock:
                self._readers.append(reader)
        return fn(reader)

    def _list_models_off_loop(self, query, filters, view="full") -> dict:
        shape = brief_record if view == "brief" else (lambda m: m)
        full = view != "brief"  # brief: the store reads each info's small brief part only
        if query.limit is None:
            models = self._read(lambda store: store.list_records(**filters, full=full))
            return {"models": [self._public(shape(m)) for m in models], "total": len(models)}
        models, nxt = self._read(lambda store: store.page(query, full=full))
        total = self._read(lambda store: store.total(query))
        return {"models": [self._public(shape(m)) for m in models], "total": total, "next": nxt}

    async def get_model(self, folder, name) -> dict:
        """The stored record, or a ``not_checked`` stub for a file not scanned yet."""
        path = names.resolve(self.folder_paths, folder, name)
        await self._built()
        record = await asyncio.to_thread(self._read, lambda store: store.get_record(folder, name))
        if record is None:
            record = _stub(folder, name, os.stat(path).st_size)
        return self._public(await asyncio.to_thread(with_user_notes, record, path))

    # -- identify ----------------------------------------------------------------------
    async def identify(self, folder, name, force=False, progress=None, cancel=None) -> dict:
        """The record for one file: stored info unless ``force`` or the file changed since it
        was identified, else hash + look up."""
        path = names.resolve(self.folder_paths, folder, name)
        store, _, _ = await self._ready()
        if not force:
            record = store.get_record(folder, name)
            if record and record.get("status") == "identified" and record.get("civitai_info"):
                # only while the file is the one that was identified (not replaced in place)
                if await self._unchanged(store, folder, name, path):
                    return self._public(record)
        scanner = await self._scanner()
        return self._public(await scanner.identify(folder, name, force, progress, cancel))

    async def identify_request(self, folder, name, force=False):
        """For POST identify: ``(record, None)`` or ``(None, job)`` when the work is long
        (a big file not in the hash cache, or no answer within ``quick_wait``)."""
        path = names.resolve(self.folder_paths, folder, name)
        _, cache, _ = await self._ready()
        long_work = os.stat(path).st_size > self._big and not await self._cached(cache, path)

        async def run(job):
            return await self.identify(folder, name, force, job.report, job.cancelled)

        job = self.jobs.start("identify", run)
        if not long_work:
            await asyncio.wait({job.task}, timeout=self._quick_wait)
            if job.state == "done":
                return job.summary, None
            if isinstance(job.exception, FileNotFoundError):
                raise names.ModelNotFound(f"No model {folder}/{name}.")
            if job.state == "error" and job.error:
                raise IdentifyFailed(self.redact(job.error))
        return None, job

    @staticmethod
    async def _unchanged(store, folder, name, path) -> bool:
        """True when the file on disk has the identity stored for (folder, name)."""
        from ...hashing import file_identity

        row = store.get_file(folder, name)
        try:
            identity = await asyncio.to_thread(file_identity, path)
        except OSError:
            return False
        return row is not None and tuple(row.identity) == identity.key

    @staticmethod
    async def _cached(cache, path) -> bool:
        from ...hashing import file_identity

        try:
            identity = await asyncio.to_thread(file_identity, path)
            return cache.lookup(identity) is not None
        except OSError:
            return False

    # -- scans -------------------------------------------------------------------------
    def check_scan_args(self, folders="all", identify=None):
        """Normalised ``(folders or None for all, identify mode)``; ``BadName`` if wrong."""
        identify = identify or self.identify_mode
        if identify not in IDENTIFY_MODES:
            raise names.BadName(f"identify must be one of {', '.join(IDENTIFY_MODES)}.")
        if folders in (None, "all"):
            return None, identify
        if not isinstance(folders, list) or not all(isinstance(f, str) for f in folders):
            raise names.BadName('folders must be "all" or a list of folder names.')
        known = self.folders()
        unknown = [f for f in folders if f not in known]
        if unknown:
            raise names.BadName(f"Unknown model folder(s): {', '.join(unknown)}.")
        return folders, identify

    async def start_scan(self, folders="all", identify=None, retry_unknown=False, previews=None):
        """``(job, created)``: one scan at a time; a running scan is returned as is.
        ``previews`` None: the ``write_previews`` setting (``CIVITAI_IDENTIFY_PREVIEWS``)."""
        folders, identify = self.check_scan_args(folders, identify)
        previews = self.settings.write_previews if previews is None else bool(previews)

        async def run(job):
            scanner = await self._scanner()
            scanner.write_previews = previews
            return await scanner.scan(
                folders=folders,
                identify=identify,
                retry_unknown=bool(retry_unknown),
                progress=job.report,
                cancel=job.cancelled,
            )

        return self.jobs.start_scan(run)

    def scan_job(self):
        return self.job_dict(self.jobs.scan)

    def cancel_scan(self):
        job = self.jobs.scan
        if job is not None and job.running:
            job.cancel()
        return self.job_dict(job)

    async def close(self):
        """Cancel the jobs, close the client and the connections (on the service loop, from
        any loop); an own loop is stopped afterwards when called from another loop (else it
        idles: a daemon thread)."""
        await self.call(self._close)
        # stopped only from outside: stopping it from inside would drop the answer to the
        # caller that hopped here (its future is resolved in the next loop iteration)
        if self._own_loop and asyncio.get_running_loop() is not self.loop:
            self.loop.call_soon_threadsafe(self.loop.stop)

    async def _close(self):
        await self.jobs.stop_all()
        if self._parts is not None:
            store, cache, client = self._parts
            await client.close()
            cache.close()
            store.close()
            self._parts = None
        with self._reader_lock:
            readers, self._readers = self._readers, []
            self._reader = threading.local()
        for reader in readers:
            reader.close()


class ServiceUnavailable(RuntimeError):
    """The store or client could not be built (HTTP 503); the message says why."""


class IdentifyFailed(RuntimeError):
    """Identification failed with a sentence for the user (HTTP 502)."""


def _stub(folder, name, size) -> dict:
    """The record of a file not scanned yet (every record key; the unknown ones null)."""
    unknown = ("mtime", "hashes", "error", "checked_at", "civitai_info", "update")
    record = {"folder": folder, "name": name, "size": size, "category": folder}
    return {**record, "status": "not_checked", **dict.fromkeys(unknown)}
