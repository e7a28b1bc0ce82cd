"""The production profile passes Django's deployment checks with no warning at all."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

# Checks the settings silence on purpose, each with its reason; any other silenced check fails.
SILENCED_ON_PURPOSE = {
    "axes.W006": "lockout is per account so that one office address is not locked for everyone",
}


def check_deploy(profile: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MUHAFIZ_", "DJANGO_")) and key != "DATABASE_URL"
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "muhafiz.settings",
        "MUHAFIZ_PROFILE": profile,
        "MUHAFIZ_DATA_DIR": str(data_dir),
        "MUHAFIZ_SECRET_KEY": secrets.token_hex(32),  # 64 characters
        "MUHAFIZ_ALLOWED_HOSTS": "muhafiz.example.gov.pk",
        "MUHAFIZ_FIELD_KEYS": "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    command = [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"]
    return subprocess.run(
        command, check=False, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_production_profile_passes_check_deploy_without_warnings(tmp_path: Path) -> None:
    result = check_deploy("production", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_only_checks_silenced_on_purpose_are_silenced(settings: Any) -> None:
    assert set(settings.SILENCED_SYSTEM_CHECKS) <= set(SILENCED_ON_PURPOSE)


def test_the_development_profile_would_not_pass_it(tmp_path: Path) -> None:
    result = check_deploy("development", tmp_path)
    assert result.returncode != 0
    assert "security.W" in result.stderr
