"""A re-scan of an unchanged tree does no per-file work an unchanged file doesn't need
(benchmarks/rescan_bench.py has the timings): the store's rows are read once as plain tuples
and compared, no FileRow is made for them, no second full read of the files table (header
verdicts) nor of the lookups, and the summary is what the first scan said."""

from models_tree import open_scanner
from packload import pack_module
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


async def test_an_unchanged_rescan_writes_nothing_and_lists_no_entry(tmp_path, monkeypatch):
    """The listing compares each file with its stored row as it walks: an unchanged file is
    no Entry (nor a kept stat result), and the store gets no write at all (no clearing of
    pending flags no file has, no last_seen within the hour)."""
    root, db = tmp_path / "models", tmp_path / "db.sqlite3"
    tree(root)
    discover = pack_module("nodes.scan.discover")
    async with open_scanner(root, db) as (scanner, store, _):
        first = await scanner.scan(identify="none")
        entries, writes = [], []
        entry = discover.Entry
        monkeypatch.setattr(discover, "Entry", lambda *a: entries.append(a[2]) or entry(*a))
        store._conn.set_trace_callback(
            lambda sql: writes.append(sql) if sql.split()[0].upper() in _WRITES else None
        )
        again = await scanner.scan(identify="none")
        store._conn.set_trace_callback(None)
    assert again["files_total"] == first["files_total"] == FILES
    assert again["by_category"] == first["by_category"] and again["missing"] == 0
    assert entries == [] and writes == []


_WRITES = {"INSERT", "UPDATE", "DELETE", "REPLACE", "BEGIN"}


async def test_a_pending_flag_left_by_an_interrupted_scan_is_cleared(tmp_path):
    root, db = tmp_path / "models", tmp_path / "db.sqlite3"
    tree(root)
    async with open_scanner(root, db) as (scanner, store, _):
        await scanner.scan(identify="none")
        store.set_pending([store.get_file("loras", "m_00.safetensors").sha256])
        assert store.counts()["pending"] == 1
        await scanner.scan(identify="none")
        assert store.counts()["pending"] == 0


async def test_files_deleted_beside_rows_already_missing_are_marked_missing(tmp_path):
    """A re-scan that saw every present row marks nothing (no search for the unseen); one
    file fewer is still found, with rows already missing in the store (not counted)."""
    root, db = tmp_path / "models", tmp_path / "db.sqlite3"
    tree(root)
    async with open_scanner(root, db) as (scanner, store, _):
        await scanner.scan(identify="none")
        (root / "loras" / "m_00.safetensors").unlink()
        assert (await scanner.scan(identify="none"))["missing"] == 1
        (root / "checkpoints" / "m_01.safetensors").unlink()
        (root / "downloads" / "m_02.safetensors").write_bytes(b"changed")  # and one changed
        again = await scanner.scan(identify="none")
        assert again["missing"] == 1 and again["files_total"] == FILES - 2
        assert (await scanner.scan(identify="none"))["missing"] == 0
        assert sum(store.counts(include_missing=True).values()) == FILES  # none lost
