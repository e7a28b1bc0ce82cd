"""A scratch PostgreSQL database for a benchmark: created fresh, Django configured against it
and migrated, dropped afterwards unless the run asks to keep it.

    with scratch_database("muhafiz_bench", keep=args.keep):
        generate(...)
        analyze()
        measure(...)

The server is the local one CI uses (127.0.0.1:5432, user postgres).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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


def analyze() -> None:
    """Refresh the planner's statistics after bulk generation."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


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
