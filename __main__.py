"""Command line: ``python <pack-dir> <command> ...`` (hash, inspect, lookup, scan).

Python runs this file as a plain script with the pack folder first on ``sys.path``. That
would let ``import nodes`` or ``import hashing`` resolve to this pack's folders, which never
happens inside ComfyUI. So the folder is taken off ``sys.path`` and the pack is loaded as a
package, exactly as ComfyUI loads it, before the CLI runs.
"""

import importlib
import importlib.util
import os
import sys

PACKAGE = "civitai_identify"


def _load_pack():
    pack_dir = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != pack_dir]
    if PACKAGE in sys.modules:
        return sys.modules[PACKAGE]
    spec = importlib.util.spec_from_file_location(
        PACKAGE, os.path.join(pack_dir, "__init__.py"), submodule_search_locations=[pack_dir]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = module
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    _load_pack()
    cli = importlib.import_module(PACKAGE + ".nodes.cli.main")
    sys.exit(cli.main(sys.argv[1:]))
