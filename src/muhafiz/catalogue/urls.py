"""Pages of the catalogue app: the administrator's offences, deadlines, agencies and geography."""

from django.urls import path

from muhafiz.catalogue import views

app_name = "catalogue"
urlpatterns = [
    path("", views.home, name="home"),
    path("offences/", views.offence_list, name="offence_list"),
    path("offences/new/", views.offence_create, name="offence_create"),
    path("offences/<int:pk>/", views.offence_edit, name="offence_edit"),
    path("deadlines/", views.rule_list, name="rule_list"),
    path("deadlines/new/", views.rule_create, name="rule_create"),
    path("deadlines/<int:pk>/", views.rule_edit, name="rule_edit"),
    path("agencies/", views.agency_list, name="agency_list"),
    path("agencies/new/", views.agency_create, name="agency_create"),
    path("agencies/<int:pk>/", views.agency_edit, name="agency_edit"),
    path("geography/", views.geography, name="geography"),
    path("stations/", views.station_list, name="station_list"),
    path("stations/new/", views.station_create, name="station_create"),
    path("stations/import/", views.station_import, name="station_import"),
    path("stations/<int:pk>/", views.station_edit, name="station_edit"),
    path("gazetteer/", views.place_list, name="place_list"),
    path("gazetteer/new/", views.place_create, name="place_create"),
    path("gazetteer/import/", views.place_import, name="place_import"),
    path("gazetteer/<int:pk>/", views.place_edit, name="place_edit"),
]
