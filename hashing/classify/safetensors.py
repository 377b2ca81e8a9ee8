"""The safetensors header → a TensorTable, through hashing's one safetensors header reader
(``hashing/safetensors.py``): the same length, JSON and tensor-entry checks as the hashes and
the scan, so a file the scan calls broken is broken here too, with the same sentence."""

import json

from ..errors import HeaderError
from ..safetensors import SafetensorsError, check_tensors, header_length, parse_header
from .table import TensorTable


def looks_like(prefix: bytes, size: int) -> bool:
    """True when the 8-byte prefix is a plausible header length for a file of ``size``."""
    try:
        header_length(prefix, size)
    except SafetensorsError:
        return False
    return True


def read(reader, prefix: bytes) -> TensorTable:
    """Parse the header after ``prefix`` (the 8 bytes already read from ``reader``)."""
    try:
        n = header_length(prefix, reader.size)
        header = check_tensors(parse_header(reader.read(n)), n, reader.size)
    except SafetensorsError as exc:
        raise HeaderError(f"'{reader.path}': {exc}", reader.path) from None
    table = TensorTable("safetensors")
    if header.metadata:
        table.metadata = {
            str(k): v if isinstance(v, str) else json.dumps(v) for k, v in header.metadata.items()
        }
    for name, entry in header.tensors.items():
        table.tensors[name] = (entry["dtype"].upper(), tuple(entry["shape"]))
    return table
