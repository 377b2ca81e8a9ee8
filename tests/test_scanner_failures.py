"""The scanner under trouble: CivitAI outages and 429 storms, bad files, cancel. Nothing is
stored as unknown because of an outage, and nothing stops the scan."""

import json
import os

from models_tree import build_models_tree, open_scanner, safetensors_bytes
from packload import pack_module

hashing = pack_module("hashing")
KNOWN = ("anime", "other_known", "base")


async def _outage_then_recovery(tmp_path, fake, break_it):
    tree = build_models_tree(tmp_path / "models")
    tree.register(fake, *KNOWN)
    before = tree.snapshot()
    async with open_scanner(tree.root, tmp_path / "db", fake) as (scanner, store, _):
        break_it(fake)
        summary = await scanner.scan(identify="all")
        assert not summary["cancelled"]
        assert summary["by_status"]["unknown"] == 0 and summary["by_status"]["identified"] == 0
        assert summary["by_status"]["error"] == 8
        assert {e["name"] for e in summary["errors"]} == {tf.name for tf in tree.files.values()}
        assert all(e["error"] for e in summary["errors"])
        assert all(store.lookup_state(tf.sha256)[0] == "error" for tf in tree.files.values())
        fake.reset()
        tree.register(fake, *KNOWN)
        summary = await scanner.scan(identify="all")  # errors are retried on the next scan
        assert summary["bytes_hashed"] > 0  # only AutoV3 of the misses: a second read
        status = tree.by_status(store.list_records())
    assert summary["errors"] == []
    assert {k for k, s in status.items() if s == "identified"} == set(KNOWN)
    assert {k for k, s in status.items() if s == "unknown"} == set(tree.files) - set(KNOWN)
    assert tree.snapshot() == before


async def test_outage_is_never_stored_as_unknown_and_is_retried(tmp_path, fake_civitai):
    def down(fake):
        fake.down = True

    await _outage_then_recovery(tmp_path, fake_civitai, down)


async def test_429_storm_is_an_error_not_unknown(tmp_path, fake_civitai):
    def storm(fake):
        fake.fail_next(429, 200, body="error code: 1015", content_type="text/plain")

    await _outage_then_recovery(tmp_path, fake_civitai, storm)


class TroubleCache:
    """The real HashCache, except: reading ``unreadable`` fails like a permission error
    (the tests run as root, where chmod 000 doesn't stop a read), and ``vanishing`` is
    deleted just before it is read."""

    def __init__(self, cache, unreadable, vanishing):
        self.cache, self.unreadable, self.vanishing = cache, str(unreadable), str(vanishing)

    def lookup(self, identity):
        return self.cache.lookup(identity)

    def get_or_hash(self, path, **kwargs):
        if str(path) == self.unreadable:
            raise hashing.FileReadError(f"Permission denied: {path}", path)
        if str(path) == self.vanishing:
            os.remove(path)
        return self.cache.get_or_hash(path, **kwargs)


async def test_bad_entries_are_reported_per_file_and_never_stop_the_scan(tmp_path):
    tree = build_models_tree(tmp_path / "models")
    root = tree.root
    (root / "empty.safetensors").write_bytes(b"")
    truncated = safetensors_bytes(9)[:100]
    (root / "truncated.safetensors").write_bytes(truncated)
    (root / "locked.ckpt").write_bytes(b"secret" * 10)
    (root / "vanishing.pt").write_bytes(b"soon gone" * 10)
    os.symlink("loop.safetensors", root / "loop.safetensors")
    os.symlink(root / "nowhere.bin", root / "broken.bin")
    latin1 = os.path.join(os.fsencode(root), b"caf\xe9.safetensors")
    with open(latin1, "wb") as f:
        f.write(safetensors_bytes(10))
    before = tree.snapshot()
    async with open_scanner(root, tmp_path / "db") as (scanner, store, _):
        scanner.cache = TroubleCache(scanner.cache, root / "locked.ckpt", root / "vanishing.pt")
        summary = await scanner.scan(identify="all")
        records = {r["name"]: r for r in store.list_records()}
    skipped = {os.path.basename(s["path"]): s["reason"] for s in summary["skipped"]}
    assert skipped == {
        "loop.safetensors": "symlink loop",
        "broken.bin": "broken symlink",
        "caf\\xe9.safetensors": "file name is not valid UTF-8; rename it to scan it",
        "vanishing.pt": "deleted during the scan",
    }
    errors = {e["name"]: e["error"] for e in summary["errors"]}
    assert set(errors) == {"locked.ckpt", "truncated.safetensors", "empty.safetensors"}
    assert errors["empty.safetensors"].startswith("Empty file (0 bytes)")
    assert records["empty.safetensors"]["status"] == "error"
    assert "Permission denied" in errors["locked.ckpt"]
    assert errors["truncated.safetensors"].startswith("Truncated safetensors file")
    assert records["truncated.safetensors"]["hashes"]["SHA256"]  # hashed all the same
    assert records["locked.ckpt"]["hashes"]["SHA256"] is None
    # every good file of the tree was scanned in spite of the bad ones
    assert {tf.name for tf in tree.files.values()} <= set(records)
    assert tree.snapshot() == before
    json.dumps(summary)  # printable names only: the summary is valid JSON


class CountingCache:
    def __init__(self, cache):
        self.cache, self.calls = cache, 0

    def lookup(self, identity):
        return self.cache.lookup(identity)

    def get_or_hash(self, path, **kwargs):
        self.calls += 1
        return self.cache.get_or_hash(path, **kwargs)


async def test_cancel_stops_between_files_and_the_next_scan_finishes(tmp_path, fake_civitai):
    tree = build_models_tree(tmp_path / "models")
    tree.register(fake_civitai, *KNOWN)
    async with open_scanner(tree.root, tmp_path / "db", fake_civitai) as (scanner, _s, _c):
        counting = CountingCache(scanner.cache)
        scanner.cache = counting
        summary = await scanner.scan(identify="all", cancel=lambda: counting.calls >= 3)
        scanner.cache = counting.cache
        assert summary["cancelled"] and fake_civitai.requests == []
        assert summary["files_hashed"] in (2, 3)  # the third may be stopped mid-read
        hashed_first = summary["bytes_hashed"]
        summary = await scanner.scan(identify="all")
        assert not summary["cancelled"] and summary["by_status"]["identified"] == 3
        assert summary["by_status"]["pending"] == 0 and summary["errors"] == []
        total = sum(tf.path.stat().st_size for tf in tree.files.values())
        autov3_reads = summary["bytes_hashed"] - (total - hashed_first)
        assert autov3_reads >= 0  # nothing hashed before the cancel is hashed again
