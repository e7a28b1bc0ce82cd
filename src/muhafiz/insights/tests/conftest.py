"""Fixtures of the insights tests: a small synthetic country of cases with many small counts.

Cases are written straight to the tables (these tests are about counting, not about the case
actions, which have their own tests); the stage events and clocks they carry are the ones the
summary job reads.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from muhafiz.cases.models import Case, ConsentOverride, Referral, Victim
from muhafiz.catalogue.models import Agency, DeadlineRule, District
from muhafiz.proceedings.models import Clock, StageEvent
from muhafiz.testing import People

VICTIM_NAME = "Zarmeena Qudsia Testwala"  # synthetic identity: never in any published figure


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Recorded:
    """What the fixture wrote, to check the summaries against."""

    cases: list[Case]
    counted: list[Case]


_sequence = 0


def make_case(
    district: District,
    agency: Agency,
    reported: dt.datetime,
    *,
    facts: tuple[str, ...] = ("victim_under_18", "sexual_abuse"),
    victims: tuple[tuple[str, str, bool], ...] = (("girl", "11-15", True),),
    fir_after: dt.timedelta | None = dt.timedelta(hours=5),
    challan_after: dt.timedelta | None = None,
    judgment: str = "",
    referral: bool = False,
    override_by: Any = None,
) -> Case:
    """One case with its victims (gender, age band, statistics consent) and stages."""
    global _sequence  # noqa: PLW0603 - a unique reference per test process
    _sequence += 1
    case = Case.objects.create(
        reference=f"{district.code}-{reported.year}-{_sequence:05d}",
        district=district,
        agency=agency,
        fir_number=f"{_sequence}/{reported.year}",
        reported_at=reported,
        **dict.fromkeys(facts, True),
    )
    made = []
    for i, (gender, band, consent) in enumerate(victims):
        made.append(
            Victim.objects.create(
                case=case,
                pseudonym=f"V-{reported.year}-{district.code}-{_sequence:05d}{i}",
                name=VICTIM_NAME,
                gender=gender,
                age_band=band,
                consent_statistics=consent,
            )
        )
        if not consent and override_by is not None:
            ConsentOverride.objects.create(
                victim=made[-1], consent="statistics", reason="court order", decided_by=override_by
            )
    report = StageEvent.objects.create(case=case, code="report_received", occurred_at=reported)
    if fir_after is not None:
        fir = StageEvent.objects.create(
            case=case, code="fir_registered", occurred_at=reported + fir_after
        )
        rule = DeadlineRule.objects.filter(start_event="report_received").first()
        if rule is not None:
            due = reported + dt.timedelta(days=1)
            Clock.objects.create(
                case=case,
                rule=rule,
                started_at=reported,
                due_at=due,
                due_soon_at=due - dt.timedelta(hours=2),
                stopped_at=fir.occurred_at,
                state="met" if fir.occurred_at <= due else "met_late",
                start_event=report,
                end_event=fir,
            )
        if challan_after is not None:
            challan = fir.occurred_at + challan_after
            StageEvent.objects.create(case=case, code="challan_submitted", occurred_at=challan)
            if judgment:
                StageEvent.objects.create(
                    case=case,
                    code="judgment_delivered",
                    occurred_at=challan + dt.timedelta(days=60),
                    outcome=judgment,
                )
    if referral and made:
        Referral.objects.create(case=case, victim=made[0], needs="counselling for the child")
    return case


def at(year: int, month: int = 3, day: int = 10) -> dt.datetime:
    return dt.datetime(year, month, day, 10, 0, tzinfo=timezone.get_current_timezone())


@pytest.fixture
def world(people: People) -> Recorded:
    """Cases in three districts of two provinces over two years: counts of 0, 1–4 and more."""
    rng = random.Random(13)
    police = Agency.objects.get(code="PB-POLICE")
    lhr, ksr = District.objects.get(code="LHR"), District.objects.get(code="KSR")
    sindh = District.objects.exclude(province__code="PB").order_by("code").first()
    assert sindh is not None
    cases: list[Case] = []
    counted: list[Case] = []
    plan = [(lhr, 2025, 23), (lhr, 2026, 9), (ksr, 2025, 3), (ksr, 2026, 7), (sindh, 2026, 2)]
    for district, year, n in plan:
        for i in range(n):
            outcome = rng.choice(["", "", "conviction", "acquittal"])
            case = make_case(
                district,
                police,
                at(year, 1 + i % 6, 1 + i % 27),
                facts=rng.choice(
                    [
                        ("victim_under_18", "sexual_abuse"),
                        ("victim_under_18", "abuse_recorded"),
                        ("missing_child",),
                    ]
                ),
                victims=(
                    (rng.choice(["girl", "boy"]), rng.choice(["0-5", "6-10", "11-15"]), True),
                ),
                fir_after=dt.timedelta(hours=rng.choice([1, 3, 30, 50])),
                challan_after=dt.timedelta(days=rng.choice([5, 10, 20])) if i % 2 else None,
                judgment=outcome if i % 2 else "",
                referral=i % 3 == 0,
            )
            cases.append(case)
            counted.append(case)
    # Not counted: a victim refused statistics, with no override; a case with no victim yet.
    cases.append(
        make_case(lhr, police, at(2026, 5), victims=(("girl", "6-10", False),), referral=True)
    )
    cases.append(
        make_case(lhr, police, at(2026, 5), victims=(("boy", "0-5", True), ("girl", "6-10", False)))
    )
    cases.append(make_case(lhr, police, at(2026, 5), victims=()))
    # Counted: a refusal a supervisor overrode.
    overridden = make_case(
        lhr,
        police,
        at(2026, 6),
        victims=(("girl", "16-18", False),),
        override_by=people.lahore_supervisor,
    )
    cases.append(overridden)
    counted.append(overridden)
    return Recorded(cases=cases, counted=counted)
