"""Proceedings: a case's legal stages, the statutory clocks they start and stop, dashboards."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate, post_save


class ProceedingsConfig(AppConfig):
    name = "muhafiz.proceedings"
    label = "proceedings"
    verbose_name = "Proceedings"

    def ready(self) -> None:
        from muhafiz.proceedings.holidays import install_after_migrate

        # After every migrate (and every test-database flush) the shipped holidays are present.
        post_migrate.connect(install_after_migrate, sender=self, dispatch_uid="holidays-install")

        from muhafiz.proceedings.signals import case_saved

        # A case opened or changed brings its clocks up to date once its transaction commits.
        post_save.connect(case_saved, sender="cases.Case", dispatch_uid="proceedings-case-saved")
