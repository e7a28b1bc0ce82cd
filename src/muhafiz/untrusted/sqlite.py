"""SQLite databases from outside (scan files, NSRL sets), opened the way sqlite.org/security.html
advises for untrusted files: read-only, no memory mapping, no attached databases, the schema's
SQL never trusted (no functions run from it), a cap on any one value and on statement length;
and the schema read from `sqlite_schema` and column lists only, which runs none of its SQL.

What a reader accepts (exactly the scan-file schema; plain NSRL tables) is the reader's own
check, built on `schema` and `columns` here.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

# The longest value (text or blob) SQLite produces from such a file; a longer one fails as it
# is read ("string or blob too big"), before it reaches memory.
MAX_VALUE_BYTES = 1 << 20
# The longest statement a reader may run on it (readers' statements are short and fixed).
MAX_SQL_LENGTH = 100_000


def connect(path: Path, *, immutable: bool = False) -> sqlite3.Connection:
    """A hardened read-only connection to `path` (`harden`). `immutable` is for a file nobody
    writes while it is read (a stored upload, a downloaded set): no locks, no WAL. SQLite opens
    lazily, so a file that is not a database fails on the first statement (sqlite3.Error)."""
    query = "mode=ro&immutable=1" if immutable else "mode=ro"
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?{query}", uri=True)
    try:
        harden(connection)
    except sqlite3.Error:
        connection.close()
        raise
    return connection


def harden(connection: sqlite3.Connection, *, max_value_bytes: int = MAX_VALUE_BYTES) -> None:
    """Apply the untrusted-file settings to an open connection."""
    connection.execute("PRAGMA trusted_schema = OFF")
    connection.execute("PRAGMA cell_size_check = ON")
    connection.execute("PRAGMA mmap_size = 0")
    connection.execute("PRAGMA query_only = ON")
    connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, max_value_bytes)
    connection.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, MAX_SQL_LENGTH)
    connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)


def value_too_big(exc: BaseException) -> bool:
    """Whether SQLite refused a value longer than the cap."""
    return isinstance(exc, sqlite3.DataError | sqlite3.OperationalError) and "too big" in str(exc)


def normalise_sql(sql: str | None) -> str:
    return " ".join((sql or "").split())


@dataclass(frozen=True, slots=True)
class SchemaObject:
    kind: str  # table, view, index or trigger
    name: str
    table: str
    sql: str  # normalised

    @property
    def virtual(self) -> bool:
        return self.sql.upper().startswith("CREATE VIRTUAL")

    @property
    def plain_table(self) -> bool:
        """A table whose rows are stored in the file: reading it runs none of its author's
        SQL (a view or a virtual table could run anything, forever)."""
        return self.kind == "table" and not self.virtual


def schema(connection: sqlite3.Connection) -> list[SchemaObject]:
    """Every object of the file's schema. Raises sqlite3.DatabaseError for a damaged file and
    UnicodeDecodeError for a schema row that is not text."""
    return [
        SchemaObject(str(kind), str(name), str(table), normalise_sql(sql))
        for kind, name, table, sql in connection.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_schema"
        )
    ]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    declared: str  # declared type
    primary_key: int  # position in the primary key, 0 if not in it
    hidden: int  # 0 ordinary; 1 hidden (virtual tables); 2, 3 generated (computed when read)

    @property
    def generated(self) -> bool:
        return self.hidden in (2, 3)


def columns(connection: sqlite3.Connection, table: str) -> list[Column]:
    """The columns of a table as declared; `table_xinfo` only parses the declaration."""
    return [
        Column(str(row[1]), str(row[2]), int(row[5]), int(row[6]))
        for row in connection.execute("SELECT * FROM pragma_table_xinfo(?)", (table,))
    ]
