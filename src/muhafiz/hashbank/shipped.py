"""The shipped category schemes, installed after every migrate (and after a test flush).

Once a scheme exists, administrators own it: installing again never overwrites an edited row.
The shipped labels are in the Urdu catalogue: pages show a label through `CategoryScheme.
label_in_words`, which translates a shipped label and leaves an edited one as written.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.utils.translation import gettext_noop

SCHEMES: list[dict[str, Any]] = [
    {
        "code": "projectvic-us",
        "name": "Project VIC (US)",
        "source": "Project VIC VICS data model 2.0; categories as published by Project VIC",
        "categories": [
            {"value": 0, "code": "0", "label": gettext_noop("Non-pertinent")},
            {"value": 1, "code": "1", "label": gettext_noop("Child abuse material")},
            {"value": 2, "code": "2", "label": gettext_noop("Child exploitive / age difficult")},
            {"value": 3, "code": "3", "label": gettext_noop("CGI / animation")},
            {"value": 4, "code": "4", "label": gettext_noop("Comparison")},
        ],
    },
    {
        "code": "uk-caid",
        "name": "UK CAID",
        "source": "UK Child Abuse Image Database grades A/B/C (Sentencing Council); "
        "numeric values are this deployment's mapping",
        "categories": [
            {"value": 1, "code": "A", "label": gettext_noop("Category A")},
            {"value": 2, "code": "B", "label": gettext_noop("Category B")},
            {"value": 3, "code": "C", "label": gettext_noop("Category C")},
        ],
    },
    {
        "code": "legacy-cat",
        "name": "Legacy CAT-0..5",
        "source": "Older Project VIC / Griffeye scale; middle labels to be confirmed locally",
        "categories": [
            {"value": 0, "code": "CAT-0", "label": gettext_noop("Uncategorised")},
            {"value": 1, "code": "CAT-1", "label": gettext_noop("Category 1")},
            {"value": 2, "code": "CAT-2", "label": gettext_noop("Category 2")},
            {"value": 3, "code": "CAT-3", "label": gettext_noop("Category 3")},
            {"value": 4, "code": "CAT-4", "label": gettext_noop("Category 4")},
            {"value": 5, "code": "CAT-5", "label": gettext_noop("Non-pertinent")},
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
