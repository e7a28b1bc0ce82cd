"""Ops: backup/restore, key rotation, the failed-jobs page and the server-side CLI."""

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "muhafiz.ops"
    label = "ops"
    verbose_name = "Operations"
