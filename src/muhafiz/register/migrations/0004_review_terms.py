"""The shipped rules get their review terms (UK review of indefinite registration, SORNA tier I
reduction) where they are still at their first version."""

from typing import Any

from django.db import migrations

from muhafiz.register.shipped import add_review_terms


def forward(apps: Any, schema_editor: Any) -> None:
    add_review_terms(using=schema_editor.connection.alias, apps=apps)


class Migration(migrations.Migration):
    dependencies = [("register", "0003_rule_versions_reviews_organisations")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
