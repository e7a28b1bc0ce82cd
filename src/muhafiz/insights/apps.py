from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "muhafiz.insights"
    label = "insights"
