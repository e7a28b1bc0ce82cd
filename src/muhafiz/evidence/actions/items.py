"""Seized items and their chain of custody: recorded, and handed over by the holder to someone
who may hold them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from muhafiz.audit.actions import record
from muhafiz.cases.actions import refuse_victim_identity
from muhafiz.cases.models import Case
from muhafiz.core.permissions import (
    Perm,
    check_perm,
    same_principal,
    user_pk,
)
from muhafiz.evidence.actions._common import _check_open, _not_future, _text, _user_or_none
from muhafiz.evidence.models import (
    CustodyEvent,
    EvidenceItem,
    EvidenceKind,
)
from muhafiz.evidence.selectors import may_hold, may_record_handover

# --- items and custody --------------------------------------------------------------------------


@dataclass
class ItemDetails:
    kind: str
    seized_at: dt.datetime
    seized_place: str
    seized_by: Any
    description: str = ""
    make_model: str = ""
    serial_number: str = ""
    seal_number: str = ""
    # A seizure long before the report looks like a slip in the year: refused until confirmed.
    confirmed: bool = False


# A seizure more than this long before the case's report is asked to be confirmed.
SEIZURE_BEFORE_REPORT = dt.timedelta(days=365)


def _check_plausible_seizure(case: Case, details: ItemDetails) -> None:
    if details.confirmed or details.seized_at >= case.reported_at - SEIZURE_BEFORE_REPORT:
        return
    raise ValidationError(
        {
            "confirmed": _(
                "This item was seized more than a year before the report was received "
                "(%(when)s). Check the date, or confirm that it is right."
            )
            % {"when": timezone.localtime(case.reported_at).strftime("%Y-%m-%d")}
        },
        code="implausible",
    )


def create_item(
    actor: Any, case: Case, details: ItemDetails, *, request: HttpRequest | None = None
) -> EvidenceItem:
    """Record a seized item (E1, E2, … in the case); its seizure is the first custody entry."""
    check_perm(actor, Perm.EVIDENCE_EDIT, case)
    _check_open(case)
    if details.kind not in EvidenceKind.values:
        raise ValidationError({"kind": _("Unknown kind of evidence.")})
    fields = {
        "description": _text(details.description, "description", EvidenceItem),
        "make_model": _text(details.make_model, "make_model", EvidenceItem),
        "serial_number": _text(details.serial_number, "serial_number", EvidenceItem),
        "seal_number": _text(details.seal_number, "seal_number", EvidenceItem),
        "seized_place": _text(details.seized_place, "seized_place", EvidenceItem, required=True),
    }
    refuse_victim_identity(
        case,
        description=fields["description"],
        make_model=fields["make_model"],
        seized_place=fields["seized_place"],
    )
    if details.seized_by is None or not getattr(details.seized_by, "is_active", False):
        raise ValidationError({"seized_by": _("Name the officer who seized it.")})
    _not_future(details.seized_at, "seized_at")
    _check_plausible_seizure(case, details)
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=case.pk).first()
        count = EvidenceItem.objects.filter(case=case).count()
        item = EvidenceItem.objects.create(
            case=case,
            label=f"E{count + 1}",
            kind=details.kind,
            seized_at=details.seized_at,
            seized_by=details.seized_by,
            holder=details.seized_by,
            created_by=_user_or_none(actor),
            **fields,
        )
        CustodyEvent.objects.create(
            item=item,
            seq=1,
            from_user=None,
            to_user=details.seized_by,
            at=details.seized_at,
            purpose="seizure",
            seal_intact=bool(fields["seal_number"]),
            recorded_by=_user_or_none(actor),
        )
        record(
            actor,
            "evidence.item.create",
            item,
            request=request,
            case=case.reference,
            kind=item.kind,
            seized_by=details.seized_by.pk,
        )
    return item


RECIPIENT_REFUSED = _lazy("This person cannot receive this item.")


def record_handover(
    actor: Any,
    item: EvidenceItem,
    *,
    from_user: Any,
    to_user: Any,
    at: dt.datetime,
    purpose: str,
    seal_intact: bool,
    note: str = "",
    request: HttpRequest | None = None,
) -> CustodyEvent:
    """Append one hand-over to the item's chain of custody; impossible sequences are refused.

    Recorded by the holder (or a supervisor overseeing the case), to someone who may hold the
    item (`may_hold`). A refused recipient gets the same answer whoever they are.
    """
    if not may_record_handover(actor, item):
        raise PermissionDenied("custody.handover")
    purpose = _text(purpose, "purpose", CustodyEvent, required=True)
    note = _text(note, "note", CustodyEvent)
    refuse_victim_identity(item.case, purpose=purpose, note=note)
    _not_future(at, "at")
    if to_user is None or not may_hold(to_user, item.case):
        raise ValidationError({"to_user": str(RECIPIENT_REFUSED)})
    if from_user is not None and same_principal(to_user, from_user):
        raise ValidationError({"to_user": _("An item cannot be handed to the person who has it.")})
    with transaction.atomic():
        locked = EvidenceItem.objects.select_for_update().get(pk=item.pk)
        if locked.voided_at is not None:
            raise ValidationError(_("This item is voided; it can no longer be changed."))
        chain = CustodyEvent.objects.filter(item=locked).order_by("-seq")
        seq = (chain.values_list("seq", flat=True).first() or 0) + 1
        last = chain.filter(voided_at__isnull=True).first()  # a voided entry no longer counts
        if at < locked.seized_at:
            raise ValidationError({"at": _("A hand-over cannot come before the seizure.")})
        if last is not None and at < last.at:
            raise ValidationError(
                {"at": _("A hand-over cannot come before the previous hand-over.")}
            )
        if from_user is None or user_pk(from_user) != locked.holder_id:
            raise ValidationError(
                {"from_user": _("Only the person who holds the item can hand it over.")}
            )
        if locked.holder_id != item.holder_id:  # handed on meanwhile: decide again
            item.holder_id = locked.holder_id
            if not may_record_handover(actor, item):
                raise PermissionDenied("custody.handover")
        event = CustodyEvent.objects.create(
            item=locked,
            seq=seq,
            from_user=from_user,
            to_user=to_user,
            at=at,
            purpose=purpose,
            seal_intact=seal_intact,
            note=note,
            recorded_by=_user_or_none(actor),
        )
        locked.holder = to_user
        locked.save(update_fields=["holder"])
        record(
            actor,
            "evidence.custody.handover",
            event,
            request=request,
            item=locked.pk,
            seq=event.seq,
            from_user=from_user.pk,
            to_user=to_user.pk,
            seal_intact=seal_intact,
        )
    item.holder = to_user
    return event
