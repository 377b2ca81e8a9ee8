"""Link by hand: "this file IS that CivitAI version", for a file CivitAI can't match by hash
(a converted or re-saved file). See docs/internals.md "Manual links".

The link is stored as the file's SHA256 lookup, ``identified`` with ``matched_by`` "manual":
a re-scan keeps it while the file is unchanged (identified hashes are not asked again, and
the model-data refresh skips manual links), and it is gone when the file changes (a new
SHA256 has no lookup). A later CivitAI match by hash replaces it (better knowledge).
"""

from ....civitai import CivitaiError, parse_civitai_ref
from ..progress import ScanProgress

# sizes within this many bytes count as the same file (CivitAI's sizeKB is rounded)
SIZE_SLACK = 2048


class BadLink(ValueError):
    """The link request is wrong (bad URL or id, file not linkable); a sentence (HTTP 400)."""


class LinkFailed(RuntimeError):
    """CivitAI could not answer; a sentence (HTTP 502)."""


async def link_file(scanner, folder: str, name: str, ref) -> tuple[dict, str | None]:
    """Link ``folder``/``name`` to the version ``ref`` points at (a CivitAI URL or an AIR,
    see ``civitai.mapping.parse_civitai_ref``): ``(record, warning or None)``. The warning
    says when none of the version's files has the local file's size (linked anyway)."""
    try:
        model_id, version_id = parse_civitai_ref(ref)
    except ValueError as exc:
        raise BadLink(str(exc)) from exc
    if scanner.client is None:
        raise LinkFailed("Linking needs CivitAI (this run is offline).")
    f = await scanner.hashed_file(folder, name, ScanProgress(None))
    if not f.sha256:
        raise BadLink(f"{folder}/{name} cannot be linked: {f.file_error or 'no hash'}")
    try:
        info, sizes_kb = await scanner.client.link(model_id, version_id)
    except CivitaiError as exc:
        if getattr(exc, "status", None) == 404 or isinstance(exc, LookupError):
            raise BadLink(str(exc)) from exc
        raise LinkFailed(str(exc)) from exc
    scanner.store.save_outcome(f.sha256, "identified", info, matched_by="manual")
    size = f.identity[2]
    warning = None
    if not any(abs(kb * 1024 - size) <= SIZE_SLACK for kb in sizes_kb):
        theirs = ", ".join(_mib(kb * 1024) for kb in sizes_kb) or "no file sizes"
        warning = (
            f"Linked, but this file ({_mib(size)}) differs in size from the files of "
            f"{info.get('model_name') or 'that model'} {info.get('version_name') or ''} "
            f"({theirs}); check that it is the right version."
        ).replace("  ", " ")
    return scanner.store.get_record(folder, name), warning


def unlink_file(store, folder: str, name: str) -> dict:
    """Forget a manual link; the file is then ``not_checked`` (the next scan asks CivitAI by
    hash again). BadLink when the file has no manual link."""
    row = store.get_file(folder, name)
    if row is None or not row.sha256:
        raise BadLink(f"{folder}/{name} has not been scanned or linked.")
    if not store.forget_manual(row.sha256):
        raise BadLink(f"{folder}/{name} is not linked by hand; nothing to unlink.")
    return store.get_record(folder, name)


def _mib(size: float) -> str:
    return f"{size / 2**20:.1f} MiB" if size >= 2**20 else f"{size / 1024:.0f} KiB"
