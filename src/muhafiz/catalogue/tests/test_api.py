"""The catalogue API: read-only reference data for any signed-in person or API client."""

from __future__ import annotations

from django.test import Client

from muhafiz.catalogue.models import District
from muhafiz.testing import People, signed_in

BASE = "/api/v1/catalogue"


def test_districts_of_one_province(people: People) -> None:
    response = signed_in(people.kasur_investigator).get(f"{BASE}/districts", {"province": "pb"})
    assert response.status_code == 200
    rows = response.json()
    assert len(rows) == District.objects.filter(province__code="PB").count()
    kasur = next(row for row in rows if row["code"] == "KSR")
    assert kasur == {
        "code": "KSR",
        "name": "Kasur",
        "name_ur": "قصور",
        "province": "PB",
        "division": "Lahore",
    }


def test_all_provinces_and_districts(people: People) -> None:
    client = signed_in(people.analyst)
    assert len(client.get(f"{BASE}/provinces").json()) == 7
    assert len(client.get(f"{BASE}/districts").json()) == District.objects.count()


def test_the_registrable_offences_are_the_section_2h_list(people: People) -> None:
    rows = signed_in(people.prosecutor).get(f"{BASE}/offences", {"registrable": "true"}).json()
    assert len(rows) == 13
    assert all(row["registrable"] and row["source"] for row in rows)


def test_deadline_rules_carry_their_limit_and_source(people: People) -> None:
    rows = signed_in(people.lahore_supervisor).get(f"{BASE}/deadline-rules").json()
    magistrate = next(row for row in rows if row["code"] == "produce_before_magistrate")
    assert (magistrate["amount"], magistrate["unit"]) == (24, "hours")
    assert magistrate["source"] == "Code of Criminal Procedure 1898 s.61"


def test_agencies_by_kind(people: People) -> None:
    rows = signed_in(people.lahore_investigator).get(f"{BASE}/agencies", {"kind": "ssoiu"}).json()
    assert len(rows) == District.objects.count()
    lahore = next(row for row in rows if row["code"] == "SSOIU-LHR")
    assert (lahore["district"], lahore["province"]) == ("LHR", "PB")
    bad = signed_in(people.lahore_investigator).get(f"{BASE}/agencies", {"kind": "nonsense"})
    assert bad.status_code == 400


def test_the_catalogue_api_needs_a_signed_in_principal(db: None) -> None:
    response = Client().get(f"{BASE}/offences")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
