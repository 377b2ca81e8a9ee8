"""Previews beside models: the right extension (from the bytes, not the URL), never
overwriting, never above the NSFW threshold, never outside the model's folder; and ComfyUI's
own preview lookup (app/model_manager.py) finds what was written."""

import glob
import mimetypes
import os

import pytest
from fake_civitai import JPEG_BYTES, PNG_BYTES, WEBP_BYTES
from models_tree import build_models_tree, open_scanner
from packload import pack_module

previews = pack_module("nodes.scan.beside.previews")


def comfyui_model_previews(filepath: str) -> list[str]:
    """A faithful copy of ComfyUI's ``ModelFileManager.get_model_previews`` file lookup (its
    ``/experiment/models/preview/{folder}/{path_index}/{filename}`` route serves the first):
    ``<basename>.*`` globbed, kept if its content type is an image and its base name is
    ``<basename>`` or ``<basename>.preview``."""
    basename = os.path.splitext(filepath)[0]
    match_files = glob.glob(f"{glob.escape(basename)}.*", recursive=False)
    image_files = [f for f in match_files
                   if (mimetypes.guess_type(f)[0] or "").split("/")[0] == "image"]  # fmt: skip
    return [f for f in image_files
            if os.path.splitext(f)[0] in (basename, f"{basename}.preview")]  # fmt: skip


def _known(tree, fake, key, images=None):
    tf = tree.files[key]
    return tf, fake.add_file_model(sha256=tf.sha256, name=f"Model {key}", images=images)


async def _scan(tree, tmp_path, fake, **kwargs):
    async with open_scanner(tree.root, tmp_path / "db", fake, write_previews=True,
                            **kwargs) as (scanner, _store, _):  # fmt: skip
        summary = await scanner.scan(identify="all")
    return summary


async def test_png_bytes_at_a_jpeg_url_become_a_png_preview(tmp_path, fake_civitai):
    tree = build_models_tree(tmp_path / "models")
    tf, _ = _known(tree, fake_civitai, "anime")  # default image: PNG bytes at <id>.jpeg
    before = tree.snapshot()
    summary = await _scan(tree, tmp_path, fake_civitai)
    preview = tf.path.with_name("anime.preview.png")
    assert preview.read_bytes() == PNG_BYTES
    assert summary["previews"] == 1
    assert tree.snapshot() == before  # no model file touched
    # ComfyUI's own preview route picks exactly that file for this model
    assert comfyui_model_previews(str(tf.path)) == [str(preview)]
    leftovers = [p for p in os.listdir(tf.path.parent) if p.endswith(".part")]
    assert leftovers == []
    # the download was no API call: the scan's calls are the lookups only
    image_calls = [r for r in fake_civitai.requests if r.path.startswith("/images/")]
    assert len(image_calls) == 1 and "Authorization" not in image_calls[0].headers


@pytest.mark.parametrize("data, ext", [(JPEG_BYTES, "jpg"), (WEBP_BYTES, "webp")])
async def test_extension_follows_the_bytes(tmp_path, fake_civitai, data, ext):
    tree = build_models_tree(tmp_path / "models")
    url = fake_civitai.add_image("photo.png", data, "image/png")  # the URL says png
    tf, _ = _known(tree, fake_civitai, "base", images=[fake_civitai.image(url, 1)])
    await _scan(tree, tmp_path, fake_civitai)
    assert tf.path.with_name(f"base.preview.{ext}").read_bytes() == data
    assert comfyui_model_previews(str(tf.path)) == [str(tf.path.with_name(f"base.preview.{ext}"))]


async def test_never_overwrites_an_existing_preview(tmp_path, fake_civitai):
    tree = build_models_tree(tmp_path / "models")
    tf, _ = _known(tree, fake_civitai, "anime")
    mine = tf.path.with_name("anime.jpg")
    mine.write_bytes(b"my own picture")
    summary = await _scan(tree, tmp_path, fake_civitai)
    assert mine.read_bytes() == b"my own picture" and summary["previews"] == 0
    assert not tf.path.with_name("anime.preview.png").exists()
    assert not [r for r in fake_civitai.requests if r.path.startswith("/images/")]
    with pytest.raises(FileExistsError):
        previews.write_preview(str(tf.path), PNG_BYTES)


async def test_first_image_under_the_threshold_and_none_when_all_are_above(tmp_path, fake_civitai):
    tree = build_models_tree(tmp_path / "models")
    explicit = fake_civitai.add_image("x.jpeg", JPEG_BYTES)
    safe = fake_civitai.add_image("safe.jpeg", PNG_BYTES)
    video = fake_civitai.add_image("v.mp4", WEBP_BYTES)
    chosen, _ = _known(tree, fake_civitai, "anime", images=[
        fake_civitai.image(explicit, 8), fake_civitai.image(video, 1, type="video"),
        fake_civitai.image(safe, 2)])  # fmt: skip
    hidden, _ = _known(tree, fake_civitai, "base", images=[
        fake_civitai.image(explicit, 4), fake_civitai.image(explicit, 16)])  # fmt: skip
    summary = await _scan(tree, tmp_path, fake_civitai)
    assert chosen.path.with_name("anime.preview.png").read_bytes() == PNG_BYTES
    assert previews.preview_paths(str(hidden.path)) and not previews.has_preview(str(hidden.path))
    assert summary["previews"] == 1
    # a higher threshold (R) lets the R image through
    await _scan(tree, tmp_path, fake_civitai, preview_nsfw="R")
    assert hidden.path.with_name("base.preview.jpg").read_bytes() == JPEG_BYTES


async def test_not_an_image_is_refused_and_the_scan_goes_on(tmp_path, fake_civitai):
    tree = build_models_tree(tmp_path / "models")
    html = fake_civitai.add_image("oops.jpeg", b"<html>Just a moment...</html>", "text/html")
    bad, _ = _known(tree, fake_civitai, "anime", images=[fake_civitai.image(html, 1)])
    good, _ = _known(tree, fake_civitai, "base")
    summary = await _scan(tree, tmp_path, fake_civitai)
    assert not previews.has_preview(str(bad.path))
    assert good.path.with_name("base.preview.png").exists()
    assert summary["previews"] == 1 and summary["by_status"]["identified"] >= 2


def test_a_preview_is_written_in_the_models_own_folder_only(tmp_path):
    model = tmp_path / "loras" / "sub" / "x.safetensors"
    model.parent.mkdir(parents=True)
    model.write_bytes(b"weights")
    written = previews.write_preview(str(model), PNG_BYTES)
    assert written == str(model.with_name("x.preview.png"))
    assert sorted(os.listdir(model.parent)) == ["x.preview.png", "x.safetensors"]
    assert model.read_bytes() == b"weights"
    # a name pointing elsewhere through a symlink is "a preview exists": nothing is written
    other = tmp_path / "y.safetensors"
    other.write_bytes(b"y")
    os.symlink(tmp_path / "elsewhere.png", tmp_path / "y.preview.png")
    with pytest.raises(FileExistsError):
        previews.write_preview(str(other), PNG_BYTES)
    assert not (tmp_path / "elsewhere.png").exists()
    with pytest.raises(ValueError):
        previews.write_preview(str(tmp_path / "z.safetensors"), b"GIF-less junk")


async def test_cli_scan_write_previews(tmp_path, fake_civitai):
    from test_cli_scan import run_cli

    tree = build_models_tree(tmp_path / "models")
    tf, _ = _known(tree, fake_civitai, "other_known")
    done = run_cli(tmp_path, fake_civitai, tree.root, "--write-previews")
    assert done.returncode == 0, done.stderr
    assert tf.path.with_name("some_lora.preview.png").read_bytes() == PNG_BYTES
    assert "1 preview(s) saved beside their models." in done.stderr


async def test_route_scan_setting_and_details_button(api, fake_civitai):
    from routes_helpers import safetensors, sha256

    data = safetensors(b"p" * 100)
    path = api.env.add_model("loras", "pic.safetensors", data)
    fake_civitai.add_file_model(sha256=sha256(data))
    _, job = await api.post("/civitai-identify/scan", {"identify": "all"}, expect=202)
    done = await api.wait_done(job["job_id"])
    assert done["summary"]["previews"] == 0  # off by default
    assert not previews.has_preview(str(path))
    body = {"folder": "loras", "name": "pic.safetensors"}
    _, answer = await api.post("/civitai-identify/preview", body, expect=200)
    assert answer["result"] == "written" and path.with_name("pic.preview.png").exists()
    _, answer = await api.post("/civitai-identify/preview", body, expect=200)
    assert answer["result"] == "exists"
    await api.post("/civitai-identify/scan", {"write_previews": "yes"}, expect=400)

    other = safetensors(b"q" * 100)
    second = api.env.add_model("loras", "pic2.safetensors", other)
    fake_civitai.add_file_model(sha256=sha256(other))
    _, job = await api.post("/civitai-identify/scan", {"identify": "all", "write_previews": True},
                            expect=202)  # fmt: skip
    done = await api.wait_done(job["job_id"])
    assert done["summary"]["previews"] == 1 and previews.has_preview(str(second))

    api.env.add_model("loras", "unknown.safetensors", safetensors(b"u" * 10))
    unknown = {"folder": "loras", "name": "unknown.safetensors"}
    _, err = await api.post("/civitai-identify/preview", unknown, expect=400)
    assert err["error"].endswith(".")
