"""What the pack puts where users look, beyond its own store: previews saved beside the
model files (previews.py) and links made by hand to a CivitAI version (link.py)."""

from ...lazy import lazy_surface

__all__ = [
    "BadLink",
    "LinkFailed",
    "has_preview",
    "link_file",
    "nsfw_limit",
    "save_preview",
    "unlink_file",
    "write_preview",
    "write_previews",
]

__getattr__ = lazy_surface(
    __name__,
    {
        "BadLink": "link",
        "LinkFailed": "link",
        "link_file": "link",
        "unlink_file": "link",
        "has_preview": "previews",
        "nsfw_limit": "previews",
        "save_preview": "previews",
        "write_preview": "previews",
        "write_previews": "previews",
    },
)
