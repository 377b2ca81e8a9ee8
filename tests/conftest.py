"""Shared fixtures. See packload.py for how the pack is imported."""

import pytest
from hypothesis import HealthCheck, settings
from packload import load_pack

# Fuzzing (tests/test_fuzz.py): a small, fixed budget by default, so CI stays quick and
# repeatable; `pytest --hypothesis-profile=long tests/test_fuzz.py` for a long random run.
_FUZZ = {"deadline": None, "database": None,
         "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                   HealthCheck.data_too_large]}  # fmt: skip
settings.register_profile("default", max_examples=200, derandomize=True, **_FUZZ)
settings.register_profile("long", max_examples=20_000, **_FUZZ)
settings.load_profile("default")

# the fake CivitAI server (tests/fake_civitai.py); the ComfyUI stand-ins (tests/comfy_env.py)
pytest_plugins = ["fake_civitai", "comfy_env", "routes_helpers"]


@pytest.fixture(scope="session")
def pack():
    return load_pack()
