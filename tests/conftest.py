"""Shared fixtures. See packload.py for how the pack is imported."""

import pytest
from packload import load_pack

pytest_plugins = ["fake_civitai"]  # the fake CivitAI server fixture (tests/fake_civitai.py)


@pytest.fixture(scope="session")
def pack():
    return load_pack()
