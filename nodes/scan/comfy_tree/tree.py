"""Finding a ComfyUI root and reading it into a ``ComfyTree`` (see the package doc)."""

import os
from dataclasses import dataclass, field

from ..folders import COMFY_FOLDER_NAMES, registered_model_folders
from .extra_paths import read_extra_model_paths
from .registrations import PT_EXTENSIONS, registered_folders


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
    registered, legacy = registered_folders(os.path.join(base, "folder_paths.py"), base)
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
