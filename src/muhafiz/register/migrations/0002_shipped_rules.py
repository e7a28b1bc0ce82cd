"""Shipped register rules: periods (SORNA tiers, UK sentence length) and notice deadlines."""

from django.db import migrations


def add_rules(apps, schema_editor):
    from muhafiz.register.shipped import install_register_rules

    install_register_rules(using=schema_editor.connection.alias, apps=apps)


def remove_rules(apps, schema_editor):
    apps.get_model("register", "PeriodRule").objects.all().delete()
    apps.get_model("register", "NoticeRule").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("register", "0001_initial")]
    operations = [migrations.RunPython(add_rules, remove_rules)]
