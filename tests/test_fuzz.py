"""Property-based fuzzing of everything a scan reads from outside: safetensors headers,
sidecar files, CivitAI response bodies. Inputs are built from the real shapes, then mutated
(wrong types at every level, huge strings, deep nesting, cut bytes, random lengths).

Properties: no exception out of the readers, the scanner or the client; never an
``unknown`` made from a malformed answer; the store stays consistent. The default budget
is small (conftest.py); ``--hypothesis-profile=long`` runs many more. A failure found here
is added below as an ``@example``, so it is tried on every run.
"""

import asyncio
import io
import json
import os
import struct
import tempfile

from fake_civitai import fake_client
from hypothesis import example, given, settings
from hypothesis import strategies as st
from models_tree import open_scanner
from packload import pack_module

reader = pack_module("hashing.safetensors")
safe_json = pack_module("hashing.safe_json")
sidecars = pack_module("nodes.scan.sidecars")
STATUSES = set(pack_module("nodes.store").STATUSES)

H1 = "A" * 64
DTYPES = ["F16", "BF16", "F32", "F64", "U8", "I8", "I16", "I32", "I64", "BOOL", "F8_E4M3"]

# --- shapes ----------------------------------------------------------------------------
SCALARS = (
    st.none() | st.booleans() | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
)  # fmt: skip
JUNK = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@st.composite
def mutated(draw, value):
    """``value`` with a few of its leaves or containers replaced by junk."""
    if draw(st.integers(0, 4)) == 0:
        return draw(JUNK)
    if isinstance(value, dict):
        return {k: draw(mutated(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [draw(mutated(v)) for v in value]
    return value


@st.composite
def tensor_headers(draw):
    """A real-looking header dict (offsets consistent) and its data length."""
    header, offset = {}, 0
    for i in range(draw(st.integers(0, 5))):
        dtype = draw(st.sampled_from(DTYPES))
        shape = draw(st.lists(st.integers(0, 6), max_size=3))
        n = reader.DTYPE_BYTES.get(dtype, 1)
        for d in shape:
            n *= d
        header[f"layer.{i}.weight"] = {"dtype": dtype, "shape": shape,
                                       "data_offsets": [offset, offset + n]}  # fmt: skip
        offset += n
    if draw(st.booleans()):
        header["__metadata__"] = draw(st.dictionaries(st.text(max_size=10), st.text(max_size=30),
                                                      max_size=4))  # fmt: skip
    return header, offset


@st.composite
def safetensors_blobs(draw):
    header, data_len = draw(tensor_headers())
    if draw(st.booleans()):
        header = draw(mutated(header))
    raw = json.dumps(header).encode()
    how = draw(st.sampled_from(["as_is", "cut", "bytes", "deep", "pad"]))
    if how == "cut":
        raw = raw[: draw(st.integers(0, len(raw)))]
    elif how == "bytes":
        raw = draw(st.binary(max_size=300))
    elif how == "deep":
        raw = b'{"a":' + b"[" * draw(st.integers(90, 3000)) + raw
    elif how == "pad":
        raw = raw + b" " * draw(st.integers(0, 64))
    declared = draw(st.one_of(st.just(len(raw)), st.integers(0, 2**64 - 1),
                              st.integers(0, len(raw) + 16)))  # fmt: skip
    data = b"\0" * draw(st.sampled_from([data_len, 0, max(0, data_len - 1), data_len + 3]))
    return struct.pack("<Q", declared) + raw + data


@given(safetensors_blobs())
@example(struct.pack("<Q", 2**64 - 1) + b"{}")
@example(struct.pack("<Q", 10) + b'{"a":' + b"[" * 5)
@example(struct.pack("<Q", 2) + b"{}")  # the smallest valid file
def test_the_header_reader_gives_a_header_or_a_sentence(blob):
    try:
        header = reader.read_header(io.BytesIO(blob), len(blob))
    except reader.SafetensorsError as exc:
        assert str(exc).endswith(".") and len(str(exc)) < 400
        return
    assert isinstance(header.tensors, dict)
    for entry in header.tensors.values():  # only fully valid entries get through
        begin, end = entry["data_offsets"]
        assert 0 <= begin <= end and header.data_start + end <= len(blob)


@given(safetensors_blobs())
@settings(max_examples=60)
def test_the_engine_hashes_any_bytes_without_an_exception(blob):
    hashing = pack_module("hashing")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "x.safetensors")
        with open(path, "wb") as f:
            f.write(blob)
        result = hashing.hash_file(path)
        problem = reader.header_problem(path, len(blob))
    assert result.hashes["SHA256"] and result.bytes_read == len(blob)
    if problem is None:  # a valid header: AutoV3 exists (tensor data may be empty)
        assert result.hashes["AutoV3"] is not None


@given(st.binary(max_size=2000) | st.text(max_size=500).map(str.encode))
@example(b"[" * 100_000)
@example(b'{"a": "\\ud800"}')
@example(b"NaN")  # found by the fuzzer (NaN != NaN: compared as text)
def test_the_untrusted_json_reader_raises_only_its_own_error(data):
    try:
        value = safe_json.loads_untrusted(data, max_bytes=4096, want_object=False)
    except safe_json.UntrustedJSONError as exc:
        assert str(exc).startswith("it ")
        return
    assert json.dumps(value) == json.dumps(json.loads(data.decode("utf-8")))


# --- sidecars ----------------------------------------------------------------------------
SHA = "AB" * 32
HASHES = {"SHA256": SHA, "AutoV2": SHA[:10]}
VERSION = {
    "id": 130072, "modelId": 4201, "name": "v1.5", "baseModel": "SDXL 1.0",
    "trainedWords": ["pxl"], "model": {"name": "Pixel", "type": "LORA", "nsfw": False},
    "files": [{"name": "m.safetensors", "primary": True, "hashes": {"SHA256": SHA}}],
    "images": [{"url": "https://image.example/1.jpeg", "width": 512}],
}  # fmt: skip
CM_INFO = {"ModelId": 4201, "VersionId": 130072, "ModelName": "Pixel", "ModelType": "LORA",
           "Hashes": {"SHA256": SHA}, "TrainedWords": ["pxl"]}  # fmt: skip
SIDECARS = {
    "m.civitai.info": VERSION,
    "m.metadata.json": {"sha256": SHA.lower(), "civitai": VERSION},
    "m.cm-info.json": CM_INFO,
}


@st.composite
def sidecar_files(draw):
    name = draw(st.sampled_from(sorted(SIDECARS)))
    kind = draw(st.sampled_from(["mutated", "bytes", "deep"]))
    if kind == "bytes":
        return name, draw(st.binary(max_size=500))
    if kind == "deep":
        return name, b'{"files":' + b"[" * draw(st.integers(50, 5000))
    return name, json.dumps(draw(mutated(SIDECARS[name]))).encode()


@given(sidecar_files())
@example(("m.cm-info.json", json.dumps({**CM_INFO, "ModelId": "garbage"}).encode()))
@example(("m.civitai.info", json.dumps({**VERSION, "files": [[]]}).encode()))
def test_a_sidecar_gives_a_real_answer_or_nothing(sidecar):
    name, data = sidecar
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "m.safetensors"), "wb") as f:
            f.write(b"weights")
        with open(os.path.join(tmp, name), "wb") as f:
            f.write(data)
        info = sidecars.read_sidecar_info(os.path.join(tmp, "m.safetensors"), HASHES)
    if info is not None:
        for key in ("model_id", "version_id"):
            assert isinstance(info[key], int) and not isinstance(info[key], bool)
            assert info[key] > 0


# --- CivitAI bodies ------------------------------------------------------------------------
BULK = [{**VERSION, "files": [{"name": "m.safetensors", "hashes": {"SHA256": H1}}]}]


def well_formed_bulk(body: bytes) -> bool:
    """The test's own reading of "a bulk answer CivitAI could send": only then may a hash
    missing from it be called unknown."""
    try:
        data = json.loads(body)
    except ValueError:
        return False
    if not isinstance(data, list):
        return False
    for entry in data:
        if not (isinstance(entry, dict) and isinstance(entry.get("id"), int)
                and not isinstance(entry.get("id"), bool) and entry["id"] >= 0
                and isinstance(entry.get("files"), list)):  # fmt: skip
            return False
        for file in entry["files"]:
            hashes = file.get("hashes") if isinstance(file, dict) else None
            if not isinstance(hashes, dict) or not isinstance(hashes.get("SHA256", ""), str):
                return False
    return True


@st.composite
def bulk_bodies(draw):
    kind = draw(st.sampled_from(["mutated", "mutated", "junk", "bytes", "deep", "huge"]))
    if kind == "junk":
        return json.dumps(draw(JUNK)).encode()
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "deep":
        return b"[" * draw(st.integers(100, 5000)) + b"]" * draw(st.integers(0, 5000))
    if kind == "huge":
        return json.dumps([{**VERSION, "name": "x" * draw(st.integers(0, 200_000))}]).encode()
    return json.dumps(draw(mutated(BULK))).encode()


@given(bulk_bodies())
@example(json.dumps([{**BULK[0], "files": ["garbage"]}]).encode())
@example(json.dumps([{**BULK[0], "id": True}]).encode())
@settings(max_examples=150)
def test_a_civitai_body_never_raises_and_never_fakes_an_unknown(fake_civitai, body):
    fake_civitai.reset()
    fake_civitai.fail_next(200, body=body.decode("utf-8", "replace"), path="/by-hash")

    async def go():
        async with fake_client(fake_civitai, interval=0) as client:
            return await client.lookup([H1])

    outcome = asyncio.run(go())[H1]
    assert outcome.status in ("identified", "unknown", "error")
    if outcome.status == "unknown":
        assert well_formed_bulk(body.decode("utf-8", "replace").encode()), body[:200]
    if outcome.status == "error":
        assert outcome.error and outcome.error.endswith((".", "!", "?"))
    if outcome.status == "identified":
        assert isinstance(outcome.civitai_info["version_id"], int)


# --- the scanner -----------------------------------------------------------------------------
@given(safetensors_blobs(), sidecar_files())
@settings(max_examples=40)
def test_a_scan_of_hostile_files_finishes_with_a_consistent_store(blob, sidecar):
    async def go(root, db):
        async with open_scanner(root, db) as (scanner, store, _):
            summary = await scanner.scan(identify="all")
            return summary, store.list_records()

    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "models")
        os.makedirs(root)
        for name, data in (("m.safetensors", blob), ("good.ckpt", b"fine" * 10), sidecar):
            with open(os.path.join(root, name), "wb") as f:
                f.write(data)
        summary, records = asyncio.run(go(_path(root), _path(tmp) / "db.sqlite3"))
    assert {r["name"] for r in records} == {"m.safetensors", "good.ckpt"}
    assert summary["files_total"] == 2 and sum(summary["by_status"].values()) == 2
    for r in records:
        assert r["status"] in STATUSES
        assert (r["status"] == "error") == bool(r["error"])
    assert {r["name"]: r for r in records}["good.ckpt"]["hashes"]["SHA256"]


def _path(p):
    from pathlib import Path

    return Path(p)
