"""What other tools save next to a model → our ``civitai_info`` (matched_by "sidecar").

Pure functions over parsed JSON (no file IO: sidecars.py reads the files through the one
untrusted-JSON reader). Each format is one ``SidecarFormat`` in ``SIDECAR_FORMATS``: its
file name and its adapter ``adapt(data, hashes, web_base) -> CivitaiInfo | None`` (None when
the sidecar is about another file or holds nothing). Every adapter ends in civitai's one
builder, ``build_civitai_info``, so every producer gives the same contract. To support a new
tool, add an adapter and a ``SidecarFormat``; discovery and reading follow.

A sidecar counts only when its hash agrees with the file: SHA256 decides when it has one,
AutoV2 only when that is all it has. Every field is read defensively: these files are
written by many versions of many tools.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass

from ...civitai import build_civitai_info

Adapter = Callable[[dict, dict, str], dict | None]


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _files(version: dict) -> list[dict]:
    files = version.get("files")
    return [f for f in files if isinstance(f, dict)] if isinstance(files, list) else []


def _ci_get(obj: dict):
    """Case-insensitive key access (Stability Matrix has written both PascalCase and
    camelCase over time)."""
    lowered = {k.lower(): v for k, v in obj.items() if isinstance(k, str)}
    return lambda key: lowered.get(key.lower())


def _agreeing_hash(their, hashes: dict) -> str | None:
    """The sidecar's hash that matches the file (SHA256 if it has one, else AutoV2), or
    None when it has neither or they disagree."""
    get = _ci_get(_dict(their))
    for name in ("SHA256", "AutoV2"):
        value = get(name)
        if isinstance(value, str) and value:
            return value if value.upper() == (hashes.get(name) or "").upper() else None
    return None


def from_civitai_info(version: dict, hashes: dict, web_base: str) -> dict | None:
    """``<stem>.civitai.info`` (Civitai-Helper, SwarmUI): CivitAI's model-version JSON; one
    of its ``files[].hashes`` must agree with the file."""
    for file in _files(version):
        matched = _agreeing_hash(file.get("hashes"), hashes)
        if matched:
            return _from_version(version, matched, web_base)
    return None


def from_lora_manager(meta: dict, hashes: dict, web_base: str) -> dict | None:
    """``<stem>.metadata.json`` (ComfyUI LoRA Manager): ``sha256`` + a ``civitai`` object
    holding the version JSON (empty when LoRA Manager found nothing: ignored)."""
    version = _dict(meta.get("civitai"))
    if not version.get("id") and not version.get("modelId"):
        return None  # LoRA Manager writes metadata for models CivitAI doesn't know, too
    info = from_civitai_info(version, hashes, web_base)
    sha = meta.get("sha256")
    if info is None and isinstance(sha, str) and sha.upper() == str(hashes.get("SHA256")).upper():
        info = _from_version(version, None, web_base)  # its own sha256 agrees: primary file
    return info


def _from_version(version: dict, matched_hash: str | None, web_base: str) -> dict:
    short = _dict(version.get("model"))
    # LoRA Manager keeps tags/description in the version's "model": use it as the parent
    parent = short if ("tags" in short or "description" in short) else None
    return build_civitai_info(
        version, parent, "sidecar", matched_hash=matched_hash, web_base=web_base
    )


def from_cm_info(cm: dict, hashes: dict, web_base: str) -> dict | None:
    """``<stem>.cm-info.json`` (Stability Matrix's ConnectedModelInfo, PascalCase keys):
    translated to CivitAI's version + model JSON, then built like any other answer."""
    get = _ci_get(cm)
    if not get("ModelId") or not _agreeing_hash(get("Hashes"), hashes):
        return None
    meta = _ci_get(_dict(get("FileMetadata")))
    files = []
    if get("FileMetadata"):
        files = [{"primary": True, "metadata": {"format": meta("Format"), "fp": meta("Fp")}}]
    stats = {k[:1].lower() + k[1:]: v for k, v in _dict(get("Stats")).items()}
    version = {
        "id": get("VersionId"),
        "modelId": get("ModelId"),
        "name": get("VersionName"),
        "baseModel": get("BaseModel"),
        "description": get("VersionDescription"),
        "trainedWords": get("TrainedWords"),
        "files": files,
    }
    model = {
        "id": get("ModelId"),
        "name": get("ModelName"),
        "type": get("ModelType"),
        "description": get("ModelDescription"),
        "tags": get("Tags"),
        "stats": stats,
        "nsfw": bool(get("Nsfw")),
    }
    return build_civitai_info(version, model, "sidecar", web_base=web_base)


def from_rgthree(data: dict, hashes: dict, web_base: str) -> dict | None:
    """``<file>.rgthree-info.json`` (rgthree-comfy's model info, py/server/utils_info.py):
    ``sha256`` (lower-case hex) and ``raw.civitai``, the by-hash answer it fetched (with its
    own ``_sha256``; an ``{"error": …}`` when CivitAI did not know the file: ignored). Its
    CivitAI data counts when its hash agrees with the file."""
    version = _dict(_dict(data.get("raw")).get("civitai"))
    if not isinstance(version.get("id"), int) or not isinstance(version.get("modelId"), int):
        return None
    info = from_civitai_info(version, hashes, web_base)
    sha = data.get("sha256") or version.get("_sha256")
    if info is None and isinstance(sha, str) and sha.upper() == str(hashes.get("SHA256")).upper():
        info = _from_version(version, sha.upper(), web_base)
    return info


@dataclass(frozen=True)
class SidecarFormat:
    """A sidecar file name (``<stem><suffix>``, and/or ``<file name><suffix>``: ``full_name``
    adds it, ``stem_name=False`` drops the stem form) and the adapter that reads it."""

    suffix: str
    adapt: Adapter
    full_name: bool = False
    stem_name: bool = True

    def names(self, model_name: str) -> list[str]:
        stem = os.path.splitext(model_name)[0]
        return ([stem + self.suffix] if self.stem_name else []) + (
            [model_name + self.suffix] if self.full_name else []
        )


#: Tried in this order; the first sidecar that agrees wins.
SIDECAR_FORMATS = (
    SidecarFormat(".civitai.info", from_civitai_info, full_name=True),
    SidecarFormat(".metadata.json", from_lora_manager),
    SidecarFormat(".cm-info.json", from_cm_info),
    SidecarFormat(".rgthree-info.json", from_rgthree, full_name=True, stem_name=False),
)
SIDECAR_SUFFIXES = tuple(f.suffix for f in SIDECAR_FORMATS)
#: The one sidecar the pack writes (``--write-sidecars``), in Civitai-Helper's layout.
WRITTEN = SIDECAR_FORMATS[0]


def sidecar_candidates(model_name: str) -> list[tuple[str, SidecarFormat]]:
    """Every sidecar file name of a model file name, with its format, in the order tried."""
    return [(name, fmt) for fmt in SIDECAR_FORMATS for name in fmt.names(model_name)]
