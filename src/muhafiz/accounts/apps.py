from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "muhafiz.accounts"
    label = "accounts"
