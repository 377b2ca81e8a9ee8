"""A re-scan of an unchanged tree does no per-file work an unchanged file doesn't need
(benchmarks/rescan_bench.py has the timings): the store's rows are read once as plain tuples
and compared, no FileRow is made for them, no second full read of the files table (header
verdicts) nor of the lookups, and the summary is what the first scan said."""

from models_tree import open_scanner
from routes_helpers import safetensors

FILES = 30


def tree(root):
    for i in range(FILES):
        folder = ("loras", "checkpoints", "other")[i % 3]
        path = root / (folder if folder != "other" else "downloads") / f"m_{i:02d}.safetensors"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(safetensors(f"model {i}".encode() * 10))
    (root / "loras" / "m_00.civitai.info").write_text("{}")  # one sidecar: its row is made


async def test_an_unchanged_rescan_makes_rows_only_for_files_with_a_sidecar(tmp_path, monkeypatch):
    root, db = tmp_path / "models", tmp_path / "db.sqlite3"
    tree(root)
    async with open_scanner(root, db) as (scanner, store, _):
        first = await scanner.scan(identify="none")
        made, full_reads = [], []
        file_row = store.file_row
        monkeypatch.setattr(store, "file_row", lambda k: made.append(k[0]) or file_row(k))
        monkeypatch.setattr(store, "detected_identities", lambda: full_reads.append("detected"))
        lookup_states = store.lookup_states

        def states(sha256s=None):
            if sha256s is None:
                full_reads.append("states")
            return lookup_states(sha256s)

        monkeypatch.setattr(store, "lookup_states", states)
        again = await scanner.scan(identify="none")
    assert again["files_total"] == first["files_total"] == FILES
    assert again["files_hashed"] == again["files_classified"] == 0
    assert again["by_status"] == first["by_status"]
    assert again["by_category"] == first["by_category"]
    assert made == [str(root / "loras" / "m_00.safetensors")]
    assert "detected" not in full_reads
    assert full_reads.count("states") <= 1  # the summary's counts, not the feed's
