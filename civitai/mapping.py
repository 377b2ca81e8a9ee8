"""Pure helpers: map CivitAI's bulk answers back to the hashes asked, and read the model
references users paste (URLs, AIRs) — no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .info import published_at
from .responses import expect

_SHA256 = re.compile(r"^[0-9A-F]{64}$")
_HEX = re.compile(r"^[0-9A-F]{6,64}$")
# Hash kinds by length, for when the answer does not show which file hash matched.
_KIND_BY_LENGTH = {8: "CRC32", 10: "AutoV2", 12: "AutoV3", 64: "SHA256"}


def normalize(hash_: Any) -> str:
    return hash_.strip().upper() if isinstance(hash_, str) else ""


def is_sha256(norm: str) -> bool:
    """64 hex digits. (A BLAKE3 has the same form: the client treats it as a SHA256.)"""
    return bool(_SHA256.match(norm))


def is_hash(norm: str) -> bool:
    return bool(_HEX.match(norm))


@dataclass
class BulkAnswer:
    """``found``: SHA256 → version; ``archived``: version id → entry with ``files: []``;
    ``bad``: entries that were not version objects, or files without a hashes object (then
    a miss is not proof of unknown);
    ``ambiguous``: hashes several versions share (the lowest version id was kept)."""

    found: dict[str, dict] = field(default_factory=dict)
    archived: dict[int, dict] = field(default_factory=dict)
    bad: int = 0
    ambiguous: set[str] = field(default_factory=set)  # hashes found in several versions


def map_bulk(batch: list[str], data: Any) -> BulkAnswer:
    """Map a POST /model-versions/by-hash answer onto ``batch`` (normalised SHA256s).

    One entry per matching FILE: a version may appear twice, and a hash in two versions
    comes back twice. The lowest version id wins (CivitAI's oldest; deterministic).
    """
    wanted = set(batch)
    answer = BulkAnswer()
    for entry in expect(data, list, "the bulk lookup answer"):
        files = entry.get("files") if isinstance(entry, dict) else None
        if not _is_id(entry, "id") or not isinstance(files, list):
            answer.bad += 1
            continue
        if not files:
            answer.archived[entry["id"]] = entry  # archived model: mapped via by-hash/ids
        for file in files:
            hashes = file.get("hashes") if isinstance(file, dict) else None
            if not isinstance(hashes, dict) or not isinstance(hashes.get("SHA256", ""), str):
                answer.bad += 1  # the hash may have been in there: a miss proves nothing
                continue
            sha = normalize(hashes.get("SHA256"))
            if sha in wanted:
                best = answer.found.get(sha)
                if best is not None and best["id"] != entry["id"]:
                    answer.ambiguous.add(sha)
                if best is None or entry["id"] < best["id"]:
                    answer.found[sha] = entry
    return answer


def map_ids(data: Any) -> dict[str, int]:
    """POST /model-versions/by-hash/ids answer → SHA256 → version id (lowest id wins)."""
    out: dict[str, int] = {}
    for row in expect(data, list, "the hash-to-id answer"):
        if _is_id(row, "modelVersionId") and isinstance(row.get("hash"), str):
            sha = normalize(row["hash"])
            out[sha] = min(out.get(sha, row["modelVersionId"]), row["modelVersionId"])
    return out


def models_by_id(data: Any) -> dict[int, dict]:
    """GET /models?ids= answer → model id → model (entries without an id are skipped)."""
    items = expect(data, dict, "the models answer").get("items")
    return {m["id"]: m for m in expect(items, list, "the models list") if _is_id(m, "id")}


def matched_kind(version: dict, norm: str) -> str:
    """Which of the version's file hashes equals ``norm`` (e.g. "AutoV3")."""
    files = version.get("files")
    for file in files if isinstance(files, list) else []:
        hashes = file.get("hashes") if isinstance(file, dict) else None
        for kind, value in (hashes if isinstance(hashes, dict) else {}).items():
            if normalize(value) == norm:
                return kind
    return _KIND_BY_LENGTH.get(len(norm), "AutoV2")


def _is_id(obj: Any, key: str) -> bool:
    value = obj.get(key) if isinstance(obj, dict) else None
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0  # True is 1


# -- manual links: a CivitAI page URL or an AIR → (model id, version id) ------------------
_AIR = re.compile(r"^urn:air:[^:\s]+:[^:\s]+:civitai:(\d+)(?:@(\d+))?$", re.IGNORECASE)
_SITES = ("civitai.com", "civitai.red", "civitai.green")


def parse_civitai_ref(text: Any) -> tuple[int | None, int | None]:
    """``(model_id, version_id)`` from what a user pastes to say "this file IS that version":

    - ``https://civitai.com/models/123?modelVersionId=456`` (also ``/models/123/some-slug``,
      civitai.red / civitai.green, ``www.``, no scheme) → (123, 456); without
      ``modelVersionId`` → (123, None): the model's newest version;
    - ``https://civitai.com/api/download/models/456`` → (None, 456);
    - an AIR ``urn:air:sdxl:lora:civitai:123@456`` → (123, 456), ``…:civitai:123`` → (123, None).

    Raises ValueError with a sentence for anything else.
    """
    from urllib.parse import parse_qs, urlsplit

    raw = text.strip() if isinstance(text, str) else ""
    if not raw:
        raise ValueError("Give a CivitAI model URL or an AIR (urn:air:…:civitai:ID@VERSION).")
    air = _AIR.match(raw)
    if air:
        return int(air.group(1)), int(air.group(2)) if air.group(2) else None
    if raw.lower().startswith("urn:"):
        raise ValueError(f"{raw[:80]!r} is not a CivitAI AIR (urn:air:…:civitai:ID@VERSION).")
    url = raw if "://" in raw else "https://" + raw
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        host, parts = "", None
    if parts is None or parts.scheme not in ("http", "https") or not any(
        host == site or host.endswith("." + site) for site in _SITES
    ):
        raise ValueError(f"{raw[:80]!r} is not a CivitAI URL (https://civitai.com/models/…).")
    segments = [s for s in parts.path.split("/") if s]
    version = parse_qs(parts.query).get("modelVersionId", [None])[0]
    if len(segments) >= 2 and segments[0] == "models" and segments[1].isdigit():
        if version is not None and not version.isdigit():
            raise ValueError(f"modelVersionId={version[:20]!r} is not a version number.")
        return int(segments[1]), int(version) if version else None
    if segments[:3] == ["api", "download", "models"] and len(segments) == 4:
        if segments[3].isdigit():
            return None, int(segments[3])
    raise ValueError(f"{raw[:80]!r} does not point at a CivitAI model (…/models/<id>).")


def newest_version_id(model: Any) -> int | None:
    """The id of a model's newest published version (by ``publishedAt``; CivitAI lists
    versions newest first, so without dates the first one)."""
    versions = model.get("modelVersions") if isinstance(model, dict) else None
    versions = [v for v in versions if _is_id(v, "id")] if isinstance(versions, list) else []
    dated = [(published_at(v), v["id"]) for v in versions if published_at(v) is not None]
    if dated:
        return max(dated)[1]
    return versions[0]["id"] if versions else None
