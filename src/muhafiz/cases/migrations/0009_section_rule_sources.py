"""The shipped section rules cite the law, not the team's notes file they were gathered in.

Only rules still carrying the shipped text change; a rule whose source someone edited keeps it.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from muhafiz.cases.shipped import SOURCE, SOURCE_BEFORE_0009


def cite_the_law(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    rules = apps.get_model("cases", "SectionRule")
    rules.objects.filter(source=SOURCE_BEFORE_0009).update(source=SOURCE)


class Migration(migrations.Migration):
    dependencies = [("cases", "0008_alert_params")]

    # Backwards nothing to undo: 0002's reversal removes the rules by the new text.
    operations = [migrations.RunPython(cite_the_law, migrations.RunPython.noop)]
