"""Demo: the synthetic installation that `muhafiz demo` serves (refuses a production profile)."""

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "muhafiz.demo"
    label = "demo"
    verbose_name = "Demo"
