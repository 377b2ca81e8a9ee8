"""The application, in four layers (arrows run one way, ``tests/test_layout.py`` checks them):

- ``store/`` — the SQLite model store: schema, records, where the file lives.
- ``scan/`` — model folders → files → hashes → lookups → the store.
- ``comfy/`` — the ComfyUI adapter: V3 nodes, service, jobs, routes. The only layer that
  touches ComfyUI (lazily, so the CLI and the tests run without it).
- ``cli/`` — the headless command line.

``store`` ← ``scan`` ← {``comfy``, ``cli``}; ``comfy`` and ``cli`` never import each other.
"""
