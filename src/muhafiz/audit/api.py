"""API routes of the audit app (mounted under /api/v1/audit): read the log, check the chain."""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from muhafiz.audit import queries
from muhafiz.audit.actions import record_audit_read
from muhafiz.audit.chain import verify_chain
from muhafiz.audit.models import AuditEvent
from muhafiz.audit.queries import EventFilter, filter_events
from muhafiz.audit.words import EventInWords, in_words
from muhafiz.core.api import MAX_OFFSET, api_requires
from muhafiz.core.permissions import Perm

router = Router(tags=["audit"])

MAX_PAGE = 500


class EventQuery(Schema):
    actor: str = Field(
        "", max_length=queries.ACTOR_MAX_LENGTH, description="Username or API client name, exact"
    )
    action: str = Field(
        "",
        max_length=queries.ACTION_MAX_LENGTH,
        description="A dotted action name or its beginning",
    )
    object_type: str = Field(
        "", max_length=queries.OBJECT_TYPE_MAX_LENGTH, description="e.g. cases.case"
    )
    object_id: str = Field("", max_length=queries.OBJECT_ID_MAX_LENGTH)
    case: str = Field(
        "",
        max_length=queries.CASE_FILTER_MAX_LENGTH,
        description="A case reference: everything about it",
    )
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    after_sequence: int | None = Field(
        None,
        ge=0,
        le=2**63 - 1,
        description="Only events after this sequence, oldest first: for shipping the log "
        "elsewhere in order",
    )
    limit: int = Field(100, ge=1, le=MAX_PAGE)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class DetailInWords(Schema):
    label: str = Field(description="The detail's name in the request's language")
    value: str = Field(description="Its value in words: people by username, items by reference")


class EventOut(Schema):
    sequence: int
    occurred_at: dt.datetime
    actor_kind: str
    actor_name: str
    actor_role: str = Field(description="The actor's role code, for machines")
    actor_role_label: str = Field(description="The actor's role in the request's language")
    actor_agency: str
    action: str = Field(description="The action's code, for machines (e.g. case.create)")
    action_label: str = Field(description="What happened, in the request's language")
    object_type: str
    object_type_label: str = Field(description="The object type's name in the request's language")
    object_id: str
    object_label: str = Field(description="The object's label as recorded")
    object_label_in_words: str = Field(
        description="The label as the audit page shows it (a team member by username)"
    )
    reason: str
    client_address: str | None
    details: dict[str, Any] = Field(description="The raw details (ids and codes), for machines")
    details_in_words: list[DetailInWords] = Field(
        description="The details as the audit page shows them, in the request's language"
    )
    prev_hash: str
    row_hash: str


class EventPage(Schema):
    count: int
    items: list[EventOut]


class ChainOut(Schema):
    ok: bool
    checked: int
    head_sequence: int
    head_hash: str
    broken_id: int | None
    broken_sequence: int | None
    reason: str


@router.get(
    "/events",
    response=EventPage,
    summary="Audit events, newest first (oldest first with after_sequence), filtered",
)
@api_requires(Perm.AUDIT_VIEW)
def events(request: HttpRequest, query: Query[EventQuery]) -> Any:
    criteria = EventFilter(
        actor=query.actor.strip(),
        action=query.action.strip(),
        object_type=query.object_type.strip(),
        object_id=query.object_id.strip(),
        case=query.case.strip(),
        date_from=query.date_from,
        date_to=query.date_to,
        after_sequence=query.after_sequence,
    )
    selected = filter_events(criteria)
    items: list[AuditEvent] = list(selected[query.offset : query.offset + query.limit])
    count = selected.count()
    record_audit_read(
        request.auth,  # type: ignore[attr-defined]
        "audit.view",
        request=request,
        via="api",
        offset=query.offset,
        limit=query.limit,
        **criteria.as_details(),
    )
    return {"count": count, "items": [_event_out(row) for row in in_words(items)]}


def _event_out(row: EventInWords) -> dict[str, Any]:
    event = row.event
    return {
        "sequence": event.sequence,
        "occurred_at": event.occurred_at,
        "actor_kind": event.actor_kind,
        "actor_name": event.actor_name,
        "actor_role": event.actor_role,
        "actor_role_label": row.actor_role,
        "actor_agency": event.actor_agency,
        "action": event.action,
        "action_label": row.action,
        "object_type": event.object_type,
        "object_type_label": row.object_type,
        "object_id": event.object_id,
        "object_label": event.object_label,
        "object_label_in_words": row.object_label,
        "reason": event.reason,
        "client_address": event.client_address,
        "details": event.details,
        "details_in_words": [{"label": d.label, "value": d.value} for d in row.details],
        "prev_hash": event.prev_hash,
        "row_hash": event.row_hash,
    }


@router.get("/verify", response=ChainOut, summary="Recompute the hash chain; name a broken row")
@api_requires(Perm.AUDIT_VIEW)
def verify(request: HttpRequest) -> Any:
    result = verify_chain()
    record_audit_read(
        request.auth,  # type: ignore[attr-defined]
        "audit.verify",
        request=request,
        via="api",
        ok=result.ok,
        checked=result.checked,
        broken_id=result.broken_id,
    )
    return result
