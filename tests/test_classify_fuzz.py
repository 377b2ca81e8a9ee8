"""Property: whatever a header holds, the classifier answers (never raises), with every
field, JSON-ready, and a kind from its vocabulary. Inputs start from the real tables of
model_header_cases.py and are mutated: keys dropped, shapes and dtypes replaced, metadata
values made hostile."""

import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from model_header_cases import CASES
from packload import pack_module

classify = pack_module("hashing.classify")
KINDS = {None, *classify.CATEGORIES}

shapes = st.lists(st.integers(0, 5000), max_size=6).map(tuple)
dtypes = st.sampled_from(["F16", "BF16", "F32", "F8_E4M3", "I64", "U8", "Q4_K", "WEIRD"])
meta_values = st.one_of(st.text(max_size=40), st.just("{"), st.just('{"a": {"b": "x"}}'),
                        st.just('{"d": {"tag": 1e309}}'), st.just("[]"))  # fmt: skip


@st.composite
def mutated_tables(draw):
    _, tensors, metadata, _ = draw(st.sampled_from(CASES))
    out = {}
    for name, (dtype, shape) in tensors.items():
        choice = draw(st.integers(0, 3))
        if choice == 0:
            continue  # dropped
        if choice == 1:
            shape = draw(shapes)
        if choice == 2:
            dtype = draw(dtypes)
        out[name] = (dtype, shape)
    meta = dict(metadata)
    for key in draw(st.lists(st.sampled_from(["ss_tag_frequency", "ss_base_model_version",
                                              "modelspec.architecture", "modelspec.title",
                                              "general.file_type"]), max_size=3)):  # fmt: skip
        meta[key] = draw(meta_values)
    return out, meta


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_tables(), st.sampled_from(["safetensors", "gguf"]))
@example(({"emb_params": ("F32", ())}, {}), "safetensors")
@example(({"lora_unet_x.lora_down.weight": ("F16", (4,))}, {}), "safetensors")
@example(({"patch_embedding.weight": ("BF16", (5120,)), "blocks.0.self_attn.q.weight": ("BF16", ()),
           "blocks.0.cross_attn.q.weight": ("BF16", ())}, {"general.file_type": "99"}), "gguf")
@example(({}, {"ss_tag_frequency": '{"d": {"tag": 1e309, "ok": 2, "neg": -5}}'}), "safetensors")
def test_any_table_gets_an_answer(table, container):
    tensors, meta = table
    detected = classify.classify(tensors, meta, container=container, file_name="x.safetensors")
    assert list(detected) == list(classify.FIELDS)
    assert detected["kind"] in KINDS
    assert json.loads(json.dumps(detected)) == detected
