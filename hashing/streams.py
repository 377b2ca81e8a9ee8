"""Hash streams: objects fed the file's blocks in order, each producing one or two of
CivitAI's hashes (definitions in docs/hashing.md).

``update(view, offset)`` receives a block and the file offset of its first byte; streams
that want only part of the file (AutoV1's window, AutoV3's tensor data) slice it.
``results()`` returns ``{hash name: value or None}``. hashlib, zlib and blake3 release the
GIL on large buffers, so streams in different threads really run in parallel.
"""

import hashlib

try:  # optional: zlib-ng's SIMD CRC-32 is ~4× zlib's; same values
    from zlib_ng.zlib_ng import crc32 as _crc32
except ImportError:
    from zlib import crc32 as _crc32

from .safetensors import SafetensorsError, header_length, parse_header

AUTOV1_OFFSET = 0x100000
AUTOV1_LENGTH = 0x10000
AUTOV1_MIN_SIZE = 0x200000


class Sha256Stream:
    """SHA256 of the whole file, and AutoV2 (its first 10 hex digits)."""

    def __init__(self) -> None:
        self._h = hashlib.sha256()

    def update(self, view, offset: int) -> None:
        self._h.update(view)

    def results(self) -> dict:
        digest = self._h.hexdigest().upper()
        return {"SHA256": digest, "AutoV2": digest[:10]}


class Crc32Stream:
    """zlib CRC-32 of the whole file, written least-significant byte first (as CivitAI)."""

    def __init__(self) -> None:
        self._crc = 0

    def update(self, view, offset: int) -> None:
        self._crc = _crc32(view, self._crc)

    def results(self) -> dict:
        return {"CRC32": self._crc.to_bytes(4, "little").hex().upper()}


class Blake3Stream:
    """BLAKE3-256 of the whole file (one thread: the engine does the parallelism)."""

    def __init__(self) -> None:
        import blake3  # only needed when a file is really hashed

        self._h = blake3.blake3()

    def update(self, view, offset: int) -> None:
        self._h.update(view)

    def results(self) -> dict:
        return {"BLAKE3": self._h.hexdigest().upper()}


class AutoV1Stream:
    """sha256 of the 64 KiB at 0x100000, first 8 hex digits; None below 2 MiB. The window
    may straddle two blocks."""

    def __init__(self, size: int) -> None:
        self._exists = size >= AUTOV1_MIN_SIZE
        self._h = hashlib.sha256()

    def update(self, view, offset: int) -> None:
        lo = max(AUTOV1_OFFSET, offset)
        hi = min(AUTOV1_OFFSET + AUTOV1_LENGTH, offset + len(view))
        if self._exists and lo < hi:
            self._h.update(view[lo - offset : hi - offset])

    def results(self) -> dict:
        return {"AutoV1": self._h.hexdigest()[:8].upper() if self._exists else None}


class AutoV3Stream:
    """sha256 of a safetensors file's tensor data (after 8 + N), first 12 hex digits.

    Parses the header from the same blocks as they pass (buffering at most 16 MiB) with the
    one header reader (hashing/safetensors.py); gives None, never an exception, for a file
    whose header is not a JSON object (tensor entries are not checked: CivitAI does not).
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._head = bytearray()  # the 8-byte prefix, then the header
        self._data_start: int | None = None  # 8 + N once known and valid
        self._valid: bool | None = None  # None: header not complete yet
        self._h = hashlib.sha256()

    def update(self, view, offset: int) -> None:
        if self._valid is False:
            return
        end = offset + len(view)
        if self._valid is None:
            need = 8 if self._data_start is None else self._data_start
            if offset < need:
                self._head += view[: min(need, end) - offset]
            if self._data_start is None and len(self._head) >= 8:
                try:
                    n = header_length(self._head, self._size)
                except SafetensorsError:
                    return self._invalidate()
                self._data_start = 8 + n
                if end > 8:
                    self._head += view[8 - offset : min(self._data_start, end) - offset]
            if self._data_start is None or len(self._head) < self._data_start:
                return None
            try:
                parse_header(bytes(self._head[8:]))
            except SafetensorsError:
                return self._invalidate()
            self._valid = True
            self._head = bytearray()
        if end > self._data_start:
            self._h.update(view[max(self._data_start - offset, 0) :])
        return None

    def _invalidate(self) -> None:
        self._valid = False
        self._head = bytearray()

    def results(self) -> dict:
        if not self._valid:
            return {"AutoV3": None}
        return {"AutoV3": self._h.hexdigest()[:12].upper()}
