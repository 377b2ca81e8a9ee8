"""Previews beside the model: ``<stem>.preview.<ext>`` from the model's CivitAI images, so
ComfyUI's model library (``/experiment/models/preview/…``) and other pickers show a picture.
Opt-in, never overwriting. The rules (docs/internals.md "Previews beside models"):

- only for an identified model with no preview yet: ``<stem>.preview.*`` or
  ``<stem>.png|jpg|jpeg|webp|gif`` (what ComfyUI's lookup and the common pickers read);
- the image: the first of ``civitai_info["images"]`` with ``type`` "image" whose NSFW level
  is known and at most the threshold (default PG-13; ``CIVITAI_IDENTIFY_PREVIEW_NSFW``);
  none suitable → no preview;
- the extension comes from the bytes' magic number (PNG, JPEG, WebP, GIF), never from the
  URL: CivitAI's CDN often sends PNG for a ``.jpeg`` URL; anything else is refused;
- written next to the model file only (a name built from its own stem, in its own
  directory), through a temp file created exclusively and hard-linked into place, so a
  reader never sees half an image and an existing file is never replaced; the model file is
  never opened;
- downloads go one at a time, with a timeout and a size cap, through the client's one HTTP
  session; they are not API calls, so they skip the 3 s spacing.
"""

import logging
import os
import tempfile

from ....civitai import NSFW_LEVEL_NAMES

_log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".gif")
NSFW_LEVELS = {name: 1 << i for i, name in enumerate(NSFW_LEVEL_NAMES)}  # PG 1 … XXX 16
DEFAULT_NSFW = "PG-13"
MAX_PREVIEW_BYTES = 16 * 2**20


def preview_paths(model_path: str) -> list[str]:
    """Every file name that counts as this model's preview already."""
    stem = os.path.splitext(model_path)[0]
    return [stem + suffix for ext in IMAGE_EXTENSIONS for suffix in (ext, ".preview" + ext)]


def has_preview(model_path: str) -> bool:
    return any(os.path.lexists(p) for p in preview_paths(model_path))


def choose_image(info: dict | None, max_level: int) -> dict | None:
    """The first still image at or under ``max_level`` (CivitAI's bit-flag levels)."""
    for image in (info or {}).get("images") or []:
        if not isinstance(image, dict) or image.get("type", "image") != "image":
            continue
        level = image.get("nsfw_level")
        if isinstance(level, int) and not isinstance(level, bool) and 0 < level <= max_level:
            if isinstance(image.get("url"), str) and image["url"].startswith(
                ("http://", "https://")
            ):
                return image
    return None


def image_extension(data: bytes) -> str | None:
    """``"png"``, ``"jpg"``, ``"webp"``, ``"gif"`` from the magic number; None otherwise."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    return None


def write_preview(model_path: str, data: bytes) -> str:
    """Write ``data`` as ``<stem>.preview.<ext>`` beside ``model_path``; returns its path.
    Raises ValueError (not an image) or FileExistsError (a preview is there already)."""
    ext = image_extension(data)
    if ext is None:
        raise ValueError("CivitAI sent something that is not a PNG, JPEG, WebP or GIF image.")
    directory = os.path.dirname(os.path.abspath(model_path))
    stem = os.path.splitext(os.path.basename(model_path))[0]
    target = os.path.join(directory, f"{stem}.preview.{ext}")
    if has_preview(model_path):
        raise FileExistsError(f"{os.path.basename(target)} or another preview exists already.")
    fd, tmp = tempfile.mkstemp(prefix=f".{stem[:40]}.", suffix=".part", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, target)  # atomic, and fails (never replaces) if the name exists
        except FileExistsError:
            raise
        except OSError:  # a filesystem without hard links: exclusive create, then copy
            with open(target, "xb") as out:
                out.write(data)
    finally:
        os.unlink(tmp)
    return target


def nsfw_limit(name: str | None) -> int:
    """The threshold's level (``"PG-13"`` → 2); an unknown name → PG-13's."""
    return NSFW_LEVELS.get((name or DEFAULT_NSFW).strip().upper(), NSFW_LEVELS[DEFAULT_NSFW])


async def save_preview(client, model_path: str, info: dict | None, max_level: int) -> str:
    """Download and write one preview. Returns "written", "exists" or "no_image"; raises
    ValueError / OSError / CivitaiError with a sentence on a failed download or write."""
    import asyncio

    if await asyncio.to_thread(has_preview, model_path):
        return "exists"
    image = choose_image(info, max_level)
    if image is None:
        return "no_image"
    data = await client.fetch_image(image["url"], max_bytes=MAX_PREVIEW_BYTES)
    try:
        path = await asyncio.to_thread(write_preview, model_path, data)
    except FileExistsError:
        return "exists"
    _log.info("preview written: %s", os.path.basename(path))
    return "written"


async def write_previews(store, client, files, max_level: int, cancel=None) -> dict:
    """Previews for this scan's identified ``files`` (FileRow/FileUpdate) that have none:
    ``{"written", "no_image", "failed"}``. One at a time; a failure is logged and skipped."""
    import asyncio

    counts = {"written": 0, "no_image": 0, "failed": 0}
    states = store.lookup_states()
    todo = [f for f in files if f.sha256 and states.get(f.sha256, ("",))[0] == "identified"]
    for f in todo:
        if cancel is not None and cancel():
            break
        if await asyncio.to_thread(has_preview, f.path):
            continue
        record = store.get_record(f.folder, f.name) or {}
        try:
            result = await save_preview(client, f.path, record.get("civitai_info"), max_level)
        except (ValueError, OSError) as exc:  # CivitaiError is an OSError
            _log.warning("no preview for %s/%s: %s", f.folder, f.name, exc)
            counts["failed"] += 1
            continue
        if result in counts:
            counts[result] += 1
    return counts
