"""The audit hash chain: canonical row serialisation, row hashes, and chain verification.

`row_hash = SHA-256(canonical JSON of the row's fields, including prev_hash)`. The canonical form
is JSON with sorted keys, no insignificant whitespace, UTF-8, times as UTC ISO-8601 with
microseconds; `details` is stored already canonicalised (see `canonical_details`) so what is
read back hashes the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from muhafiz.audit.models import AuditEvent

GENESIS_HASH = "0" * 64
HASH_FORMAT_VERSION = 1

# The fields covered by the hash, in the canonical form's key names.
HASHED_FIELDS = (
    "sequence",
    "occurred_at",
    "actor_kind",
    "actor_user_id",
    "actor_client_id",
    "actor_name",
    "actor_role",
    "actor_agency",
    "action",
    "object_type",
    "object_id",
    "object_label",
    "reason",
    "client_address",
    "details",
    "prev_hash",
)


def _json_value(value: Any) -> Any:
    """Turn a detail value into plain JSON types, refusing what has no faithful JSON form."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError("audit details cannot hold NaN or infinity")
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("audit details need time-zone-aware datetimes")
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if isinstance(value, dt.date | uuid.UUID | decimal.Decimal):
        return str(value)
    if isinstance(value, Mapping):
        result: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"audit detail keys must be strings, not {type(key).__name__}")
            result[key] = _json_value(item)
        return result
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [_json_value(item) for item in items]
    raise ValueError(
        f"audit details take ids, codes, numbers and text, not {type(value).__name__}; "
        "pass the object's id instead"
    )


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """The details as they will be stored: plain JSON that reads back exactly the same."""
    plain = _json_value(dict(details))
    result: dict[str, Any] = json.loads(canonical_json(plain))
    return result


def _time(value: dt.datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("audit times must be time-zone aware")
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def canonical_row(event: AuditEvent) -> bytes:
    """The bytes that `row_hash` is computed over."""
    row: dict[str, Any] = {
        "v": HASH_FORMAT_VERSION,
        "sequence": event.sequence,
        "occurred_at": _time(event.occurred_at),
        "actor_kind": event.actor_kind,
        "actor_user_id": event.actor_user_id,
        "actor_client_id": event.actor_client_id,
        "actor_name": event.actor_name,
        "actor_role": event.actor_role,
        "actor_agency": event.actor_agency,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_label": event.object_label,
        "reason": event.reason,
        "client_address": event.client_address or None,
        "details": event.details,
        "prev_hash": event.prev_hash,
    }
    return canonical_json(row).encode("utf-8")


def compute_row_hash(event: AuditEvent) -> str:
    return hashlib.sha256(canonical_row(event)).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainVerification:
    """The result of checking the chain: `ok`, how many rows were checked, the first bad row."""

    ok: bool
    checked: int
    head_hash: str
    head_sequence: int
    broken_id: int | None = None
    broken_sequence: int | None = None
    reason: str = ""


def chain_head(using: str = "default") -> tuple[int, str]:
    """The sequence and hash of the newest row, or (0, GENESIS_HASH) for an empty log."""
    last = (
        AuditEvent.objects.using(using)
        .order_by("-sequence")
        .values_list("sequence", "row_hash")
        .first()
    )
    if last is None:
        return 0, GENESIS_HASH
    return int(last[0]), str(last[1])


def verify_chain(*, using: str = "default", chunk_size: int = 2000) -> ChainVerification:
    """Recompute every row hash in sequence order, streaming, and name the first broken row.

    A row is broken when its sequence is not the next number, its `prev_hash` is not the hash
    of the row before it, or its `row_hash` does not match its content. Deleting the newest rows
    leaves a shorter valid chain; compare `head_hash` with a copy kept elsewhere (backups keep
    one in their manifest) to catch that.
    """
    expected_prev = GENESIS_HASH
    expected_sequence = 1
    checked = 0
    rows = AuditEvent.objects.using(using).order_by("sequence").iterator(chunk_size=chunk_size)
    for event in rows:
        problem = ""
        if event.sequence != expected_sequence:
            problem = (
                f"sequence {event.sequence} follows {expected_sequence - 1}: "
                "rows are missing or out of order"
            )
        elif event.prev_hash != expected_prev:
            problem = "its prev_hash is not the hash of the row before it"
        elif compute_row_hash(event) != event.row_hash:
            problem = "its content does not match its hash (the row was changed)"
        if problem:
            return ChainVerification(
                ok=False,
                checked=checked,
                head_hash=expected_prev,
                head_sequence=expected_sequence - 1,
                broken_id=event.pk,
                broken_sequence=event.sequence,
                reason=f"sequence {event.sequence}: {problem}",
            )
        checked += 1
        expected_prev = event.row_hash
        expected_sequence = event.sequence + 1
    return ChainVerification(
        ok=True, checked=checked, head_hash=expected_prev, head_sequence=expected_sequence - 1
    )
