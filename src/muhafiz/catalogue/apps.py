"""Catalogue: geography, agencies, offences and statutory deadlines, shipped as data."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CatalogueConfig(AppConfig):
    name = "muhafiz.catalogue"
    label = "catalogue"
    verbose_name = "Catalogue"

    def ready(self) -> None:
        from muhafiz.catalogue.shipped import install_after_migrate

        # After every migrate (and after a test database flush) the shipped rows are present.
        post_migrate.connect(install_after_migrate, sender=self, dispatch_uid="catalogue-install")
