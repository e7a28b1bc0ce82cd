"""Dashboard figures on a small known dataset; the CSV export carries no identity."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse

from muhafiz.cases.models import Accused, Case
from muhafiz.core.permissions import SYSTEM
from muhafiz.proceedings import actions, selectors
from muhafiz.proceedings.models import StageCode
from muhafiz.proceedings.tests.conftest import START, CaseFactory
from muhafiz.testing import People, signed_in

ACCUSED_NAME = "Shahid Testaccused"
EVALUATED = START + timedelta(days=20)


def _investigator(people: People, case: Case) -> Any:
    """The investigator who may record the case's stages: one of its district."""
    return people.kasur_investigator if case.district.code == "KSR" else people.lahore_investigator


def _fir(people: People, case: Case, days: float) -> None:
    actions.record_stage_event(
        _investigator(people, case),
        case,
        code=StageCode.FIR_REGISTERED,
        occurred_at=START + timedelta(days=days),
        now=EVALUATED,
    )


def _challan(people: People, case: Case, days: float) -> None:
    actions.record_stage_event(
        _investigator(people, case),
        case,
        code=StageCode.CHALLAN_SUBMITTED,
        occurred_at=START + timedelta(days=days),
        now=EVALUATED,
    )


@pytest.fixture
def dataset(make_case: CaseFactory, people: People) -> dict[str, Case]:
    """A: Lahore, Model Town, challan 6 days late. B: Lahore, Gulberg, challan nearly due.
    C: Kasur, challan late. D, E, F: Lahore, challans after 10, 12 and 20 days."""
    cases = {
        "A": make_case(START, station="Model Town"),
        "B": make_case(START, station="Gulberg"),
        "C": make_case(START, district_code="KSR", station="Kasur City"),
        "D": make_case(START),
        "E": make_case(START),
        "F": make_case(START),
    }
    Accused.objects.create(
        case=cases["A"], label="A1", name=ACCUSED_NAME, created_by=people.lahore_investigator
    )
    _fir(people, cases["A"], 0)
    _fir(people, cases["B"], 8)
    _fir(people, cases["C"], 0)
    for key, days in (("D", 10), ("E", 12), ("F", 20)):
        _fir(people, cases[key], 0)
        _challan(people, cases[key], days)
    actions.evaluate_clocks(SYSTEM, now=EVALUATED)
    return cases


def _rows(principal: object, group: str, **filters: object) -> dict[str, tuple[int, int]]:
    rows = selectors.overdue_by(principal, group, selectors.DashboardFilter(**filters))  # type: ignore[arg-type]
    return {row.label: (row.overdue, row.due_soon) for row in rows}


def test_overdue_per_district_for_a_national_analyst(
    dataset: dict[str, Case], people: People
) -> None:
    # A and C: the challan clock and, the challan being late, the day-17 interim report clock.
    assert _rows(people.analyst, "district") == {"Lahore": (2, 1), "Kasur": (2, 0)}


def test_a_lahore_supervisor_sees_only_lahore(dataset: dict[str, Case], people: People) -> None:
    assert _rows(people.lahore_supervisor, "district") == {"Lahore": (2, 1)}


def test_overdue_per_station_prosecutor_and_stage_filter(
    dataset: dict[str, Case], people: People
) -> None:
    assert _rows(people.analyst, "police_station") == {
        "Model Town": (2, 0),
        "Gulberg": (0, 1),
        "Kasur City": (2, 0),
    }
    assert _rows(people.analyst, "prosecutor") == {"pros.lahore": (4, 1)}
    assert _rows(people.analyst, "district", stage=StageCode.CHALLAN_SUBMITTED) == {
        "Lahore": (1, 1),
        "Kasur": (1, 0),
    }


def test_overdue_per_court_follows_the_trial_court(
    dataset: dict[str, Case], people: People, court: object
) -> None:
    case = dataset["D"]
    actions.record_stage_event(
        people.lahore_investigator,
        case,
        code=StageCode.TRIAL_STARTED,
        occurred_at=START + timedelta(days=15),
        court=court,  # type: ignore[arg-type]
        now=EVALUATED,
    )
    actions.evaluate_clocks(SYSTEM, now=START + timedelta(days=15 + 123))  # past 4 months
    assert _rows(people.analyst, "court")["Special Court Lahore"] == (1, 0)


def test_stage_durations_median_and_90th_percentile(
    dataset: dict[str, Case], people: People
) -> None:
    rows = {
        r.rule_code: r
        for r in selectors.stage_durations(people.analyst, selectors.DashboardFilter())
    }
    challan = rows["challan_submitted"]
    assert challan.count == 3
    assert challan.on_time == 2
    assert challan.median == timedelta(days=12)
    assert challan.p90 == timedelta(days=18.4)  # 12 + 0.8 × (20 − 12)


def test_stalled_longest_first(dataset: dict[str, Case], people: People) -> None:
    stalled = selectors.stalled_cases(people.analyst, selectors.DashboardFilter())
    assert [s.reference for s in stalled][:2] == [dataset["A"].reference, dataset["C"].reference]
    assert stalled[0].stage_code == StageCode.FIR_REGISTERED


def test_csv_export_has_references_and_counts_but_no_identity(
    dataset: dict[str, Case], people: People
) -> None:
    response = signed_in(people.analyst).get(reverse("proceedings:dashboard_csv"))
    assert response.status_code == 200
    text = response.content.decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "section"
    assert rows[2][:4] == ["overdue per district", "Lahore", "2", "1"]
    assert dataset["A"].reference in text
    for identity in (ACCUSED_NAME, "pros.lahore", "sup.lahore", "inv.lahore"):
        assert identity not in text
    prosecutor_rows = [r for r in rows if r[0] == "overdue per prosecutor"]
    assert prosecutor_rows == [
        ["overdue per prosecutor", f"staff-{people.prosecutor.pk}", "4", "1", *[""] * 7]
    ]


def test_dashboard_page_and_api_agree(dataset: dict[str, Case], people: People) -> None:
    client = signed_in(people.lahore_supervisor)
    page = client.get(reverse("proceedings:dashboard"), {"stage": "challan_submitted"})
    assert page.status_code == 200
    assert b"Model Town" in page.content
    assert b"Kasur City" not in page.content
    api = client.get("/api/v1/proceedings/dashboard", {"stage": "challan_submitted"})
    assert api.status_code == 200
    districts = [r for r in api.json()["overdue"] if r["group"] == "district"]
    assert districts == [{"group": "district", "label": "Lahore", "overdue": 1, "due_soon": 1}]


def test_investigators_have_no_dashboard(people: People) -> None:
    client = signed_in(people.lahore_investigator)
    assert client.get(reverse("proceedings:dashboard")).status_code == 403
    assert client.get("/api/v1/proceedings/dashboard").status_code == 403


FORMULA = "=cmd|' /C calc'!A0"


def test_csv_export_runs_no_formula_from_a_place_name(
    dataset: dict[str, Case], people: People
) -> None:
    """Issue 8, finding 6: a police station named like a formula goes out as text."""
    station = dataset["A"].police_station
    assert station is not None
    station.name = FORMULA
    station.save(update_fields=["name"])
    response = signed_in(people.analyst).get(reverse("proceedings:dashboard_csv"))
    cells = [cell for row in csv.reader(io.StringIO(response.content.decode())) for cell in row]
    assert FORMULA not in cells
    assert "'" + FORMULA in cells
