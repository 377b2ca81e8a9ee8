"""Record views for ``GET models?view=``: ``full`` (the stored record) or ``brief``.

``brief`` keeps every record key and every ``civitai_info`` key (docs/internals.md: "never a missing
key"), but empties what only the details view shows, so 10,000 records are a fraction of
the full answer: ``description``, ``version_description``, ``creator`` and ``file`` become
null, and ``images`` keeps only the thumbnail candidates; ``detected`` keeps its keys but
not ``training`` or ``evidence``. The details view fetches the
full record (``GET models/{folder}/{name}``).
"""

from ..store import DETAIL_KEYS, brief_info, thumbnail_images

VIEWS = ("full", "brief")
# DETAIL_KEYS (nulled in the brief view) and the thumbnail rule have one definition, in the
# store (nodes/store/info_parts.py), which also writes each info's brief part by them.
__all__ = ["DETAIL_KEYS", "VIEWS", "BadView", "brief_info", "brief_record", "check_view",
           "thumbnail_images", "with_user_notes"]  # fmt: skip


class BadView(ValueError):
    """``view`` is not one of VIEWS; the message is a sentence for the client."""


def check_view(view) -> str:
    """``None``/empty → ``full``; an unknown value raises BadView."""
    if not view:
        return "full"
    if view not in VIEWS:
        raise BadView(f"view must be one of {', '.join(VIEWS)} (got {str(view)[:40]!r}).")
    return view


def brief_record(record: dict) -> dict:
    """A copy of ``record`` with its ``civitai_info`` trimmed (see the module docstring), and
    its header verdict's ``training`` (up to 20 tags) and ``evidence`` emptied."""
    brief = dict(record)
    if record.get("civitai_info"):
        brief["civitai_info"] = brief_info(record["civitai_info"])
    if record.get("detected"):
        brief["detected"] = {**record["detected"], "training": None, "evidence": []}
    return brief


def with_user_notes(record: dict, path: str) -> dict:
    """``record`` plus ``user_notes`` (A1111/Forge's ``<stem>.json`` beside ``path``, see
    nodes/scan/sidecars.py, or None) and ``notes_trigger_words``: the activation text's words
    when CivitAI gave no trigger words (shown "from your notes"), else []. Reads one file:
    for one record (details, nodes), never for lists."""
    from ..scan import notes_trigger_words, read_user_notes

    notes = read_user_notes(path)
    info = record.get("civitai_info") or {}
    words = [] if info.get("trained_words") else notes_trigger_words(notes)
    return {**record, "user_notes": notes, "notes_trigger_words": words}
