"""Hasher-Matcher-Actioner compatible routes (/h/…, /m/…, /c/…) for HMA's existing clients."""

from django.urls import URLPattern, path

from muhafiz.hashbank import hma

app_name = "hma"

urlpatterns: list[URLPattern] = [
    path("h/hash", hma.hash_media, name="hash"),
    path("m/raw_lookup", hma.raw_lookup, name="raw_lookup"),
    path("m/lookup", hma.lookup, name="lookup"),
    path("m/index/status", hma.index_status, name="index_status"),
    path("c/banks", hma.banks_index, name="banks"),
    path("c/bank/<str:bank_name>", hma.bank_show, name="bank"),
    path("c/bank/<str:bank_name>/content/<int:content_id>", hma.bank_content, name="bank_content"),
]
