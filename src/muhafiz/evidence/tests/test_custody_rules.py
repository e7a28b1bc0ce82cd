"""Custody hand-overs: recorded by the holder (or a supervisor overseeing the case), to someone
whose role and jurisdiction may hold the item; an unknown recipient gets the same answer as a
refused one."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from muhafiz.accounts.models import User
from muhafiz.accounts.roles import Role
from muhafiz.cases.models import Case
from muhafiz.evidence import actions
from muhafiz.evidence.models import CustodyEvent, EvidenceItem
from muhafiz.testing import People, make_user, signed_in

pytestmark = pytest.mark.django_db

NOW = timezone.now()
VIA = ["page", "api"]


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


def _hand_over(actor: Any, item: EvidenceItem, to_user: User, **extra: Any) -> Any:
    return actions.record_handover(
        actor,
        item,
        from_user=extra.pop("from_user", item.holder),
        to_user=to_user,
        at=NOW - dt.timedelta(days=1),
        purpose="examination at the forensic lab",
        seal_intact=True,
        **extra,
    )


def _post(client: Any, item: EvidenceItem, to_user: str, via: str) -> Any:
    when = NOW - dt.timedelta(days=1)
    if via == "page":
        recipient = User.objects.filter(username=to_user).first()
        return client.post(
            f"/evidence/items/{item.pk}/",
            {
                "from_user": item.holder_id,
                "to_user": recipient.pk if recipient else 999999,
                "at": timezone.localtime(when).strftime("%Y-%m-%dT%H:%M"),
                "purpose": "forensic_examination",
                "seal_intact": "on",
            },
        )
    return client.post(
        f"/api/v1/evidence/items/{item.pk}/custody",
        {
            "from_user": item.holder.username,
            "to_user": to_user,
            "at": when.isoformat(),
            "purpose": "examination",
            "seal_intact": True,
        },
        content_type="application/json",
    )


@pytest.mark.parametrize("via", VIA)
def test_a_team_member_who_does_not_hold_the_item_cannot_record_its_hand_over(
    people: People, item: EvidenceItem, via: str
) -> None:
    # The forensic examiner is on the team and edits evidence, but does not hold E1.
    with pytest.raises(PermissionDenied):
        _hand_over(people.forensic_examiner, item, people.prosecutor)
    response = _post(signed_in(people.forensic_examiner), item, people.prosecutor.username, via)
    assert response.status_code == 403
    assert CustodyEvent.objects.filter(item=item).count() == 1
    item.refresh_from_db()
    assert item.holder == people.lahore_investigator


@pytest.mark.parametrize(
    "recipient", ["analyst", "child_protection_officer", "kasur_investigator", "administrator"]
)
def test_an_item_goes_only_to_someone_whose_role_and_district_may_hold_it(
    people: People, item: EvidenceItem, recipient: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        _hand_over(people.lahore_investigator, item, getattr(people, recipient))
    assert refused.value.message_dict == {"to_user": ["This person cannot receive this item."]}
    assert CustodyEvent.objects.filter(item=item).count() == 1


def test_the_holder_hands_over_and_a_supervisor_may_record_it_for_them(
    people: People, item: EvidenceItem
) -> None:
    _hand_over(people.lahore_investigator, item, people.forensic_examiner)
    item.refresh_from_db()
    assert item.holder == people.forensic_examiner
    # The examiner, now holding it, hands it back; the supervisor records another one.
    actions.record_handover(
        people.forensic_examiner,
        item,
        from_user=people.forensic_examiner,
        to_user=people.lahore_investigator,
        at=NOW - dt.timedelta(hours=20),
        purpose="returned after examination",
        seal_intact=True,
    )
    actions.record_handover(
        people.lahore_supervisor,
        item,
        from_user=people.lahore_investigator,
        to_user=people.prosecutor,
        at=NOW - dt.timedelta(hours=10),
        purpose="produced in court",
        seal_intact=True,
    )
    assert CustodyEvent.objects.filter(item=item).count() == 4


def test_a_supervisor_of_another_district_does_not_record_hand_overs(
    people: People, item: EvidenceItem
) -> None:
    kasur_supervisor = make_user("sup.kasur", Role.SUPERVISOR, district_code="KSR")
    with pytest.raises(PermissionDenied):
        _hand_over(kasur_supervisor, item, people.forensic_examiner)


def test_an_unknown_recipient_is_answered_like_a_refused_one(
    people: People, item: EvidenceItem
) -> None:
    client = signed_in(people.lahore_investigator)
    unknown = _post(client, item, "no.such.person.anywhere", "api")
    refused = _post(client, item, people.analyst.username, "api")
    assert unknown.status_code == refused.status_code == 400
    assert unknown.json() == refused.json()
    assert "no.such.person.anywhere" not in unknown.content.decode()
    assert CustodyEvent.objects.filter(item=item).count() == 1


def test_the_page_offers_only_people_who_may_hold_the_item(
    people: People, item: EvidenceItem
) -> None:
    form = signed_in(people.lahore_investigator).get(f"/evidence/items/{item.pk}/")
    choices = {u.username for u in form.context["form"].fields["to_user"].queryset}
    assert choices == {people.prosecutor.username, people.forensic_examiner.username}
