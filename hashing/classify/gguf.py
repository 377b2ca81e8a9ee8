"""A GGUF file's key/values and tensor infos (v2/v3) → a TensorTable, reading no tensor data.

Layout (little-endian): ``GGUF``, u32 version, u64 tensor count, u64 kv count; each kv is
a string key, a u32 value type and the value; then per tensor its name, u32 n_dims, n_dims
u64 dims (innermost first: reversed here into PyTorch order), u32 ggml type, u64 offset.
Strings are a u64 length and UTF-8 bytes. Big arrays (an LLM's 150,000-token vocabulary) are
skipped, not kept; every count is bounded so a corrupt file fails fast with a sentence.
"""

import json
import struct

from ..errors import HeaderError
from .table import TensorTable

MAX_TENSORS = 200_000
MAX_KV = 100_000
MAX_ARRAY = 50_000_000
MAX_STRING = 16 * 1024 * 1024
MAX_DIMS = 8
_KEEP_STRING = 4096  # longer string values are not kept in the metadata

# value type → struct format of a fixed-size scalar
_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9

#: ggml tensor type → the name GGUF tools print.
GGML_TYPES = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    6: "Q5_0",
    7: "Q5_1",
    8: "Q8_0",
    9: "Q8_1",
    10: "Q2_K",
    11: "Q3_K",
    12: "Q4_K",
    13: "Q5_K",
    14: "Q6_K",
    15: "Q8_K",
    16: "IQ2_XXS",
    17: "IQ2_XS",
    18: "IQ3_XXS",
    19: "IQ1_S",
    20: "IQ4_NL",
    21: "IQ3_S",
    22: "IQ2_S",
    23: "IQ4_XS",
    24: "I8",
    25: "I16",
    26: "I32",
    27: "I64",
    28: "F64",
    29: "IQ1_M",
    30: "BF16",
    34: "TQ1_0",
    35: "TQ2_0",
}

#: ``general.file_type`` (llama.cpp's LLAMA_FTYPE) → the quantisation name users know.
FILE_TYPES = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
    36: "TQ1_0",
    37: "TQ2_0",
}


def read(reader, prefix: bytes) -> TensorTable:
    """Parse the GGUF header whose first 8 bytes (magic + version) are ``prefix``."""
    version = struct.unpack("<I", prefix[4:8])[0]
    if version not in (2, 3):
        raise HeaderError(
            f"'{reader.path}' is GGUF version {version}; only versions 2 and 3 are read.",
            reader.path,
        )
    n_tensors, n_kv = struct.unpack("<QQ", reader.read(16))
    if n_tensors > MAX_TENSORS or n_kv > MAX_KV:
        raise _bad(reader, f"it claims {n_tensors} tensors and {n_kv} key/values")
    table = TensorTable("gguf")
    for _ in range(n_kv):
        key = _string(reader)
        value = _value(reader, _u32(reader))
        if value is not None:
            table.metadata[key] = value
    for _ in range(n_tensors):
        name = _string(reader)
        n_dims = _u32(reader)
        if n_dims > MAX_DIMS:
            raise _bad(reader, f"tensor {name!r} has {n_dims} dimensions")
        dims = struct.unpack(f"<{n_dims}Q", reader.read(8 * n_dims))
        ggml_type = _u32(reader)
        reader.read(8)  # offset into the data region: not needed
        dtype = GGML_TYPES.get(ggml_type, f"GGML_{ggml_type}")
        table.tensors[name] = (dtype, _original_shape(table.metadata, name, dims))
    return table


def _original_shape(metadata: dict, name: str, dims) -> tuple:
    """PyTorch order. ComfyUI-GGUF flattens tensors of more than 4 dimensions and keeps the
    real shape in ``comfy.gguf.orig_shape.<name>``."""
    raw = metadata.get(f"comfy.gguf.orig_shape.{name}")
    if raw is not None:
        try:
            shape = json.loads(raw)
        except ValueError:
            shape = None
        if isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape):
            return tuple(shape)
    return tuple(reversed(dims))


def _u32(reader) -> int:
    return struct.unpack("<I", reader.read(4))[0]


def _string(reader, keep: bool = True) -> str | None:
    (n,) = struct.unpack("<Q", reader.read(8))
    if n > MAX_STRING:
        raise _bad(reader, f"a string claims {n} bytes")
    if not keep or n > _KEEP_STRING:
        reader.skip(n)
        return None
    return reader.read(n).decode("utf-8", "replace")


def _value(reader, vtype: int):
    """A metadata value as a string (scalars and short strings), or None (skipped)."""
    if vtype in _SCALARS:
        fmt = _SCALARS[vtype]
        (v,) = struct.unpack(fmt, reader.read(struct.calcsize(fmt)))
        return str(v).lower() if isinstance(v, bool) else str(v)
    if vtype == _STRING:
        return _string(reader)
    if vtype == _ARRAY:
        item_type = _u32(reader)
        (count,) = struct.unpack("<Q", reader.read(8))
        if count > MAX_ARRAY:
            raise _bad(reader, f"an array claims {count} items")
        if item_type in _SCALARS and count <= MAX_DIMS:  # short: e.g. an original shape
            fmt = _SCALARS[item_type]
            size = struct.calcsize(fmt)
            raw = reader.read(count * size)
            return json.dumps([struct.unpack_from(fmt, raw, i * size)[0] for i in range(count)])
        if item_type in _SCALARS:
            reader.skip(count * struct.calcsize(_SCALARS[item_type]))
        elif item_type == _STRING:
            for _ in range(count):
                _string(reader, keep=False)
        else:
            raise _bad(reader, f"an array of value type {item_type}")
        return None
    raise _bad(reader, f"unknown value type {vtype}")


def _bad(reader, why: str) -> HeaderError:
    return HeaderError(f"'{reader.path}' has a malformed GGUF header: {why}.", reader.path)
