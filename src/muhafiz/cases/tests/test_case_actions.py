"""Opening, changing, closing and reopening cases; references, FIR numbers, section advice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from muhafiz.audit.models import AuditEvent
from muhafiz.cases import actions
from muhafiz.cases.models import Alert, Case, CaseStatus, StatusChange
from muhafiz.cases.selectors import case_section_advice, suggest_sections
from muhafiz.catalogue.models import Agency, District, Offence, PoliceStation
from muhafiz.core.permissions import SYSTEM
from muhafiz.testing import People


def _open(people: People, district: District, police: Agency, **kwargs: object) -> Case:
    return actions.create_case(
        people.lahore_investigator,
        district=district,
        agency=police,
        reported_at=kwargs.pop("reported_at", timezone.now()),  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )


def test_references_count_per_district_and_year(
    people: People, lahore: District, police: Agency
) -> None:
    first = _open(people, lahore, police)
    second = _open(people, lahore, police)
    year = timezone.localtime(first.reported_at).year
    assert first.reference == f"LHR-{year}-0001"
    assert second.reference == f"LHR-{year}-0002"
    last_year = _open(people, lahore, police, reported_at=timezone.now() - dt.timedelta(days=400))
    assert last_year.reference.endswith("-0001")


def test_creator_joins_the_team_and_creation_is_audited(people: People, lahore_case: Case) -> None:
    roles = set(lahore_case.team.values_list("user__username", "team_role"))
    assert ("inv.lahore", "investigator") in roles
    event = AuditEvent.objects.get(action="case.create", object_id=str(lahore_case.pk))
    assert event.details["district"] == "LHR"


def test_duplicate_fir_number_in_one_station_is_refused_and_nothing_is_saved(
    people: People, lahore_case: Case, station: PoliceStation, police: Agency, lahore: District
) -> None:
    before = Case.objects.count()
    with pytest.raises(ValidationError) as caught:
        _open(people, lahore, police, police_station=station, fir_number="101/2026")
    assert "already registered at Model Town" in str(caught.value.message_dict["fir_number"])
    assert lahore_case.reference in str(caught.value.message_dict["fir_number"])
    assert Case.objects.count() == before


def test_same_fir_number_at_another_station_is_fine(
    people: People, lahore_case: Case, lahore: District, police: Agency
) -> None:
    other = PoliceStation.objects.create(district=lahore, name="Gulberg")
    case = _open(people, lahore, police, police_station=other, fir_number="101/2026")
    assert case.fir_number == "101/2026"


def test_kasur_investigator_cannot_open_a_case_in_lahore(
    people: People, lahore: District, police: Agency
) -> None:
    with pytest.raises(PermissionDenied):
        actions.create_case(
            people.kasur_investigator, district=lahore, agency=police, reported_at=timezone.now()
        )


def test_overlong_summary_is_refused(people: People, lahore: District, police: Agency) -> None:
    with pytest.raises(ValidationError) as caught:
        _open(people, lahore, police, summary="x" * 5000)
    assert "summary" in caught.value.message_dict


def test_child_filming_is_suggested_377a_377b_and_peca_22_not_292(lahore_case: Case) -> None:
    advice = suggest_sections(frozenset({"victim_under_18", "abuse_recorded"}))
    codes = {s.code for s in advice.suggestions}
    assert {"PPC 377A", "PPC 377B", "PECA 22"} <= codes
    assert not codes & {"PPC 292", "PPC 355"}
    case_advice = case_section_advice(lahore_case)
    assert {s.code for s in case_advice.suggestions if s.applied} == {"PPC 377A"}
    assert set(case_advice.missing_codes) == {"PPC 377B", "PECA 22"}


def test_weaker_section_without_the_stronger_one_is_warned(
    people: People, lahore: District, police: Agency
) -> None:
    case = _open(
        people,
        lahore,
        police,
        facts={"victim_under_18", "abuse_recorded"},
        offences=list(Offence.objects.filter(code="PPC 292")),
    )
    advice = case_section_advice(case)
    assert ("PPC 292", "PECA 22") in advice.warnings
    actions.add_offences(people.lahore_investigator, case, advice.missing_codes)
    assert case_section_advice(case).warnings == []


def test_closing_needs_a_reason_and_reopening_is_recorded(
    people: People, lahore_case: Case
) -> None:
    with pytest.raises(ValidationError):
        actions.close_case(people.lahore_investigator, lahore_case, "  ")
    actions.close_case(people.lahore_investigator, lahore_case, "Compromise; no evidence")
    lahore_case.refresh_from_db()
    assert lahore_case.status == CaseStatus.CLOSED
    with pytest.raises(ValidationError):
        actions.update_case(people.lahore_investigator, lahore_case, summary="late edit")
    actions.reopen_case(people.lahore_supervisor, lahore_case, "New evidence from Kasur")
    lahore_case.refresh_from_db()
    assert lahore_case.status == CaseStatus.OPEN
    changes = list(StatusChange.objects.filter(case=lahore_case).values_list("to_status", "reason"))
    assert changes == [
        ("closed", "Compromise; no evidence"),
        ("open", "New evidence from Kasur"),
    ]
    assert AuditEvent.objects.filter(
        action="case.reopen", reason="New evidence from Kasur"
    ).exists()


def test_raising_the_same_alert_twice_tells_the_person_once(
    people: People, lahore_case: Case
) -> None:
    for _ in range(2):
        actions.raise_alert(
            SYSTEM,
            lahore_case,
            people.lahore_supervisor,
            "clock_missed",
            "FIR overdue",
            dedupe_key="clock:1:missed",
        )
    assert Alert.objects.filter(recipient=people.lahore_supervisor).count() == 1


def test_team_member_must_hold_the_role(people: People, lahore_case: Case) -> None:
    with pytest.raises(ValidationError):
        actions.add_team_member(people.lahore_supervisor, lahore_case, people.analyst, "prosecutor")


def test_team_alerts_reach_each_member_in_the_roles_once_and_only_from_the_system(
    people: People, lahore_case: Case
) -> None:
    from muhafiz.cases.models import TeamMember

    TeamMember.objects.create(
        case=lahore_case, user=people.lahore_supervisor, team_role="supervisor"
    )
    TeamMember.objects.get_or_create(
        case=lahore_case, user=people.prosecutor, team_role="prosecutor"
    )
    notice = actions.TeamNotice(lahore_case.pk, "clock_missed", "FIR overdue", "clock:9:missed")
    with pytest.raises(PermissionDenied):
        actions.raise_team_alerts(people.lahore_supervisor, [notice], ["supervisor"])
    assert actions.raise_team_alerts(SYSTEM, [notice, notice], ["supervisor"]) == 1
    assert actions.raise_team_alerts(SYSTEM, [notice], ["supervisor", "prosecutor"]) == 1
    assert actions.raise_team_alerts(SYSTEM, [notice], ["supervisor", "prosecutor"]) == 0
    assert sorted(
        Alert.objects.filter(dedupe_key="clock:9:missed").values_list(
            "recipient__username", flat=True
        )
    ) == ["pros.lahore", "sup.lahore"]
