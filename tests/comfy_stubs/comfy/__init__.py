"""Stand-in for ComfyUI's ``comfy`` package (``comfy.utils`` and the interrupt part of
``comfy.model_management``)."""
