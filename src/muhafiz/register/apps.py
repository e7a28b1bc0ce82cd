"""The National Sex Offenders Register: entries from convictions, purpose-bound access."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class RegisterConfig(AppConfig):
    name = "muhafiz.register"
    label = "register"
    verbose_name = "Register"

    def ready(self) -> None:
        from muhafiz.proceedings.hooks import judgment_recorded
        from muhafiz.register.shipped import install_after_migrate
        from muhafiz.register.signals import judgment_recorded as enter_judgment

        # After every migrate (and every test-database flush) the shipped rules are present.
        post_migrate.connect(install_after_migrate, sender=self, dispatch_uid="register-install")
        # A judgment or appeal decision recorded in proceedings reaches the register after commit.
        judgment_recorded.connect(enter_judgment, uid="register.judgment_recorded")

        from muhafiz.core.home import REGISTER_SLOT_UID, home_panels
        from muhafiz.register import home

        # What the register asks of the person, on their home page (core.home's register slot).
        home_panels.connect(home.panels, uid=REGISTER_SLOT_UID)
