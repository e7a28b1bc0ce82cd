"""Test-wide settings: the test profile, and a header saying which database the run uses."""

import os

os.environ.setdefault("MUHAFIZ_PROFILE", "test")


def pytest_report_header() -> str:
    from django.conf import settings

    return f"muhafiz database: {settings.DATABASES['default']['ENGINE']}"
