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
