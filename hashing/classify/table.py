"""A model file → its tensor table (names, dtypes, shapes) and metadata, reading the header
only. Dispatches on the first bytes, not the extension: a ``.ckpt`` that really is
safetensors is read as safetensors.

``read_table(path)`` returns a ``TensorTable``; ``bytes_read`` counts every byte asked of
the file, so callers (and the benchmark) can hold it to a budget. Raises ``FileReadError``
for a file that cannot be opened or read and ``HeaderError`` for one whose header is not a
safetensors, GGUF or zip/pickle header.
"""

import os
from dataclasses import dataclass, field

from ..errors import FileReadError, HeaderError
from ..identity import check_regular, read_error
from ..safetensors import is_safetensors_name

#: A header (or tensor table) larger than this is refused rather than read.
MAX_TABLE_BYTES = 64 * 1024 * 1024
_CHUNK = 64 * 1024


@dataclass
class TensorTable:
    """``container``: "safetensors" | "gguf" | "pickle". ``tensors``: name → (dtype, shape)
    (shape in PyTorch order); ``metadata``: str → str (safetensors ``__metadata__``, GGUF
    scalar key/values); ``listing``: member names of a zip container."""

    container: str
    tensors: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    listing: list = field(default_factory=list)
    bytes_read: int = 0


class CountingReader:
    """A file read through a small buffer, counting bytes taken from the file and refusing
    to go past ``limit`` (a malformed count must not walk the whole file)."""

    def __init__(self, f, path: str, size: int, limit: int = MAX_TABLE_BYTES):
        self.f, self.path, self.size, self.limit = f, path, size, limit
        self.bytes_read = 0
        self._buf = b""
        self._pos = 0  # file offset of the first byte in _buf

    def tell(self) -> int:
        return self._pos

    def read(self, n: int) -> bytes:
        """Exactly ``n`` bytes or HeaderError (end of file, or past the limit)."""
        if n < 0 or self._pos + n > min(self.size, self.limit):
            raise HeaderError(
                f"'{self.path}' has a header that runs past "
                f"{'the end of the file' if self._pos + n > self.size else 'its size limit'}"
                " (truncated or malformed).",
                self.path,
            )
        while len(self._buf) < n:
            want = max(_CHUNK, n - len(self._buf))
            try:
                more = self.f.read(want)
            except OSError as exc:
                raise read_error(self.path, exc) from exc
            self.bytes_read += len(more)
            if not more:
                raise HeaderError(f"'{self.path}' ended inside its header.", self.path)
            self._buf += more
        out, self._buf = self._buf[:n], self._buf[n:]
        self._pos += n
        return out

    def skip(self, n: int) -> None:
        """Move ``n`` bytes on; a long skip seeks instead of reading."""
        if n <= len(self._buf):
            self.read(n)
            return
        if self._pos + n > min(self.size, self.limit):
            self.read(n)  # raises the right sentence
        self._pos += n
        self._buf = b""
        try:
            self.f.seek(self._pos)
        except OSError as exc:
            raise read_error(self.path, exc) from exc


def read_table(path: str | os.PathLike) -> TensorTable:
    """The header of ``path`` as a TensorTable (see the module docstring)."""
    from . import gguf, pickled, safetensors

    path = os.fspath(path)
    try:
        st = os.stat(path)
    except OSError as exc:
        raise read_error(path, exc) from exc
    check_regular(path, st)
    try:
        f = open(path, "rb", buffering=0)
    except OSError as exc:
        raise read_error(path, exc) from exc
    with f:
        reader = CountingReader(f, path, st.st_size)
        if st.st_size < 8:
            raise HeaderError(f"'{path}' is only {st.st_size} bytes: not a model file.", path)
        magic = reader.read(8)
        # a header length's low bytes can look like a pickle's protocol mark (0x280 = 640):
        # safetensors is tried first and a failed try falls back to the magic numbers
        pickle_mark = magic[:1] == b"\x80" and magic[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")
        if magic[:4] == b"GGUF":
            table = gguf.read(reader, magic)
        elif magic[:4] == b"PK\x03\x04":
            table = pickled.read_zip(f, path, st.st_size)
        elif safetensors.looks_like(magic, st.st_size) or is_safetensors_name(path):
            try:
                table = safetensors.read(reader, magic)
            except HeaderError:
                if not pickle_mark:
                    raise
                table = TensorTable("pickle")
        elif pickle_mark:
            table = TensorTable("pickle")
        else:
            raise HeaderError(
                f"'{path}' is not a safetensors, GGUF or PyTorch file (its first bytes "
                "match none of them).",
                path,
            )
        table.bytes_read += reader.bytes_read
    return table


__all__ = ["CountingReader", "FileReadError", "TensorTable", "read_table"]
