"""Log lines read as sentences: an error message (which ends in a period) is never glued to
what follows with "; ", and counts agree with their nouns ("1 error", "2 errors")."""

import logging
import re

from fake_civitai import fake_client
from models_tree import open_scanner, safetensors_bytes
from packload import pack_module

H1 = "A" * 64


def _messages(caplog, logger_suffix):
    return [r.getMessage() for r in caplog.records if r.name.endswith(logger_suffix)]


async def test_retry_warning_is_two_sentences(fake_civitai, caplog):
    caplog.set_level(logging.WARNING, logger="civitai-identify.civitai")
    fake_civitai.add_file_model(H1, name="Known")
    fake_civitai.fail_next("reset", n=1)
    async with fake_client(fake_civitai, interval=0) as client:
        out = await client.lookup([H1])
    assert out[H1].status == "identified"  # the retry worked
    (line,) = _messages(caplog, "civitai.http")
    assert line.startswith("Could not reach CivitAI (")
    assert line.endswith("); check the connection. Retry 1 in 2 s.")


async def test_models_call_failure_warning_is_two_sentences(fake_civitai, caplog):
    caplog.set_level(logging.WARNING, logger="civitai-identify.civitai")
    fake_civitai.add_file_model(H1, name="Known")
    fake_civitai.fail_next(404, n=1, path="/models")  # not retried: one warning
    async with fake_client(fake_civitai, interval=0) as client:
        out = await client.lookup([H1])
    assert out[H1].status == "identified"
    (line,) = [m for m in _messages(caplog, "civitai.client") if "Parent models" in m]
    assert line.startswith("Parent models unavailable: ")
    assert line.endswith(". Tags and creator left empty.") and ".)" not in line


def test_as_sentence_adds_a_missing_period_only():
    as_sentence = pack_module("civitai").as_sentence
    assert as_sentence(ValueError("no answer")) == "no answer."
    assert as_sentence(ValueError("No answer.")) == "No answer."
    assert as_sentence(ValueError("")) == "ValueError."


def test_errors_are_worded_by_one_function():
    from packload import PACK_DIR

    sources = [
        p for room in ("hashing", "civitai", "nodes") for p in (PACK_DIR / room).rglob("*.py")
    ]
    defining = sorted(
        str(p.relative_to(PACK_DIR))
        for p in sources
        if re.search(r"^def _?(as_)?sentence\(", p.read_text(encoding="utf-8"), flags=re.M)
    )
    assert defining == ["civitai/errors.py"]


async def test_scan_summary_line_counts_in_singular_and_plural(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="civitai-identify.nodes.scan.scanner")
    root = tmp_path / "models"
    root.mkdir()
    (root / "good.safetensors").write_bytes(safetensors_bytes(1))
    async with open_scanner(root, tmp_path / "db") as (scanner, _store, _client):
        await scanner.scan(identify="none")
        (root / "truncated.safetensors").write_bytes(safetensors_bytes(2)[:100])
        await scanner.scan(identify="none")
    first, second = [m for m in _messages(caplog, "nodes.scan.scanner") if m.startswith("scan ")]
    assert first.startswith("scan done: 1 file, 1 hashed (") and " bytes), 0 API calls, " in first
    assert first.endswith("; 0 skipped, 0 errors")
    assert second.startswith("scan done: 2 files, 1 hashed (100 bytes), 0 API calls, ")
    assert second.endswith("; 0 skipped, 1 error")
