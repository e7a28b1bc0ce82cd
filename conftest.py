"""Test-wide settings: the test profile."""

import os

os.environ.setdefault("MUHAFIZ_PROFILE", "test")
