"""Pages of the proceedings app."""

from django.urls import URLPattern

app_name = "proceedings"
urlpatterns: list[URLPattern] = []
