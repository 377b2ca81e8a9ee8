"""File → CivitAI's six hashes in one read, and a cache that remembers them.

Pure and synchronous: no network, no asyncio, no ComfyUI.
"""
