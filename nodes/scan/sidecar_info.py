"""Turn what other tools saved next to a model into our ``civitai_info`` (matched_by
"sidecar"): a CivitAI model-version JSON (Civitai-Helper, SwarmUI, LoRA Manager's "civitai"
object) or Stability Matrix's ConnectedModelInfo. Every field is read defensively: these
files are written by many versions of many tools."""

from ...civitai import build_civitai_info, category_for_type
from ..store import iso, utc_now

WEB = "https://civitai.com"


def _list(value) -> list:
    return [v for v in value if isinstance(v, (str, int, float))] if isinstance(value, list) else []


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _int(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _tags(value) -> list[str]:
    # CivitAI returns tag strings; some dumps have {"name": ...} objects
    out = []
    for tag in value if isinstance(value, list) else []:
        name = tag.get("name") if isinstance(tag, dict) else tag
        if isinstance(name, str) and name:
            out.append(name)
    return out


def _stats(value) -> dict:
    stats = _dict(value)
    keys = {
        "downloadCount": "download_count",
        "thumbsUpCount": "thumbs_up_count",
        "thumbsDownCount": "thumbs_down_count",
        "commentCount": "comment_count",
        "tippedAmountCount": "tipped_amount_count",
    }
    return {snake: _int(stats.get(camel)) for camel, snake in keys.items() if camel in stats}


def _url(model_id, version_id) -> str | None:
    if model_id is None:
        return None
    url = f"{WEB}/models/{model_id}"
    return url + (f"?modelVersionId={version_id}" if version_id is not None else "")


def info_from_version(version: dict, file: dict | None, model: dict | None = None) -> dict:
    """A CivitAI model-version object (``file`` = the entry of ``files[]`` that matched;
    ``model`` = a parent model object, when the tool kept one) → civitai_info."""
    short = _dict(version.get("model"))
    # LoRA Manager keeps tags/description in the version's "model": use it as the parent
    parent = model or (short if ("tags" in short or "description" in short) else None)
    matched = _dict(_dict(file).get("hashes")).get("SHA256")
    return build_civitai_info(version, parent, "sidecar", matched_hash=matched)


def info_from_cm_info(cm: dict) -> dict:
    """Stability Matrix's ConnectedModelInfo (PascalCase keys) → civitai_info."""
    get = _ci_get(cm)
    model_id, version_id = _int(get("ModelId")), _int(get("VersionId"))
    model_type = get("ModelType") if isinstance(get("ModelType"), str) else None
    meta = _dict(get("FileMetadata"))
    meta_get = _ci_get(meta)
    return {
        "model_id": model_id,
        "version_id": version_id,
        "model_name": get("ModelName") if isinstance(get("ModelName"), str) else None,
        "version_name": get("VersionName") if isinstance(get("VersionName"), str) else None,
        "type": model_type,
        "category": category_for_type(model_type),
        "base_model": get("BaseModel") if isinstance(get("BaseModel"), str) else None,
        "description": get("ModelDescription")
        if isinstance(get("ModelDescription"), str)
        else None,
        "version_description": get("VersionDescription")
        if isinstance(get("VersionDescription"), str)
        else None,
        "creator": None,
        "tags": _tags(get("Tags")),
        "trained_words": [w for w in _list(get("TrainedWords")) if isinstance(w, str)],
        "stats": _stats({k[0].lower() + k[1:]: v for k, v in _dict(get("Stats")).items()}),
        "images": [],
        "nsfw": bool(get("Nsfw") or False),
        "file": {
            "name": None,
            "size_kb": None,
            "format": meta_get("Format"),
            "fp": meta_get("Fp"),
            "primary": True,
        }
        if meta
        else None,
        "matched_by": "sidecar",
        "url": _url(model_id, version_id),
        "fetched_at": iso(utc_now()),
    }


def _ci_get(obj: dict):
    """Case-insensitive key access (Stability Matrix has written both PascalCase and
    camelCase over time)."""
    lowered = {k.lower(): v for k, v in obj.items() if isinstance(k, str)}
    return lambda key: lowered.get(key.lower())
