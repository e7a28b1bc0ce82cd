"""Hasher-Matcher-Actioner compatible routes (/h/…, /m/…, /c/…) for HMA's existing clients."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
