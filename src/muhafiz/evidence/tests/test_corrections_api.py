"""Corrections through the API (issue 15, item 5): an item and an entry of its chain of custody
corrected or voided with a reason by the same actions as the pages; the old values stay in the
history and the audit; a person who may not correct gets 403 and changes nothing; bad input is
400 naming the field, with nothing written."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from muhafiz.audit.models import AuditEvent
from muhafiz.cases.models import Case
from muhafiz.evidence import actions
from muhafiz.evidence.models import CustodyEvent, EvidenceItem, EvidenceRevision
from muhafiz.testing import People, signed_in

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


@pytest.fixture
def item(people: People, lahore_case: Case) -> EvidenceItem:
    details = actions.ItemDetails(
        kind="phone",
        seized_at=NOW - dt.timedelta(days=2),
        seized_place="House 12, Model Town",
        seized_by=people.lahore_investigator,
        seal_number="SEAL-LHR-0042",
    )
    return actions.create_item(people.lahore_investigator, lahore_case, details)


@pytest.fixture
def handed(people: People, item: EvidenceItem) -> CustodyEvent:
    """The investigator hands the phone to the forensic examiner a day after the seizure."""
    return actions.record_handover(
        people.lahore_investigator,
        item,
        from_user=people.lahore_investigator,
        to_user=people.forensic_examiner,
        at=NOW - dt.timedelta(days=1),
        purpose="forensic_examination",
        seal_intact=True,
    )


def _state(item: EvidenceItem) -> tuple[Any, ...]:
    fresh = EvidenceItem.objects.get(pk=item.pk)
    chain = list(
        CustodyEvent.objects.filter(item=item).values_list(
            "seq", "at", "from_user", "to_user", "purpose", "note", "voided_at"
        )
    )
    return (
        fresh.seal_number,
        fresh.seized_at,
        fresh.holder_id,
        fresh.voided_at,
        chain,
        EvidenceRevision.objects.count(),
        AuditEvent.objects.filter(action__startswith="evidence.item.").count(),
        AuditEvent.objects.filter(action__startswith="evidence.custody.c").count(),
        AuditEvent.objects.filter(action__startswith="evidence.custody.v").count(),
    )


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, body, content_type="application/json")


def test_the_holder_corrects_an_item_and_its_history_is_kept(
    people: People, item: EvidenceItem
) -> None:
    response = _post(
        signed_in(people.lahore_investigator),
        f"/api/v1/evidence/items/{item.pk}/correct",
        {"seal_number": "SEAL-LHR-0024", "reason": "Digits swapped"},
    )
    assert response.status_code == 200
    assert response.json()["seal_number"] == "SEAL-LHR-0024"
    assert response.json()["seized_place"] == "House 12, Model Town"  # not given: unchanged
    revision = EvidenceRevision.objects.get(item=item)
    assert (revision.action, revision.before, revision.after, revision.reason) == (
        "correct",
        {"seal_number": "SEAL-LHR-0042"},
        {"seal_number": "SEAL-LHR-0024"},
        "Digits swapped",
    )
    audit = AuditEvent.objects.get(action="evidence.item.correct")
    assert audit.reason == "Digits swapped" and audit.actor_name == "inv.lahore"


def test_the_examiner_corrects_and_voids_a_custody_entry_and_voids_the_item(
    people: People, item: EvidenceItem, handed: CustodyEvent
) -> None:
    examiner = signed_in(people.forensic_examiner)
    base = f"/api/v1/evidence/items/{item.pk}"
    corrected = _post(
        examiner,
        f"{base}/custody/2/correct",
        {"note": "Seal checked on receipt", "purpose": "safe_keeping", "reason": "Wrong purpose"},
    )
    assert corrected.status_code == 200, corrected.content
    assert corrected.json()["purpose"] == "safe_keeping"
    assert corrected.json()["note"] == "Seal checked on receipt"
    voided = _post(examiner, f"{base}/custody/2/void", {"reason": "Entered on the wrong item"})
    assert voided.status_code == 200
    assert voided.json()["voided_at"] and voided.json()["void_reason"] == (
        "Entered on the wrong item"
    )
    # The hand-over stays, marked void; the item is back with the investigator.
    assert CustodyEvent.objects.filter(item=item).count() == 2
    item.refresh_from_db()
    assert item.holder == people.lahore_investigator
    history = list(EvidenceRevision.objects.filter(item=item).values_list("action", flat=True))
    assert sorted(history) == ["correct", "void"]
    actions_audited = set(
        AuditEvent.objects.filter(action__startswith="evidence.").values_list("action", flat=True)
    )
    assert {"evidence.custody.correct", "evidence.custody.void"} <= actions_audited
    # The item, back with its holder, voided by him.
    gone = _post(
        signed_in(people.lahore_investigator), f"{base}/void", {"reason": "Recorded twice"}
    )
    assert gone.status_code == 200 and gone.json()["voided_at"]
    assert EvidenceItem.objects.filter(pk=item.pk).exists()  # voided, never deleted


@pytest.mark.parametrize(
    ("person", "status"),
    [
        ("prosecutor", 403),
        ("child_protection_officer", 403),
        ("analyst", 403),
        # Holds EVIDENCE_EDIT on the case but no longer holds the item (handed on).
        ("lahore_investigator", 403),
        # May not know the Lahore case exists: the item is not found.
        ("kasur_investigator", 404),
    ],
)
def test_a_person_who_may_not_correct_is_refused_and_nothing_changes(
    people: People, item: EvidenceItem, handed: CustodyEvent, person: str, status: int
) -> None:
    client = signed_in(getattr(people, person))
    base = f"/api/v1/evidence/items/{item.pk}"
    before = _state(item)
    for url, body in (
        (f"{base}/correct", {"seal_number": "S-9", "reason": "x"}),
        (f"{base}/void", {"reason": "x"}),
        (f"{base}/custody/2/correct", {"note": "x", "reason": "x"}),
        (f"{base}/custody/2/void", {"reason": "x"}),
    ):
        response = _post(client, url, body)
        assert response.status_code == status, (url, response.content)
    assert _state(item) == before


@pytest.mark.parametrize(
    "bad",
    [
        ("correct", {"seal_number": "S-9"}, "reason"),
        ("correct", {"seal_number": "S-9", "reason": ""}, "reason"),
        ("correct", {"seal_number": "S-9", "reason": "   "}, "reason"),
        ("correct", {"kind": "spaceship", "reason": "x"}, "kind"),
        ("correct", {"seized_at": "2020-01-01T10:00:00", "reason": "x"}, "seized_at"),
        ("correct", {"seized_at": "next tuesday", "reason": "x"}, "seized_at"),
        ("correct", {"seized_by": "no.such.person", "reason": "x"}, "seized_by"),
        ("correct", {"seal_number": "S" * 500, "reason": "x"}, "seal_number"),
        ("void", {}, "reason"),
        ("custody/2/correct", {"to_user": "no.such.person", "reason": "x"}, "to_user"),
        ("custody/2/correct", {"at": "2026-13-40T00:00:00+05:00", "reason": "x"}, "at"),
        ("custody/2/void", {"reason": ""}, "reason"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    people: People,
    item: EvidenceItem,
    handed: CustodyEvent,
    bad: tuple[str, dict[str, Any], str],
) -> None:
    path, body, field = bad
    before = _state(item)
    response = _post(
        signed_in(people.forensic_examiner), f"/api/v1/evidence/items/{item.pk}/{path}", body
    )
    assert response.status_code == 400, response.content
    assert field in str(response.json()["error"]["details"])
    assert _state(item) == before


def test_a_change_that_would_break_the_chain_is_refused(
    people: People, item: EvidenceItem, handed: CustodyEvent
) -> None:
    before = _state(item)
    response = _post(
        signed_in(people.forensic_examiner),
        f"/api/v1/evidence/items/{item.pk}/custody/2/correct",
        {"at": (NOW - dt.timedelta(days=5)).isoformat(), "reason": "Typed the wrong day"},
    )
    assert response.status_code == 400
    assert "seizure" in str(response.json()["error"])
    assert _state(item) == before


def test_the_seizure_cannot_be_voided_and_an_unknown_entry_is_not_found(
    people: People, item: EvidenceItem, handed: CustodyEvent
) -> None:
    examiner = signed_in(people.forensic_examiner)
    base = f"/api/v1/evidence/items/{item.pk}/custody"
    seizure = _post(examiner, f"{base}/1/void", {"reason": "x"})
    assert seizure.status_code == 400
    assert _post(examiner, f"{base}/9/void", {"reason": "x"}).status_code == 404
