"""Shared fixtures. See packload.py for how the pack is imported."""

import pytest
from packload import load_pack


@pytest.fixture(scope="session")
def pack():
    return load_pack()
