from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "muhafiz.evidence"
    label = "evidence"
