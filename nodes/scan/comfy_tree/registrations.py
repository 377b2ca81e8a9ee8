"""The folder registrations in a ComfyUI tree's ``folder_paths.py``, read with ``ast`` (the
file is never run: it imports ComfyUI, which pulls in torch)."""

import ast
import logging
import os

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


def registered_folders(folder_paths_py: str, base: str) -> tuple[dict, dict]:
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
