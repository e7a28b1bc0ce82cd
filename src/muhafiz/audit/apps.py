from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "muhafiz.audit"
    label = "audit"
