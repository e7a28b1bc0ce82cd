"""Police stations per district: administrators add them on a page or import a CSV, all or
nothing, each change audited; everyone else reads them through the API."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from muhafiz.audit.models import AuditEvent
from muhafiz.catalogue import actions
from muhafiz.catalogue.models import District, PoliceStation
from muhafiz.catalogue.shipped import install_shipped_catalogue
from muhafiz.testing import People, signed_in

GOOD_CSV = (
    "district,name,name_ur,source,verified\n"
    "LHR,Model Town,ماڈل ٹاؤن,Punjab Police notification 2025,yes\n"
    "lhr,Gulberg,گلبرگ,,no\n"
    "KSR,Kasur City,قصور شہر,Punjab Police notification 2025,no\n"
).encode()


@pytest.fixture(autouse=True)
def _catalogue(db: None) -> None:
    install_shipped_catalogue()


def stations() -> set[tuple[str, str]]:
    return set(PoliceStation.objects.values_list("district__code", "name"))


def test_the_administrator_adds_a_station_on_its_page_and_it_is_audited(people: People) -> None:
    admin = signed_in(people.administrator)
    lahore = District.objects.get(code="LHR")
    response = admin.post(
        reverse("catalogue:station_create"),
        {
            "district": lahore.pk,
            "name": "Model Town",
            "name_ur": "ماڈل ٹاؤن",
            "source": "Punjab Police notification 2025",
            "active": "on",
            "reason": "New station notified",
        },
    )
    assert response.status_code == 302
    station = PoliceStation.objects.get(district=lahore, name="Model Town")
    event = AuditEvent.objects.get(action="catalogue.police_station_created")
    assert event.details["code"] == "LHR/Model Town"
    assert event.reason == "New station notified"
    listing = admin.get(reverse("catalogue:station_list"), {"district": "LHR"}).content.decode()
    assert "Model Town" in listing
    edit = admin.post(
        reverse("catalogue:station_edit", args=[station.pk]),
        {
            "district": lahore.pk,
            "name": "Model Town",
            "source": "Punjab Police notification 2025",
            "verified": "on",
            "active": "on",
            "reason": "Checked against the gazette",
        },
    )
    assert edit.status_code == 302
    station.refresh_from_db()
    assert station.verified
    assert station.name_ur == ""  # cleared on the form, and the old value kept in the audit
    changed = AuditEvent.objects.get(action="catalogue.police_station_changed")
    assert changed.details["changed"]["name_ur"] == ["ماڈل ٹاؤن", ""]


def test_a_station_without_a_source_or_reason_is_refused_on_the_page(people: People) -> None:
    admin = signed_in(people.administrator)
    response = admin.post(
        reverse("catalogue:station_create"),
        {"district": District.objects.get(code="LHR").pk, "name": "Gulberg", "reason": ""},
    )
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert stations() == set()


def test_a_csv_import_adds_and_updates_stations_and_is_audited_once(people: People) -> None:
    report = actions.import_police_stations(
        people.administrator, GOOD_CSV, source="Default notification", reason="First import"
    )
    assert sorted(report.added) == ["KSR/Kasur City", "LHR/Gulberg", "LHR/Model Town"]
    assert stations() == {("LHR", "Model Town"), ("LHR", "Gulberg"), ("KSR", "Kasur City")}
    gulberg = PoliceStation.objects.get(name="Gulberg")
    assert gulberg.source == "Default notification"
    assert PoliceStation.objects.get(name="Model Town").verified
    # A second file renames nothing, changes one Urdu name and leaves the others alone; a file
    # without the verified column does not unverify anyone.
    again = actions.import_police_stations(
        people.administrator,
        "district,name,name_ur,source\n"
        "LHR,Model Town,ماڈل ٹاؤن,Punjab Police notification 2025\n"
        "LHR,gulberg,گلبرگ تھانہ,Default notification\n".encode(),
        reason="Corrected Urdu name",
    )
    assert again.added == []
    assert again.changed == ["LHR/Gulberg"]
    assert again.unchanged == 1
    assert PoliceStation.objects.get(name="Model Town").verified
    assert PoliceStation.objects.get(name="Gulberg").name_ur == "گلبرگ تھانہ"
    imports = AuditEvent.objects.filter(action="catalogue.police_stations_imported")
    assert imports.count() == 2
    assert imports.order_by("pk").last().details["changed"] == ["LHR/Gulberg"]  # type: ignore[union-attr]


def test_a_bad_csv_is_refused_whole_with_every_problem_by_line(people: People) -> None:
    bad = (
        b"district,name,source,verified\n"
        b"LHR,Model Town,Notification,yes\n"
        b"XXX,Nowhere,Notification,no\n"
        b"LHR,,Notification,no\n"
        b"LHR,model town,Notification,perhaps\n"
    )
    with pytest.raises(ValidationError) as refused:
        actions.import_police_stations(people.administrator, bad, reason="Import")
    messages = refused.value.messages
    assert any("Line 3" in m and "XXX" in m for m in messages)
    assert any("Line 4" in m and "name" in m for m in messages)
    assert any("Line 5" in m and "perhaps" in m and "line 2" in m for m in messages)
    assert stations() == set()  # not even line 2
    assert not AuditEvent.objects.filter(action="catalogue.police_stations_imported").exists()


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "empty"),
        ("district,name\nLHR,Caf\xe9\n".encode("latin-1"), "not UTF-8"),
        (b"district,station\nLHR,Gulberg\n", "missing column: name"),
        (b"district,name\nLHR,Gulberg\n", "give the source"),
        (b"district,name,source\n", "names no stations"),
        (b"district,name,source\nLHR,Gulberg\n", "has 2 values"),
    ],
)
def test_unusable_files_get_a_clear_error(people: People, data: bytes, says: str) -> None:
    with pytest.raises(ValidationError) as refused:
        actions.import_police_stations(people.administrator, data, reason="Import")
    assert says in " ".join(refused.value.messages)
    assert stations() == set()


def test_the_import_page_lists_the_problems_and_keeps_nothing(people: People) -> None:
    admin = signed_in(people.administrator)
    url = reverse("catalogue:station_import")
    assert admin.get(url).status_code == 200
    refused = admin.post(
        url,
        {
            "file": SimpleUploadedFile("stations.csv", b"district,name\nXXX,Nowhere\n"),
            "source": "Notification",
            "reason": "Import",
        },
    )
    assert refused.status_code == 200
    assert "Line 2" in refused.content.decode()
    assert stations() == set()
    accepted = admin.post(
        url,
        {
            "file": SimpleUploadedFile("stations.csv", GOOD_CSV),
            "source": "Notification",
            "reason": "Import",
        },
        follow=True,
    )
    assert "3 stations added" in accepted.content.decode()
    assert len(stations()) == 3


def test_the_station_list_is_paginated_and_filtered_by_district(people: People) -> None:
    rows = "".join(f"LHR,Station {n:03d},Notification\n" for n in range(120))
    actions.import_police_stations(
        people.administrator, f"district,name,source\n{rows}KSR,Kasur City,N\n".encode()
    )
    admin = signed_in(people.administrator)
    first = admin.get(reverse("catalogue:station_list"), {"district": "LHR"}).content.decode()
    assert "Station 000" in first
    assert "Station 060" not in first
    assert "Kasur City" not in first
    assert "Page 1 of 3 (120 in all)" in first
    third = admin.get(
        reverse("catalogue:station_list"), {"district": "LHR", "page": "3"}
    ).content.decode()
    assert "Station 119" in third
    assert "district=LHR&amp;page=2" in third


@pytest.mark.parametrize("who", ["lahore_investigator", "lahore_supervisor", "auditor"])
def test_only_administrators_change_stations(people: People, who: str) -> None:
    person = getattr(people, who)
    assert signed_in(person).get(reverse("catalogue:station_list")).status_code == 403
    assert signed_in(person).post(reverse("catalogue:station_import")).status_code == 403
    with pytest.raises(PermissionDenied):
        actions.import_police_stations(person, GOOD_CSV, reason="Import")
    with pytest.raises(PermissionDenied):
        actions.create_police_station(
            person, District.objects.get(code="LHR"), {"name": "X", "source": "Y"}
        )


def test_anyone_signed_in_reads_a_districts_stations_through_the_api(people: People) -> None:
    actions.import_police_stations(people.administrator, GOOD_CSV, source="N")
    body = signed_in(people.kasur_investigator).get(
        "/api/v1/catalogue/police-stations", {"district": "lhr"}
    )
    assert body.status_code == 200
    assert {row["name"] for row in body.json()} == {"Model Town", "Gulberg"}
