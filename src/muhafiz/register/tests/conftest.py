"""Fixtures of the register tests: the named people (with the register's own roles), a Lahore
case with an accused whose synthetic identity must never leak, and a helper that convicts the
accused through proceedings' actions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from muhafiz.accounts.models import User
from muhafiz.cases import actions as case_actions
from muhafiz.cases.models import Accused, Case
from muhafiz.catalogue.models import Agency, AgencyKind, District, Offence, PoliceStation
from muhafiz.proceedings.actions import record_stage_event
from muhafiz.register import actions
from muhafiz.testing import People, make_user

# Synthetic identity: must never appear in a log line, URL, export or statistic.
ACCUSED_NAME = "Qadeer Testabad Registrantwala"
ACCUSED_CNIC = "35202-9876543-1"
ACCUSED_PHONE = "0301 7654321"
ACCUSED_ADDRESS = "House 99, Lane 12, Testnagar"
NEW_ADDRESS = "Flat 4, Block Z, Samplepura"


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class RegisterPeople:
    """The shared people, and the ones only the register needs."""

    base: People
    station_officer: User  # police station officer, Lahore
    kasur_station_officer: User
    employer: User
    kasur_prosecutor: User

    def __getattr__(self, name: str) -> Any:
        return getattr(self.base, name)


@pytest.fixture
def rp(people: People) -> RegisterPeople:
    approve_organisation(people.register_officer, people.employer, "Sunrise School")
    return RegisterPeople(
        base=people,
        station_officer=people.station_officer,
        kasur_station_officer=make_user(
            "station.kasur", "police_station_officer", district_code="KSR"
        ),
        employer=people.employer,
        kasur_prosecutor=make_user("pros.kasur", "prosecutor", district_code="KSR"),
    )


def approve_organisation(officer: User, employer: User, name: str, number: str = "") -> Any:
    """`employer` applies for their school, the register officer approves it."""
    organisation = actions.apply_for_organisation(
        employer,
        name=name,
        kind="school",
        registration_number=number or f"SCH-{employer.pk}",
        district=District.objects.get(code="LHR"),
    )
    return actions.decide_organisation(
        officer, organisation, status="approved", reason="Registered school, inspected"
    )


@pytest.fixture
def lahore(people: People) -> District:
    return District.objects.get(code="LHR")


@pytest.fixture
def court(db: None) -> Agency:
    return Agency.objects.get_or_create(
        code="TEST-SPECIAL-COURT-LHR",
        defaults={"name": "Special Court Lahore", "kind": AgencyKind.COURT},
    )[0]


def open_case(
    people: People, fir: str, offences: list[str], days_ago: int = 400, *, fir_stage: bool = True
) -> Case:
    """A Lahore case with its FIR recorded in proceedings the day after the report."""
    lahore = District.objects.get(code="LHR")
    station = PoliceStation.objects.get_or_create(district=lahore, name="Model Town")[0]
    case = case_actions.create_case(
        people.lahore_investigator,
        district=lahore,
        agency=Agency.objects.get(code="PB-POLICE"),
        police_station=station,
        fir_number=fir,
        reported_at=timezone.now() - dt.timedelta(days=days_ago),
        facts={"victim_under_18", "abuse_recorded"},
        offences=list(Offence.objects.filter(code__in=offences)),
    )
    case_actions.add_team_member(people.lahore_supervisor, case, people.prosecutor, "prosecutor")
    if fir_stage:
        record_stage_event(
            people.lahore_investigator,
            case,
            code="fir_registered",
            occurred_at=case.reported_at + dt.timedelta(days=1),
        )
    return case


def add_accused(people: People, case: Case, *, cnic: str = ACCUSED_CNIC) -> Accused:
    return case_actions.add_accused(
        people.lahore_investigator,
        case,
        case_actions.AccusedDetails(
            name=ACCUSED_NAME,
            aliases="Qadeer T.",
            cnic=cnic,
            phones=[ACCUSED_PHONE],
            addresses=ACCUSED_ADDRESS,
            status="accused",
        ),
    )


@pytest.fixture
def lahore_case(rp: RegisterPeople) -> Case:
    return open_case(rp.base, "501/2025", ["PPC 377A", "PPC 377B"])


@pytest.fixture
def accused(rp: RegisterPeople, lahore_case: Case) -> Accused:
    return add_accused(rp.base, lahore_case)


def record_trial(people: People, case: Case) -> dt.datetime:
    """FIR → challan → trial through proceedings' actions; returns when the trial started."""
    base = case.reported_at
    for code, days in (("challan_submitted", 10), ("trial_started", 30)):
        record_stage_event(
            people.lahore_investigator,
            case,
            code=code,
            occurred_at=base + dt.timedelta(days=days),
        )
    return base + dt.timedelta(days=30)


Convict = Callable[..., Any]


@pytest.fixture
def convict(rp: RegisterPeople, court: Agency, django_capture_on_commit_callbacks: Any) -> Convict:
    """Convict `accused` of their case with `sentence`, as proceedings records it (hook run)."""

    def _convict(case: Case, accused: Accused, sentence: str = "7 years and fine") -> Any:
        trial = record_trial(rp.base, case)
        with django_capture_on_commit_callbacks(execute=True):
            return record_stage_event(
                rp.lahore_investigator,
                case,
                code="judgment_delivered",
                occurred_at=trial + dt.timedelta(days=60),
                accused=accused,
                outcome="conviction",
                sentence=sentence,
                court=court,
            )

    return _convict


@pytest.fixture
def released_registrant(
    rp: RegisterPeople, lahore_case: Case, accused: Accused, convict: Convict
) -> Any:
    """Convicted ("2 years"), confirmed, released 30 days later and verified the next day."""
    from muhafiz.register.models import Registrant

    convict(lahore_case, accused, "2 years")
    registrant = Registrant.objects.get()
    actions.confirm_conviction(rp.register_officer, registrant.convictions.get())
    released = registrant.convictions.get().convicted_at + dt.timedelta(days=30)
    actions.record_release(rp.register_officer, registrant, released_at=released)
    actions.record_verification(
        rp.station_officer,
        registrant,
        visited_at=released + dt.timedelta(days=1),
        outcome="confirmed",
        district=District.objects.get(code="LHR"),
        new_address=NEW_ADDRESS,
    )
    registrant.refresh_from_db()
    return registrant
