"""The auditor's page in words (issue 15, item 11): details by their labels and ids by what they
point at, in English and Urdu; filters by person and case; the filtered view as a formula-safe
CSV, itself audited."""

from __future__ import annotations

import csv
import io

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import reverse

from muhafiz.audit.actions import ObjectRef, record
from muhafiz.audit.models import AuditEvent
from muhafiz.audit.words import DETAIL_LABELS
from muhafiz.testing import People, signed_in

pytestmark = pytest.mark.django_db


def _history(people: People) -> None:
    with transaction.atomic():
        record(
            people.lahore_investigator,
            "evidence.item.create",
            ObjectRef("evidence.evidenceitem", "41", "LHR-2026-0007 phone 1"),
            case="LHR-2026-0007",
            seized_by=people.lahore_investigator.pk,
            seal_intact=True,
        )
        record(
            people.prosecutor,
            "victim.identity.view",
            ObjectRef("cases.victim", "3", "V-2026-LHR-0003"),
            reason='=HYPERLINK("http://evil")',
            case="LHR-2026-0007",
        )
        record(people.kasur_investigator, "case.create", ObjectRef("cases.case", "9", "KSR-9"))


def test_details_read_in_words_with_names_not_database_ids(people: People) -> None:
    _history(people)
    client = signed_in(people.auditor)
    html = client.get(reverse("audit:log")).content.decode()
    assert "<dt>seized by</dt>" in html and "<dt>seal intact</dt>" in html
    assert "seized_by" not in html and "seal_intact" not in html
    assert f">{people.lahore_investigator.username}</bdi></dd>" in html
    assert f">{people.lahore_investigator.pk}</bdi></dd>" not in html
    # Object types by name, with the object's reference.
    assert "LHR-2026-0007 phone 1" in html
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    urdu = client.get(reverse("audit:log")).content.decode()
    for words in ("<dt>ضبط کنندہ</dt>", "<dt>مہر سلامت</dt>", "<dt>مقدمہ</dt>", "آڈٹ"):
        assert words in urdu, words
    assert "یہ اندراجات ڈاؤن لوڈ کریں (CSV)" in urdu


def test_every_detail_key_the_platform_writes_has_a_label_in_urdu(people: People) -> None:
    from django.utils.translation import override

    with override(None):
        english = {key: str(label) for key, label in DETAIL_LABELS.items()}
    with override("ur"):
        untranslated = [key for key, label in DETAIL_LABELS.items() if str(label) == english[key]]
    assert untranslated == ["sha256"]  # the same in both languages


def test_the_auditor_follows_one_person_and_one_case(people: People) -> None:
    _history(people)
    client = signed_in(people.auditor)
    by_person = client.get(reverse("audit:log"), {"actor": "pros.lahore"})
    assert [e.action for e in by_person.context["page"]] == ["victim.identity.view"]
    by_case = client.get(reverse("audit:log"), {"case": "lhr-2026-0007"})
    assert [e.action for e in by_case.context["page"]] == [
        "victim.identity.view",
        "evidence.item.create",
    ]


def test_the_filtered_view_downloads_as_safe_csv_and_the_download_is_audited(
    people: People,
) -> None:
    _history(people)
    client = signed_in(people.auditor)
    response = client.get(reverse("audit:export"), {"case": "LHR-2026-0007"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0] == "No." and rows[0][-1] == "Details"
    assert [row[5] for row in rows[1:]] == ["Victim identity read", "Evidence item recorded"]
    assert [row[6] for row in rows[1:]] == ["victim.identity.view", "evidence.item.create"]
    reason = rows[1][9]
    assert reason.startswith("'=")  # a spreadsheet shows it as text, never runs it
    assert f"seized by: {people.lahore_investigator.username}" in rows[2][11]
    exported = AuditEvent.objects.get(action="audit.export")
    assert exported.actor_name == "auditor"
    assert exported.details == {"case": "LHR-2026-0007", "rows": 2}
    # Urdu headings for an Urdu reader.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    urdu = client.get(reverse("audit:export")).content.decode()
    assert urdu.splitlines()[0].startswith("نمبر") or "شخص" in urdu.splitlines()[0]


@pytest.mark.parametrize("who", ["lahore_investigator", "administrator", "analyst"])
def test_only_auditors_download_the_log(people: People, who: str) -> None:
    _history(people)
    response = signed_in(getattr(people, who)).get(reverse("audit:export"))
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="audit.export").exists()


def test_the_fields_inside_a_change_read_by_their_field_names(people: People) -> None:
    """A catalogue edit's details hold {"changed": {"name_ur": [before, after]}}: the field reads
    by its model's name for it in the reader's language, not as its code."""
    from django.utils.translation import override

    from muhafiz.audit.words import in_words

    with transaction.atomic():
        record(
            people.administrator,
            "catalogue.police_station.update",
            ObjectRef("catalogue.policestation", "7", "LHR/Model Town"),
            changed={"name_ur": ["", "ماڈل ٹاؤن"], "made_up_field": [1, 2]},
        )
    event = AuditEvent.objects.get(action="catalogue.police_station.update")
    with override("en"):
        english = in_words([event])[0].details[0].value
    with override("ur"):
        urdu = in_words([event])[0].details[0].value
    assert "name (Urdu): —, ماڈل ٹاؤن" in english
    assert "نام (اردو): —, ماڈل ٹاؤن" in urdu
    assert "name_ur" not in english + urdu
    assert "made up field: 1, 2" in english  # no such field: the key, readable


def test_stage_codes_outcomes_and_moments_read_in_words(people: People) -> None:
    from django.utils.translation import override

    from muhafiz.audit.words import in_words

    with transaction.atomic():
        record(
            people.prosecutor,
            "proceedings.stage.record",
            ObjectRef("cases.case", "9", "LHR-2026-0009"),
            stage="judgment_delivered",
            outcome="conviction",
            occurred_at="2026-10-28T11:24:08.851147+00:00",
        )
    event = AuditEvent.objects.get(action="proceedings.stage.record")
    with override("en"):
        english = {d.label: d.value for d in in_words([event])[0].details}
    with override("ur"):
        urdu = " ".join(d.value for d in in_words([event])[0].details)
    assert english["stage"] == "Judgment delivered"
    assert english["outcome"] == "Conviction"
    assert english["when"] == "2026-10-28 16:24"  # Pakistan time, not the stored ISO text
    assert "judgment_delivered" not in urdu and "conviction" not in urdu


def test_a_case_edit_names_its_agency_station_facts_and_changed_fields(people: People) -> None:
    """A case edit's details hold the case before the edit (ids of its agency and police
    station, its facts as codes) and the list of fields it changed: all read in words."""
    from django.utils.translation import override

    from muhafiz.audit.words import in_words
    from muhafiz.catalogue.models import Agency, District, PoliceStation

    agency = Agency.objects.first()
    assert agency is not None
    station = PoliceStation.objects.get_or_create(
        district=District.objects.get(code="LHR"), name="Model Town"
    )[0]
    with transaction.atomic():
        record(
            people.lahore_investigator,
            "case.update",
            ObjectRef("cases.case", "9", "LHR-2026-0009"),
            before={
                "agency": agency.pk,
                "police_station": station.pk,
                "facts": ["victim_under_18", "material_online"],
            },
            changed=["police_station", "fir_number"],
        )
    event = AuditEvent.objects.get(action="case.update")
    with override("en"):
        english = " ".join(d.value for d in in_words([event])[0].details)
    with override("ur"):
        urdu = " ".join(d.value for d in in_words([event])[0].details)
    assert f"agency: {agency}" in english and f"police station: {station}" in english
    assert "Victim under 18, Material distributed online" in english
    assert "police station, FIR number" in english
    for code in ("victim_under_18", "material_online", "police_station", "fir_number"):
        assert code not in english + urdu, code
    assert f": {agency.pk};" not in english


def test_roles_people_and_languages_read_in_words_not_codes(people: People) -> None:
    """Found by walking the demo as the auditor: every row read "forensic_examiner · PB-PFSA",
    a sign-in's object "user user 4", and a change of language "en, ur"."""
    from muhafiz.accounts.actions import set_preferred_language

    examiner = people.forensic_examiner
    set_preferred_language(examiner, "ur")
    client = signed_in(people.auditor)
    html = client.get(reverse("audit:log"), {"actor": examiner.username}).content.decode()
    assert "<bdi>Forensic examiner</bdi>" in html and "forensic_examiner" not in html
    assert f"team member</span> <bdi>{examiner.username}</bdi>" in html
    assert f"user {examiner.pk}" not in html
    assert '<bdi lang="en">English, اردو</bdi>' in html
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    urdu = client.get(reverse("audit:log"), {"actor": examiner.username}).content.decode()
    assert "<bdi>فرانزک ماہر</bdi>" in urdu
    assert f"ٹیم کا رکن</span> <bdi>{examiner.username}</bdi>" in urdu
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(reverse("audit:export"), {"actor": examiner.username}).content.decode()
            )
        )
    )
    assert rows[1][4] == "فرانزک ماہر" and rows[1][8] == examiner.username
