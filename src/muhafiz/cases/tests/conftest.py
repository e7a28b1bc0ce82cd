"""Fixtures of the case tests: named people, places, and a Lahore case with its team."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from muhafiz.cases import actions
from muhafiz.cases.models import Case
from muhafiz.catalogue.models import Agency, District, Offence, PoliceStation
from muhafiz.testing import People

# Synthetic identity used across the tests: must never appear in a log, URL or export.
VICTIM_NAME = "Zarmeena Qudsia Testwala"
VICTIM_CNIC = "35202-7654321-8"
GUARDIAN_NAME = "Haroon Testwala"


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """Argon2 is right for people and too slow for eleven test people per test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def lahore(people: People) -> District:
    return District.objects.get(code="LHR")


@pytest.fixture
def kasur(people: People) -> District:
    return District.objects.get(code="KSR")


@pytest.fixture
def station(lahore: District) -> PoliceStation:
    return PoliceStation.objects.get_or_create(district=lahore, name="Model Town")[0]


@pytest.fixture
def police(people: People) -> Agency:
    return Agency.objects.get(code="PB-POLICE")


@pytest.fixture
def lahore_case(people: People, lahore: District, station: PoliceStation, police: Agency) -> Case:
    case = actions.create_case(
        people.lahore_investigator,
        district=lahore,
        agency=police,
        police_station=station,
        fir_number="101/2026",
        reported_at=timezone.now() - dt.timedelta(days=2),
        facts={"victim_under_18", "abuse_recorded"},
        offences=list(Offence.objects.filter(code="PPC 377A")),
    )
    for member, role in (
        (people.prosecutor, "prosecutor"),
        (people.child_protection_officer, "child_protection_officer"),
        (people.forensic_examiner, "forensic_examiner"),
    ):
        actions.add_team_member(people.lahore_supervisor, case, member, role)
    return case


@pytest.fixture
def victim(people: People, lahore_case: Case) -> Any:
    return actions.add_victim(
        people.lahore_investigator,
        lahore_case,
        actions.VictimIdentity(
            name=VICTIM_NAME,
            cnic=VICTIM_CNIC,
            birth_date=dt.date(2014, 3, 9),
            guardian_name=GUARDIAN_NAME,
            address="House 7, Street 3, Testpura",
            phones=["0300 1234567"],
        ),
        gender="girl",
        consent_sharing=True,
        consent_referral=True,
        consent_statistics=True,
    )
