"""API routes of the audit app (mounted under /api/v1/audit): read the log, check the chain."""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from muhafiz.audit.actions import record_audit_read
from muhafiz.audit.chain import verify_chain
from muhafiz.audit.models import AuditEvent
from muhafiz.audit.queries import EventFilter, filter_events
from muhafiz.core.api import MAX_OFFSET, api_requires
from muhafiz.core.permissions import Perm

router = Router(tags=["audit"])

MAX_PAGE = 500


class EventQuery(Schema):
    actor: str = Field("", max_length=150, description="Username or API client name, exact")
    action: str = Field("", max_length=100, description="A dotted action name or its beginning")
    object_type: str = Field("", max_length=100, description="e.g. cases.case")
    object_id: str = Field("", max_length=64)
    case: str = Field("", max_length=40, description="A case reference: everything about it")
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


class EventOut(Schema):
    sequence: int
    occurred_at: dt.datetime
    actor_kind: str
    actor_name: str
    actor_role: str
    actor_agency: str
    action: str
    object_type: str
    object_id: str
    object_label: str
    reason: str
    client_address: str | None
    details: dict[str, Any]
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
    return {"count": count, "items": items}


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
