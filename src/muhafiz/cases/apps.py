from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "muhafiz.cases"
    label = "cases"
