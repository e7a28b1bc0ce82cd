"""Pages of the hash banks."""

from django.urls import URLPattern, path

from muhafiz.hashbank import views

app_name = "hashbank"
urlpatterns: list[URLPattern] = [
    path("", views.bank_list, name="list"),
    path("<int:pk>/", views.bank_detail, name="bank"),
    path("<int:pk>/enabled/", views.bank_enable, name="enable"),
    path("<int:pk>/import/", views.bank_import, name="import"),
    path("<int:pk>/export/<str:fmt>/", views.bank_export, name="export"),
]
