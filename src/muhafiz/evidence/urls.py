"""Pages of the evidence app."""

from django.urls import URLPattern

app_name = "evidence"
urlpatterns: list[URLPattern] = []
