"""The demo's register: a synthetic Lahore case whose two accused are convicted through
proceedings' own action (the register's hook makes the entries, as for a real judgment), then
the register officer confirms them and records the releases; one registrant's yearly
verification falls due within days, the other never came to register and is flagged an
absconder by the daily job (alerting the Lahore station officer and the register office once).
Also the demo school, registered and approved for vetting.

Every name says it is synthetic; no CNIC or phone number is given. Idempotent: the case carries
its own marker and the organisation its registration number.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

REGISTER_MARKER = "Synthetic register demo case."
DEMO_SCHOOL = ("Demo School (synthetic)", "DEMO-SCHOOL-1")
COURT = "PB-SPECIAL-COURTS"


@dataclass(frozen=True)
class DemoConvict:
    name: str
    sentence: str
    released_ago: dt.timedelta
    verified: bool  # verified the day after release (the next visit falls due a year on)


DEMO_CONVICTS = (
    # Released almost a year ago and verified then: the yearly visit is due within days.
    DemoConvict(
        "Demo Registrant One (synthetic)", "2 years rigorous imprisonment", dt.timedelta(358), True
    ),
    # Released 40 days ago and never came to register: non-compliant, then an absconder.
    DemoConvict("Demo Registrant Two (synthetic)", "3 years and fine", dt.timedelta(40), False),
)


def seed_demo_register(now: dt.datetime | None = None) -> list[str]:
    """Seed the register part of the demo (needs the demo people); returns the registrant codes
    created (empty when already seeded)."""
    from muhafiz.cases.models import Case

    now = now or timezone.now()
    _seed_school()
    if Case.objects.filter(summary__startswith=REGISTER_MARKER).exists():
        return []
    return _seed_registrants(now)


def _people() -> dict[str, Any]:
    from muhafiz.accounts.models import User

    names = ("inv.lahore", "sup.lahore", "pros.lahore", "npb.register", "station.lahore")
    return {u.username: u for u in User.objects.filter(username__in=names)}


def _seed_registrants(now: dt.datetime) -> list[str]:
    from muhafiz.cases import actions as cases
    from muhafiz.catalogue.models import Agency, District, Offence, PoliceStation
    from muhafiz.core.permissions import SYSTEM
    from muhafiz.proceedings.actions import record_stage_event
    from muhafiz.register import actions as register
    from muhafiz.register.models import Conviction

    people = _people()
    investigator = people["inv.lahore"]
    lahore = District.objects.get(code="LHR")
    reported_at = now - dt.timedelta(days=3 * 365)
    case = cases.create_case(
        investigator,
        district=lahore,
        agency=Agency.objects.get(code="SSOIU-LHR"),
        reported_at=reported_at,
        summary=f"{REGISTER_MARKER} Two men convicted of filming and sharing the abuse of "
        "children; both are now on the sex offenders register.",
        facts=("victim_under_18", "sexual_abuse", "abuse_recorded", "material_online"),
        offences=list(Offence.objects.filter(code__in=("PPC 377A", "PPC 292B"))),
    )
    cases.add_team_member(people["sup.lahore"], case, people["pros.lahore"], "prosecutor")
    accused = [
        cases.add_accused(investigator, case, cases.AccusedDetails(name=convict.name))
        for convict in DEMO_CONVICTS
    ]
    station = PoliceStation.objects.filter(district=lahore).order_by("pk").first()
    stages = (
        ("medico_legal_examined", 0.1),
        ("fir_registered", 1),
        ("challan_submitted", 10),
        ("trial_started", 30),
    )
    for code, days in stages:
        record_stage_event(
            investigator,
            case,
            code=code,
            occurred_at=reported_at + dt.timedelta(days=days),
            fir_number="DEMO-REG-1" if code == "fir_registered" else "",
            police_station=station if code == "fir_registered" else None,
            now=now,
        )
    court = Agency.objects.get(code=COURT)
    judged_at = reported_at + dt.timedelta(days=110)
    events = [
        record_stage_event(
            investigator,
            case,
            code="judgment_delivered",
            occurred_at=judged_at,
            accused=person,
            outcome="conviction",
            sentence=convict.sentence,
            court=court,
            now=now,
        )
        for person, convict in zip(accused, DEMO_CONVICTS, strict=True)
    ]
    # No appeal was filed: the case is closed, its clocks stand still (no queue lists them).
    cases.close_case(investigator, case, "Convicted; no appeal filed (synthetic demo)")
    codes = []
    for event, convict in zip(events, DEMO_CONVICTS, strict=True):
        # Proceedings' hook made the entry after commit; inside an outer transaction (tests)
        # the same receiver runs here, and makes nothing twice.
        register.record_judgment(SYSTEM, event.pk)
        conviction = Conviction.objects.select_related("registrant").get(judgment_event_id=event.pk)
        codes.append(_register(people, conviction, convict, now))
    register.evaluate_compliance(SYSTEM, now=now)
    return codes


def _register(people: dict[str, Any], conviction: Any, convict: DemoConvict, now: Any) -> str:
    """The register office confirms and records the release; the police verify (or not)."""
    from muhafiz.catalogue.models import District
    from muhafiz.core.permissions import SYSTEM
    from muhafiz.register import actions as register

    officer = people["npb.register"]
    lahore = District.objects.get(code="LHR")
    register.confirm_conviction(officer, conviction)
    registrant = conviction.registrant
    released = now - convict.released_ago
    register.record_release(
        officer,
        registrant,
        released_at=released,
        address=f"Demo address (synthetic), {convict.name.split(' (')[0]}, Lahore",
        district=lahore,
        now=now,
    )
    if convict.verified:
        register.record_verification(
            people["station.lahore"],
            registrant,
            visited_at=released + dt.timedelta(days=1),
            outcome="confirmed",
            district=lahore,
            photo_reference="DEMO-PHOTO-1 (kept outside Muhafiz)",
            now=now,
        )
    else:
        # The daily job ran ten days after the release: the initial registration was missed.
        register.evaluate_compliance(SYSTEM, now=released + dt.timedelta(days=10))
    return str(registrant.code)


def _seed_school() -> None:
    """The demo employer's school, applied for and approved."""
    from muhafiz.accounts.models import User
    from muhafiz.catalogue.models import District
    from muhafiz.register import actions as register
    from muhafiz.register.models import Organisation

    name, number = DEMO_SCHOOL
    if Organisation.objects.filter(registration_number=number).exists():
        return
    employer = User.objects.get(username="employer.school")
    officer = User.objects.get(username="npb.register")
    school = register.apply_for_organisation(
        employer,
        name=name,
        kind="school",
        registration_number=number,
        district=District.objects.get(code="LHR"),
    )
    register.decide_organisation(
        officer, school, status="approved", reason="Synthetic demo school, approved for the demo"
    )
