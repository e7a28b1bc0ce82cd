"""Pages of the proceedings app: a case's stages and clocks, and the overdue dashboards."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from muhafiz.accounts.roles import Role
from muhafiz.cases.models import Case
from muhafiz.cases.selectors import case_rights, load_case
from muhafiz.catalogue.models import District
from muhafiz.core import spreadsheet
from muhafiz.core.forms import apply_errors
from muhafiz.core.pages import paginate
from muhafiz.core.permissions import Perm, has_perm, requires
from muhafiz.core.revisions import changes
from muhafiz.proceedings import actions, diary, selectors
from muhafiz.proceedings.forms import (
    CorrectionForm,
    DashboardFilterForm,
    DiaryForm,
    StageEventForm,
    VoidForm,
)
from muhafiz.proceedings.models import StageEvent


@requires(Perm.CASE_VIEW)
@require_http_methods(["GET", "POST"])
def case_stages(request: HttpRequest, reference: str) -> HttpResponse:
    """The case's timeline, and for its team, the form that records the next stage."""
    case = load_case(request.user, reference, Perm.CASE_VIEW)
    can_edit = case_rights(request.user, case)["edit"]
    form = None
    if can_edit or request.method == "POST":
        form = StageEventForm(request.POST or None, case=case)
    if request.method == "POST":  # the action decides who may record (PermissionDenied: 403)
        if not case.is_open:
            return HttpResponse(status=409)
        if form is not None and form.is_valid():
            data = form.cleaned_data
            try:
                actions.record_stage_event(
                    request.user,
                    case,
                    code=data["code"],
                    occurred_at=data["occurred_at"],
                    accused=data["accused"],
                    remand_days=data["remand_days"],
                    outcome=data["outcome"],
                    sentence=data["sentence"],
                    court=data["court"],
                    note=data["note"],
                    fir_number=data["fir_number"],
                    police_station=data["police_station"],
                    next_hearing_at=data["next_hearing_at"],
                    request=request,
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Stage recorded."))
                return redirect("proceedings:case", reference=case.reference)
    context: dict[str, Any] = {"case": case, "form": form, "can_edit": can_edit}
    return render(request, "proceedings/case_stages.html", context)


def _filters(request: HttpRequest) -> tuple[DashboardFilterForm, selectors.DashboardFilter]:
    form = DashboardFilterForm(request.GET or None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        district = data.get("district")
        return form, selectors.DashboardFilter(
            district_id=district.pk if district else None,
            since=data.get("since"),
            until=data.get("until"),
            stage=data.get("stage") or "",
        )
    return form, selectors.DashboardFilter()


# Each grouping on the page shows its worst rows; the CSV export has them all.
PAGE_ROWS = 25


@requires(Perm.STATS_VIEW)
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Overdue and due-soon clocks per district, station, prosecutor and court; stage
    durations; the cases stalled longest. Limited to the person's jurisdiction."""
    form, filters = _filters(request)
    board, as_of = selectors.cached_dashboard(request.user, filters, limit=PAGE_ROWS)
    titles = {
        "district": _("Per district"),
        "police_station": _("Per police station"),
        "prosecutor": _("Per prosecutor"),
        "court": _("Per court"),
    }
    can_open_cases = has_perm(request.user, Perm.CASE_VIEW)
    links = _case_links(board, filters) if can_open_cases else {}
    context = {
        "form": form,
        "board": board,
        "sections": [
            (group, titles[group], [(row, links.get((group, row.key))) for row in rows])
            for group, rows in board.overdue.items()
        ],
        "stalled_url": f"{reverse('cases:list')}?status=open&sort=stalled",
        "can_open_cases": can_open_cases,
        "query": request.GET.urlencode(),
        "page_rows": PAGE_ROWS,
        "as_of": as_of,
    }
    return render(request, "proceedings/dashboard.html", context)


# The case list's filter for each grouping of the dashboard.
GROUP_FILTERS = {
    "district": "district",
    "police_station": "station",
    "prosecutor": "prosecutor",
    "court": "court",
}


def _case_links(
    board: selectors.Dashboard, filters: selectors.DashboardFilter
) -> dict[tuple[str, int | None], str]:
    """For each row of the dashboard, the case list behind its counts (without the state:
    the template adds `overdue=missed` or `overdue=due_soon`)."""
    district_ids = [row.key for row in board.overdue.get("district", []) if row.key]
    codes = dict(District.objects.filter(pk__in=district_ids).values_list("pk", "code"))
    base = {"status": "open"}
    if filters.district_id:
        base["district"] = str(
            District.objects.filter(pk=filters.district_id).values_list("code", flat=True).first()
        )
    links: dict[tuple[str, int | None], str] = {}
    for group, rows in board.overdue.items():
        for row in rows:
            if row.key is None:
                continue
            value = codes.get(row.key, "") if group == "district" else str(row.key)
            if value:
                params = {**base, GROUP_FILTERS[group]: value}
                links[(group, row.key)] = f"{reverse('cases:list')}?{urlencode(params)}"
    return links


# Clocks a page of "my deadlines".
CLOCKS_PER_PAGE = 50


@requires(Perm.CASE_VIEW)
@require_GET
def my_deadlines(request: HttpRequest) -> HttpResponse:
    """The deadline dashboard of the cases on my team (a prosecutor's, an investigator's): how
    many are missed and nearly due, per court, each count to the cases behind it, and every
    running clock with the time left."""
    totals, courts = selectors.team_clock_counts(request.user)
    page, query = paginate(request, selectors.team_clocks(request.user), CLOCKS_PER_PAGE)
    cases_url = f"{reverse('cases:list')}?{urlencode({'member': request.user.pk})}"
    context = {
        "totals": totals,
        "courts": courts,
        "page": page,
        "query": query,
        "cases_url": cases_url,
        "now": timezone.now(),
    }
    return render(request, "proceedings/my_deadlines.html", context)


@requires(Perm.STATS_VIEW)
@require_GET
def dashboard_csv(request: HttpRequest) -> HttpResponse:
    """The dashboard as CSV: places, courts, case references, counts. No person's identity."""
    _form, filters = _filters(request)
    board, _as_of = selectors.cached_dashboard(request.user, filters)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="muhafiz-overdue-{stamp}.csv"'
    writer = spreadsheet.writer(response)
    for row in selectors.dashboard_csv_rows(board):
        writer.writerow(row)
    return response


# --- the court diary ----------------------------------------------------------------------------

HEARINGS_PER_PAGE = 50


def _diary_filters(request: HttpRequest) -> tuple[DiaryForm, diary.DiaryFilter, str, date]:
    """The diary's form, its filter, the view (list or week) and the week's Monday. Unfiltered,
    a prosecutor sees their own diary."""
    data = request.GET.copy()
    if not data and getattr(request.user, "role", "") == Role.PROSECUTOR:
        data["prosecutor"] = str(request.user.pk)
    form = DiaryForm(data or None)
    cleaned = form.cleaned_data if form.is_bound and form.is_valid() else {}
    court, prosecutor = cleaned.get("court"), cleaned.get("prosecutor")
    filters = diary.DiaryFilter(
        court_id=court.pk if court else None, prosecutor_id=prosecutor.pk if prosecutor else None
    )
    monday = diary.week_start(cleaned.get("week") or timezone.localdate())
    return form, filters, cleaned.get("view") or "list", monday


@requires(Perm.CASE_VIEW)
@require_GET
def court_diary(request: HttpRequest) -> HttpResponse:
    """Hearings fixed on the open cases the person may see, per court and per prosecutor: the
    coming ones as a list (paged), or one week day by day."""
    form, filters, view, monday = _diary_filters(request)
    params = {k: v for k, v in request.GET.items() if k not in {"page", "week"} and v}
    if not request.GET and filters.prosecutor_id:
        params["prosecutor"] = str(filters.prosecutor_id)
    context: dict[str, Any] = {"form": form, "view": view, "filters": urlencode(params)}
    if view == "week":
        context["days"] = diary.week(request.user, filters, monday)
        context["monday"] = monday
        context["previous_week"] = (monday - timedelta(days=7)).isoformat()
        context["next_week"] = (monday + timedelta(days=7)).isoformat()
    else:
        coming = dataclasses.replace(filters, since=diary.local_midnight(timezone.localdate()))
        page, query = paginate(request, diary.hearings(request.user, coming), HEARINGS_PER_PAGE)
        context.update(page=page, query=query)
    return render(request, "proceedings/diary.html", context)


@requires(Perm.CASE_VIEW)
@require_GET
def court_diary_ics(request: HttpRequest) -> HttpResponse:
    """The diary's coming hearings (and those of the last 30 days) as an iCalendar file: case
    references, courts, stages and adjournments; no victim, no accused."""
    _form, filters, _view, _monday = _diary_filters(request)
    window = dataclasses.replace(
        filters, since=diary.local_midnight(timezone.localdate() - timedelta(days=30))
    )
    body = diary.ical(diary.hearings(request.user, window), host=request.get_host().split(":")[0])
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="muhafiz-court-diary.ics"'
    response["Cache-Control"] = "no-store"
    return response


# --- corrections --------------------------------------------------------------------------------


def _event_of(request: HttpRequest, reference: str, event_id: int) -> tuple[Case, StageEvent]:
    case = load_case(request.user, reference, Perm.CASE_VIEW)
    return case, get_object_or_404(StageEvent.all_objects, pk=event_id, case=case)


@requires(Perm.CASE_VIEW)
@require_http_methods(["GET", "POST"])
def event_correct(request: HttpRequest, reference: str, event_id: int) -> HttpResponse:
    """One stage event: its history, and for the case's team, the forms that correct or void
    it with a reason (the action decides who may: PermissionDenied is a 403)."""
    case, event = _event_of(request, reference, event_id)
    initial = {
        name: getattr(event, name) for name in CorrectionForm.base_fields if name != "reason"
    }
    form = CorrectionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.correct_stage_event(
                request.user,
                event,
                reason=data["reason"],
                occurred_at=data["occurred_at"],
                remand_days=data["remand_days"] or 0,
                outcome=data["outcome"],
                sentence=data["sentence"],
                court=data["court"],
                next_hearing_at=data["next_hearing_at"],
                note=data["note"],
                request=request,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Correction recorded; the deadlines follow it."))
            return redirect("proceedings:event", reference=case.reference, event_id=event.pk)
    labels = {name: f.label or name for name, f in CorrectionForm.base_fields.items()}
    context = {
        "case": case,
        "event": event,
        "form": form,
        "void_form": VoidForm(),
        "revisions": [
            (revision, changes(revision.before, revision.after, labels))
            for revision in event.revisions.select_related("revised_by")
        ],
        "can_edit": case_rights(request.user, case)["edit"] and event.voided_at is None,
    }
    return render(request, "proceedings/event.html", context)


@requires(Perm.CASE_VIEW)
@require_POST
def event_void(request: HttpRequest, reference: str, event_id: int) -> HttpResponse:
    case, event = _event_of(request, reference, event_id)
    form = VoidForm(request.POST)
    if form.is_valid():
        try:
            actions.void_stage_event(
                request.user, event, reason=form.cleaned_data["reason"], request=request
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Entry voided; the deadlines follow it."))
    else:
        messages.error(request, _("Say why this entry is void."))
    return redirect("proceedings:event", reference=case.reference, event_id=event.pk)
