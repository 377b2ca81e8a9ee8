"""File → CivitAI's six hashes in one read, and a cache that remembers them.

Pure and synchronous: no network, no asyncio, no ComfyUI. Importing this package does no
work: the names below are loaded from their modules on first use.
"""

import importlib
import sys

_EXPORTS = {
    "HASH_NAMES": "engine",
    "HashResult": "engine",
    "hash_file": "engine",
    "FileIdentity": "identity",
    "file_identity": "identity",
    "identity_key": "identity",
    "read_error": "identity",
    "HashCache": "cache",
    "connect_db": "db",
    "connect_existing": "db",
    "migrate": "db",
    "transaction": "db",
    "ThreadConnections": "db",
    "SchemaTooNewError": "db",
    "StoreLockError": "db",
    "network_fs_type": "netfs",
    "NestedTransactionError": "db",
    "Step": "db",
    "HashingError": "errors",
    "FileReadError": "errors",
    "FileChangedError": "errors",
    "HashCancelledError": "errors",
    "UntrustedJSONError": "safe_json",
    "loads_untrusted": "safe_json",
    "read_json_file": "safe_json",
    "SafetensorsError": "safetensors",
    "SafetensorsHeader": "safetensors",
    "header_problem": "safetensors",
    "is_safetensors_name": "safetensors",
    "read_header": "safetensors",
}

__all__ = list(_EXPORTS)


def lazy_surface(package: str, exports: dict[str, str]):
    """``(__getattr__, __dir__)`` for ``package``: each name in ``exports`` (name → module of
    that package) is imported on first use and then kept. Used here and by ``classify``."""
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str):
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{module}", package), name)
        namespace[name] = value
        return value

    def __dir__():
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__


__getattr__, __dir__ = lazy_surface(__name__, _EXPORTS)
