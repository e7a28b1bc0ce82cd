"""Fixtures of the intake tests: named people (from muhafiz.testing), a Lahore helpline
officer, a national NCCIA investigator, places, and a public visitor."""

from __future__ import annotations

from typing import Any

import pytest

from muhafiz.accounts.roles import JurisdictionLevel, Role
from muhafiz.intake.throttle import PublicVisitor, visitor_key
from muhafiz.testing import People, make_user

# Synthetic details a reporter gives: must never appear in a log, URL, export or statistic.
REPORTER_NAME = "Gulnaz Testreporter"
REPORTER_CONTACT = "0333 7654321 gulnaz.test@example.org"
CHILD_NAME = "Zarmeena Qudsia Testwala"
CLIENT_ADDRESS = "203.0.113.77"


@pytest.fixture
def helpline_officer(people: People) -> Any:
    return people.helpline_officer


@pytest.fixture
def kasur_cpo(people: People) -> Any:
    return make_user("cpo.kasur", Role.CHILD_PROTECTION_OFFICER, district_code="KSR")


@pytest.fixture
def nccia_investigator(people: People) -> Any:
    return make_user(
        "nccia.desk", Role.INVESTIGATOR, district_code=None, level=JurisdictionLevel.NATIONAL
    )


@pytest.fixture
def reporter() -> PublicVisitor:
    return PublicVisitor(rate_key=visitor_key(CLIENT_ADDRESS))


# Places and a Lahore case with its team: cases' own fixtures (and its fast password hasher).
from muhafiz.cases.tests.conftest import (  # noqa: E402, F401
    _fast_passwords,
    kasur,
    lahore,
    lahore_case,
    police,
    station,
)
