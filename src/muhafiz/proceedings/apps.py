from django.apps import AppConfig


class ProceedingsConfig(AppConfig):
    name = "muhafiz.proceedings"
    label = "proceedings"
