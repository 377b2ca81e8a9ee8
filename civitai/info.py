"""The ``civitai_info`` contract (``CivitaiInfo``) and its one builder, ``build_civitai_info``:
CivitAI version (+ parent model) JSON → the pack's ``civitai_info``.

Every producer goes through ``build_civitai_info``: the CivitAI client, and each sidecar
adapter (nodes/scan/sidecar_info.py turns another tool's file into CivitAI-shaped JSON
first). Defensive by design: fields come and go in CivitAI's answers, so a missing field
becomes None or [] and an unknown one is ignored. Every key of ``CivitaiInfo`` is always
there. See docs/internals.md ("civitai_info").

``update`` (find_update) is a newer version for the same base model, found in the parent
model CivitAI already sent (``GET /models?ids=`` carries every version: ``modelVersions``),
so an update notice costs no request. The rules (docs/internals.md "Update notices"):

- only versions of the same model, with the same ``baseModel`` (an SDXL LoRA's Flux port is
  not an update), that are published (``publishedAt`` set; ``status`` absent or Published);
- newer by publish date than the local version (a version without a date is never newer,
  and a local version without a date has no update: the order cannot be known);
- a version that also contains the local file (any of its file hashes equals the hash that
  matched) is not an update: the same file re-released under a new version name;
- the newest such version wins (ties: the higher version id).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, TypedDict

from .constants import DEFAULT_WEB_BASE
from .types import category_for_type


class Creator(TypedDict):
    username: str
    image: str | None


class _Counts(TypedDict):
    download_count: int | float | None
    thumbs_up_count: int | float | None
    thumbs_down_count: int | float | None
    comment_count: int | float | None
    tipped_amount_count: int | float | None


class Stats(_Counts, total=False):
    rating: int | float  # only when CivitAI gave one


class Image(TypedDict):
    url: str | None
    width: int | None
    height: int | None
    nsfw_level: int | None  # CivitAI's bit flags: 1 PG, 2 PG-13, 4 R, 8 X, 16 XXX
    type: str  # "image" | "video" | …


class FileInfo(TypedDict):
    name: str | None
    size_kb: int | float | None
    format: str | None
    fp: str | None
    primary: bool


class Update(TypedDict):
    """A newer version of the same model for the same base model (find_update)."""

    version_id: int
    version_name: str | None
    base_model: str
    published_at: str  # UTC, "YYYY-MM-DDTHH:MM:SSZ"
    url: str


class CivitaiInfo(TypedDict):
    """What the pack knows about a model version (stored as JSON in the model store, given
    to the panel, the nodes and the CLI)."""

    model_id: int | None
    version_id: int | None
    model_name: str | None
    version_name: str | None
    type: str | None  # CivitAI's model type, e.g. "LORA"
    category: str  # the ComfyUI folder name for that type ("loras"; else "other")
    base_model: str | None
    description: str | None  # CivitAI's HTML, unsanitised (the panel sanitises)
    version_description: str | None
    creator: Creator | None
    tags: list[str]
    trained_words: list[str]
    stats: Stats
    images: list[Image]
    nsfw: bool
    file: FileInfo | None  # the file that matched (else the primary one)
    matched_by: str  # "SHA256" | "AutoV2" | … | "sidecar"
    url: str | None  # <web base>/models/<id>?modelVersionId=<id>
    update: Update | None  # a newer version for the same base model, else None
    fetched_at: str  # UTC, "YYYY-MM-DDTHH:MM:SSZ"


# Older answers carry images[].nsfw as a string; newer ones a bit-flag nsfwLevel.
_OLD_NSFW = {"none": 1, "soft": 2, "mature": 4, "x": 8}
_STATS = {
    "downloadCount": "download_count",
    "thumbsUpCount": "thumbs_up_count",
    "thumbsDownCount": "thumbs_down_count",
    "commentCount": "comment_count",
    "tippedAmountCount": "tipped_amount_count",
    "rating": "rating",
}


def build_civitai_info(
    version: dict,
    model: dict | None,
    matched_by: str,
    *,
    matched_hash: str | None = None,
    web_base: str = DEFAULT_WEB_BASE,
    now: datetime | None = None,
) -> CivitaiInfo:
    """The ``civitai_info`` dict for ``version`` (a model-version object) and its parent
    ``model`` (from ``/models``; None when that call failed: tags [], creator None, …).

    ``matched_hash`` picks the file whose hashes contain it; otherwise the primary file.
    ``web_base`` is the site of the links (``Settings.web_base``: civitai.red for a
    civitai.red API base).
    ``update``: a newer version for the same base model, from ``model["modelVersions"]``
    (find_update below), or None.
    """
    version = _dict(version)
    model = _dict(model)
    short = _dict(version.get("model"))  # the version's own {name, type, nsfw, poi}
    model_id = _int(version.get("modelId")) or _int(model.get("id"))
    version_id = _int(version.get("id"))
    model_type = _str(model.get("type")) or _str(short.get("type"))
    nsfw = model.get("nsfw") if isinstance(model.get("nsfw"), bool) else short.get("nsfw")
    url = None
    if model_id is not None:
        url = f"{web_base}/models/{model_id}"
        if version_id is not None:
            url += f"?modelVersionId={version_id}"
    return {
        "model_id": model_id,
        "version_id": version_id,
        "model_name": _str(model.get("name")) or _str(short.get("name")),
        "version_name": _str(version.get("name")),
        "type": model_type,
        "category": category_for_type(model_type),
        "base_model": _str(version.get("baseModel")),
        "description": _str(model.get("description")),
        "version_description": _str(version.get("description")),
        "creator": _creator(model.get("creator")),
        "tags": _tags(model.get("tags")),
        "trained_words": [w for w in _list(version.get("trainedWords")) if isinstance(w, str)],
        "stats": _stats(model.get("stats") if model else version.get("stats")),
        "images": [_image(i) for i in _list(version.get("images")) if isinstance(i, dict)],
        "nsfw": bool(nsfw),
        "file": _file(_list(version.get("files")), matched_hash),
        "matched_by": matched_by,
        "url": url,
        "update": find_update(version, model, matched_hash, web_base=web_base),
        "fetched_at": (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


#: What ``build_civitai_info`` and ``find_update`` read of a parent model and its versions
_MODEL_KEYS = ("id", "name", "type", "nsfw", "description", "creator", "tags", "stats")
_VERSION_KEYS = ("id", "name", "baseModel", "status", "publishedAt")


def slim_model(model: Any) -> Any:
    """``model`` (a ``/models`` entry) with only what ``build_civitai_info`` reads: a lookup
    keeps each parent model for later versions of it, and a real one carries every
    version's images and files (tens of KB); the same info is built from this."""
    if not isinstance(model, dict):
        return model
    slim = {k: model[k] for k in _MODEL_KEYS if k in model}
    versions = model.get("modelVersions")
    if isinstance(versions, list):
        slim["modelVersions"] = [_slim_version(v) for v in versions]
    return slim


def _slim_version(version: Any) -> Any:
    if not isinstance(version, dict):
        return version
    slim = {k: version[k] for k in _VERSION_KEYS if k in version}
    files = version.get("files")
    if isinstance(files, list):  # find_update skips a version holding the matched hash
        slim["files"] = [{"hashes": f.get("hashes")} if isinstance(f, dict) else f for f in files]
    return slim


def find_update(
    version: dict,
    model: dict | None,
    matched_hash: str | None = None,
    *,
    web_base: str = "https://civitai.com",
) -> dict | None:
    """``{"version_id", "version_name", "base_model", "published_at", "url"}`` or None."""
    if not isinstance(version, dict) or not isinstance(model, dict):
        return None
    versions = [v for v in _list(model.get("modelVersions")) if isinstance(v, dict)]
    local_id = version.get("id")
    base = version.get("baseModel")
    local_entry = next((v for v in versions if v.get("id") == local_id), {})
    local_date = published_at(version) or published_at(local_entry)
    if not isinstance(base, str) or not base or local_date is None:
        return None
    wanted = matched_hash.upper() if isinstance(matched_hash, str) and matched_hash else None
    best, best_key = None, None
    for v in versions:
        vid = v.get("id")
        if not _is_id(vid) or vid == local_id or v.get("baseModel") != base:
            continue
        if v.get("status") not in (None, "Published"):
            continue
        date = published_at(v)
        if date is None or date <= local_date:
            continue
        if wanted and _has_hash(v, wanted):
            continue
        key = (date, vid)
        if best_key is None or key > best_key:
            best, best_key = v, key
    if best is None:
        return None
    model_id = model.get("id") if _is_id(model.get("id")) else version.get("modelId")
    return {
        "version_id": best["id"],
        "version_name": best.get("name") if isinstance(best.get("name"), str) else None,
        "base_model": base,
        "published_at": best_key[0].strftime("%Y-%m-%dT%H:%M:%SZ"),
        "url": f"{web_base}/models/{model_id}?modelVersionId={best['id']}",
    }


def published_at(version: Any) -> datetime | None:
    """``publishedAt`` as an aware UTC datetime (CivitAI sends it with or without ``Z`` and
    milliseconds); None when absent or unreadable."""
    raw = version.get("publishedAt") if isinstance(version, dict) else None
    if not isinstance(raw, str) or not raw.strip():
        return None
    text = raw.strip().replace("Z", "+00:00")
    try:
        date = datetime.fromisoformat(text)
    except ValueError:
        return None
    return date.replace(tzinfo=timezone.utc) if date.tzinfo is None else date


def _has_hash(version: dict, wanted: str) -> bool:
    for file in _list(version.get("files")):
        hashes = file.get("hashes") if isinstance(file, dict) else None
        if isinstance(hashes, dict) and any(
            isinstance(h, str) and h.upper() == wanted for h in hashes.values()
        ):
            return True
    return False


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _creator(creator: Any) -> dict | None:
    if not isinstance(creator, dict) or not _str(creator.get("username")):
        return None
    return {"username": creator["username"], "image": _str(creator.get("image"))}


def _tags(tags: Any) -> list[str]:
    out = []
    for tag in _list(tags):
        name = tag.get("name") if isinstance(tag, dict) else tag  # old answers: {"name": …}
        if isinstance(name, str) and name:
            out.append(name)
    return out


def _stats(stats: Any) -> dict:
    stats = _dict(stats)
    out = {key: _number(stats.get(src)) for src, key in _STATS.items() if src != "rating"}
    if _number(stats.get("rating")) is not None:
        out["rating"] = stats["rating"]
    return out


def _image(image: dict) -> dict:
    level = image.get("nsfwLevel")
    if not isinstance(level, int) or isinstance(level, bool):
        old = image.get("nsfw")
        level = _OLD_NSFW.get(old.lower()) if isinstance(old, str) else None
        if level is None and isinstance(old, bool):
            level = 4 if old else 1
    return {
        "url": _str(image.get("url")),
        "width": _int(image.get("width")),
        "height": _int(image.get("height")),
        "nsfw_level": level,
        "type": _str(image.get("type")) or "image",
    }


def _file(files: list, matched_hash: str | None) -> dict | None:
    files = [f for f in files if isinstance(f, dict)]
    chosen = None
    if matched_hash:
        wanted = matched_hash.upper()
        chosen = next(
            (f for f in files if any(
                isinstance(v, str) and v.upper() == wanted
                for v in _dict(f.get("hashes")).values()
            )),
            None,
        )  # fmt: skip
    chosen = chosen or next((f for f in files if f.get("primary") is True), None)
    chosen = chosen or (files[0] if files else None)
    if chosen is None:
        return None
    meta = _dict(chosen.get("metadata"))
    return {
        "name": _str(chosen.get("name")),
        "size_kb": _number(chosen.get("sizeKB")),
        "format": _str(meta.get("format")),
        "fp": _str(meta.get("fp")),
        "primary": chosen.get("primary") is True,
    }


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value != "" else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: Any) -> int | float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
