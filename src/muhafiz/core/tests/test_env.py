"""Settings helpers fail loudly and name the variable at fault."""

from pathlib import Path

import pytest

from muhafiz.core import env


def test_secret_comes_from_file_variant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "key"
    secret.write_text("s3cret\n", encoding="utf-8")
    monkeypatch.setenv("MUHAFIZ_X_FILE", str(secret))
    assert env.env_str("MUHAFIZ_X") == "s3cret"


def test_unreadable_secret_file_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUHAFIZ_X_FILE", "/nonexistent/key")
    with pytest.raises(env.ConfigurationError, match="MUHAFIZ_X_FILE"):
        env.env_str("MUHAFIZ_X")


def test_bad_boolean_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUHAFIZ_FLAG", "maybe")
    with pytest.raises(env.ConfigurationError, match="MUHAFIZ_FLAG='maybe' is not a boolean"):
        env.env_bool("MUHAFIZ_FLAG", default=False)


def test_bad_integer_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUHAFIZ_N", "ten")
    with pytest.raises(env.ConfigurationError, match="not an integer"):
        env.env_int("MUHAFIZ_N", 3)


def test_missing_required_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MUHAFIZ_REQUIRED", raising=False)
    with pytest.raises(env.ConfigurationError, match="MUHAFIZ_REQUIRED must be set"):
        env.env_str("MUHAFIZ_REQUIRED")
