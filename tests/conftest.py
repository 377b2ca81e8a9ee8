"""Shared fixtures. See packload.py for how the pack is imported."""

import pytest
from packload import load_pack

# the fake CivitAI server (tests/fake_civitai.py); the ComfyUI stand-ins (tests/comfy_env.py)
pytest_plugins = ["fake_civitai", "comfy_env", "routes_helpers"]


@pytest.fixture(scope="session")
def pack():
    return load_pack()
