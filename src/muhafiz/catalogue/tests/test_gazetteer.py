"""The gazetteer (place names in CyberTipline referrals → districts) is an administrators'
table: seeded from the shipped fixture, edited on pages and imported from CSV all or nothing,
every change audited; referrals are routed by it."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from muhafiz.audit.models import AuditEvent
from muhafiz.catalogue import actions
from muhafiz.catalogue.gazetteer import Gazetteer
from muhafiz.catalogue.models import District, GazetteerPlace
from muhafiz.catalogue.shipped import install_shipped_catalogue, read_fixture
from muhafiz.testing import People, signed_in


@pytest.fixture(autouse=True)
def _catalogue(db: None) -> None:
    install_shipped_catalogue()


def _route(city: str) -> str | None:
    found = Gazetteer.load().district_for(city)
    return None if found is None else District.objects.get(pk=found).code


def test_the_shipped_places_seed_the_table_once_and_route(people: People) -> None:
    shipped = read_fixture("gazetteer")["places"]
    assert GazetteerPlace.objects.count() == len(shipped)
    assert _route("Pindi") == "RWP" and _route("LYALLPUR") == "FSD"
    assert _route("Karachi") is None  # five districts: left for a person
    # A second install adds nothing and keeps an administrator's deactivation.
    place = GazetteerPlace.objects.get(key="pindi")
    actions.update_gazetteer_place(people.administrator, place, {"active": False})
    assert install_shipped_catalogue().added["gazetteer places"] == 0
    assert _route("Pindi") is None


def test_the_administrator_adds_and_reroutes_a_place_on_its_pages(people: People) -> None:
    admin = signed_in(people.administrator)
    lahore, kasur = District.objects.get(code="LHR"), District.objects.get(code="KSR")
    response = admin.post(
        reverse("catalogue:place_create"),
        {
            "name": "Raiwind",
            "district": lahore.pk,
            "source": "NCCIA desk list",
            "active": "on",
            "reason": "Referrals name the town",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    place = GazetteerPlace.objects.get(key="raiwind")
    assert _route("raiwind") == "LHR"
    created = AuditEvent.objects.get(action="catalogue.gazetteer_place_created")
    assert created.details["code"] == "Raiwind" and created.reason == "Referrals name the town"
    assert "Raiwind" in admin.get(reverse("catalogue:place_list"), {"q": "raiw"}).content.decode()
    response = admin.post(
        reverse("catalogue:place_edit", args=[place.pk]),
        {
            "name": "Changed",  # the key: disabled on the form, ignored
            "district": kasur.pk,
            "source": "NCCIA desk list",
            "active": "on",
            "reason": "It is on the Kasur side",
        },
    )
    assert response.status_code == 302
    assert _route("Raiwind") == "KSR" and GazetteerPlace.objects.get(pk=place.pk).name == "Raiwind"
    changed = AuditEvent.objects.get(action="catalogue.gazetteer_place_changed")
    assert changed.details["changed"] == {"district": ["LHR", "KSR"]}
    # The same name again, spelt differently, is refused with a clear message.
    again = admin.post(
        reverse("catalogue:place_create"),
        {"name": "RAIWIND.", "district": lahore.pk, "source": "x", "reason": "again"},
    )
    assert again.status_code == 200 and GazetteerPlace.objects.filter(key="raiwind").count() == 1


def test_a_csv_with_bad_lines_imports_nothing_and_names_every_line(people: People) -> None:
    before = set(GazetteerPlace.objects.values_list("key", "district__code", "active"))
    bad = (
        b"name,district,source,active\n"
        b"Raiwind,LHR,NCCIA list,yes\n"
        b",LHR,NCCIA list,yes\n"
        b"Chunian,XXX,NCCIA list,yes\n"
        b"raiwind,KSR,NCCIA list,maybe\n"
    )
    with pytest.raises(ValidationError) as refused:
        actions.import_gazetteer_places(people.administrator, bad, reason="bulk")
    text = " ".join(refused.value.messages)
    assert "Line 3: give the place's name" in text
    assert "Line 4: no district has the code “XXX”" in text
    assert "Line 5: the same place as line 2; active is “maybe”" in text
    assert set(GazetteerPlace.objects.values_list("key", "district__code", "active")) == before
    assert not AuditEvent.objects.filter(action="catalogue.gazetteer_imported").exists()


def test_a_good_csv_adds_and_changes_places_through_the_page(people: People) -> None:
    admin = signed_in(people.administrator)
    good = b"name,district,active\nRaiwind,LHR,yes\nPindi,RWP,no\nQasur,KSR,yes\n"
    response = admin.post(
        reverse("catalogue:place_import"),
        {
            "file": SimpleUploadedFile("places.csv", good, content_type="text/csv"),
            "source": "NCCIA desk list 2026",
            "reason": "Yearly review",
        },
    )
    assert response.status_code == 302
    assert _route("Raiwind") == "LHR" and _route("Pindi") is None
    event = AuditEvent.objects.get(action="catalogue.gazetteer_imported")
    assert event.details["added"] == ["Raiwind"]
    # Pindi deactivated; Qasur's source is now the form's default.
    assert event.details["changed"] == ["pindi", "qasur"] and event.details["unchanged"] == 0


def test_only_an_administrator_edits_the_gazetteer(people: People) -> None:
    with pytest.raises(PermissionDenied):
        actions.import_gazetteer_places(
            people.lahore_investigator, b"name,district,source\nA,LHR,x\n"
        )
    for name in ("place_list", "place_create", "place_import"):
        assert (
            signed_in(people.lahore_investigator).get(reverse(f"catalogue:{name}")).status_code
            == 403
        )


@pytest.mark.parametrize("existing", [False, True], ids=["new place", "existing place"])
def test_a_row_the_model_refuses_is_named_by_its_line_and_nothing_is_written(
    people: People, existing: bool
) -> None:
    """Both imports share one add-or-update loop (`actions._upsert_rows`), which cleans every
    added or changed row and names the line of each one refused. Before, the gazetteer cut an
    over-long source to fit and let a model error out without its line."""
    if existing:
        actions.import_gazetteer_places(
            people.administrator, b"name,district,source\nRaiwind,LHR,NCCIA list\n"
        )
    before = set(GazetteerPlace.objects.values_list("key", "district__code", "source"))
    audits = AuditEvent.objects.filter(action="catalogue.gazetteer_imported").count()
    too_long = "s" * 301
    bad = (f"name,district,source\nQasur,KSR,NCCIA list\nRaiwind,LHR,{too_long}\n").encode()
    with pytest.raises(ValidationError) as refused:
        actions.import_gazetteer_places(people.administrator, bad, reason="bulk")
    text = " ".join(refused.value.messages)
    assert "Line 3:" in text
    assert "300 characters" in text
    assert set(GazetteerPlace.objects.values_list("key", "district__code", "source")) == before
    assert AuditEvent.objects.filter(action="catalogue.gazetteer_imported").count() == audits
