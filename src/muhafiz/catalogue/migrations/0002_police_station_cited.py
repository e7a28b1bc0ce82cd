"""Police stations cite their source like every catalogue row (issue 15, item 1)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0001_initial")]

    operations = [
        migrations.AlterModelOptions(
            name="policestation",
            options={
                "ordering": ["district__name", "name"],
                "verbose_name": "police station",
                "verbose_name_plural": "police stations",
            },
        ),
        migrations.AddField(
            model_name="policestation",
            name="source",
            field=models.CharField(
                default="",
                help_text="The Act and section, notification or report.",
                max_length=300,
                verbose_name="source",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="policestation",
            name="source_url",
            field=models.URLField(blank=True, verbose_name="source link"),
        ),
        migrations.AddField(
            model_name="policestation",
            name="verified",
            field=models.BooleanField(
                default=False,
                help_text=(
                    "Checked against the cited source. Unverified entries (the sources disagree"
                    " or are secondary) wait for the deployment's legal team."
                ),
                verbose_name="verified",
            ),
        ),
        migrations.AddField(
            model_name="policestation",
            name="active",
            field=models.BooleanField(default=True, verbose_name="active"),
        ),
        migrations.AddField(
            model_name="policestation",
            name="notes",
            field=models.TextField(blank=True, verbose_name="notes"),
        ),
    ]
