"""Which files are models and which folder names ComfyUI gives them: pure constants and small
functions, no ComfyUI import."""

import os

#: Extensions of files that can be model weights (lower case, with the dot).
MODEL_EXTENSIONS = frozenset(
    {
        ".safetensors",
        ".sft",
        ".ckpt",
        ".pt",
        ".pt2",
        ".pth",
        ".bin",
        ".gguf",
        ".onnx",
        ".pkl",
        ".engine",
        ".llamafile",
    }
)

#: Folder names ComfyUI (and popular node packs) register under ``models/``. A file under
#: one of these subfolders gets that name as its category; anything else is ``other``.
COMFY_FOLDER_NAMES = (
    "checkpoints",
    "loras",
    "vae",
    "vae_approx",
    "text_encoders",
    "clip",
    "clip_vision",
    "diffusion_models",
    "unet",
    "controlnet",
    "t2i_adapter",
    "embeddings",
    "upscale_models",
    "latent_upscale_models",
    "hypernetworks",
    "style_models",
    "gligen",
    "photomaker",
    "diffusers",
    "model_patches",
    "audio_encoders",
    "animatediff_models",
    "animatediff_motion_lora",
    "ipadapter",
    "instantid",
    "insightface",
    "facerestore_models",
    "sams",
    "ultralytics",
    "LLM",
)

OTHER = "other"

#: Registered folders that never hold model weights.
NON_MODEL_FOLDERS = frozenset({"custom_nodes", "configs"})


MODEL_SUFFIXES = tuple(MODEL_EXTENSIONS)  # for str.endswith


def is_model_file(name: str) -> bool:
    """True when ``name`` ends with a model extension (case-insensitive) and is not hidden
    (the listing inlines this test in its hot loop)."""
    return name.lower().endswith(MODEL_SUFFIXES) and not name.startswith(".")


def folders_for_directory(root: str | os.PathLike) -> dict[str, list[str]]:
    """The CLI's view of a ``models`` directory: ``{category: [dirs]}``.

    Subfolders named like a ComfyUI folder become that category (matched case-insensitively,
    the name kept as ComfyUI spells it); ``root`` itself is ``other`` and the scanner skips
    the known subfolders while walking it, so files directly in ``root`` and in unknown
    subfolders end up in ``other``.
    """
    root = os.path.abspath(root)
    known = {name.lower(): name for name in COMFY_FOLDER_NAMES}
    folders: dict[str, list[str]] = {}
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        entries = []
    for entry in entries:
        category = known.get(entry.name.lower())
        if category and entry.is_dir():
            folders.setdefault(category, []).append(entry.path)
    folders[OTHER] = [root]
    return folders


def registered_model_folders(folder_names_and_paths, models_dir) -> dict[str, list[str]]:
    """``{folder name: [existing directories]}`` for every registered model folder of a
    ComfyUI-style ``folder_names_and_paths`` (``{name: (dirs, extensions)}``), plus
    ``"other"`` → ``[models_dir]`` for files in no registered folder (the listing leaves
    registered roots to their own folder). The one rule for both ComfyUI's live
    ``folder_paths`` and the CLI's reading of a ComfyUI tree, so both key files alike."""
    folders: dict[str, list[str]] = {}
    for name, (dirs, extensions) in folder_names_and_paths.items():
        if name in NON_MODEL_FOLDERS or name == OTHER:
            continue
        if extensions and not any(is_model_file("x" + ext) for ext in extensions):
            continue  # e.g. a folder of .yaml files
        # ComfyUI also registers folders that may not exist (output/checkpoints, ...).
        existing = [d for d in dirs if os.path.isdir(d)]
        if existing:
            folders[name] = existing
    folders[OTHER] = [models_dir]
    return folders
