"""The one fixture that lets a test see ComfyUI: ``comfy_env``.

It puts tests/comfy_stubs (stand-ins for ``server``, ``folder_paths``, ``comfy.utils``,
``nodes`` (LoraLoader) and ``comfy_api.latest``, same signatures as ComfyUI 0.3.x) first
on sys.path, points ``folder_paths`` at a fresh ``models/`` tree under tmp_path, records
ProgressBar updates, and on teardown removes the stand-ins (and the pack modules bound
to them) again.

    def test_x(comfy_env):
        path = comfy_env.add_model("loras", "sub/a.safetensors", b"...")
        comfy_env.folder_paths.get_full_path("loras", "sub/a.safetensors") == path
        comfy_env.progress   # [(value, total), ...] from every ProgressBar update
"""

import asyncio
import importlib
import sys
import threading
from pathlib import Path

import pytest

STUBS = str(Path(__file__).resolve().parent / "comfy_stubs")
STUB_MODULES = ("server", "folder_paths", "comfy", "comfy_api", "nodes")
PACK_COMFY_MODULES = ("civitai-identify.nodes.comfy.nodes",)
FOLDERS = ("checkpoints", "loras", "vae", "embeddings", "upscale_models")


def _is_stub(name: str) -> bool:
    return any(name == m or name.startswith(m + ".") for m in STUB_MODULES)


class ComfyEnv:
    def __init__(self, root: Path):
        self.root = root
        self.models_dir = root / "models"
        self.folder_paths = importlib.import_module("folder_paths")
        self.utils = importlib.import_module("comfy.utils")
        self.server_module = importlib.import_module("server")
        self.nodes_module = importlib.import_module("nodes")  # ComfyUI loads it before packs
        self.progress: list[tuple[int, int]] = []
        self.loop = None  # the server loop, once start_server() ran
        self.service = None
        fp = self.folder_paths
        fp.base_path = str(root)
        fp.models_dir = str(self.models_dir)
        fp.user_directory = str(root / "user")
        fp.folder_names_and_paths = {}
        for name in FOLDERS:
            (self.models_dir / name).mkdir(parents=True)
            fp.folder_names_and_paths[name] = (
                [str(self.models_dir / name)],
                set(fp.supported_pt_extensions),
            )
        fp.folder_names_and_paths["configs"] = ([str(self.models_dir / "configs")], {".yaml"})
        fp.folder_names_and_paths["custom_nodes"] = ([str(root / "custom_nodes")], set())
        self.utils.set_progress_bar_global_hook(self._hook)

    def _hook(self, value, total, preview, node_id=None):
        self.progress.append((value, total))

    def add_model(self, folder: str, name: str, data: bytes = b"x" * 64) -> Path:
        """Write a model file under ``models/<folder>/<name>`` ("other": directly under
        models/) and return its path."""
        base = self.models_dir if folder == "other" else self.models_dir / folder
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def add_folder_path(self, folder: str, directory: Path) -> None:
        """Like an extra_model_paths.yaml entry."""
        self.folder_paths.add_model_folder_path(folder, str(directory))

    def prompt_server(self, loop):
        """A ``PromptServer`` stand-in bound to ``loop`` (becomes ``PromptServer.instance``)."""
        return self.server_module.PromptServer(loop)

    def start_server(self):
        """Run a server loop in its own thread, as ComfyUI does; returns the PromptServer.
        Nodes then run on another loop (``asyncio.run`` in the test thread)."""
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        return self.prompt_server(self.loop)

    def make_service(self, settings, *, emit=None, loop=None, **kwargs):
        """The pack's Service over this models tree, with a store in tmp, installed as the
        one the nodes use. ``emit`` default: the PromptServer's ``send_sync`` if started."""
        from packload import pack_module

        if emit is None:
            emit = self.server_module.PromptServer.instance.send_sync
        service_cls = pack_module("nodes.comfy.service").Service
        self.service = service_cls(
            self.folder_paths,
            emit=emit,
            loop=loop if loop is not None else self.loop,
            settings=settings,
            **{"db_path": self.root / "user" / "civitai-identify.sqlite3", **kwargs},
        )
        pack_module("nodes.comfy.glue").set_service(self.service)
        return self.service

    def close(self):
        if self.loop is not None:
            if self.service is not None:
                done = asyncio.run_coroutine_threadsafe(self.service.close(), self.loop)
                done.result(timeout=10)
            self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.fixture
def comfy_env(tmp_path):
    saved = {n: m for n, m in sys.modules.items() if _is_stub(n)}
    for name in list(saved):
        del sys.modules[name]
    sys.path.insert(0, STUBS)
    env = None
    try:
        env = ComfyEnv(tmp_path)
        yield env
    finally:
        from packload import pack_module

        if env is not None:
            env.close()
        pack_module("nodes.comfy.glue").set_service(None)
        sys.path.remove(STUBS)
        for name in [n for n in sys.modules if _is_stub(n) or n in PACK_COMFY_MODULES]:
            del sys.modules[name]
        sys.modules.update(saved)
