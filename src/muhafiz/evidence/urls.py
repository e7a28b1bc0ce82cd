"""Pages of the evidence app."""

from django.urls import URLPattern, path

from muhafiz.evidence import views

app_name = "evidence"
urlpatterns: list[URLPattern] = [
    path("case/<str:reference>/", views.case_evidence, name="case"),
    path("items/<int:pk>/", views.item_detail, name="item"),
    path("items/<int:pk>/custody-record/", views.custody_record, name="custody_record"),
    path("scans/<int:pk>/", views.scan_detail, name="scan"),
    path("scans/<int:pk>/report/<str:fmt>/", views.scan_report, name="scan_report"),
    path("scans/<int:pk>/bank/", views.scan_to_bank, name="scan_bank"),
    path("media/<int:pk>/reveal/", views.media_reveal, name="reveal"),
    path("media/<int:pk>/categorize/", views.media_categorize, name="categorize"),
    path("network/", views.network, name="network"),
]
