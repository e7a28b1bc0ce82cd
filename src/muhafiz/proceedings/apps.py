"""Proceedings: a case's legal stages, the statutory clocks they start and stop, dashboards."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ProceedingsConfig(AppConfig):
    name = "muhafiz.proceedings"
    label = "proceedings"
    verbose_name = "Proceedings"

    def ready(self) -> None:
        from muhafiz.proceedings.holidays import install_after_migrate

        # After every migrate (and every test-database flush) the shipped holidays are present.
        post_migrate.connect(install_after_migrate, sender=self, dispatch_uid="holidays-install")

        from muhafiz.cases.hooks import case_saved
        from muhafiz.proceedings.signals import case_saved as sync_clocks

        # A case opened or changed brings its clocks up to date once its transaction commits.
        case_saved.connect(sync_clocks, uid="proceedings.sync_clocks")

        from muhafiz.core.home import home_panels
        from muhafiz.proceedings import home

        # The deadlines of the person's cases on their home page.
        home_panels.connect(home.panels, uid="proceedings.home")
