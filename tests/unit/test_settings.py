"""The settings: MOTCUA_* variables parsed once, typed, with the derived defaults from the data dir."""
from __future__ import annotations

import dataclasses
import stat
from pathlib import Path

import pytest

from motcua.settings import BUNDLED_PROCEDURES, Settings, SettingsError


def test_an_empty_environment_gives_the_documented_defaults(tmp_path: Path):
    s = Settings.from_environment({"DATA_DIR": str(tmp_path / "inst")}, environ={})
    assert s.data_dir == (tmp_path / "inst").resolve()
    assert s.database_url == f"sqlite:///{s.data_dir / 'motcua.db'}"
    assert s.procedures == (BUNDLED_PROCEDURES,) and s.procedure_folders == [BUNDLED_PROCEDURES]
    assert s.timezone == "Asia/Ho_Chi_Minh" and s.public_url == "http://127.0.0.1:8000"
    assert (s.max_upload_mb, s.session_hours, s.population_timeout) == (20.0, 8.0, 3.0)
    assert s.font_cache_dir == s.data_dir / "fonts"
    assert s.issue_inline is False and s.secure_cookies is False and s.testing is False  # signing: a worker's job
    assert s.task_lease_seconds == 60.0
    assert s.tsa_url is None and s.population_url is None
    assert s.personal_id_pattern == r"\d{12}"
    assert (s.session_idle_minutes, s.token_days, s.trusted_proxies) == (60.0, 90.0, 0)


def test_the_secret_key_and_pki_passphrase_are_generated_once_into_the_data_dir_readable_by_the_owner_only(
        tmp_path: Path):
    first = Settings.from_environment({"DATA_DIR": str(tmp_path)}, environ={})
    again = Settings.from_environment({"DATA_DIR": str(tmp_path)}, environ={})
    assert first.secret_key and first.secret_key == again.secret_key
    assert first.pki_passphrase and first.pki_passphrase == again.pki_passphrase != first.secret_key
    for name in ("secret_key", "pki-passphrase"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    assert first.secret_key not in repr(first) and first.pki_passphrase not in repr(first)


def test_environment_values_are_converted_and_overrides_win(tmp_path: Path):
    environ = {"MOTCUA_DATA_DIR": str(tmp_path), "MOTCUA_MAX_UPLOAD_MB": "2.5", "MOTCUA_ISSUE_INLINE": "on",
               "MOTCUA_PROCEDURES": f"{tmp_path / 'a'}:{tmp_path / 'b'}", "MOTCUA_SECRET_KEY": "from-env",
               "MOTCUA_TSA_URL": "", "MOTCUA_TESTING": "yes"}
    s = Settings.from_environment({"SECRET_KEY": "override", "SESSION_HOURS": 1}, environ=environ)
    assert s.max_upload_mb == 2.5 and s.max_upload_bytes == int(2.5 * 1024 * 1024)
    assert s.issue_inline is True and s.tsa_url is None
    assert s.procedures == (tmp_path / "a", tmp_path / "b")
    assert s.secret_key == "override" and s.session_hours == 1.0
    assert s.testing is False  # TESTING is for the code that builds the app, never the environment


@pytest.mark.parametrize(("public_url", "setting", "secure"), [
    ("https://motcua.example.gov.vn", None, True),
    ("http://127.0.0.1:8000", "auto", False),
    ("http://127.0.0.1:8000", "true", True),
    ("https://motcua.example.gov.vn", "false", False),
])
def test_secure_cookies_follow_the_public_address_unless_forced(tmp_path, public_url, setting, secure):
    s = Settings.from_environment({"DATA_DIR": str(tmp_path), "PUBLIC_URL": public_url, "SECURE_COOKIES": setting},
                                  environ={})
    assert s.secure_cookies is secure


@pytest.mark.parametrize(("name", "value", "message"), [
    ("MAX_UPLOAD_MB", "twenty", "MOTCUA_MAX_UPLOAD_MB: not a number: 'twenty'"),
    ("SESSION_HOURS", "-1", "MOTCUA_SESSION_HOURS: must be a positive number"),
    ("TIMEZONE", "Mars/Olympus", "MOTCUA_TIMEZONE: unknown time zone: 'Mars/Olympus'"),
    ("PERSONAL_ID_PATTERN", "(\\d", "MOTCUA_PERSONAL_ID_PATTERN: not a regular expression"),
    ("TOKEN_DAYS", "0", "MOTCUA_TOKEN_DAYS: must be a positive number"),
    ("SESSION_IDLE_MINUTES", "soon", "MOTCUA_SESSION_IDLE_MINUTES: not a number: 'soon'"),
    ("TRUSTED_PROXIES", "-1", "MOTCUA_TRUSTED_PROXIES: must be 0 or more"),
    ("TRUSTED_PROXIES", "one", "MOTCUA_TRUSTED_PROXIES: not a whole number: 'one'"),
])
def test_a_bad_value_is_one_message_naming_the_variable(tmp_path, name, value, message):
    with pytest.raises(SettingsError) as err:
        Settings.from_environment({"DATA_DIR": str(tmp_path)}, environ={f"MOTCUA_{name}": value})
    assert str(err.value).startswith(message)


def test_an_unknown_override_is_refused_rather_than_ignored(tmp_path):
    with pytest.raises(SettingsError, match="MOTCUA_MAX_UPLOAD: no such setting"):
        Settings.from_environment({"DATA_DIR": str(tmp_path), "MAX_UPLOAD": 5}, environ={})


def test_settings_are_frozen(tmp_path):
    s = Settings.from_environment({"DATA_DIR": str(tmp_path)}, environ={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.max_upload_mb = 1  # type: ignore[misc]
