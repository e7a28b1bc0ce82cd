"""Reads of the bank tables that pages, the API and the CLI share."""

from __future__ import annotations

from django.db.models import Q

from muhafiz.hashbank.errors import BankError
from muhafiz.hashbank.models import HASH_FIELDS, Bank, BankEntry, BankImport, ImportStatus


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
