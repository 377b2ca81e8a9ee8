"""The header verdicts through the real routes: kind= and base_model= filters, the kind
facet, and the record's detected / suggested_category fields."""

from model_headers import SD15_LORA, write_safetensors


def _bytes(tmp_path, name, tensors, meta=None) -> bytes:
    path = tmp_path / name
    write_safetensors(path, tensors, meta)
    return path.read_bytes()


async def test_kind_and_base_model_filters_use_the_header(api, tmp_path):
    api.env.add_model("loras", "style.safetensors", _bytes(tmp_path, "a", SD15_LORA))
    emb = _bytes(tmp_path, "b", {"emb_params": ("F32", (4, 768))})
    api.env.add_model("other", "emb.safetensors", emb)
    _, job = await api.post("/civitai-identify/scan", {"identify": "none"}, expect=202)
    assert (await api.wait_done(job["job_id"]))["state"] == "done"
    _, loras = await api.get("/civitai-identify/models?kind=lora", expect=200)
    assert [m["name"] for m in loras["models"]] == ["style.safetensors"]
    _, sd15 = await api.get("/civitai-identify/models?base_model=SD 1.5", expect=200)
    assert sorted(m["name"] for m in sd15["models"]) == ["emb.safetensors", "style.safetensors"]
    _, facets = await api.get("/civitai-identify/facets", expect=200)
    assert dict(map(tuple, facets["kind"])) == {"embedding": 1, "lora": 1}
    _, emb = await api.get("/civitai-identify/models/other/emb.safetensors", expect=200)
    assert emb["detected"]["kind"] == "embedding" and emb["suggested_category"] == "embeddings"
    assert emb["warnings"] == []
