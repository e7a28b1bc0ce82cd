"""The URL map. Every route declares its access rule (see muhafiz.core.permissions)."""

from __future__ import annotations

from django.urls import include, path

import muhafiz.api_routes  # noqa: F401 - registers the routers on the API
from muhafiz.accounts import views as accounts_views
from muhafiz.core import views
from muhafiz.core.api import api

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("i18n/setlang/", accounts_views.set_language, name="set_language"),
    path("accounts/", include("muhafiz.accounts.urls")),
    path("audit/", include("muhafiz.audit.urls")),
    path("catalogue/", include("muhafiz.catalogue.urls")),
    path("cases/", include("muhafiz.cases.urls")),
    # Their own pages under /proceedings/ and /evidence/, and the case's sections they own under
    # /cases/<reference>/ (proceedings/, evidence/, links/).
    path("", include("muhafiz.proceedings.urls")),
    path("", include("muhafiz.evidence.urls")),
    path("statistics/", include("muhafiz.insights.urls")),
    path("intake/", include("muhafiz.intake.urls")),
    path("report/", include("muhafiz.intake.public_urls")),
    path("register/", include("muhafiz.register.urls")),
    path("banks/", include("muhafiz.hashbank.urls")),
    path("jobs/", include("muhafiz.ops.jobs_views")),
    path("api/", api.urls),
    path("", include("muhafiz.hashbank.hma_urls")),
]
