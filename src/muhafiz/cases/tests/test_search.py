"""Finding cases: part of a reference or FIR number, an accused's CNIC/phone/handle through the
blind index, filters, sort orders, and pages that never stop silently at 100 (issue 15 item 4)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from muhafiz.cases import actions
from muhafiz.cases.models import Case
from muhafiz.cases.search import CaseSearch, search_cases
from muhafiz.catalogue.models import Agency, District, PoliceStation
from muhafiz.testing import People, signed_in

pytestmark = pytest.mark.django_db

ACCUSED_CNIC = "35202-1111111-3"


def _open(people: People, district: District, police: Agency, **extra: Any) -> Case:
    return actions.create_case(
        people.lahore_investigator,
        district=district,
        agency=police,
        reported_at=extra.pop("reported_at", timezone.now() - dt.timedelta(days=1)),
        facts={"victim_under_18"},
        **extra,
    )


@pytest.fixture
def accused_case(people: People, lahore_case: Case) -> Case:
    actions.add_accused(
        people.lahore_investigator,
        lahore_case,
        actions.AccusedDetails(cnic=ACCUSED_CNIC, phones=["0300 7654321"], handles=["@shadow.fox"]),
    )
    return lahore_case


def test_part_of_a_reference_finds_the_case(people: People, lahore_case: Case) -> None:
    number = lahore_case.reference.rsplit("-", 1)[1]
    found = search_cases(people.lahore_investigator, CaseSearch(text=number))
    assert list(found) == [lahore_case]
    lower = lahore_case.reference[:7].lower()  # "lhr-202"
    assert lahore_case in search_cases(people.lahore_investigator, CaseSearch(text=lower))


def test_part_of_an_fir_number_finds_the_case(people: People, lahore_case: Case) -> None:
    # The fixture's FIR is 101/2026.
    assert list(search_cases(people.lahore_investigator, CaseSearch(text="101/"))) == [lahore_case]
    assert not search_cases(people.lahore_investigator, CaseSearch(text="999/"))


def test_partial_search_never_shows_a_case_out_of_reach(people: People, lahore_case: Case) -> None:
    # A Kasur investigator searching "LHR" finds nothing: the Lahore case is not theirs.
    assert not search_cases(people.kasur_investigator, CaseSearch(text="LHR"))


@pytest.mark.parametrize(
    "typed",
    [ACCUSED_CNIC, "3520211111113", "+923007654321", "03007654321", "shadow.fox", "@Shadow.Fox"],
)
def test_accused_identifier_finds_the_case(people: People, accused_case: Case, typed: str) -> None:
    found = search_cases(people.lahore_investigator, CaseSearch(identifier=typed))
    assert list(found) == [accused_case]


def test_identifier_search_uses_the_blind_index_not_the_encrypted_value(
    people: People, accused_case: Case
) -> None:
    with CaptureQueriesContext(connection) as queries:
        list(search_cases(people.lahore_investigator, CaseSearch(identifier=ACCUSED_CNIC)))
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "value_index" in sql
    assert ACCUSED_CNIC not in sql and "3520211111113" not in sql
    assert '"cases_accusedidentifier"."value"' not in sql


def test_a_part_of_an_identifier_finds_nothing(people: People, accused_case: Case) -> None:
    assert not search_cases(people.lahore_investigator, CaseSearch(identifier="35202-1111111"))


def test_filters_narrow_the_list(
    people: People, lahore_case: Case, lahore: District, police: Agency, station: PoliceStation
) -> None:
    old = _open(people, lahore, police, reported_at=timezone.now() - dt.timedelta(days=400))
    me = people.lahore_investigator
    assert list(search_cases(me, CaseSearch(station_id=station.pk))) == [lahore_case]
    assert list(search_cases(me, CaseSearch(offence="PPC 377A"))) == [lahore_case]
    since = timezone.localdate() - dt.timedelta(days=30)
    assert list(search_cases(me, CaseSearch(since=since))) == [lahore_case]
    assert list(search_cases(me, CaseSearch(until=since))) == [old]
    assert list(search_cases(me, CaseSearch(district="KSR"))) == []
    from muhafiz.core.permissions import SYSTEM
    from muhafiz.proceedings.actions import start_proceedings

    for case in (old, lahore_case):
        start_proceedings(SYSTEM, case)
    assert list(search_cases(me, CaseSearch(stage="report_received", sort="oldest"))) == [
        old,
        lahore_case,
    ]
    assert search_cases(me, CaseSearch(sort="oldest")).first() == old
    assert search_cases(me, CaseSearch(sort="newest")).first() == lahore_case


def test_the_list_pages_past_100(people: People, lahore: District, police: Agency) -> None:
    base = timezone.now() - dt.timedelta(days=3)
    for n in range(120):
        _open(people, lahore, police, reported_at=base + dt.timedelta(minutes=n))
    client = signed_in(people.lahore_investigator)
    first = client.get("/cases/").content.decode()
    assert "120 cases" in first
    assert first.count('data-reference="') == 50
    seen: set[str] = set()
    for number in (1, 2, 3):
        page = client.get(f"/cases/?sort=oldest&page={number}").content.decode()
        refs = {part.split('"', 1)[0] for part in page.split('data-reference="')[1:]}
        assert not refs & seen
        seen |= refs
    assert len(seen) == 120
    # The pager keeps the filters in its links.
    page2 = client.get("/cases/?sort=oldest&district=LHR").content.decode()
    assert "sort=oldest&amp;district=LHR&amp;page=2" in page2


def test_the_page_searches_by_part_and_by_identifier(people: People, accused_case: Case) -> None:
    client = signed_in(people.lahore_investigator)
    body = client.get("/cases/", {"q": "101/"}).content.decode()
    assert f'data-reference="{accused_case.reference}"' in body
    found = client.post("/cases/", {"identifier": "0300 7654321"}, follow=True)
    assert f'data-reference="{accused_case.reference}"' in found.content.decode()
    body = client.post("/cases/", {"identifier": "0300 0000000"}, follow=True).content.decode()
    assert "No case you may see matches this search." in body


def test_an_accused_identifier_never_reaches_a_url(people: People, accused_case: Case) -> None:
    # The search is posted; the list, its pager and its CSV link carry an opaque token.
    client = signed_in(people.lahore_investigator)
    posted = client.post("/cases/", {"identifier": "0300 7654321", "sort": "oldest"})
    assert posted.status_code == 302
    location = posted["Location"]
    urls = [location]
    page = client.get(location)
    html = page.content.decode()
    assert f'data-reference="{accused_case.reference}"' in html
    urls += re.findall(r'href="([^"]*)"', html)
    urls += re.findall(r'action="([^"]*)"', html)
    for url in urls:
        for form in ("7654321", "03007654321", "923007654321", "identifier="):
            assert form not in url, url
    assert "found=" in location and "sort=oldest" in location
    # The CSV of the same search, through the token in its link.
    export = next(u for u in urls if u.startswith("/cases/export"))
    rows = client.get(export.replace("&amp;", "&")).content.decode().splitlines()
    assert len(rows) == 2 and accused_case.reference in rows[1]
    # An identifier typed into the URL is not searched (nothing to bookmark or log).
    typed = client.get("/cases/", {"identifier": "0300 0000000"}).content.decode()
    assert "0300 0000000" not in typed and "No case you may see matches" not in typed
    # Another person cannot use the token.
    other = signed_in(people.lahore_supervisor).get(location).content.decode()
    assert "0300 7654321" not in other


def test_bad_filters_give_a_page_not_an_error(people: People, lahore_case: Case) -> None:
    client = signed_in(people.lahore_investigator)
    response = client.get(
        "/cases/", {"since": "not-a-date", "district": "XXX", "sort": "drop", "page": "999"}
    )
    assert response.status_code == 200


def test_the_api_filters_and_pages_alike(people: People, accused_case: Case) -> None:
    client = signed_in(people.lahore_investigator)
    rows = client.post(
        "/api/v1/cases/search", {"identifier": ACCUSED_CNIC}, content_type="application/json"
    ).json()
    assert [r["reference"] for r in rows] == [accused_case.reference]
    # Not in a URL: the GET list refuses an identifier and says where to send it.
    refused = client.get("/api/v1/cases/", {"identifier": ACCUSED_CNIC})
    assert refused.status_code == 400 and "POST /api/v1/cases/search" in refused.content.decode()
    assert client.get("/api/v1/cases/", {"q": "101/"}).json()[0]["reference"] == (
        accused_case.reference
    )


def test_alerts_are_paged(people: People, lahore_case: Case) -> None:
    from muhafiz.core.permissions import SYSTEM

    for n in range(60):
        actions.raise_alert(
            SYSTEM,
            lahore_case,
            people.lahore_investigator,
            "clock_due_soon",
            f"n{n}",
            dedupe_key=f"t{n}",
        )
    client = signed_in(people.lahore_investigator)
    body = client.get("/cases/alerts/").content.decode()
    assert "Page 1 of 2" in body
    assert "Page 2 of 2" in client.get("/cases/alerts/?page=2").content.decode()
