"""The typed settings object: defaults, validation, production refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import SettingsError, load_settings

pytestmark = pytest.mark.smoke

GOOD_SECRET = "s" * 40


def test_embedded_defaults_need_no_environment(tmp_path: Path) -> None:
    s = load_settings({"VAR_DIR": str(tmp_path)})
    assert s.env == "development"
    assert s.database_url == f"sqlite:///{tmp_path / 'sendbridge.db'}"
    assert s.redis_url is None and s.demo_mode is False
    assert len(s.secret_key) >= 32
    # The development key is kept, so sessions survive a restart.
    assert load_settings({"VAR_DIR": str(tmp_path)}).secret_key == s.secret_key


def test_environment_variables_are_read_and_typed(tmp_path: Path) -> None:
    s = load_settings({"VAR_DIR": str(tmp_path), "DATABASE_URL": "postgresql://u@h:5432/d", "REDIS_URL": "redis://127.0.0.1:6379/0",
                       "DEMO_MODE": "yes", "SESSION_IDLE_MINUTES": "15", "BASE_DOMAIN": "Councils.Example.", "SECRET_KEY": GOOD_SECRET})
    assert s.uses_postgresql and s.redis_url == "redis://127.0.0.1:6379/0"
    assert s.demo_mode is True and s.session_idle_minutes == 15 and s.base_domain == "councils.example"


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as exc:
        load_settings({"VAR_DIR": str(tmp_path), "SENDBRIDGE_ENV": "staging", "DATABASE_URL": "mysql://x", "DEMO_MODE": "maybe",
                       "SESSION_IDLE_MINUTES": "90", "SECRET_KEY": "short", "LOG_LEVEL": "LOUD"})
    text = str(exc.value)
    for needle in ("SENDBRIDGE_ENV", "DATABASE_URL", "DEMO_MODE", "SESSION_IDLE_MINUTES", "SECRET_KEY", "LOG_LEVEL"):
        assert needle in text
    assert len(exc.value.problems) == 6


@pytest.mark.parametrize("env, message", [
    ({}, "SECRET_KEY is required in production"),
    ({"SECRET_KEY": GOOD_SECRET, "DEMO_MODE": "1"}, "DEMO_MODE must be off in production"),
    ({"SECRET_KEY": GOOD_SECRET}, "production needs PostgreSQL"),
    ({"SECRET_KEY": GOOD_SECRET, "DATABASE_URL": "postgresql://u@h/d"}, "production needs REDIS_URL"),
    ({"SECRET_KEY": GOOD_SECRET, "DATABASE_URL": "postgresql://u@h/d", "REDIS_URL": "redis://c:6379/0"},
     "production needs MAIL_URL"),
    ({"SECRET_KEY": GOOD_SECRET, "MAIL_URL": "http://mail.example"}, "MAIL_URL must start with"),
    # Issue #5: documents in S3 with SSE-KMS, never a local folder, in production.
    ({"SECRET_KEY": GOOD_SECRET, "DATABASE_URL": "postgresql://u@h/d", "REDIS_URL": "redis://c:6379/0",
      "MAIL_URL": "smtp://smtp.council.example:587"}, "production needs S3_BUCKET"),
    ({"SECRET_KEY": GOOD_SECRET, "S3_BUCKET": "council-documents"}, "S3_BUCKET needs S3_KMS_KEY_ID"),
    ({"SECRET_KEY": GOOD_SECRET, "S3_ENDPOINT_URL": "http://minio:9000"}, "S3_ENDPOINT_URL must be an https"),
])
def test_production_refuses_unsafe_settings(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings({"VAR_DIR": str(tmp_path), "SENDBRIDGE_ENV": "production", **env})


def test_production_accepts_safe_settings(tmp_path: Path) -> None:
    s = load_settings({"VAR_DIR": str(tmp_path), "SENDBRIDGE_ENV": "production", "SECRET_KEY": GOOD_SECRET,
                       "DATABASE_URL": "postgresql://u:pw@db/sendbridge", "REDIS_URL": "redis://cache:6379/0",
                       "MAIL_URL": "smtp://relay:mailpw@smtp.council.example:587",
                       "S3_BUCKET": "council-documents", "S3_KMS_KEY_ID": "alias/sendbridge-documents"})
    assert s.is_production
    assert (s.s3_bucket, s.s3_kms_key_id, s.s3_region) == ("council-documents", "alias/sendbridge-documents", "eu-west-2")
    described = s.describe()
    assert described["secret_key"] == "(set)" and "pw" not in described["database_url"]
    assert "mailpw" not in described["mail_url"]


def test_create_app_exits_with_the_list_of_problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from web.app import create_app

    monkeypatch.setenv("SENDBRIDGE_ENV", "production")
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(SystemExit) as exc:
        create_app()
    assert "SECRET_KEY is required in production" in str(exc.value.code)


def test_the_reminder_time_is_a_time_of_day(tmp_path: Path) -> None:
    assert load_settings({"VAR_DIR": str(tmp_path)}).reminders_at == "06:30"
    assert load_settings({"VAR_DIR": str(tmp_path), "REMINDERS_AT": "07:15"}).reminders_at == "07:15"
    with pytest.raises(SettingsError, match="REMINDERS_AT"):
        load_settings({"VAR_DIR": str(tmp_path), "REMINDERS_AT": "25:00"})


def test_s3_settings_outside_production(tmp_path: Path) -> None:
    """Issue #5: a local S3-compatible endpoint is fine in development; S3 without its KMS key never is."""
    s = load_settings({"VAR_DIR": str(tmp_path), "S3_BUCKET": "docs", "S3_KMS_KEY_ID": "k",
                       "S3_ENDPOINT_URL": "http://127.0.0.1:9000", "S3_PATH_STYLE": "yes", "S3_REGION": "eu-west-1"})
    assert (s.s3_endpoint_url, s.s3_path_style, s.s3_region) == ("http://127.0.0.1:9000", True, "eu-west-1")
    assert load_settings({"VAR_DIR": str(tmp_path)}).s3_bucket is None
    with pytest.raises(SettingsError) as exc:
        load_settings({"VAR_DIR": str(tmp_path), "S3_BUCKET": "Not_A_Bucket", "S3_REGION": "London"})
    assert any("S3_BUCKET must be" in p for p in exc.value.problems)
    assert any("S3_REGION must be" in p for p in exc.value.problems)
    assert any("S3_BUCKET needs S3_KMS_KEY_ID" in p for p in exc.value.problems)
