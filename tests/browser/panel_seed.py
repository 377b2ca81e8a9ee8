"""Seed a real ModelStore for the panel tests: a tiny models tree whose records cover every
status (with real hashes of real files, so a scan recognises them), and bulk synthetic
records for the 10,000-row checks. Image URLs point at the test server's /img/ route."""

from __future__ import annotations

import os
from pathlib import Path

from packload import pack_module

# Runs nothing if it ever executes; the tests assert window.__xss stays unset.
XSS_DESCRIPTION = (
    "<p>Dreamy <b>portraits</b>. <script>window.__xss = 'script'</script>"
    "<img src=x onerror=\"window.__xss = 'img-onerror'\">"
    '<a href="javascript:window.__xss=\'link\'" id="jslink">click me</a> '
    '<a href="https://example.com/guide" onclick="window.__xss=\'onclick\'">guide</a>'
    '<svg onload="window.__xss=\'svg\'"></svg><iframe src="javascript:window.__xss=1"></iframe>'
    "<style>body{display:none}</style></p>"
)
# More ways in, in the version description: odd-case and whitespace schemes, data: and
# vbscript: links, srcset, the classic mXSS namespace confusion, forms, inline styles,
# srcdoc, object, ontoggle, meta refresh, base.
XSS_VERSION_DESCRIPTION = (
    "<p>Version notes.</p>"
    "<a href=\" JaVaScRiPt:window.__xss='case'\">case</a> "
    '<a href="data:text/html,<script>window.__xss=1</script>">data</a> '
    '<a href="vbscript:msgbox(1)">vb</a>'
    '<img srcset="x 1x" src="x" onerror="window.__xss=\'srcset\'">'
    "<math><mtext><table><mglyph><style><img src=x onerror=\"window.__xss='mxss'\">"
    "</style></mglyph></table></mtext></math>"
    "<form action=\"javascript:window.__xss='form'\"><button>go</button></form>"
    "<div style=\"background:url(javascript:window.__xss='style')\">styled</div>"
    "<iframe srcdoc=\"<script>parent.__xss='srcdoc'</script>\"></iframe>"
    "<object data=\"javascript:window.__xss='object'\"></object>"
    "<details open ontoggle=\"window.__xss='toggle'\"><summary>more</summary>hidden</details>"
    '<meta http-equiv="refresh" content="0;url=javascript:window.__xss=\'meta\'">'
    '<base href="javascript:/">'
)

# (folder, name, bytes, status, model name, version, base model, tags, trigger words, nsfw levels)
TREE = [
    (
        "checkpoints",
        "dreamshaper_8.safetensors",
        3000,
        "identified",
        "DreamShaper",
        "8",
        "SD 1.5",
        ["portrait", "photorealistic"],
        ["dreamy light"],
        [1, 4, 16, 2],
    ),
    (
        "loras",
        "detail_tweaker_xl.safetensors",
        2000,
        "identified",
        "Detail Tweaker XL",
        "v1.0",
        "SDXL 1.0",
        ["detail", "tool"],
        ["add_detail"],
        [1],
    ),
    (
        "loras",
        "styles/anime_lines.safetensors",
        1500,
        "identified",
        "Anime Lineart",
        "v2",
        "Pony",
        ["anime", "lineart"],
        ["lineart", "monochrome"],
        [8, 2],
    ),
    ("loras", "mystery_lora.safetensors", 1200, "unknown", None, None, None, [], [], []),
    ("embeddings", "easynegative.safetensors", 800, "not_checked", None, None, None, [], [], []),
    ("vae", "broken_download.safetensors", 900, "error", None, None, None, [], [], []),
]
# Big enough that hashing it takes a moment, so the scan's progress is visible.
NEW_FILE = ("checkpoints", "fresh_download.safetensors", 48 * 1024 * 1024)


def write_file(path: Path, size: int, salt: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    seed = (salt * (size // max(1, len(salt)) + 1)).encode()[:size]
    path.write_bytes(seed)


def info_for(
    origin, model_id, name, version, base, tags, words, levels, description=None, version_desc=None
):
    colours = ["blue", "red", "violet", "gold", "green"]
    images = [
        {
            "url": f"{origin}/img/{colours[i % 5]}-{model_id}-{i}.png",
            "width": 512,
            "height": 768,
            "nsfw_level": level,
            "type": "image",
        }
        for i, level in enumerate(levels)
    ]
    return {
        "model_id": model_id,
        "version_id": model_id * 10,
        "model_name": name,
        "version_name": version,
        "type": "Checkpoint" if model_id % 2 else "LORA",
        "category": "checkpoints" if model_id % 2 else "loras",
        "base_model": base,
        "description": description or f"<p>{name} is a <em>test</em> model.</p>",
        "version_description": version_desc
        or f"<p>Version {version}: <strong>better hands</strong>.</p>",
        "creator": {"username": f"creator_{model_id}", "image": None},
        "tags": tags,
        "trained_words": words,
        "stats": {"download_count": 1000 + model_id, "thumbs_up_count": 50 + model_id},
        "images": images,
        "nsfw": any(lv >= 4 for lv in levels),
        "file": {
            "name": f"{name}.safetensors",
            "size_kb": 1.0,
            "format": "SafeTensor",
            "fp": "fp16",
            "primary": True,
        },
        "matched_by": "SHA256",
        "url": f"https://civitai.com/models/{model_id}?modelVersionId={model_id * 10}",
        "fetched_at": "2026-11-25T14:00:00Z",
    }


def seed_small_tree(models_dir: Path, db_path: Path, origin: str, new_file: bool = True) -> dict:
    """Write TREE under ``models_dir`` and store real hashes and outcomes; also write
    NEW_FILE (on disk, not in the store: only a scan finds it). → {name: sha256}."""
    hashing = pack_module("hashing")
    store_mod = pack_module("nodes.store.model_store")
    store = store_mod.ModelStore(db_path)
    shas = {}
    try:
        updates = []
        for i, (folder, name, size, *_rest) in enumerate(TREE):
            path = models_dir / folder / name
            write_file(path, size, f"{name}-{i}")
            result = hashing.hash_file(path)
            updates.append(
                store_mod.FileUpdate(str(path), folder, name, tuple(result.identity), result.hashes)
            )
            shas[name] = result.hashes["SHA256"]
        store.save_files(updates)
        for i, (_folder, name, _size, status, *facts) in enumerate(TREE):
            if status == "identified":
                hostile = (XSS_DESCRIPTION, XSS_VERSION_DESCRIPTION) if i == 0 else (None, None)
                info = info_for(origin, 100 + i, *facts, *hostile)
                if i == 1:  # a video preview first: the list shows a placeholder, details a <video>
                    video = {"url": f"{origin}/img/clip.mp4", "width": 512, "height": 768,
                             "nsfw_level": 1, "type": "video"}  # fmt: skip
                    info["images"].insert(0, video)
                store.save_outcome(shas[name], "identified", info)
            elif status == "unknown":
                store.save_outcome(shas[name], "unknown")
            elif status == "error":
                store.save_outcome(
                    shas[name],
                    "error",
                    error="CivitAI did not answer in 30 s (timeout).",
                    error_kind="timeout",
                )
        if new_file:
            folder, name, size = NEW_FILE
            write_file(models_dir / folder / name, size, "fresh")
        for folder in ("checkpoints", "loras", "embeddings", "vae"):
            (models_dir / folder).mkdir(parents=True, exist_ok=True)
    finally:
        store.close()
    return shas


def _bulk_is_identified(i: int) -> bool:
    return i % 4 != 3


def bulk_identified(count: int) -> int:
    """How many of ``seed_bulk(count)``'s records are identified (the rest: not checked)."""
    return sum(1 for i in range(count) if _bulk_is_identified(i))


def seed_bulk(db_path: Path, count: int, origin: str, hashes_for=None, verdict_for=None) -> None:
    """``count`` synthetic records (files that are not on disk; never scan this store).
    ``hashes_for(i, sha256) -> hashes`` (benchmarks: all six, also kept in the hash cache's
    table as a real scan keeps them); default only the SHA256. ``verdict_for(i, folder)``:
    what the file's header says (hashing/classify's dict), stored as a scan stores it."""
    store_mod = pack_module("nodes.store.model_store")
    store = store_mod.ModelStore(db_path)
    cache = pack_module("hashing").HashCache(db_path) if hashes_for else None
    bases = ["SD 1.5", "SDXL 1.0", "Pony", "Flux.1 D", "Illustrious"]
    folders = ["checkpoints", "loras", "loras", "loras", "embeddings", "vae"]
    try:
        updates, outcomes, verdicts = [], [], []
        detection = pack_module("nodes.store.detections").Detection
        for i in range(count):
            folder = folders[i % len(folders)]
            sha = f"{i:064X}"
            name = f"set{i % 37}/model_{i:05d}.safetensors"
            identity = (1, 10_000 + i, 1000 + i * 1024, 1_700_000_000_000_000_000 + i * 10**9)
            hashes = hashes_for(i, sha) if hashes_for else {"SHA256": sha}
            path = f"/nonexistent/{folder}/{name}"
            updates.append(store_mod.FileUpdate(path, folder, name, identity, hashes))
            if verdict_for is not None:
                verdicts.append(detection(path, folder, name, identity, verdict_for(i, folder)))
            if cache is not None:
                cache.store(_cached(path, identity, hashes))
            if _bulk_is_identified(i):
                info = info_for(
                    origin,
                    1000 + i,
                    f"Bulk model {i:05d}",
                    f"v{i % 5}",
                    bases[i % 5],
                    [f"tag{i % 50}", "bulk"],
                    [f"word{i}"],
                    [1 if i % 3 else 4],
                )
                outcomes.append((sha, info))
        store.save_detections(verdicts)  # a scan reads the headers before it hashes
        store.save_files(updates)
        for sha, info in outcomes:
            store.save_outcome(sha, "identified", info)
    finally:
        store.close()
        if cache is not None:
            cache.close()


def _cached(path: str, identity: tuple, hashes: dict):
    hashing = pack_module("hashing")
    return hashing.HashResult(path, hashing.FileIdentity(*identity), hashes, 1)


if __name__ == "__main__":  # pragma: no cover - manual use
    print(os.fspath(Path(__file__)))
