"""Writing through the pages and the API: the same actions, the same clear errors."""

from __future__ import annotations

import pytest
from django.utils import timezone

from muhafiz.cases.models import Case, Victim
from muhafiz.catalogue.models import PoliceStation
from muhafiz.testing import People, signed_in

VIA = ["page", "api"]


def _create(client, via: str, station: PoliceStation, **extra: object):  # type: ignore[no-untyped-def]
    when = timezone.localtime().replace(second=0, microsecond=0)
    if via == "page":
        data = {
            "district": "LHR",
            "agency": "PB-POLICE",
            "police_station": station.pk,
            "fir_number": "202/2026",
            "reported_at": when.strftime("%Y-%m-%dT%H:%M"),
            "facts": ["victim_under_18", "abuse_recorded"],
            **extra,
        }
        return client.post("/cases/new/", data)
    body = {
        "district": "LHR",
        "agency": "PB-POLICE",
        "police_station": station.pk,
        "fir_number": "202/2026",
        "reported_at": when.isoformat(),
        "facts": ["victim_under_18", "abuse_recorded"],
        **extra,
    }
    return client.post("/api/v1/cases/", body, content_type="application/json")


@pytest.mark.parametrize("via", VIA)
def test_investigator_opens_a_case_and_sees_suggested_sections(
    people: People, station: PoliceStation, via: str
) -> None:
    client = signed_in(people.lahore_investigator)
    response = _create(client, via, station)
    assert response.status_code == {"page": 302, "api": 201}[via]
    case = Case.objects.get()
    page = client.get(f"/cases/{case.reference}/").content.decode()
    for code in ("PPC 377A", "PPC 377B", "PECA 22"):
        assert code in page
    advice = client.get(f"/api/v1/cases/{case.reference}/suggestions").json()
    assert {"PPC 377A", "PPC 377B", "PECA 22"} <= {s["code"] for s in advice["suggestions"]}


@pytest.mark.parametrize("via", VIA)
def test_duplicate_fir_in_one_station_gives_a_clear_error_and_saves_nothing(
    people: People, station: PoliceStation, via: str
) -> None:
    client = signed_in(people.lahore_investigator)
    _create(client, "api", station)
    first = Case.objects.get()
    response = _create(client, via, station)
    text = response.content.decode()
    assert response.status_code == {"page": 200, "api": 400}[via]
    assert "already registered at Model Town" in text
    assert first.reference in text
    assert Case.objects.count() == 1


@pytest.mark.parametrize("via", VIA)
def test_overlong_fir_number_is_refused(people: People, station: PoliceStation, via: str) -> None:
    client = signed_in(people.lahore_investigator)
    response = _create(client, via, station, fir_number="9" * 41)
    assert response.status_code == {"page": 200, "api": 400}[via]  # schema errors are 400
    assert not Case.objects.exists()


@pytest.mark.parametrize("via", VIA)
def test_victim_with_a_wrong_cnic_gets_a_clear_message_and_nothing_is_saved(
    people: People, lahore_case: Case, via: str
) -> None:
    client = signed_in(people.lahore_investigator)
    url = f"/cases/{lahore_case.reference}/victims/new/"
    if via == "page":
        response = client.post(url, {"name": "Someone", "cnic": "35202-99", "gender": "girl"})
    else:
        response = client.post(
            f"/api/v1/cases/{lahore_case.reference}/victims",
            {"name": "Someone", "cnic": "35202-99"},
            content_type="application/json",
        )
    text = response.content.decode()
    assert response.status_code == {"page": 200, "api": 400}[via]
    assert "13 digits" in text
    assert "35202-99" not in text.replace('value="35202-99"', "")
    assert not Victim.objects.exists()


@pytest.mark.parametrize("via", VIA)
def test_an_accused_e_mail_is_recorded_through_the_page_and_the_api(
    people: People, lahore_case: Case, via: str
) -> None:
    client = signed_in(people.lahore_investigator)
    if via == "page":
        response = client.post(
            f"/cases/{lahore_case.reference}/accused/new/",
            {"name": "X", "emails": "Owl@Example.org", "status": "suspect"},
        )
        assert response.status_code == 302
        page = client.get(f"/cases/{lahore_case.reference}/accused/A1/").content.decode()
        assert 'id="accused-emails"><bdi>owl@example.org</bdi>' in page
    else:
        response = client.post(
            f"/api/v1/cases/{lahore_case.reference}/accused",
            {"name": "X", "emails": ["Owl@Example.org"]},
            content_type="application/json",
        )
        assert response.status_code == 201
        assert response.json()["emails"] == ["owl@example.org"]
    assert lahore_case.accused.get().emails == ["owl@example.org"]
    bad = client.post(
        f"/api/v1/cases/{lahore_case.reference}/accused",
        {"name": "Y", "emails": ["not an address"]},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "name@example.org" in bad.content.decode()


@pytest.mark.parametrize("via", VIA)
def test_accused_with_a_wrong_phone_gets_a_clear_message(
    people: People, lahore_case: Case, via: str
) -> None:
    client = signed_in(people.lahore_investigator)
    if via == "page":
        response = client.post(
            f"/cases/{lahore_case.reference}/accused/new/",
            {"name": "X", "phones": "0300 12", "status": "suspect"},
        )
    else:
        response = client.post(
            f"/api/v1/cases/{lahore_case.reference}/accused",
            {"name": "X", "phones": ["0300 12"]},
            content_type="application/json",
        )
    assert response.status_code == {"page": 200, "api": 400}[via]
    assert "11 digits" in response.content.decode()
    assert not lahore_case.accused.exists()


@pytest.mark.parametrize("via", VIA)
def test_close_and_reopen_with_reasons(people: People, lahore_case: Case, via: str) -> None:
    client = signed_in(people.lahore_supervisor)
    ref = lahore_case.reference
    for step, reason in (("close", "Accused died"), ("reopen", "Second accused identified")):
        if via == "page":
            client.post(f"/cases/{ref}/{step}/", {"reason": reason})
        else:
            client.post(
                f"/api/v1/cases/{ref}/{step}", {"reason": reason}, content_type="application/json"
            )
    lahore_case.refresh_from_db()
    assert lahore_case.is_open
    assert list(lahore_case.status_changes.values_list("reason", flat=True)) == [
        "Accused died",
        "Second accused identified",
    ]


def test_api_refuses_a_reason_that_is_empty(people: People, lahore_case: Case) -> None:
    client = signed_in(people.lahore_supervisor)
    response = client.post(
        f"/api/v1/cases/{lahore_case.reference}/close",
        {"reason": ""},
        content_type="application/json",
    )
    assert response.status_code == 400
    lahore_case.refresh_from_db()
    assert lahore_case.is_open


@pytest.mark.parametrize("via", VIA)
def test_identity_is_corrected_through_pages_and_api(
    people: People, lahore_case: Case, victim: Victim, via: str
) -> None:
    client = signed_in(people.lahore_investigator)
    base = f"/cases/{lahore_case.reference}/victims/{victim.pseudonym}"
    if via == "page":
        shown = client.post(f"{base}/identity/", {"purpose": "Correct a typo"})
        assert 'id="identity-edit-form"' in shown.content.decode()
        response = client.post(
            f"{base}/identity/edit/",
            {
                "edit-name": "Fixed Testname",
                "edit-cnic": "35202-7654321-8",
                "edit-birth_date": "",
                "edit-estimated_age": "",
                "edit-guardian_name": "",
                "edit-address": "",
                "edit-phones": "",
            },
        )
        assert response.status_code == 302
    else:
        response = client.put(
            f"/api/v1/cases/{lahore_case.reference}/victims/{victim.pseudonym}/identity",
            {
                "name": "Fixed Testname",
                "cnic": "35202-7654321-8",
                "birth_date": None,
                "estimated_age": None,
                "guardian_name": "",
                "address": "",
                "phones": [],
            },
            content_type="application/json",
        )
        assert response.status_code == 200
        assert "Fixed" not in response.content.decode()
    assert Victim.objects.get(pk=victim.pk).name == "Fixed Testname"


@pytest.mark.parametrize("via", VIA)
def test_an_accused_is_corrected_and_then_linked_by_the_new_phone(
    people: People, lahore_case: Case, via: str
) -> None:
    from muhafiz.cases import actions
    from muhafiz.cases.models import Accused

    accused = actions.add_accused(
        people.lahore_investigator, lahore_case, actions.AccusedDetails(name="First Version")
    )
    client = signed_in(people.lahore_investigator)
    if via == "page":
        response = client.post(
            f"/cases/{lahore_case.reference}/accused/A1/edit/",
            {"name": "Second Version", "phones": "0321 5556667", "status": "accused"},
        )
        assert response.status_code == 302
    else:
        response = client.put(
            f"/api/v1/cases/{lahore_case.reference}/accused/A1",
            {
                "name": "Second Version",
                "aliases": "",
                "cnic": "",
                "phones": ["0321 5556667"],
                "handles": [],
                "emails": [],
                "addresses": "",
                "status": "accused",
            },
            content_type="application/json",
        )
        assert response.json()["phones"] == ["+923215556667"]
    stored = Accused.objects.get(pk=accused.pk)
    assert (stored.name, stored.status) == ("Second Version", "accused")
    assert stored.identifier_values("phone") == ["+923215556667"]


def test_the_case_form_offers_the_police_stations_of_the_chosen_district(
    people: People, station: PoliceStation, kasur: object
) -> None:
    kasur_station = PoliceStation.objects.create(district=kasur, name="Kot Radha Kishan")  # type: ignore[misc]
    client = signed_in(people.lahore_investigator)
    form = client.get("/cases/new/").content.decode()
    assert "Model Town" in form
    assert "Kot Radha Kishan" not in form
    options = client.get("/cases/stations/?district=KSR").content.decode()
    assert f'value="{kasur_station.pk}"' in options
    assert "Model Town" not in options
    assert signed_in(people.analyst).get("/cases/stations/?district=KSR").status_code == 403
