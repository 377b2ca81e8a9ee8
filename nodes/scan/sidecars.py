"""Sidecar files other tools leave next to a model, used as known info without an API call,
and the optional ``.civitai.info`` we write. Model files are never opened for writing.

Read (only when the sidecar's hash agrees with the file's SHA256, or its AutoV2 when that is
all the sidecar has):
- ``<stem>.civitai.info`` (Civitai-Helper, SwarmUI; ``<file>.civitai.info`` too): the raw
  model-version JSON; its ``files[].hashes`` must contain the file's hash.
- ``<stem>.metadata.json`` (ComfyUI LoRA Manager): ``"sha256"`` + a ``"civitai"`` object
  holding the version JSON (empty when LoRA Manager found nothing: then ignored).
- ``<stem>.cm-info.json`` (Stability Matrix ConnectedModelInfo): ``"Hashes"`` + flat fields.
"""

import json
import logging
import os
import tempfile

from ...hashing import UntrustedJSONError, read_json_file
from .sidecar_info import _ci_get, _dict, info_from_cm_info, info_from_version

_log = logging.getLogger(__name__)

MAX_SIDECAR_BYTES = 16 * 1024 * 1024  # a sidecar bigger than this is not one of ours to read


def sidecar_names(model_name: str) -> list[str]:
    """Candidate sidecar file names for a model file name, in the order they are tried."""
    stem = os.path.splitext(model_name)[0]
    return [
        f"{stem}.civitai.info",
        f"{model_name}.civitai.info",
        f"{stem}.metadata.json",
        f"{stem}.cm-info.json",
    ]


def read_sidecar_info(path: str, hashes: dict, dir_names=None) -> dict | None:
    """civitai_info (matched_by "sidecar") from the first sidecar of ``path`` whose hash
    matches ``hashes``; None when there is none. ``dir_names`` (the names in the file's
    directory, from the listing) avoids a stat per candidate. Never raises for a bad file."""
    directory, name = os.path.split(path)
    for candidate in sidecar_names(name):
        if dir_names is not None and candidate not in dir_names:
            continue
        data = _load_json(os.path.join(directory, candidate))
        if data is None:
            continue
        try:
            if candidate.endswith(".civitai.info"):
                info = _from_version(data, hashes)
            elif candidate.endswith(".metadata.json"):
                info = _from_lora_manager(data, hashes)
            else:
                info = _from_cm_info(data, hashes)
        except (TypeError, ValueError, AttributeError) as exc:
            _log.warning("ignoring sidecar %s: %s", os.path.join(directory, candidate), exc)
            continue
        if info is not None:
            _log.debug("identified %s from sidecar %s", path, candidate)
            return info
    return None


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


def _agrees(their: dict, hashes: dict) -> bool:
    """SHA256 decides when the sidecar has one; AutoV2 only when that is all it has."""
    get = _ci_get(_dict(their))
    sha = get("SHA256")
    if isinstance(sha, str) and sha:
        return sha.upper() == (hashes.get("SHA256") or "").upper()
    v2 = get("AutoV2")
    return isinstance(v2, str) and bool(v2) and v2.upper() == (hashes.get("AutoV2") or "").upper()


def _from_version(version: dict, hashes: dict) -> dict | None:
    files = [f for f in version.get("files") or [] if isinstance(f, dict)]
    for file in files:
        if _agrees(file.get("hashes"), hashes):
            return info_from_version(version, file)
    return None


def _from_lora_manager(meta: dict, hashes: dict) -> dict | None:
    version = _dict(meta.get("civitai"))
    if not version.get("id") and not version.get("modelId"):
        return None  # LoRA Manager writes metadata for models CivitAI doesn't know, too
    info = _from_version(version, hashes)
    if info is None and isinstance(meta.get("sha256"), str):
        if meta["sha256"].upper() == (hashes.get("SHA256") or "").upper():
            files = [f for f in version.get("files") or [] if isinstance(f, dict)]
            primary = next((f for f in files if f.get("primary")), files[0] if files else None)
            info = info_from_version(version, primary)
    return info


def _from_cm_info(cm: dict, hashes: dict) -> dict | None:
    get = _ci_get(cm)
    if not get("ModelId") or not _agrees(get("Hashes"), hashes):
        return None
    return info_from_cm_info(cm)


def write_civitai_info(path: str, info: dict, hashes: dict) -> str | None:
    """Write ``<stem>.civitai.info`` for an identified model (Civitai-Helper's layout: a
    version-like JSON) unless a sidecar already exists. Atomic: temp file + rename in the same
    directory. Returns the sidecar path, or None when it was left alone or could not be
    written (logged)."""
    target = os.path.splitext(path)[0] + ".civitai.info"
    if os.path.exists(target):
        return None
    file = _dict(info.get("file"))
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
