"""Shared set-up for the route tests: the pack's routes on a real aiohttp test server
(both prefixes), a Service over the comfy_env models tree and the fake CivitAI server."""

import asyncio
import hashlib
import json

import pytest
from packload import pack_module


def safetensors(payload: bytes) -> bytes:
    """A valid .safetensors file holding ``payload`` as one uint8 tensor."""
    n = len(payload)
    header = json.dumps({"t": {"dtype": "U8", "shape": [n], "data_offsets": [0, n]}}).encode()
    return len(header).to_bytes(8, "little") + header + payload


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest().upper()


class Api:
    """The test client plus what the checks need: sent events, the env, the service.
    Every answer is checked for absolute paths (none may leak)."""

    def __init__(self, client, env, service, events):
        self.client, self.env, self.service, self.events = client, env, service, events

    async def call(self, method, path, *, expect=None, **kwargs):
        response = await self.client.request(method, path, **kwargs)
        text = await response.text()
        assert str(self.env.root) not in text, f"absolute path leaked: {text[:300]}"
        if expect is not None:
            assert response.status == expect, text[:500]
        return response.status, (json.loads(text) if text else None)

    async def get(self, path, **kwargs):
        return await self.call("GET", path, **kwargs)

    async def post(self, path, body=None, **kwargs):
        return await self.call("POST", path, json=body, **kwargs)

    async def wait_done(self, job_id, timeout=20.0):
        """The ``civitai-identify.done`` event for ``job_id``."""
        for _ in range(int(timeout / 0.02)):
            for event, data in list(self.events):
                if event == "civitai-identify.done" and data["job_id"] == job_id:
                    return data
            await asyncio.sleep(0.02)
        raise AssertionError(f"job {job_id} did not finish")


def settings(fake, **kwargs):
    kwargs.setdefault("interval", 0.01)
    kwargs.setdefault("timeout", 5.0)
    return pack_module("civitai.config").Settings(api_base=fake.url, **kwargs)


async def make_api(
    env, fake, aiohttp_client, *, token=None, interval=0.01, **service_kwargs
) -> Api:
    events = []
    service = env.make_service(
        settings(fake, token=token, interval=interval),
        emit=lambda event, data: events.append((event, data)),
        loop=asyncio.get_running_loop(),
        **service_kwargs,
    )
    client = await aiohttp_client(pack_module("nodes.comfy.routes").make_app(service))
    return Api(client, env, service, events)


@pytest.fixture
async def api(comfy_env, fake_civitai, aiohttp_client):
    """The routes over a fresh Service (registered as a plugin in conftest.py)."""
    api = await make_api(comfy_env, fake_civitai, aiohttp_client)
    yield api
    await api.service.close()
