"""Pages of the register (under /register/). Registrants by code; no name or CNIC in a URL."""

from django.urls import path

from muhafiz.register import views

app_name = "register"
urlpatterns = [
    path("", views.home, name="home"),
    path("rules/", views.rules, name="rules"),
    path("rules/periods/<str:code>/", views.rule_edit, name="rule_edit"),
    path("rules/notices/<str:kind>/", views.notice_rule_edit, name="notice_rule_edit"),
    path("alerts/<int:alert_id>/read/", views.alert_read, name="alert_read"),
    path("registrants/", views.registrant_list, name="registrants"),
    path("registrants/<str:code>/", views.registrant_detail, name="registrant"),
    path(
        "registrants/<str:code>/convictions/<int:conviction_id>/confirm/",
        views.conviction_confirm,
        name="conviction_confirm",
    ),
    path("registrants/<str:code>/release/", views.release, name="release"),
    path("registrants/<str:code>/verifications/", views.verification, name="verification"),
    path("registrants/<str:code>/notifications/", views.notification, name="notification"),
    path("registrants/<str:code>/changes/", views.change_detected, name="change_detected"),
    path("registrants/<str:code>/removal/", views.removal, name="removal"),
    path("registrants/<str:code>/due-process/", views.due_process, name="due_process"),
    path(
        "registrants/<str:code>/due-process/<int:item_id>/decide/",
        views.due_process_decide,
        name="due_process_decide",
    ),
    path("checks/", views.check_list, name="checks"),
    path("checks/new/", views.check_new, name="check_new"),
    path("checks/<int:check_id>/", views.check_detail, name="check"),
    path("checks/<int:check_id>/decide/", views.check_decide, name="check_decide"),
    path("checks/<int:check_id>/result/", views.check_result, name="check_result"),
    path("vetting/", views.vetting, name="vetting"),
    path("vetting/answers/", views.applicant_answers, name="applicant_answers"),
    path("organisations/", views.organisations, name="organisations"),
    path(
        "organisations/<int:organisation_id>/decide/",
        views.organisation_decide,
        name="organisation_decide",
    ),
    path(
        "organisations/<int:organisation_id>/members/",
        views.organisation_member,
        name="organisation_member",
    ),
    path("incidents/", views.incidents, name="incidents"),
]
