"""List model files under category folders: the scanner's first step, without hashing.

Symlinks are followed; a directory is never walked twice (its (dev, ino) is remembered), so
a symlink loop ends with a "skipped" entry instead of recursion. A file reachable from two
categories (ComfyUI registers ``models/clip`` under both ``clip`` and ``text_encoders``) is
listed once, under the first. Nothing here raises for a bad entry: it goes to ``skipped``.

Only what is not a file is "skipped" (with a reason): FIFOs, sockets and devices, directories
with a model file's name, symlink loops, broken symlinks. Every regular file is an entry, an
empty one too (the scanner records it as an error). Names that are not valid UTF-8 (possible
on Linux) are skipped with a sentence: records,
SQLite and JSON need real text, and a lossy name could not be mapped back to the file.
"""

import errno
import logging
import os
import stat
from dataclasses import dataclass, field

from .folders import MODEL_SUFFIXES
from .sidecar_info import SIDECAR_SUFFIXES

_log = logging.getLogger(__name__)


@dataclass(slots=True)  # not frozen: frozen __init__ is slow, and a scan builds thousands
class Entry:
    """One model file: ``name`` is relative to its folder root, with forward slashes."""

    folder: str
    name: str
    path: str
    st: os.stat_result
    has_sidecar: bool = False  # a file another tool may have written info into is beside it


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str

    def to_json(self) -> dict:
        return {"path": self.path, "reason": self.reason}


@dataclass
class Listing:
    entries: list[Entry] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    #: directory path → the names in it, for directories holding sidecars (lets sidecar
    #: checks avoid extra stat calls)
    dir_names: dict[str, frozenset[str]] = field(default_factory=dict)
    #: folder roots that were actually walked, per category
    roots: dict[str, list[str]] = field(default_factory=dict)
    #: with ``known`` (list_models): the stored rows (``known_files`` tuples) of the files
    #: found unchanged — same (dev, ino, size, mtime_ns), folder and name, hashed, header
    #: verdict stored — instead of entries; every other file is an entry
    unchanged: list[tuple] = field(default_factory=list)
    #: the paths of the ``unchanged`` files that have a sidecar beside them
    unchanged_beside: list[str] = field(default_factory=list)


def _printable(path: str) -> str:
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _is_utf8(name: str) -> bool:
    if name.isascii():
        return True
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # surrogateescape'd bytes from a non-UTF-8 file name
        return False
    return True


def list_models(folders: dict[str, list[str]], cancel=None, within=None, known=None) -> Listing:
    """Walk ``{category: [dirs]}`` and return every model file once.

    A directory that is itself the root of another category is left to that category, so
    ``other`` (the whole models dir in the CLI) only gets files outside the known folders.
    ``within`` (a directory): only what is under it is walked, but names stay relative to
    their folder's root (``scan …/models/loras/sub`` keys files as ``loras``, ``sub/x``).
    ``known`` (``ModelStore.known_files()``): a file whose stored row shows it unchanged
    (see ``Listing.unchanged``) is not made an ``Entry``: its row goes to ``unchanged``.
    """
    listing = Listing()
    all_roots = {}
    for category, dirs in folders.items():
        for d in dirs:
            try:
                all_roots.setdefault(_dir_key(d), category)
            except OSError:
                pass
    walk = _Walk(listing, cancel, known)
    for category, dirs in folders.items():
        for root in dirs:
            root = os.path.abspath(root)
            start = root if within is None else start_within(root, within)
            if start is None:
                continue
            try:
                key = _dir_key(root)
                start_key = _dir_key(start)
            except OSError as exc:
                listing.skipped.append(Skipped(_printable(start), f"folder not readable: {exc}"))
                continue
            others = {k for k, c in all_roots.items() if k != key}
            if start != root and _claimed_on_the_way(root, start, others):
                continue  # e.g. `other` (models/) asked for models/loras/sub: that is loras'
            listing.roots.setdefault(category, []).append(start)
            walk.category, walk.root, walk.others = category, root, others
            walk.directory(start, start_key, ())
    return listing


def start_within(root: str, within: str) -> str | None:
    """Where to start walking ``root`` when only ``within`` is wanted (None: nothing)."""
    within = os.path.abspath(within)
    try:
        common = os.path.commonpath([root, within])
    except ValueError:  # different drives
        return None
    if common == root:
        return within  # within is root or inside it
    if common == within:
        return root  # the whole root is inside within
    return None


def _claimed_on_the_way(root: str, start: str, others: set) -> bool:
    """True when ``start`` or a directory between it and ``root`` is another folder's root."""
    path = start
    while len(path) > len(root):
        try:
            if _dir_key(path) in others:
                return True
        except OSError:
            return False
        path = os.path.dirname(path)
    return False


#: Reasons for things with a model file's name that are not files (broken files are records).
NOT_A_FILE = "not a regular file (a pipe, socket or device)"
NOT_A_FILE_DIR = "a directory, not a model file (its contents are scanned)"
NOT_UTF8 = "file name is not valid UTF-8; rename it to scan it"


def _sidecar_stems(names) -> set[str]:
    """Stems that have a sidecar in this directory (``x`` for ``x.civitai.info``; also
    ``x.safetensors`` for ``x.safetensors.civitai.info``)."""
    stems = set()
    for n in names:
        if n.endswith(SIDECAR_SUFFIXES):  # one C call per name; the loop below is rare
            stems.update(n[: -len(s)] for s in SIDECAR_SUFFIXES if n.endswith(s))
    return stems


def _dir_key(path: str) -> tuple[int, int]:
    st = os.stat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise NotADirectoryError(errno.ENOTDIR, "not a directory", path)
    return (st.st_dev, st.st_ino)


#: Directories are listed through a descriptor where the platform can (not Windows): an
#: entry's stat is then an ``fstatat`` of its name, not a lookup of its whole path again.
_BY_FD = os.scandir in os.supports_fd and hasattr(os, "O_DIRECTORY")
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)


class _Walk:
    """One listing's state; ``directory`` walks a directory of the current root."""

    def __init__(self, listing: Listing, cancel, known):
        self.listing, self.cancel = listing, cancel
        self.known_get = known.get if known else None
        self.seen_dirs: set[tuple[int, int]] = set()
        #: the files listed, by (dev, ino); by ino alone on the first directory's device
        #: ``dev`` (an int is hashed and kept for a fraction of a tuple's cost)
        self.seen_files: set = set()
        self.dev = None
        self.category = self.root = None
        self.others: set = set()

    def directory(self, directory: str, key: tuple[int, int], ancestors: tuple) -> None:
        listing = self.listing
        if key in ancestors:
            listing.skipped.append(
                Skipped(_printable(directory), "symlink loop (directory skipped)")
            )
            return
        if key in self.seen_dirs:
            _log.debug("already listed: %s", _printable(directory))
            return
        self.seen_dirs.add(key)
        if self.dev is None:
            self.dev = key[0]
        ancestors = (*ancestors, key)
        try:  # by descriptor: each entry's stat is an fstatat of its name, no path lookup
            fd = os.open(directory, _DIR_FLAGS) if _BY_FD else None
        except OSError as exc:
            listing.skipped.append(Skipped(_printable(directory), f"folder not readable: {exc}"))
            return
        try:
            try:
                with os.scandir(directory if fd is None else fd) as it:
                    items = list(it)
            except OSError as exc:
                listing.skipped.append(
                    Skipped(_printable(directory), f"folder not readable: {exc}")
                )
                return
            if self.cancel is not None and self.cancel():
                return
            base = directory if directory.endswith(os.sep) else directory + os.sep
            subdirs = self._files(directory, base, items)  # the entries' stats need fd open
        finally:
            if fd is not None:
                os.close(fd)
        subdirs.sort()
        for _name, path, sub_key in subdirs:
            if sub_key in self.others:
                continue  # the root of another category: listed there
            self.directory(path, sub_key, ancestors)

    def _files(self, directory: str, base: str, items: list) -> list:
        """List the model files among ``items`` (``base``: the directory's path with a
        separator); return the subdirectories as (name, path, key)."""
        listing, category = self.listing, self.category
        names = [e.name for e in items]
        sidecar_stems = _sidecar_stems(names)
        if sidecar_stems:  # only these directories are looked at again (for sidecars)
            listing.dir_names[directory] = frozenset(names)
        # names are built by prefix, not os.path.relpath: a re-scan lists 10,000 files quickly
        rel = directory[len(self.root) + 1 :].replace(os.sep, "/")
        prefix = rel + "/" if rel else ""
        dir_ok = _is_utf8(directory)
        subdirs = []
        # the hot loop (a pass per file of a re-scan): locals only, no call for an unchanged file
        entries, unchanged, beside = listing.entries, listing.unchanged, listing.unchanged_beside
        seen_files, known_get, dev0 = self.seen_files, self.known_get, self.dev
        S_ISREG, exts = stat.S_ISREG, MODEL_SUFFIXES
        for item in items:
            name = item.name
            if not name.lower().endswith(exts) or name[:1] == ".":  # folders.is_model_file
                if item.is_dir():  # previews, notes, sidecars: no stat (is_dir uses d_type)
                    self._subdir(item, base, subdirs, model=False)
                continue
            path = base + name
            try:
                st = item.stat()  # follows symlinks
            except OSError as exc:
                self._unreadable(item, path, exc, model=True)
                continue
            if not S_ISREG(st.st_mode):  # "x.safetensors/" is walked, and said
                if not self._subdir(item, base, subdirs, model=True):
                    listing.skipped.append(Skipped(_printable(path), NOT_A_FILE))
                continue
            if not (dir_ok and (name.isascii() or _is_utf8(name))):
                listing.skipped.append(Skipped(_printable(path), NOT_UTF8))
                continue
            dev, ino = st.st_dev, st.st_ino
            fkey = ino if dev == dev0 else (dev, ino)
            if fkey in seen_files:
                _log.debug("already listed (hard link, symlink or shared folder): %s", path)
                continue
            seen_files.add(fkey)
            if known_get is not None:
                k = known_get(path)  # known_files: path, dev, ino, size, mtime_ns, sha256,
                # folder, name, file_error, missing, last_seen, verdict stored, pending
                if (
                    k is not None and k[4] == st.st_mtime_ns and k[2] == ino
                    and k[3] == st.st_size and k[1] == dev and k[5] and k[11]
                    and k[6] == category and k[7] == prefix + name
                ):  # fmt: skip
                    unchanged.append(k)
                    if sidecar_stems and _has_sidecar(name, sidecar_stems):
                        beside.append(path)
                    continue
            has_sidecar = bool(sidecar_stems) and _has_sidecar(name, sidecar_stems)
            entries.append(Entry(category, prefix + name, path, st, has_sidecar))
        return subdirs

    def _subdir(self, item, base: str, subdirs: list, *, model: bool) -> bool:
        """Add ``item`` to ``subdirs`` if it is a directory (following a symlink)."""
        path = base + item.name
        try:
            st = item.stat()
        except OSError as exc:
            self._unreadable(item, path, exc, model=model)
            return False
        if not stat.S_ISDIR(st.st_mode):
            return False
        if model:  # as no model file has that name
            self.listing.skipped.append(Skipped(_printable(path), NOT_A_FILE_DIR))
        subdirs.append((item.name, path, (st.st_dev, st.st_ino)))
        return True

    def _unreadable(self, item, path: str, exc: OSError, *, model: bool) -> None:
        if item.is_symlink():
            reason = "symlink loop" if exc.errno == errno.ELOOP else "broken symlink"
            self.listing.skipped.append(Skipped(_printable(path), reason))
        elif model:
            self.listing.skipped.append(Skipped(_printable(path), f"not readable: {exc}"))


def _has_sidecar(name: str, sidecar_stems: set) -> bool:
    return os.path.splitext(name)[0] in sidecar_stems or name in sidecar_stems
