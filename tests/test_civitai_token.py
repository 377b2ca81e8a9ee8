"""The token: loaded from env / .env, sent only to the API origin, never shown anywhere."""

import logging
import os

import pytest
from fake_civitai import FakeCivitai, fake_client
from packload import pack_module
from yarl import URL

civitai = pack_module("civitai")
config = pack_module("civitai.config")
TOKEN = "tok-SECRET-0123456789abcdef"
H1 = "C" * 64


@pytest.fixture
def other_host():
    server = FakeCivitai().start()
    yield server
    server.stop()


async def test_token_sent_as_bearer_to_the_api_and_never_logged(fake_civitai, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, aiohttp's included
    for name in ("aiohttp", "aiohttp.client", "aiohttp.internal", "yarl", "asyncio"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    fake_civitai.add_file_model(H1)
    fake_civitai.fail_next(503, n=1)
    async with fake_client(fake_civitai, token=TOKEN, interval=0) as client:
        out = await client.lookup([H1, "0123456789AB"])
        assert TOKEN not in repr(client)
    assert out[H1].status == "identified"
    assert {r.headers.get("Authorization") for r in fake_civitai.requests} == {f"Bearer {TOKEN}"}
    assert all(TOKEN not in str(r.query) and TOKEN not in r.path for r in fake_civitai.requests)
    assert caplog.records, "the client logs one line per call"
    for record in caplog.records:
        text = record.getMessage() + str(record.args) + str(record.exc_text or "")
        assert TOKEN not in text


async def test_token_not_in_auth_error_nor_logs(fake_civitai, caplog):
    caplog.set_level(logging.DEBUG)
    fake_civitai.fail_next(403, body='{"error": "Forbidden"}')
    async with fake_client(fake_civitai, token=TOKEN, interval=0) as client:
        out = await client.lookup([H1])
    assert out[H1].error_kind == "auth" and TOKEN not in out[H1].error
    assert TOKEN not in str(out[H1].to_json())
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


async def test_redirect_to_another_host_drops_the_token(fake_civitai, other_host):
    other_host.add_file_model(H1, name="Elsewhere")
    fake_civitai.fail_next(
        307, headers={"Location": other_host.url + "/model-versions/by-hash"}, body=""
    )
    async with fake_client(fake_civitai, token=TOKEN, interval=0) as client:
        out = await client.lookup([H1])
    assert fake_civitai.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert other_host.requests[0].path == "/api/v1/model-versions/by-hash"
    assert "Authorization" not in other_host.requests[0].headers
    assert out[H1].status == "identified"


def test_authorization_header_only_for_the_api_origin():
    settings = civitai.Settings(api_base="https://civitai.com/api/v1", token=TOKEN)
    http = pack_module("civitai.http").HttpCaller(settings, civitai.SpacingLimiter(0))
    api = http.headers_for(URL("https://civitai.com/api/v1/models?ids=1"))
    assert api["Authorization"] == f"Bearer {TOKEN}"
    for url in (
        "https://image.civitai.com/x/1.jpeg",
        "http://civitai.com/api/v1/models",  # other scheme
        "https://civitai.com:8443/api/v1/models",  # other port
        "https://civitai.red/api/v1/models",
        "https://civitai.com.evil.example/api/v1",
    ):
        assert "Authorization" not in http.headers_for(URL(url)), url


def test_settings_repr_masks_the_token():
    settings = civitai.Settings(api_base="https://civitai.com/api/v1/", token=TOKEN)
    assert TOKEN not in repr(settings) and TOKEN not in str(settings)
    assert "'***'" in repr(settings)
    assert settings.api_base == "https://civitai.com/api/v1"
    assert "token=None" in repr(civitai.Settings())


def test_load_settings_env_wins_over_dotenv_files(tmp_path):
    first, second = tmp_path / "a.env", tmp_path / "b.env"
    first.write_text(f"CIVITAI_TOKEN={TOKEN}\nCIVITAI_IDENTIFY_INTERVAL=1.5\n")
    second.write_text(
        "CIVITAI_TOKEN=second\nCIVITAI_API_BASE=https://civitai.red/api/v1\n"
        "CIVITAI_IDENTIFY_TIMEOUT=12\nCIVITAI_IDENTIFY_INTERVAL=9\n"
    )
    before = dict(os.environ)
    s = civitai.load_settings(environ={}, dotenv_paths=[first, second, tmp_path / "none"])
    assert (s.token, s.interval, s.timeout) == (TOKEN, 1.5, 12.0)
    assert s.api_base == "https://civitai.red/api/v1"
    assert s.web_base == "https://civitai.red"
    s = civitai.load_settings(
        environ={"CIVITAI_TOKEN": "from-env", "CIVITAI_IDENTIFY_INTERVAL": "0"},
        dotenv_paths=[first, second],
    )
    assert (s.token, s.interval) == ("from-env", 0.0)
    assert dict(os.environ) == before  # .env never leaks into the process environment


def test_load_settings_defaults_and_bad_values(tmp_path, caplog):
    s = civitai.load_settings(environ={}, dotenv_paths=[])
    assert (s.api_base, s.token, s.interval, s.timeout) == (
        "https://civitai.com/api/v1", None, 3.0, 30.0
    )  # fmt: skip
    bad = {
        "CIVITAI_IDENTIFY_INTERVAL": "three",
        "CIVITAI_IDENTIFY_TIMEOUT": "-1",
        "CIVITAI_API_BASE": "ftp://x",
        "CIVITAI_TOKEN": "  ",
    }
    s = civitai.load_settings(environ=bad, dotenv_paths=[])
    assert (s.api_base, s.token, s.interval, s.timeout) == (
        "https://civitai.com/api/v1", None, 3.0, 30.0
    )  # fmt: skip
    assert "CIVITAI_IDENTIFY_INTERVAL" in caplog.text


def test_default_dotenv_search_cwd_then_pack_dir(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text(f"CIVITAI_TOKEN={TOKEN}\n")
    monkeypatch.chdir(tmp_path)
    assert civitai.load_settings(environ={}).token == TOKEN
    assert config.PACK_DIR.joinpath("civitai").is_dir()  # pack dir = parent of civitai/
