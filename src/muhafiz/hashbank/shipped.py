"""The shipped category schemes, installed after every migrate (and after a test flush).

Once a scheme exists, administrators own it: installing again never overwrites an edited row.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps
from django.apps.registry import Apps

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


def install_schemes(*, using: str = "default", apps: Apps = global_apps) -> int:
    """Add every shipped scheme that is missing; returns how many were added."""
    scheme_model = apps.get_model("hashbank", "CategoryScheme")
    added = 0
    for scheme in SCHEMES:
        _, created = scheme_model.objects.using(using).get_or_create(
            code=scheme["code"], defaults={k: v for k, v in scheme.items() if k != "code"}
        )
        added += int(created)
    return added


def install_after_migrate(*, using: str = "default", apps: Apps = global_apps, **_: Any) -> None:
    """`post_migrate` receiver: install the shipped schemes once the table exists."""
    try:
        apps.get_model("hashbank", "CategoryScheme")
    except LookupError:
        return
    install_schemes(using=using, apps=apps)
