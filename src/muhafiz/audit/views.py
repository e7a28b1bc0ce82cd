"""The auditor's pages: the audit log with filters, and a check of the hash chain."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from muhafiz.audit.actions import record_audit_read
from muhafiz.audit.chain import verify_chain
from muhafiz.audit.queries import EventFilterForm, filter_events
from muhafiz.core.permissions import Perm, requires

EVENTS_PER_PAGE = 50


@requires(Perm.AUDIT_VIEW)
def event_list(request: HttpRequest) -> HttpResponse:
    form = EventFilterForm(request.GET or None)
    criteria = form.criteria()
    page = Paginator(filter_events(criteria), EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    # Reading the audit log is itself audited, with what was looked at.
    record_audit_read(
        request.user, "audit.view", request=request, page=page.number, **criteria.as_details()
    )
    query = urlencode({k: v for k, v in request.GET.items() if k != "page" and v})
    context = {"form": form, "page": page, "query": query}
    return render(request, "audit/event_list.html", context)


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
