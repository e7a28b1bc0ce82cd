"""Pages of the evidence app: its own under /evidence/, and the case's sections "evidence and
scans" and "links and network" under the case, /cases/<reference>/evidence/ and …/links/ (the
project mounts this at the root)."""

from django.urls import URLPattern, path

from muhafiz.evidence import views

app_name = "evidence"
urlpatterns: list[URLPattern] = [
    path("cases/<str:reference>/evidence/", views.case_evidence, name="case"),
    path("cases/<str:reference>/links/", views.case_links, name="links"),
    path("evidence/items/<int:pk>/", views.item_detail, name="item"),
    path("evidence/items/<int:pk>/correct/", views.item_correct, name="item_correct"),
    path("evidence/items/<int:pk>/custody/<int:seq>/", views.custody_entry, name="custody_entry"),
    path("evidence/items/<int:pk>/custody-record/", views.custody_record, name="custody_record"),
    path("evidence/scans/<int:pk>/", views.scan_detail, name="scan"),
    path("evidence/scans/<int:pk>/report/<str:fmt>/", views.scan_report, name="scan_report"),
    path("evidence/scans/<int:pk>/bank/", views.scan_to_bank, name="scan_bank"),
    path("evidence/media/<int:pk>/reveal/", views.media_reveal, name="reveal"),
    path("evidence/media/<int:pk>/categorize/", views.media_categorize, name="categorize"),
    path("evidence/network/", views.network, name="network"),
]
