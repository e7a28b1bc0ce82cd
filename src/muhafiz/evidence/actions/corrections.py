"""Correcting a seized item or an entry of its chain of custody, or voiding one recorded in
error, with a reason. Nothing is deleted: the old values stay in `EvidenceRevision` and the
audit. After every change the whole standing chain must still hold — the seizure first, each
hand-over no earlier than the one before, handed on only by the person who then held the item —
or the change is refused and nothing is written. The item's holder follows the chain.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from muhafiz.audit.actions import record
from muhafiz.cases.actions import refuse_victim_identity
from muhafiz.core.permissions import Perm, check_perm, user_pk
from muhafiz.evidence.actions._common import _check_open, _not_future, _text, _user_or_none
from muhafiz.evidence.actions.items import ItemDetails, _check_plausible_seizure
from muhafiz.evidence.models import CustodyEvent, EvidenceItem, EvidenceKind, EvidenceRevision
from muhafiz.evidence.selectors import may_correct_evidence, may_hold

UNCHANGED: Any = object()  # an argument not given: the value stays
ITEM_TEXT = ("description", "make_model", "serial_number", "seal_number", "seized_place")
ITEM_FIELDS = ("kind", *ITEM_TEXT, "seized_at", "seized_by")
CUSTODY_FIELDS = ("at", "from_user", "to_user", "purpose", "seal_intact", "note")


def _check_may_correct(actor: Any, item: EvidenceItem) -> None:
    check_perm(actor, Perm.EVIDENCE_EDIT, item.case)
    if not may_correct_evidence(actor, item):
        raise PermissionDenied("evidence.correct")


def _reason(reason: str, item: EvidenceItem) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why this is corrected.")]})
    refuse_victim_identity(item.case, reason=reason)
    return _text(reason, "reason", EvidenceRevision)


def _value(value: Any) -> Any:
    """A field's value as the history keeps it: times as ISO text, people by user name."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if hasattr(value, "get_username"):
        return value.get_username()
    return value if value is not None else ""


def _snapshot(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: _value(getattr(obj, name)) for name in fields}


def _changed(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [name for name in before if before[name] != after[name]]


def _check_chain(item: EvidenceItem, entries: list[CustodyEvent]) -> Any:
    """Refuse (ValidationError) a chain that cannot be; the holder at its end otherwise.
    `entries` are the item's custody entries with the change applied, in order."""
    standing = [e for e in entries if e.voided_at is None]
    if not standing or standing[0].seq != 1:
        raise ValidationError(_("The seizure cannot be voided; void the item instead."))
    previous = standing[0]
    if previous.from_user_id is not None or previous.to_user_id != item.seized_by_id:
        raise ValidationError({"to_user": [_("The seizure is by the officer who seized it.")]})
    for entry in standing[1:]:
        when = timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M")
        if entry.at < item.seized_at:
            raise ValidationError(
                {"at": [_("Hand-over %(n)d would come before the seizure.") % {"n": entry.seq}]}
            )
        if entry.at < previous.at:
            raise ValidationError(
                {
                    "at": [
                        _("Hand-over %(n)d (%(when)s) would come before the one before it.")
                        % {"n": entry.seq, "when": when}
                    ]
                }
            )
        if entry.from_user_id != previous.to_user_id:
            raise ValidationError(
                {
                    "from_user": [
                        _(
                            "Hand-over %(n)d would be by someone who did not hold the item then "
                            "(it was with the recipient of entry %(m)d). Correct or void the "
                            "later entries first."
                        )
                        % {"n": entry.seq, "m": previous.seq}
                    ]
                }
            )
        if entry.to_user_id == entry.from_user_id:
            raise ValidationError(
                {"to_user": [_("An item cannot be handed to the person who has it.")]}
            )
        previous = entry
    return previous.to_user


def _write_revision(
    actor: Any,
    item: EvidenceItem,
    custody: CustodyEvent | None,
    *,
    action: str,
    changes: tuple[dict[str, Any], dict[str, Any]],
    reason: str,
) -> EvidenceRevision:
    return EvidenceRevision.objects.create(
        item=item,
        custody=custody,
        action=action,
        before=changes[0],
        after=changes[1],
        reason=reason,
        revised_by=_user_or_none(actor),
    )


def _set_holder(item: EvidenceItem, holder: Any) -> None:
    if user_pk(holder) != item.holder_id:
        item.holder = holder
        item.save(update_fields=["holder"])


@transaction.atomic
def correct_item(
    actor: Any,
    item: EvidenceItem,
    *,
    reason: str,
    kind: str = UNCHANGED,
    description: str = UNCHANGED,
    make_model: str = UNCHANGED,
    serial_number: str = UNCHANGED,
    seal_number: str = UNCHANGED,
    seized_at: dt.datetime = UNCHANGED,
    seized_place: str = UNCHANGED,
    seized_by: Any = UNCHANGED,
    confirmed: bool = False,
    request: HttpRequest | None = None,
) -> EvidenceItem:
    """Correct what is recorded of a seized item (only the arguments given change), with a
    reason. A new seizure time or officer moves the seizure entry with it, and the chain must
    still hold; a seizure long before the report must be confirmed."""
    check_perm(actor, Perm.EVIDENCE_EDIT, item.case)
    item = EvidenceItem.objects.select_for_update().select_related("case").get(pk=item.pk)
    _check_may_correct(actor, item)  # as the item stands now (its holder may have changed)
    _check_open(item.case)
    if item.voided_at is not None:
        raise ValidationError(_("This item is voided; it can no longer be changed."))
    reason = _reason(reason, item)
    before = _snapshot(item, ITEM_FIELDS)
    if kind is not UNCHANGED:
        if kind not in EvidenceKind.values:
            raise ValidationError({"kind": [_("Unknown kind of evidence.")]})
        item.kind = kind
    given = {
        "description": description,
        "make_model": make_model,
        "serial_number": serial_number,
        "seal_number": seal_number,
        "seized_place": seized_place,
    }
    for name, value in given.items():
        if value is not UNCHANGED:
            setattr(item, name, _text(value, name, EvidenceItem, required=name == "seized_place"))
    refuse_victim_identity(
        item.case,
        description=item.description,
        make_model=item.make_model,
        seized_place=item.seized_place,
    )
    if seized_at is not UNCHANGED:
        if timezone.is_naive(seized_at):
            raise ValidationError({"seized_at": [_("Give the time with its time zone.")]})
        _not_future(seized_at, "seized_at")
        item.seized_at = seized_at
    if seized_by is not UNCHANGED:
        if seized_by is None or not getattr(seized_by, "is_active", False):
            raise ValidationError({"seized_by": [_("Name the officer who seized it.")]})
        item.seized_by = seized_by
    after = _snapshot(item, ITEM_FIELDS)
    fields = _changed(before, after)
    if not fields:
        raise ValidationError(_("Nothing was changed."))
    if "seized_at" in fields:
        _check_plausible_seizure(
            item.case,
            ItemDetails(
                kind=item.kind,
                seized_at=item.seized_at,
                seized_place=item.seized_place,
                seized_by=item.seized_by,
                confirmed=confirmed,
            ),
        )
    entries = list(CustodyEvent.objects.select_for_update().filter(item=item).order_by("seq"))
    seizure = entries[0]
    seizure.at, seizure.to_user = item.seized_at, item.seized_by
    holder = _check_chain(item, entries)
    item.save(update_fields=fields)
    seizure.save(update_fields=["at", "to_user"])
    _set_holder(item, holder)
    changes = ({k: before[k] for k in fields}, {k: after[k] for k in fields})
    _write_revision(actor, item, None, action="correct", changes=changes, reason=reason)
    record(
        actor,
        "evidence.item.correct",
        item,
        request=request,
        case=item.case.reference,
        before=changes[0],
        after=changes[1],
        reason=reason,
    )
    return item


@transaction.atomic
def void_item(
    actor: Any, item: EvidenceItem, *, reason: str, request: HttpRequest | None = None
) -> EvidenceItem:
    """Void an item recorded in error, with a reason: it stays, marked void, with its chain."""
    check_perm(actor, Perm.EVIDENCE_EDIT, item.case)
    item = EvidenceItem.objects.select_for_update().select_related("case").get(pk=item.pk)
    _check_may_correct(actor, item)
    _check_open(item.case)
    reason = _reason(reason, item)
    if item.voided_at is not None:
        raise ValidationError(_("This entry is already voided."))
    item.voided_at, item.void_reason = timezone.now(), reason
    item.save(update_fields=["voided_at", "void_reason"])
    old: tuple[dict[str, Any], dict[str, Any]] = (_snapshot(item, ITEM_FIELDS), {})
    _write_revision(actor, item, None, action="void", changes=old, reason=reason)
    record(
        actor,
        "evidence.item.void",
        item,
        request=request,
        case=item.case.reference,
        reason=reason,
    )
    return item


def _locked_entry(actor: Any, event: CustodyEvent) -> tuple[EvidenceItem, list[CustodyEvent]]:
    check_perm(actor, Perm.EVIDENCE_EDIT, event.item.case)
    item = EvidenceItem.objects.select_for_update().select_related("case").get(pk=event.item_id)
    _check_may_correct(actor, item)  # as the item stands now (its holder may have changed)
    _check_open(item.case)
    if item.voided_at is not None:
        raise ValidationError(_("This item is voided; it can no longer be changed."))
    entries = list(CustodyEvent.objects.select_for_update().filter(item=item).order_by("seq"))
    return item, entries


@transaction.atomic
def correct_custody(
    actor: Any,
    event: CustodyEvent,
    *,
    reason: str,
    at: dt.datetime = UNCHANGED,
    from_user: Any = UNCHANGED,
    to_user: Any = UNCHANGED,
    purpose: str = UNCHANGED,
    seal_intact: bool = UNCHANGED,
    note: str = UNCHANGED,
    confirmed: bool = False,
    request: HttpRequest | None = None,
) -> CustodyEvent:
    """Correct one entry of an item's chain of custody (only the arguments given change), with a
    reason. Refused, and nothing written, when the chain would not hold: a hand-over before the
    seizure or before the one before it, or by someone who did not hold the item. Correcting the
    seizure's time or officer corrects the item's too."""
    item, entries = _locked_entry(actor, event)
    entry = next(e for e in entries if e.pk == event.pk)
    if entry.voided_at is not None:
        raise ValidationError(_("This entry is voided; it can no longer be changed."))
    reason = _reason(reason, item)
    before = _snapshot(entry, CUSTODY_FIELDS)
    if at is not UNCHANGED:
        if timezone.is_naive(at):
            raise ValidationError({"at": [_("Give the time with its time zone.")]})
        _not_future(at, "at")
        entry.at = at
    if from_user is not UNCHANGED:
        entry.from_user = from_user
    if to_user is not UNCHANGED:
        if to_user is None or (entry.seq > 1 and not may_hold(to_user, item.case)):
            raise ValidationError({"to_user": [_("This person cannot receive this item.")]})
        entry.to_user = to_user
    if purpose is not UNCHANGED:
        entry.purpose = _text(purpose, "purpose", CustodyEvent, required=True)
    if seal_intact is not UNCHANGED:
        entry.seal_intact = bool(seal_intact)
    if note is not UNCHANGED:
        entry.note = _text(note, "note", CustodyEvent)
    refuse_victim_identity(item.case, purpose=entry.purpose, note=entry.note)
    after = _snapshot(entry, CUSTODY_FIELDS)
    fields = _changed(before, after)
    if not fields:
        raise ValidationError(_("Nothing was changed."))
    item_fields: list[str] = []
    if entry.seq == 1:  # the seizure is the item's seizure
        if entry.at != item.seized_at:
            item.seized_at = entry.at
            item_fields.append("seized_at")
            _check_plausible_seizure(
                item.case,
                ItemDetails(
                    kind=item.kind,
                    seized_at=entry.at,
                    seized_place=item.seized_place,
                    seized_by=entry.to_user,
                    confirmed=confirmed,
                ),
            )
        if entry.to_user_id != item.seized_by_id:
            item.seized_by = entry.to_user
            item_fields.append("seized_by")
    holder = _check_chain(item, entries)
    entry.save(update_fields=fields)
    if item_fields:
        item.save(update_fields=item_fields)
    _set_holder(item, holder)
    changes = ({k: before[k] for k in fields}, {k: after[k] for k in fields})
    _write_revision(actor, item, entry, action="correct", changes=changes, reason=reason)
    record(
        actor,
        "evidence.custody.correct",
        entry,
        request=request,
        item=item.pk,
        seq=entry.seq,
        before=changes[0],
        after=changes[1],
        reason=reason,
    )
    return entry


@transaction.atomic
def void_custody(
    actor: Any, event: CustodyEvent, *, reason: str, request: HttpRequest | None = None
) -> CustodyEvent:
    """Void a hand-over recorded in error, with a reason: it stays in the chain, marked void,
    and no longer counts. The seizure cannot be voided (void the item); a hand-over that a
    later one follows from is refused until that one is corrected or voided."""
    item, entries = _locked_entry(actor, event)
    entry = next(e for e in entries if e.pk == event.pk)
    reason = _reason(reason, item)
    if entry.voided_at is not None:
        raise ValidationError(_("This entry is already voided."))
    if entry.seq == 1:
        raise ValidationError(_("The seizure cannot be voided; void the item instead."))
    entry.voided_at, entry.void_reason = timezone.now(), reason
    holder = _check_chain(item, entries)
    entry.save(update_fields=["voided_at", "void_reason"])
    _set_holder(item, holder)
    old: tuple[dict[str, Any], dict[str, Any]] = (_snapshot(entry, CUSTODY_FIELDS), {})
    _write_revision(actor, item, entry, action="void", changes=old, reason=reason)
    record(
        actor,
        "evidence.custody.void",
        entry,
        request=request,
        item=item.pk,
        seq=entry.seq,
        reason=reason,
    )
    return entry
