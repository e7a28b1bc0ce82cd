"""Key rotation: re-encrypt every encrypted field, and recompute every blind index, with the
newest key of the key ring (`muhafiz keys rotate`, the `rotate_field_keys` command).

The fields and the key ring are core's (`core.fields`, `core.crypto`); rotating is an operation
on the whole database, audited batch by batch, so it lives here with backup and restore.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

from muhafiz.audit.actions import record
from muhafiz.core import crypto
from muhafiz.core.fields import (
    BlindIndexField,
    EncryptedField,
    blind_index_fields,
    encrypted_fields,
)


@dataclass
class RotationReport:
    """What `reencrypt_all` changed: rows per model, and the key everything now uses."""

    key_id: str
    rows: dict[str, int] = dataclass_field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def _column(field: models.Field) -> str:  # type: ignore[type-arg]
    return str(field.column)


def _stale_rows_sql(
    connection: BaseDatabaseWrapper,
    model: type[models.Model],
    encrypted: list[EncryptedField],
    indexes: list[BlindIndexField],
    batch_size: int,
) -> tuple[str, list[Any]]:
    """Rows with any value or index not yet under the newest key, oldest first."""
    quote = connection.ops.quote_name
    primary = crypto.key_ring().primary.key_id
    checks_: list[tuple[str, str]] = [
        (_column(f), f"{crypto.FORMAT_VERSION}:{primary}:") for f in encrypted
    ] + [(_column(f), f"{primary}:") for f in indexes]
    conditions: list[str] = []
    params: list[Any] = []
    for column, prefix in checks_:
        conditions.append(f"({quote(column)} IS NOT NULL AND SUBSTR({quote(column)}, 1, %s) <> %s)")
        params += [len(prefix), prefix]
    pk = quote(_column(model._meta.pk))
    columns = ", ".join(quote(column) for column, _ in checks_)
    sql = (
        f"SELECT {pk}, {columns} FROM {quote(model._meta.db_table)} "  # noqa: S608 - quoted identifiers
        f"WHERE {' OR '.join(conditions)} ORDER BY {pk} LIMIT %s"
    )
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    return sql, [*params, batch_size]


def _reencrypted_row(
    ring: crypto.KeyRing,
    model: type[models.Model],
    encrypted: list[EncryptedField],
    indexes: list[BlindIndexField],
    raw_values: tuple[Any, ...],
) -> tuple[dict[str, str | None], set[str]]:
    """The column updates that move one row to the newest key, and the keys it moved from."""
    primary = ring.primary.key_id
    plain: dict[str, Any] = {}
    updates: dict[str, str | None] = {}
    old_keys: set[str] = set()
    for field, raw in zip(encrypted, raw_values[: len(encrypted)], strict=True):
        if raw is None:
            continue
        text = ring.decrypt(str(raw), field.context())
        plain[field.name] = field.from_plain(text)
        key_id = crypto.key_id_of(str(raw))
        if key_id != primary:
            old_keys.add(key_id)
            updates[_column(field)] = ring.encrypt(text, field.context())
    for index, raw in zip(indexes, raw_values[len(encrypted) :], strict=True):
        if raw is None or str(raw).startswith(f"{primary}:"):
            continue
        old_keys.add(str(raw).split(":", 1)[0])
        try:
            updates[_column(index)] = index.index_of(plain.get(index.source))
        except ValueError:
            updates[_column(index)] = None  # a value the normalizer now refuses cannot match
    return updates, old_keys


def reencrypt_all(*, batch_size: int = 500, actor: Any = None) -> RotationReport:
    """Re-encrypt every encrypted value, and recompute every blind index, with the newest key.

    Works in batches, each in its own transaction with its audit record, so a long rotation
    can be interrupted and run again: rows already on the newest key are skipped.
    """
    from django.db import connection, transaction

    ring = crypto.key_ring()
    report = RotationReport(key_id=ring.primary.key_id)
    quote = connection.ops.quote_name
    models_: dict[type[models.Model], tuple[list[EncryptedField], list[BlindIndexField]]] = {}
    for model, field in encrypted_fields():
        models_.setdefault(model, ([], []))[0].append(field)
    for model, index in blind_index_fields():
        models_.setdefault(model, ([], []))[1].append(index)
    for model, (encrypted, indexes) in models_.items():
        table = quote(model._meta.db_table)
        pk = quote(_column(model._meta.pk))
        report.rows[model._meta.label] = 0
        while True:
            with transaction.atomic():
                sql, params = _stale_rows_sql(connection, model, encrypted, indexes, batch_size)
                with connection.cursor() as cursor:
                    cursor.execute(sql, params)
                    rows = cursor.fetchall()
                if not rows:
                    break
                from_keys: set[str] = set()
                for row in rows:
                    updates, old_keys = _reencrypted_row(ring, model, encrypted, indexes, row[1:])
                    from_keys |= old_keys
                    assignments = ", ".join(f"{quote(column)} = %s" for column in updates)
                    with connection.cursor() as cursor:
                        cursor.execute(
                            f"UPDATE {table} SET {assignments} WHERE {pk} = %s",  # noqa: S608 - quoted identifiers
                            [*updates.values(), row[0]],
                        )
                record(
                    actor,
                    "keys.rotate.batch",
                    None,
                    model=model._meta.label,
                    rows=len(rows),
                    from_keys=sorted(from_keys),
                    to_key=ring.primary.key_id,
                )
                report.rows[model._meta.label] += len(rows)
    with transaction.atomic():
        record(
            actor,
            "keys.rotate",
            None,
            rows=report.total,
            to_key=ring.primary.key_id,
            ring=[key.key_id for key in ring.keys],
        )
    return report
