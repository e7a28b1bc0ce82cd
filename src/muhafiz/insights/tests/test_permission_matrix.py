"""Who may open which insights page, and what the staff figures show each of them."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from muhafiz.audit.models import AuditEvent
from muhafiz.core.permissions import SYSTEM
from muhafiz.insights.actions import refresh_summaries
from muhafiz.insights.models import SummaryRefresh
from muhafiz.insights.selectors import StaffFilter, staff_statistics
from muhafiz.insights.tests.conftest import Recorded
from muhafiz.testing import People, signed_in

PUBLIC_PAGES = [
    "/statistics/",
    "/statistics/data.csv",
    "/statistics/data.json",
    "/statistics/stage-durations.csv",
    "/statistics/dictionary/",
]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_anyone_reads_the_public_pages(path: str, client: Client, db: None) -> None:
    assert client.get(path).status_code == 200


def test_an_anonymous_visitor_is_sent_to_sign_in_for_staff_statistics(
    client: Client, db: None
) -> None:
    response = client.get("/statistics/staff/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("person", "status"),
    [
        ("analyst", 200),
        ("auditor", 200),
        ("lahore_supervisor", 200),
        ("lahore_investigator", 403),
        ("prosecutor", 403),
        ("child_protection_officer", 403),
        ("administrator", 403),
        ("outsider", 403),
    ],
)
def test_staff_statistics_need_the_statistics_right(
    people: People, person: str, status: int
) -> None:
    assert signed_in(getattr(people, person)).get("/statistics/staff/").status_code == status


def test_the_administrator_refreshes_on_demand_and_it_is_audited(
    world: Recorded, people: People
) -> None:
    client = signed_in(people.administrator)
    assert client.get("/statistics/refresh/").status_code == 200
    response = client.post("/statistics/refresh/run/")
    assert response.status_code == 302
    done = SummaryRefresh.objects.get()
    assert done.requested_by == people.administrator
    event = AuditEvent.objects.get(action="insights.refresh")
    assert event.actor_user == people.administrator
    assert event.details["cases_counted"] == len(world.counted)


def test_an_analyst_cannot_refresh(people: People) -> None:
    client = signed_in(people.analyst)
    assert client.post("/statistics/refresh/run/").status_code == 403
    with pytest.raises(PermissionDenied):
        refresh_summaries(people.analyst)
    assert not SummaryRefresh.objects.exists()


def test_a_lahore_supervisor_sees_lahore_figures_only(world: Recorded, people: People) -> None:
    refresh_summaries(SYSTEM)
    national = staff_statistics(people.analyst, StaffFilter())
    lahore = staff_statistics(people.lahore_supervisor, StaffFilter())
    assert [name for name, _v in lahore.by_district] == ["Lahore"]
    lahore_reports = sum(1 for c in world.counted if c.district.code == "LHR")
    assert lahore.by_district[0][1][0] == lahore_reports
    assert sum(v[0] for _n, v in national.by_district) == len(world.counted)


def test_staff_figures_are_unsuppressed_and_filtered(world: Recorded, people: People) -> None:
    refresh_summaries(SYSTEM)
    client = signed_in(people.analyst)
    html = client.get("/statistics/staff/?year_from=2026&year_to=2026").content.decode()
    assert "&lt;5" not in html
    stats = staff_statistics(people.analyst, StaffFilter(year_from=2026, year_to=2026))
    assert [y for y, _v in stats.by_year] == [2026]
    kasur_2026 = sum(
        1 for c in world.counted if c.district.code == "KSR" and c.reported_at.year == 2026
    )
    kasur = world.cases[0].__class__.objects.filter(district__code="KSR").first()
    assert kasur is not None
    only_kasur = staff_statistics(
        people.analyst, StaffFilter(year_from=2026, year_to=2026, district_id=kasur.district_id)
    )
    assert only_kasur.by_year == [(2026, [kasur_2026, *only_kasur.by_year[0][1][1:]])]
    grouped = staff_statistics(people.analyst, StaffFilter(offence_group="abduction"))
    abductions = sum(1 for c in world.counted if c.missing_child and not c.sexual_abuse)
    assert sum(v[0] for _y, v in grouped.by_year) == abductions
    staged = staff_statistics(people.analyst, StaffFilter(rule_code="zzz-no-such-rule"))
    assert staged.stages == []


def test_the_public_routes_are_public_by_rule_and_only_those() -> None:
    from muhafiz.core.permissions import PUBLIC
    from muhafiz.testing import url_routes

    mine = {r.route: r.view_rule for r in url_routes() if r.route.startswith("statistics/")}
    public = {route for route, rule in mine.items() if rule == PUBLIC}
    assert public == {
        "statistics/",
        "statistics/data.csv",
        "statistics/stage-durations.csv",
        "statistics/data.json",
        "statistics/dictionary/",
    }
    assert all(isinstance(rule, tuple) for route, rule in mine.items() if route not in public)
