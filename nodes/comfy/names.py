"""Safe (folder, name) → file resolution, and the model folders as ComfyUI registers them.

Inside ComfyUI anyone on the network can call the routes, so a request names a model only
by (ComfyUI folder name, path relative to that folder). A name is refused before anything
is read if it could point elsewhere: ``..`` or ``.`` segments, empty segments (``//``), an
absolute path or drive, backslashes, NUL, or a percent-escape of a dot, slash, backslash,
NUL or percent (the raw URL is checked by the routes too). Symlinks inside a model folder
are fine: the rule is about the names in requests, not about where files live.

``folder_paths`` is ComfyUI's module (or the test stand-in): passed in, never imported.
"""

import os
import re

from ..scan import OTHER, is_model_file, registered_model_folders

_DANGEROUS_ESCAPE = re.compile(r"%(2e|2f|5c|00|25)", re.IGNORECASE)
_DRIVE = re.compile(r"^[A-Za-z]:")


class BadName(ValueError):
    """The request names a model in a way that is refused (HTTP 400)."""


class ModelNotFound(LookupError):
    """No such model file in that folder (HTTP 404)."""


def has_dangerous_escape(text: str) -> bool:
    """True when ``text`` holds a percent-escape that could hide a dot, slash or NUL."""
    return bool(_DANGEROUS_ESCAPE.search(text))


def check_name(name) -> str:
    """Return ``name`` if it is a safe relative model name, else raise ``BadName``."""
    if not isinstance(name, str) or not name:
        raise BadName("The model name is missing.")
    if "\x00" in name or "\\" in name:
        raise BadName("The model name contains a forbidden character.")
    if name.startswith("/") or _DRIVE.match(name):
        raise BadName("The model name must be relative to its folder, not an absolute path.")
    if has_dangerous_escape(name):
        raise BadName("The model name contains an encoded escape; send the plain name.")
    for part in name.split("/"):
        if part in ("", ".", ".."):
            raise BadName("The model name must not contain empty, '.' or '..' segments.")
    return name


def model_folders(folder_paths) -> dict[str, list[str]]:
    """``{folder name: [existing directories]}`` for every model folder ComfyUI registers
    (extra model paths included), plus ``"other"`` (see ``registered_model_folders``)."""
    return registered_model_folders(folder_paths.folder_names_and_paths, folder_paths.models_dir)


def check_folder(folder_paths, folder) -> str:
    """Return ``folder`` if it is a model folder ComfyUI knows (or ``other``)."""
    if not isinstance(folder, str) or not folder:
        raise BadName("The folder is missing.")
    if folder not in model_folders(folder_paths):
        raise ModelNotFound(f"Unknown model folder {folder!r}.")
    return folder


def resolve(folder_paths, folder, name) -> str:
    """The file for (folder, name), or ``BadName`` / ``ModelNotFound``. Nothing outside the
    folder's directories is opened: the name is checked before any filesystem call."""
    name = check_name(name)
    folder = check_folder(folder_paths, folder)
    if not is_model_file(name):
        raise ModelNotFound(f"{folder}/{name} is not a model file.")
    if folder == OTHER:
        roots = [folder_paths.models_dir]
        candidates = [os.path.join(roots[0], *name.split("/"))]
    else:
        roots = model_folders(folder_paths)[folder]
        found = folder_paths.get_full_path(folder, name)
        candidates = [found] if found else []
    for path in candidates:
        # Lexical containment (no realpath): symlinked files and folders stay allowed.
        path = os.path.normpath(os.path.abspath(path))
        inside = any(path.startswith(os.path.normpath(r) + os.sep) for r in roots)
        if inside and os.path.isfile(path):
            return path
    raise ModelNotFound(f"No model {folder}/{name}.")


def split_choice(choice) -> tuple[str, str]:
    """``"loras/sub/x.safetensors"`` → ``("loras", "sub/x.safetensors")`` (BadName if not)."""
    if not isinstance(choice, str) or "/" not in choice:
        raise BadName("Pick a model as '<folder>/<file name>'.")
    folder, name = choice.split("/", 1)
    return folder, check_name(name)


def model_choices(folder_paths) -> list[str]:
    """Every model file as ``<folder>/<relative name>``, sorted. Registered folders come
    from ``folder_paths.get_filename_list`` (ComfyUI caches it: /object_info stays fast on a
    big library); ``other`` walks only the part of ``models_dir`` no folder claims."""
    folders = model_folders(folder_paths)
    choices = set()
    for folder in folders:
        if folder == OTHER:
            continue
        try:
            found = folder_paths.get_filename_list(folder)
        except Exception:  # noqa: BLE001 - one odd folder must not break the node list
            continue
        choices.update(f"{folder}/{n.replace(os.sep, '/')}" for n in found if is_model_file(n))
    choices.update(f"{OTHER}/{n}" for n in _unclaimed_files(folder_paths.models_dir, folders))
    return sorted(choices)


def _unclaimed_files(models_dir: str, folders: dict[str, list[str]]) -> list[str]:
    claimed = {os.path.realpath(d) for f, dirs in folders.items() if f != OTHER for d in dirs}
    seen: set[str] = set()
    found = []
    for root, dirs, files in os.walk(models_dir, followlinks=True):
        real = os.path.realpath(root)
        if real in seen:  # a symlink loop or a second link to the same directory
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = sorted(d for d in dirs if os.path.realpath(os.path.join(root, d)) not in claimed)
        rel = os.path.relpath(root, models_dir)
        for f in files:
            if is_model_file(f):
                found.append(f if rel == "." else f"{rel}/{f}".replace(os.sep, "/"))
    return found
