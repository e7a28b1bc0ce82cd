"""Hash lists made to hurt the server (issue 8, finding 12): a failed first import, deeply
nested JSON, numbers of thousands of digits, huge comments and lines, bad encodings. Each ends
in a rejected-import record (or a clear error) with the bank's rows unchanged; property tests
(hypothesis) throw generated hostile files of every text format at the import."""

from __future__ import annotations

import json
import random
import sqlite3
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from muhafiz.audit.models import AuditEvent
from muhafiz.cli import main
from muhafiz.core.permissions import SYSTEM
from muhafiz.hashbank import actions
from muhafiz.hashbank.models import Bank, BankEntry, BankImport, ImportStatus
from muhafiz.hashbank.tests.conftest import random_hex

pytestmark = pytest.mark.django_db

VICS_20 = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media"


def _vics_text(media: str) -> str:
    return '{"@odata.context": ' + json.dumps(VICS_20) + ', "value": [' + media + "]}"


def _md5(seed: int) -> str:
    return random_hex(random.Random(seed), 32)


def _bank_with_entries(tmp_path: Path) -> Bank:
    bank = actions.create_bank(SYSTEM, name="Hotline list", kind="known-bad")
    good = tmp_path / "first.txt"
    good.write_text("".join(f"{_md5(i)}\n" for i in range(5)))
    actions.import_hash_list(SYSTEM, bank, good, fmt="plain")
    return bank


def _rows(bank: Bank) -> list[tuple[object, ...]]:
    return list(BankEntry.objects.filter(bank=bank).order_by("pk").values_list())


def _rejected(bank: Bank, path: Path, fmt: str | None = None) -> str:
    """Import `path`: it must be rejected with a recorded attempt and the bank unchanged."""
    before = _rows(bank)
    with pytest.raises(actions.ImportRejectedError) as caught:
        actions.import_hash_list(SYSTEM, bank, path, fmt=fmt)
    assert _rows(bank) == before
    record = BankImport.objects.get(pk=caught.value.bank_import.pk)
    assert record.status == ImportStatus.REJECTED and record.bad >= 1
    return str(caught.value)


def test_a_failed_first_import_leaves_no_bank_and_the_name_can_be_created_again(
    tmp_path: Path,
) -> None:
    # Before: the new bank stayed, empty and enabled, and `--create` was refused after.
    bad = tmp_path / "bad.txt"
    bad.write_text(f"{_md5(1)}\nnot a hash\n")
    good = tmp_path / "good.txt"
    good.write_text(f"{_md5(1)}\n{_md5(2)}\n")
    runner = CliRunner()

    failed = runner.invoke(main, ["bank", "import", str(bad), "--name", "New", "--kind", "watch"])
    assert failed.exit_code == 1 and "line 2" in failed.output
    assert "was not kept" in failed.output
    assert not Bank.objects.filter(name="New").exists()
    assert AuditEvent.objects.filter(action="bank.discard").exists()
    assert AuditEvent.objects.filter(action="bank.import.reject").exists()

    created = runner.invoke(
        main, ["bank", "import", str(good), "--name", "New", "--kind", "watch", "--create"]
    )
    assert created.exit_code == 0, created.output
    bank = Bank.objects.get(name="New")
    assert bank.enabled and bank.entries.count() == 2


def test_a_new_bank_is_out_of_matching_until_its_first_import_is_in(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text(f"{_md5(3)}\n")
    result = CliRunner().invoke(
        main, ["bank", "import", str(good), "--name", "Fresh", "--kind", "known-bad"]
    )
    assert result.exit_code == 0, result.output
    actions_seen = list(
        AuditEvent.objects.filter(action__startswith="bank.")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions_seen == ["bank.create", "bank.import", "bank.enable"]


def test_deeply_nested_json_is_a_rejected_import_not_a_traceback(tmp_path: Path) -> None:
    bank = _bank_with_entries(tmp_path)
    path = tmp_path / "nested.json"
    nested = "[" * 100_000 + "]" * 100_000
    path.write_text(
        _vics_text('{"MediaID": 1, "MD5": "' + _md5(9) + '", "Series": ' + nested + "}")
    )
    assert "nested too deeply" in _rejected(bank, path)


DIGITS = "7" * 5000


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (f'"Category": 1{DIGITS}', "malformed JSON"),
        (f'"Category": -{DIGITS}', "malformed JSON"),
        ('"Category": 99999', "out of range"),
        (f'"Category": "9{DIGITS}"', "is not a number"),
        (f'"AlternativeHashes": [{{"HashName": "PDQ", "HashValue": "{"ab" * 32}", '
         f'"Quality": "{DIGITS}"}}]', "not a whole number 0-100"),
    ],
)  # fmt: skip
def test_numbers_of_thousands_of_digits_are_rejected_imports(
    tmp_path: Path, fields: str, reason: str
) -> None:
    # Before: a raw traceback (int_max_str_digits, or an overflow in the database).
    bank = _bank_with_entries(tmp_path)
    path = tmp_path / "numbers.json"
    path.write_text(_vics_text('{"MediaID": 1, "MD5": "' + _md5(8) + '", ' + fields + "}"))
    assert reason in _rejected(bank, path)


def test_a_huge_comment_is_refused_not_stored(tmp_path: Path) -> None:
    # Before: a 300 MB comment was stored in the bank entry.
    bank = _bank_with_entries(tmp_path)
    path = tmp_path / "comment.json"
    media = {"MediaID": 1, "MD5": _md5(10), "Comments": "x" * 20_000}
    path.write_text(_vics_text(json.dumps(media)))
    assert "at most 10,000 are kept" in _rejected(bank, path)
    assert not BankEntry.objects.filter(md5=_md5(10)).exists()


def test_a_line_of_megabytes_in_a_text_list_is_refused(tmp_path: Path) -> None:
    bank = _bank_with_entries(tmp_path)
    path = tmp_path / "long.pdq"
    path.write_text(f"{random_hex(random.Random(1), 64)},90,{'n' * (2 * 1024 * 1024)}\n")
    assert "a line longer than 1024 KiB" in _rejected(bank, path, fmt="pdq")


@pytest.mark.parametrize(
    ("text", "fmt", "reason"),
    [
        (f"{'ab' * 32},{'9' * 5000}\n", "pdq", "not a whole number 0-100"),
        (f"{'ab' * 32},²\n", "pdq", "not a whole number 0-100"),
        (f"{'9' * 5000},90,{'ab' * 32},1.0\n", "vpdq", "not a whole number"),
        (f"1,90,{'ab' * 32},{'1' * 5000}\n", "vpdq", "is not seconds"),
    ],
)
def test_huge_or_odd_numbers_in_text_lists_are_named_bad_rows(
    tmp_path: Path, text: str, fmt: str, reason: str
) -> None:
    bank = _bank_with_entries(tmp_path)
    path = tmp_path / "numbers.txt"
    path.write_text(text)
    assert reason in _rejected(bank, path, fmt=fmt)


def _imported_whole_or_nothing(bank: Bank, path: Path, fmt: str | None) -> None:
    """Import a spoiled file: rejected (recorded, rows unchanged), refused with a clear
    BankError (rows unchanged), or imported whole. Never any other exception."""
    before = _rows(bank)
    imports = BankImport.objects.filter(bank=bank).count()
    try:
        result = actions.import_hash_list(SYSTEM, bank, path, fmt=fmt)
    except actions.ImportRejectedError as exc:
        assert _rows(bank) == before
        assert exc.bank_import.status == ImportStatus.REJECTED
        assert BankImport.objects.filter(bank=bank).count() == imports + 1
        return
    except actions.BankError as exc:
        assert _rows(bank) == before
        assert str(exc) and "Traceback" not in str(exc)
        return
    finally:
        path.unlink(missing_ok=True)
    assert result.status in {ImportStatus.COMPLETED, ImportStatus.ALREADY_IMPORTED}
    added = BankEntry.objects.filter(bank=bank).count() - len(before)
    assert added == result.added


# --- property-based: generated hostile hash lists ---------------------------------------------


def _valid_lines(fmt: str, rng: random.Random, n: int) -> list[str]:
    if fmt == "plain":
        return [random_hex(rng, 32) for _ in range(n)]
    if fmt == "checksum":
        return [f"{random_hex(rng, 40)}  file-{i}.jpg" for i in range(n)]
    if fmt == "hashdeep":
        rows = [f"{i + 10},{random_hex(rng, 32)},{random_hex(rng, 64)},/x/{i}" for i in range(n)]
        return ["%%%% HASHDEEP-1.0", "%%%% size,md5,sha256,filename", *rows]
    if fmt == "pdq":
        return [f"{random_hex(rng, 64)},{80 + i % 20}" for i in range(n)]
    if fmt == "vpdq":
        return [f"{i},90,{random_hex(rng, 64)},{i}.000" for i in range(n)]
    media = [
        json.dumps({"MediaID": i, "MD5": random_hex(rng, 32), "Category": 1}) for i in range(n)
    ]
    return [_vics_text(",".join(media))]


_HOSTILE_PIECES = st.one_of(
    st.text(max_size=80),
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
    st.sampled_from(
        [
            "[" * 5000,
            '{"a":' * 3000,
            "9" * 5000,
            "-" + "1" * 4400,
            "1e99999",
            "\x00\x00",
            "\ud800",
            "NaN",
            '"' + "x" * 20_000 + '"',
            ",,,,,,",
            "%%%% HASHDEEP-1.0",
            "}]}",
        ]
    ),
)


@st.composite
def hostile_lists(draw: st.DrawFn) -> tuple[str, bytes]:
    fmt = draw(st.sampled_from(["plain", "checksum", "hashdeep", "pdq", "vpdq", "vics"]))
    rng = random.Random(draw(st.integers(0, 10_000)))
    lines = _valid_lines(fmt, rng, draw(st.integers(1, 6)))
    text = "\n".join(lines) + "\n"
    how = draw(st.sampled_from(["insert", "replace", "cut", "bytes"]))
    at = draw(st.integers(0, len(text)))
    piece = draw(_HOSTILE_PIECES)
    if how == "insert":
        text = text[:at] + piece + text[at:]
    elif how == "replace":
        text = text[:at] + piece + text[at + len(piece) :]
    elif how == "cut":
        text = text[:at]
    data = text.encode("utf-8", errors="surrogatepass")
    if how == "bytes":
        noise = draw(st.binary(min_size=1, max_size=16))
        data = data[:at] + noise + data[at:]
    return fmt, data


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(hostile=hostile_lists(), detect=st.booleans())
def test_generated_hostile_hash_lists_never_change_rows_unless_they_import_whole(
    tmp_path: Path, hostile: tuple[str, bytes], detect: bool
) -> None:
    """A spoiled list is either rejected (recorded, rows unchanged), refused with a clear
    BankError (rows unchanged), or — when the spoiling left valid lines, such as a comment —
    imported whole. Never any other exception."""
    fmt, data = hostile
    bank = Bank.objects.filter(name="Hostile").first() or actions.create_bank(
        SYSTEM, name="Hostile", kind="known-bad"
    )
    path = tmp_path / f"hostile-{BankImport.objects.count()}.{fmt}"
    path.write_bytes(data)
    _imported_whole_or_nothing(bank, path, None if detect else fmt)


# --- NSRL RDS v3: an SQLite file from outside ---------------------------------------------------

# NSRL's own schema has NOT NULL hash columns; a hostile file need not.
_NSRL_MINIMAL = """
CREATE TABLE FILE (sha256 VARCHAR, sha1 VARCHAR, md5 VARCHAR,
  crc32 VARCHAR, file_name VARCHAR NOT NULL, file_size INTEGER NOT NULL,
  package_id INTEGER NOT NULL);
CREATE VIEW DISTINCT_HASH AS SELECT DISTINCT sha256, sha1, md5, crc32 FROM FILE;
"""
# Schemas made to hurt a reader: views that never end or are only views, generated columns,
# hash columns missing, and tables named like NSRL's with other things in them.
_NSRL_HOSTILE_SCHEMAS = [
    "CREATE VIEW FILE AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
    "SELECT printf('%032X', x) AS md5 FROM c;",
    "CREATE TABLE T (md5 TEXT); CREATE VIEW METADATA AS SELECT md5 FROM T;",
    "CREATE TABLE FILE (n INTEGER, md5 TEXT GENERATED ALWAYS AS (hex(zeroblob(16))) VIRTUAL);"
    "INSERT INTO FILE (n) VALUES (1);",
    "CREATE TABLE FILE (name TEXT, size INTEGER); INSERT INTO FILE VALUES ('a', 1);",
    "CREATE TABLE METADATA (md5 BLOB); INSERT INTO METADATA VALUES (zeroblob(16));",
    "CREATE TABLE FILE (md5); INSERT INTO FILE VALUES (1e308), (NULL), (-1);",
]


def _nsrl_bytes(tmp_path: Path, rng: random.Random, rows: int) -> bytes:
    path = tmp_path / f"base-{uuid.uuid4().hex}.db"
    connection = sqlite3.connect(path)
    connection.executescript(_NSRL_MINIMAL)
    connection.executemany(
        "INSERT INTO FILE (sha256, sha1, md5, file_name, file_size, package_id) "
        "VALUES (?, ?, ?, ?, ?, 1)",
        [
            (random_hex(rng, 64).upper(), random_hex(rng, 40).upper(), random_hex(rng, 32).upper(),
             f"f{i}.dll", i)
            for i in range(rows)
        ],
    )  # fmt: skip
    connection.commit()
    connection.close()
    data = path.read_bytes()
    path.unlink()
    return data


@st.composite
def hostile_nsrl(draw: st.DrawFn) -> tuple[str, object]:
    """How to spoil a small, valid NSRL database: flip bytes, cut it, give it a hostile schema,
    or put a hostile value in a hash column."""
    how = draw(st.sampled_from(["flip", "cut", "schema", "value"]))
    if how == "schema":
        return how, draw(st.sampled_from(_NSRL_HOSTILE_SCHEMAS))
    if how == "value":
        return how, draw(
            st.one_of(
                st.text(max_size=70),
                st.binary(max_size=70),
                # Any integer SQLite can hold (the test's own sqlite3 cannot bind a larger one).
                st.integers(-(1 << 63), (1 << 63) - 1),
                st.floats(allow_nan=True),
                st.just("F" * 2_000_000),
                st.none(),
            )
        )
    return how, (draw(st.integers(0, 1 << 20)), draw(st.binary(min_size=1, max_size=64)))


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(hostile=hostile_nsrl(), seed=st.integers(0, 10_000), detect=st.booleans())
def test_generated_hostile_nsrl_databases_never_change_rows_unless_they_import_whole(
    tmp_path: Path, hostile: tuple[str, object], seed: int, detect: bool
) -> None:
    """A spoiled NSRL database is rejected (recorded, rows unchanged) or refused with a clear
    BankError (rows unchanged), quickly, or — when the spoiling left it valid — imported whole.
    Never any other exception, never a query of the file's own."""
    rng = random.Random(seed)
    how, what = hostile
    path = tmp_path / f"hostile-{uuid.uuid4().hex}.db"  # a new name: no journal left beside it
    if how == "schema":
        connection = sqlite3.connect(path)
        connection.executescript(str(what))
        connection.commit()
        connection.close()
    elif how == "value":
        path.write_bytes(_nsrl_bytes(tmp_path, rng, 3))
        connection = sqlite3.connect(path)
        connection.execute("UPDATE FILE SET md5 = ? WHERE file_size = 1", [what])
        connection.commit()
        connection.close()
    else:
        assert isinstance(what, tuple)
        at, noise = int(what[0]), bytes(what[1])
        data = _nsrl_bytes(tmp_path, rng, rng.randint(1, 400))
        at %= max(len(data), 1)
        data = data[:at] if how == "cut" else data[:at] + noise + data[at + len(noise) :]
        path.write_bytes(data)
    bank = Bank.objects.filter(name="Known software").first() or actions.create_bank(
        SYSTEM, name="Known software", kind="known-good"
    )
    _imported_whole_or_nothing(bank, path, None if detect else "nsrl")
