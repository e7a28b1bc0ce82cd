"""Pages of the insights app (under /statistics/)."""

from django.urls import URLPattern, path

from muhafiz.insights import views

app_name = "insights"
urlpatterns: list[URLPattern] = [
    path("", views.dashboard, name="dashboard"),
    path("data.csv", views.open_data_csv, name="data_csv"),
    path("stage-durations.csv", views.durations_csv, name="durations_csv"),
    path("data.json", views.open_data_json, name="data_json"),
    path("dictionary/", views.dictionary, name="dictionary"),
    path("staff/", views.staff, name="staff"),
    path("refresh/", views.refreshed, name="refreshed"),
    path("refresh/run/", views.refresh, name="refresh"),
]
