"""SQLite files from outside are read with one set of defences, the same for scan files and NSRL
sets: no writes, no memory mapping, no attached databases, no functions from the schema, a cap
on any value, and the schema read without running any of its SQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from muhafiz.banks.formats import nsrl
from muhafiz.triage import scanfile
from muhafiz.untrusted import sqlite as untrusted


def _database(path: Path, script: str) -> Path:
    with sqlite3.connect(path) as conn:
        conn.executescript(script)
    conn.close()
    return path


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    return _database(
        tmp_path / "hostile.db",
        """
        CREATE TABLE plain (id INTEGER PRIMARY KEY, value TEXT,
                            twice TEXT GENERATED ALWAYS AS (value || value));
        CREATE VIEW forever AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n)
            SELECT i FROM n;
        CREATE VIRTUAL TABLE words USING fts5(word);
        INSERT INTO plain (value) VALUES ('ok'), (zeroblob(2000000));
        """,
    )


def test_a_connection_writes_nothing_attaches_nothing_and_maps_nothing(hostile: Path) -> None:
    conn = untrusted.connect(hostile)
    try:
        with pytest.raises(sqlite3.OperationalError):
            conn.execute("INSERT INTO plain (value) VALUES ('x')")
        with pytest.raises(sqlite3.OperationalError):
            conn.execute("ATTACH DATABASE ':memory:' AS other")
        assert conn.execute("PRAGMA mmap_size").fetchone()[0] == 0
        assert conn.execute("PRAGMA trusted_schema").fetchone()[0] == 0
        assert conn.getlimit(sqlite3.SQLITE_LIMIT_ATTACHED) == 0
    finally:
        conn.close()


def test_a_value_over_the_cap_is_refused_as_it_is_read(hostile: Path) -> None:
    conn = untrusted.connect(hostile, immutable=True)
    try:
        assert conn.execute("SELECT value FROM plain WHERE id = 1").fetchone() == ("ok",)
        with pytest.raises(sqlite3.DataError) as raised:
            conn.execute("SELECT value FROM plain WHERE id = 2").fetchone()
        assert untrusted.value_too_big(raised.value)
    finally:
        conn.close()


def test_the_schema_is_read_without_running_it(hostile: Path) -> None:
    conn = untrusted.connect(hostile)
    try:
        objects = {o.name: o for o in untrusted.schema(conn)}
        assert objects["plain"].plain_table
        assert objects["forever"].kind == "view"
        assert not objects["forever"].plain_table
        assert objects["words"].virtual
        assert not objects["words"].plain_table
        generated = {c.name: c.generated for c in untrusted.columns(conn, "plain")}
        assert generated == {"id": False, "value": False, "twice": True}
    finally:
        conn.close()


def test_scan_files_and_nsrl_sets_are_opened_with_the_same_defences(tmp_path: Path) -> None:
    """Both readers' connections carry the shared limits (one module, not two copies)."""
    nsrl_set = _database(tmp_path / "rds.db", "CREATE TABLE FILE (sha1 TEXT, md5 TEXT);")
    from_nsrl = nsrl._connect(nsrl_set)
    from_scan = sqlite3.connect(":memory:")
    scanfile._defend(from_scan)
    try:
        for conn in (from_nsrl, from_scan):
            assert conn.getlimit(sqlite3.SQLITE_LIMIT_LENGTH) == untrusted.MAX_VALUE_BYTES
            assert conn.getlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH) == untrusted.MAX_SQL_LENGTH
            assert conn.getlimit(sqlite3.SQLITE_LIMIT_ATTACHED) == 0
            assert conn.execute("PRAGMA query_only").fetchone()[0] == 1
    finally:
        from_nsrl.close()
        from_scan.close()


def test_an_nsrl_set_whose_version_table_is_a_view_gives_no_version(tmp_path: Path) -> None:
    """The VERSION read for provenance reads plain tables only, like the hash rows."""
    rds = _database(
        tmp_path / "rds.db",
        """
        CREATE TABLE FILE (sha1 TEXT, md5 TEXT);
        CREATE VIEW VERSION AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n)
            SELECT i FROM n;
        """,
    )
    assert nsrl.NsrlRds().version(rds) == {}
