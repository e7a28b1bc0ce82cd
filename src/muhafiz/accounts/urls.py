"""Sign-in, two-factor enrolment, password change, and the administration of people and clients."""

from django.urls import path

from muhafiz.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login, name="login"),
    path("verify/", views.verify, name="verify"),
    path("enrol/", views.enrol, name="enrol"),
    path("password/", views.password_change, name="password_change"),
    path("logout/", views.logout, name="logout"),
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:pk>/", views.user_detail, name="user_detail"),
    path("users/<int:pk>/edit/", views.user_edit, name="user_edit"),
    path("users/<int:pk>/<slug:action>/", views.user_action, name="user_action"),
    path("clients/", views.client_list, name="client_list"),
    path("clients/new/", views.client_create, name="client_create"),
    path("clients/<int:pk>/revoke/", views.client_revoke, name="client_revoke"),
    path("clients/approvals/", views.client_approvals, name="client_approvals"),
    path("clients/<int:pk>/approve/", views.client_approve, name="client_approve"),
]
