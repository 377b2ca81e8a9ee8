"""The one safetensors header reader: the hashing engine (AutoV3) and the scan-time check.

Layout: 8 bytes little-endian N, N bytes of UTF-8 JSON (an object: tensor name →
``{"dtype", "shape", "data_offsets": [begin, end]}``, plus an optional ``"__metadata__"``
object of strings), then the tensor data; offsets are relative to byte 8 + N.

Memory is bounded: N is checked against ``MAX_HEADER`` and the file size before a byte of
the header is read, and the JSON goes through ``safe_json.loads_untrusted`` (density and
depth guards before parsing). Every failure is a ``SafetensorsError`` whose message is the
sentence a user sees on the file's record.
"""

import math
import os
from dataclasses import dataclass

from .identity import read_error
from .safe_json import UntrustedJSONError, loads_untrusted

EXTENSIONS = (".safetensors", ".sft")
#: A header of this size or more is not trusted (CivitAI's limit too; real ones are < 2 MiB).
MAX_HEADER = 16 * 1024 * 1024
#: Real headers spend ≥ 40 bytes on a tensor entry's three containers.
_BYTES_PER_CONTAINER = 12
#: Bytes per element of the dtypes whose size is a whole number of bytes; other (future or
#: sub-byte) dtypes are accepted without a size check.
DTYPE_BYTES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "F8_E8M0": 1,
    "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8, "C64": 8,
}  # fmt: skip


class SafetensorsError(ValueError):
    """Not a valid safetensors file; ``str()`` is a sentence (without the path)."""


@dataclass(frozen=True)
class SafetensorsHeader:
    length: int  # N
    tensors: dict  # name → entry, "__metadata__" removed
    metadata: dict | None  # "__metadata__" when it is an object

    @property
    def data_start(self) -> int:
        return 8 + self.length


def is_safetensors_name(path: str) -> bool:
    return path.lower().endswith(EXTENSIONS)


def header_length(prefix: bytes, size: int) -> int:
    """N from the first 8 bytes of a file of ``size`` bytes; raises SafetensorsError."""
    if size < 8 or len(prefix) < 8:
        raise SafetensorsError(
            f"Not a valid safetensors file: only {size} bytes (a truncated download?)."
        )
    n = int.from_bytes(prefix[:8], "little")
    if n < 2:
        raise SafetensorsError(f"Not a valid safetensors file: its header length is {n}.")
    if n >= MAX_HEADER:
        raise SafetensorsError(
            f"Not a valid safetensors file: it declares a {n:,}-byte header, more than the "
            f"{MAX_HEADER // 2**20} MiB a real one needs."
        )
    if 8 + n > size:
        raise SafetensorsError(
            f"Truncated safetensors file: its header needs {8 + n} bytes but the file has "
            f"{size} (an interrupted download?)."
        )
    return n


def parse_header(raw: bytes) -> dict:
    """The header bytes (after the 8-byte prefix) as a dict; raises SafetensorsError."""
    try:
        return loads_untrusted(
            raw, max_bytes=MAX_HEADER, bytes_per_container=_BYTES_PER_CONTAINER
        )
    except UntrustedJSONError as exc:
        raise SafetensorsError(f"Unreadable safetensors header: {exc}.") from None


def check_tensors(header: dict, length: int, size: int) -> SafetensorsHeader:
    """Validate every tensor entry (dtype, shape, offsets) against the file size."""
    tensors = {k: v for k, v in header.items() if k != "__metadata__"}
    metadata = header.get("__metadata__")
    needed = 0
    for name, entry in tensors.items():
        needed = max(needed, _entry_span(name, entry)[1])
    if 8 + length + needed > size:
        raise SafetensorsError(
            f"Truncated safetensors file: its tensors need {8 + length + needed} bytes but "
            f"the file has {size} (an interrupted download?)."
        )
    return SafetensorsHeader(length, tensors, metadata if isinstance(metadata, dict) else None)


def _entry_span(name: str, entry) -> tuple[int, int]:
    label = repr(name if len(name) <= 80 else name[:77] + "...")
    fields = entry if isinstance(entry, dict) else {}
    dtype, shape, offsets = fields.get("dtype"), fields.get("shape"), fields.get("data_offsets")
    if not (
        isinstance(dtype, str)
        and isinstance(shape, list)
        and all(_natural(d) for d in shape)
        and isinstance(offsets, list)
        and len(offsets) == 2
        and all(_natural(o) for o in offsets)
        and offsets[0] <= offsets[1]
    ):
        raise SafetensorsError(
            f"Not a valid safetensors file: tensor {label} has no valid dtype, shape and "
            "data_offsets."
        )
    begin, end = offsets
    width = DTYPE_BYTES.get(dtype)
    if width is not None and math.prod(shape) * width != end - begin:
        raise SafetensorsError(
            f"Not a valid safetensors file: tensor {label} ({dtype} {shape}) needs "
            f"{math.prod(shape) * width} bytes but its data_offsets give {end - begin}."
        )
    return begin, end


def _natural(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def read_header(f, size: int) -> SafetensorsHeader:
    """Read and validate the header of the open binary file ``f`` (``size`` bytes long)
    from its start. Reads at most 8 + 16 MiB; raises SafetensorsError or OSError."""
    n = header_length(f.read(8), size)
    raw = f.read(n)
    if len(raw) < n:
        raise SafetensorsError(
            f"Truncated safetensors file: its header needs {8 + n} bytes but only "
            f"{8 + len(raw)} could be read."
        )
    return check_tensors(parse_header(raw), n, size)


def header_problem(path: str | os.PathLike, size: int) -> str | None:
    """The scan-time check: a sentence when a safetensors-named file is broken, else None
    (other names: None). Never raises; an unreadable file gets its OSError's sentence."""
    path = os.fspath(path)
    if not is_safetensors_name(path):
        return None
    try:
        with open(path, "rb") as f:
            read_header(f, size)
    except SafetensorsError as exc:
        return str(exc)
    except OSError as exc:
        return str(read_error(path, exc))
    return None


__all__ = ["EXTENSIONS", "MAX_HEADER", "SafetensorsError", "SafetensorsHeader",
           "check_tensors", "header_length", "header_problem", "is_safetensors_name",
           "parse_header", "read_header"]  # fmt: skip
