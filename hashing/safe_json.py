"""The one reader for JSON that comes from outside: safetensors headers and sidecar files.

``json.loads`` trusts its input: 200,000 ``[`` raise ``RecursionError``, 16 MiB of ``[]``
become gigabytes of Python lists, bad UTF-8 raises ``UnicodeDecodeError``. Here the size
cap, the density guard (containers per byte) and the nesting-depth guard run on the raw
bytes BEFORE parsing, and every failure — including ``RecursionError`` and ``MemoryError``
from the parser itself — is one exception type, ``UntrustedJSONError``, whose message is a
short reason ("it is nested more than 100 levels deep"). Callers prefix the file name.

CivitAI's answers are parsed in civitai/responses.py (the civitai room may not import this
one; see the comment there).
"""

import json
import os
import re

#: Nesting deeper than this is refused (real headers and sidecars stay under 10).
MAX_DEPTH = 100
#: Real JSON spends well over 8 bytes per ``{`` or ``[``; a denser text is a memory bomb
#: (each empty list costs ~56 bytes of Python objects for its 2 bytes of text).
BYTES_PER_CONTAINER = 8
_SLACK = 64  # a tiny document may be all brackets: ``{"a":[[]]}``
#: Values (commas, colons and containers outside strings) at most: each costs 30-60 bytes
#: as Python objects (a 16 MiB list of "a" would be ~230 MB); a real header of 100,000
#: tensors has about 1,300,000.
MAX_VALUES = 2_000_000
#: Below this size the value guard cannot fire (each value needs at least 2 bytes).
_SMALL = 2 * MAX_VALUES
_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BOM = b"\xef\xbb\xbf"


class UntrustedJSONError(ValueError):
    """Untrusted JSON that was refused; ``str()`` is the reason, without the file name."""


def loads_untrusted(
    data: bytes,
    *,
    max_bytes: int,
    bytes_per_container: int = BYTES_PER_CONTAINER,
    max_depth: int = MAX_DEPTH,
    want_object: bool = True,
):
    """Parse UTF-8 JSON ``data`` after the guards; raise ``UntrustedJSONError`` otherwise.
    ``want_object``: the top level must be an object (a dict is returned)."""
    if len(data) > max_bytes:
        raise UntrustedJSONError(f"it is {len(data):,} bytes, more than the {max_bytes:,} allowed")
    containers = data.count(b"{") + data.count(b"[")
    if containers > max_depth or len(data) > _SMALL:  # else no guard can fire: skip the scan
        structure = _structure(data, keep=b"[]{},:")
        containers = structure.count(b"{") + structure.count(b"[")  # outside strings
        values = containers + structure.count(b",") + structure.count(b":")
        if values > MAX_VALUES:
            raise UntrustedJSONError(
                f"it holds {values:,} values, far more than real data has (a memory bomb?)"
            )
        if _nesting_exceeds(structure.translate(None, b",:"), max_depth):
            raise UntrustedJSONError(f"it is nested more than {max_depth} levels deep")
    if containers > len(data) // bytes_per_container + _SLACK:
        raise UntrustedJSONError(
            f"it holds {containers:,} lists or objects in {len(data):,} bytes, far more than "
            "real data has (a memory bomb?)"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UntrustedJSONError(f"it is not UTF-8 text (bad byte at offset {exc.start})") from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise UntrustedJSONError(f"it is nested more than {max_depth} levels deep") from None
    except MemoryError:
        raise UntrustedJSONError("it is too large to read into memory") from None
    except ValueError as exc:  # JSONDecodeError
        raise UntrustedJSONError(f"it is not valid JSON ({_short(exc)})") from None
    if want_object and not isinstance(value, dict):
        raise UntrustedJSONError(f"it is JSON, but a {_json_type(value)} instead of an object")
    return value


def read_json_file(path: str | os.PathLike, *, max_bytes: int, **guards):
    """``loads_untrusted`` of a file's bytes (a UTF-8 BOM is allowed), reading at most
    ``max_bytes + 1``: a huge file never enters memory. ``OSError`` passes through (the
    caller decides what a missing file means)."""
    with open(path, "rb") as f:
        data = f.read(max_bytes + len(_BOM) + 1)
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    return loads_untrusted(data, max_bytes=max_bytes, **guards)


def nesting_exceeds(data: bytes, max_depth: int) -> bool:
    """True when the brackets outside strings of ``data`` may nest deeper than
    ``max_depth`` (see ``_nesting_exceeds``), or do not balance (not JSON either way)."""
    return _nesting_exceeds(_structure(data), max_depth)


def _structure(data: bytes, keep: bytes = b"[]{}") -> bytes:
    """Only the ``keep`` characters of ``data`` that are outside strings. Built piece by
    piece (``re.sub`` would hold a list of every piece: hundreds of MB for millions of
    strings); memory: the result plus one gap between two strings."""
    drop = bytes(b for b in range(256) if b not in keep)
    out, last = bytearray(), 0
    for match in _STRINGS.finditer(data):
        out += data[last : match.start()].translate(None, drop)
        last = match.end()
    out += data[last:].translate(None, drop)
    return bytes(out)


def _nesting_exceeds(brackets: bytes, max_depth: int) -> bool:
    """Peel innermost ``[]`` / ``{}`` pairs with ``bytes.replace`` (no recursion, no match
    objects): each replace that changes something peels at most one level of every path,
    so the count of such replaces is at least the true depth and at most twice it."""
    levels = 0
    while brackets:
        before = len(brackets)
        for pair in (b"[]", b"{}"):
            peeled = brackets.replace(pair, b"")
            if len(peeled) != len(brackets):
                levels += 1
                brackets = peeled
        if levels > max_depth:
            return True
        if len(brackets) == before:  # nothing left to peel: the brackets do not balance
            # (not JSON: json.loads says so) unless what is left opens too deep a run
            return re.search(rb"[\[{]{%d}" % (max_depth - levels + 1), brackets) is not None
    return False


def _short(exc: ValueError) -> str:
    text = getattr(exc, "msg", None) or str(exc)
    pos = getattr(exc, "pos", None)
    return f"{text} at character {pos}" if pos is not None else text[:200]


def _json_type(value) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if value is None or isinstance(value, bool):
        return "constant"
    return "number"


__all__ = ["MAX_DEPTH", "UntrustedJSONError", "loads_untrusted", "nesting_exceeds",
           "read_json_file"]  # fmt: skip
