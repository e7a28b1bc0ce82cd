"""The shipped category schemes, as data (editable afterwards like any catalogue row)."""

from __future__ import annotations

from typing import Any

from django.db import migrations

SCHEMES: list[dict[str, Any]] = [
    {
        "code": "projectvic-us",
        "name": "Project VIC (US)",
        "source": "Project VIC VICS data model 2.0; categories as published by Project VIC",
        "categories": [
            {"value": 0, "code": "0", "label": "Non-pertinent"},
            {"value": 1, "code": "1", "label": "Child abuse material"},
            {"value": 2, "code": "2", "label": "Child exploitive / age difficult"},
            {"value": 3, "code": "3", "label": "CGI / animation"},
            {"value": 4, "code": "4", "label": "Comparison"},
        ],
    },
    {
        "code": "uk-caid",
        "name": "UK CAID",
        "source": "UK Child Abuse Image Database grades A/B/C (Sentencing Council); "
        "numeric values are this deployment's mapping",
        "categories": [
            {"value": 1, "code": "A", "label": "Category A"},
            {"value": 2, "code": "B", "label": "Category B"},
            {"value": 3, "code": "C", "label": "Category C"},
        ],
    },
    {
        "code": "legacy-cat",
        "name": "Legacy CAT-0..5",
        "source": "Older Project VIC / Griffeye scale; middle labels to be confirmed locally",
        "categories": [
            {"value": 0, "code": "CAT-0", "label": "Uncategorised"},
            {"value": 1, "code": "CAT-1", "label": "Category 1"},
            {"value": 2, "code": "CAT-2", "label": "Category 2"},
            {"value": 3, "code": "CAT-3", "label": "Category 3"},
            {"value": 4, "code": "CAT-4", "label": "Category 4"},
            {"value": 5, "code": "CAT-5", "label": "Non-pertinent"},
        ],
    },
]


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
