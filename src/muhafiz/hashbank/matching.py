"""Hashes in, bank entries out: the one matching path behind the API, HMA routes and jobs.

The memory-mapped index (`index.py`) says which query hashes hit which stored hashes; the
database then supplies the entries behind those hits, so removals and disabled banks count at
once. Entries newer than the index, and banks enabled since it was built, are matched straight
from the database until the next build.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from django.db.models import Q

from muhafiz.banks.hexhash import HEX_LENGTHS, is_hex
from muhafiz.banks.index.pdq import MATCH_DISTANCE, MIN_PDQ_QUALITY, hex_to_words, popcount_rows
from muhafiz.banks.model import HashKind
from muhafiz.hashbank.index import LoadedIndex, current_index, index_for_this_database
from muhafiz.hashbank.models import Bank, BankEntry, BankEntryQuerySet

EXACT_KINDS = (HashKind.MD5, HashKind.SHA1, HashKind.SHA256)
MATCH_KINDS = (*EXACT_KINDS, HashKind.PDQ)


class QueryError(ValueError):
    """A query hash is not valid: the message names it."""


@dataclass(frozen=True)
class HashQuery:
    kind: HashKind
    value: str  # lowercase hex


@dataclass(frozen=True)
class EntryMatch:
    entry: BankEntry
    kind: HashKind
    distance: int


@dataclass
class MatchOutcome:
    results: list[list[EntryMatch]]
    index_generation: str | None = None
    index_built_at: str | None = None
    from_database: bool = False  # some candidates came from the not-yet-indexed fallback
    banks: set[str] = field(default_factory=set)

    @property
    def matched(self) -> int:
        return sum(1 for found in self.results if found)


def parse_query(value: str, kind: str | None = None) -> list[HashQuery]:
    """A hex hash, of the kind given or told by length (64 hex is SHA-256 and PDQ both)."""
    text = value.strip().lower()
    if not text or not is_hex(text):
        raise QueryError(f"{value!r} is not a hexadecimal hash")
    if kind:
        try:
            hash_kind = HashKind(kind.lower())
        except ValueError as exc:
            raise QueryError(f"unknown hash type {kind!r} (md5, sha1, sha256, pdq)") from exc
        if hash_kind not in MATCH_KINDS:
            raise QueryError(f"{hash_kind.value} cannot be matched (md5, sha1, sha256, pdq)")
        if len(text) != HEX_LENGTHS[hash_kind]:
            raise QueryError(
                f"{hash_kind.value} {value!r} has {len(text)} hex characters, "
                f"expected {HEX_LENGTHS[hash_kind]}"
            )
        return [HashQuery(hash_kind, text)]
    kinds = {32: (HashKind.MD5,), 40: (HashKind.SHA1,), 64: (HashKind.SHA256, HashKind.PDQ)}
    found = kinds.get(len(text))
    if not found:
        raise QueryError(
            f"{value!r} has {len(text)} hex characters: not an MD5 (32), SHA-1 (40), "
            "SHA-256 or PDQ (64)"
        )
    return [HashQuery(k, text) for k in found]


def match_hashes(
    queries: Sequence[HashQuery],
    *,
    max_distance: int = MATCH_DISTANCE,
    banks: Sequence[str] = (),
) -> MatchOutcome:
    """Matches for each query, in order: exact at distance 0, PDQ within `max_distance`."""
    index = index_for_this_database(current_index())
    base: BankEntryQuerySet = BankEntry.objects.matchable().select_related(
        "bank", "bank__category_scheme"
    )
    if banks:
        base = base.filter(bank__name__in=list(banks))
    not_indexed = _not_indexed(index)
    outcome = MatchOutcome(results=[[] for _ in queries])
    if index is not None:
        outcome.index_generation = index.generation
        outcome.index_built_at = index.built_at

    for kind in EXACT_KINDS:
        positions = [i for i, q in enumerate(queries) if q.kind is kind]
        if not positions:
            continue
        values = {queries[i].value for i in positions}
        # Leading with "hash IN (the query values)" lets the database use the hash index; the
        # rest keeps what the index hit plus what the index does not hold yet.
        wanted = Q(**{f"{kind.value}__in": values})
        if index is not None:
            hits = _exact_hits(index, kind, values)
            wanted &= Q(**{f"{kind.value}__in": hits}) | not_indexed
        by_value: dict[str, list[BankEntry]] = defaultdict(list)
        for entry in base.filter(wanted):
            by_value[getattr(entry, kind.value)].append(entry)
        for i in positions:
            outcome.results[i].extend(
                EntryMatch(e, kind, 0) for e in by_value.get(queries[i].value, ())
            )

    pdq_positions = [i for i, q in enumerate(queries) if q.kind is HashKind.PDQ]
    if pdq_positions:
        pdq_values = [queries[i].value for i in pdq_positions]
        candidates = _pdq_candidates(index, pdq_values, max_distance)
        candidates |= _pdq_not_indexed(base.filter(not_indexed), pdq_values, max_distance)
        entries = list(base.filter(pdq__in=candidates)) if candidates else []
        entries = [e for e in entries if e.pdq_quality is None or e.pdq_quality >= MIN_PDQ_QUALITY]
        if entries:
            stored = hex_to_words([str(e.pdq) for e in entries])
            for i, value in zip(pdq_positions, pdq_values, strict=True):
                distances = popcount_rows(stored ^ hex_to_words([value])[0])
                close = [
                    EntryMatch(entries[j], HashKind.PDQ, int(distances[j]))
                    for j in np.flatnonzero(distances <= max_distance).tolist()
                ]
                outcome.results[i].extend(sorted(close, key=lambda m: m.distance))

    for found in outcome.results:
        outcome.banks.update(m.entry.bank.name for m in found)
    return outcome


def _not_indexed(index: LoadedIndex | None) -> Q:
    """Entries the live generation does not hold: newer ones, and banks enabled since.

    Spelled as a range on the primary key plus, rarely, a short list of banks, so the query
    stays an index range scan on a table of millions (a NOT IN over banks would scan it all).
    """
    if index is None:
        return Q()
    pending = Q(pk__gt=index.max_entry_id)
    enabled = set(Bank.objects.filter(enabled=True).values_list("pk", flat=True))
    unindexed_banks = enabled - index.indexed_bank_ids
    if unindexed_banks:
        pending |= Q(bank_id__in=sorted(unindexed_banks))
    return pending


def _exact_hits(index: LoadedIndex | None, kind: HashKind, values: set[str]) -> set[str]:
    if index is None:
        return set()
    hits: set[str] = set()
    for value in values:
        found = index.matcher.match(
            md5=value if kind is HashKind.MD5 else None,
            sha1=value if kind is HashKind.SHA1 else None,
            sha256=value if kind is HashKind.SHA256 else None,
        )
        if found:
            hits.add(value)
    return hits


def _pdq_candidates(index: LoadedIndex | None, values: list[str], max_distance: int) -> set[str]:
    if index is None:
        return set()
    found: set[str] = set()
    for matches in index.matcher.match_pdq_batch(values, max_distance=max_distance, min_quality=0):
        found.update(m.entry.pdq for m in matches if m.entry.pdq)
    return found


def _pdq_not_indexed(pending: BankEntryQuerySet, values: list[str], max_distance: int) -> set[str]:
    """Brute force over the PDQ hashes the index does not hold yet (a small set between builds)."""
    stored = [
        str(value)
        for value in pending.filter(pdq__isnull=False)
        .filter(Q(pdq_quality__isnull=True) | Q(pdq_quality__gte=MIN_PDQ_QUALITY))
        .values_list("pdq", flat=True)
        .distinct()
    ]
    if not stored:
        return set()
    words = hex_to_words(stored)
    found: set[str] = set()
    for query in hex_to_words(values):
        close = np.flatnonzero(popcount_rows(words ^ query) <= max_distance)
        found.update(stored[j] for j in close.tolist())
    return found
