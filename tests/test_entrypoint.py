"""The pack as ComfyUI sees it: V3 entry point, node schemas, routes attached at import."""

import asyncio
import importlib
import json
import subprocess
import sys
import textwrap

from aiohttp import web
from comfy_env import STUBS
from packload import PACK_DIR, load_pack, pack_module

NODE_IDS = ["CivitaiIdentify_IdentifyModel", "CivitaiIdentify_ScanModelsFolder",
            "CivitaiIdentify_LoadLora"]  # fmt: skip


async def test_entrypoint_lists_the_nodes_with_valid_schemas(comfy_env):
    comfy_env.add_model("loras", "style/a.safetensors")
    comfy_env.add_model("checkpoints", "b.ckpt")
    comfy_env.add_model("other", "misc/c.safetensors")
    comfy_env.add_model("loras", "notes.txt")
    pack = load_pack()
    extension = await pack.comfy_entrypoint()
    latest = importlib.import_module("comfy_api.latest")
    assert isinstance(extension, latest.ComfyExtension)
    nodes = await extension.get_node_list()
    assert [n.GET_SCHEMA().node_id for n in nodes] == NODE_IDS
    for node in nodes:
        assert issubclass(node, latest.io.ComfyNode)
        assert node.GET_SCHEMA().category == "CivitAI"
        assert asyncio.iscoroutinefunction(node.execute)

    identify = nodes[0].GET_NODE_INFO_V1()
    model_type, model_opts = identify["input"]["required"]["model"]
    assert model_type == "COMBO"
    assert model_opts["options"] == [
        "checkpoints/b.ckpt",
        "loras/style/a.safetensors",
        "other/misc/c.safetensors",
    ]
    assert identify["input"]["required"]["refresh"][0] == "BOOLEAN"
    # One meaning per name: refresh re-hashes and asks again; retry_unknown asks again now
    # about files CivitAI did not know (the names saved workflows keep).
    assert "Re-hash" in identify["input"]["required"]["refresh"][1]["tooltip"]
    scan = nodes[1].GET_NODE_INFO_V1()
    retry = scan["input"]["required"]["retry_unknown"]
    assert retry[0] == "BOOLEAN" and "did not know" in retry[1]["tooltip"]
    assert "force_refresh" not in identify["input"]["required"] | scan["input"]["required"]
    assert identify["output"] == ["STRING"] * 7
    assert identify["output_name"] == [
        "civitai_info",
        "model_name",
        "version_name",
        "base_model",
        "trigger_words",
        "url",
        "update",
    ]

    scan = nodes[1].GET_NODE_INFO_V1()
    folder_opts = scan["input"]["required"]["folder"][1]["options"]
    assert folder_opts[0] == "all"
    assert "loras" in folder_opts and "other" in folder_opts
    assert "custom_nodes" not in folder_opts and "configs" not in folder_opts
    assert scan["input"]["required"]["identify"][1]["options"] == ["other only", "all", "none"]
    assert scan["input"]["required"]["identify"][1]["default"] == "other only"
    assert scan["output_name"] == ["summary", "report"]


def test_no_v1_mappings_and_web_directory():
    pack = load_pack()
    assert pack.WEB_DIRECTORY == "./web"
    assert not hasattr(pack, "NODE_CLASS_MAPPINGS")


def test_routes_attach_to_prompt_server_when_comfyui_runs(comfy_env):
    loop = asyncio.new_event_loop()
    try:
        prompt_server = comfy_env.prompt_server(loop)
        assert pack_module("nodes.comfy.glue").attach() is True
        prompt_server.add_routes()
        paths = {r.resource.canonical for r in prompt_server.app.router.routes()}
    finally:
        loop.close()
    for route in ("status", "models", "models/{folder}/{name}", "identify", "scan"):
        assert f"/civitai-identify/{route}" in paths
        assert f"/api/civitai-identify/{route}" in paths


def test_attach_does_nothing_without_comfyui():
    assert "server" not in sys.modules or not hasattr(sys.modules["server"], "PromptServer")
    assert pack_module("nodes.comfy.glue").attach() is False


def _import_in_comfyui(setup: str) -> subprocess.CompletedProcess:
    code = textwrap.dedent(
        f"""
        import asyncio, importlib.util, logging, sys, time
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
        sys.path.insert(0, {STUBS!r})
        import folder_paths, server
        loop = asyncio.new_event_loop()
        server.PromptServer(loop)
        {setup}
        start = time.perf_counter()
        spec = importlib.util.spec_from_file_location(
            "civitai-identify", {str(PACK_DIR / "__init__.py")!r},
            submodule_search_locations=[{str(PACK_DIR)!r}])
        mod = importlib.util.module_from_spec(spec)
        sys.modules["civitai-identify"] = mod
        spec.loader.exec_module(mod)
        print("IMPORT_MS", (time.perf_counter() - start) * 1000)
        print("ROUTES", len(list(server.PromptServer.instance.routes or [])))
        """
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd="/", timeout=60
    )


def test_import_inside_comfyui_registers_routes_fast_and_builds_nothing():
    out = _import_in_comfyui("")
    assert out.returncode == 0, out.stderr
    ms = float(out.stdout.split("IMPORT_MS", 1)[1].split()[0])
    assert ms < 1000  # generous sanity bound; the real figure is in benchmarks/
    assert "ROUTES 11" in out.stdout
    assert "store at" not in out.stderr  # the service is built on first use only


def test_a_failure_while_attaching_is_one_log_line_and_import_goes_on():
    # A PromptServer without routes: registering fails, ComfyUI must still start.
    out = _import_in_comfyui("server.PromptServer.instance.routes = None")
    assert out.returncode == 0, out.stderr
    errors = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, out.stderr
    assert "CivitAI Identify" in errors[0] and "routes not registered" in errors[0]


def test_route_table_mounts_on_a_bare_app():
    routes = pack_module("nodes.comfy.routes")
    app = routes.make_app(lambda: None)
    assert isinstance(app, web.Application)
    paths = {r.resource.canonical for r in app.router.routes()}
    assert "/civitai-identify/scan/cancel" in paths and "/api/civitai-identify/status" in paths


def test_identify_fingerprint_changes_with_the_file(comfy_env):
    path = comfy_env.add_model("loras", "a.safetensors", b"one")
    identify = pack_module("nodes.comfy.nodes").IdentifyModel
    first = identify.fingerprint_inputs(model="loras/a.safetensors")
    assert first == identify.fingerprint_inputs(model="loras/a.safetensors")
    path.write_bytes(b"a replaced file")
    assert identify.fingerprint_inputs(model="loras/a.safetensors") != first
    forced = identify.fingerprint_inputs(model="loras/a.safetensors", refresh=True)
    assert forced != forced  # NaN: always runs again
    assert identify.fingerprint_inputs(model="loras/../x.pt") == "loras/../x.pt"


def test_scan_default_mode_follows_the_environment(comfy_env, monkeypatch):
    monkeypatch.setenv("CIVITAI_IDENTIFY_MODE", "all")
    scan = pack_module("nodes.comfy.nodes").ScanModelsFolder
    assert scan.GET_NODE_INFO_V1()["input"]["required"]["identify"][1]["default"] == "all"


def test_example_workflows_match_the_node_schemas(comfy_env):
    module = pack_module("nodes.comfy.nodes")
    nodes = (module.IdentifyModel, module.ScanModelsFolder)
    schemas = {n.GET_SCHEMA().node_id: n.GET_NODE_INFO_V1() for n in nodes}
    api = json.loads((PACK_DIR / "examples" / "workflow_identify_lora_api.json").read_text())
    ours = {k: v for k, v in api.items() if v["class_type"] in schemas}
    assert {v["class_type"] for v in ours.values()} == set(schemas)
    for node in ours.values():
        assert set(node["inputs"]) == set(schemas[node["class_type"]]["input"]["required"])
    # trigger_words (output 4 of Identify Model) is the positive prompt's text.
    identify_id = next(k for k, v in ours.items() if v["class_type"].endswith("IdentifyModel"))
    texts = [v["inputs"].get("text") for v in api.values() if v["class_type"] == "CLIPTextEncode"]
    assert [identify_id, 4] in texts
    assert schemas[api[identify_id]["class_type"]]["output_name"][4] == "trigger_words"

    ui = json.loads((PACK_DIR / "examples" / "workflow_identify_lora.json").read_text())
    by_id = {n["id"]: n for n in ui["nodes"]}
    for link_id, src, src_slot, dst, dst_slot, kind in ui["links"]:
        assert by_id[src]["outputs"][src_slot]["type"] == kind
        assert by_id[dst]["inputs"][dst_slot]["link"] == link_id
        assert link_id in by_id[src]["outputs"][src_slot]["links"]
    for node in ui["nodes"]:
        if node["type"] in schemas:
            required = schemas[node["type"]]["input"]["required"]
            assert len(node["widgets_values"]) == len(required)


def test_model_folders_skip_missing_and_non_model_dirs(comfy_env, tmp_path):
    names = pack_module("nodes.comfy.names")
    comfy_env.add_folder_path("checkpoints", tmp_path / "output" / "checkpoints")  # absent
    comfy_env.add_folder_path("loras", tmp_path / "extra_loras")
    (tmp_path / "extra_loras").mkdir()
    folders = names.model_folders(comfy_env.folder_paths)
    assert folders["checkpoints"] == [str(comfy_env.models_dir / "checkpoints")]
    assert folders["loras"] == [str(comfy_env.models_dir / "loras"), str(tmp_path / "extra_loras")]
    assert folders["other"] == [str(comfy_env.models_dir)]
    assert "configs" not in folders and "custom_nodes" not in folders


def test_model_choices_cover_extra_paths_and_survive_symlink_loops(comfy_env, tmp_path):
    names = pack_module("nodes.comfy.names")
    extra = tmp_path / "nas" / "loras"
    extra.mkdir(parents=True)
    (extra / "far.safetensors").write_bytes(b"x")
    comfy_env.add_folder_path("loras", extra)
    comfy_env.add_model("other", "dl/a.gguf")
    loop_dir = comfy_env.models_dir / "dl" / "loop"
    loop_dir.symlink_to(comfy_env.models_dir, target_is_directory=True)
    comfy_env.add_model("vae", "v.pt")
    assert names.model_choices(comfy_env.folder_paths) == [
        "loras/far.safetensors",
        "other/dl/a.gguf",
        "vae/v.pt",
    ]
