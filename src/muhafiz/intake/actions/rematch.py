"""Late matching: a case's accused identifiers or evidence that arrive after a referral was
imported are matched against the referrals already in the queues, by a job that the cases'
and evidence's hooks queue (intake reads their selectors, never writes their tables)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction

from muhafiz.audit.actions import ObjectRef, record
from muhafiz.core.permissions import check_system
from muhafiz.intake.actions.imports import StoredKeys, _match
from muhafiz.intake.models import CyberTip, TipIdentifier, TipIdentifierKind, TipMatch

CHUNK = 500

# An accused identifier kind → the referral identifier kind it is found under, and the values
# a referral may hold it as (a screen name is kept lower case, with or without '@').
_LOOKUP: dict[str, tuple[str, Callable[[str], list[str]]]] = {
    "handle": (TipIdentifierKind.SCREEN_NAME, lambda v: [v, f"@{v}"]),
    "phone": (TipIdentifierKind.PHONE, lambda v: [v]),
    "email": (TipIdentifierKind.EMAIL, lambda v: [v]),
}


def rematch_referrals_for_case(actor: Any, case_id: int, *, scan_id: int | None = None) -> int:
    """Match again every referral holding one of the case's accused identifiers or file hashes
    (only the scan's files when `scan_id` is given); returns how many new matches were found.
    The system runs it (the job); each hit alerts the case's team once, like an import's."""
    from muhafiz.cases.selectors import accused_identifier_pairs
    from muhafiz.evidence.selectors import case_file_hashes

    check_system(actor)
    wanted: dict[str, set[str]] = {}
    if scan_id is None:
        for kind, value in accused_identifier_pairs(case_id):
            if kind in _LOOKUP:
                tip_kind, forms = _LOOKUP[kind]
                wanted.setdefault(tip_kind, set()).update(forms(value))
    wanted[TipIdentifierKind.FILE_HASH] = set(case_file_hashes(case_id, scan_id=scan_id))
    tip_ids: set[int] = set()
    for kind, values in wanted.items():
        ordered = sorted(values)
        for start in range(0, len(ordered), CHUNK):
            tip_ids |= set(
                TipIdentifier.objects.filter(
                    kind=kind, value__in=ordered[start : start + CHUNK]
                ).values_list("tip_id", flat=True)
            )
    if not tip_ids:
        return 0
    before = TipMatch.objects.filter(tip_id__in=tip_ids).count()
    found = 0
    ordered_ids = sorted(tip_ids)
    for start in range(0, len(ordered_ids), CHUNK):
        _match(_stored(ordered_ids[start : start + CHUNK]))
    found = TipMatch.objects.filter(tip_id__in=tip_ids).count() - before
    with transaction.atomic():
        record(
            actor,
            "intake.cybertips.rematch",
            ObjectRef("cases.case", str(case_id)),
            scan=scan_id,
            referrals=len(tip_ids),
            new_matches=found,
        )
    return found


def _stored(tip_ids: list[int]) -> list[tuple[CyberTip, StoredKeys]]:
    tips = {t.pk: t for t in CyberTip.objects.select_related("report").filter(pk__in=tip_ids)}
    keys = {pk: StoredKeys() for pk in tips}
    fields: dict[str, str] = {
        TipIdentifierKind.FILE_HASH: "file_hashes",
        TipIdentifierKind.SCREEN_NAME: "screen_names",
        TipIdentifierKind.PHONE: "phones",
        TipIdentifierKind.EMAIL: "emails",
    }
    rows = TipIdentifier.objects.filter(tip_id__in=tip_ids, kind__in=list(fields))
    for tip_id, kind, value in rows.values_list("tip_id", "kind", "value"):
        getattr(keys[tip_id], fields[kind]).append(value)
    return [(tips[pk], keys[pk]) for pk in sorted(tips)]
