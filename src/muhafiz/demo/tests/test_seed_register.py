"""The demo register is not empty: entries made by the register's hook from convictions
recorded through proceedings, one verification due within days, one absconder alerted once,
an approved school for the vetting employer; seeding twice changes nothing."""

from __future__ import annotations

from io import StringIO
from typing import Any

from django.core.management import call_command

from muhafiz.demo.register import DEMO_CONVICTS


def _seed(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", stdout=StringIO())


def test_the_demo_register_has_entries_from_convictions_a_visit_due_and_an_absconder(
    db: None, settings: Any
) -> None:
    from muhafiz.accounts.models import User
    from muhafiz.proceedings.models import StageEvent
    from muhafiz.register.models import Conviction, Organisation, RegisterAlert, Registrant
    from muhafiz.register.selectors import due_for

    _seed(settings)
    registrants = list(Registrant.objects.order_by("code"))
    assert [r.name for r in registrants] == [c.name for c in DEMO_CONVICTS]
    assert all("(synthetic)" in r.name and r.cnic == "" for r in registrants)
    for conviction in Conviction.objects.all():
        event = StageEvent.objects.get(pk=conviction.judgment_event_id)
        assert event.code == "judgment_delivered" and event.outcome == "conviction"
        assert conviction.status == "confirmed"
    one, two = registrants
    assert one.compliance == "compliant" and two.compliance == "absconder"
    station = User.objects.get(username="station.lahore")
    kinds = {(item.kind, item.label) for item in due_for(station)}
    assert ("verification_due", one.code) in kinds
    officer = User.objects.get(username="npb.register")
    for person in (station, officer):
        assert RegisterAlert.objects.filter(recipient=person, kind="absconder").count() == 1
    assert Organisation.objects.get().status == "approved"
    _seed(settings)
    assert Registrant.objects.count() == 2
    assert RegisterAlert.objects.filter(kind="absconder").count() == 2
