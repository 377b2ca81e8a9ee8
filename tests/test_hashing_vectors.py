"""CivitAI's published hashes for the generated files in vectors/civitai_hashes.json.

The helpers below are the ``helpers`` recipes of that JSON; other hashing tests import them.
"""

import hashlib
import json
import struct
from pathlib import Path

import pytest
from packload import pack_module

VECTORS = json.loads((Path(__file__).parent / "vectors" / "civitai_hashes.json").read_text())
CASES = VECTORS["cases"]


def gen(seed, n: int) -> bytes:
    """Deterministic bytes: sha256(f"{seed}:{k}") for k = 0, 1, ... cut to n bytes."""
    out = bytearray()
    k = 0
    while len(out) < n:
        out += hashlib.sha256(f"{seed}:{k}".encode()).digest()
        k += 1
    return bytes(out[:n])


def safetensors(metadata: dict, data: bytes, pad: bytes = b" ") -> bytes:
    """A one-tensor safetensors file, header padded to a multiple of 8."""
    header = {
        "__metadata__": metadata,
        "w": {"dtype": "U8", "shape": [len(data)], "data_offsets": [0, len(data)]},
    }
    h = json.dumps(header, separators=(",", ":")).encode()
    h += pad * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def build(recipe: str) -> bytes:
    """Evaluate a case's ``build`` expression with only the documented helpers."""
    names = {"gen": gen, "safetensors": safetensors, "struct": struct, "__builtins__": {}}
    return eval(recipe, names)


def test_vectors_cover_the_documented_cases():
    names = {c["name"] for c in CASES}
    assert {"empty", "hello_world", "safetensors_a", "header_length_past_eof"} <= names
    assert len(CASES) >= 8


# The default block holds these files whole (hashed in one thread); 64 KiB blocks take the
# two-thread path.
BLOCK_SIZES = {"default": {}, "64KiB": {"block_size": 65536}}


@pytest.mark.parametrize("blocks", BLOCK_SIZES.values(), ids=BLOCK_SIZES.keys())
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_every_hash_matches_civitai(case, blocks, tmp_path):
    engine = pack_module("hashing.engine")
    path = tmp_path / case["name"]
    path.write_bytes(build(case["build"]))
    result = engine.hash_file(path, **blocks)
    assert result.size == case["size"] == result.bytes_read
    assert result.hashes == {name: case[name] for name in engine.HASH_NAMES}
    assert list(result.hashes) == list(engine.HASH_NAMES)


@pytest.mark.parametrize("blocks", BLOCK_SIZES.values(), ids=BLOCK_SIZES.keys())
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_without_autov3_the_five_match_and_autov3_is_absent(case, blocks, tmp_path):
    engine = pack_module("hashing.engine")
    path = tmp_path / case["name"]
    path.write_bytes(build(case["build"]))
    result = engine.hash_file(path, autov3=False, **blocks)
    assert "AutoV3" not in result.hashes
    assert result.hashes == {n: case[n] for n in engine.HASH_NAMES if n != "AutoV3"}


def test_public_names_come_from_the_room(pack):
    hashing = pack_module("hashing")
    assert hashing.HASH_NAMES == ("SHA256", "AutoV1", "AutoV2", "AutoV3", "CRC32", "BLAKE3")
    assert issubclass(hashing.FileReadError, hashing.HashingError)
    assert issubclass(hashing.HashingError, OSError)
    assert {"hash_file", "HashCache", "connect_db", "file_identity"} <= set(hashing.__all__)
