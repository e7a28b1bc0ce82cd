"""Shipped section rules: which offences the recorded facts point to (editable data)."""

from django.db import migrations


def add_rules(apps, schema_editor):
    from muhafiz.cases.shipped import install_section_rules

    install_section_rules(using=schema_editor.connection.alias, apps=apps)


def remove_rules(apps, schema_editor):
    from muhafiz.cases.shipped import SOURCE

    apps.get_model("cases", "SectionRule").objects.filter(source=SOURCE).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(add_rules, remove_rules)]
