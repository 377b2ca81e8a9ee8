"""Stand-in for ComfyUI's ``comfy`` package (only ``comfy.utils`` is provided)."""
