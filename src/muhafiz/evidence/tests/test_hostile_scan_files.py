"""Scan files made to hurt the server (issue 8, finding 4): views, triggers, virtual tables,
other tables or columns, damaged pages, values of the wrong type or size. Each is refused before
any transaction opens, quickly, with a reason, and nothing is saved; property tests (hypothesis)
throw generated hostile files at the import."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from muhafiz.audit.models import AuditEvent
from muhafiz.cases.models import Case
from muhafiz.demo.media import noise_image
from muhafiz.evidence import actions
from muhafiz.evidence.models import MediaFile, Scan, ScanIssue, ScanMatch
from muhafiz.evidence.tests.conftest import upload_of
from muhafiz.testing import People, signed_in
from muhafiz.triage import scanfile

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_data_dir(settings: Any, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()


@pytest.fixture(scope="module")
def good_scan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real scan file of a small generated folder: the starting point of every hostile one."""
    from muhafiz.triage.engine import ScanOptions, start_scan

    root = tmp_path_factory.mktemp("good-scan")
    device = root / "phone"
    (device / "DCIM").mkdir(parents=True)
    for seed in range(1, 9):
        noise_image(seed, 96).save(device / "DCIM" / f"IMG_{seed:04d}.png")
    (device / "notes.txt").write_text("shopping list: rice, lentils\n" * 50)
    out = root / "good.scan"
    start_scan(ScanOptions(sources=[device], out=out, examiner="test examiner"))
    return out


def _copy(good: Path, folder: Path, name: str = "hostile.scan") -> Path:
    target = folder / name
    shutil.copy(good, target)
    return target


def _edit(path: Path, *statements: str, writable_schema: bool = False) -> Path:
    with closing(sqlite3.connect(path)) as conn:
        if writable_schema:
            conn.execute("PRAGMA writable_schema = ON")
        for statement in statements:
            conn.execute(statement)
        conn.commit()
        if writable_schema:
            conn.execute("PRAGMA writable_schema = OFF")
    return path


def _counts() -> tuple[int, ...]:
    return (
        Scan.objects.count(),
        MediaFile.objects.count(),
        ScanIssue.objects.count(),
        ScanMatch.objects.count(),
        AuditEvent.objects.count(),
    )


def _refused(people: People, case: Case, path: Path) -> str:
    """Import `path`; it must be refused with a reason, leaving no row and no file behind."""
    before = _counts()
    with pytest.raises(actions.ScanImportError) as caught:
        actions.import_uploaded_scan(people.lahore_investigator, case, upload_of(path))
    assert _counts() == before
    scans = Path(settings.DATA_DIR) / "evidence" / "scans"
    assert not list(scans.glob("incoming-*"))
    assert not list(scans.glob("*.scan"))
    message = str(caught.value.messages[0])
    assert message.startswith("This scan file cannot be imported: ")
    assert "Traceback" not in message
    return message


def test_a_good_scan_file_still_imports(people: People, lahore_case: Case, good_scan: Path) -> None:
    scan = actions.import_uploaded_scan(
        people.lahore_investigator, lahore_case, upload_of(good_scan)
    )
    assert scan.statistics["files"] == 9


def test_a_stored_scan_file_is_owner_only_whatever_the_umask(
    people: People, lahore_case: Case, good_scan: Path
) -> None:
    # Before: stored scan files were 0644 in a 0755 directory (finding 13).
    previous = os.umask(0o022)
    try:
        scan = actions.import_uploaded_scan(
            people.lahore_investigator, lahore_case, upload_of(good_scan)
        )
    finally:
        os.umask(previous)
    stored = Path(settings.DATA_DIR) / scan.stored_path
    assert stored.stat().st_mode & 0o777 == 0o600
    assert stored.parent.stat().st_mode & 0o777 == 0o700


def test_the_muhafiz_command_writes_owner_only_files(good_scan: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from muhafiz.cli import main

    previous = os.umask(0o022)
    try:
        out = tmp_path / "report.csv"
        result = CliRunner().invoke(
            main, ["report", str(good_scan), "--format", "csv", "--out", str(out)]
        )
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    assert out.stat().st_mode & 0o777 == 0o600


def test_an_older_scan_file_without_the_additive_columns_and_tables_still_imports(
    people: People, lahore_case: Case, good_scan: Path, tmp_path: Path
) -> None:
    older = _copy(good_scan, tmp_path, "older.scan")
    _edit(
        older,
        "DROP VIEW duplicate_groups",
        *(f"ALTER TABLE {t} DROP COLUMN {c}" for t, c, _ in scanfile.ADDED_COLUMNS),
        *(f"DROP TABLE {t}" for t in scanfile.ADDED_TABLES),
        scanfile.SCHEMA[scanfile.SCHEMA.index("CREATE VIEW duplicate_groups") :],
    )
    scan = actions.import_uploaded_scan(people.lahore_investigator, lahore_case, upload_of(older))
    assert scan.statistics["files"] == 9


def test_every_column_of_the_scan_file_schema_has_a_value_rule() -> None:
    for table in scanfile.expected_tables():
        ruled = {rule.column for rule in scanfile.VALUE_RULES.get(table, ())}
        unruled = set(scanfile.expected_columns(table)) - ruled
        # Columns added later fall back to their declared type (scanfile._default_rule).
        assert all(scanfile._default_rule(table, c).kind for c in unruled)


def test_a_files_table_replaced_by_a_slow_view_is_refused_unread_in_moments(
    people: People, lahore_case: Case, good_scan: Path, tmp_path: Path
) -> None:
    # Before: the import ran the view inside its write transaction (the whole SQLite database
    # stayed locked while it ran: a parallel write failed with "database is locked").
    columns = ", ".join(f"NULL AS {c}" for c in scanfile.FILE_COLUMNS)
    hostile = _edit(
        _copy(good_scan, tmp_path),
        "DROP TABLE files",
        "CREATE VIEW files AS WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n "  # noqa: S608 - hostile on purpose
        f"LIMIT 200000000) SELECT {columns} FROM n WHERE x < 0",
    )
    started = time.monotonic()
    message = _refused(people, lahore_case, hostile)
    assert time.monotonic() - started < 5
    assert "'files' is a view, not a table" in message


@pytest.mark.parametrize(
    ("statements", "reason"),
    [
        (
            ["CREATE TRIGGER t AFTER INSERT ON custody BEGIN DELETE FROM files; END"],
            "holds a trigger 't'",
        ),
        (["CREATE VIEW everything AS SELECT * FROM files, files"], "holds a view 'everything'"),
        (["CREATE TABLE extra (x TEXT)"], "holds a table 'extra'"),
        (["CREATE INDEX files_mime ON files (mime)"], "holds a index 'files_mime'"),
        (["CREATE VIRTUAL TABLE notes USING fts4(body)"], "holds a virtual table 'notes'"),
        (["DROP TABLE custody"], "table 'custody' is missing"),
        (["ALTER TABLE files DROP COLUMN exif_make"], "missing exif_make"),
        (["ALTER TABLE files ADD COLUMN payload BLOB"], "unexpected payload"),
        (["DROP VIEW duplicate_groups"], "view 'duplicate_groups' is missing"),
        (
            [
                "DROP VIEW duplicate_groups",
                "CREATE VIEW duplicate_groups AS SELECT sha256, 2 AS copies, 0 AS size FROM files",
            ],
            "view 'duplicate_groups' is defined differently",
        ),
    ],
)
def test_anything_but_the_scan_file_schema_is_refused_by_name(  # noqa: PLR0917 - fixtures
    people: People,
    lahore_case: Case,
    good_scan: Path,
    tmp_path: Path,
    statements: list[str],
    reason: str,
) -> None:
    hostile = _edit(_copy(good_scan, tmp_path), *statements)
    assert reason in _refused(people, lahore_case, hostile)


def test_a_damaged_index_page_is_refused_not_imported_as_complete(
    people: People, lahore_case: Case, good_scan: Path, tmp_path: Path
) -> None:
    # Before: reading `files` never touches its index, so the import said "complete".
    hostile = _copy(good_scan, tmp_path)
    with closing(sqlite3.connect(hostile)) as conn:
        (root,) = conn.execute(
            "SELECT rootpage FROM sqlite_schema WHERE name = 'files_sha256'"
        ).fetchone()
        (page_size,) = conn.execute("PRAGMA page_size").fetchone()
    data = bytearray(hostile.read_bytes())
    # The end of the page holds the index entries themselves.
    start = root * page_size - 96
    data[start : start + 64] = b"\x5a" * 64
    hostile.write_bytes(bytes(data))
    assert "the scan file is damaged" in _refused(people, lahore_case, hostile)


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        ("UPDATE files SET md5 = 'abc' WHERE rowid IN (SELECT 1)", "column 'md5'"),
        ("UPDATE files SET size = 'large'", "column 'size'"),
        ("UPDATE files SET gps_lat = 1e999", "column 'gps_lat'"),
        ("UPDATE files SET pdq_quality = 101", "column 'pdq_quality'"),
        ("UPDATE files SET mime = 'image/' || char(0) || 'png'", "column 'mime'"),
        ("UPDATE errors SET message = zeroblob(20000)", "column 'message'"),
        ("UPDATE files SET path_raw = 'text, not bytes'", "column 'path_raw'"),
        ("UPDATE matches SET category = 99999", "column 'category'"),
    ],
)
def test_values_of_the_wrong_type_or_size_are_refused_naming_the_column(  # noqa: PLR0917 - fixtures
    people: People,
    lahore_case: Case,
    good_scan: Path,
    tmp_path: Path,
    statement: str,
    reason: str,
) -> None:
    hostile = _copy(good_scan, tmp_path)
    with closing(sqlite3.connect(hostile)) as conn:
        conn.execute(
            "INSERT OR IGNORE INTO errors VALUES (1, 'phone/notes.txt', 'test', 'warning', 'x')"
        )
        conn.execute(
            "INSERT OR IGNORE INTO matches (source_id, path, bank, bank_kind, kind, distance,"
            " entry_line, entry_hash, category) VALUES (1, 'phone/notes.txt', 'b', 'known-bad',"
            " 'md5', 0, 1, 'h', 1)"
        )
        conn.commit()
    _edit(hostile, statement.replace("WHERE rowid IN (SELECT 1)", ""))
    assert reason in _refused(people, lahore_case, hostile)


def test_checking_a_scan_file_is_bounded_in_time(
    people: People,
    lahore_case: Case,
    good_scan: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scanfile, "verify_seconds", lambda path: 0.0)
    monkeypatch.setattr(scanfile, "PROGRESS_STEPS", 1)
    message = _refused(people, lahore_case, _copy(good_scan, tmp_path))
    assert "took longer than 0 seconds" in message


def test_the_api_answers_a_hostile_scan_file_with_the_one_error_format(
    people: People, lahore_case: Case, good_scan: Path, tmp_path: Path
) -> None:
    hostile = _edit(
        _copy(good_scan, tmp_path), "CREATE TRIGGER t AFTER INSERT ON custody BEGIN SELECT 1; END"
    )
    response = signed_in(people.lahore_investigator).post(
        f"/api/v1/evidence/cases/{lahore_case.reference}/scans", {"file": upload_of(hostile)}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "holds a trigger 't'" in error["details"][0]
    assert not Scan.objects.exists()


def test_the_cli_report_refuses_a_scan_file_with_a_view_of_its_own(
    good_scan: Path, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from muhafiz.cli import main

    hostile = _edit(_copy(good_scan, tmp_path), "CREATE VIEW spy AS SELECT * FROM files")
    result = CliRunner().invoke(
        main, ["report", str(hostile), "--format", "csv", "--out", str(tmp_path / "r.csv")]
    )
    assert result.exit_code != 0
    assert "holds a view 'spy'" in result.output


# --- property-based: generated hostile scan files ----------------------------------------------

_TABLES = ["meta", "sources", "banks", "files", "matches", "errors", "pdq_clusters", "custody"]
_NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12).map(
    lambda name: f"x_{name}"
)
_HOSTILE_VALUES = st.one_of(
    st.text(max_size=40).map(lambda text: "'" + text.replace("'", "''") + "'"),
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(str),
    st.sampled_from(
        [
            "1e999",
            "-1e999",
            "zeroblob(2000000)",
            "randomblob(64)",
            "char(0)",
            "'a' || char(0) || 'b'",
            "x'fffe00'",
            "CAST(x'c3' AS TEXT)",
            "replace(hex(zeroblob(40000)), '0', 'f')",
            "NULL",
        ]
    ),
)


@st.composite
def hostile_edits(draw: st.DrawFn) -> tuple[str, list[str]]:
    """One way to spoil a scan file, as (kind, SQL statements) or ("bytes", [how])."""
    kind = draw(
        st.sampled_from(
            ["view", "trigger", "table", "index", "drop", "add-column", "value", "bytes", "cut"]
        )
    )
    table = draw(st.sampled_from(_TABLES))
    name = draw(_NAMES)
    if kind == "view":
        return kind, [f"CREATE VIEW {name} AS SELECT * FROM {table}"]  # noqa: S608 - on purpose
    if kind == "trigger":
        return kind, [f"CREATE TRIGGER {name} BEFORE DELETE ON {table} BEGIN SELECT 1; END"]
    if kind == "table":
        return kind, [f"CREATE TABLE {name} (x)"]
    if kind == "index":
        column = draw(st.sampled_from(["path", "source_id"]))
        target = draw(st.sampled_from(["files", "errors", "pdq_clusters"]))
        return kind, [f"CREATE INDEX {name} ON {target} ({column})"]
    if kind == "drop":
        return kind, [f"DROP TABLE {table}"]
    if kind == "add-column":
        return kind, [f"ALTER TABLE {table} ADD COLUMN {name} TEXT"]
    if kind == "value":
        rules = scanfile.VALUE_RULES["files"]
        rule = draw(st.sampled_from(rules))
        value = draw(_HOSTILE_VALUES)
        return kind, [f"UPDATE files SET {rule.column} = {value}"]  # noqa: S608 - on purpose
    offset = draw(st.floats(min_value=0.0, max_value=0.999))
    length = draw(st.integers(min_value=1, max_value=512))
    return kind, [f"{offset}:{length}"]


def _spoil(path: Path, kind: str, statements: list[str], seed: int) -> None:
    if kind in {"bytes", "cut"}:
        offset_text, length_text = statements[0].split(":")
        data = bytearray(path.read_bytes())
        at = int(float(offset_text) * len(data))
        if kind == "cut":
            path.write_bytes(bytes(data[:at]))
            return
        noise = bytes((seed * 31 + i * 7) % 256 for i in range(int(length_text)))
        data[at : at + len(noise)] = noise
        path.write_bytes(bytes(data[: len(data)]))
        return
    try:
        _edit(path, *statements)
    except sqlite3.Error:
        # SQLite refused the edit itself (a value of a wrong type under STRICT rules, a name
        # clash): spoil the file by brute force instead, so the example still tests something.
        data = bytearray(path.read_bytes())
        data[100:164] = b"\xff" * 64
        path.write_bytes(bytes(data))


@pytest.fixture
def hostile_folder(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "generated"
    folder.mkdir()
    yield folder


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(edit=hostile_edits(), seed=st.integers(min_value=0, max_value=255))
def test_generated_hostile_scan_files_are_refused_clearly_or_imported_whole(  # noqa: PLR0917 - fixtures
    people: People,
    lahore_case: Case,
    good_scan: Path,
    hostile_folder: Path,
    edit: tuple[str, list[str]],
    seed: int,
) -> None:
    """Any spoiled file ends in ScanImportError with nothing changed. Only bytes flipped where
    the file keeps no data (free space) may leave a file that checks out: then it imports whole.
    No other exception, ever."""
    kind, statements = edit
    path = _copy(good_scan, hostile_folder, f"h-{seed}-{time.monotonic_ns()}.scan")
    _spoil(path, kind, statements, seed)
    before = _counts()
    try:
        scan = actions.import_uploaded_scan(
            people.lahore_investigator, lahore_case, upload_of(path)
        )
    except actions.ScanImportError as exc:
        assert _counts() == before
        assert str(exc.messages[0]).startswith("This scan file cannot be imported: ")
        return
    # Flipped bytes in free space, or a generated value that happens to be allowed.
    assert kind in {"bytes", "value"}, f"a {kind} edit was imported: {statements}"
    assert scan.statistics["files"] == MediaFile.objects.filter(scan=scan).count()
    _forget(scan)


def _forget(scan: Scan) -> None:
    """Take an accepted example's scan away again so the next example starts from the same
    rows (the audit chain keeps its record: imports are audited for good)."""
    stored = Path(settings.DATA_DIR) / scan.stored_path
    ScanMatch.objects.filter(media__scan=scan).delete()
    ScanIssue.objects.filter(scan=scan).delete()
    MediaFile.objects.filter(scan=scan).delete()
    Scan.objects.filter(pk=scan.pk).delete()
    stored.unlink(missing_ok=True)
