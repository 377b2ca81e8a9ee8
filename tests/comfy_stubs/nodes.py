"""Stand-in for ComfyUI's top-level ``nodes`` module: ``LoraLoader`` with ComfyUI's
signature (``load_lora(model, clip, lora_name, strength_model, strength_clip)`` →
``(model, clip)``; both strengths 0 → the inputs unchanged; the file resolved with
``folder_paths.get_full_path_or_raise("loras", lora_name)``). Instead of patching weights
it records each call in ``CALLS`` and wraps the inputs, so a test sees what was applied."""

import folder_paths

CALLS: list[dict] = []


class LoraLoader:
    def __init__(self):
        self.loaded_lora = None

    def load_lora(self, model, clip, lora_name, strength_model, strength_clip):
        if strength_model == 0 and strength_clip == 0:
            return (model, clip)
        lora_path = folder_paths.get_full_path_or_raise("loras", lora_name)
        CALLS.append(
            {
                "model": model,
                "clip": clip,
                "lora_name": lora_name,
                "path": lora_path,
                "strength_model": strength_model,
                "strength_clip": strength_clip,
            }
        )
        self.loaded_lora = (lora_path, {}, None)
        return (
            {"patched": model, "lora": lora_name, "strength": strength_model},
            {"patched": clip, "lora": lora_name, "strength": strength_clip},
        )


NODE_CLASS_MAPPINGS = {"LoraLoader": LoraLoader}
