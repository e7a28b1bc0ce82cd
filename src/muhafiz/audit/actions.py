"""Writing to the audit log: `record` for actions, `record_read` for sensitive reads.

Callers pass ids and codes, never names: victim identity must not reach the audit. `record`
refuses details, labels and reasons that contain the plaintext of an encrypted field of the
object being audited, which catches the obvious mistake of passing `victim.name` along.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections, models, transaction
from django.http import HttpRequest
from django.utils import timezone

from muhafiz.audit.chain import canonical_details, canonical_json, chain_head, compute_row_hash
from muhafiz.audit.models import ActorKind, AuditEvent
from muhafiz.core.hooks import Hook
from muhafiz.core.limits import max_length
from muhafiz.core.permissions import Perm, check_perm, is_system

# Serialises appends to the chain on PostgreSQL: held until the caller's transaction ends.
CHAIN_LOCK_KEY = 0x4D55484146495A  # "MUHAFIZ"

SENSITIVE_MIN_LENGTH = 3
MAX_DETAILS_BYTES = 16 * 1024  # details are ids and codes; anything bigger is a mistake
MAX_ACTION_LENGTH = 100

_ACTION_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


class AuditError(RuntimeError):
    """An audit record cannot be written as asked; the message says why."""


class NotInTransactionError(AuditError):
    """`record` was called outside `transaction.atomic`: the record and the write must commit
    together."""


class SensitiveDetailError(AuditError):
    """The audit record would have carried protected (encrypted) data such as a victim's name."""


@dataclass(frozen=True, slots=True)
class AuditActor:
    """Who acted, as the audit row keeps it (`ActorKind.USER` or `ActorKind.API_CLIENT`)."""

    kind: str
    user_id: int | None
    client_id: int | None
    name: str
    role: str
    agency: str


# The accounts app (which owns staff and API clients, a layer above) connects here in `ready()`.
describe_actor = Hook(
    "audit.describe_actor",
    "an actor is being audited: (actor) -> AuditActor for a principal the receiver owns, or None.",
)


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """An audited object that is not (or not yet) a model instance: type, id and a label."""

    type: str
    id: str
    label: str = ""


def record(
    actor: Any,
    action: str,
    obj: models.Model | ObjectRef | None = None,
    /,
    *,
    reason: str = "",
    request: HttpRequest | None = None,
    using: str = "default",
    **details: Any,
) -> AuditEvent:
    """Append one event to the audit chain, inside the caller's transaction.

    `actor` is a staff user, an API client, an anonymous user (a public reporter) or None (the
    system). `action` is a dotted name (`case.create`, `victim.identity.view`). `details` are
    ids, codes and numbers; never names or other identity.
    """
    _require_transaction(action, using)
    event = _new_event(actor, action, obj, reason=reason, request=request, details=details)
    _lock_chain(using)
    head_sequence, head_hash = chain_head(using)
    _chain(event, head_sequence + 1, head_hash)
    event.save(using=using, force_insert=True)
    return event


def record_many(
    actor: Any,
    action: str,
    items: Sequence[tuple[models.Model | ObjectRef | None, dict[str, Any]]],
    /,
    *,
    using: str = "default",
) -> list[AuditEvent]:
    """Append one event per `(obj, details)` of `items` — the same actor and action, e.g. one
    per referral of an import — checked as `record` checks each, chained in order, and written
    in one statement inside the caller's transaction."""
    _require_transaction(action, using)
    events = [_new_event(actor, action, obj, details=details) for obj, details in items]
    if not events:
        return []
    _lock_chain(using)
    sequence, previous = chain_head(using)
    for event in events:
        sequence += 1
        previous = _chain(event, sequence, previous)
    AuditEvent.objects.using(using).bulk_create(events)
    return events


def _require_transaction(action: str, using: str) -> None:
    if not connections[using].in_atomic_block:
        raise NotInTransactionError(
            f"audit record {action!r} must be written inside transaction.atomic, "
            "together with the change it records"
        )
    if len(action) > MAX_ACTION_LENGTH or not _ACTION_NAME.match(action):
        raise AuditError(
            f"action {action[:120]!r} must be a dotted lower-case name like 'case.create' "
            f"(at most {MAX_ACTION_LENGTH} characters)"
        )


def _new_event(
    actor: Any,
    action: str,
    obj: models.Model | ObjectRef | None,
    *,
    reason: str = "",
    request: HttpRequest | None = None,
    details: dict[str, Any],
) -> AuditEvent:
    """The event, checked (size, purpose, no protected data), not yet chained or saved."""
    kind, user_id, client_id, name, role, agency = _actor_fields(actor)
    object_type, object_id, label = _object_fields(obj)
    stored_details = canonical_details(details)
    if len(canonical_json(stored_details).encode("utf-8")) > MAX_DETAILS_BYTES:
        raise AuditError(
            f"audit details of {action!r} exceed {MAX_DETAILS_BYTES} bytes; "
            "record ids and codes, not content"
        )
    if len(reason) > max_length(AuditEvent, "reason"):
        raise AuditError(
            f"the stated purpose is {len(reason)} characters; "
            f"at most {max_length(AuditEvent, 'reason')}"
        )
    _refuse_sensitive(obj, label=label, reason=reason, details=stored_details)
    address = _client_address(request) if kind in (ActorKind.USER, ActorKind.API_CLIENT) else None
    return AuditEvent(
        occurred_at=timezone.now(),
        actor_kind=kind,
        actor_user_id=user_id,
        actor_client_id=client_id,
        actor_name=name[:150],
        actor_role=role[:40],
        actor_agency=agency[:40],
        action=action,
        object_type=object_type[:100],
        object_id=object_id[:64],
        object_label=label[:200],
        reason=reason.strip(),
        client_address=address,
        details=stored_details,
    )


def _chain(event: AuditEvent, sequence: int, prev_hash: str) -> str:
    """Put the event after `prev_hash` at `sequence`; returns its own hash."""
    event.sequence = sequence
    event.prev_hash = prev_hash
    event.row_hash = compute_row_hash(event)
    return event.row_hash


AUDIT_READS = frozenset({"audit.view", "audit.verify", "audit.export"})


def record_audit_read(
    actor: Any, action: str, /, *, request: HttpRequest | None = None, **details: Any
) -> AuditEvent:
    """Reading or verifying the audit log is itself audited, with what was looked at: the one
    audited write of the audit pages and API, for someone holding AUDIT_VIEW."""
    check_perm(actor, Perm.AUDIT_VIEW)
    if action not in AUDIT_READS:
        raise ValueError(f"not a read of the audit log: {action!r}")
    with transaction.atomic():
        return record(actor, action, request=request, **details)


def record_read(
    actor: Any,
    action: str,
    obj: models.Model | ObjectRef,
    /,
    *,
    reason: str,
    request: HttpRequest | None = None,
    using: str = "default",
    **details: Any,
) -> AuditEvent:
    """Audit a sensitive read (a victim's identity, a media reveal) before the data is shown.

    A stated purpose is required. Commits at once when called outside a transaction, so the
    record exists before the data leaves the server.
    """
    if not reason.strip():
        raise AuditError(f"{action!r} is a sensitive read and needs a stated purpose")
    with transaction.atomic(using=using):
        return record(actor, action, obj, reason=reason, request=request, using=using, **details)


def _lock_chain(using: str) -> None:
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
    # SQLite: the project opens IMMEDIATE transactions, so the writer already holds the
    # database's write lock. Elsewhere the unique sequence still refuses a forked chain.


def _actor_fields(actor: Any) -> tuple[str, int | None, int | None, str, str, str]:
    if actor is None or is_system(actor):
        return ActorKind.SYSTEM, None, None, "system", "", ""
    for described in describe_actor.send(actor):
        if described is not None:
            return (
                described.kind,
                described.user_id,
                described.client_id,
                described.name,
                described.role,
                described.agency,
            )
    if not getattr(actor, "is_authenticated", True):
        return ActorKind.PUBLIC, None, None, "public", "", ""
    raise AuditError(f"cannot audit an actor of type {type(actor).__name__}")


def _object_fields(obj: models.Model | ObjectRef | None) -> tuple[str, str, str]:
    if obj is None:
        return "", "", ""
    if isinstance(obj, ObjectRef):
        return obj.type, obj.id, obj.label
    meta = obj._meta
    object_type = f"{meta.app_label}.{meta.model_name}"
    audit_label = getattr(obj, "audit_label", None)
    # str(obj) may be a person's name, so the default label is the type and id only.
    label = str(audit_label()) if callable(audit_label) else f"{meta.verbose_name} {obj.pk}"
    return object_type, "" if obj.pk is None else str(obj.pk), label


def _client_address(request: HttpRequest | None) -> str | None:
    from muhafiz.core.addresses import client_address

    return client_address(request)


def _sensitive_values(obj: models.Model | ObjectRef | None) -> list[str]:
    if not isinstance(obj, models.Model):
        return []
    from muhafiz.core.fields import EncryptedField

    values = []
    for field in obj._meta.concrete_fields:
        if isinstance(field, EncryptedField):
            value = getattr(obj, field.attname, None)
            text = "" if value is None else str(value).strip()
            # Initials and one-letter values would match ordinary words; courts publish
            # initials anyway. Anything longer is refused wherever it appears as a word.
            if len(text) >= SENSITIVE_MIN_LENGTH:
                values.append(text)
    return values


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif value is not None and not isinstance(value, bool):
        yield str(value)


def _refuse_sensitive(
    obj: models.Model | ObjectRef | None, *, label: str, reason: str, details: dict[str, Any]
) -> None:
    secrets = _sensitive_values(obj)
    if not secrets:
        return
    texts = [label, reason, *_strings(details)]
    for secret in secrets:
        pattern = re.compile(rf"(?<!\w){re.escape(secret)}(?!\w)", re.IGNORECASE)
        for text in texts:
            if pattern.search(text):
                # The message names the field's existence, never its value.
                raise SensitiveDetailError(
                    "the audit record would contain protected data of the object "
                    "(an encrypted field's value); pass ids, not names"
                )
