"""The shipped category schemes, as data (editable afterwards like any catalogue row)."""

from __future__ import annotations

from typing import Any

from django.db import migrations

from muhafiz.hashbank.shipped import SCHEMES


def load(apps: Any, schema_editor: Any) -> None:
    scheme_model = apps.get_model("hashbank", "CategoryScheme")
    for scheme in SCHEMES:
        scheme_model.objects.update_or_create(
            code=scheme["code"],
            defaults={k: v for k, v in scheme.items() if k != "code"},
        )


def unload(apps: Any, schema_editor: Any) -> None:
    scheme_model = apps.get_model("hashbank", "CategoryScheme")
    scheme_model.objects.filter(code__in=[s["code"] for s in SCHEMES], banks=None).delete()


class Migration(migrations.Migration):
    dependencies = [("hashbank", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
