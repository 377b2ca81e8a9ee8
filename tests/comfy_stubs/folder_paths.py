"""Stand-in for ComfyUI's ``folder_paths`` module (the functions model packs call).

Same names and shapes as ComfyUI 0.3.x: ``folder_names_and_paths`` maps a folder name to
``(list of directories, set of extensions)`` (an empty set means any extension),
``models_dir``, ``supported_pt_extensions``, ``get_user_directory()``,
``get_folder_paths(name)``, ``get_filename_list(name)``, ``get_full_path(name, filename)``,
``add_model_folder_path(name, path)``. Tests fill the globals through tests/comfy_env.py.
"""

import os

supported_pt_extensions = {
    ".ckpt", ".pt", ".pt2", ".bin", ".pth", ".safetensors", ".pkl", ".sft",
}  # fmt: skip

base_path = os.path.dirname(os.path.realpath(__file__))
models_dir = os.path.join(base_path, "models")
user_directory = os.path.join(base_path, "user")
folder_names_and_paths: dict[str, tuple[list[str], set[str]]] = {}


def get_user_directory() -> str:
    return user_directory


def get_folder_paths(folder_name: str) -> list[str]:
    return folder_names_and_paths[folder_name][0][:]


def add_model_folder_path(folder_name: str, full_folder_path: str, is_default: bool = False):
    paths, _exts = folder_names_and_paths.setdefault(folder_name, ([], set()))
    if full_folder_path in paths:
        return
    if is_default:
        paths.insert(0, full_folder_path)
    else:
        paths.append(full_folder_path)


def _filter_files_extensions(files, extensions):
    return sorted(
        f for f in files if len(extensions) == 0 or os.path.splitext(f)[-1].lower() in extensions
    )


def _recursive_search(directory: str) -> list[str]:
    if not os.path.isdir(directory):
        return []
    result = []
    for dirpath, _subdirs, filenames in os.walk(directory, followlinks=True, topdown=True):
        for name in filenames:
            result.append(os.path.relpath(os.path.join(dirpath, name), directory))
    return result


def get_filename_list(folder_name: str) -> list[str]:
    paths, exts = folder_names_and_paths[folder_name]
    out: set[str] = set()
    for x in paths:
        out.update(_filter_files_extensions(_recursive_search(x), exts))
    return sorted(out)


def get_full_path(folder_name: str, filename: str) -> str | None:
    if folder_name not in folder_names_and_paths:
        return None
    folders = folder_names_and_paths[folder_name]
    filename = os.path.relpath(os.path.join("/", filename), "/")
    for x in folders[0]:
        full_path = os.path.join(x, filename)
        if os.path.isfile(full_path):
            return full_path
    return None


def get_full_path_or_raise(folder_name: str, filename: str) -> str:
    full_path = get_full_path(folder_name, filename)
    if full_path is None:
        raise FileNotFoundError(
            f"Model in folder '{folder_name}' with filename '{filename}' not found."
        )
    return full_path
