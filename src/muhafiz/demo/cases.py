"""The demo's synthetic cases: a few Lahore and Kasur cases written through the apps' actions.

Every write goes through the public actions of `cases`, `proceedings` and `evidence`, as the
demo investigator of the case's district would make it, so the audit log, the pseudonyms, the
clocks and the alerts are exactly those a real case gets. The stage events are dated relative to
the moment of seeding so that the timelines show clocks met, clocks still pending and one missed
(the final challan of LHR demo 2); the clock job's evaluation then runs once, as a worker would.

Every name is invented and says so ("Demo Child A", "Demo Accused One"); no CNIC, B-form or phone
number is given, so no real person's identifier can appear. Idempotent: each demo case carries a
marker at the start of its summary and is skipped when a case with that marker exists.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from muhafiz.demo.media import seed_demo_scan

MARKER = "Synthetic demo case"


@dataclass(frozen=True)
class DemoVictim:
    name: str
    guardian_name: str
    gender: str
    estimated_age: int
    referral_needs: str = ""  # refer to the district's child-protection officer when given


@dataclass(frozen=True)
class DemoAccused:
    name: str
    handles: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoStage:
    code: str
    after: dt.timedelta  # after the report was received
    accused: int | None = None  # index into the case's accused
    remand_days: int | None = None
    fir_number: str = ""  # with fir_registered: written on the case with the case's station


@dataclass(frozen=True)
class DemoEvidence:
    kind: str
    description: str
    seized_after: dt.timedelta
    handed_to: str = ""  # username of the examiner it went to, a day after seizure
    scanned: bool = False  # a scan of synthetic files imported onto it (its court report)


@dataclass(frozen=True)
class DemoCase:
    key: str
    district: str
    investigator: str  # demo username; the case is opened and written by them
    agency: str
    station: str  # a demo police station's name in the case's district (DEMO_STATIONS)
    reported_ago: dt.timedelta
    summary: str
    facts: tuple[str, ...]
    offences: tuple[str, ...]
    team: tuple[tuple[str, str], ...] = ()  # (username, role on the case)
    victims: tuple[DemoVictim, ...] = ()
    accused: tuple[DemoAccused, ...] = ()
    stages: tuple[DemoStage, ...] = ()
    evidence: tuple[DemoEvidence, ...] = ()
    shows: tuple[str, ...] = field(default=())  # what the case demonstrates, for the printout

    @property
    def marker(self) -> str:
        return f"{MARKER} ({self.key})."


def _h(hours: float) -> dt.timedelta:
    return dt.timedelta(hours=hours)


def _d(days: float) -> dt.timedelta:
    return dt.timedelta(days=days)


# Synthetic police stations: the catalogue ships none (a deployment imports its province's
# notification), so the demo adds a few whose names say they are invented.
DEMO_STATION_SOURCE = "Synthetic demo data: not a real police station"
DEMO_STATIONS: tuple[tuple[str, str, str], ...] = (
    ("LHR", "Demo Station North (synthetic)", "ڈیمو تھانہ شمالی (فرضی)"),
    ("LHR", "Demo Station South (synthetic)", "ڈیمو تھانہ جنوبی (فرضی)"),
    ("KSR", "Demo Station Kasur City (synthetic)", "ڈیمو تھانہ قصور شہر (فرضی)"),
)

LAHORE_TEAM = (
    ("sup.lahore", "supervisor"),
    ("pros.lahore", "prosecutor"),
    ("cpo.lahore", "child_protection_officer"),
    ("forensic.punjab", "forensic_examiner"),
)
# One online handle shared by two cases (Lahore and Kasur): the cross-case link the teams hear of.
SHARED_HANDLE = "demo-network-handle"

DEMO_CASES: tuple[DemoCase, ...] = (
    DemoCase(
        key="LHR demo 1",
        district="LHR",
        investigator="inv.lahore",
        agency="SSOIU-LHR",
        station="Demo Station North (synthetic)",
        reported_ago=_d(40),
        summary="A child abused by a neighbour who filmed it and shared the videos online; "
        "the accused is on trial.",
        facts=("victim_under_18", "sexual_abuse", "abuse_recorded", "material_online"),
        offences=("PPC 377A", "PPC 292B"),
        team=LAHORE_TEAM,
        victims=(
            DemoVictim(
                "Demo Child A",
                "Demo Guardian A",
                "girl",
                12,
                referral_needs="Counselling and help returning to school.",
            ),
        ),
        accused=(DemoAccused("Demo Accused One", handles=(SHARED_HANDLE,)),),
        stages=(
            DemoStage("medico_legal_examined", _h(4)),
            DemoStage("fir_registered", _h(5), fir_number="DEMO-101"),
            DemoStage("arrested", _d(2), accused=0),
            DemoStage("produced_before_magistrate", _d(2) + _h(20), accused=0),
            DemoStage("physical_remand_started", _d(3), accused=0, remand_days=7),
            DemoStage("physical_remand_ended", _d(10), accused=0),
            DemoStage("judicial_remand_ordered", _d(10), accused=0),
            DemoStage("challan_submitted", _d(13)),
            DemoStage("scrutiny_accepted", _d(15)),
            DemoStage("trial_started", _d(20)),
            DemoStage("judicial_remand_reviewed", _d(24), accused=0),
            # A new 15-day judicial remand: its review is due in two days (amber on the home
            # pages of the team's prosecutor and supervisor).
            DemoStage("judicial_remand_ordered", _d(27), accused=0),
            DemoStage("hearing", _d(34)),
        ),
        evidence=(
            DemoEvidence(
                "phone",
                "Synthetic demo phone of the accused (no real content)",
                _d(2),
                handed_to="forensic.punjab",
                scanned=True,
            ),
        ),
        shows=(
            "clocks met",
            "trial clock pending",
            "judicial remand review due soon",
            "referral",
            "evidence custody",
        ),
    ),
    DemoCase(
        key="LHR demo 2",
        district="LHR",
        investigator="inv.lahore",
        agency="SSOIU-LHR",
        station="Demo Station South (synthetic)",
        reported_ago=_d(20),
        summary="A child abused by a tutor; the final challan is overdue.",
        facts=("victim_under_18", "sexual_abuse"),
        offences=("PPC 376",),
        team=LAHORE_TEAM[:2],
        victims=(DemoVictim("Demo Child B", "Demo Guardian B", "boy", 9),),
        accused=(DemoAccused("Demo Accused Two"),),
        stages=(
            DemoStage("fir_registered", _h(1), fir_number="DEMO-102"),
            DemoStage("medico_legal_examined", _h(3)),
            DemoStage("interim_report_submitted", _d(16)),
        ),
        shows=("challan clock missed",),
    ),
    DemoCase(
        key="LHR demo 3",
        district="LHR",
        investigator="inv.lahore",
        agency="PB-POLICE",
        station="Demo Station North (synthetic)",
        reported_ago=_h(3),
        summary="A child reported missing this morning; FIR and ZARRA within the two hours.",
        facts=("victim_under_18", "missing_child"),
        offences=(),
        team=LAHORE_TEAM[:1],
        victims=(DemoVictim("Demo Child C", "Demo Guardian C", "girl", 7),),
        stages=(
            DemoStage("fir_registered", _h(1), fir_number="DEMO-103"),
            DemoStage("zarra_informed", _h(1.5)),
        ),
        shows=("missing-child clocks met", "alert-raiser contact pending"),
    ),
    DemoCase(
        key="KSR demo 1",
        district="KSR",
        investigator="inv.kasur",
        agency="SSOIU-KSR",
        station="Demo Station Kasur City (synthetic)",
        reported_ago=_d(5),
        summary="A child groomed online by an account also seen in a Lahore case.",
        facts=("victim_under_18", "online_grooming", "material_online"),
        offences=("PECA 22A",),
        victims=(DemoVictim("Demo Child D", "Demo Guardian D", "boy", 14),),
        accused=(DemoAccused("Demo Accused Three", handles=(SHARED_HANDLE,)),),
        stages=(
            DemoStage("fir_registered", _h(3), fir_number="DEMO-201"),
            DemoStage("arrested", _d(1), accused=0),
            DemoStage("produced_before_magistrate", _d(1) + _h(10), accused=0),
        ),
        shows=("challan clock pending", "handle shared with a Lahore case"),
    ),
)


@dataclass
class SeededCase:
    reference: str
    district: str
    shows: tuple[str, ...]


def existing_demo_keys() -> set[str]:
    """The keys of the demo cases already seeded (read through the cases app's model)."""
    from muhafiz.cases.models import Case

    found = set()
    summaries = Case.objects.filter(summary__startswith=MARKER).values_list("summary", flat=True)
    for summary in summaries:
        for demo in DEMO_CASES:
            if summary.startswith(demo.marker):
                found.add(demo.key)
    return found


def seed_demo_stations() -> int:
    """Add the synthetic demo police stations the catalogue lacks (through the catalogue's
    action, as the platform itself); return how many were added."""
    from muhafiz.catalogue.actions import create_police_station
    from muhafiz.catalogue.models import District, PoliceStation
    from muhafiz.core.permissions import SYSTEM

    added = 0
    for district_code, name, name_ur in DEMO_STATIONS:
        district = District.objects.get(code=district_code)
        if PoliceStation.objects.filter(district=district, name=name).exists():
            continue
        create_police_station(
            SYSTEM,
            district,
            {"name": name, "name_ur": name_ur, "source": DEMO_STATION_SOURCE},
            reason="synthetic demo installation",
        )
        added += 1
    return added


def seed_demo_cases(now: dt.datetime | None = None) -> list[SeededCase]:
    """Create the demo cases not seeded yet; return those created. Needs the demo people."""
    now = now or timezone.now()
    seed_demo_stations()
    done = existing_demo_keys()
    created = []
    for demo in DEMO_CASES:
        if demo.key in done:
            continue
        with transaction.atomic():
            reference = _seed_case(demo, now)
        created.append(SeededCase(reference, demo.district, demo.shows))
    if created:
        from muhafiz.core.permissions import SYSTEM
        from muhafiz.proceedings.actions import evaluate_clocks

        evaluate_clocks(SYSTEM, now=now)
    return created


def _seed_case(demo: DemoCase, now: dt.datetime) -> str:
    from muhafiz.accounts.models import User
    from muhafiz.cases import actions as cases
    from muhafiz.catalogue.models import Agency, District, Offence, PoliceStation
    from muhafiz.evidence import actions as evidence
    from muhafiz.proceedings import actions as proceedings

    usernames = {demo.investigator, *(u for u, _role in demo.team)}
    usernames |= {e.handed_to for e in demo.evidence if e.handed_to}
    people = {u.username: u for u in User.objects.filter(username__in=usernames)}

    def person(username: str) -> Any:
        return people[username]

    investigator = person(demo.investigator)
    reported_at = now - demo.reported_ago
    case = cases.create_case(
        investigator,
        district=District.objects.get(code=demo.district),
        agency=Agency.objects.get(code=demo.agency),
        reported_at=reported_at,
        summary=f"{demo.marker} {demo.summary}",
        facts=demo.facts,
        offences=list(Offence.objects.filter(code__in=demo.offences)),
    )
    # The district's supervisor staffs the team: joining a case team is a supervisor's decision.
    supervisor = next((person(u) for u, role in demo.team if role == "supervisor"), None)
    for username, role in demo.team:
        cases.add_team_member(supervisor, case, person(username), role)
    for victim_spec in demo.victims:
        victim = cases.add_victim(
            investigator,
            case,
            cases.VictimIdentity(
                name=victim_spec.name,
                guardian_name=victim_spec.guardian_name,
                estimated_age=victim_spec.estimated_age,
            ),
            gender=victim_spec.gender,
            consent_sharing=True,
            consent_referral=bool(victim_spec.referral_needs),
            consent_statistics=True,
        )
        if victim_spec.referral_needs:
            officer = next(
                (person(u) for u, role in demo.team if role == "child_protection_officer"), None
            )
            cases.refer_victim(
                investigator, victim, needs=victim_spec.referral_needs, officer=officer
            )
    accused = [
        cases.add_accused(
            investigator,
            case,
            cases.AccusedDetails(name=spec.name, handles=list(spec.handles)),
        )
        for spec in demo.accused
    ]
    # Each stage is recorded as if at the moment it happened, so the clocks are derived as they
    # would have been then (a challan filed in time never made an interim report due); the clock
    # job's evaluation at the end brings every running clock up to the present.
    station = PoliceStation.objects.get(district=case.district, name=demo.station)
    for stage in demo.stages:
        occurred_at = reported_at + stage.after
        proceedings.record_stage_event(
            investigator,
            case,
            code=stage.code,
            occurred_at=occurred_at,
            accused=accused[stage.accused] if stage.accused is not None else None,
            remand_days=stage.remand_days,
            fir_number=stage.fir_number,
            police_station=station if stage.fir_number else None,
            now=occurred_at,
        )
    for item_spec in demo.evidence:
        seized_at = reported_at + item_spec.seized_after
        item = evidence.create_item(
            investigator,
            case,
            evidence.ItemDetails(
                kind=item_spec.kind,
                seized_at=seized_at,
                seized_place=f"Demo address, {case.district.name}",
                seized_by=investigator,
                description=item_spec.description,
                seal_number=f"DEMO-SEAL-{case.reference}",
            ),
        )
        if item_spec.handed_to:
            evidence.record_handover(
                investigator,
                item,
                from_user=investigator,
                to_user=person(item_spec.handed_to),
                at=seized_at + _d(1),
                purpose="forensic_examination",
                seal_intact=True,
            )
        if item_spec.scanned:
            seed_demo_scan(
                investigator, case, item, examiner=item_spec.handed_to or demo.investigator
            )
    return str(case.reference)
