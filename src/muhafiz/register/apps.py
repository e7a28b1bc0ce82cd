from django.apps import AppConfig


class RegisterConfig(AppConfig):
    name = "muhafiz.register"
    label = "register"
