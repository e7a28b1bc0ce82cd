"""A scratch PostgreSQL database for a benchmark: created fresh, Django configured against it
and migrated, dropped afterwards unless the run asks to keep it.

    with scratch_database("muhafiz_bench", keep=args.keep):
        generate(...)
        analyze()
        measure(...)

The server is the local one CI uses (127.0.0.1:5432, user postgres).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PG = "postgres://postgres@127.0.0.1:5432"


def admin_sql(statement: str) -> None:
    """Run one statement on the server's maintenance database (create or drop a database)."""
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(statement)


def drop_database(name: str) -> None:
    admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def configure(database: str, data_dir: Path) -> None:
    """Point Django at `database` (DEBUG off, warnings only) with `data_dir` and set it up."""
    os.environ["DATABASE_URL"] = f"{PG}/{database}"
    os.environ["MUHAFIZ_DATA_DIR"] = str(data_dir)
    os.environ["MUHAFIZ_PROFILE"] = "development"
    os.environ["MUHAFIZ_DEBUG"] = "false"
    os.environ["MUHAFIZ_LOG_LEVEL"] = "WARNING"
    os.environ["DJANGO_SETTINGS_MODULE"] = "muhafiz.settings"
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def sql_literal(value: Any) -> str:
    """A model field's default as a PostgreSQL literal (the few kinds defaults take)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, list | dict):
        return sql_literal(json.dumps(value)) + "::jsonb"
    if isinstance(value, datetime | date):
        return sql_literal(value.isoformat())
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no SQL literal for a default of type {type(value).__name__}")


def insert_select(model: Any, values: dict[str, str], source: str) -> str:
    """`INSERT INTO <model's table> (…) SELECT … <source>` listing every column of the model.

    `values` gives SQL expressions for the columns the generator decides (by column name); every
    other column gets its database default, or what Django would save for it (the field's
    default, "" for text, now() for `auto_now`/`auto_now_add`), or NULL when it may be NULL.
    A NOT NULL column with none of these stops the benchmark naming it, so a column added to a
    model later fills itself in or fails loudly, never silently."""
    unknown = sorted(set(values) - {f.column for f in model._meta.concrete_fields})
    if unknown:
        raise SystemExit(f"benchmark: {model._meta.db_table} has no column {', '.join(unknown)}")
    columns: list[str] = []
    expressions: list[str] = []
    for field in model._meta.concrete_fields:
        column = field.column
        if column in values:
            expression = values[column]
        elif field.primary_key or field.has_db_default():
            continue
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            expression = "now()"
        elif field.has_default() or (field.empty_strings_allowed and not field.null):
            default = field.get_default()  # "" for text without a default, as Django saves
            expression = "now()" if isinstance(default, datetime) else sql_literal(default)
        elif field.null:
            continue
        else:
            raise SystemExit(
                f"benchmark: {model._meta.db_table}.{column} is NOT NULL and has no default: "
                "give it a value in the generator"
            )
        columns.append(column)
        expressions.append(expression)
    return (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)})\n"
        f"SELECT {', '.join(expressions)}\n{source}"
    )


def analyze() -> None:
    """Refresh the planner's statistics after bulk generation."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def database_exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    return row is not None


SNAPSHOT_FACTS = "snapshot.json"


@contextmanager
def database_from_snapshot(name: str, snapshot: str, data_dir: Path) -> Iterator[dict[str, Any]]:
    """Run on a copy of a generated database kept as `snapshot` (PostgreSQL copies it as a
    template: a file copy, not a second generation), with the data directory (key ring) that
    generated it; yields the facts kept beside it. Measuring may change the copy (a daily job
    marks clocks missed), never the snapshot; the copy is dropped at the end."""
    drop_database(name)
    admin_sql(f'CREATE DATABASE "{name}" TEMPLATE "{snapshot}"')
    try:
        configure(name, data_dir)
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        try:
            yield json.loads((data_dir / SNAPSHOT_FACTS).read_text())
        finally:
            connection.close()
    finally:
        drop_database(name)


def keep_snapshot(name: str, snapshot: str, data_dir: Path, facts: dict[str, Any]) -> None:
    """Keep the generated database `name` as `snapshot`, with `facts` about it in `data_dir`,
    for later runs of `database_from_snapshot` (generation can then happen while the machine
    is busy and the measuring alone in a quiet moment)."""
    from django.db import connections

    connections.close_all()
    drop_database(snapshot)
    admin_sql(f'CREATE DATABASE "{snapshot}" TEMPLATE "{name}"')
    (data_dir / SNAPSHOT_FACTS).write_text(json.dumps(facts, default=str))


@contextmanager
def scratch_database(name: str, keep: bool = False) -> Iterator[Path]:
    """A new, migrated database `name` with a temporary data directory (yielded); dropped at the
    end, even on failure, unless `keep`."""
    drop_database(name)
    admin_sql(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory(prefix=f"{name}-") as data_dir:
            configure(name, Path(data_dir))
            from django.core.management import call_command
            from django.db import connection

            print("migrating …", flush=True)
            call_command("migrate", verbosity=0)
            try:
                yield Path(data_dir)
            finally:
                connection.close()
    finally:
        if not keep:
            drop_database(name)
