"""A scan shows results while it runs: lookups start as soon as 100 new SHA256s are hashed,
while hashing goes on, with exactly the CivitAI calls of looking everything up at the end.
Real SQLite, the real aiohttp fake CivitAI; synchronised on its request log and the store,
never on a sleep of the scan's."""

import sqlite3
import threading
import time
from collections import Counter

from models_tree import open_scanner
from packload import pack_module
from routes_helpers import safetensors, sha256

SMALL = 130


def write(path, payload):
    path.parent.mkdir(parents=True, exist_ok=True)
    data = safetensors(payload)
    path.write_bytes(data)
    return sha256(data)


def library(root, fake):
    """130 small LoRAs and one bigger checkpoint, every one known to the fake CivitAI."""
    shas = [write(root / "loras" / f"lora_{i:03d}.safetensors", f"lora {i}".encode() * 20)
            for i in range(SMALL)]  # fmt: skip
    big = root / "checkpoints" / "big.safetensors"
    shas.append(write(big, b"checkpoint" * 5000))
    for i, sha in enumerate(shas):
        fake.add_file_model(sha256=sha, name=f"Model {i}")
    return shas, big


def identified_in(db) -> int:
    conn = sqlite3.connect(db)
    try:
        query = "SELECT COUNT(*) FROM lookups WHERE status = 'identified'"
        return conn.execute(query).fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0
    finally:
        conn.close()


async def test_first_answers_are_saved_before_the_last_file_is_hashed(tmp_path, fake_civitai):
    root, db = tmp_path / "models", tmp_path / "db.sqlite3"
    shas, big = library(root, fake_civitai)
    seen = {}
    order = []

    async with open_scanner(root, db, fake_civitai) as (scanner, _, client):
        real = scanner.cache.get_or_hash

        def gated(path, **kwargs):
            """The big file's hashing waits (in its worker thread) until CivitAI was asked
            and an answer is in the store, or 20 s: the old scan would never get there."""
            order.append(str(path))
            if str(path) == str(big):
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline:
                    bulk = [r for r in fake_civitai.requests if r.path.endswith("/by-hash")]
                    if bulk and identified_in(db):
                        seen.update(bulk=len(bulk), identified=identified_in(db))
                        break
                    threading.Event().wait(0.01)  # polling the log and the store
            return real(path, **kwargs)

        scanner.cache.get_or_hash = gated
        summary = await scanner.scan(identify="all")
        streamed = list(fake_civitai.requests)

    assert order[-1] == str(big), "small files first"
    assert seen.get("bulk") == 1 and seen["identified"] >= 1, seen
    assert summary["by_status"]["identified"] == SMALL + 1
    # the same calls as one lookup of every SHA256 after hashing (what the scan did before)
    fake_civitai.requests.clear()
    async with open_scanner(root, tmp_path / "fresh.sqlite3", fake_civitai) as (_, _, client):
        await client.lookup(shas)
    at_once = list(fake_civitai.requests)
    assert [(r.method, r.path) for r in streamed] == [(r.method, r.path) for r in at_once]
    assert sorted(len(r.json) for r in streamed if r.json) == [31, 100]
    assert summary["calls"] == len(at_once) == 4  # 2 bulk + 2 models


async def test_other_is_hashed_first_when_only_other_is_looked_up(tmp_path, fake_civitai):
    root = tmp_path / "models"
    write(root / "loras" / "tiny.safetensors", b"t")
    write(root / "other" / "huge.safetensors", b"h" * 50_000)
    write(root / "other" / "mid.safetensors", b"m" * 5_000)
    order = []
    async with open_scanner(root, tmp_path / "db.sqlite3", fake_civitai) as (scanner, _, _):
        real = scanner.cache.get_or_hash
        scanner.cache.get_or_hash = lambda path, **kw: (
            order.append(path.rsplit("/", 1)[1]) or (real(path, **kw))
        )
        await scanner.scan(identify="other")
    # (then the AutoV3 reads of the two unknown "other" files)
    assert order[:3] == ["mid.safetensors", "huge.safetensors", "tiny.safetensors"]


async def test_a_partial_batch_goes_when_hashing_pauses_at_a_big_file(
    tmp_path, fake_civitai, monkeypatch
):
    """30 small LoRAs then a checkpoint of PAUSE_BYTES (lowered here): the 30 are asked, and
    saved identified, while the checkpoint is still being read; the calls are today's plus
    at most one by-hash call and one models call (the early batch and its parent models)."""
    root, db = tmp_path / "models", tmp_path / "db.sqlite3"
    shas = [write(root / "loras" / f"lora_{i:02d}.safetensors", f"small {i}".encode() * 20)
            for i in range(30)]  # fmt: skip
    big = root / "checkpoints" / "big.safetensors"
    shas.append(write(big, b"checkpoint" * 5000))
    for i, sha in enumerate(shas):
        fake_civitai.add_file_model(sha256=sha, name=f"Model {i}")
    monkeypatch.setattr(pack_module("nodes.scan.hash_step"), "PAUSE_BYTES", big.stat().st_size)
    seen = {}
    async with open_scanner(root, db, fake_civitai) as (scanner, _, _):
        real = scanner.cache.get_or_hash

        def gated(path, **kwargs):
            """The checkpoint's read waits (in its worker thread) for the early batch's
            call and its 30 answers in the store (or 20 s: the old scan never sent it)."""
            if str(path) == str(big):
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline and not seen:
                    bulk = fake_civitai.calls("/by-hash")
                    if bulk and identified_in(db) == 30:
                        seen.update(batch=sorted(bulk[0].json), identified=identified_in(db))
                    threading.Event().wait(0.01)  # polling the log and the store
            return real(path, **kwargs)

        scanner.cache.get_or_hash = gated
        summary = await scanner.scan(identify="all")
        streamed = list(fake_civitai.requests)

    assert seen == {"batch": sorted(shas[:30]), "identified": 30}, seen
    assert summary["by_status"]["identified"] == 31
    fake_civitai.requests.clear()
    async with open_scanner(root, tmp_path / "fresh.sqlite3", fake_civitai) as (_, _, client):
        await client.lookup(shas)
    at_once = list(fake_civitai.requests)

    def kinds(requests):
        return Counter("bulk" if r.path.endswith("/by-hash") else r.path for r in requests)

    today, now = kinds(at_once), kinds(streamed)
    assert today == {"bulk": 1, "/api/v1/models": 1}
    assert set(now) == set(today) and all(today[k] <= now[k] <= today[k] + 1 for k in today)
    assert [len(r.json) for r in streamed if r.json] == [30, 1]
    assert summary["calls"] == len(streamed) == len(at_once) + 2


async def test_no_extra_call_when_nothing_is_queued_at_the_pause(
    tmp_path, fake_civitai, monkeypatch
):
    """Only big files to hash: the pause finds nothing queued, the calls are today's."""
    root, db = tmp_path / "models", tmp_path / "db.sqlite3"
    shas = [write(root / "checkpoints" / f"big_{i}.safetensors", f"ckpt {i}".encode() * 900)
            for i in range(3)]  # fmt: skip
    for i, sha in enumerate(shas):
        fake_civitai.add_file_model(sha256=sha, name=f"Model {i}")
    monkeypatch.setattr(pack_module("nodes.scan.hash_step"), "PAUSE_BYTES", 1)
    async with open_scanner(root, db, fake_civitai) as (scanner, _, _):
        summary = await scanner.scan(identify="all")
    assert summary["by_status"]["identified"] == 3
    assert [len(r.json) for r in fake_civitai.requests if r.json] == [3]
    assert summary["calls"] == 2  # one by-hash, one models
