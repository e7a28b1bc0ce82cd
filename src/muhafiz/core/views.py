"""Views of the shell: the home page and the health check (the language switch is accounts')."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.http import require_GET

from muhafiz.core.home import work_queue
from muhafiz.core.permissions import public, signed_in


@signed_in
def home(request: HttpRequest) -> HttpResponse:
    """The person's work queue: what each app has for them to do today."""
    panels = work_queue(request.user, now=timezone.now())
    return render(request, "core/home.html", {"panels": panels})


@public
@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page links: send them to the platform's icon."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


@public
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for load balancers; says nothing else."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return JsonResponse({"status": "ok"})
    except Exception:
        return JsonResponse({"status": "database unavailable"}, status=503)
