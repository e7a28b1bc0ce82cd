"""Reads of the bank tables that pages, the API and the CLI share."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.utils.translation import gettext

from muhafiz.hashbank.errors import BankError
from muhafiz.hashbank.models import (
    HASH_FIELDS,
    Bank,
    BankEntry,
    BankImport,
    BankUpload,
    ImportStatus,
    active_entry,
)


def get_bank(name: str) -> Bank:
    bank = Bank.objects.filter(name=name).select_related("agency", "category_scheme").first()
    if bank is None:
        known = ", ".join(Bank.objects.values_list("name", flat=True)[:50]) or "none yet"
        raise BankError(f"no bank named {name!r} (banks: {known})")
    return bank


def find_entries(bank: Bank, value: str) -> list[BankEntry]:
    """Active entries of `bank` holding the hash `value` (any kind, case-insensitive)."""
    value = value.strip().lower()
    query = Q()
    for f in HASH_FIELDS:
        query |= Q(**{f: value})
    return list(BankEntry.objects.active().filter(query, bank=bank))


def is_unfinished_new_bank(bank: Bank) -> bool:
    """A bank left behind by a first import that never finished (its command was killed): made
    disabled for that import, it holds no entry and no completed import. Whether an import into
    it still runs is for the caller to know (`muhafiz bank import` holds the bank's lock)."""
    return (
        not bank.enabled
        and not BankEntry.objects.filter(bank=bank).exists()
        and not BankImport.objects.filter(
            bank=bank, status__in=[ImportStatus.COMPLETED, ImportStatus.ALREADY_IMPORTED]
        ).exists()
    )


def banked_hashes(values: list[str]) -> dict[str, list[str]]:
    """Which of these MD5, SHA-1 or SHA-256 values (lower-case hex) an active entry of an enabled
    or disabled bank holds: {hash: [bank name, …]}. A system lookup for intake's referral
    matching: names of banks only, never entries' details."""
    from muhafiz.banks.model import exact_hashes_by_kind

    found: dict[str, list[str]] = {}
    for column, hashes in exact_hashes_by_kind(values).items():
        for start in range(0, len(hashes), 500):
            rows = BankEntry.objects.active().filter(
                **{f"{column}__in": hashes[start : start + 500]}
            )
            for value, bank in rows.values_list(column, "bank__name"):
                found.setdefault(value, [])
                if bank not in found[value]:
                    found[value].append(bank)
    return found


def banks_with_sizes() -> list[tuple[Bank, int]]:
    """Every bank with its number of active entries."""
    banks = Bank.objects.select_related("agency", "category_scheme").annotate(
        active=Count("entries", filter=active_entry("entries__"))
    )
    return [(bank, bank.active) for bank in banks]


def bank_summary(bank: Bank, entries: int) -> dict[str, Any]:
    return {
        "name": bank.name,
        "kind": bank.kind,
        "agency": bank.agency.code if bank.agency else None,
        "category_scheme": bank.category_scheme.code if bank.category_scheme else None,
        "enabled": bank.enabled,
        "entries": entries,
        "created_at": bank.created_at.isoformat(),
    }


def bank_stats(bank: Bank) -> dict[str, Any]:
    active = BankEntry.objects.active().filter(bank=bank)
    by_hash = active.aggregate(
        md5=Count("pk", filter=Q(md5__isnull=False)),
        sha1=Count("pk", filter=Q(sha1__isnull=False)),
        sha256=Count("pk", filter=Q(sha256__isnull=False)),
        pdq=Count("pk", filter=Q(pdq__isnull=False)),
        photodna=Count("pk", filter=Q(photodna__isnull=False)),
    )
    scheme = bank.category_scheme
    by_category: dict[str, int] = {}
    # The same counts for a page, labelled in the reader's language (the API and the command
    # line keep the scheme's own labels as keys).
    by_category_in_words: list[tuple[str, int]] = []
    for row in active.values("category").annotate(n=Count("pk")).order_by("category"):
        value = row["category"]
        label = (scheme.label_for(value) if scheme else None) or (
            "uncategorised" if value is None else str(value)
        )
        by_category[label if value is None else f"{value} {label}".strip()] = row["n"]
        words = (scheme.label_in_words(value) if scheme else None) or (
            gettext("Uncategorised") if value is None else str(value)
        )
        by_category_in_words.append((words if value is None else f"{value} {words}", row["n"]))
    imports = [
        {
            "id": i.pk,
            "source_name": i.source_name,
            "source_sha256": i.source_sha256,
            "format": i.format,
            "imported_at": i.imported_at.isoformat(),
            "status": i.status,
            "status_label": i.get_status_display(),
            "added": i.added,
            "duplicates": i.duplicates,
            "bad": i.bad,
        }
        for i in bank.imports.order_by("pk")
    ]
    return {
        **bank_summary(bank, active.count()),
        "removed": BankEntry.objects.filter(bank=bank, removed_at__isnull=False).count(),
        "by_hash": by_hash,
        "by_category": by_category,
        "by_category_in_words": by_category_in_words,
        "imports": imports,
    }


# How many of a bank's latest uploads its page shows.
RECENT_UPLOADS = 5


def recent_uploads(bank: Bank) -> list[BankUpload]:
    """The bank's latest uploads, newest first, with their state (queued, running, done,
    failed) and outcome."""
    return list(
        bank.uploads.select_related("uploaded_by", "bank_import").order_by("-pk")[:RECENT_UPLOADS]
    )


def may_manage(principal: Any, bank: Bank) -> bool:
    """Whether the page offers a bank's controls (the actions decide on submit)."""
    from muhafiz.core.permissions import Perm, has_perm

    return has_perm(principal, Perm.BANK_MANAGE, bank)
