"""A civitai_info in three parts (schema 6), so 100,000 records fit the store's budget and
the brief listing reads only what it shows.

- ``brief`` (``lookups.brief``, packed: packing.py; plain JSON text before schema 8): the
  info as ``GET models?view=brief`` shows it,
  every key kept: the details-only keys (``DETAIL_KEYS``) null, ``images`` only the
  thumbnail candidates (``thumbnail_images``). The one definition of both: the store writes
  it, ``nodes/comfy/record_views.py`` trims a record with the same rule.
- ``details`` (``lookups.details``, packed): the version's details-only
  values, and the images the brief did not keep (only those after the brief's when the
  brief's are the first ones, as they nearly always are: the thumbnail is not kept twice).
- the model part (``civitai_models.data`` keyed by CivitAI's model id, compressed): the
  ``MODEL_KEYS`` every version of one model shares (the description is most of an info's
  bytes), written once per model: the last answer wins, but a None never erases a stored
  value. An info without a model id (a sidecar, a manual one) keeps them in its details.

``join_info(brief, details, model)`` gives back the info that was saved (with the model's
latest description). A part that cannot be read gives the brief data and a sentence.
"""

import json
import sqlite3

from ...hashing import connect_existing
from .packing import DICTIONARY, learn_dictionary, pack, register, registered, unpack

# Details-only keys: null in the brief view (the details view fetches the full record).
DETAIL_KEYS = ("description", "version_description", "creator", "file")
# Of those, what belongs to the CivitAI model rather than to one of its versions.
MODEL_KEYS = ("description", "creator")

_ABSENT = "absent keys"  # in details: keys the saved info did not have
_MORE_IMAGES = "images after the brief's"  # in details: the images after the brief's own
UNREADABLE = (
    "The stored CivitAI details of this file cannot be read (the store's copy is damaged); "
    "identify it again to fetch them."
)


def thumbnail_images(images) -> list:
    """The first image, then each later image with a lower ``nsfw_level`` than all before
    it. The panel's thumbnail is "the first image under the blur threshold, else the
    first"; for ANY threshold that image is in this list, so it stays the same as with all
    images. At most one image per NSFW level (≤ 6), usually one."""
    kept, lowest = [], None
    for image in images or []:
        if not isinstance(image, dict):
            continue
        try:  # like the panel's Number(level) || 0
            level = float(image.get("nsfw_level") or 0)
        except (TypeError, ValueError):
            level = 0.0
        if lowest is None or level < lowest:
            kept.append(image)
            lowest = level
    return kept


def brief_info(info: dict | None) -> dict | None:
    """``info`` as the brief view shows it (idempotent: a brief info stays the same)."""
    if not info:
        return info
    brief = {**info, "images": thumbnail_images(info.get("images"))}
    for key in DETAIL_KEYS:
        brief[key] = None
    return brief


def model_id_of(info: dict) -> int | None:
    value = info.get("model_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def split_info(
    info: dict, prose: bytes = DICTIONARY
) -> tuple[bytes, bytes, int | None, dict | None]:
    """→ (brief blob, details blob, model id, model part or None without a model id); the
    details packed with ``prose`` (``prose_dictionary``), the brief with the fixed one."""
    brief = brief_info(info)
    model_id = model_id_of(info)
    inline = DETAIL_KEYS if model_id is None else tuple(k for k in DETAIL_KEYS
                                                        if k not in MODEL_KEYS)  # fmt: skip
    details = {key: info.get(key) for key in inline}
    images, shown = info.get("images"), brief["images"]
    if isinstance(images, list) and images != shown and images[: len(shown)] == shown:
        details[_MORE_IMAGES] = images[len(shown) :]  # the brief holds the first ones
    elif images != shown:
        details["images"] = images
    absent = [key for key in ("images", *DETAIL_KEYS) if key not in info]
    if absent:  # a partial info (tests, old sidecars) comes back without the keys it lacked
        details[_ABSENT] = absent
    model = None if model_id is None else {key: info.get(key) for key in MODEL_KEYS}
    return pack(brief), pack(details, prose), model_id, model


def merge_model(old: dict | None, new: dict) -> dict:
    """The model part to store: ``new`` wins, except where it is None."""
    old = old or {}
    return {key: new.get(key) if new.get(key) is not None else old.get(key) for key in MODEL_KEYS}


def join_info(brief: str | None, details, model, *, full: bool = True):
    """→ (the info, or None; a sentence when a part could not be read, else None).
    ``full=False``: the brief info alone (the details and the model part not read)."""
    if brief is None:
        return None, None
    try:  # packed, or JSON text (before schema 8; 'null' for an info that was damaged then)
        info = json.loads(brief) if isinstance(brief, str) else unpack(brief)
    except (TypeError, ValueError, RecursionError):
        info = None
    if not isinstance(info, dict):
        return None, UNREADABLE
    if not full:
        return info, None
    try:
        parts = unpack(details) if details is not None else {}
        if model_id_of(info) is not None:
            shared = unpack(model) if model is not None else {}
            parts.update({key: shared.get(key) for key in MODEL_KEYS})
    except ValueError:
        return info, UNREADABLE
    absent = parts.pop(_ABSENT, None) or ()
    more = parts.pop(_MORE_IMAGES, None)
    info.update(parts)  # the keys are all in the brief already: their order stays
    if isinstance(more, list):
        info["images"] = [*(info.get("images") or []), *more]
    for key in absent:
        info.pop(key, None)
    return info, None


def save_model(conn, model_id: int, model: dict, prose: bytes = DICTIONARY) -> None:
    """Store a model part (inside the caller's transaction), packed with ``prose``:
    ``model`` wins over the stored part except where it is None; a damaged stored part is
    replaced."""
    row = conn.execute("SELECT data FROM civitai_models WHERE model_id = ?", (model_id,))
    old = row.fetchone()
    try:
        stored = unpack(old[0]) if old else None
    except ValueError:
        stored = None
    conn.execute(
        "INSERT INTO civitai_models (model_id, data) VALUES (?, ?) "
        "ON CONFLICT(model_id) DO UPDATE SET data = excluded.data",
        (model_id, pack(merge_model(stored, model), prose)),
    )


# Descriptions a store learns its prose dictionary from, once it holds that many models.
LEARN_FROM = 300


def prose_dictionary(conn) -> bytes:
    """The dictionary new details and model parts are packed with (inside the caller's
    write transaction): the store's learned one (packing_dictionaries, schema 9), learned
    from its first ``LEARN_FROM`` model descriptions once it has them; until then the
    fixed one. Learned once per store, under the write lock, so every process packs with
    the same one; a reader that has not seen it loads it by its id (packing.add_source)."""
    row = conn.execute("SELECT dict_id FROM packing_dictionaries ORDER BY seq DESC LIMIT 1")
    row = row.fetchone()
    if row is not None:
        data = registered(row[0])
        if data is None:  # learned by another process since this one opened the store
            data = _stored_dictionary(conn, row[0])
            register(data)
        return data
    enough = conn.execute("SELECT 1 FROM civitai_models LIMIT 1 OFFSET ?", (LEARN_FROM - 1,))
    if enough.fetchone() is None:
        return DICTIONARY
    sample = conn.execute("SELECT data FROM civitai_models ORDER BY model_id LIMIT ?",
                          (LEARN_FROM,)).fetchall()  # fmt: skip
    texts = []
    for (blob,) in sample:
        try:
            text = unpack(blob).get("description")
        except ValueError:
            continue  # a damaged part teaches nothing
        if isinstance(text, str):
            texts.append(text)
    data = learn_dictionary(texts)
    conn.execute("INSERT OR IGNORE INTO packing_dictionaries (dict_id, data, learned_at) "
                 "VALUES (?, ?, datetime('now'))", (register(data), data))  # fmt: skip
    return data


def load_dictionaries(conn) -> None:
    """Register every dictionary the store has learned (a store calls this as it opens)."""
    for (data,) in conn.execute("SELECT data FROM packing_dictionaries"):
        register(data)


def learned_dictionary(db_path: str, dict_id: int) -> bytes | None:
    """A dictionary another process learned after this one opened the store at
    ``db_path`` (a store's ``packing.add_source``)."""
    try:  # read-only: a store deleted since must not be made anew (connect_db would)
        conn = connect_existing(db_path, timeout=5.0)
    except sqlite3.Error:
        return None
    try:
        return _stored_dictionary(conn, dict_id)
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def _stored_dictionary(conn, dict_id: int) -> bytes | None:
    row = conn.execute("SELECT data FROM packing_dictionaries WHERE dict_id = ?", (dict_id,))
    row = row.fetchone()
    return row[0] if row else None
