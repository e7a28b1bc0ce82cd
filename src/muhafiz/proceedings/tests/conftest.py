"""Fixtures of the proceedings tests: a Lahore case with its team, the shipped deadline rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from muhafiz.cases.models import Accused, Case, TeamMember, TeamRole
from muhafiz.catalogue.models import Agency, AgencyKind, DeadlineRule, District, PoliceStation
from muhafiz.catalogue.shipped import install_shipped_catalogue
from muhafiz.proceedings.clocks import PAKISTAN
from muhafiz.testing import People, agency

# A controlled clock: Friday 20 March 2026, 16:00 in Lahore, before a weekend, Pakistan Day
# (Monday 23 March) and the Eid ul-Fitr holidays.
START = datetime(2026, 3, 20, 16, 0, tzinfo=PAKISTAN)


def pk_time(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock time in Lahore."""
    return datetime(year, month, day, hour, minute, tzinfo=PAKISTAN)


def end_of_day(year: int, month: int, day: int) -> datetime:
    """The last second of a day in Lahore, where day-counted deadlines fall."""
    return datetime(year, month, day, 23, 59, 59, tzinfo=PAKISTAN)


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    # The named people get real passwords; argon2 would spend seconds per test hashing them.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_dashboard_cache() -> None:
    # Dashboards are cached for a minute per scope; each test starts from its own data.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def rules(db: None) -> list[DeadlineRule]:
    if not DeadlineRule.objects.exists():
        install_shipped_catalogue()
    return list(DeadlineRule.objects.filter(active=True))


@pytest.fixture
def court(db: None) -> Agency:
    return Agency.objects.get_or_create(
        code="TEST-SPECIAL-COURT-LHR",
        defaults={"name": "Special Court Lahore", "kind": AgencyKind.COURT},
    )[0]


CaseFactory = Callable[..., Case]


@pytest.fixture
def make_case(people: People, rules: list[DeadlineRule]) -> CaseFactory:
    """A Lahore case with the named people on its team: investigator, supervisor, prosecutor."""
    counter = iter(range(1, 10_000))

    def build(
        reported_at: datetime = START,
        *,
        district_code: str = "LHR",
        station: str = "Model Town",
        team: bool = True,
        **facts: Any,
    ) -> Case:
        district = District.objects.get(code=district_code)
        police_station, _ = PoliceStation.objects.get_or_create(district=district, name=station)
        number = next(counter)
        case = Case.objects.create(
            reference=f"{district_code}-2026-{number:04d}",
            district=district,
            police_station=police_station,
            agency=agency(),
            reported_at=reported_at,
            created_by=people.lahore_investigator,
            **facts,
        )
        if team:
            for user, role in (
                (people.lahore_investigator, TeamRole.INVESTIGATOR),
                (people.lahore_supervisor, TeamRole.SUPERVISOR),
                (people.prosecutor, TeamRole.PROSECUTOR),
            ):
                TeamMember.objects.create(case=case, user=user, team_role=role)
        return case

    return build


def accused_on(case: Case, label: str = "A1") -> Accused:
    """An accused on the case, named only by their label (the cases app holds the rest)."""
    return Accused.objects.get_or_create(
        case=case, label=label, defaults={"created_by": case.created_by}
    )[0]
