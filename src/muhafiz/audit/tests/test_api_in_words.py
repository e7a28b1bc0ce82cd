"""The audit API in the same words as the page and the CSV (issue 15, item 11): beside the raw
fields (kept for machines) each event has `action_label`, `object_type_label` and
`details_in_words`, in the request's language. The corrections of evidence read in words on all
three, English and Urdu, with no raw code in their text."""

from __future__ import annotations

import csv
import io

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import reverse

from muhafiz.audit.actions import ObjectRef, record
from muhafiz.testing import People, make_api_client, signed_in

pytestmark = pytest.mark.django_db

CASE = "LHR-2026-0007"


def _corrections(people: People) -> None:
    examiner = people.forensic_examiner.username
    with transaction.atomic():
        record(
            people.lahore_investigator,
            "evidence.item.correct",
            ObjectRef("evidence.evidenceitem", "41", f"{CASE} phone 1"),
            reason="serial number misread",
            case=CASE,
            before={"serial_number": "SN-1", "seized_by": examiner},
            after={"serial_number": "SN-7", "seized_by": examiner},
        )
        record(
            people.lahore_investigator,
            "evidence.item.correct",
            ObjectRef("evidence.evidenceitem", "43", f"{CASE} laptop 3"),
            reason="wrong kind and time",
            case=CASE,
            before={"kind": "phone", "seized_at": "2026-12-01T05:30:00+00:00"},
            after={"kind": "computer", "seized_at": "2026-12-01T06:00:00+00:00"},
        )
        record(
            people.lahore_investigator,
            "evidence.custody.void",
            ObjectRef("evidence.custodyevent", "5", f"{CASE} phone 1 #2"),
            reason="entered twice",
            item=41,
            seq=2,
        )
        record(
            people.lahore_investigator,
            "evidence.custody.correct",
            ObjectRef("evidence.custodyevent", "6", f"{CASE} phone 1 #3"),
            reason="wrong purpose",
            item=41,
            seq=3,
            before={"purpose": "analysis", "seal_intact": True},
            after={"purpose": "court", "seal_intact": False},
        )
        record(
            people.lahore_investigator,
            "evidence.item.void",
            ObjectRef("evidence.evidenceitem", "42", f"{CASE} disk 2"),
            reason="recorded in error",
            case=CASE,
        )


def _events(client: object, language: str | None = None) -> list[dict]:  # type: ignore[type-arg]
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    response = client.get("/api/v1/audit/events", {"case": CASE}, **headers)  # type: ignore[attr-defined]
    assert response.status_code == 200
    return [e for e in response.json()["items"] if e["action"].startswith("evidence.")]


def test_the_api_gives_the_action_and_details_in_words_beside_the_raw_fields(
    people: People,
) -> None:
    _corrections(people)
    events = _events(signed_in(people.auditor))
    by_action = {e["action"]: e for e in events if e["object_id"] != "43"}
    assert {code: e["action_label"] for code, e in by_action.items()} == {
        "evidence.item.correct": "Evidence item corrected",
        "evidence.item.void": "Evidence item voided",
        "evidence.custody.correct": "Custody entry corrected",
        "evidence.custody.void": "Custody entry voided",
    }
    corrected = by_action["evidence.item.correct"]
    # The raw fields stay for machines.
    assert corrected["details"]["before"] == {
        "serial_number": "SN-1",
        "seized_by": people.forensic_examiner.username,
    }
    assert corrected["object_type"] == "evidence.evidenceitem"
    words = {d["label"]: d["value"] for d in corrected["details_in_words"]}
    assert words["case"] == CASE
    assert sorted(words["before"].split("; ")) == [
        f"seized by: {people.forensic_examiner.username}",
        "serial number: SN-1",
    ]
    assert "serial number: SN-7" in words["after"].split("; ")
    custody = {
        d["label"]: d["value"] for d in by_action["evidence.custody.correct"]["details_in_words"]
    }
    assert custody["entry no."] == "3"
    assert sorted(custody["before"].split("; ")) == ["purpose: analysis", "seal intact: yes"]
    assert sorted(custody["after"].split("; ")) == ["purpose: court", "seal intact: no"]
    assert by_action["evidence.custody.void"]["object_type_label"] != "evidence.custodyevent"


@pytest.mark.parametrize("language", ["en", "ur"])
def test_a_kind_reads_by_its_label_and_a_corrected_time_in_pakistan_time(
    people: People, language: str
) -> None:
    _corrections(people)
    events = _events(signed_in(people.auditor), language)
    laptop = next(e for e in events if e["object_id"] == "43")
    assert laptop["details"]["before"]["kind"] == "phone"  # the code stays for machines
    words = {d["label"]: d["value"] for d in laptop["details_in_words"]}
    expected = {
        "en": ("before", "after", "kind: Mobile phone", "seized at: 2026-12-01 10:30"),
        "ur": ("پہلے", "بعد", "قسم: موبائل فون", "ضبطی کا وقت: 2026-12-01 10:30"),
    }[language]
    before_label, after_label, kind, seized = expected
    # UTC 05:30 is 10:30 in Pakistan; the kind by its label, not its code.
    assert sorted(words[before_label].split("; ")) == sorted([kind, seized])
    assert "11:00" in words[after_label]
    assert "computer" not in words[after_label]


def test_the_api_speaks_urdu_to_an_urdu_request(people: People) -> None:
    _corrections(people)
    events = _events(signed_in(people.auditor), "ur")
    by_action = {e["action"]: e for e in events}
    assert by_action["evidence.item.correct"]["action_label"] == "شہادت کی چیز درست کی گئی"
    assert by_action["evidence.custody.void"]["action_label"] == "تحویل کا اندراج کالعدم کیا گیا"
    labels = [d["label"] for d in by_action["evidence.custody.correct"]["details_in_words"]]
    assert sorted(labels) == sorted(["شہادتی شے", "اندراج نمبر", "پہلے", "بعد"])
    words = {d["label"]: d["value"] for d in by_action["evidence.item.correct"]["details_in_words"]}
    assert words["مقدمہ"] == CASE
    assert "سیریل نمبر: SN-1" in words["پہلے"].split("; ")
    # The codes stay as they are for machines.
    assert by_action["evidence.item.correct"]["details"]["after"]["serial_number"] == "SN-7"


def test_an_api_client_reading_the_log_gets_the_words_too(people: People) -> None:
    _corrections(people)
    _client, token = make_api_client("audit_reader", approved=True)
    from django.test import Client

    response = Client().get(
        "/api/v1/audit/events",
        {"action": "evidence.item"},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200
    labels = sorted(e["action_label"] for e in response.json()["items"])
    assert labels == ["Evidence item corrected", "Evidence item corrected", "Evidence item voided"]


@pytest.mark.parametrize("language", ["en", "ur"])
def test_the_page_and_csv_name_the_corrections_in_words(people: People, language: str) -> None:
    _corrections(people)
    client = signed_in(people.auditor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    html = client.get(reverse("audit:log"), {"case": CASE}).content.decode()
    expected = {
        "en": ("Evidence item corrected", "Custody entry voided", "<dt>before</dt>"),
        "ur": ("شہادت کی چیز درست کی گئی", "تحویل کا اندراج کالعدم کیا گیا", "<dt>پہلے</dt>"),
    }[language]
    for words in expected:
        assert words in html, words
    # The code is a link's target and a data attribute, never the text.
    assert ">evidence.item.correct<" not in html
    assert 'data-action="evidence.item.correct"' in html
    rows = list(csv.reader(io.StringIO(client.get(reverse("audit:export")).content.decode())))
    labels = {row[5] for row in rows[1:]}
    assert expected[0] in labels and expected[1] in labels
    assert "evidence.item.correct" in {row[6] for row in rows[1:]}  # the code column
