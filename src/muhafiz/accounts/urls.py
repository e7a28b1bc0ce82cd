"""Sign-in, two-factor enrolment and sign-out."""

from django.urls import path

from muhafiz.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
]
