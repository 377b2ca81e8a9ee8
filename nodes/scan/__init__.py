"""The scan: model folders → files → hashes (via the cache) → CivitAI lookups → the store."""

from ..lazy import lazy_surface

__all__ = [
    "OTHER",
    "BadLink",
    "ComfyTreeError",
    "LinkFailed",
    "Scanner",
    "comfy_user_dir",
    "find_comfy_root",
    "folders_for_directory",
    "is_comfy_root",
    "is_model_file",
    "link_file",
    "list_models",
    "load_comfy_tree",
    "notes_trigger_words",
    "nsfw_limit",
    "read_user_notes",
    "registered_model_folders",
    "save_preview",
    "start_within",
    "unlink_file",
]

__getattr__ = lazy_surface(
    __name__,
    {
        "OTHER": "folders",
        "BadLink": "beside",
        "LinkFailed": "beside",
        "link_file": "beside",
        "unlink_file": "beside",
        "nsfw_limit": "beside",
        "notes_trigger_words": "sidecars",
        "read_user_notes": "sidecars",
        "save_preview": "beside",
        "ComfyTreeError": "comfy_tree",
        "comfy_user_dir": "comfy_tree",
        "find_comfy_root": "comfy_tree",
        "is_comfy_root": "comfy_tree",
        "list_models": "discover",
        "load_comfy_tree": "comfy_tree",
        "start_within": "discover",
        "Scanner": "scanner",
        "folders_for_directory": "folders",
        "is_model_file": "folders",
        "registered_model_folders": "folders",
    },
)
