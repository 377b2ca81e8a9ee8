"""Keep absolute paths out of what the routes and events send.

Scan summaries list skipped files by path and error sentences may quote a path; ComfyUI has
no authentication, so before a job or an error leaves the process every model directory in
it is replaced by its folder name (``/data/sd/loras/x.pt`` → ``loras/x.pt``), the models
directory by ``models``, and any other absolute path by its file name.
"""

import os
import re

# An absolute path starts a word: at the start, or after a space, quote or bracket.
_ABS_PATH = re.compile(r"(?<![^\s'\"(\[])/(?:[^\s'\"/]+/)+([^\s'\"/]+)")


class Redactor:
    """``Redactor(model_folders, models_dir)``; calling it on a str/list/dict returns a copy
    without absolute paths."""

    def __init__(self, folders: dict[str, list[str]], models_dir: str):
        pairs = {}
        for name, dirs in folders.items():
            for d in dirs:
                for variant in {os.path.normpath(d), os.path.realpath(d)}:
                    pairs.setdefault(variant, "models" if d == models_dir else name)
        pairs.setdefault(os.path.normpath(models_dir), "models")
        self._pairs = sorted(pairs.items(), key=lambda p: len(p[0]), reverse=True)

    def __call__(self, value):
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self(v) for v in value]
        return value

    def text(self, text: str) -> str:
        if os.sep not in text and "/" not in text:
            return text
        for root, label in self._pairs:
            if root in text:
                text = text.replace(root + os.sep, label + "/").replace(root, label)
        return _ABS_PATH.sub(lambda m: m.group(1), text)
