"""Writes to the banks themselves: create, enable/disable, discard a new bank whose first import
failed, remove an entry, and the audit of matching requests. Each checks its permission first
(BANK_MANAGE in the bank's jurisdiction; HASH_MATCH for a matching request)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from muhafiz.audit.actions import record
from muhafiz.banks.model import BankKind
from muhafiz.catalogue.models import Agency
from muhafiz.core.limits import check_lengths
from muhafiz.core.permissions import Perm, Scope, check_perm
from muhafiz.hashbank.errors import BankError
from muhafiz.hashbank.models import (
    ENABLE_REASON_MAX_LENGTH,
    Bank,
    BankEntry,
    BankImport,
    CategoryScheme,
    ImportStatus,
)


@dataclass(frozen=True, slots=True)
class _Owner:
    """Where a bank not yet created would live, for the jurisdiction check (`Bank.access_scope`)."""

    agency: Agency | None

    def access_scope(self) -> Scope:
        return Bank(agency=self.agency).access_scope()


# --- banks -----------------------------------------------------------------------------------


def create_bank(
    actor: Any,
    *,
    name: str,
    kind: BankKind | str,
    agency: Agency | None = None,
    category_scheme: CategoryScheme | None = None,
    description: str = "",
    enabled: bool = True,
) -> Bank:
    """A new bank, owned by `agency` (the actor manages banks where that agency works)."""
    check_perm(actor, Perm.BANK_MANAGE, _Owner(agency))
    name = name.strip()
    if not name:
        raise BankError("a bank needs a name")
    _check_lengths(Bank, {"name": name, "description": description})
    try:
        bank_kind = BankKind(kind)
    except ValueError as exc:
        known = ", ".join(k.value for k in BankKind)
        raise BankError(f"unknown bank kind {kind!r}; known kinds: {known}") from exc
    if Bank.objects.filter(name__iexact=name).exists():
        raise BankError(f"a bank named {name!r} already exists; choose another name")
    try:
        with transaction.atomic():
            bank = Bank.objects.create(
                name=name,
                kind=bank_kind.value,
                agency=agency,
                category_scheme=category_scheme,
                description=description,
                enabled=enabled,
                created_by=_user(actor),
            )
            record(actor, "bank.create", bank, kind=bank.kind, agency=agency.code if agency else "")
    except IntegrityError as exc:  # a concurrent create of the same name
        raise BankError(f"a bank named {name!r} already exists; choose another name") from exc
    return bank


def set_bank_enabled(actor: Any, bank: Bank, enabled: bool, *, reason: str = "") -> Bank:
    """Put a bank into matching or take it out (at once; the index catches up)."""
    check_perm(actor, Perm.BANK_MANAGE, bank)
    if len(reason.strip()) > ENABLE_REASON_MAX_LENGTH:
        raise BankError(f"reason: keep it under {ENABLE_REASON_MAX_LENGTH} characters")
    with transaction.atomic():
        bank.enabled = enabled
        bank.save(update_fields=["enabled"])
        record(actor, "bank.enable" if enabled else "bank.disable", bank, reason=reason)
        _queue_rebuild()
    return bank


def discard_new_bank(actor: Any, bank: Bank, *, reason: str) -> None:
    """Remove a bank made for an import that then failed, so no empty bank stays behind (and
    the same name can be created again). Refused once the bank holds any entry or any import
    that was not rejected. The audit log keeps the rejected attempt and this removal."""
    check_perm(actor, Perm.BANK_MANAGE, bank)
    with transaction.atomic():
        locked = Bank.objects.select_for_update().get(pk=bank.pk)
        imports = BankImport.objects.filter(bank=locked)
        if (
            BankEntry.objects.filter(bank=locked).exists()
            or imports.exclude(status__in=[ImportStatus.REJECTED, ImportStatus.FAILED]).exists()
        ):
            raise BankError(f"bank {bank.name!r} holds entries or imports; disable it instead")
        rejected = [
            {"import": i.pk, "sha256": i.source_sha256, "bad": i.bad}
            for i in imports.order_by("pk")
        ]
        record(actor, "bank.discard", locked, reason=reason, rejected_imports=rejected)
        imports.delete()
        locked.delete()


# --- removal ---------------------------------------------------------------------------------


def remove_entry(actor: Any, entry: BankEntry, *, reason: str) -> BankEntry:
    """Take an entry out of matching, keeping the row, who removed it, when and why."""
    check_perm(actor, Perm.BANK_MANAGE, entry.bank)
    reason = reason.strip()
    if not reason:
        raise BankError("say why the entry is removed (a reason is required)")
    _check_lengths(BankEntry, {"reason": reason}, fields={"reason": "removal_reason"})
    with transaction.atomic():
        locked = BankEntry.objects.select_for_update().get(pk=entry.pk)
        if locked.removed_at is not None:
            raise BankError(f"entry {entry.pk} was already removed on {locked.removed_at:%Y-%m-%d}")
        locked.removed_at = timezone.now()
        locked.removal_reason = reason
        locked.removed_by = _user(actor)
        locked.save(update_fields=["removed_at", "removal_reason", "removed_by"])
        record(actor, "bank.entry.remove", locked, reason=reason, bank=locked.bank_id)
        _queue_rebuild()
    return locked


# --- matching audit ---------------------------------------------------------------------------


def record_request(
    actor: Any,
    *,
    action: str,
    endpoint: str,
    queried: int,
    matched: int,
    banks: Sequence[str] = (),
    request: Any = None,
) -> None:
    """Audit one matching or hashing request by its counts: endpoint, hashes asked, hits.

    The hashes themselves are not audited (they would turn the audit log into a second,
    unprotected list of what investigators hold); the banks that matched are.
    """
    check_perm(actor, Perm.HASH_MATCH)
    with transaction.atomic():
        record(
            actor,
            action,
            None,
            request=request,
            endpoint=endpoint,
            queried=queried,
            matched=matched,
            banks=sorted(set(banks)),
        )


def _check_lengths(model: Any, values: dict[str, str], **kwargs: Any) -> None:
    """`core.limits.check_lengths`, as the BankError the bank commands and API report."""
    try:
        check_lengths(model, values, **kwargs)
    except ValidationError as exc:
        raise BankError(
            "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in exc.message_dict.items())
        ) from exc


def _user(actor: Any) -> Any:
    # API clients are not users: provenance names a user only when one acted.
    from muhafiz.accounts.models import User

    return actor if isinstance(actor, User) else None


def _queue_rebuild() -> None:
    from muhafiz.hashbank.tasks import queue_index_rebuild

    queue_index_rebuild()
