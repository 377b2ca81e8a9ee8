"""The CLI inside a ComfyUI tree: ComfyUI's store, ComfyUI's folders and (folder, name) keys,
so a ComfyUI started afterwards has the CLI's results without reading a file again."""

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import types

import pytest
from comfy_tree import FILES, UNKNOWN, build_fake_comfy, cli_env, register_known, run_pack_cli
from packload import pack_module


def _records(db) -> dict[tuple[str, str], dict]:
    store = pack_module("nodes.store").ModelStore(db)
    try:
        return {(r["folder"], r["name"]): r for r in store.list_records(include_path=True)}
    finally:
        store.close()


def _comfy_folder_paths(tree):
    """What ComfyUI's folder_paths module holds for this tree (written by hand)."""
    registered = tree.folder_names_and_paths()

    def get_full_path(folder, name):  # ComfyUI's: the first of the folder's dirs that has it
        for directory in registered.get(folder, ([], None))[0]:
            if os.path.isfile(os.path.join(directory, name)):
                return os.path.join(directory, name)
        return None

    return types.SimpleNamespace(
        folder_names_and_paths=registered,
        models_dir=str(tree.models),
        get_user_directory=lambda: str(tree.root / "user"),
        get_full_path=get_full_path,
    )


async def test_no_dir_scans_comfys_folders_into_comfys_store_and_comfy_then_reads_nothing(
    tmp_path, fake_civitai, monkeypatch
):
    tree = build_fake_comfy(tmp_path)
    register_known(tree, fake_civitai)
    done = run_pack_cli(tree, fake_civitai, "--all", "--extra-model-paths", tree.second_yaml)
    assert done.returncode == 0, done.stderr
    # the plan is printed first: ComfyUI's store, the YAML files, each folder with its count
    assert f"Store: {tree.store} (ComfyUI at {tree.root})" in done.stderr
    assert f"Extra model paths: {tree.root / 'extra_model_paths.yaml'}" in done.stderr
    assert f"Extra model paths: {tree.second_yaml}" in done.stderr
    assert done.stderr.index("Store:") < done.stderr.index("hashing")
    lines = [line.split() for line in done.stderr.splitlines() if line.startswith("  ")]
    counts = {(w[0], w[3]): int(w[1]) for w in lines if len(w) == 4}
    assert counts[("text_encoders", str(tree.models / "clip"))] == 1
    assert counts[("loras", str(tree.base / "volume/more_loras"))] == 1
    assert counts[("other", str(tree.models))] == 1
    assert not (tree.base / "cache").exists()  # not the cache-dir store of a plain scan

    records = _records(tree.store)
    assert set(records) == tree.expected_keys()
    for key, (folder, name, _) in FILES.items():
        record = records[(folder, name)]
        assert record["path"] == str(tree.path(key))
        assert record["status"] == ("unknown" if key in UNKNOWN else "identified"), key

    # ComfyUI starts: its folder_paths, its default store path, its own scan
    monkeypatch.setitem(sys.modules, "folder_paths", _comfy_folder_paths(tree))
    service_mod = pack_module("nodes.comfy.service")
    settings = pack_module("civitai").Settings(api_base=fake_civitai.url, interval=0.01)
    service = service_mod.Service(sys.modules["folder_paths"], emit=lambda *a: None,
                                  settings=settings)  # fmt: skip
    try:
        assert service.folders() == tree.expected_folders()
        listed = await service.list_models()
        assert {(m["folder"], m["name"]): m["status"] for m in listed["models"]} == {
            k: r["status"] for k, r in records.items()
        }
        assert service._db_path == tree.store
        fake_civitai.requests.clear()
        job, _ = await service.start_scan(identify="all")
        await job.task
        summary = job.summary
        assert summary["files_total"] == len(FILES)
        assert (summary["files_hashed"], summary["bytes_hashed"], summary["calls"]) == (0, 0, 0)
        assert fake_civitai.requests == []
        assert summary["missing"] == 0
    finally:
        await service.close()


def test_a_dir_inside_the_tree_keys_files_as_comfyui_does(tmp_path, fake_civitai):
    tree = build_fake_comfy(tmp_path)
    done = run_pack_cli(tree, fake_civitai, tree.models / "clip", "--offline")
    assert done.returncode == 0, done.stderr
    assert set(_records(tree.store)) == {("text_encoders", "t5.safetensors")}
    assert "text_encoders" in done.stderr and str(tree.models / "loras") not in done.stderr
    done = run_pack_cli(tree, fake_civitai, tree.models / "loras" / "style", "--offline")
    assert done.returncode == 0, done.stderr
    # the first scan's file is not "missing" because the second did not look at its folder
    assert set(_records(tree.store)) == {
        ("text_encoders", "t5.safetensors"),
        ("loras", "style/anime.safetensors"),
    }
    done = run_pack_cli(tree, fake_civitai, tree.models, "--offline")
    assert done.returncode == 0, done.stderr
    models_keys = {
        (folder, name) for folder, name, rel in FILES.values() if rel.startswith("ComfyUI/")
    }
    assert set(_records(tree.store)) == models_keys


def test_comfyui_option_and_a_plain_dir_outside_a_tree(tmp_path, fake_civitai):
    tree = build_fake_comfy(tmp_path)
    outside = tmp_path / "loose"
    (outside / "loras").mkdir(parents=True)
    (outside / "loras" / "a.safetensors").write_bytes(tree.path("x").read_bytes())
    # the pack copied somewhere else: today's behaviour (DIR required, cache-dir store)
    elsewhere = tmp_path / "elsewhere" / "civitai-identify"
    elsewhere.parent.mkdir()
    tree.pack.rename(elsewhere)
    tree.pack = elsewhere
    done = run_pack_cli(tree, fake_civitai, "--offline")
    assert done.returncode == 2 and "give the models folder to scan" in done.stderr
    done = run_pack_cli(tree, fake_civitai, outside, "--offline")
    assert done.returncode == 0, done.stderr
    cache_store = tmp_path / "cache" / "civitai-identify" / "civitai-identify.sqlite3"
    assert set(_records(cache_store)) == {("loras", "a.safetensors")}
    done = run_pack_cli(tree, fake_civitai, "--offline", "--extra-model-paths", tree.second_yaml)
    assert done.returncode == 2 and "--extra-model-paths needs a ComfyUI folder" in done.stderr
    # --comfyui names the tree
    done = run_pack_cli(tree, fake_civitai, "--offline", "--comfyui", tmp_path / "loose")
    assert done.returncode == 2 and "is not a ComfyUI folder" in done.stderr
    done = run_pack_cli(tree, fake_civitai, "--offline", "--comfyui", tree.root)
    assert done.returncode == 0, done.stderr
    assert ("diffusion_models", "flux.safetensors") in _records(tree.store)
    # CIVITAI_IDENTIFY_DB and --db still win over ComfyUI's store
    db = tmp_path / "mine.sqlite3"
    done = run_pack_cli(tree, fake_civitai, "--offline", "--comfyui", tree.root,
                        CIVITAI_IDENTIFY_DB=str(db))  # fmt: skip
    assert done.returncode == 0 and f"Store: {db}" in done.stderr
    with sqlite3.connect(db) as conn:
        count = conn.execute("SELECT COUNT(*) FROM files").fetchone()[0]
    assert count == len(FILES) - 1  # all but ~/shared/vae (no second YAML this time)


def test_a_broken_extra_model_paths_file_is_a_sentence_and_nothing_is_written(
    tmp_path, fake_civitai
):
    tree = build_fake_comfy(tmp_path)
    (tree.root / "extra_model_paths.yaml").write_text("cloud:\n  loras: [unclosed\n")
    done = run_pack_cli(tree, fake_civitai, "--offline")
    assert done.returncode == 2
    assert "extra_model_paths.yaml is not valid YAML" in done.stderr
    assert "Traceback" not in done.stderr and not tree.store.exists()
    (tree.root / "extra_model_paths.yaml").write_text("cloud:\n  loras:\n    - a\n    - b\n")
    done = run_pack_cli(tree, fake_civitai, "--offline")
    assert done.returncode == 2 and "cloud.loras must be a path or lines of paths" in done.stderr


@pytest.fixture
def comfy_tree_mod():
    return pack_module("nodes.scan.comfy_tree")


def test_an_older_comfyui_keeps_clip_and_unet_as_folder_names(tmp_path, comfy_tree_mod):
    root = tmp_path / "ComfyUI"
    (root / "models" / "clip").mkdir(parents=True)
    (root / "main.py").write_text("")
    (root / "folder_paths.py").write_text(
        "import os\n"
        "supported_pt_extensions = set(['.ckpt', '.pt', '.bin', '.pth', '.safetensors'])\n"
        "models_dir = os.path.join(os.path.dirname(os.path.realpath(__file__)), 'models')\n"
        "folder_names_and_paths = {}\n"
        'folder_names_and_paths["clip"] = ([os.path.join(models_dir, "clip")], '
        "supported_pt_extensions)\n"
    )
    (tmp_path / "te").mkdir()
    (root / "extra_model_paths.yaml").write_text(f"a:\n  clip: {tmp_path / 'te'}\n")
    loaded = comfy_tree_mod.load_comfy_tree(root)
    assert loaded.model_folders() == {
        "clip": [str(root / "models" / "clip"), str(tmp_path / "te")],
        "other": [str(root / "models")],
    }


def test_an_unreadable_folder_paths_falls_back_to_the_usual_folders(
    tmp_path, comfy_tree_mod, caplog
):
    root = tmp_path / "ComfyUI"
    (root / "models" / "unet").mkdir(parents=True)
    (root / "main.py").write_text("")
    (root / "folder_paths.py").write_text("def broken(:\n")
    loaded = comfy_tree_mod.load_comfy_tree(root)
    assert loaded.model_folders()["diffusion_models"] == [str(root / "models" / "unet")]
    assert "Could not read ComfyUI's folders" in caplog.text


async def test_a_running_comfyui_shows_the_clis_results_without_a_restart(
    tmp_path, fake_civitai, monkeypatch
):
    tree = build_fake_comfy(tmp_path)
    register_known(tree, fake_civitai)
    monkeypatch.setitem(sys.modules, "folder_paths", _comfy_folder_paths(tree))
    service_mod = pack_module("nodes.comfy.service")
    settings = pack_module("civitai").Settings(api_base=fake_civitai.url, interval=0.01)
    service = service_mod.Service(sys.modules["folder_paths"], emit=lambda *a: None,
                                  settings=settings, own_loop=True)  # fmt: skip
    try:
        before = await service.list_models()  # ComfyUI is up, the panel has looked
        assert before["models"] == []
        checkpoints = tree.models / "checkpoints"
        done = await asyncio.to_thread(run_pack_cli, tree, fake_civitai, checkpoints)
        assert done.returncode == 0, done.stderr
        after = await service.list_models()  # the panel's refresh
        assert {(m["folder"], m["name"]): m["status"] for m in after["models"]} == {
            ("checkpoints", "base.safetensors"): "not_checked",
        }
        one = await service.get_model("checkpoints", "base.safetensors")
        assert one["hashes"]["SHA256"] and (await service.status())["counts"]["not_checked"] == 1
    finally:
        await service.close()


def test_help_and_hash_inside_a_tree_use_comfyuis_store(tmp_path, fake_civitai):
    tree = build_fake_comfy(tmp_path)
    env = cli_env(tree, fake_civitai)
    helped = subprocess.run([sys.executable, str(tree.pack), "scan", "--help"],
                            capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
    assert "--comfyui ROOT" in helped.stdout and "--extra-model-paths FILE" in helped.stdout
    hashed = subprocess.run([sys.executable, str(tree.pack), "hash", str(tree.path("flux"))],
                            capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
    assert hashed.returncode == 0, hashed.stderr
    with sqlite3.connect(tree.store) as conn:  # the hash cache ComfyUI's scan will consult
        assert conn.execute("SELECT COUNT(*) FROM hash_cache").fetchone()[0] == 1
    report = tmp_path / "report.json"
    done = run_pack_cli(tree, fake_civitai, tree.models / "unet", "--offline", "--report", report)
    assert done.returncode == 0, done.stderr
    assert json.loads(report.read_text())["summary"]["bytes_hashed"] == 0  # hashed by `hash`
