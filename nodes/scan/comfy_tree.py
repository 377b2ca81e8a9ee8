"""A ComfyUI install seen from outside: its model folders as ComfyUI registers them and the
store file a running ComfyUI uses — without importing ComfyUI (that pulls in torch).

ComfyUI's rules, followed here (docs/internals.md, "ComfyUI trees"):

- the tree's root is the real directory of its ``folder_paths.py`` (ComfyUI takes
  ``realpath(__file__)``); models live in ``<root>/models``, the user folder is
  ``<root>/user``;
- ``folder_paths.py`` registers each folder as
  ``folder_names_and_paths["name"] = ([os.path.join(models_dir, "dir"), ...], extensions)``.
  Those statements are read from the tree's own file (with ``ast``, nothing is executed), so
  an older ComfyUI (``clip`` and ``unet`` still folder names) is followed as it is; a file
  that cannot be read falls back to today's registrations with a warning;
- ``map_legacy`` (``unet`` → ``diffusion_models``, ``clip`` → ``text_encoders``) is read from
  the same file and applied to names from ``extra_model_paths.yaml``;
- ``<root>/extra_model_paths.yaml`` when present, then each ``--extra-model-paths`` file in
  order, is read like ``utils/extra_config.py``: per section, ``base_path`` (``~`` and
  ``$VARS`` expanded, relative to the YAML file's folder), ``is_default`` (the folder goes
  first), every other key a folder name whose value is one path or several lines of paths
  (empty lines skipped; relative without ``base_path`` → relative to the YAML's folder);
- ``add_model_folder_path``: a known path is not added twice (``is_default`` moves it
  first), a new folder name gets any extension.

Node packs register more folders when ComfyUI imports them; the ones in
``COMFY_FOLDER_NAMES`` (ipadapter, sams, …) are added when ``<models>/<name>`` exists.
"""

import ast
import logging
import os
from dataclasses import dataclass, field

from .folders import COMFY_FOLDER_NAMES, registered_model_folders

_log = logging.getLogger(__name__)

PT_EXTENSIONS = frozenset({".ckpt", ".pt", ".pt2", ".bin", ".pth", ".safetensors", ".pkl", ".sft"})
#: ComfyUI's registrations (mid 2025), for a folder_paths.py that cannot be read.
FALLBACK_FOLDERS = {
    "checkpoints": ("checkpoints",),
    "loras": ("loras",),
    "vae": ("vae",),
    "text_encoders": ("text_encoders", "clip"),
    "diffusion_models": ("unet", "diffusion_models"),
    "clip_vision": ("clip_vision",),
    "style_models": ("style_models",),
    "embeddings": ("embeddings",),
    "vae_approx": ("vae_approx",),
    "controlnet": ("controlnet", "t2i_adapter"),
    "gligen": ("gligen",),
    "upscale_models": ("upscale_models",),
    "latent_upscale_models": ("latent_upscale_models",),
    "hypernetworks": ("hypernetworks",),
    "photomaker": ("photomaker",),
    "model_patches": ("model_patches",),
    "audio_encoders": ("audio_encoders",),
}
FALLBACK_LEGACY = {"unet": "diffusion_models", "clip": "text_encoders"}


class ComfyTreeError(ValueError):
    """A ComfyUI tree's configuration cannot be used; the message names the file and why."""


def is_comfy_root(path) -> bool:
    """True when ``path`` holds ComfyUI's ``main.py`` and ``folder_paths.py``."""
    return all(os.path.isfile(os.path.join(path, f)) for f in ("main.py", "folder_paths.py"))


def comfy_user_dir(root) -> str:
    """ComfyUI's user folder: ``user`` beside the real ``folder_paths.py``."""
    return os.path.join(_base(root), "user")


def _base(root) -> str:
    return os.path.dirname(os.path.realpath(os.path.join(root, "folder_paths.py")))


def find_comfy_root(pack_dir) -> str | None:
    """The ComfyUI root when ``pack_dir`` is ``<root>/custom_nodes/<pack>``, else None."""
    parent = os.path.dirname(os.path.abspath(pack_dir))
    root = os.path.dirname(parent)
    if os.path.basename(parent) == "custom_nodes" and is_comfy_root(root):
        return root
    return None


@dataclass
class ComfyTree:
    root: str
    models_dir: str
    user_dir: str
    #: ``{name: ([dirs], {extensions})}``, the shape of ``folder_paths.folder_names_and_paths``
    folder_names_and_paths: dict = field(default_factory=dict)
    legacy: dict = field(default_factory=dict)
    #: the extra_model_paths files that were read, in order
    configs: list = field(default_factory=list)

    def model_folders(self) -> dict[str, list[str]]:
        """``{folder: [existing dirs]}`` plus ``other``, exactly as the service builds it."""
        return registered_model_folders(self.folder_names_and_paths, self.models_dir)

    def add_model_folder_path(self, name: str, path: str, is_default: bool = False) -> None:
        """ComfyUI's ``folder_paths.add_model_folder_path``."""
        name = self.legacy.get(name, name)
        if name not in self.folder_names_and_paths:
            self.folder_names_and_paths[name] = ([path], set())
            return
        paths = self.folder_names_and_paths[name][0]
        if path in paths:
            if is_default and paths[0] != path:
                paths.remove(path)
                paths.insert(0, path)
        elif is_default:
            paths.insert(0, path)
        else:
            paths.append(path)


def load_comfy_tree(root, extra_configs=()) -> ComfyTree:
    """Read the tree at ``root`` (see the module doc). ``ComfyTreeError`` for a YAML file
    that cannot be read or does not have ComfyUI's shape (ComfyUI would not start either)."""
    base = _base(root)
    models_dir = os.path.join(base, "models")
    registered, legacy = _registered_folders(os.path.join(base, "folder_paths.py"), base)
    tree = ComfyTree(base, models_dir, comfy_user_dir(root), registered, legacy)
    default_yaml = os.path.join(os.path.dirname(os.path.realpath(os.path.join(root, "main.py"))),
                                "extra_model_paths.yaml")  # fmt: skip
    configs = [default_yaml] if os.path.isfile(default_yaml) else []
    for path in [*configs, *(os.path.abspath(p) for p in extra_configs)]:
        for name, folder, is_default in read_extra_model_paths(path):
            tree.add_model_folder_path(name, folder, is_default)
        tree.configs.append(path)
    for name in COMFY_FOLDER_NAMES:  # node packs register theirs after the YAML files
        folder = os.path.join(models_dir, name)
        if name not in tree.legacy and os.path.isdir(folder):
            if name not in tree.folder_names_and_paths:
                tree.folder_names_and_paths[name] = ([folder], set(PT_EXTENSIONS))
            else:
                tree.add_model_folder_path(name, folder)
    return tree


def read_extra_model_paths(yaml_path) -> list[tuple[str, str, bool]]:
    """``[(folder name, normalised path, is_default)]`` from one extra_model_paths file."""
    import yaml  # PyYAML: ComfyUI requires it too; imported on use (`hash` needs none)

    try:
        with open(yaml_path, encoding="utf-8") as stream:
            config = yaml.safe_load(stream)
    except OSError as exc:
        raise ComfyTreeError(f"Cannot read {yaml_path}: {exc.strerror or exc}.") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ComfyTreeError(f"{yaml_path} is not valid YAML: {exc}") from exc
    if config is None:
        return []
    if not isinstance(config, dict):
        raise ComfyTreeError(f"{yaml_path} must hold named sections of model folders.")
    yaml_dir = os.path.dirname(os.path.abspath(yaml_path))
    found = []
    for section, conf in config.items():
        if conf is None:
            continue
        if not isinstance(conf, dict):
            raise ComfyTreeError(
                f"{yaml_path}: section {section!r} must map folder names to paths."
            )
        conf = dict(conf)
        base_path = conf.pop("base_path", None)
        if base_path:
            base_path = os.path.expandvars(os.path.expanduser(str(base_path)))
            if not os.path.isabs(base_path):
                base_path = os.path.abspath(os.path.join(yaml_dir, base_path))
        is_default = bool(conf.pop("is_default", False))
        for name, value in conf.items():
            if not isinstance(value, str):
                raise ComfyTreeError(
                    f"{yaml_path}: {section}.{name} must be a path or lines of paths."
                )
            for line in value.split("\n"):
                if not line:
                    continue
                if base_path:
                    full = os.path.join(base_path, line)
                elif os.path.isabs(line):
                    full = line
                else:
                    full = os.path.abspath(os.path.join(yaml_dir, line))
                found.append((str(name), os.path.normpath(full), is_default))
    return found


def _registered_folders(folder_paths_py: str, base: str) -> tuple[dict, dict]:
    """The registrations in ComfyUI's folder_paths.py, read with ``ast`` (never run)."""
    models_dir = os.path.join(base, "models")
    try:
        with open(folder_paths_py, "rb") as f:
            module = ast.parse(f.read(), filename=folder_paths_py)
    except (OSError, SyntaxError, ValueError) as exc:
        module, why = None, f"{type(exc).__name__}: {exc}"
    folders, legacy, sets = {}, {}, {}
    bases = {"models_dir": models_dir, "base_path": base}
    for node in module.body if module else ():
        if isinstance(node, ast.FunctionDef) and node.name == "map_legacy":
            legacy = next((_str_dict(d) for d in ast.walk(node) if isinstance(d, ast.Dict)), {})
        if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
            continue
        for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
            if isinstance(target, ast.Name):
                strings = _str_set(node.value, sets)
                if strings is not None:
                    sets[target.id] = strings
            elif (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name)
                  and target.value.id == "folder_names_and_paths"):  # fmt: skip
                name = _const_str(target.slice)
                entry = _folder_entry(node.value, sets, bases)
                if name is not None and entry is not None:
                    folders[name] = entry
    if folders:
        return folders, legacy
    if module is not None:
        why = "no folder registrations found"
    _log.warning("Could not read ComfyUI's folders from %s (%s); using the usual ones.",
                 folder_paths_py, why)  # fmt: skip
    fallback = {
        name: ([os.path.join(models_dir, d) for d in dirs], set(PT_EXTENSIONS))
        for name, dirs in FALLBACK_FOLDERS.items()
    }
    return fallback, dict(FALLBACK_LEGACY)


def _const_str(node) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _str_dict(node: ast.Dict) -> dict:
    pairs = ((_const_str(k), _const_str(v)) for k, v in zip(node.keys, node.values, strict=True))
    return {k: v for k, v in pairs if k is not None and v is not None}


def _str_set(node, sets) -> set | None:
    """``{'.a', '.b'}``, ``['.a']``, ``set()``, ``set([...])`` or a known name → a set."""
    if isinstance(node, ast.Name):
        return set(sets[node.id]) if node.id in sets else None
    if isinstance(node, (ast.Set, ast.List, ast.Tuple)):
        items = [_const_str(e) for e in node.elts]
        return None if None in items else set(items)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "set":
        return set() if not node.args else _str_set(node.args[0], sets)
    return None


def _folder_entry(node, sets, bases) -> tuple[list, set] | None:
    """``([os.path.join(models_dir, "x"), ...], extensions)`` → ``([paths], {exts})``."""
    if not isinstance(node, ast.Tuple) or len(node.elts) != 2:
        return None
    dirs, exts = node.elts
    if not isinstance(dirs, ast.List):
        return None
    paths = [_joined_path(e, bases) for e in dirs.elts]
    extensions = _str_set(exts, sets)
    if None in paths or extensions is None:
        return None
    return paths, extensions


def _joined_path(node, bases) -> str | None:
    """``os.path.join(models_dir, "a", ...)`` → the path (``models_dir``/``base_path`` only)."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "join" and node.args):  # fmt: skip
        return None
    first, rest = node.args[0], [_const_str(a) for a in node.args[1:]]
    if not isinstance(first, ast.Name) or first.id not in bases or None in rest:
        return None
    return os.path.join(bases[first.id], *rest)
