"""The scan classifies files from their headers: before hashing, stored in the record,
refreshed when a file changes; a suggested folder for ``other`` files; CivitAI's answer
cross-checked against the tensors. Real SQLite, the real fake CivitAI."""

import hashlib
import os
import sqlite3

from model_headers import SD15_LORA, SD_VAE, checkpoint, sd_unet, with_prefix, write_safetensors
from models_tree import open_scanner
from packload import pack_module

SD15_CKPT = checkpoint(sd_unet(768), with_prefix("first_stage_model.", SD_VAE))


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest().upper()


def tree(root):
    (root / "loras").mkdir(parents=True)
    write_safetensors(root / "loras" / "style.safetensors", SD15_LORA, {"ss_output_name": "style"})
    write_safetensors(root / "mystery.safetensors", SD15_CKPT)  # in no model folder
    (root / "notes.bin").write_bytes(b"just some words, not a model file at all")
    return root


def by_name(records):
    return {r["name"]: r for r in records}


async def test_records_carry_what_the_header_says(tmp_path):
    root = tree(tmp_path / "models")
    async with open_scanner(root, tmp_path / "db", None) as (scanner, store, _):
        summary = await scanner.scan()
        records = by_name(store.list_records())
    assert summary["files_total"] == 3
    lora = records["style.safetensors"]
    assert lora["detected"]["kind"] == "lora" and lora["detected"]["base_model"] == "SD 1.5"
    assert lora["detected"]["training"]["output_name"] == "style"
    assert lora["suggested_category"] is None  # already in loras/
    mystery = records["mystery.safetensors"]
    assert mystery["folder"] == "other" and mystery["detected"]["kind"] == "checkpoint"
    assert mystery["suggested_category"] == "checkpoints"  # the file is not moved
    assert (root / "mystery.safetensors").exists()
    notes = records["notes.bin"]
    assert notes["detected"] is None and "not a safetensors" in notes["detect_error"]
    assert notes["hashes"]["SHA256"] is not None  # a bad header stops nothing


async def test_files_are_classified_before_they_are_hashed(tmp_path):
    root = tree(tmp_path / "models")
    db = tmp_path / "db"
    seen = {}
    hashing = pack_module("hashing")

    class WatchingCache(hashing.HashCache):
        def get_or_hash(self, path, **kwargs):  # runs in the hashing thread
            with sqlite3.connect(db) as conn:  # a second reader, as the panel would be
                row = conn.execute("SELECT detected_kind FROM files WHERE path = ?",
                                   (os.fspath(path),)).fetchone()  # fmt: skip
            seen[os.path.basename(path)] = row[0] if row else "no row"
            return super().get_or_hash(path, **kwargs)

    async with open_scanner(root, db, None) as (scanner, _store, _):
        scanner.cache.close()
        scanner.cache = WatchingCache(db)
        try:
            await scanner.scan()
        finally:
            scanner.cache.close()
    # notes.bin has a row already too: its verdict is the sentence (kind None)
    assert seen == {"style.safetensors": "lora", "mystery.safetensors": "checkpoint",
                    "notes.bin": None}  # fmt: skip


async def test_a_changed_file_is_classified_again_and_an_unchanged_one_is_not(tmp_path):
    root = tree(tmp_path / "models")
    path = root / "loras" / "style.safetensors"
    async with open_scanner(root, tmp_path / "db", None) as (scanner, store, _):
        first = await scanner.scan()
        again = await scanner.scan()
        write_safetensors(path, {"emb_params": ("F32", (4, 768))})  # replaced in place
        os.utime(path, ns=(1, 1_000_000_000))
        third = await scanner.scan()
        record = store.get_record("loras", "style.safetensors")
    assert (first["files_classified"], again["files_classified"], third["files_classified"]) == (
        3, 0, 1)
    assert record["detected"]["kind"] == "embedding"


async def test_a_wrong_civitai_match_is_flagged(tmp_path, fake_civitai):
    root = tree(tmp_path / "models")
    lora = root / "stray_lora.safetensors"
    write_safetensors(lora, SD15_LORA)
    fake_civitai.add_file_model(sha256=sha256(lora), type="LORA", base_model="SDXL 1.0")
    fake_civitai.add_file_model(sha256=sha256(root / "mystery.safetensors"), type="LORA",
                                base_model="SD 1.5")  # fmt: skip
    async with open_scanner(root, tmp_path / "db", fake_civitai) as (scanner, store, _):
        await scanner.scan()
        records = by_name(store.list_records())
        flagged = store.list_records(base_model="SD 1.5")
    assert records["stray_lora.safetensors"]["warnings"] == [
        "CivitAI says SDXL 1.0 but the file's tensors are SD 1.5"
    ]
    assert records["mystery.safetensors"]["warnings"] == [
        "CivitAI says this is a LORA but the file's tensors are a checkpoint"
    ]
    # the base model filter: CivitAI's answer when identified, else the header's
    assert sorted(r["name"] for r in flagged) == ["mystery.safetensors", "style.safetensors"]


async def test_identifying_one_replaced_file_refreshes_its_verdict(tmp_path):
    root = tree(tmp_path / "models")
    path = root / "loras" / "style.safetensors"
    async with open_scanner(root, tmp_path / "db", None) as (scanner, _store, _):
        await scanner.scan()
        write_safetensors(path, {"emb_params": ("F32", (4, 768))})
        os.utime(path, ns=(1, 1_000_000_000))
        record = await scanner.identify("loras", "style.safetensors")
    assert record["detected"]["kind"] == "embedding"


async def test_the_brief_listing_leaves_the_training_metadata_to_the_details(tmp_path):
    root = tree(tmp_path / "models")
    async with open_scanner(root, tmp_path / "db", None) as (scanner, store, _):
        await scanner.scan()
        full = store.get_record("loras", "style.safetensors")
    brief = pack_module("nodes.comfy.record_views").brief_record(full)
    assert set(brief) == set(full) and set(brief["detected"]) == set(full["detected"])
    assert brief["detected"]["kind"] == "lora" and brief["detected"]["base_model"] == "SD 1.5"
    assert brief["detected"]["training"] is None and brief["detected"]["evidence"] == []
    assert full["detected"]["training"]["output_name"] == "style"


async def test_the_listing_filters_by_the_headers_kind(tmp_path):
    root = tree(tmp_path / "models")
    async with open_scanner(root, tmp_path / "db", None) as (scanner, store, _):
        await scanner.scan()
        loras = [r["name"] for r in store.list_records(kind="lora")]
        facets = store.facets(pack_module("nodes.store").Query())
    assert loras == ["style.safetensors"]
    assert dict(map(tuple, facets["kind"])) == {"checkpoint": 1, "lora": 1}
