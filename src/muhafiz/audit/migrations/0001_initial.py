import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("sequence", models.PositiveBigIntegerField(editable=False, unique=True, verbose_name="sequence")),
                ("occurred_at", models.DateTimeField(editable=False, verbose_name="time")),
                ("actor_kind", models.CharField(choices=[("user", "Staff member"), ("api_client", "API client"), ("public", "Member of the public"), ("system", "System")], max_length=12, verbose_name="actor kind")),
                ("actor_name", models.CharField(blank=True, max_length=150, verbose_name="actor")),
                ("actor_role", models.CharField(blank=True, max_length=40, verbose_name="role at the time")),
                ("actor_agency", models.CharField(blank=True, max_length=40, verbose_name="agency at the time")),
                ("action", models.CharField(db_index=True, max_length=100, verbose_name="action")),
                ("object_type", models.CharField(blank=True, max_length=100, verbose_name="object type")),
                ("object_id", models.CharField(blank=True, max_length=64, verbose_name="object id")),
                ("object_label", models.CharField(blank=True, max_length=200, verbose_name="object")),
                ("reason", models.TextField(blank=True, verbose_name="purpose or reason")),
                ("client_address", models.GenericIPAddressField(blank=True, null=True, verbose_name="client address")),
                ("details", models.JSONField(blank=True, default=dict, verbose_name="details")),
                ("prev_hash", models.CharField(max_length=64, verbose_name="previous hash")),
                ("row_hash", models.CharField(max_length=64, unique=True, verbose_name="hash")),
                ("actor_client", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="accounts.apiclient", verbose_name="API client")),
                ("actor_user", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="staff member")),
            ],
            options={
                "verbose_name": "audit event",
                "verbose_name_plural": "audit events",
                "ordering": ["-sequence"],
                "indexes": [
                    models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
                    models.Index(fields=["occurred_at"], name="audit_time_idx"),
                    models.Index(fields=["actor_name"], name="audit_actor_idx"),
                ],
            },
        ),
    ]
