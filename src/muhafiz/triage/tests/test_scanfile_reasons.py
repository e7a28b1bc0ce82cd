"""The triage reader's refusals of a scan file have a stable code and values beside the English
sentence the command line prints (unchanged, word for word); the server says them in its
reader's language from the code (`muhafiz.evidence.reasons`)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from muhafiz.triage.scanfile import REASONS, ScanFileError, ScanWriter, open_readonly


def _scan_file(folder: Path, *statements: str) -> Path:
    path = folder / "made.scan"
    writer = ScanWriter.create(path, meta={"examiner": "test"}, sources=[], banks=[])
    writer.close()
    with closing(sqlite3.connect(path)) as conn:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    return path


def _refusal(path: Path) -> ScanFileError:
    with pytest.raises(ScanFileError) as caught:
        open_readonly(path, verify=True).close()
    return caught.value


def test_a_missing_or_existing_file_keeps_its_english(tmp_path: Path) -> None:
    missing = _refusal(tmp_path / "none.scan")
    assert str(missing) == f"{tmp_path / 'none.scan'}: no such scan file"
    assert (missing.code, missing.params, missing.path) == (
        "missing",
        {},
        str(tmp_path / "none.scan"),
    )
    made = _scan_file(tmp_path)
    with pytest.raises(ScanFileError) as caught:
        ScanWriter.create(made, meta={}, sources=[], banks=[])
    assert str(caught.value) == f"{made} already exists; use --resume to continue it"
    assert caught.value.code == "exists"


def test_a_hostile_file_is_refused_with_its_code_values_and_the_same_english(
    tmp_path: Path,
) -> None:
    version = _refusal(
        _scan_file(tmp_path, "UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    )
    path = tmp_path / "made.scan"
    assert str(version) == (
        f"{path}: scan-file schema version 99 is not supported (this tool reads version 1)"
    )
    assert (version.code, version.params) == ("schema_version", {"version": "99", "supported": 1})


def test_a_bad_value_names_its_rule_in_parts(tmp_path: Path) -> None:
    path = _scan_file(
        tmp_path,
        "INSERT INTO sources (source_id, argument, kind, description, sha256) "
        "VALUES (1, 'a', 'directory', 'd', 'XYZ')",
    )
    bad = _refusal(path)
    assert str(bad) == (
        f"{path}: table 'sources', column 'sha256': 1 value(s) are not "
        "64 lowercase hexadecimal digits or empty (NULL)"
    )
    assert bad.code == "bad_values"
    assert bad.params == {
        "table": "sources",
        "column": "sha256",
        "count": 1,
        "what": "64 lowercase hexadecimal digits or empty (NULL)",
        "rule": "hex",
        "length": 64,
        "low": "",
        "high": "",
        "nullable": 1,
    }
    assert bad.shown() == {
        "table": "'sources'",
        "column": "'sha256'",
        "count": "1",
        "what": "64 lowercase hexadecimal digits or empty (NULL)",
    }


def test_every_code_names_its_values_and_plain_text_has_none() -> None:
    for code, template in REASONS.items():
        assert template.startswith("{path}"), code
    plain = ScanFileError("out.scan is inside the source")
    assert (plain.code, plain.params, str(plain)) == ("", {}, "out.scan is inside the source")
