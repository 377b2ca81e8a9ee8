"""The listing given the stored rows (``list_models(..., known=store.known_files())``, as a
scan calls it): an unchanged file is its row in ``unchanged``, anything else about it that
differs makes it an entry again, and the listing's guarantees hold the same either way."""

import os

from models_tree import open_scanner
from packload import pack_module
from routes_helpers import safetensors


def _tree(root):
    files = [("loras", "a.safetensors"), ("loras", "sub/b.safetensors"),
             ("checkpoints", "c.safetensors"), ("downloads", "d.safetensors")]  # fmt: skip
    for folder, name in files:
        path = root / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(safetensors(name.encode() * 20))


async def _scanned(root, db):
    async with open_scanner(root, db) as (scanner, store, _):
        await scanner.scan(identify="none")
        return store.known_files()


def _listing(root, known):
    scan = pack_module("nodes.scan")
    return scan.list_models(scan.folders_for_directory(root), known=known)


def _paths(listing):
    return sorted([k[0] for k in listing.unchanged] + [e.path for e in listing.entries])


async def test_unchanged_files_are_their_rows_and_changed_ones_entries(tmp_path):
    root = tmp_path / "models"
    _tree(root)
    known = await _scanned(root, tmp_path / "db.sqlite3")
    fresh = _listing(root, None)
    assert len(fresh.entries) == 4 and fresh.unchanged == []
    same = _listing(root, known)
    assert same.entries == [] and sorted(same.unchanged) == sorted(known.values())
    a, b, c = (root / "loras/a.safetensors", root / "loras/sub/b.safetensors",
               root / "checkpoints/c.safetensors")  # fmt: skip
    os.utime(a, ns=(0, os.stat(a).st_mtime_ns + 1))  # touched: same size, new mtime
    b.write_bytes(b.read_bytes() + b"x")  # grown
    known[str(c)] = (*known[str(c)][:11], 0, 0)  # no header verdict stored: read it again
    (root / "new.safetensors").write_bytes(safetensors(b"new" * 9))
    listing = _listing(root, known)
    assert sorted(e.path for e in listing.entries) == sorted(
        map(str, [a, b, c, root / "new.safetensors"])
    )
    assert [k[0] for k in listing.unchanged] == [str(root / "downloads/d.safetensors")]
    assert _paths(listing) == sorted([*_paths(fresh), str(root / "new.safetensors")])


async def test_a_file_under_another_folder_root_is_an_entry_again(tmp_path):
    root = tmp_path / "models"
    _tree(root)
    known = await _scanned(root, tmp_path / "db.sqlite3")
    scan = pack_module("nodes.scan")
    folders = {"loras": [str(root / "loras" / "sub")]}  # b's name is now "b.safetensors"
    listing = scan.list_models(folders, known=known)
    assert [(e.folder, e.name) for e in listing.entries] == [("loras", "b.safetensors")]
    assert listing.unchanged == []


async def test_a_hard_link_is_listed_once_with_or_without_rows(tmp_path):
    root = tmp_path / "models"
    _tree(root)
    os.link(root / "loras/a.safetensors", root / "checkpoints/a_link.safetensors")
    known = await _scanned(root, tmp_path / "db.sqlite3")
    assert len(known) == 4  # the link is the same file: one row
    for rows in (None, known):
        listing = _listing(root, rows)
        paths = _paths(listing)
        assert len(paths) == 4
        assert sum(p.endswith(("a.safetensors", "a_link.safetensors")) for p in paths) == 1


async def test_an_unchanged_file_with_a_sidecar_is_said_to_have_one(tmp_path):
    root = tmp_path / "models"
    _tree(root)
    (root / "loras" / "a.civitai.info").write_text("{}")
    known = await _scanned(root, tmp_path / "db.sqlite3")
    listing = _listing(root, known)
    assert listing.entries == [] and len(listing.unchanged) == 4
    assert listing.unchanged_beside == [str(root / "loras/a.safetensors")]
    assert "a.civitai.info" in listing.dir_names[str(root / "loras")]
