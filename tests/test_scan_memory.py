"""A scan streams its answers: each batch's answers are saved before the next batch goes,
and released then, never all held until the end (a 100,000-file identifying scan would
hold every civitai_info at once). Real SQLite, the real aiohttp fake CivitAI; asserted on
what is alive and stored when the scan asks for its next batch, not on timings or sizes.
(The peak RSS figures are benchmarks/memory_bench.py's, run by hand.)"""

import gc
import sqlite3

from models_tree import open_scanner
from packload import pack_module
from routes_helpers import safetensors, sha256

FILES = 250


def identified_in(db) -> int:
    conn = sqlite3.connect(db)
    try:
        query = "SELECT COUNT(*) FROM lookups WHERE status = 'identified'"
        return conn.execute(query).fetchone()[0]
    finally:
        conn.close()


def alive_outcomes() -> int:
    LookupOutcome = pack_module("civitai").LookupOutcome
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, LookupOutcome))


async def test_each_batch_is_saved_and_released_before_the_next_goes(tmp_path, fake_civitai):
    root, db = tmp_path / "models", tmp_path / "db.sqlite3"
    for i in range(FILES):
        data = safetensors(f"model {i}".encode() * 20)
        path = root / "loras" / f"m_{i:03d}.safetensors"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        fake_civitai.add_file_model(sha256=sha256(data), name=f"Model {i}")
    at_batch = []  # (stored identified, LookupOutcome objects alive) as each batch is asked
    returned = []
    async with open_scanner(root, db, fake_civitai) as (scanner, _, client):
        real = client.lookup_stream

        async def spied(batches, **kwargs):
            async def watched():
                async for batch in batches:
                    at_batch.append((identified_in(db), alive_outcomes()))
                    yield batch

            result = await real(watched(), **kwargs)
            returned.append(result)
            return result

        client.lookup_stream = spied
        summary = await scanner.scan(identify="all")
    assert summary["by_status"]["identified"] == FILES
    assert len(at_batch) == 3, at_batch  # 100 + 100 + 50
    # the answers of the batches before were in the store when the next one went ...
    assert [stored for stored, _ in at_batch] == [0, 100, 200]
    # ... and no longer in memory (a few may be in flight: never a whole batch)
    assert all(alive < 10 for _, alive in at_batch), at_batch
    assert returned == [{}]  # nothing kept for the end of the scan


def test_a_kept_parent_model_is_slim_and_builds_the_same_info(fake_civitai):
    """A lookup keeps each parent model for later versions of it: only what the info is
    built from (no version's images or download details), the same info from it, update
    notice included (v2 is newer, same base model; v3 another base; v0 older)."""
    import datetime
    import json
    import urllib.request

    from fake_civitai_catalog import fake_file

    civitai = pack_module("civitai")
    info_mod = pack_module("civitai.info")
    sha = "A" * 64
    ids = fake_civitai.add_file_model(sha256=sha, name="Kept", tags=["style"],
                                      published_at="2024-01-01T00:00:00.000Z")  # fmt: skip
    for name, base, month in (("v2", "SDXL 1.0", "2024-06"), ("v3", "Pony", "2024-09"),
                              ("v0", "SDXL 1.0", "2023-06")):  # fmt: skip
        date = f"{month}-01T00:00:00.000Z"
        fake_civitai.add_version(ids.model_id, files=[fake_file(name[1] * 64)], name=name,
                                 base_model=base, published_at=date)  # fmt: skip
    url = f"{fake_civitai.url}/models?ids={ids.model_id}&nsfw=true"
    with urllib.request.urlopen(url) as r:
        model = json.load(r)["items"][0]
    version = next(v for v in model["modelVersions"] if v["id"] == ids.version_id)
    version = {**version, "modelId": ids.model_id}
    slim = info_mod.slim_model(model)
    now = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)

    def info(m):
        return civitai.build_civitai_info(version, m, "SHA256", matched_hash=sha, now=now)

    assert info(slim) == info(model)
    assert info(slim)["update"]["version_name"] == "v2" and info(slim)["tags"] == ["style"]
    assert all("images" not in v for v in slim["modelVersions"])
    assert len(json.dumps(slim)) < len(json.dumps(model)) / 2
