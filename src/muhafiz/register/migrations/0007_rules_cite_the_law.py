"""The shipped register rules cite the law, not the team's notes file they were gathered in.

Only the wording of a citation (a rule's source or notes) still as shipped changes; no term of
a rule does, and a text the register office edited or versioned is left as it is.
"""

from typing import Any

from django.db import migrations

from muhafiz.register.shipped import cite_the_law


def forward(apps: Any, schema_editor: Any) -> None:
    cite_the_law(using=schema_editor.connection.alias, apps=apps)


class Migration(migrations.Migration):
    dependencies = [("register", "0006_notice_unit_choices")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
