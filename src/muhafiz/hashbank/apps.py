from django.apps import AppConfig


class HashbankConfig(AppConfig):
    name = "muhafiz.hashbank"
    label = "hashbank"
