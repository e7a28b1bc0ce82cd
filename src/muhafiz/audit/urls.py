"""Pages of the audit app."""

from django.urls import URLPattern, path

from muhafiz.audit import views

app_name = "audit"
urlpatterns: list[URLPattern] = [
    path("", views.event_list, name="log"),
    path("export.csv", views.export_csv, name="export"),
    path("verify/", views.verify, name="verify"),
]
