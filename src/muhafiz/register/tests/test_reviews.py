"""Reviews, not appeals: the SORNA tier I reduction after 10 clean years and the UK review of
indefinite registration after 15 years each open on a date read from the conviction's rule,
are refused before it, carry a decision clock (alerted once when overdue), and are decided with
reasons: granted, the period is shortened or the registration ends."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from muhafiz.audit.models import AuditEvent
from muhafiz.catalogue.models import District
from muhafiz.core.permissions import SYSTEM
from muhafiz.proceedings.clocks import add_months
from muhafiz.register import actions
from muhafiz.register.models import (
    DueProcessState,
    RegisterAlert,
    Registrant,
    RegistrantStatus,
)
from muhafiz.register.reviews import reviews_open_to
from muhafiz.register.tests.conftest import Convict, RegisterPeople, add_accused, open_case
from muhafiz.testing import signed_in


def _registered_long_ago(
    rp: RegisterPeople, convict: Convict, *, years: int, offences: list[str], sentence: str
) -> Registrant:
    """Convicted about `years` years ago, released a month later, verified every year since."""
    case = open_case(rp.base, f"{years}/2010", offences, days_ago=years * 365 + 120)
    convict(case, add_accused(rp.base, case), sentence)
    registrant = Registrant.objects.get()
    actions.confirm_conviction(rp.register_officer, registrant.convictions.get())
    released = registrant.convictions.get().convicted_at + dt.timedelta(days=30)
    actions.record_release(rp.register_officer, registrant, released_at=released)
    lahore = District.objects.get(code="LHR")
    visit = released + dt.timedelta(days=1)
    while visit < timezone.now():
        actions.record_verification(
            rp.station_officer, registrant, visited_at=visit, outcome="confirmed", district=lahore
        )
        visit += dt.timedelta(days=360)
    registrant.refresh_from_db()
    return registrant


@pytest.fixture
def tier_one(rp: RegisterPeople, convict: Convict, settings: Any) -> Registrant:
    settings.MUHAFIZ_REGISTER_RULE_SET = "sorna"
    return _registered_long_ago(rp, convict, years=12, offences=["PPC 292A"], sentence="3 years")


def test_tier_one_is_reduced_by_five_years_after_ten_clean_years(
    rp: RegisterPeople, tier_one: Registrant
) -> None:
    conviction = tier_one.convictions.get()
    assert conviction.tier == "I" and conviction.period_months == 180
    [review] = reviews_open_to(tier_one)
    released = timezone.localdate(tier_one.released_at)
    assert review.opens_on == add_months(released, 120)
    now = timezone.now()
    item = actions.submit_due_process(
        rp.register_officer,
        tier_one,
        kind="tier_reduction",
        grounds="Ten years without a missed verification",
        submitted_through="counsel",
        now=now,
    )
    assert item.due_at == now + dt.timedelta(days=42)
    actions.start_review(rp.register_officer, item)
    actions.decide_due_process(
        rp.register_officer, item, upheld=True, reasons="Clean record confirmed by the police"
    )
    tier_one.refresh_from_db()
    conviction.refresh_from_db()
    assert conviction.period_months == 120
    assert tier_one.period_ends_on == add_months(released, 120)
    assert AuditEvent.objects.filter(action="register.period_reduced").count() == 1
    # Once only.
    assert reviews_open_to(tier_one) == []


def test_a_record_with_a_missed_clock_is_not_clean(
    rp: RegisterPeople, tier_one: Registrant
) -> None:
    actions.record_change_detected(
        rp.station_officer,
        tier_one,
        kind="address",
        changed_on=timezone.localdate() - dt.timedelta(days=60),
    )
    actions.evaluate_compliance(SYSTEM)
    tier_one.refresh_from_db()
    with pytest.raises(ValidationError, match="not clean"):
        actions.submit_due_process(
            rp.register_officer,
            tier_one,
            kind="tier_reduction",
            grounds="x",
            submitted_through="counsel",
        )


def test_a_review_is_refused_before_it_opens(
    rp: RegisterPeople, convict: Convict, settings: Any
) -> None:
    settings.MUHAFIZ_REGISTER_RULE_SET = "sorna"
    registrant = _registered_long_ago(
        rp, convict, years=3, offences=["PPC 292A"], sentence="3 years"
    )
    with pytest.raises(ValidationError, match="may be asked from"):
        actions.submit_due_process(
            rp.register_officer,
            registrant,
            kind="tier_reduction",
            grounds="Early",
            submitted_through="counsel",
        )
    # Not a tier I registration at all: no reduction (a UK indefinite review does not apply).
    with pytest.raises(ValidationError, match="does not apply"):
        actions.submit_due_process(
            rp.register_officer,
            registrant,
            kind="indefinite_review",
            grounds="x",
            submitted_through="counsel",
        )


def test_the_uk_review_of_indefinite_registration(rp: RegisterPeople, convict: Convict) -> None:
    registrant = _registered_long_ago(
        rp, convict, years=17, offences=["PPC 377A"], sentence="5 years"
    )
    assert registrant.indefinite
    now = timezone.now()
    first = actions.submit_due_process(
        rp.register_officer,
        registrant,
        kind="indefinite_review",
        grounds="Fifteen years since release",
        submitted_through="register_officer",
        now=now,
    )
    # Overdue: the register officers are alerted once.
    assert first.due_at is not None
    late = first.due_at + dt.timedelta(hours=1)
    assert actions.evaluate_register_clocks(SYSTEM, now=late).reviews == 1
    assert actions.evaluate_register_clocks(SYSTEM, now=late).alerts == 0
    assert RegisterAlert.objects.filter(
        kind="review_overdue", recipient=rp.register_officer
    ).exists()
    actions.decide_due_process(
        rp.register_officer, first, upheld=False, reasons="Risk assessment still high"
    )
    registrant.refresh_from_db()
    assert first.state == DueProcessState.DECIDED and first.upheld is False
    assert registrant.status == RegistrantStatus.ACTIVE
    second = actions.submit_due_process(
        rp.register_officer,
        registrant,
        kind="indefinite_review",
        grounds="New risk assessment",
        submitted_through="counsel",
    )
    actions.decide_due_process(
        rp.register_officer, second, upheld=True, reasons="Low risk; discharged"
    )
    registrant.refresh_from_db()
    assert registrant.status == RegistrantStatus.REMOVED
    assert registrant.removal_reason == "review_granted"
    assert registrant.name == "" and not registrant.convictions.exists()


@pytest.mark.parametrize("lang", ["en", "ur"])
def test_the_registrant_page_says_when_a_review_opens(
    rp: RegisterPeople, tier_one: Registrant, lang: str
) -> None:
    office = signed_in(rp.register_officer)
    office.cookies["django_language"] = lang
    body = office.get(f"/register/registrants/{tier_one.code}/").content.decode()
    assert 'id="review-list"' in body and 'data-kind="tier_reduction"' in body
    response = office.post(
        f"/register/registrants/{tier_one.code}/due-process/",
        {"kind": "tier_reduction", "submitted_through": "counsel", "grounds": "Ten clean years"},
    )
    assert response.status_code == 302
    body = office.get(f"/register/registrants/{tier_one.code}/").content.decode()
    assert 'data-kind="tier_reduction"' in body
