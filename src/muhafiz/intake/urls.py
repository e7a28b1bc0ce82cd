"""Staff pages of intake (under /intake/): the queue, the helpline form, a report, clusters."""

from django.urls import path

from muhafiz.intake import views

app_name = "intake"
urlpatterns = [
    path("", views.queue, name="list"),
    path("helpline/", views.helpline, name="helpline"),
    path("reports/<str:reference>/", views.report_detail, name="report"),
    path("reports/<str:reference>/screen/", views.report_screen, name="screen"),
    path("reports/<str:reference>/refer/", views.report_refer, name="refer"),
    path("reports/<str:reference>/close/", views.report_close, name="close"),
    path("reports/<str:reference>/reply/", views.report_reply, name="reply"),
    path("reports/<str:reference>/assign/", views.report_assign, name="assign"),
    path("reports/<str:reference>/route/", views.report_route, name="route"),
    path("reports/<str:reference>/open-case/", views.report_open_case, name="open_case"),
    path("clusters/<int:cluster_id>/", views.cluster_detail, name="cluster"),
    path("clusters/<int:cluster_id>/ip-events.csv", views.cluster_ip_export, name="cluster_ip"),
]
