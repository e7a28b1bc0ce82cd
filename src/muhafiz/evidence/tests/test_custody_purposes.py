"""Custody purposes from a list, in the reader's language (issue 15, item 13): the hand-over form
offers the purposes by name, "Other" takes the officer's own words, and a purpose recorded before
the list (free English text) still reads in Urdu when it is one of the list's."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from muhafiz.cases.models import Case
from muhafiz.evidence import actions
from muhafiz.evidence.models import CustodyEvent, EvidenceItem
from muhafiz.testing import People, signed_in

pytestmark = pytest.mark.django_db


def _item(people: People, case: Case) -> EvidenceItem:
    return actions.create_item(
        people.lahore_investigator,
        case,
        actions.ItemDetails(
            kind="phone",
            seized_at=timezone.now() - dt.timedelta(days=2),
            seized_place="House 12, Model Town",
            seized_by=people.lahore_investigator,
        ),
    )


def _post(client: object, item: EvidenceItem, people: People, **fields: str) -> object:
    when = timezone.localtime(timezone.now() - dt.timedelta(hours=2))
    return client.post(  # type: ignore[attr-defined]
        f"/evidence/items/{item.pk}/",
        {
            "from_user": item.holder_id,
            "to_user": people.forensic_examiner.pk,
            "at": when.strftime("%Y-%m-%dT%H:%M"),
            "seal_intact": "on",
            **fields,
        },
    )


def test_the_form_offers_the_purposes_by_name_in_urdu(people: People, lahore_case: Case) -> None:
    item = _item(people, lahore_case)
    client = signed_in(people.lahore_investigator)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    html = client.get(f"/evidence/items/{item.pk}/").content.decode()
    assert '<option value="forensic_examination">' in html
    assert "فرانزک معائنہ" in html and "عدالت میں پیشی" in html
    # The seizure is the first entry of every chain, not a hand-over's purpose.
    assert '<option value="seizure">' not in html


def test_a_chosen_purpose_is_stored_as_its_code_and_read_in_either_language(
    people: People, lahore_case: Case
) -> None:
    item = _item(people, lahore_case)
    client = signed_in(people.lahore_investigator)
    response = _post(client, item, people, purpose="forensic_examination")
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert CustodyEvent.objects.get(item=item, seq=2).purpose == "forensic_examination"
    examiner = signed_in(people.forensic_examiner)
    assert "Forensic examination" in examiner.get(f"/evidence/items/{item.pk}/").content.decode()
    examiner.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    assert "فرانزک معائنہ" in examiner.get(f"/evidence/items/{item.pk}/").content.decode()
    record = examiner.get(f"/evidence/items/{item.pk}/custody-record/").content.decode()
    assert "فرانزک معائنہ" in record and "forensic_examination" not in record
    api = examiner.get(f"/api/v1/evidence/items/{item.pk}").json()
    assert api["custody"][1]["purpose"] == "forensic_examination"
    assert api["custody"][1]["purpose_label"] == "فرانزک معائنہ"


def test_other_needs_the_officers_words_and_keeps_them(people: People, lahore_case: Case) -> None:
    item = _item(people, lahore_case)
    client = signed_in(people.lahore_investigator)
    refused = _post(client, item, people, purpose="other", purpose_other="  ")
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert "Say what the hand-over is for." in refused.content.decode()  # type: ignore[attr-defined]
    assert CustodyEvent.objects.filter(item=item).count() == 1
    kept = _post(client, item, people, purpose="other", purpose_other="Copy for the JIT")
    assert kept.status_code == 302  # type: ignore[attr-defined]
    assert CustodyEvent.objects.get(item=item, seq=2).purpose == "Copy for the JIT"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    assert "Copy for the JIT" in client.get(f"/evidence/items/{item.pk}/").content.decode()


def test_a_purpose_written_before_the_list_reads_in_urdu_when_it_is_one_of_the_list(
    people: People, lahore_case: Case
) -> None:
    item = _item(people, lahore_case)
    actions.record_handover(
        people.lahore_investigator,
        item,
        from_user=people.lahore_investigator,
        to_user=people.forensic_examiner,
        at=timezone.now() - dt.timedelta(hours=1),
        purpose="Forensic examination",  # free text, as the API and older pages took it
        seal_intact=True,
    )
    client = signed_in(people.forensic_examiner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    html = client.get(f"/evidence/items/{item.pk}/").content.decode()
    assert "فرانزک معائنہ" in html
    assert "ضبطی" in html  # the seizure's stored code "seizure", by name
