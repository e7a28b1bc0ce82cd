"""Model fields for protected data: encrypted text and dates, and blind indexes to search them.

Use them for victim identity and any other field a deployment marks sensitive::

    class VictimIdentity(models.Model):
        name = EncryptedTextField(_("name"))
        cnic = EncryptedTextField(_("CNIC or B-form"), blank=True)
        cnic_index = BlindIndexField(source="cnic", normalizer=normalize_cnic)
        birth_date = EncryptedDateField(_("date of birth"), null=True, blank=True)

    VictimIdentity.objects.filter(blind_index_q(VictimIdentity, "cnic_index", "35202-1234567-1"))

Encrypted columns cannot be filtered, ordered or compared in SQL (only `isnull`); search goes
through a `BlindIndexField`. When saving with `update_fields`, list the index beside its source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from django.apps import apps
from django.core import checks
from django.core.exceptions import FieldDoesNotExist, FieldError, ValidationError
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Q
from django.db.models.lookups import IsNull
from django.test.signals import setting_changed
from django.utils.translation import gettext as _

from muhafiz.core import crypto

Normalizer = Callable[[str], str]


def _identity(value: str) -> str:
    return value.strip()


class EncryptedField(models.TextField):  # type: ignore[type-arg]
    """A text column that holds ``v1:<key id>:<ciphertext>``; Python sees the plaintext."""

    encrypted = True

    def context(self) -> str:
        return f"{self.model._meta.db_table}.{self.column}"

    def to_plain(self, value: Any) -> str:
        return str(value)

    def from_plain(self, value: str) -> Any:
        return value

    def get_db_prep_save(self, value: Any, connection: BaseDatabaseWrapper) -> Any:
        if value is None:
            return None
        if hasattr(value, "resolve_expression"):
            raise FieldError(f"{self.context()} is encrypted: assign a value, not an expression")
        return crypto.encrypt(self.to_plain(value), self.context())

    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Any:
        if value is None:
            return None
        return self.from_plain(crypto.decrypt(value, self.context()))

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        if self.unique or getattr(self, "db_index", False) or self.primary_key:
            errors.append(
                checks.Error(
                    "an encrypted field cannot be unique, indexed or a primary key (every "
                    "encryption differs); add a BlindIndexField for that",
                    obj=self,
                    id="muhafiz.E004",
                )
            )
        return errors

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "isnull":
            return IsNull
        raise FieldError(
            f"{self.model.__name__}.{self.name} is encrypted and cannot be searched with "
            f"'{lookup_name}'; search a BlindIndexField instead"
        )

    def get_transform(self, lookup_name: str) -> Any:
        raise FieldError(f"{self.model.__name__}.{self.name} is encrypted")


class EncryptedTextField(EncryptedField):
    """Encrypted free text (names, addresses, CNICs, phone numbers)."""

    def to_python(self, value: Any) -> Any:
        if value is None or isinstance(value, str):
            return value
        return str(value)


class EncryptedDateField(EncryptedField):
    """An encrypted date (a date of birth); stored as ISO text inside the ciphertext."""

    def to_plain(self, value: Any) -> str:
        value = self.to_python(value)
        if not isinstance(value, dt.date):
            raise ValidationError(f"{self.name} needs a date")
        return value.isoformat()

    def from_plain(self, value: str) -> Any:
        return dt.date.fromisoformat(value)

    def to_python(self, value: Any) -> Any:
        if value is None or isinstance(value, dt.date):
            return value.date() if isinstance(value, dt.datetime) else value
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError:
            # The value is not repeated: it may be someone's date of birth.
            raise ValidationError(_("not a date (YYYY-MM-DD)"), code="invalid") from None

    def formfield(self, **kwargs: Any) -> Any:
        from django import forms

        return models.Field.formfield(self, form_class=forms.DateField, **kwargs)


class BlindIndexField(models.CharField):  # type: ignore[type-arg]
    """A keyed hash (HMAC-SHA256) of another field's normalized plaintext, for exact search.

    Filled on save from `source`; empty sources index to NULL. Search with `blind_index_q`.
    """

    def __init__(
        self,
        *args: Any,
        source: str = "",
        normalizer: Normalizer | None = None,
        purpose: str = "",
        **kwargs: Any,
    ) -> None:
        self.source = source
        self.normalizer = normalizer
        self.purpose = purpose
        kwargs.setdefault("max_length", 120)
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        if self.normalizer is not None:
            kwargs["normalizer"] = self.normalizer
        if self.purpose:
            kwargs["purpose"] = self.purpose
        for key, default in (("max_length", 120), ("null", True), ("blank", True)):
            if kwargs.get(key) == default:
                kwargs.pop(key)
        kwargs.pop("editable", None)
        kwargs.pop("db_index", None)
        return name, path, args, kwargs

    def index_purpose(self) -> str:
        return self.purpose or f"{self.model._meta.label_lower}.{self.source}"

    def normalize(self, value: Any) -> str | None:
        if value is None:
            return None
        text = str(value.isoformat() if isinstance(value, dt.date) else value)
        if not text.strip():
            return None  # a blank value is not indexed (and not given to the normalizer)
        normalized = (self.normalizer or _identity)(text)
        return normalized or None

    def index_of(self, value: Any) -> str | None:
        normalized = self.normalize(value)
        if normalized is None:
            return None
        return crypto.blind_index(normalized, self.index_purpose())

    def candidates(self, value: Any) -> list[str]:
        normalized = self.normalize(value)
        if normalized is None:
            return []
        return crypto.blind_index_candidates(normalized, self.index_purpose())

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = self.index_of(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        try:
            source = self.model._meta.get_field(self.source)
        except FieldDoesNotExist:
            source = None
        if not isinstance(source, EncryptedField):
            errors.append(
                checks.Error(
                    f"BlindIndexField source {self.source!r} must be an encrypted field of "
                    "this model (a plain column needs no blind index)",
                    obj=self,
                    id="muhafiz.E003",
                )
            )
        return errors


def blind_index_q(model: type[models.Model], index_field: str, value: Any) -> Q:
    """A filter matching rows whose `index_field` indexes `value` (under any key of the ring).

    The value is normalized the same way as on save; a value that fails normalization (for
    example a malformed CNIC) raises the normalizer's error.
    """
    field = model._meta.get_field(index_field)
    if not isinstance(field, BlindIndexField):
        raise FieldError(f"{model.__name__}.{index_field} is not a BlindIndexField")
    candidates = field.candidates(value)
    if not candidates:
        return Q(pk__in=[])
    return Q(**{f"{index_field}__in": candidates})


def encrypted_fields() -> Iterator[tuple[type[models.Model], EncryptedField]]:
    """Every encrypted field of every concrete, managed model in the project."""
    for model in apps.get_models():
        if model._meta.abstract or model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.local_concrete_fields:
            if isinstance(field, EncryptedField):
                yield model, field


def blind_index_fields() -> Iterator[tuple[type[models.Model], BlindIndexField]]:
    for model in apps.get_models():
        if model._meta.abstract or model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.local_concrete_fields:
            if isinstance(field, BlindIndexField):
                yield model, field


@checks.register(checks.Tags.security)
def check_field_keys(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Start-up check: the key ring loads, and (with database checks) decrypts stored values.

    Samples the oldest and newest value of each encrypted column, so a wrong or missing key is
    reported before the first page tries to show a victim's identity.
    """
    try:
        ring = crypto.key_ring()
    except crypto.FieldKeyError as exc:
        return [
            checks.Error(
                f"Field-encryption keys are not usable: {exc}",
                hint="Set MUHAFIZ_FIELD_KEYS=id:base64key (or MUHAFIZ_FIELD_KEYS_FILE).",
                id="muhafiz.E001",
            )
        ]
    if not databases:
        return []
    from django.db import DatabaseError, connections, transaction

    errors: list[checks.CheckMessage] = []
    for alias in databases:
        connection = connections[alias]
        for model, field in encrypted_fields():
            table = connection.ops.quote_name(model._meta.db_table)
            column = connection.ops.quote_name(str(field.column))
            pk = connection.ops.quote_name(str(model._meta.pk.column))
            samples: list[str] = []
            try:
                # A savepoint, so a missing table does not spoil an open PostgreSQL transaction.
                with transaction.atomic(using=alias), connection.cursor() as cursor:
                    for order in ("ASC", "DESC"):
                        cursor.execute(
                            f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL "  # noqa: S608 - quoted identifiers
                            f"ORDER BY {pk} {order} LIMIT 1"
                        )
                        samples.extend(str(row[0]) for row in cursor.fetchall())
            except DatabaseError:
                continue  # the table does not exist yet (before migrate)
            for sample in samples:
                try:
                    ring.decrypt(sample, field.context())
                except crypto.DecryptionError as exc:
                    errors.append(
                        checks.Error(
                            f"Stored encrypted data cannot be read with the configured keys: {exc}",
                            hint="Configure the key ring the data was written with.",
                            obj=f"{model._meta.label}.{field.name}",
                            id="muhafiz.E002",
                        )
                    )
                    break
    return errors


def _forget_ring(*, setting: str, **kwargs: Any) -> None:
    if setting in {"MUHAFIZ_FIELD_KEYS", "MUHAFIZ_FIELD_KEYS_PATH", "PRODUCTION"}:
        crypto.reset_key_ring()


setting_changed.connect(_forget_ring)
