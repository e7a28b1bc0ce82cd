"""The watchers watched: uses of sensitive powers per province and year, from the audit log."""

from __future__ import annotations

import json

from django.db import transaction
from django.test import Client

from muhafiz.accounts.roles import Role
from muhafiz.audit.actions import record
from muhafiz.core.permissions import SYSTEM
from muhafiz.insights.actions import refresh_summaries
from muhafiz.insights.models import PowerUse
from muhafiz.insights.tests.conftest import Recorded
from muhafiz.testing import People, make_user


def _use(actor: object, action: str, times: int, obj: object) -> None:
    with transaction.atomic():
        for _ in range(times):
            record(actor, action, obj, reason="for the investigation")  # type: ignore[arg-type]


def test_powers_are_counted_per_province_of_the_staff_who_used_them(
    world: Recorded, people: People, client: Client
) -> None:
    victim = world.counted[0].victims.get()
    sindh_district = world.cases[-5].district  # the fixture's district outside Punjab
    sindh_officer = make_user("inv.sindh", Role.INVESTIGATOR, district_code=sindh_district.code)
    _use(people.lahore_investigator, "victim.identity.view", 7, victim)
    _use(people.kasur_investigator, "victim.identity.view", 6, victim)
    _use(sindh_officer, "victim.identity.view", 2, victim)
    _use(people.lahore_supervisor, "victim.consent.override", 9, victim)
    _use(people.prosecutor, "register.check_approved", 5, victim)
    _use(people.analyst, "evidence.media.reveal", 3, victim)  # national staff
    _use(people.lahore_investigator, "case.update", 50, victim)  # not a sensitive power
    refresh_summaries(SYSTEM)

    uses = {(u.province_id, u.power): u.value for u in PowerUse.objects.all()}
    punjab = people.lahore_investigator.province_id
    assert uses[(punjab, "identity_views")] == 13
    assert uses[(sindh_officer.province_id, "identity_views")] == 2
    assert uses[(punjab, "consent_overrides")] == 9
    assert uses[(punjab, "register_checks_approved")] == 5
    assert uses[(None, "media_reveals")] == 3
    assert not [
        k
        for k in uses
        if k[1]
        not in {"identity_views", "consent_overrides", "register_checks_approved", "media_reveals"}
    ]

    cells = json.loads(client.get("/statistics/data.json").content)["cells"]
    powers = {
        (c["area_code"], c["dimension"]): c["value"]
        for c in cells
        if c["measure"] == "power" and c["year"] == victim.created_at.year
    }
    assert powers[(sindh_district.province.code, "identity_views")] == "<5"
    # The Pakistan total beside it would give the Sindh figure away: another figure of the
    # line (here Punjab's 13, the smallest of at least 5) is withheld with it.
    line = {k: v for k, v in powers.items() if k[1] == "identity_views" and k[0] != "PK"}
    assert sorted(line.values()).count("x") + sorted(line.values()).count("<5") >= 2
    assert powers[("PB", "identity_views")] == "x"
    assert powers[("PK", "identity_views")] == "15"
    assert powers[("PB", "consent_overrides")] == "9"
    assert powers[("NAT", "media_reveals")] == "<5"
    page = client.get(f"/statistics/?year={victim.created_at.year}").content.decode()
    assert "The watchers watched" in page
    assert 'data-shown="15"' in page
