"""A fake ComfyUI install on disk for the CLI tests: ``main.py``, a ``folder_paths.py`` with
ComfyUI's registration statements (only read, never run, by the pack), the pack copied to
``custom_nodes/civitai-identify``, model files under ``models/`` and on a "network volume"
reached through ``extra_model_paths.yaml``.

``EXPECTED_FOLDERS`` is written by hand from ComfyUI's rules (utils/extra_config.py,
folder_paths.add_model_folder_path), not computed by the pack, so the tests compare the
pack's reading of the tree against what ComfyUI would register.
"""

import shutil
import subprocess
import sys
from pathlib import Path

from models_tree import safetensors_bytes
from packload import PACK_DIR

PT = {".ckpt", ".pt", ".pt2", ".bin", ".pth", ".safetensors", ".pkl", ".sft"}

FOLDER_PATHS_PY = """\
import os

supported_pt_extensions: set[str] = {'.ckpt', '.pt', '.pt2', '.bin', '.pth', '.safetensors',
                                     '.pkl', '.sft'}
folder_names_and_paths: dict[str, tuple[list[str], set[str]]] = {}
base_path = os.path.dirname(os.path.realpath(__file__))
models_dir = os.path.join(base_path, "models")

folder_names_and_paths["checkpoints"] = ([os.path.join(models_dir, "checkpoints")], supported_pt_extensions)
folder_names_and_paths["configs"] = ([os.path.join(models_dir, "configs")], [".yaml"])
folder_names_and_paths["loras"] = ([os.path.join(models_dir, "loras")], supported_pt_extensions)
folder_names_and_paths["vae"] = ([os.path.join(models_dir, "vae")], supported_pt_extensions)
folder_names_and_paths["text_encoders"] = ([os.path.join(models_dir, "text_encoders"), os.path.join(models_dir, "clip")], supported_pt_extensions)
folder_names_and_paths["diffusion_models"] = ([os.path.join(models_dir, "unet"), os.path.join(models_dir, "diffusion_models")], supported_pt_extensions)
folder_names_and_paths["embeddings"] = ([os.path.join(models_dir, "embeddings")], supported_pt_extensions)
folder_names_and_paths["upscale_models"] = ([os.path.join(models_dir, "upscale_models")], supported_pt_extensions)
folder_names_and_paths["diffusers"] = ([os.path.join(models_dir, "diffusers")], ["folder"])
folder_names_and_paths["custom_nodes"] = ([os.path.join(base_path, "custom_nodes")], set())

def map_legacy(folder_name: str) -> str:
    legacy = {"unet": "diffusion_models",
              "clip": "text_encoders"}
    return legacy.get(folder_name, folder_name)
"""  # noqa: E501 - ComfyUI's own long lines

# base_path relative to the YAML's folder, is_default, a multi-line list, a legacy name
EXTRA_MODEL_PATHS = """\
cloud:
  base_path: ../volume
  is_default: true
  checkpoints: ckpts
  loras: |
    loras
    more_loras
  clip: te_extra
local:
  loras: {extra_loras}
"""
# a second file (--extra-model-paths) with ~ in base_path
SECOND_YAML = """\
shared:
  base_path: ~/shared
  vae: vae
"""

#: key → (folder, name ComfyUI gives it, path relative to the tmp dir, CivitAI knows it)
FILES = {
    "base": ("checkpoints", "base.safetensors", "ComfyUI/models/checkpoints/base.safetensors"),
    "anime": ("loras", "style/anime.safetensors", "ComfyUI/models/loras/style/anime.safetensors"),
    "t5": ("text_encoders", "t5.safetensors", "ComfyUI/models/clip/t5.safetensors"),
    "flux": ("diffusion_models", "flux.safetensors", "ComfyUI/models/unet/flux.safetensors"),
    "thing": ("other", "misc/thing.safetensors", "ComfyUI/models/misc/thing.safetensors"),
    "cloud": ("checkpoints", "cloud.safetensors", "volume/ckpts/cloud.safetensors"),
    "x": ("loras", "x.safetensors", "volume/more_loras/x.safetensors"),
    "clip_l": ("text_encoders", "clip_l.safetensors", "volume/te_extra/clip_l.safetensors"),
    "y": ("loras", "y.safetensors", "extra_loras/y.safetensors"),
    "ae": ("vae", "ae.safetensors", "home/shared/vae/ae.safetensors"),
}
UNKNOWN = ("thing", "y")


class FakeComfy:
    def __init__(self, base: Path):
        self.base = base.resolve()
        self.root = self.base / "ComfyUI"
        self.pack = self.root / "custom_nodes" / "civitai-identify"
        self.models = self.root / "models"
        self.home = self.base / "home"
        self.second_yaml = self.base / "second.yaml"
        self.store = self.root / "user" / "civitai-identify" / "civitai-identify.sqlite3"

    def path(self, key) -> Path:
        return self.base / FILES[key][2]

    def expected_folders(self) -> dict[str, list[str]]:
        """ComfyUI's folder_names_and_paths for this tree (directories that exist)."""
        b, m = self.base, self.models
        return {
            "checkpoints": [str(b / "volume/ckpts"), str(m / "checkpoints")],
            "loras": [
                str(b / "volume/more_loras"),
                str(b / "volume/loras"),
                str(m / "loras"),
                str(b / "extra_loras"),
            ],
            "vae": [str(m / "vae"), str(self.home / "shared/vae")],
            "text_encoders": [str(b / "volume/te_extra"), str(m / "clip")],
            "diffusion_models": [str(m / "unet")],
            "embeddings": [str(m / "embeddings")],
            "upscale_models": [str(m / "upscale_models")],
            "other": [str(m)],
        }

    def folder_names_and_paths(self) -> dict:
        """What ComfyUI's folder_paths module holds after loading both YAML files."""
        found = {k: (list(v), set(PT)) for k, v in self.expected_folders().items() if k != "other"}
        found["text_encoders"][0].insert(1, str(self.models / "text_encoders"))  # not on disk
        found["diffusion_models"][0].append(str(self.models / "diffusion_models"))
        found["configs"] = ([str(self.models / "configs")], {".yaml"})
        found["custom_nodes"] = ([str(self.root / "custom_nodes")], set())
        return found

    def expected_keys(self) -> set[tuple[str, str]]:
        return {(folder, name) for folder, name, _ in FILES.values()}


def build_fake_comfy(base: Path) -> FakeComfy:
    tree = FakeComfy(base)
    tree.root.mkdir(parents=True)
    (tree.root / "main.py").write_text("# stands for ComfyUI's main.py\n")
    (tree.root / "folder_paths.py").write_text(FOLDER_PATHS_PY)
    shutil.copytree(
        PACK_DIR, tree.pack,
        ignore=shutil.ignore_patterns(".*", "__pycache__", "tests", "benchmarks", "docs", "web"),
    )  # fmt: skip
    for name in ("checkpoints", "loras", "vae", "embeddings", "upscale_models", "configs"):
        (tree.models / name).mkdir(parents=True, exist_ok=True)
    (tree.models / "configs" / "v1.yaml").write_text("model: {}\n")
    (tree.base / "volume" / "loras").mkdir(parents=True)
    for seed, key in enumerate(FILES, start=10):
        path = tree.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(safetensors_bytes(seed))
    extra = EXTRA_MODEL_PATHS.format(extra_loras=tree.base / "extra_loras")
    (tree.root / "extra_model_paths.yaml").write_text(extra)
    tree.second_yaml.write_text(SECOND_YAML)
    return tree


def register_known(tree: FakeComfy, fake) -> None:
    import hashlib

    for key, (_folder, name, _) in FILES.items():
        if key not in UNKNOWN:
            sha = hashlib.sha256(tree.path(key).read_bytes()).hexdigest().upper()
            fake.add_file_model(sha256=sha, name=f"Model {key}", type="LORA",
                                file_name=name.rsplit("/", 1)[-1])  # fmt: skip


def cli_env(tree: FakeComfy, fake, interval="0.01", **extra) -> dict:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVITAI")}
    env.update(HOME=str(tree.home), XDG_CACHE_HOME=str(tree.base / "cache"),
               CIVITAI_API_BASE=fake.url, CIVITAI_IDENTIFY_INTERVAL=interval, **extra)  # fmt: skip
    return env


def run_pack_cli(tree: FakeComfy, fake, *args, cwd=None, **env):
    return subprocess.run(
        [sys.executable, str(tree.pack), "scan", *map(str, args)],
        capture_output=True, text=True, cwd=cwd or tree.base, env=cli_env(tree, fake, **env),
        timeout=120,
    )  # fmt: skip
