"""Corrections without erasing, for evidence (issue 15, item 5): a seized item or an entry of
its chain of custody is corrected or voided with a reason, never deleted; old and new values stay
in the item's history (shown on its page) and in the audit; the chain is checked again after the
change, and a change that would break it is refused with nothing written."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
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
    """Everything a refused correction must leave as it was."""
    fresh = EvidenceItem.objects.get(pk=item.pk)
    chain = list(
        CustodyEvent.objects.filter(item=item).values_list(
            "seq", "at", "from_user", "to_user", "purpose", "voided_at"
        )
    )
    return (
        fresh.seized_at,
        fresh.seal_number,
        fresh.holder_id,
        fresh.voided_at,
        chain,
        EvidenceRevision.objects.count(),
        AuditEvent.objects.filter(action__contains="correct").count(),
        AuditEvent.objects.filter(action__contains="void").count(),
    )


def test_correcting_an_item_keeps_the_old_value_in_its_history_and_the_audit(
    people: People, item: EvidenceItem
) -> None:
    actions.correct_item(
        people.lahore_investigator, item, seal_number="SEAL-LHR-0024", reason="Digits swapped"
    )
    item.refresh_from_db()
    assert item.seal_number == "SEAL-LHR-0024"
    revision = EvidenceRevision.objects.get(item=item)
    assert revision.action == "correct" and revision.custody is None
    assert revision.before == {"seal_number": "SEAL-LHR-0042"}
    assert revision.after == {"seal_number": "SEAL-LHR-0024"}
    assert revision.reason == "Digits swapped"
    assert revision.revised_by == people.lahore_investigator
    audit = AuditEvent.objects.get(action="evidence.item.correct")
    assert audit.details["before"] == {"seal_number": "SEAL-LHR-0042"}
    assert audit.reason == "Digits swapped" or audit.details["reason"] == "Digits swapped"


def test_a_new_seizure_time_moves_the_seizure_entry_and_the_chain_is_checked_again(
    people: People, item: EvidenceItem, handed: CustodyEvent
) -> None:
    earlier = NOW - dt.timedelta(days=3)
    actions.correct_item(
        people.lahore_supervisor, item, seized_at=earlier, reason="Memo of seizure says so"
    )
    assert CustodyEvent.objects.get(item=item, seq=1).at == earlier
    # Moving the seizure after the hand-over to the examiner would break the chain: refused.
    before = _state(item)
    with pytest.raises(ValidationError) as refused:
        actions.correct_item(
            people.lahore_supervisor,
            item,
            seized_at=NOW - dt.timedelta(hours=2),
            reason="Wrong",
        )
    assert "before the seizure" in str(refused.value)
    assert _state(item) == before


def test_a_hand_over_moved_before_the_seizure_is_refused_and_nothing_is_written(
    people: People, item: EvidenceItem, handed: CustodyEvent
) -> None:
    before = _state(item)
    with pytest.raises(ValidationError) as refused:
        actions.correct_custody(
            people.forensic_examiner,
            handed,
            at=NOW - dt.timedelta(days=5),
            reason="Typed the wrong day",
        )
    assert "before the seizure" in str(refused.value)
    assert _state(item) == before


def test_a_hand_over_by_someone_who_did_not_hold_the_item_is_refused(
    people: People, item: EvidenceItem, handed: CustodyEvent
) -> None:
    before = _state(item)
    with pytest.raises(ValidationError) as refused:
        actions.correct_custody(
            people.forensic_examiner,
            handed,
            from_user=people.lahore_supervisor,  # the supervisor never held it
            reason="Who handed it over",
        )
    assert "did not hold the item" in str(refused.value)
    assert _state(item) == before


def test_voiding_a_hand_over_gives_the_item_back_to_the_previous_holder(
    people: People, item: EvidenceItem, handed: CustodyEvent
) -> None:
    assert EvidenceItem.objects.get(pk=item.pk).holder == people.forensic_examiner
    actions.void_custody(people.forensic_examiner, handed, reason="Recorded on the wrong item")
    handed.refresh_from_db()
    assert handed.voided_at is not None and handed.void_reason == "Recorded on the wrong item"
    assert CustodyEvent.objects.filter(item=item).count() == 2  # kept, never deleted
    assert EvidenceItem.objects.get(pk=item.pk).holder == people.lahore_investigator
    assert AuditEvent.objects.filter(action="evidence.custody.void").count() == 1
    revision = EvidenceRevision.objects.get(custody=handed)
    assert (revision.action == "void" and revision.before["to_user"] == "forensic.punjab") or (
        revision.before["to_user"] == people.forensic_examiner.username
    )
    # The investigator, who holds it again, can hand it on; the next entry follows the chain.
    item.refresh_from_db()
    nxt = actions.record_handover(
        people.lahore_investigator,
        item,
        from_user=people.lahore_investigator,
        to_user=people.forensic_examiner,
        at=NOW - dt.timedelta(hours=1),
        purpose="forensic_examination",
        seal_intact=True,
    )
    assert nxt.seq == 3
    # The API shows the voided entry, marked, beside the standing ones.
    body = signed_in(people.prosecutor).get(f"/api/v1/evidence/items/{item.pk}").json()
    assert [e["voided_at"] is not None for e in body["custody"]] == [False, True, False]
    assert body["custody"][1]["void_reason"] == "Recorded on the wrong item"


def test_a_hand_over_others_follow_from_cannot_be_voided(
    people: People, item: EvidenceItem, handed: CustodyEvent
) -> None:
    actions.record_handover(
        people.forensic_examiner,
        EvidenceItem.objects.get(pk=item.pk),
        from_user=people.forensic_examiner,
        to_user=people.lahore_investigator,
        at=NOW - dt.timedelta(hours=3),
        purpose="return_to_investigator",
        seal_intact=True,
    )
    before = _state(item)
    with pytest.raises(ValidationError) as refused:
        actions.void_custody(people.lahore_investigator, handed, reason="Never happened")
    assert "did not hold the item" in str(refused.value)
    assert _state(item) == before


def test_the_seizure_cannot_be_voided_but_the_item_can(people: People, item: EvidenceItem) -> None:
    seizure = CustodyEvent.objects.get(item=item, seq=1)
    with pytest.raises(ValidationError):
        actions.void_custody(people.lahore_investigator, seizure, reason="Wrong")
    actions.void_item(people.lahore_investigator, item, reason="Entered twice")
    item.refresh_from_db()
    assert item.voided_at is not None and EvidenceItem.objects.filter(pk=item.pk).exists()
    assert AuditEvent.objects.filter(action="evidence.item.void").count() == 1
    with pytest.raises(ValidationError):  # a voided item takes no more changes
        actions.correct_item(people.lahore_investigator, item, seal_number="X", reason="x")


def test_a_seizure_corrected_to_years_before_the_report_must_be_confirmed(
    people: People, item: EvidenceItem
) -> None:
    long_ago = NOW - dt.timedelta(days=3 * 365)
    before = _state(item)
    with pytest.raises(ValidationError) as refused:
        actions.correct_item(people.lahore_investigator, item, seized_at=long_ago, reason="Memo")
    assert "confirmed" in refused.value.message_dict
    assert _state(item) == before
    actions.correct_item(
        people.lahore_investigator, item, seized_at=long_ago, reason="Memo", confirmed=True
    )
    assert EvidenceItem.objects.get(pk=item.pk).seized_at == long_ago


def test_a_correction_needs_a_reason_and_a_change(people: People, item: EvidenceItem) -> None:
    before = _state(item)
    with pytest.raises(ValidationError):
        actions.correct_item(people.lahore_investigator, item, seal_number="S-1", reason=" ")
    with pytest.raises(ValidationError):
        actions.correct_item(
            people.lahore_investigator, item, seal_number="SEAL-LHR-0042", reason="Same"
        )
    assert _state(item) == before


@pytest.mark.parametrize(
    "person", ["prosecutor", "child_protection_officer", "kasur_investigator", "analyst"]
)
def test_people_who_neither_hold_nor_oversee_nor_examine_cannot_correct(
    people: People, item: EvidenceItem, handed: CustodyEvent, person: str
) -> None:
    actor = getattr(people, person)
    before = _state(item)
    for attempt in (
        lambda: actions.correct_item(actor, item, seal_number="S-9", reason="x"),
        lambda: actions.void_item(actor, item, reason="x"),
        lambda: actions.correct_custody(actor, handed, note="x", reason="x"),
        lambda: actions.void_custody(actor, handed, reason="x"),
    ):
        with pytest.raises(PermissionDenied):
            attempt()
    assert _state(item) == before


def test_the_investigator_who_no_longer_holds_the_item_cannot_correct_it(
    people: People, item: EvidenceItem, handed: CustodyEvent
) -> None:
    item.refresh_from_db()
    with pytest.raises(PermissionDenied):
        actions.correct_item(people.lahore_investigator, item, seal_number="S-2", reason="x")


def test_the_item_page_shows_the_history_and_corrects_through_its_forms(
    people: People, item: EvidenceItem, handed: CustodyEvent
) -> None:
    examiner = signed_in(people.forensic_examiner)
    page = examiner.get(f"/evidence/items/{item.pk}/").content.decode()
    assert 'id="correct-item-link"' in page
    when = timezone.localtime(NOW - dt.timedelta(hours=20)).strftime("%Y-%m-%dT%H:%M")
    response = examiner.post(
        f"/evidence/items/{item.pk}/custody/{handed.seq}/",
        {
            "at": when,
            "from_user": people.lahore_investigator.pk,
            "to_user": people.forensic_examiner.pk,
            "purpose": "forensic_examination",
            "seal_intact": "on",
            "reason": "Lab register time",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    page = examiner.get(f"/evidence/items/{item.pk}/").content.decode()
    history = page.split('id="item-history"')[1]
    assert "Lab register time" in history
    old = timezone.localtime(handed.at).strftime("%Y-%m-%d %H:%M")
    assert old in history and when.replace("T", " ") in history  # Pakistan time, not UTC
    # Refused on the page: a hand-over before the seizure; nothing changes.
    before = _state(item)
    early = timezone.localtime(NOW - dt.timedelta(days=9)).strftime("%Y-%m-%dT%H:%M")
    response = examiner.post(
        f"/evidence/items/{item.pk}/custody/{handed.seq}/",
        {
            "at": early,
            "from_user": people.lahore_investigator.pk,
            "to_user": people.forensic_examiner.pk,
            "purpose": "forensic_examination",
            "seal_intact": "on",
            "reason": "x",
        },
    )
    assert response.status_code == 400
    assert "before the seizure" in response.content.decode()
    assert _state(item) == before
    # The prosecutor reads the history but gets no correction form, and a post is refused.
    prosecutor = signed_in(people.prosecutor)
    assert (
        'id="correct-item-link"'
        not in prosecutor.get(f"/evidence/items/{item.pk}/").content.decode()
    )
    refused = prosecutor.post(
        f"/evidence/items/{item.pk}/correct/",
        {
            "form": "correct",
            "kind": "phone",
            "seal_number": "SEAL-0",
            "seized_at": timezone.localtime(item.seized_at).strftime("%Y-%m-%dT%H:%M"),
            "seized_place": item.seized_place,
            "seized_by": people.lahore_investigator.pk,
            "reason": "x",
        },
    )
    assert refused.status_code == 403
    assert _state(item) == before
