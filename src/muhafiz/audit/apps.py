from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured


class AuditConfig(AppConfig):
    name = "muhafiz.audit"
    label = "audit"
    verbose_name = "Audit"

    def ready(self) -> None:
        # Registers the field-encryption system check (core has no AppConfig of its own).
        from muhafiz.core import crypto, fields  # noqa: F401

        # A missing or malformed key ring stops every process at start-up, not at first use.
        try:
            crypto.validate_configured_ring()
        except crypto.FieldKeyError as exc:
            raise ImproperlyConfigured(f"field-encryption keys: {exc}") from exc

        from muhafiz.audit import home
        from muhafiz.core.home import home_panels

        # The cases recently acted on, on the auditor's home page.
        home_panels.connect(home.panels, uid="audit.home")
