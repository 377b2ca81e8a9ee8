"""One settings object: every CIVITAI_* setting read from the environment and .env, each
validated in one place, and the README's configuration table listing exactly those."""

import logging
import re
from dataclasses import fields

import pytest
from packload import PACK_DIR, pack_module

config = pack_module("civitai.config")

GOOD = {
    "CIVITAI_TOKEN": ("tok-123", "tok-123"),
    "CIVITAI_API_BASE": ("https://civitai.red/api/v1/", "https://civitai.red/api/v1"),
    "CIVITAI_IDENTIFY_INTERVAL": ("4.5", 4.5),
    "CIVITAI_IDENTIFY_TIMEOUT": ("12", 12.0),
    "CIVITAI_IDENTIFY_DB": ("/data/store.sqlite3", "/data/store.sqlite3"),
    "CIVITAI_IDENTIFY_RETRY_DAYS": ("0.5", 0.5),
    "CIVITAI_IDENTIFY_REFRESH_DAYS": ("30", 30.0),
    "CIVITAI_IDENTIFY_PREVIEWS": (" Yes ", True),
    "CIVITAI_IDENTIFY_PREVIEW_NSFW": ("r", "R"),
    "CIVITAI_IDENTIFY_MODE": (" ALL ", "all"),
}
BAD = {
    "CIVITAI_API_BASE": "ftp://x",
    "CIVITAI_IDENTIFY_INTERVAL": "three",
    "CIVITAI_IDENTIFY_TIMEOUT": "0",
    "CIVITAI_IDENTIFY_RETRY_DAYS": "inf",
    "CIVITAI_IDENTIFY_REFRESH_DAYS": "-1",
    "CIVITAI_IDENTIFY_PREVIEWS": "sometimes",
    "CIVITAI_IDENTIFY_PREVIEW_NSFW": "nsfw",
    "CIVITAI_IDENTIFY_MODE": "everything",
}


def _field(key):
    return next(f for f in fields(config.Settings) if f.metadata["env"] == key)


def test_every_setting_is_covered_here():
    assert set(config.setting_keys()) == set(GOOD)


def test_readme_table_lists_exactly_the_settings():
    readme = (PACK_DIR / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([A-Z0-9_]+)` \|", section, flags=re.M)
    assert sorted(rows) == sorted(config.setting_keys()), (
        "The README's configuration table must list exactly the fields of "
        "civitai/config.py's Settings (add a row for a new setting)."
    )


@pytest.mark.parametrize("key", sorted(GOOD))
def test_each_setting_is_read_from_the_environment_and_from_dotenv(key, tmp_path):
    raw, value = GOOD[key]
    name = _field(key).name
    assert getattr(config.load_settings({key: raw}, dotenv_paths=[]), name) == value
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"{key}={raw!r}\n".replace("'", '"'))
    assert getattr(config.load_settings({}, dotenv_paths=[dotenv]), name) == value
    # the environment wins over .env; an empty value means the default
    assert getattr(config.load_settings({key: ""}, dotenv_paths=[]), name) == _field(key).default


@pytest.mark.parametrize("key", sorted(BAD))
def test_a_bad_value_is_one_sentence_and_the_default(key, caplog):
    with caplog.at_level(logging.WARNING):
        settings = config.load_settings({key: BAD[key]}, dotenv_paths=[])
    assert getattr(settings, _field(key).name) == _field(key).default
    [record] = [r for r in caplog.records if key in r.getMessage()]
    message = record.getMessage()
    assert message.startswith(f"{key}={BAD[key]!r} is not ") and "Using the default" in message
    with pytest.raises(config.SettingError, match=re.escape(key)):
        config.parse_setting(key, BAD[key])


def test_defaults_and_the_token_never_shown():
    s = config.load_settings({}, dotenv_paths=[])
    assert (s.api_base, s.token, s.interval, s.timeout) == (
        "https://civitai.com/api/v1",
        None,
        3.0,
        30.0,
    )
    assert (s.db_path, s.retry_days, s.identify_mode) == (None, 7.0, "other")
    shown = repr(config.load_settings({"CIVITAI_TOKEN": "sekrit"}, dotenv_paths=[]))
    assert "sekrit" not in shown and "token='***'" in shown


def test_the_store_path_and_retry_days_come_from_dotenv(tmp_path, monkeypatch):
    # Before one settings object these two were read from os.environ only.
    monkeypatch.delenv("CIVITAI_IDENTIFY_DB", raising=False)
    monkeypatch.delenv("CIVITAI_IDENTIFY_RETRY_DAYS", raising=False)
    (tmp_path / ".env").write_text(
        f"CIVITAI_IDENTIFY_DB={tmp_path / 'from-dotenv.sqlite3'}\nCIVITAI_IDENTIFY_RETRY_DAYS=2\n"
    )
    monkeypatch.chdir(tmp_path)
    store_pkg = pack_module("nodes.store")
    assert store_pkg.default_db_path() == tmp_path / "from-dotenv.sqlite3"
    store = store_pkg.ModelStore(store_pkg.default_db_path())
    assert store.unknown_retry_days == 2.0
    store.close()


def test_identify_modes_exist_once():
    scanner = pack_module("nodes.scan.scanner")
    node_run = pack_module("nodes.comfy.node_run")
    assert scanner.IDENTIFY_MODES is config.IDENTIFY_MODES
    assert set(node_run.MODE_CHOICES.values()) == set(config.IDENTIFY_MODES)
