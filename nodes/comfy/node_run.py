"""What the two V3 nodes do, without ComfyUI imports (the progress bar class is passed in).

The nodes run in ComfyUI's prompt worker thread, on a loop of their own. The work runs on
the service loop (``service.call``); meanwhile the node's own task polls the latest progress
and moves its ProgressBar, so ComfyUI's progress hook runs in the node's thread and context
(where it knows the node id and may raise on "interrupt": the job is then cancelled).

Neither node fails the workflow on a bad or unknown file: the outputs are empty strings and
a JSON status (``unknown`` or ``error`` with a sentence).
"""

import asyncio
import json
import sys

from ...civitai import IDENTIFY_MODES, as_sentence
from .names import BadName, ModelNotFound, resolve, split_choice
from .record_views import with_user_notes

POLL_SECONDS = 0.1
#: The Scan node's identify combo: its label → the mode (civitai.IDENTIFY_MODES).
MODE_CHOICES = {("other only" if m == "other" else m): m for m in IDENTIFY_MODES}


async def identify_outputs(service, choice: str, refresh: bool, progress_bar) -> tuple:
    """(civitai_info JSON, model_name, version_name, base_model, trigger_words, url,
    update JSON or "")."""
    try:
        folder, name = split_choice(choice)
        latest: dict = {}
        call = service.call(
            service.identify, folder, name, bool(refresh), progress=latest.update,
            cancel=_interrupted,
        )  # fmt: skip
        work = asyncio.ensure_future(call)
        bar = progress_bar(1)
        try:
            while not work.done():
                await asyncio.wait({work}, timeout=POLL_SECONDS)
                _check_interrupt()
                _move(bar, latest.get("bytes_done"), latest.get("bytes_total"))
        finally:
            work.cancel()  # no-op when done; stops the read within one block otherwise
        record = await with_notes(service, folder, name, work.result())
    except (BadName, ModelNotFound) as exc:
        return _status_outputs("error", choice, str(exc))
    except Exception as exc:  # noqa: BLE001 - a node result, never a failed workflow
        _check_interrupt()  # the read stopped because "Cancel" was pressed
        _reraise_interrupt(exc)
        return _status_outputs("error", choice, service.redact(as_sentence(exc)))
    return record_outputs(record, choice)


async def with_notes(service, folder, name, record: dict) -> dict:
    """``record`` with the user's A1111 notes (record_views.with_user_notes), read off the
    loop; the record as it is when the file cannot be resolved."""
    try:
        path = resolve(service.folder_paths, folder, name)
    except (BadName, ModelNotFound):
        return record
    return await asyncio.to_thread(with_user_notes, record, path)


def record_outputs(record: dict, choice: str) -> tuple:
    """The Identify Model outputs for ``record``. Trigger words are CivitAI's; when CivitAI
    has none, the activation text of the user's own notes (``trigger_words_source``)."""
    info = record.get("civitai_info")
    status = record.get("status") or "unknown"
    from_notes = ", ".join(record.get("notes_trigger_words") or [])
    if not info:
        out = _status_outputs(status, choice, record.get("error"), record.get("hashes"))
        return (*out[:4], from_notes, *out[5:])
    words = ", ".join(w.strip() for w in info.get("trained_words") or [] if w and w.strip())
    source = "civitai" if words else "your notes" if from_notes else None
    extra = {"trigger_words_source": source, "user_notes": record.get("user_notes")}
    return (
        json.dumps({"status": status, **info, **extra}, ensure_ascii=False),
        info.get("model_name") or "",
        info.get("version_name") or "",
        info.get("base_model") or "",
        words or from_notes,
        info.get("url") or "",
        json.dumps(record["update"], ensure_ascii=False) if record.get("update") else "",
    )


def _status_outputs(status, choice, error=None, hashes=None) -> tuple:
    data = {"status": status, "model": choice, "error": error}
    if hashes:
        data["sha256"] = hashes.get("SHA256")
    return (json.dumps(data, ensure_ascii=False), "", "", "", "", "", "")


async def scan_outputs(service, folder: str, mode: str, retry_unknown: bool, progress_bar) -> tuple:
    """(summary sentence, report JSON). Waits for a scan already running, then scans."""
    try:
        folders = "all" if folder == "all" else [folder]
        identify = MODE_CHOICES.get(mode, mode)
        job = await service.call(_own_scan, service, folders, identify, bool(retry_unknown))
        bar = progress_bar(1)
        try:
            while job.running:
                await asyncio.sleep(POLL_SECONDS)
                _check_interrupt()
                p = job.to_dict()["progress"]
                if p.get("bytes_total"):
                    _move(bar, p.get("bytes_done"), p.get("bytes_total"))
                else:
                    _move(bar, p.get("files_done"), p.get("files_total"))
        except BaseException:
            job.cancel()
            raise
        result = service.job_dict(job)
        category = None if folder == "all" else folder
        models = await service.call(service.list_models, category=category)
    except Exception as exc:  # noqa: BLE001 - a node result, never a failed workflow
        _reraise_interrupt(exc)
        error = {"status": "error", "error": service.redact(as_sentence(exc))}
        return f"Scan failed: {error['error']}", json.dumps(error)
    report = {"job": result, "models": [_slim(m) for m in models["models"]]}
    return summary_sentence(result), json.dumps(report, ensure_ascii=False)


async def _own_scan(service, folders, identify, retry_unknown):
    while True:
        job, created = await service.start_scan(folders, identify, retry_unknown)
        if created:
            return job
        await asyncio.wait({job.task})  # someone else's scan: let it finish first


def summary_sentence(job: dict) -> str:
    """One line for the summary output, from the scanner's summary dict."""
    if job["state"] != "done":
        return f"Scan {job['state']}: {job.get('error') or 'no summary'}"
    s = job.get("summary") or {}
    counts = ", ".join(f"{n} {status}" for status, n in (s.get("by_status") or {}).items() if n)
    mib = (s.get("bytes_hashed") or 0) / 2**20
    text = (
        f"Scan done: {s.get('files_total', 0)} files ({s.get('files_hashed', 0)} hashed, "
        f"{mib:.1f} MiB read); {counts or 'no files'}; {s.get('calls', 0)} CivitAI calls."
    )
    if s.get("previews"):
        text += f" {s['previews']} previews saved."
    if s.get("updates"):
        text += f" {s['updates']} with an update available."
    for key in ("skipped", "errors"):
        if s.get(key):
            text += f" {len(s[key])} {key}."
    return text


def _slim(record: dict) -> dict:
    info = record.get("civitai_info") or {}
    return {
        "folder": record.get("folder"),
        "name": record.get("name"),
        "status": record.get("status"),
        "model_name": info.get("model_name"),
        "version_name": info.get("version_name"),
        "base_model": info.get("base_model"),
        "url": info.get("url"),
    }


def _interrupted() -> bool:
    """ComfyUI's "Cancel" flag, read (not consumed) by the hashing thread before each block.
    Uses the module ComfyUI already loaded: importing comfy.model_management would load
    torch."""
    management = sys.modules.get("comfy.model_management")
    return management is not None and bool(management.processing_interrupted())


def _check_interrupt() -> None:
    """Raise ComfyUI's InterruptProcessingException once "Cancel" was pressed, even while
    no progress moves (the bar's hook would notice only at its next update)."""
    if _interrupted():
        sys.modules["comfy.model_management"].throw_exception_if_processing_interrupted()


def _reraise_interrupt(exc: BaseException) -> None:
    # The user pressed "cancel" in ComfyUI: that must stop the prompt, not become a result.
    if type(exc).__name__ == "InterruptProcessingException":
        raise exc


def _move(bar, done, total) -> None:
    if total:
        bar.update_absolute(min(done or 0, total), total)


# -- Load LoRA (CivitAI) ---------------------------------------------------------------
_LORA_LOADER = None  # one ComfyUI LoraLoader: it keeps the last LoRA file in memory


def comfy_lora_loader():
    """ComfyUI's own ``nodes.LoraLoader`` instance. ComfyUI imports its top-level ``nodes``
    module before any custom node, so it is looked up in ``sys.modules`` at run time, never
    imported by the pack (whose own package is also called ``nodes``)."""
    global _LORA_LOADER
    if _LORA_LOADER is None or type(_LORA_LOADER) is not _loader_class():
        _LORA_LOADER = _loader_class()()
    return _LORA_LOADER


def _loader_class():
    loader = getattr(sys.modules.get("nodes"), "LoraLoader", None)
    if loader is None:
        raise RuntimeError("ComfyUI's LoraLoader is not loaded (is this running in ComfyUI?).")
    return loader


async def lora_record(service, lora_name: str) -> dict | None:
    """The record of ``loras/<lora_name>``: the stored info when there is some (no request),
    else identified now, but never waiting longer than one request timeout; past that the
    identify goes on in the background (the next run has the info) and this gives None."""
    work = asyncio.ensure_future(service.call(service.identify, "loras", lora_name))
    try:
        return await asyncio.wait_for(asyncio.shield(work), service.settings.timeout)
    except asyncio.TimeoutError:
        work.add_done_callback(_swallow)
        return None
    except Exception as exc:  # noqa: BLE001 - the LoRA still applies, without trigger words
        _reraise_interrupt(exc)
        return None


async def lora_outputs(service, model, clip, lora_name, strength_model, strength_clip):
    """(MODEL, CLIP, trigger_words, civitai_info JSON): the LoRA applied by ComfyUI's loader
    with these arguments, and what the pack knows about the file."""
    record = await lora_record(service, lora_name)
    if record is not None:
        record = await with_notes(service, "loras", lora_name, record)
    model_out, clip_out = comfy_lora_loader().load_lora(
        model, clip, lora_name, strength_model, strength_clip
    )
    choice = f"loras/{lora_name}"
    if record is None:
        info = json.dumps({"status": "pending", "model": choice, "error": None})
        return model_out, clip_out, "", info
    out = record_outputs(record, choice)
    return model_out, clip_out, out[4], out[0]


def _swallow(task) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: a background identify's failure is already logged
