from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "muhafiz.intake"
    label = "intake"
