"""The public pages of intake (under /report/): public by rule (`core.permissions.public`)."""

from django.urls import path

from muhafiz.intake import views

app_name = "report"
urlpatterns = [
    path("", views.public_report, name="new"),
    path("follow-up/", views.public_follow_up, name="follow_up"),
]
