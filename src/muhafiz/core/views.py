"""Views of the shell: the home page, the health check, the language switch."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST
from django.views.i18n import set_language as django_set_language

from muhafiz.core.permissions import granted_perms, is_verified_staff, public, signed_in


@signed_in
def home(request: HttpRequest) -> HttpResponse:
    perms = sorted(p.value for p in granted_perms(request.user))
    return render(request, "core/home.html", {"perms": perms})


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


@public
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch; a signed-in person's choice is also kept for their next visit."""
    response: HttpResponse = django_set_language(request)
    language = request.POST.get("language", "")
    user = request.user
    if is_verified_staff(user) and language in dict(settings.LANGUAGES):
        from muhafiz.accounts.actions import set_preferred_language

        set_preferred_language(user, language, request=request)  # type: ignore[arg-type]
    return response
