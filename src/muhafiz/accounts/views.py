"""Sign-in pages (to be completed with TOTP enrolment and verification)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse

from muhafiz.core.permissions import public

login = public(auth_views.LoginView.as_view(template_name="accounts/login.html"))


@public
def logout(request: HttpRequest) -> HttpResponse:
    return auth_views.LogoutView.as_view()(request)
