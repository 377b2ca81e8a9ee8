"""The application: scanner, store, CLI, V3 nodes and routes. The only room that knows ComfyUI
(and imports it lazily, so the CLI and tests run without it)."""
