"""Pages of the cases app (under /cases/). Victims are addressed by code, never by name."""

from django.urls import path

from muhafiz.cases import views

app_name = "cases"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.case_create, name="create"),
    path("stations/", views.stations, name="stations"),
    path("statistics/", views.statistics, name="statistics"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/<int:alert_id>/read/", views.alert_read, name="alert_read"),
    path("export.csv", views.case_export, name="export"),
    path("referrals/", views.referral_queue, name="referral_queue"),
    path("section-rules/", views.section_rules, name="section_rules"),
    path(
        "section-rules/<int:rule_id>/active/",
        views.section_rule_active,
        name="section_rule_active",
    ),
    # The case's sections (proceedings/, evidence/ and links/ are the upper apps' pages).
    path("<str:reference>/", views.case_detail, name="detail"),
    path("<str:reference>/parties/", views.case_parties, name="parties"),
    path("<str:reference>/referrals/", views.case_referrals, name="referrals"),
    path("<str:reference>/history/", views.case_history, name="history"),
    path("<str:reference>/edit/", views.case_edit, name="edit"),
    path("<str:reference>/offences/", views.add_offences, name="add_offences"),
    path("<str:reference>/close/", views.case_close, name="close"),
    path("<str:reference>/reopen/", views.case_reopen, name="reopen"),
    path("<str:reference>/team/", views.team_add, name="team_add"),
    path("<str:reference>/team/request/", views.team_request, name="team_request"),
    path(
        "<str:reference>/team/requests/<int:request_id>/<str:decision>/",
        views.team_decide,
        name="team_decide",
    ),
    path("<str:reference>/team/<int:member_id>/remove/", views.team_remove, name="team_remove"),
    path("<str:reference>/victims/new/", views.victim_create, name="victim_create"),
    path("<str:reference>/victims/<str:code>/", views.victim_detail, name="victim"),
    path(
        "<str:reference>/victims/<str:code>/identity/",
        views.victim_identity,
        name="victim_identity",
    ),
    path(
        "<str:reference>/victims/<str:code>/identity/edit/",
        views.victim_identity_edit,
        name="victim_identity_edit",
    ),
    path(
        "<str:reference>/victims/<str:code>/consents/",
        views.victim_consents,
        name="victim_consents",
    ),
    path(
        "<str:reference>/victims/<str:code>/override/",
        views.victim_override,
        name="victim_override",
    ),
    path("<str:reference>/accused/new/", views.accused_create, name="accused_create"),
    path("<str:reference>/accused/<str:label>/", views.accused_detail, name="accused"),
    path("<str:reference>/accused/<str:label>/edit/", views.accused_edit, name="accused_edit"),
    path("<str:reference>/witnesses/new/", views.witness_create, name="witness_create"),
    path("<str:reference>/referrals/new/", views.referral_create, name="referral_create"),
    path(
        "<str:reference>/referrals/<int:referral_id>/<str:decision>/",
        views.referral_decide,
        name="referral_decide",
    ),
]
