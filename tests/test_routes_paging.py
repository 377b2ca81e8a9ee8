"""GET models?limit=…: pages with total and a next cursor, sorted and filtered in the store;
GET facets: the counts for the filter menus; bad parameters are a 400 sentence; without
limit the old answer stays."""

import pytest
from routes_helpers import make_api, safetensors, sha256

PREFIXES = ["/civitai-identify", "/api/civitai-identify"]


@pytest.fixture
async def api(comfy_env, fake_civitai, aiohttp_client):
    api = await make_api(comfy_env, fake_civitai, aiohttp_client)
    for i in range(7):
        lora = safetensors(bytes([i]) * (100 + i))
        api.env.add_model("loras", f"lora{i}.safetensors", lora)
        if i % 2 == 0:
            fake_civitai.add_file_model(sha256=sha256(lora), name=f"Style {i}",
                                        base_model="Pony" if i < 4 else "SDXL 1.0")  # fmt: skip
    api.env.add_model("checkpoints", "base.safetensors", safetensors(b"c" * 300))
    _, job = await api.post("/civitai-identify/scan", {"identify": "all"}, expect=202)
    assert (await api.wait_done(job["job_id"]))["state"] == "done"
    yield api
    await api.service.close()


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_pages_follow_the_cursor_to_every_record(api, prefix):
    _, everything = await api.get(f"{prefix}/models", expect=200)
    assert set(everything) == {"models", "total"} and everything["total"] == 8
    names, url = [], f"{prefix}/models?limit=3&sort=-size&view=brief"
    while True:
        _, page = await api.get(url, expect=200)
        assert page["total"] == 8 and len(page["models"]) <= 3
        names += [m["name"] for m in page["models"]]
        if page["next"] is None:
            break
        url = f"{prefix}/models?limit=3&sort=-size&view=brief&cursor={page['next']}"
    by_size = sorted(everything["models"], key=lambda m: -m["size"])
    assert names == [m["name"] for m in by_size]


async def test_filters_and_offset_apply_in_the_store(api):
    _, page = await api.get("/civitai-identify/models?limit=2&offset=1&category=loras"
                            "&status=identified&sort=name")  # fmt: skip
    assert page["total"] == 4 and [m["name"] for m in page["models"]] == [
        "lora2.safetensors", "lora4.safetensors"]  # fmt: skip
    _, page = await api.get("/civitai-identify/models?limit=10&q=style 6")
    assert [m["name"] for m in page["models"]] == ["lora6.safetensors"]
    _, page = await api.get("/civitai-identify/models?limit=10&base_model=Pony")
    assert page["total"] == 2 and page["next"] is None


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_facets_count_each_menu(api, prefix):
    _, facets = await api.get(f"{prefix}/facets", expect=200)
    assert facets == {
        "category": [["checkpoints", 1], ["loras", 7]],
        "base_model": [["Pony", 2], ["SDXL 1.0", 2]],
        "status": [["identified", 4], ["unknown", 4]],
        "kind": [],  # no file's header was classified in this seed
        "total": 8,
    }
    _, facets = await api.get(f"{prefix}/facets?category=loras&status=unknown")
    assert facets["category"] == [["checkpoints", 1], ["loras", 3]]  # other filters only
    assert facets["status"] == [["identified", 4], ["unknown", 3]]
    assert facets["total"] == 3


@pytest.mark.parametrize("query", ["limit=0", "limit=5000", "limit=x", "sort=colour&limit=5",
                                   "cursor=nonsense", "offset=-2&limit=1"])  # fmt: skip
async def test_bad_parameters_are_a_400_sentence(api, query):
    _, body = await api.get(f"/civitai-identify/models?{query}", expect=400)
    assert body["error"].endswith(".") and len(body["error"]) < 200
