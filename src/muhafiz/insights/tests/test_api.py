"""The read-only statistics API: the published figures for anyone, the staff figures for
STATS_VIEW holders within their jurisdiction, the same answers as the pages."""

from __future__ import annotations

import pytest
from django.test import Client

from muhafiz.core.permissions import PUBLIC, SYSTEM
from muhafiz.insights.actions import refresh_summaries
from muhafiz.insights.models import PublishedCell, PublishedDuration
from muhafiz.insights.selectors import StaffFilter, staff_statistics
from muhafiz.insights.tests.conftest import Recorded
from muhafiz.testing import People, api_operations, make_api_client, signed_in

PUBLISHED = "/api/v1/statistics/published"
STAFF = "/api/v1/statistics/staff"


def test_anyone_reads_the_published_figures_as_published(world: Recorded, client: Client) -> None:
    refresh_summaries(SYSTEM)
    body = client.get(PUBLISHED).json()
    assert body["generated_at"]
    shown = {
        (c["year"], c["area_code"], c["measure"], c["dimension"], c["category"]): c["value"]
        for c in body["cells"]
    }
    assert shown == {
        (c.year, c.area, c.measure, c.dimension, c.category): c.shown
        for c in PublishedCell.objects.all()
    }
    assert not {v for v in shown.values() if v in {"1", "2", "3", "4"}}
    assert "<5" in shown.values()
    assert len(body["stage_durations"]) == PublishedDuration.objects.count()


def test_the_published_figures_narrow_to_an_area_year_and_measure(
    world: Recorded, client: Client
) -> None:
    refresh_summaries(SYSTEM)
    year = world.counted[0].reported_at.year
    body = client.get(PUBLISHED, {"area": "pb", "year": str(year), "measure": "firs"}).json()
    assert body["cells"]
    assert {(c["area_code"], c["year"], c["measure"]) for c in body["cells"]} == {
        ("PB", year, "firs")
    }
    assert {d["area_code"] for d in body["stage_durations"]} <= {"PB"}
    assert client.get(PUBLISHED, {"year": 12}).status_code == 400


def test_the_data_dictionary_is_public(client: Client, db: None) -> None:
    body = client.get("/api/v1/statistics/dictionary").json()
    assert "reports_received" in body["measures"]
    assert body["rules"]


def test_the_public_operations_are_public_by_rule_and_only_those() -> None:
    mine = {op.path: op.rule for op in api_operations() if "/v1/statistics/" in op.path}
    assert {path for path, rule in mine.items() if rule == PUBLIC} == {
        PUBLISHED,
        "/api/v1/statistics/dictionary",
    }
    assert mine[STAFF] != PUBLIC


@pytest.mark.parametrize(
    ("person", "status"),
    [
        ("analyst", 200),
        ("auditor", 200),
        ("lahore_supervisor", 200),
        ("lahore_investigator", 403),
        ("prosecutor", 403),
        ("administrator", 403),
        ("outsider", 403),
    ],
)
def test_staff_figures_need_the_statistics_right(people: People, person: str, status: int) -> None:
    assert signed_in(getattr(people, person)).get(STAFF).status_code == status


def test_staff_figures_refuse_an_anonymous_caller(client: Client, db: None) -> None:
    assert client.get(STAFF).status_code == 401


def test_staff_figures_match_the_page_within_the_jurisdiction(
    world: Recorded, people: People
) -> None:
    refresh_summaries(SYSTEM)
    body = signed_in(people.lahore_supervisor).get(STAFF).json()
    assert [d["district"] for d in body["by_district"]] == ["Lahore"]
    lahore = sum(1 for c in world.counted if c.district.code == "LHR")
    assert body["by_district"][0]["counts"]["reports_received"] == lahore
    year = world.counted[0].reported_at.year
    national = signed_in(people.analyst).get(STAFF, {"year_from": year, "year_to": year}).json()
    expected = staff_statistics(people.analyst, StaffFilter(year_from=year, year_to=year))
    assert [(y["year"], list(y["counts"].values())) for y in national["by_year"]] == [
        (y, v) for y, v in expected.by_year
    ]
    assert [s["rule_code"] for s in national["stages"]] == [s[0] for s in expected.stages]


def test_a_statistics_reader_client_reads_the_staff_figures(world: Recorded) -> None:
    refresh_summaries(SYSTEM)
    _client, token = make_api_client("statistics_reader")
    body = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get(STAFF).json()
    total = sum(d["counts"]["reports_received"] for d in body["by_district"])
    assert total == len(world.counted)
    _matcher, token = make_api_client("hash_matcher")
    assert Client(HTTP_AUTHORIZATION=f"Bearer {token}").get(STAFF).status_code == 403
