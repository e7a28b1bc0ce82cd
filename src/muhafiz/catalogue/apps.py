from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "muhafiz.catalogue"
    label = "catalogue"
