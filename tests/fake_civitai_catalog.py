"""The data half of the fake CivitAI server (tests/fake_civitai.py): models, versions and
files in CivitAI's JSON shapes. Kept apart so each file stays small."""

from __future__ import annotations

import copy
import itertools
import threading
from typing import NamedTuple


class FakeIds(NamedTuple):
    model_id: int
    version_id: int


# Tiny but real image files: the magic numbers are what the preview writer looks at.
PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
    b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01"
    b"\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
WEBP_BYTES = (
    b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11"
    b"\x88\x88\xfe\x07\x00"
)


def fake_file(
    sha256=None, *, autov1=None, autov2=None, autov3=None, crc32=None, blake3=None,
    name="model.safetensors", size_kb=1024.0, primary=True, type="Model",
    fmt="SafeTensor", fp="fp16", file_id=None,
) -> dict:  # fmt: skip
    """One ``files[]`` entry in CivitAI's shape (hashes upper-cased, absent ones omitted)."""
    hashes = {
        "SHA256": sha256,
        "AutoV1": autov1,
        "AutoV2": autov2 or (sha256[:10] if sha256 else None),
        "AutoV3": autov3,
        "CRC32": crc32,
        "BLAKE3": blake3,
    }
    return {
        "id": file_id,
        "sizeKB": size_kb,
        "name": name,
        "type": type,
        "pickleScanResult": "Success",
        "virusScanResult": "Success",
        "metadata": {"format": fmt, "size": "pruned", "fp": fp},
        "hashes": {k: v.upper() for k, v in hashes.items() if v},
        "downloadUrl": "https://civitai.com/api/download/models/0",
        "primary": primary,
    }


class FakeCatalog:
    """Models and versions registered by tests; rendered as CivitAI would answer."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1001)
        self.models: dict[int, dict] = {}
        self.versions: dict[int, dict] = {}
        self.images: dict[str, tuple[bytes, str]] = {}  # name → (bytes, content type)
        self.image_base = "https://image.civitai.com/fake"  # the server: its own /images

    def clear(self) -> None:
        with self._lock:
            self.models = {}
            self.versions = {}
            self.images = {}

    def add_image(self, name: str, data: bytes = PNG_BYTES, content_type="image/png") -> str:
        """Serve ``data`` at ``<image_base>/<name>``; returns that URL. The name's
        extension need not match the bytes (CivitAI's CDN sends PNG for a .jpeg URL)."""
        with self._lock:
            self.images[name] = (data, content_type)
        return f"{self.image_base}/{name}"

    def image(self, url: str, nsfw_level: int = 1, type: str = "image") -> dict:
        """One ``images[]`` entry in CivitAI's shape."""
        return {
            "url": url,
            "nsfwLevel": nsfw_level,
            "width": 512,
            "height": 768,
            "hash": "U00000fQfQfQfQfQfQfQfQfQfQfQ",
            "type": type,
            "meta": None,
        }

    def add_model(
        self, *, name=None, type="LORA", description="<p>A fake model.</p>", nsfw=False,
        tags=(), creator="fake_creator", stats=None, model_id=None, poi=False,
    ) -> int:  # fmt: skip
        with self._lock:
            model_id = model_id or next(self._ids)
            model = {
                "id": model_id,
                "name": name or f"Fake model {model_id}",
                "description": description,
                "type": type,
                "poi": poi,
                "nsfw": nsfw,
                "nsfwLevel": 1,
                "stats": stats
                if stats is not None
                else {
                    "downloadCount": 100 + model_id,
                    "thumbsUpCount": 10,
                    "thumbsDownCount": 1,
                    "commentCount": 2,
                    "tippedAmountCount": 0,
                },
                "tags": list(tags),
            }
            if creator is not None:
                model["creator"] = {"username": creator, "image": None}
            self.models[model_id] = model
        return model_id

    def add_version(
        self, model_id, *, files, name="v1.0", base_model="SDXL 1.0", trained_words=(),
        images=None, nsfw_level=1, description=None, archived=False, version_id=None,
        created_at="2024-01-01T00:00:00.000Z", published_at="", status="Published",
    ) -> int:  # fmt: skip
        """``published_at`` "" → the same as ``created_at``; None → not published. Default
        images: one, served by the fake as PNG bytes at a ``.jpeg`` URL."""
        with self._lock:
            version_id = version_id or next(self._ids)
        if images is None:
            images = [self.image(self.add_image(f"{version_id}.jpeg"), nsfw_level)]
        with self._lock:
            files = [dict(f, id=f.get("id") or next(self._ids)) for f in files]
            self.versions[version_id] = {
                "id": version_id,
                "modelId": model_id,
                "name": name,
                "createdAt": created_at,
                "publishedAt": created_at if published_at == "" else published_at,
                "status": status,
                "baseModel": base_model,
                "baseModelType": "Standard",
                "trainedWords": list(trained_words),
                "description": description,
                "nsfwLevel": nsfw_level,
                "stats": {"downloadCount": 50, "thumbsUpCount": 5, "thumbsDownCount": 0},
                "files": files,
                "images": images,
                "downloadUrl": f"https://civitai.com/api/download/models/{version_id}",
                "_archived": archived,
            }
        return version_id

    def add_file_model(
        self, sha256=None, *, autov1=None, autov2=None, autov3=None, crc32=None, blake3=None,
        name=None, version_name="v1.0", file_name=None, type="LORA", base_model="SDXL 1.0",
        trained_words=(), tags=(), creator="fake_creator", description="<p>A fake model.</p>",
        images=None, nsfw_level=1, nsfw=False, archived=False, model_id=None, size_kb=1024.0,
        primary=True, extra_files=(), published_at="2024-01-01T00:00:00.000Z",
    ) -> FakeIds:  # fmt: skip
        """Register one model version holding one file with these hashes (see module doc)."""
        if model_id is None:
            model_id = self.add_model(
                name=name, type=type, description=description, nsfw=nsfw, tags=tags,
                creator=creator,
            )  # fmt: skip
        file = fake_file(
            sha256, autov1=autov1, autov2=autov2, autov3=autov3, crc32=crc32, blake3=blake3,
            name=file_name or f"{(name or 'fake').replace(' ', '_')}.safetensors",
            size_kb=size_kb, primary=primary,
        )  # fmt: skip
        version_id = self.add_version(
            model_id, files=[file, *extra_files], name=version_name, base_model=base_model,
            trained_words=trained_words, images=images, nsfw_level=nsfw_level,
            archived=archived, created_at=published_at or "2024-01-01T00:00:00.000Z",
            published_at=published_at,
        )  # fmt: skip
        return FakeIds(model_id, version_id)

    def _versions_with_hash(self, h: str, sha256_only=False) -> list[dict]:
        h = h.upper()
        found = [
            v
            for v in self.versions.values()
            if any(
                (k == "SHA256" or not sha256_only) and val.upper() == h
                for f in v["files"]
                for k, val in f["hashes"].items()
            )
        ]
        return sorted(found, key=lambda v: v["id"])

    def _version_json(self, version: dict, keep_files=False) -> dict:
        data = {k: copy.deepcopy(v) for k, v in version.items() if not k.startswith("_")}
        if version["_archived"] and not keep_files:
            data["files"] = []
        model = self.models.get(version["modelId"], {})
        data["model"] = {
            "name": model.get("name"),
            "type": model.get("type"),
            "nsfw": model.get("nsfw", False),
            "poi": model.get("poi", False),
        }
        return data

    def _model_json(self, model: dict) -> dict:
        data = copy.deepcopy(model)
        data["modelVersions"] = [
            {k: copy.deepcopy(v) for k, v in ver.items() if not k.startswith("_")}
            for ver in self.versions.values()
            if ver["modelId"] == model["id"]
        ]
        return data
