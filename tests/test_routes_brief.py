"""GET models?view=brief: the same records as the full list, civitai_info trimmed for a list
(no descriptions, creator or file; only the thumbnail images); a bad view is a 400."""

import pytest
from packload import pack_module
from routes_helpers import make_api, safetensors, sha256

views = pack_module("nodes.comfy.record_views")

PREFIXES = ["/civitai-identify", "/api/civitai-identify"]


def image(n, level):
    return {"url": f"https://image.civitai.com/x/{n}.jpeg", "nsfwLevel": level, "type": "image"}


@pytest.fixture
async def api(comfy_env, fake_civitai, aiohttp_client):
    api = await make_api(comfy_env, fake_civitai, aiohttp_client)
    lora, ckpt = safetensors(b"l" * 100), safetensors(b"c" * 100)
    api.env.add_model("loras", "style.safetensors", lora)
    api.env.add_model("checkpoints", "base.safetensors", ckpt)
    api.env.add_model("other", "mystery.safetensors", safetensors(b"m" * 100))
    fake_civitai.add_file_model(
        sha256=sha256(lora), name="Fancy Style", base_model="Pony", tags=["anime"],
        trained_words=["fancy"], description="<p>Long text</p>",
        images=[image(1, 8), image(2, 16), image(3, 2), image(4, 4), image(5, 1)],
    )  # fmt: skip
    fake_civitai.add_file_model(sha256=sha256(ckpt), name="Base", description="<p>Base</p>")
    _, job = await api.post("/civitai-identify/scan", {"identify": "all"}, expect=202)
    assert (await api.wait_done(job["job_id"]))["state"] == "done"
    yield api
    await api.service.close()


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_brief_has_the_same_records_with_trimmed_info(api, prefix):
    _, full = await api.get(f"{prefix}/models", expect=200)
    _, same = await api.get(f"{prefix}/models?view=full", expect=200)
    _, brief = await api.get(f"{prefix}/models?view=brief", expect=200)
    assert same == full
    assert brief["total"] == full["total"] == 3
    rows = list(zip(full["models"], brief["models"], strict=True))
    assert [(f["folder"], f["name"], f["status"]) for f, _ in rows] == [
        (b["folder"], b["name"], b["status"]) for _, b in rows
    ]
    assert {b["status"] for _, b in rows} == {"identified", "unknown"}
    for f, b in rows:
        assert b.keys() == f.keys()
        trimmed = ("civitai_info", "detected")  # detected: see test_scanner_classify.py
        assert {k: v for k, v in b.items() if k not in trimmed} == {
            k: v for k, v in f.items() if k not in trimmed
        }
        if f["civitai_info"] is None:
            assert b["civitai_info"] is None
            continue
        fi, bi = f["civitai_info"], b["civitai_info"]
        assert bi.keys() == fi.keys()  # no key goes missing: details-only ones are null
        assert fi["description"] and fi["creator"] and fi["file"]
        for key in ("description", "version_description", "creator", "file"):
            assert bi[key] is None, key
        for key in set(fi) - {"description", "version_description", "creator", "file", "images"}:
            assert bi[key] == fi[key], key
        assert bi["images"][0] == fi["images"][0]
    by_name = {b["name"]: b["civitai_info"] for _, b in rows}
    assert len(by_name["base.safetensors"]["images"]) == 1
    # Fancy Style: levels 8, 16, 2, 4, 1 → the first, then each lower level (the panel's
    # thumbnail, "first image under the blur threshold", is among them for any threshold).
    levels = [im["nsfw_level"] for im in by_name["style.safetensors"]["images"]]
    assert levels == [8, 2, 1]


async def test_brief_keeps_the_filters(api):
    for query, names in [
        ("q=fancy", ["style.safetensors"]),
        ("q=anime", ["style.safetensors"]),
        ("status=unknown", ["mystery.safetensors"]),
        ("base_model=Pony", ["style.safetensors"]),
        ("category=checkpoints", ["base.safetensors"]),
    ]:
        _, body = await api.get(f"/civitai-identify/models?view=brief&{query}", expect=200)
        assert [m["name"] for m in body["models"]] == names, query


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("view", ["bogus", "FULL", "brief,full"])
async def test_a_bad_view_is_a_400_with_a_sentence(api, prefix, view):
    _, body = await api.get(f"{prefix}/models?view={view}", expect=400)
    assert "view must be one of full, brief" in body["error"]


def test_thumbnail_images_keep_the_panels_choice_for_every_threshold():
    images = [{"nsfw_level": lv, "n": i} for i, lv in enumerate([4, 8, 2, 32, 1, 2, None])]
    kept = views.thumbnail_images([*images, "not an image"])
    assert [im["n"] for im in kept] == [0, 2, 4, 6]

    def panel_thumbnail(imgs, threshold):  # cid_records.thumbnailOf
        shown = [im for im in imgs if not (threshold > 0 and (im["nsfw_level"] or 0) >= threshold)]
        return (shown or imgs)[0]

    for threshold in (0, 1, 2, 4, 8, 16, 32):
        assert panel_thumbnail(kept, threshold) == panel_thumbnail(images, threshold)
    assert views.thumbnail_images(None) == []
    assert views.brief_info(None) is None
