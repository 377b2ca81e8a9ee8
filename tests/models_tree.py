"""Build a small, realistic ComfyUI ``models`` tree for scanner tests: real safetensors files
(deterministic tensors, so SHA256/AutoV3 are known in advance), pickles, non-model files.

    tree = build_models_tree(tmp_path / "models")
    tree.files["anime"].sha256, tree.files["anime"].folder, tree.files["anime"].name
    tree.register(fake_civitai, "anime", "base")    # make these known to the fake CivitAI
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

from packload import pack_module


def safetensors_bytes(seed: int, n_floats: int = 256, metadata: dict | None = None) -> bytes:
    """A valid safetensors file: one F32 tensor of deterministic data, optional metadata."""
    data = b"".join(struct.pack("<f", ((seed * 31 + i) % 997) / 997.0) for i in range(n_floats))
    header: dict = {"weight": {"dtype": "F32", "shape": [n_floats], "data_offsets": [0, len(data)]}}
    if metadata:
        header["__metadata__"] = metadata
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + data


def autov3_of(blob: bytes) -> str | None:
    (n,) = struct.unpack("<Q", blob[:8])
    return hashlib.sha256(blob[8 + n :]).hexdigest()[:12].upper()


@dataclass
class TreeFile:
    key: str
    folder: str
    name: str
    path: Path
    sha256: str
    autov3: str | None
    model_type: str


@dataclass
class ModelsTree:
    root: Path
    files: dict[str, TreeFile] = field(default_factory=dict)
    originals: dict[str, bytes] = field(default_factory=dict)  # key → bytes CivitAI knows

    def add(self, key, folder, name, blob: bytes, model_type="LORA") -> TreeFile:
        base = self.root if folder == "other" else self.root / folder
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob)
        is_st = blob[:8] and name.endswith(".safetensors")
        tf = TreeFile(key, folder, name, path, hashlib.sha256(blob).hexdigest().upper(),
                      autov3_of(blob) if is_st else None, model_type)  # fmt: skip
        self.files[key] = tf
        return tf

    def register(self, fake, *keys, **kwargs) -> dict:
        """Make ``keys`` known to the fake CivitAI (by the SHA256 CivitAI has for them)."""
        ids = {}
        for key in keys:
            tf = self.files[key]
            original = self.originals.get(key)
            sha = hashlib.sha256(original).hexdigest().upper() if original else tf.sha256
            ids[key] = fake.add_file_model(
                sha256=sha, autov3=tf.autov3, name=f"Model {key}", type=tf.model_type,
                file_name=os.path.basename(tf.name), trained_words=[f"trigger_{key}"],
                tags=[f"tag_{key}"], **kwargs,
            )  # fmt: skip
        return ids

    def snapshot(self) -> dict:
        """path → (bytes sha256, mtime_ns) of every model file, to prove nothing changed."""
        out = {}
        for tf in self.files.values():
            if tf.path.exists():
                out[str(tf.path)] = (hashlib.sha256(tf.path.read_bytes()).hexdigest(),
                                     tf.path.stat().st_mtime_ns)  # fmt: skip
        return out

    def by_status(self, records) -> dict[str, str]:
        keys = {(tf.folder, tf.name): k for k, tf in self.files.items()}
        return {keys[(r["folder"], r["name"])]: r["status"] for r in records
                if (r["folder"], r["name"]) in keys}  # fmt: skip


def build_models_tree(root: Path) -> ModelsTree:
    """checkpoints/, loras/ (nested), vae/, embeddings/, files directly in root and in an
    unknown subfolder (→ other), a header-rewritten safetensors, and non-model files."""
    tree = ModelsTree(Path(root))
    tree.add("base", "checkpoints", "base.safetensors", safetensors_bytes(1), "Checkpoint")
    tree.add("anime", "loras", "style/anime.safetensors", safetensors_bytes(2))
    tree.add("lora_unknown", "loras", "unknown.safetensors", safetensors_bytes(3))
    tree.add("vae", "vae", "kl-f8.pt", b"PK\x03\x04 fake pickle vae " * 50, "VAE")
    tree.add("emb", "embeddings", "emb.pt", b"PK\x03\x04 fake embedding " * 40,
             "TextualInversion")  # fmt: skip
    tree.add("other_known", "other", "some_lora.safetensors", safetensors_bytes(4))
    tree.add("other_unknown", "other", "misc/unknown.ckpt", b"PK\x03\x04 unknown ckpt " * 30,
             "Checkpoint")  # fmt: skip
    original = safetensors_bytes(5, metadata={"ss_output_name": "original"})
    tree.add("rewritten", "other", "misc/rewritten.safetensors",
             safetensors_bytes(5, metadata={"modelspec.title": "renamed by a tool"}))  # fmt: skip
    tree.originals["rewritten"] = original
    (tree.root / "notes.txt").write_text("not a model")
    (tree.root / "misc" / "preview.png").write_bytes(b"\x89PNG not a model")
    return tree


async def _no_wait(_seconds) -> None:
    await asyncio.sleep(0)  # backoff and spacing pauses cost nothing in tests


@contextlib.asynccontextmanager
async def open_scanner(root: Path, db: Path, fake=None, **scanner_kwargs):
    """``(scanner, store, client)`` for ``root`` as the CLI sees it; the client talks to
    ``fake`` (None → no client: offline) with spacing and backoff sleeps skipped."""
    civitai = pack_module("civitai")
    hashing = pack_module("hashing")
    store = pack_module("nodes.store.model_store").ModelStore(db)
    cache = hashing.HashCache(db)
    folders = pack_module("nodes.scan.folders").folders_for_directory(root)
    Scanner = pack_module("nodes.scan.scanner").Scanner
    try:
        if fake is None:
            yield Scanner(store, cache, None, folders, **scanner_kwargs), store, None
        else:
            settings = civitai.Settings(api_base=fake.url, interval=0.0)
            limiter = civitai.SpacingLimiter(0.0, sleep=_no_wait)
            async with civitai.CivitaiClient(settings, limiter=limiter) as client:
                yield Scanner(store, cache, client, folders, **scanner_kwargs), store, client
    finally:
        cache.close()
        store.close()
