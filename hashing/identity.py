"""A file's identity: the stat key under which its hashes are cached."""

import errno
import os
import stat
from typing import NamedTuple

from .errors import FileReadError


class FileIdentity(NamedTuple):
    """(device, inode, size, mtime in ns). Unchanged identity ⇒ unchanged content, for
    the purpose of the cache: a rename keeps it, a rewrite or replacement changes it."""

    dev: int
    ino: int
    size: int
    mtime_ns: int

    @classmethod
    def from_stat(cls, st: os.stat_result) -> "FileIdentity":
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

    @property
    def key(self) -> tuple[int, int, int, int]:
        """This identity as stored (hash cache, model store): see ``identity_key``."""
        return identity_key(self)


_U63 = 1 << 63


def identity_key(identity) -> tuple[int, int, int, int]:
    """The one normalisation of a (dev, ino, size, mtime_ns) key for storage and comparison
    with stored keys: SQLite integers are signed 64-bit, and some network and FUSE
    filesystems hand out inode (or device) numbers ≥ 2**63, which would raise
    OverflowError when bound. Those are folded to their two's-complement value; folding is
    idempotent, so a key read back from the database maps to itself."""
    dev, ino, size, mtime_ns = identity
    if dev < _U63 and ino < _U63 and size < _U63 and mtime_ns < _U63:
        return (dev, ino, size, mtime_ns)  # nearly always: a re-scan calls this per file
    return tuple(v - (1 << 64) if v >= _U63 else v for v in identity)  # type: ignore[return-value]


def read_error(path, exc: OSError) -> FileReadError:
    """Translate an ``OSError`` from stat/open/read into a sentence naming the file."""
    if isinstance(exc, FileNotFoundError):
        reason = "the file does not exist"
    elif isinstance(exc, IsADirectoryError):
        reason = "it is a directory, not a file"
    elif isinstance(exc, PermissionError):
        reason = "permission denied"
    elif exc.errno == errno.ELOOP:
        reason = "too many levels of symbolic links"
    else:
        reason = exc.strerror or str(exc) or type(exc).__name__
    return FileReadError(f"Cannot read '{os.fspath(path)}': {reason}.", path, exc.errno)


def check_regular(path, st: os.stat_result) -> None:
    """Raise ``FileReadError`` unless ``st`` describes a regular file."""
    if stat.S_ISREG(st.st_mode):
        return
    if stat.S_ISDIR(st.st_mode):
        raise FileReadError(
            f"Cannot hash '{os.fspath(path)}': it is a directory, not a file.", path, errno.EISDIR
        )
    raise FileReadError(
        f"Cannot hash '{os.fspath(path)}': it is not a regular file (a pipe, socket or device).",
        path,
    )


def file_identity(path: str | os.PathLike) -> FileIdentity:
    """Stat ``path`` (following symlinks). Raises ``FileReadError`` for a missing,
    unreadable or non-regular file."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise read_error(path, exc) from exc
    check_regular(path, st)
    return FileIdentity.from_stat(st)
