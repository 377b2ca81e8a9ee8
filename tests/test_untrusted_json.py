"""Untrusted JSON (safetensors headers, sidecars, CivitAI bodies): each hostile shape is a
clear sentence on the file or the lookup, never an exception out of a scan, never a huge
allocation."""

import json
import logging
import re
import struct
import tracemalloc

import pytest
from fake_civitai import fake_client
from models_tree import build_models_tree, open_scanner, safetensors_bytes
from packload import pack_module

safe_json = pack_module("hashing.safe_json")
reader = pack_module("hashing.safetensors")
hashing = pack_module("hashing")
sidecars = pack_module("nodes.scan.sidecars")
MiB = 1024 * 1024
DEEP = b"[" * 200_000  # json.loads: RecursionError
H1 = "A" * 64


def header_file(path, header: bytes, data: bytes = b"", declared: int | None = None):
    n = len(header) if declared is None else declared
    path.write_bytes(struct.pack("<Q", n) + header + data)
    return path


# --- the reader ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "data, reason",
    [
        (DEEP, "nested more than 100 levels deep"),
        (b'{"a":' + b"[" * 150 + b"]" * 150 + b"}", "nested more than 100 levels deep"),
        (b'{"a":[' + b"[]," * MiB + b"[]]}", "memory bomb"),
        (b'{"a":"\xff"}', "not UTF-8 text (bad byte at offset 6)"),
        (b'{"a":', "not valid JSON"),
        (b"[1, 2]", "a list instead of an object"),
        (b" " * 101, "more than the 100 allowed"),
    ],
    ids=["deep", "deep_object", "bomb", "not_utf8", "cut", "list", "too_big"],
)
def test_every_refusal_is_one_exception_with_a_reason(data, reason):
    with pytest.raises(safe_json.UntrustedJSONError, match=re.escape(reason)):
        safe_json.loads_untrusted(data, max_bytes=100 if data.isspace() else 8 * MiB)


def test_brackets_inside_strings_do_not_count_as_nesting():
    text = json.dumps({"meta": "[" * 500 + '\\"{' * 100, "ok": [[1]]}).encode()
    assert safe_json.loads_untrusted(text, max_bytes=MiB)["ok"] == [[1]]
    assert safe_json.nesting_exceeds(b"[" * 100 + b"]" * 100, 100) is False
    assert safe_json.nesting_exceeds(b"[" * 101 + b"]" * 101, 100) is True
    assert safe_json.nesting_exceeds(b"{[" * 51 + b"]}" * 51, 100) is True  # mixed
    assert safe_json.nesting_exceeds(b"[[]", 100) is False  # unbalanced: json.loads says so
    assert safe_json.nesting_exceeds(b"[" * 101, 100) is True  # ...unless it opens too deep


def test_a_recursion_error_from_the_parser_itself_is_the_same_error():
    deep = b"[" * 5000 + b"]" * 5000  # past the guard (max_depth raised), not past json's
    with pytest.raises(safe_json.UntrustedJSONError, match="nested"):
        safe_json.loads_untrusted(deep, max_bytes=MiB, max_depth=10_000, bytes_per_container=1)


def test_a_huge_file_is_never_read_whole(tmp_path):
    path = tmp_path / "big.json"
    with open(path, "wb") as f:
        f.truncate(200 * MiB)  # sparse: costs no disk
    tracemalloc.start()
    try:
        with pytest.raises(safe_json.UntrustedJSONError, match="more than the"):
            safe_json.read_json_file(path, max_bytes=MiB)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * MiB


def test_a_bom_is_allowed_in_files(tmp_path):
    path = tmp_path / "x.json"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}')
    assert safe_json.read_json_file(path, max_bytes=MiB) == {"a": 1}


# --- safetensors headers ------------------------------------------------------------------
BAD_HEADERS = {
    "nested": (lambda p: header_file(p, DEEP), "nested more than 100 levels deep"),
    "not_utf8": (lambda p: header_file(p, b'{"\xff\xfe":1}'), "not UTF-8 text"),
    "declared_90mib": (
        lambda p: header_file(p, b"{}", declared=90 * MiB),
        "declares a 94,371,840-byte header",
    ),
    "tiny_lists": (
        lambda p: header_file(p, b'{"a":[' + b"[]," * (5 * MiB) + b"[]]}"),
        "memory bomb",
    ),
    "bad_entry": (
        lambda p: header_file(p, b'{"w":{"dtype":"F32","shape":"x","data_offsets":[0,4]}}',
                              b"data"),
        "tensor 'w' has no valid dtype, shape and data_offsets",
    ),
    "wrong_size": (
        lambda p: header_file(p, b'{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}',
                              b"data"),
        r"tensor 'w' \(F32 \[2\]\) needs 8 bytes but its data_offsets give 4",
    ),
    "truncated": (
        lambda p: p.write_bytes(safetensors_bytes(1)[:200]),
        "Truncated safetensors file: its tensors need",
    ),
    "header_cut": (
        lambda p: p.write_bytes(safetensors_bytes(1)[:40]),
        "Truncated safetensors file: its header needs",
    ),
    "tiny": (lambda p: p.write_bytes(b"abc"), "only 3 bytes"),
}


@pytest.mark.parametrize("kind", sorted(BAD_HEADERS))
def test_the_scan_time_check_names_every_broken_header(tmp_path, kind):
    make, sentence = BAD_HEADERS[kind]
    path = tmp_path / f"{kind}.safetensors"
    make(path)
    problem = reader.header_problem(path, path.stat().st_size)
    assert problem is not None and problem.endswith(".")
    assert re.search(sentence, problem), problem
    # the engine hashes it all the same, without an AutoV3 and without an exception
    if path.stat().st_size >= 8:
        result = hashing.hash_file(path)
        assert result.hashes["SHA256"]


def test_a_good_header_passes_and_gives_tensors_and_metadata(tmp_path):
    path = tmp_path / "good.safetensors"
    path.write_bytes(safetensors_bytes(3, metadata={"ss_base_model": "sdxl"}))
    assert reader.header_problem(path, path.stat().st_size) is None
    with open(path, "rb") as f:
        header = reader.read_header(f, path.stat().st_size)
    assert header.metadata == {"ss_base_model": "sdxl"}
    assert set(header.tensors) == {"weight"}
    assert reader.header_problem(tmp_path / "a.ckpt", 3) is None  # other names: not checked


def test_reading_a_hostile_header_stays_small(tmp_path):
    # 16 MiB of [] just under the cap: refused by the density guard before json.loads
    body = b'{"a":[' + b"[]," * (5 * MiB) + b"[]]}"
    path = header_file(tmp_path / "bomb.safetensors", body.ljust(16 * MiB - 16))
    tracemalloc.start()
    try:
        problem = reader.header_problem(path, path.stat().st_size)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "memory bomb" in problem
    assert peak < 64 * MiB  # the header bytes and stripped copies, never Python lists


# --- sidecars -----------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".civitai.info", ".metadata.json", ".cm-info.json"])
def test_a_deeply_nested_sidecar_is_ignored_with_a_warning(tmp_path, caplog, suffix):
    model = tmp_path / "m.safetensors"
    model.write_bytes(safetensors_bytes(4))
    (tmp_path / f"m{suffix}").write_bytes(b'{"files":' + DEEP)
    with caplog.at_level(logging.WARNING):
        assert sidecars.read_sidecar_info(str(model), {"SHA256": H1}) is None
    assert "nested more than 100 levels deep" in caplog.text and f"m{suffix}" in caplog.text


async def test_an_offline_scan_with_hostile_sidecars_and_headers_finishes(tmp_path):
    tree = build_models_tree(tmp_path / "models")
    root = tree.root
    for tf in list(tree.files.values())[:2]:
        stem = tf.path.name.rsplit(".", 1)[0]
        (tf.path.parent / f"{stem}.civitai.info").write_bytes(DEEP)
        (tf.path.parent / f"{stem}.metadata.json").write_bytes(b'{"civitai":' + DEEP)
    header_file(root / "nested.safetensors", DEEP)
    async with open_scanner(root, tmp_path / "db") as (scanner, store, _):
        summary = await scanner.scan(identify="all")
        records = {r["name"]: r for r in store.list_records()}
    errors = {e["name"]: e["error"] for e in summary["errors"]}
    assert "nested more than 100 levels deep" in errors["nested.safetensors"]
    assert records["nested.safetensors"]["status"] == "error"
    assert {tf.name for tf in tree.files.values()} <= set(records)


# --- CivitAI bodies -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "body, reason",
    [
        ('{"a":' + "[" * 5000 + "]" * 5000 + ', "pad": "' + "x" * 60_000 + '"}',
         "nested too deeply"),
        ('[{"a":[' + "[]," * 100_000 + "[]]}]", "packed with"),
        ('[{"id": 1, "files": [', "not valid JSON"),
    ],
    ids=["deep", "bomb", "cut"],
)
async def test_a_hostile_civitai_body_is_an_error_never_unknown(fake_civitai, body, reason):
    fake_civitai.add_file_model(H1, name="Known")
    fake_civitai.fail_next(200, body=body)
    async with fake_client(fake_civitai, interval=0) as client:
        out = await client.lookup([H1])
    assert out[H1].status == "error" and out[H1].error_kind == "bad_response"
    assert reason in out[H1].error


async def test_a_body_past_the_cap_is_not_read(fake_civitai, monkeypatch):
    http = pack_module("civitai.http")
    monkeypatch.setattr(http, "MAX_BODY_BYTES", 1000)
    fake_civitai.add_file_model(H1, name="Known")
    fake_civitai.fail_next(200, body="[" + ", ".join(["{}"] * 2000) + "]")
    async with fake_client(fake_civitai, interval=0) as client:
        out = await client.lookup([H1])
    assert out[H1].status == "error" and "larger than" in out[H1].error


def test_a_header_of_millions_of_tiny_values_is_refused_before_parsing(tmp_path):
    # 16 MiB of floats or of "a" strings: few containers, but ~4,000,000 Python objects
    for item, traced in ((b"0.5,", True), (b'"a",', False)):
        body = b'{"a":[' + item * ((16 * MiB - 64) // len(item)) + b"1]}"
        path = header_file(tmp_path / "values.safetensors", body)
        if traced:
            tracemalloc.start()
        try:
            problem = reader.header_problem(path, path.stat().st_size)
            peak = tracemalloc.get_traced_memory()[1] if traced else 0
        finally:
            tracemalloc.stop()
        assert "values, far more than real data has" in problem
        assert peak < 64 * MiB  # was ~250 MB of floats before the value guard
