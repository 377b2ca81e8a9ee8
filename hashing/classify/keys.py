"""``Keys``: fast questions about a tensor table's names and shapes.

All names are joined into one newline-separated string once, so "is there a key like …"
is a C-speed substring or regex search instead of a Python loop over thousands of names.
"""

import re
from functools import lru_cache


class Keys:
    """``tensors``: name → (dtype, shape)."""

    def __init__(self, tensors: dict):
        self.tensors = tensors
        self.text = "\n" + "\n".join(tensors) + "\n"

    def __len__(self) -> int:
        return len(self.tensors)

    def __contains__(self, name: str) -> bool:
        return name in self.tensors

    def shape(self, name: str) -> tuple | None:
        entry = self.tensors.get(name)
        return entry[1] if entry else None

    def dim(self, name: str, axis: int) -> int | None:
        """``shape(name)[axis]`` or None when there is no such key or axis."""
        shape = self.shape(name)
        if shape is None or not -len(shape) <= axis < len(shape):
            return None
        return shape[axis]

    def has(self, fragment: str) -> bool:
        """Some name contains ``fragment``."""
        return fragment in self.text

    def find(self, pattern: str) -> str | None:
        """The first name matching the regex ``pattern`` (anchored to a whole name)."""
        m = _compiled(pattern).search(self.text)
        return m.group(1) if m else None

    def find_all(self, pattern: str) -> list[str]:
        return [m.group(1) for m in _compiled(pattern).finditer(self.text)]

    def starts(self, prefix: str) -> bool:
        """Some name starts with ``prefix``."""
        return ("\n" + prefix) in self.text

    def max_index(self, pattern: str) -> int | None:
        """The largest integer captured by ``pattern``'s group named ``n`` (block counts)."""
        found = [int(m.group("n")) for m in _compiled(pattern).finditer(self.text)]
        return max(found) if found else None


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern:
    """``pattern`` must match within one line; group 1 is the whole name."""
    if "(?P<n>" in pattern:
        return re.compile(pattern, re.MULTILINE)
    return re.compile(rf"^({pattern})$", re.MULTILINE)
