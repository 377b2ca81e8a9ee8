"""How the store packs what it keeps small (schema 8; issue #15: 100,000 records in the
store's 300 MB).

- ``pack(value)`` / ``unpack(blob)``: a JSON object compressed by zlib with a preset
  dictionary (``DICTIONARY``: the keys and common values of a civitai_info and of a header
  verdict, CivitAI's URL shapes, the HTML and words of model descriptions). An info's
  parts are short texts (a brief info is ~600 bytes); zlib alone finds little to repeat in
  them, with the dictionary it finds the keys, URLs and markup at once. A zlib stream
  names the dictionary it needs (FDICT, the Adler-32 of the dictionary), so a part
  written without one (schemas 6 and 7) reads as before, and a stream that names a
  dictionary this pack does not have is damaged, never misread. ``DICTIONARY`` must never
  change: a new one gets a new entry in ``_DICTIONARIES`` (a test keeps a packed part).
- ``pack_hashes`` / ``unpack_hashes``: a file's hashes (``files.hashes``) as 79 bytes
  instead of ~300 of JSON: uppercase hex as bytes, the SHA256 (the row's own column) and
  AutoV2 (its first 10 characters, by CivitAI's definition) not stored twice. Hashes of
  any other shape stay JSON text; JSON text and schema 8's first form (with the SHA256)
  read as before.
"""

import collections
import json
import re
import threading
import zlib

_LEVEL = 9

_WORDS = (  # description prose and markup; zlib finds a match the sooner the nearer the end
    "<h1></h1><h2></h2><h3></h3><ol><li></li></ol><ul><li></li></ul><hr /><code></code>"
    '<blockquote></blockquote><span style="color:rgb("></span>&amp;&nbsp;&quot;'
    '<a target="_blank" rel="ugc" href="https://civitai.com/models/">'
    '<a target="_blank" rel="ugc" href="https://huggingface.co/'
    " Ko-fi, Patreon, feedback, support, thanks, Thank you, Please, update, changelog, "
    " Hires. fix, upscaler, Denoising strength: 0.4, DPM++ 2M Karras, Euler a, CFG scale: 7,"
    " Clip skip: 2, Steps: 30, Sampler: negative prompt, embeddings, VAE, ControlNet, "
    " dataset, trained on, epochs, resolution, merge, checkpoint, character, style, concept,"
    " masterpiece, best quality, high quality, realistic, anime, photo, portrait, "
    " recommended weight, strength, trigger words, trigger word, activation, "
    " LoRA, SDXL, SD 1.5, Pony, Illustrious, Flux, model, version, images, prompt, "
    " which, would, there, their, about, other, after, also, some, only, just, more, "
    " when, what, from, have, will, your, with, this, that, than, then, they, been, "
    " you, can, use, not, but, all, are, was, for, and, the, of, to, in, is, it, on, or, "
    "</strong><strong></em><em></b><b><br /><br></p><p></p><p>"
)
_SKELETON = {  # a civitai_info's keys in civitai/info.py's order, with typical values
    "model_id": 100000, "version_id": 1000000, "model_name": "", "version_name": "v1.0",
    "type": "LORA", "category": "loras", "base_model": "SDXL 1.0", "description": None,
    "version_description": None, "creator": {"username": "", "image": "https://image."
    "civitai.com/xG1nkqKTMzGDvpLrqFT7WA/"}, "tags": ["character", "style", "anime"],
    "trained_words": [""], "stats": {"download_count": 1000, "thumbs_up_count": 100,
    "rating": 5}, "images": [{"url": "https://image.civitai.com/xG1nkqKTMzGDvpLrqFT7WA/"
    "/width=832/.jpeg", "width": 832, "height": 1216, "nsfw_level": 1, "type": "image"}],
    "nsfw": False, "file": {"name": ".safetensors", "size_kb": 1000.0, "format":
    "SafeTensor", "fp": "fp16", "primary": True}, "matched_by": "SHA256",
    "url": "https://civitai.com/models/?modelVersionId=", "update": {"version_id": 1000000,
    "version_name": "v2.0", "base_model": "SDXL 1.0", "published_at": "2026-01-01T00:00:00Z",
    "url": "https://civitai.com/models/?modelVersionId="}, "fetched_at":
    "2026-01-01T00:00:00Z", "absent keys": ["images"],
}  # fmt: skip
_TYPES = ("Checkpoint", "TextualInversion", "Hypernetwork", "LoCon", "DoRA", "VAE",
          "Controlnet", "Upscaler", "Pony", "Illustrious", "Flux.1 D", "SD 1.5", "fp32",
          "bf16", "PickleTensor", "checkpoints", "embeddings", "controlnet", "upscale_models",
          "AutoV2", "AutoV3", "video", ".mp4", ".jpeg", ".png", "null")  # fmt: skip
_DETECTED = {  # hashing/classify's verdict on a file's header (files.detected)
    "kind": "lora", "format": "lora", "base_model": "SDXL 1.0", "category": "loras",
    "precision": "fp16", "parameters": 1000000, "training": {"base_model_version":
    "sdxl_base_v1-0", "network_module": "networks.lora", "network_dim": "32",
    "network_alpha": "16", "resolution": "(1024, 1024)", "epochs": "10", "learning_rate":
    "0.0001", "output_name": "", "comment": "", "tags": [{"tag": "1girl", "count": 10}]},
    "title": None, "trigger_phrase": None, "author": None, "evidence": [
    "lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k.lora_down.weight",
    "lora_unet_double_blocks_0_img_attn_qkv.lora_up.weight", "lora_te1_text_model_encoder_"
    "layers_0_self_attn_q_proj (cross-attention width 2048)", "base model from metadata"],
    "error": "",
}  # fmt: skip
DICTIONARY = (
    ",".join(_TYPES) + json.dumps(_DETECTED, separators=(",", ":")) + _WORDS
    + json.dumps(_SKELETON, separators=(",", ":"))
).encode()  # fmt: skip
_DICTIONARIES = {zlib.adler32(DICTIONARY): DICTIONARY}
_FDICT = 0x20  # the zlib header's "a preset dictionary follows" flag (RFC 1950)
_SOURCES: dict = {}  # where a dictionary learned by another process can be read (stores)
_LOCK = threading.Lock()
LEARNED_SIZE = 32_768  # zlib's window: a dictionary byte further back is never matched
_TOKENS = re.compile(r"<[^>]{0,40}>|[^\s<]+\s?|\s+")  # a tag, a word and its space, a gap


def learn_dictionary(texts: list[str]) -> bytes:
    """A dictionary for prose like ``texts`` (a store's own model descriptions): the tags
    and words that repeat, those that would save the most bytes last (nearest, so cheapest
    to point at), then ``DICTIONARY``. Descriptions share their language's words and
    their HTML; a short text alone can only point at what it said itself."""
    counts = collections.Counter()
    for text in texts:
        counts.update(_TOKENS.findall(text))
    room, kept = LEARNED_SIZE - len(DICTIONARY), []
    for token, n in sorted(counts.items(), key=lambda kv: ((kv[1] - 1) * len(kv[0]), kv[0]),
                           reverse=True):  # fmt: skip
        size = len(token.encode())
        if n < 2 or size > room:
            break
        kept.append(token)
        room -= size
    return "".join(reversed(kept)).encode() + DICTIONARY


def register(dictionary: bytes) -> int:
    """Make ``dictionary`` readable in this process; → its id (what a stream names)."""
    dict_id = zlib.adler32(dictionary)
    with _LOCK:
        _DICTIONARIES.setdefault(dict_id, dictionary)
    return dict_id


def registered(dict_id: int) -> bytes | None:
    """The dictionary this process knows by ``dict_id``, or None."""
    return _DICTIONARIES.get(dict_id)


def add_source(key: str, load) -> None:
    """``load(dict_id) -> bytes | None`` (one per ``key``, a store's path): asked for a
    dictionary this process has not seen (another process learned it after this one
    opened the store)."""
    with _LOCK:
        _SOURCES[key] = load


def _dictionary(dict_id: int) -> bytes | None:
    found = _DICTIONARIES.get(dict_id)
    if found is None:
        for load in list(_SOURCES.values()):
            data = load(dict_id)
            if data is not None and zlib.adler32(data) == dict_id:
                register(data)
                return data
    return found


def pack(value, dictionary: bytes = DICTIONARY) -> bytes:
    """``value`` (JSON-able) as compact JSON, compressed with ``dictionary`` (registered)."""
    packer = zlib.compressobj(_LEVEL, zdict=dictionary)
    text = json.dumps(value, separators=(",", ":")).encode()
    return packer.compress(text) + packer.flush()


def unpack(blob) -> dict:
    """A packed JSON object (with or without a dictionary); ValueError when it is
    damaged (not zlib, an unknown dictionary, not JSON, not an object)."""
    try:
        value = json.loads(_inflate(bytes(blob)))
    except (zlib.error, TypeError, ValueError, RecursionError) as exc:
        raise ValueError(f"damaged part: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError("damaged part: not a JSON object")
    return value


def _inflate(data: bytes) -> bytes:
    if len(data) < 6 or not data[1] & _FDICT:
        return zlib.decompress(data)
    dictionary = _dictionary(int.from_bytes(data[2:6], "big"))
    if dictionary is None:
        raise ValueError("packed with a dictionary this version does not have")
    inflater = zlib.decompressobj(zdict=dictionary)
    out = inflater.decompress(data) + inflater.flush()
    if not inflater.eof:
        raise ValueError("truncated")
    return out


_HEX = "0123456789ABCDEF"
# (key, bytes) in the packed order; AutoV2 is derived from SHA256
_HASH_FIELDS = (("SHA256", 32), ("AutoV1", 4), ("AutoV3", 32), ("CRC32", 4), ("BLAKE3", 32))
_KEYS = ("SHA256", "AutoV1", "AutoV2", "AutoV3", "CRC32", "BLAKE3")
_ABSENT, _NONE, _VALUE = 0, 1, 2
# the first byte of a packed row (JSON text starts with "{"): 1 holds the SHA256, 2 leaves
# it to the row's own sha256 column (files.sha256, written with it)
_PACKED, _KEYED = 1, 2


_HEX_SET = frozenset(_HEX)


def _is_hex(value, chars: int) -> bool:
    # issuperset walks the string in C: a listing checks every row's SHA256 (a generator
    # over its characters was half of a 200-row page's unpacking)
    return isinstance(value, str) and len(value) == chars and _HEX_SET.issuperset(value)


def pack_hashes(hashes: dict | None):
    """``files.hashes``: bytes for the hashes a scan computes (uppercase hex of their fixed
    widths; the SHA256 is the row's sha256 column, AutoV2 its first 10 characters), JSON
    text for anything else, None for None. ``unpack_hashes`` needs the SHA256 back."""
    if not hashes:
        return json.dumps(hashes) if hashes == {} else None
    sha = hashes.get("SHA256")
    if list(hashes) != [k for k in _KEYS if k in hashes] or not _is_hex(sha, 64):
        return json.dumps(hashes)
    marks, body = [], []
    for key, width in _HASH_FIELDS:
        value = hashes.get(key)
        if key not in hashes:
            marks.append(_ABSENT)
        elif value is None:
            marks.append(_NONE)
        elif _is_hex(value, width * 2):
            marks.append(_VALUE)
            body.append(bytes.fromhex(value))
        else:
            return json.dumps(hashes)
    v2 = hashes.get("AutoV2", _ABSENT)
    if v2 is not _ABSENT and v2 is not None and v2 != sha[:10]:
        return json.dumps(hashes)
    marks.append(_ABSENT if v2 is _ABSENT else _NONE if v2 is None else _VALUE)
    return bytes([_KEYED, *marks]) + b"".join(body[1:])  # body[0]: the SHA256


def unpack_hashes(stored, sha256: str | None = None) -> dict | None:
    """The hashes ``pack_hashes`` stored (bytes or JSON text), ``sha256`` the row's own
    column; ValueError when damaged (or packed without a SHA256 and none given)."""
    if stored is None:
        return None
    if isinstance(stored, str):
        try:
            value = json.loads(stored)
        except (ValueError, RecursionError) as exc:
            raise ValueError(f"damaged hashes: {exc}") from None
        return value if isinstance(value, dict) else None
    data = bytes(stored)
    marks, at, values = data[1:7], 7, {}
    if data[:1] == bytes([_KEYED]) and marks[:1] == bytes([_VALUE]):
        if not _is_hex(sha256, 64):
            raise ValueError("damaged hashes: the row has no SHA256 to go with them")
        data = data[:7] + bytes.fromhex(sha256) + data[7:]
    elif data[:1] != bytes([_PACKED]) or len(marks) != 6:
        raise ValueError("damaged hashes: not a packed row")
    for (key, width), mark in zip(_HASH_FIELDS, marks, strict=False):
        if mark == _VALUE:
            if len(data) < at + width:
                raise ValueError("damaged hashes: too short")
            values[key] = data[at : at + width].hex().upper()
            at += width
        elif mark == _NONE:
            values[key] = None
    if at != len(data) or "SHA256" not in values:
        raise ValueError("damaged hashes: wrong length")
    if marks[5] != _ABSENT:
        values["AutoV2"] = values["SHA256"][:10] if marks[5] == _VALUE else None
    return {key: values[key] for key in _KEYS if key in values}
