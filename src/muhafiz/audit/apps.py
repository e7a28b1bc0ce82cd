from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "muhafiz.audit"
    label = "audit"
    verbose_name = "Audit"

    def ready(self) -> None:
        # Registers the field-encryption start-up check (core has no AppConfig of its own).
        from muhafiz.core import fields  # noqa: F401
