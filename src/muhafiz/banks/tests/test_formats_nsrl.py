"""Contract tests of NSRL RDS v3 SQLite: minimal/delta and full layouts, damaged files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from muhafiz.banks.formats import detect_format, read_hash_list
from muhafiz.banks.formats.nsrl import NsrlRds
from muhafiz.banks.model import HashKind, HashListError
from muhafiz.banks.tests.conftest import digests

MINIMAL_SCHEMA = """
CREATE TABLE FILE (sha256 VARCHAR NOT NULL, sha1 VARCHAR NOT NULL, md5 VARCHAR NOT NULL,
  crc32 VARCHAR, file_name VARCHAR NOT NULL, file_size INTEGER NOT NULL,
  package_id INTEGER NOT NULL);
CREATE TABLE PKG (package_id INTEGER, name VARCHAR, version VARCHAR,
  operating_system_id INTEGER, manufacturer_id INTEGER, language VARCHAR,
  application_type VARCHAR);
CREATE TABLE VERSION (version VARCHAR, build_set VARCHAR, build_date TIMESTAMP,
  release_date TIMESTAMP, description VARCHAR);
CREATE VIEW DISTINCT_HASH AS SELECT DISTINCT sha256, sha1, md5, crc32 FROM FILE;
"""
FULL_SCHEMA = """
CREATE TABLE METADATA (sha256 VARCHAR, sha1 VARCHAR, md5 VARCHAR, crc32 VARCHAR,
  file_name VARCHAR, file_size INTEGER, package_id INTEGER, object_id INTEGER);
CREATE TABLE PACKAGE_OBJECT (package_id INTEGER, object_id INTEGER);
CREATE VIEW FILE AS SELECT sha256, sha1, md5, crc32, file_name, file_size, package_id
  FROM METADATA;
CREATE TABLE VERSION (version VARCHAR, build_set VARCHAR, build_date TIMESTAMP,
  release_date TIMESTAMP, description VARCHAR);
"""


def _make(path: Path, schema: str, table: str, count: int, extra_rows: int = 0) -> Path:
    connection = sqlite3.connect(path)
    connection.executescript(schema)
    rows = []
    for i in range(count):
        d = digests(f"software file {i}".encode())
        rows.append((d["sha256"].upper(), d["sha1"].upper(), d["md5"].upper(), f"f{i}.dll", i))
    # The same file in a second package: a duplicate FILE row, one DISTINCT_HASH row.
    rows += rows[:extra_rows]
    connection.executemany(
        f"INSERT INTO {table} (sha256, sha1, md5, file_name, file_size, package_id) "  # noqa: S608
        "VALUES (?, ?, ?, ?, ?, 1)",
        rows,
    )
    connection.execute("INSERT INTO VERSION VALUES ('2026.09.1', 'modern', '', '', 'synthetic')")
    connection.commit()
    connection.close()
    return path


def test_minimal_layout_reads_distinct_hashes_lowercased(tmp_path: Path) -> None:
    path = _make(tmp_path / "RDS_minimal.db", MINIMAL_SCHEMA, "FILE", 20, extra_rows=5)
    assert detect_format(path).name == "nsrl"
    entries = read_hash_list(path).entries
    assert len(entries) == 20
    d = digests(b"software file 0")
    assert {(e.md5, e.sha1, e.sha256) for e in entries} >= {(d["md5"], d["sha1"], d["sha256"])}


def test_full_layout_reads_from_the_file_view(tmp_path: Path) -> None:
    path = _make(tmp_path / "RDS_full.db", FULL_SCHEMA, "METADATA", 10)
    assert len(read_hash_list(path).entries) == 10


def test_truncated_database_is_refused(tmp_path: Path) -> None:
    path = _make(tmp_path / "big.db", MINIMAL_SCHEMA, "FILE", 2000)
    data = path.read_bytes()
    cut = tmp_path / "cut.db"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(HashListError, match="truncated"):
        read_hash_list(cut)


def test_other_sqlite_databases_are_not_nsrl(tmp_path: Path) -> None:
    path = tmp_path / "scan.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE files (path TEXT, size INTEGER)")
    connection.commit()
    connection.close()
    with pytest.raises(HashListError, match="not an NSRL RDS v3 database"):
        read_hash_list(path)


def test_bad_hash_in_a_row_names_the_record(tmp_path: Path) -> None:
    path = _make(tmp_path / "bad.db", MINIMAL_SCHEMA, "FILE", 3)
    connection = sqlite3.connect(path)
    connection.execute("UPDATE FILE SET md5 = 'XYZ' WHERE file_name = 'f1.dll'")
    connection.commit()
    connection.close()
    with pytest.raises(HashListError, match="record") as error:
        read_hash_list(path)
    assert error.value.line is not None


def test_bulk_reading_equals_row_by_row_and_names_a_bad_record(tmp_path: Path) -> None:
    from muhafiz.banks.formats.nsrl import NsrlRds
    from muhafiz.banks.match import Matcher

    path = _make(tmp_path / "RDS_minimal.db", MINIMAL_SCHEMA, "FILE", 30, extra_rows=3)
    bulk = list(NsrlRds().read_bare_digests(path) or [])
    rows = read_hash_list(path, "nsrl").entries
    assert sum(batch.entries for batch in bulk) == 33
    assert {e.md5 for e in rows} == {
        bulk[0].digests[HashKind.MD5][i : i + 16].hex() for i in range(0, 33 * 16, 16)
    }
    matcher = Matcher.from_paths([], known_good=[path])
    d = digests(b"software file 7")
    assert [m.kind for m in matcher.match(md5=d["md5"], sha256=d["sha256"])] == [
        HashKind.MD5,
        HashKind.SHA256,
    ]
    connection = sqlite3.connect(path)
    connection.execute("UPDATE FILE SET sha1 = 'NOT-HEX' WHERE file_name = 'f9.dll'")
    connection.commit()
    connection.close()
    with pytest.raises(HashListError, match="record 10") as error:
        Matcher.from_paths([], known_good=[path])
    assert error.value.line == 10


def test_bulk_reading_refuses_a_short_and_a_long_hash_that_add_up(tmp_path: Path) -> None:
    """Two MD5 values of 31 and 33 digits are 64 digits together: read in bulk as two digests,
    each would be shifted by one digit (a wrong hash, silently). Each value's own length is
    checked, so the batch goes row by row and the first bad record is named."""
    path = _make(tmp_path / "RDS_minimal.db", MINIMAL_SCHEMA, "FILE", 6)
    connection = sqlite3.connect(path)
    connection.execute("UPDATE FILE SET md5 = substr(md5, 2) WHERE file_name = 'f2.dll'")
    connection.execute("UPDATE FILE SET md5 = md5 || 'A' WHERE file_name = 'f4.dll'")
    connection.commit()
    connection.close()

    with pytest.raises(HashListError, match="record 3") as error:
        list(NsrlRds().read_bare_digests(path) or [])

    assert error.value.line == 3


def test_with_on_error_every_bad_row_is_named_and_reading_goes_on(tmp_path: Path) -> None:
    path = _make(tmp_path / "bad.db", MINIMAL_SCHEMA, "FILE", 5)
    connection = sqlite3.connect(path)
    connection.execute("UPDATE FILE SET md5 = 'XYZ' WHERE file_name IN ('f1.dll', 'f3.dll')")
    connection.commit()
    connection.close()
    errors: list[HashListError] = []
    entries = list(NsrlRds().read(path, on_error=errors.append))
    assert len(entries) == 3
    assert len(errors) == 2
    assert all("record" in error.message for error in errors)


# --- hostile files (issue 8): a clear error, nothing run, nothing read past a bound ---------------


def _db(path: Path, script: str) -> Path:
    connection = sqlite3.connect(path)
    connection.executescript(script)
    connection.commit()
    connection.close()
    return path


def test_a_view_is_never_read_not_even_one_that_never_ends(tmp_path: Path) -> None:
    # Before: the DISTINCT_HASH or FILE view was read as a last resort; this one yields rows
    # for ever (the import would have filled the server's database).
    endless = """
    CREATE VIEW FILE AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)
      SELECT printf('%032X', x) AS md5 FROM c;
    CREATE VIEW METADATA AS SELECT * FROM FILE;
    CREATE VIEW DISTINCT_HASH AS SELECT * FROM FILE;
    """
    path = _db(tmp_path / "endless.db", endless)
    with pytest.raises(HashListError, match="views are not read"):
        read_hash_list(path, "nsrl")


def test_generated_hash_columns_are_refused_unread(tmp_path: Path) -> None:
    script = """
    CREATE TABLE FILE (n INTEGER,
      md5 TEXT GENERATED ALWAYS AS (hex(zeroblob(100000000))) VIRTUAL);
    INSERT INTO FILE (n) VALUES (1);
    """
    path = _db(tmp_path / "generated.db", script)
    with pytest.raises(HashListError, match="generated hash columns"):
        read_hash_list(path, "nsrl")


def test_a_virtual_table_is_refused_unread(tmp_path: Path) -> None:
    try:
        path = _db(tmp_path / "virtual.db", "CREATE VIRTUAL TABLE FILE USING fts5(md5, sha1);")
    except sqlite3.OperationalError:  # pragma: no cover - an SQLite built without FTS5
        pytest.skip("this SQLite has no FTS5")
    with pytest.raises(HashListError, match="not an NSRL RDS v3 database"):
        read_hash_list(path, "nsrl")


def test_a_huge_value_is_refused_before_it_is_read_into_memory(tmp_path: Path) -> None:
    path = _make(tmp_path / "huge.db", MINIMAL_SCHEMA, "FILE", 3)
    connection = sqlite3.connect(path)
    connection.execute("UPDATE FILE SET md5 = ? WHERE file_name = 'f1.dll'", ["A" * 5_000_000])
    connection.commit()
    connection.close()
    with pytest.raises(HashListError, match="larger than 1048576 bytes"):
        read_hash_list(path, "nsrl")


@pytest.mark.parametrize(
    ("value", "reason"),
    [(12345, "record 2: md5"), (b"\x00" * 16, "md5 is not text"), ("AB" * 15, "record 2")],
)
def test_hash_columns_of_the_wrong_type_name_the_record(
    tmp_path: Path, value: object, reason: str
) -> None:
    path = _make(tmp_path / "types.db", MINIMAL_SCHEMA, "FILE", 3)
    connection = sqlite3.connect(path)
    connection.execute("UPDATE FILE SET md5 = ? WHERE file_name = 'f1.dll'", [value])
    connection.commit()
    connection.close()
    with pytest.raises(HashListError, match=reason):
        read_hash_list(path, "nsrl")


@pytest.mark.parametrize(
    "data",
    [b"", b"SQLite format 3\x00", b"SQLite format 3\x00" + b"\xff" * 84, b"\x00" * 4096],
    ids=["empty", "magic-only", "header-of-garbage", "zeros"],
)
def test_files_that_are_not_sqlite_are_refused(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "not.db"
    path.write_bytes(data)
    with pytest.raises(HashListError):
        read_hash_list(path, "nsrl")


def test_a_damaged_page_is_refused_or_its_record_named(tmp_path: Path) -> None:
    path = _make(tmp_path / "damaged.db", MINIMAL_SCHEMA, "FILE", 3000)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2 // 4096 * 4096
    data[middle : middle + 4096] = bytes(range(256)) * 16
    path.write_bytes(bytes(data))
    with pytest.raises(HashListError):
        read_hash_list(path, "nsrl")
