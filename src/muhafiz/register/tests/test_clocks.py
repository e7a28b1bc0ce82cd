"""Compliance clocks with a controlled clock (the proceedings engine, `now` injected): a missed
verification makes the registrant non-compliant, then after the grace an absconder, and the
police of their district and the register officers are alerted once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from muhafiz.core.permissions import SYSTEM
from muhafiz.register import actions
from muhafiz.register.models import Compliance, Obligation, RegisterAlert, Registrant
from muhafiz.register.tests.conftest import NEW_ADDRESS, Convict, RegisterPeople


@pytest.fixture
def released(rp: RegisterPeople, lahore_case: Any, accused: Any, convict: Convict) -> Registrant:
    convict(lahore_case, accused, "6 months")  # UK: 7 years, yearly verification
    registrant = Registrant.objects.get()
    actions.confirm_conviction(rp.register_officer, registrant.convictions.get())
    release = registrant.convictions.get().convicted_at + dt.timedelta(days=180)
    return actions.record_release(rp.register_officer, registrant, released_at=release)


def released_at(registrant: Registrant) -> dt.datetime:
    assert registrant.released_at is not None
    return registrant.released_at


def test_initial_registration_falls_due_three_business_days_after_release(
    released: Registrant,
) -> None:
    initial = Obligation.objects.get(registrant=released, kind="initial")
    assert initial.due_at > released_at(released)
    assert initial.due_at - released_at(released) <= dt.timedelta(days=8)
    verification = Obligation.objects.get(registrant=released, kind="verification")
    assert (
        dt.timedelta(days=364)
        <= verification.due_at - released_at(released)
        <= dt.timedelta(days=367)
    )


def test_missed_verification_then_absconder_alerts_once(
    rp: RegisterPeople, released: Registrant, settings: Any
) -> None:
    settings.MUHAFIZ_REGISTER_ABSCONDER_GRACE_DAYS = 14
    initial = Obligation.objects.get(registrant=released, kind="initial")
    # Before the deadline: nothing happens.
    run = actions.evaluate_compliance(SYSTEM, now=initial.due_at - dt.timedelta(hours=1))
    assert run.non_compliant == 0
    released.refresh_from_db()
    assert released.compliance == Compliance.COMPLIANT

    missed_at = initial.due_at + dt.timedelta(hours=1)
    run = actions.evaluate_compliance(SYSTEM, now=missed_at)
    assert run.missed == 1 and run.non_compliant == 1
    released.refresh_from_db()
    assert released.compliance == Compliance.NON_COMPLIANT
    assert not RegisterAlert.objects.filter(kind="absconder").exists()

    # Within the grace: still non-compliant, nobody alerted.
    actions.evaluate_compliance(SYSTEM, now=missed_at + dt.timedelta(days=13))
    released.refresh_from_db()
    assert released.compliance == Compliance.NON_COMPLIANT

    later = missed_at + dt.timedelta(days=15)
    run = actions.evaluate_compliance(SYSTEM, now=later)
    assert run.absconders == 1
    released.refresh_from_db()
    assert released.compliance == Compliance.ABSCONDER
    alerted = set(
        RegisterAlert.objects.filter(kind="absconder").values_list("recipient", flat=True)
    )
    # The Lahore station officer and the national register officer; not Kasur's police.
    assert alerted == {rp.station_officer.pk, rp.register_officer.pk}
    # Running again (twice a day, or on two machines) alerts nobody again.
    again = actions.evaluate_compliance(SYSTEM, now=later + dt.timedelta(days=1))
    assert again.alerts == 0 and again.absconders == 0
    assert RegisterAlert.objects.filter(kind="absconder").count() == 2


def test_a_late_verification_restores_compliance(
    rp: RegisterPeople, released: Registrant, lahore: Any
) -> None:
    initial = Obligation.objects.get(registrant=released, kind="initial")
    late = initial.due_at + dt.timedelta(days=30)
    actions.evaluate_compliance(SYSTEM, now=initial.due_at + dt.timedelta(days=1))
    actions.evaluate_compliance(SYSTEM, now=late)
    released.refresh_from_db()
    assert released.compliance == Compliance.ABSCONDER
    actions.record_verification(
        rp.station_officer,
        released,
        visited_at=late + dt.timedelta(hours=2),
        outcome="moved",
        district=lahore,
        new_address=NEW_ADDRESS,
        now=late + dt.timedelta(hours=3),
    )
    released.refresh_from_db()
    assert released.compliance == Compliance.COMPLIANT
    initial.refresh_from_db()
    assert initial.state == "met_late"
    # The next visit is scheduled a year on.
    assert Obligation.objects.filter(registrant=released, met_at__isnull=True).count() == 1


def test_police_of_another_district_cannot_verify(
    rp: RegisterPeople, released: Registrant, lahore: Any
) -> None:
    with pytest.raises(PermissionDenied):
        actions.record_verification(
            rp.kasur_station_officer,
            released,
            visited_at=released_at(released) + dt.timedelta(days=1),
            outcome="confirmed",
            district=lahore,
        )


def test_a_late_notification_is_marked_late_and_a_detected_change_opens_a_clock(
    rp: RegisterPeople, released: Registrant, lahore: Any
) -> None:
    changed = released_at(released).date() + dt.timedelta(days=10)
    notice = actions.record_notification(
        rp.station_officer,
        released,
        kind="employment",
        changed_on=changed,
        details="Started work at a shop",
        received_at=released_at(released) + dt.timedelta(days=40),
    )
    assert notice.late
    clock = actions.record_change_detected(
        rp.station_officer, released, kind="phone", changed_on=changed
    )
    run = actions.evaluate_compliance(SYSTEM, now=clock.due_at + dt.timedelta(minutes=1))
    assert run.missed >= 1
    released.refresh_from_db()
    assert released.compliance == Compliance.NON_COMPLIANT
