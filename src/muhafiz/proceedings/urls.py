"""Pages of the proceedings app (under /proceedings/)."""

from django.urls import URLPattern, path

from muhafiz.proceedings import views

app_name = "proceedings"
urlpatterns: list[URLPattern] = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard.csv", views.dashboard_csv, name="dashboard_csv"),
    path("my-deadlines/", views.my_deadlines, name="my_deadlines"),
    path("diary/", views.court_diary, name="diary"),
    path("diary.ics", views.court_diary_ics, name="diary_ics"),
    path("cases/<str:reference>/", views.case_stages, name="case"),
    path("cases/<str:reference>/events/<int:event_id>/", views.event_correct, name="event"),
    path("cases/<str:reference>/events/<int:event_id>/void/", views.event_void, name="event_void"),
]
