"""The hashing room's one error vocabulary.

Every error is an ``OSError`` (so callers may catch either) whose message is a sentence a
user understands and names the file. ``.filename`` holds the path.
"""

import os


class HashingError(OSError):
    """A file could not be hashed. ``str(err)`` is the user-facing sentence."""

    def __init__(self, message: str, path: str | os.PathLike | None = None, errno=None):
        super().__init__(message)
        self.filename = os.fspath(path) if path is not None else None
        self.errno = errno

    def __str__(self) -> str:  # OSError would print "[Errno …] …: filename"
        return str(self.args[0])


class FileReadError(HashingError):
    """Missing, a directory, not a regular file, permission denied, or an I/O error."""


class FileChangedError(HashingError):
    """The file changed (size, mtime, inode, or length read) while it was read; nothing
    was stored. Hashing it again later is the remedy."""


class HashCancelledError(HashingError):
    """The caller's ``cancel()`` returned True between two blocks."""


class HeaderError(HashingError):
    """A model file's header (safetensors JSON, GGUF tensor table, zip listing) cannot be
    read: not a format the classifier knows, truncated, or malformed."""
