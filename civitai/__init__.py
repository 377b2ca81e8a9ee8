"""Async CivitAI client: hashes in, ``civitai_info`` out. No file IO, no ComfyUI."""
