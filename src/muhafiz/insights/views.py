"""Pages of the insights app: the public dashboard and its open data (public by rule), the
staff statistics (STATS_VIEW) and the administrator's refresh (JOB_MANAGE)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from muhafiz.core import spreadsheet
from muhafiz.core.permissions import Perm, has_perm, public, requires
from muhafiz.insights import actions, charts, selectors
from muhafiz.insights.forms import StaffFilterForm

# The public figures change only when the summary job runs; browsers and proxies may keep them.
PUBLIC_MAX_AGE = 300
# A computed area page lives in the cache under the refresh's id, so a refresh replaces it.
PUBLIC_CACHE_SECONDS = 6 * 3600


def _public(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    return response


def _year(request: HttpRequest) -> int | None:
    raw = request.GET.get("year", "")
    return int(raw) if raw.isdigit() and len(raw) == 4 else None


def _dashboard_context(area: str, year: int | None) -> dict[str, Any]:
    board = selectors.public_dashboard(area, year)
    labels = [label for _code, label in board.measures]
    context: dict[str, Any] = {
        "board": board,
        "outcome_chart": None,
        "trend_chart": None,
        "breakdown_charts": {},
    }
    if board.area_row is not None:
        context["outcome_chart"] = charts.bar_chart(
            _("Outcomes in %(area)s, %(year)s") % {"area": board.area.name, "year": board.year},
            _("Bar chart of the figures in the table beside it."),
            [
                charts.Point(label, shown)
                for label, shown in zip(labels, board.area_row.cells, strict=True)
            ],
        )
        context["trend_chart"] = charts.line_chart(
            _("Trend in %(area)s") % {"area": board.area.name},
            _("Line chart of the yearly figures in the table beside it."),
            [str(y) for y, _cells in board.trend],
            [
                (label, [cells[i] for _y, cells in board.trend])
                for i, label in enumerate(labels)
                if board.measures[i][0] in {"reports_received", "firs", "challans", "convictions"}
            ],
        )
        context["breakdown_charts"] = {
            b.code: charts.bar_chart(
                b.title,
                _("Bar chart of the figures in the table beside it."),
                [charts.Point(label, shown) for label, shown in b.rows],
            )
            for b in board.breakdowns
        }
    return context


@public
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Outcomes per area and year, suppressed; no sign-in.

    The page's body (tables and charts of one area, year and language) is rendered once per
    refresh of the summary tables and cached under that refresh; for a visitor who is not
    signed in, so is the whole page (its language switch is a link, `?lang=`, not a form, so
    it carries no CSRF token). Signed-in staff get the shell rendered for them around it.
    """
    language = request.GET.get("lang", "")
    if language in dict(settings.LANGUAGES):
        translation.activate(language)
        request.LANGUAGE_CODE = language
    area = request.GET.get("area", "PK").upper()[:8]
    year = _year(request)
    key = f"insights:public:{selectors.published_generation()}:{get_language()}:{area}:{year}"
    anonymous = not getattr(request.user, "is_authenticated", False)
    page = cache.get(f"{key}:page") if anonymous else None
    if page is None:
        body = cache.get(key)
        if body is None:
            refresh = selectors.latest_refresh()
            context = _dashboard_context(area, year)
            body = render_to_string("insights/dashboard_body.html", {**context, "refresh": refresh})
            cache.set(key, body, PUBLIC_CACHE_SECONDS)
        # A visitor's page is rendered without the request, so the cached copy carries no
        # one's CSRF token, session or messages: it is the same for every visitor.
        page = render_to_string(
            "insights/dashboard.html",
            {
                "body": mark_safe(body),  # noqa: S308 - our own template's output
                "area": area,
                "year": year,
                "LANGUAGES": settings.LANGUAGES,
            },
            request=None if anonymous else request,
        )
        if anonymous:
            cache.set(f"{key}:page", page, PUBLIC_CACHE_SECONDS)
    response = _public(HttpResponse(page))
    if language in dict(settings.LANGUAGES):
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax")
    return response


@public
@require_GET
def open_data_csv(request: HttpRequest) -> HttpResponse:
    """Every published cell as CSV (the data dictionary explains the columns)."""
    cells, _durations = selectors.open_data()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="muhafiz-statistics.csv"'
    writer = spreadsheet.writer(response)
    writer.writerow(selectors.OPEN_DATA_COLUMNS)
    for row in cells:
        writer.writerow([row[c] for c in selectors.OPEN_DATA_COLUMNS])
    return _public(response)


@public
@require_GET
def durations_csv(request: HttpRequest) -> HttpResponse:
    """Every published stage duration as CSV."""
    _cells, durations = selectors.open_data()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="muhafiz-stage-durations.csv"'
    writer = spreadsheet.writer(response)
    writer.writerow(selectors.DURATION_COLUMNS)
    for row in durations:
        writer.writerow(["" if row[c] is None else row[c] for c in selectors.DURATION_COLUMNS])
    return _public(response)


@public
@require_GET
def open_data_json(request: HttpRequest) -> HttpResponse:
    """Every published cell and duration, with the data dictionary, as JSON."""
    cells, durations = selectors.open_data()
    refresh = selectors.latest_refresh()
    body = {
        "generated_at": refresh.finished_at.isoformat() if refresh else None,
        "dictionary": selectors.data_dictionary(),
        "cells": cells,
        "stage_durations": durations,
    }
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    return _public(response)


@public
@require_GET
def dictionary(request: HttpRequest) -> HttpResponse:
    """The data dictionary as a page."""
    return _public(
        render(request, "insights/dictionary.html", {"dictionary": selectors.data_dictionary()})
    )


@requires(Perm.STATS_VIEW)
@require_GET
def staff(request: HttpRequest) -> HttpResponse:
    """The same figures, unsuppressed, for the person's jurisdiction, with filters."""
    form = StaffFilterForm(request.GET or None)
    stats = selectors.staff_statistics(request.user, form.filters())
    labels = [label for _code, label in stats.measures]
    trend = charts.line_chart(
        _("Figures per year"),
        _("Line chart of the yearly figures in the table beside it."),
        [str(y) for y, _v in stats.by_year],
        [(label, [str(v[i]) for _y, v in stats.by_year]) for i, label in enumerate(labels)],
    )
    breakdown_charts = [
        (
            title,
            rows,
            charts.bar_chart(
                title,
                _("Bar chart of the figures in the table beside it."),
                [charts.Point(label, str(n)) for label, n in rows],
            ),
        )
        for title, rows in stats.breakdowns
    ]
    context = {
        "form": form,
        "stats": stats,
        "trend_chart": trend,
        "breakdowns": breakdown_charts,
        "refresh": selectors.latest_refresh(),
        "can_refresh": has_perm(request.user, Perm.JOB_MANAGE),
    }
    return render(request, "insights/staff.html", context)


@requires(Perm.JOB_MANAGE)
@require_POST
def refresh(request: HttpRequest) -> HttpResponse:
    """The administrator rebuilds the summary tables now (audited)."""
    done = actions.refresh_summaries(request.user, request=request)
    messages.success(
        request,
        _("Statistics refreshed: %(cases)s cases counted in %(seconds)s s.")
        % {"cases": done.cases_counted, "seconds": done.seconds},
    )
    return redirect("insights:refreshed")


@requires(Perm.JOB_MANAGE)
@require_GET
def refreshed(request: HttpRequest) -> HttpResponse:
    """Where the administrator lands: when the tables were last rebuilt, and the button."""
    recent = list(selectors.recent_refreshes())
    return render(request, "insights/refresh.html", {"refreshes": recent})
