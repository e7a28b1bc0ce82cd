"""Accused (A1, A2, …) with their identifiers, and witnesses (W1, W2, …)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from muhafiz.audit.actions import record
from muhafiz.cases import hooks
from muhafiz.cases.actions._common import (
    _check_open,
    _normalized_list,
    _user_or_none,
    normalize_cnic,
    normalize_email,
    normalize_handle,
    normalize_phone,
    refuse_victim_identity,
)
from muhafiz.cases.models import (
    ACCUSED_CNICS_MAX,
    PERSON_PHONES_MAX,
    VERDICT_STATUSES,
    Accused,
    AccusedIdentifier,
    AccusedStatus,
    Case,
    IdentifierKind,
    Witness,
)
from muhafiz.core.limits import check_lengths
from muhafiz.core.permissions import (
    Perm,
    check_perm,
)

# --- accused and witnesses ----------------------------------------------------------------------


@dataclass
class AccusedDetails:
    name: str = ""
    aliases: str = ""
    cnic: str = ""
    phones: str | list[str] = ""
    handles: str | list[str] = ""
    emails: str | list[str] = ""
    addresses: str = ""
    status: str = AccusedStatus.SUSPECT


def _clean_accused(details: AccusedDetails) -> tuple[dict[str, Any], dict[str, list[str]]]:
    check_lengths(
        Accused,
        {"name": details.name, "aliases": details.aliases, "addresses": details.addresses},
    )
    if details.status not in AccusedStatus.values:
        raise ValidationError({"status": _("Unknown status.")})
    if details.status in VERDICT_STATUSES:
        raise ValidationError(
            {"status": _("A conviction or an acquittal is recorded with the judgment.")}
        )
    identifiers = {
        IdentifierKind.CNIC: _normalized_list(
            details.cnic, normalize_cnic, "cnic", limit=ACCUSED_CNICS_MAX
        ),
        IdentifierKind.PHONE: _normalized_list(details.phones, normalize_phone, "phones"),
        IdentifierKind.HANDLE: _normalized_list(details.handles, normalize_handle, "handles"),
        IdentifierKind.EMAIL: _normalized_list(details.emails, normalize_email, "emails"),
    }
    fields = {
        "name": (details.name or "").strip(),
        "aliases": (details.aliases or "").strip(),
        "addresses": (details.addresses or "").strip(),
        "status": details.status,
    }
    # An unidentified suspect is recorded too: the label (A1, A2, …) names them until known.
    return fields, {str(k): v for k, v in identifiers.items()}


def _set_identifiers(accused: Accused, identifiers: dict[str, list[str]]) -> None:
    accused.identifiers.all().delete()
    AccusedIdentifier.objects.bulk_create(
        [
            _identifier(accused, kind, value)
            for kind, values in identifiers.items()
            for value in values
        ]
    )


def _identifier(accused: Accused, kind: str, value: str) -> AccusedIdentifier:
    return AccusedIdentifier(accused=accused, kind=kind, value=value)


def add_accused(
    actor: Any, case: Case, details: AccusedDetails, *, request: HttpRequest | None = None
) -> Accused:
    """Record an accused person or suspect (A1, A2, … on the case)."""
    check_perm(actor, Perm.CASE_EDIT, case)
    _check_open(case)
    fields, identifiers = _clean_accused(details)
    refuse_victim_identity(case, aliases=fields["aliases"], addresses=fields["addresses"])
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=case.pk).first()
        count = Accused.objects.filter(case=case).count()
        accused = Accused.objects.create(
            case=case, label=f"A{count + 1}", created_by=_user_or_none(actor), **fields
        )
        _set_identifiers(accused, identifiers)
        record(
            actor,
            "accused.create",
            accused,
            request=request,
            case=case.reference,
            identifiers={k: len(v) for k, v in identifiers.items()},
        )
        _notify_links_on_commit(accused)
    return accused


def update_accused(
    actor: Any, accused: Accused, details: AccusedDetails, *, request: HttpRequest | None = None
) -> Accused:
    case = accused.case
    check_perm(actor, Perm.CASE_EDIT, case)
    _check_open(case)
    if accused.status in VERDICT_STATUSES:  # the court's verdict stays; the form cannot undo it
        details = dataclasses.replace(details, status=AccusedStatus.ACCUSED)
    fields, identifiers = _clean_accused(details)
    if accused.status in VERDICT_STATUSES:
        fields["status"] = accused.status
    refuse_victim_identity(case, aliases=fields["aliases"], addresses=fields["addresses"])
    changed = [name for name, value in fields.items() if getattr(accused, name) != value]
    for name, value in fields.items():
        setattr(accused, name, value)
    with transaction.atomic():
        if changed:
            accused.save(update_fields=changed)
        _set_identifiers(accused, identifiers)
        record(
            actor,
            "accused.update",
            accused,
            request=request,
            changed=changed,
            identifiers={k: len(v) for k, v in identifiers.items()},
        )
        _notify_links_on_commit(accused)
    return accused


def record_verdict(
    actor: Any, accused: Accused, outcome: str, *, request: HttpRequest | None = None
) -> Accused:
    """Set an accused's status from a judgment ("conviction" or "acquittal"); the proceedings
    app calls it in the transaction that records the judgment. Audited."""
    case = accused.case
    check_perm(actor, Perm.CASE_EDIT, case)
    status = {"conviction": AccusedStatus.CONVICTED, "acquittal": AccusedStatus.ACQUITTED}.get(
        outcome
    )
    if status is None:
        raise ValidationError({"outcome": _("A judgment is a conviction or an acquittal.")})
    with transaction.atomic():
        before = accused.status
        if before != status:
            accused.status = status
            accused.save(update_fields=["status"])
        record(actor, "accused.verdict", accused, request=request, before=before, status=status)
    return accused


def _notify_links_on_commit(accused: Accused) -> None:
    # Other apps (evidence: cross-case links) connect to the hook; called after commit.
    hooks.accused_identifiers_changed.send_on_commit(accused)


def add_witness(
    actor: Any,
    case: Case,
    *,
    name: str,
    phones: str | list[str] = "",
    address: str = "",
    relation: str = "",
    is_child: bool = False,
    request: HttpRequest | None = None,
) -> Witness:
    check_perm(actor, Perm.CASE_EDIT, case)
    _check_open(case)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the witness's name.")})
    check_lengths(Witness, {"name": name, "address": address, "relation": relation})
    phone_list = _normalized_list(phones, normalize_phone, "phones", limit=PERSON_PHONES_MAX)
    refuse_victim_identity(case, relation=relation)
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=case.pk).first()
        count = Witness.objects.filter(case=case).count()
        witness = Witness.objects.create(
            case=case,
            label=f"W{count + 1}",
            name=name,
            phones="\n".join(phone_list),
            address=(address or "").strip(),
            relation=(relation or "").strip(),
            is_child=is_child,
            created_by=_user_or_none(actor),
        )
        record(actor, "witness.create", witness, request=request, case=case.reference)
    return witness
