from django.apps import AppConfig
from django.db.models.signals import post_migrate


class HashbankConfig(AppConfig):
    name = "muhafiz.hashbank"
    label = "hashbank"

    def ready(self) -> None:
        from muhafiz.hashbank.shipped import install_after_migrate

        # After every migrate (and after a test database flush) the shipped schemes are present.
        post_migrate.connect(install_after_migrate, sender=self, dispatch_uid="hashbank-install")
