"""Test-wide settings: the test profile, hypothesis without time limits, and a header saying
which database the run uses."""

import os

from hypothesis import HealthCheck, settings

os.environ.setdefault("MUHAFIZ_PROFILE", "test")

# A loaded CI machine must not turn slowness into a failure: properties are about answers, and
# speed is measured in benchmarks/, never asserted in tests.
settings.register_profile(
    "muhafiz", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("muhafiz")


def pytest_report_header() -> str:
    from django.conf import settings as django_settings

    return f"muhafiz database: {django_settings.DATABASES['default']['ENGINE']}"
