"""Reads of the bank tables that pages, the API and the CLI share."""

from __future__ import annotations

from django.db.models import Q

from muhafiz.hashbank.errors import BankError
from muhafiz.hashbank.models import HASH_FIELDS, Bank, BankEntry


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
