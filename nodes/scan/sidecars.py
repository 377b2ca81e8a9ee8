"""Sidecar files other tools leave next to a model, used as known info without an API call,
and the optional ``.civitai.info`` we write. Model files are never opened for writing.

Read (only when the sidecar's hash agrees with the file's SHA256, or its AutoV2 when that is
all the sidecar has):
- ``<stem>.civitai.info`` (Civitai-Helper, SwarmUI; ``<file>.civitai.info`` too): the raw
  model-version JSON; its ``files[].hashes`` must contain the file's hash.
- ``<stem>.metadata.json`` (ComfyUI LoRA Manager): ``"sha256"`` + a ``"civitai"`` object
  holding the version JSON (empty when LoRA Manager found nothing: then ignored).
- ``<stem>.cm-info.json`` (Stability Matrix ConnectedModelInfo): ``"Hashes"`` + flat fields.
The formats, their file names and their pure adapters are ``SIDECAR_FORMATS`` in
sidecar_info.py; this module only reads and writes the files.
"""

import json
import logging
import os
import tempfile

from ...civitai import DEFAULT_WEB_BASE
from ...hashing import UntrustedJSONError, read_json_file
from .sidecar_info import WRITTEN, sidecar_candidates

_log = logging.getLogger(__name__)

MAX_SIDECAR_BYTES = 16 * 1024 * 1024  # a sidecar bigger than this is not one of ours to read


def read_sidecar_info(
    path: str, hashes: dict, dir_names=None, *, web_base: str = DEFAULT_WEB_BASE
) -> dict | None:
    """civitai_info (matched_by "sidecar") from the first sidecar of ``path`` whose hash
    matches ``hashes``; None when there is none. ``dir_names`` (the names in the file's
    directory, from the listing) avoids a stat per candidate. ``web_base``: the site of the
    links (``Settings.web_base``). Never raises for a bad file."""
    directory, name = os.path.split(path)
    for candidate, fmt in sidecar_candidates(name):
        if dir_names is not None and candidate not in dir_names:
            continue
        data = _load_json(os.path.join(directory, candidate))
        if data is None:
            continue
        try:
            info = fmt.adapt(data, hashes, web_base)
        except Exception as exc:  # noqa: BLE001 - whatever a sidecar holds, the scan goes on
            _log.warning("ignoring sidecar %s: %s: %s", os.path.join(directory, candidate),
                         type(exc).__name__, exc)  # fmt: skip
            continue
        if info is None:
            continue
        if not _is_an_answer(info):
            _log.warning("ignoring sidecar %s: it names no valid model and version id",
                         os.path.join(directory, candidate))  # fmt: skip
            continue
        _log.debug("identified %s from sidecar %s", path, candidate)
        return info
    return None


def _is_an_answer(info) -> bool:
    """A sidecar stands in for CivitAI's answer only when it names a real model version
    (positive integer ids): wrong types or garbage must leave the file to be looked up."""
    return isinstance(info, dict) and all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0
        for v in (info.get("model_id"), info.get("version_id"))
    )


def has_sidecar(path: str) -> bool:
    """Whether any sidecar file of ``path`` exists (one stat per candidate name)."""
    directory, name = os.path.split(path)
    return any(os.path.exists(os.path.join(directory, n)) for n, _ in sidecar_candidates(name))


def _load_json(path: str) -> dict | None:
    """The sidecar's JSON object through the one untrusted-JSON reader (size, density and
    depth guards before parsing); None, with a warning naming the file, when it is not one."""
    try:
        return read_json_file(path, max_bytes=MAX_SIDECAR_BYTES)
    except FileNotFoundError:
        return None
    except (OSError, UntrustedJSONError) as exc:
        _log.warning("ignoring unreadable sidecar %s: %s", path, exc)
        return None


#: A1111/Forge's extra-networks editor (ui_extra_networks_user_metadata.py) writes the
#: user's own notes about a model as ``<stem>.json`` with these keys.
A1111_KEYS = {"activation text": "activation_text", "preferred weight": "preferred_weight",
              "negative text": "negative_text", "notes": "notes", "description": "description",
              "sd version": "sd_version"}  # fmt: skip


def read_user_notes(path: str) -> dict | None:
    """The user's own notes about the model at ``path`` from A1111/Forge's ``<stem>.json``:
    ``{"activation_text", "preferred_weight", "negative_text", "notes", "description",
    "sd_version", "source": "a1111"}`` (missing keys None), or None when there is no such
    file or it is not one (another tool's ``.json``). Never raises for a bad file."""
    stem = os.path.splitext(path)[0]
    data = _load_json(stem + ".json")
    if not isinstance(data, dict) or not any(k in data for k in A1111_KEYS):
        return None
    notes = {}
    for key, field in A1111_KEYS.items():
        value = data.get(key)
        if field == "preferred_weight":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            notes[field] = value if ok and value else None  # 0: "not set" in A1111
        else:
            notes[field] = value.strip() or None if isinstance(value, str) else None
    return {**notes, "source": "a1111"}


def notes_trigger_words(notes: dict | None) -> list[str]:
    """Trigger words from the user's activation text (comma-separated, as A1111 adds it to
    the prompt), for when CivitAI has none."""
    text = (notes or {}).get("activation_text") or ""
    return [w.strip() for w in text.split(",") if w.strip()]


def write_civitai_info(path: str, info: dict, hashes: dict) -> str | None:
    """Write ``<stem>.civitai.info`` for an identified model (Civitai-Helper's layout: a
    version-like JSON) unless a sidecar already exists. Atomic: temp file + rename in the same
    directory. Returns the sidecar path, or None when it was left alone or could not be
    written (logged)."""
    directory, name = os.path.split(path)
    target = os.path.join(directory, WRITTEN.names(name)[0])
    if os.path.exists(target):
        return None
    file = info.get("file") if isinstance(info.get("file"), dict) else {}
    version = {
        "id": info.get("version_id"),
        "modelId": info.get("model_id"),
        "name": info.get("version_name"),
        "baseModel": info.get("base_model"),
        "description": info.get("version_description"),
        "trainedWords": info.get("trained_words") or [],
        "model": {
            "name": info.get("model_name"),
            "type": info.get("type"),
            "nsfw": info.get("nsfw", False),
        },
        "files": [
            {
                "name": file.get("name") or os.path.basename(path),
                "sizeKB": file.get("size_kb"),
                "primary": file.get("primary", True),
                "metadata": {"format": file.get("format"), "fp": file.get("fp")},
                "hashes": {k: v for k, v in hashes.items() if v},
            }
        ],
        "images": [
            {
                "url": i.get("url"),
                "width": i.get("width"),
                "height": i.get("height"),
                "nsfwLevel": i.get("nsfw_level"),
                "type": i.get("type"),
            }
            for i in info.get("images") or []
        ],
    }
    directory = os.path.dirname(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".civitai-info-", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(version, f, indent=2, ensure_ascii=False)
            os.replace(tmp, target)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as exc:
        _log.warning("could not write %s: %s", target, exc)
        return None
    return target
