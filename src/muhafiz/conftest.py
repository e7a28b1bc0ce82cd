"""Fixtures shared by the Django apps' tests."""

from __future__ import annotations

import pytest

from muhafiz.testing import People, make_people


@pytest.fixture
def people(db: None) -> People:
    return make_people()
