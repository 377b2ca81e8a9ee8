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

from ...lazy import lazy_surface

__all__ = [
    "FALLBACK_FOLDERS",
    "ComfyTree",
    "ComfyTreeError",
    "comfy_user_dir",
    "find_comfy_root",
    "is_comfy_root",
    "load_comfy_tree",
    "read_extra_model_paths",
]

__getattr__ = lazy_surface(
    __name__,
    {
        "FALLBACK_FOLDERS": "registrations",
        "ComfyTree": "tree",
        "ComfyTreeError": "extra_paths",
        "comfy_user_dir": "tree",
        "find_comfy_root": "tree",
        "is_comfy_root": "tree",
        "load_comfy_tree": "tree",
        "read_extra_model_paths": "extra_paths",
    },
)
