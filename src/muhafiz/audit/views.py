"""The auditor's pages: the audit log with filters, and a check of the hash chain."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from muhafiz.audit.actions import record_audit_read
from muhafiz.audit.chain import verify_chain
from muhafiz.audit.models import AuditEvent
from muhafiz.audit.queries import EventFilterForm, filter_events
from muhafiz.audit.words import in_words
from muhafiz.core import spreadsheet
from muhafiz.core.permissions import Perm, requires

EVENTS_PER_PAGE = 50


@requires(Perm.AUDIT_VIEW)
def event_list(request: HttpRequest) -> HttpResponse:
    form = EventFilterForm(request.GET or None)
    criteria = form.criteria()
    page = Paginator(filter_events(criteria), EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    # Read the page before this reading is recorded, or the new entry would push one out.
    rows = in_words(page)
    # Reading the audit log is itself audited, with what was looked at.
    record_audit_read(
        request.user, "audit.view", request=request, page=page.number, **criteria.as_details()
    )
    query = urlencode({k: v for k, v in request.GET.items() if k != "page" and v})
    # A person's name narrows what is shown to them, keeping the other filters (one case…).
    others = urlencode({k: v for k, v in request.GET.items() if k not in ("page", "actor") and v})
    context = {"form": form, "page": page, "rows": rows, "query": query, "others": others}
    return render(request, "audit/event_list.html", context)


EXPORT_CHUNK = 2000


@requires(Perm.AUDIT_VIEW)
def export_csv(request: HttpRequest) -> HttpResponse:
    """The filtered view as CSV, in words as on the page (formula-safe cells); the export is
    itself audited with its filters and how many entries it held."""
    form = EventFilterForm(request.GET or None)
    criteria = form.criteria()
    events = filter_events(criteria)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    out = spreadsheet.writer(response)
    out.writerow(
        [
            _("No."),
            _("Time (Pakistan)"),
            _("Time (UTC)"),
            _("Person"),
            _("Role at the time"),
            _("Action"),
            _("Action code"),
            _("Object type"),
            _("Object"),
            _("Purpose or reason"),
            _("Client address"),
            _("Details"),
        ]
    )
    count = 0
    chunk: list[AuditEvent] = []
    for event in events.iterator(chunk_size=EXPORT_CHUNK):
        chunk.append(event)
        if len(chunk) == EXPORT_CHUNK:
            count += _write_rows(out, chunk)
            chunk = []
    count += _write_rows(out, chunk)
    record_audit_read(
        request.user, "audit.export", request=request, rows=count, **criteria.as_details()
    )
    return response


def _write_rows(out: spreadsheet.SafeWriter, events: list[AuditEvent]) -> int:
    for row in in_words(events):
        event = row.event
        out.writerow(
            [
                event.sequence,
                timezone.localtime(event.occurred_at).strftime("%Y-%m-%d %H:%M:%S"),
                event.occurred_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
                event.actor_name,
                row.actor_role,
                row.action,
                event.action,
                row.object_type,
                row.object_label,
                event.reason,
                event.client_address or "",
                "; ".join(f"{d.label}: {d.value}" for d in row.details),
            ]
        )
    return len(events)


@requires(Perm.AUDIT_VIEW)
@require_POST
def verify(request: HttpRequest) -> HttpResponse:
    result = verify_chain()
    record_audit_read(
        request.user,
        "audit.verify",
        request=request,
        ok=result.ok,
        checked=result.checked,
        broken_id=result.broken_id,
    )
    return render(request, "audit/verify.html", {"result": result})
