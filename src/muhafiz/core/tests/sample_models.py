"""A table with protected fields that exists only in test databases.

`muhafiz.core` has no migrations, so Django creates this model's table when it sets up a test
database, provided a test module imported it first (pytest imports test modules before it
creates the database).
"""

from __future__ import annotations

from django.db import models

from muhafiz.core.fields import BlindIndexField, EncryptedDateField, EncryptedTextField
from muhafiz.core.identifiers import normalize_cnic


class ProtectedSample(models.Model):
    pseudonym = models.CharField(max_length=40)
    name = EncryptedTextField()
    cnic = EncryptedTextField(null=True, blank=True)
    cnic_index = BlindIndexField(source="cnic", normalizer=normalize_cnic)
    birth_date = EncryptedDateField(null=True, blank=True)

    objects: models.Manager[ProtectedSample] = models.Manager()

    class Meta:
        app_label = "core"

    def audit_label(self) -> str:
        return self.pseudonym
