"""Cases: the national case database."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CasesConfig(AppConfig):
    name = "muhafiz.cases"
    label = "cases"
    verbose_name = "Cases"

    def ready(self) -> None:
        from muhafiz.cases.shipped import install_after_migrate

        # After every migrate (and after a test database flush) the shipped rules are present.
        post_migrate.connect(install_after_migrate, sender=self, dispatch_uid="cases-install")

        from muhafiz.cases import home
        from muhafiz.core.home import home_panels, nav_counts

        # The home page's work queue and the unread-alerts count in the navigation.
        home_panels.connect(home.panels, uid="cases.home")
        nav_counts.connect(home.nav_counts, uid="cases.nav_counts")
