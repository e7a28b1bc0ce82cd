"""The contract every registered source type and archive format keeps, run on each of them.

Discovered, not listed: every class in `SOURCE_TYPES` and every format in `ARCHIVE_FORMATS`, with
its samples from `triage/tests/samples/` (see that package's docstring). For each: the sample is
opened by its own type, every file in it is listed, every file's MD5, SHA-1 and SHA-256 are
those of its bytes, and a broken sample gives an error that names the problem (a `SourceError`
naming the path, or an issue recorded in the scan file) instead of a crash or silence.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from pathlib import Path

import pytest

from muhafiz.triage.sources import ARCHIVE_FORMATS, SOURCE_TYPES, SourceError, open_source
from muhafiz.triage.tests.conftest import Scanner, ScanResult
from muhafiz.triage.tests.samples import (
    ARCHIVE_SAMPLES,
    BROKEN_ARCHIVES,
    BROKEN_SOURCES,
    SOURCE_SAMPLES,
    Broken,
    Built,
    load_samples,
)

load_samples()

SOURCE_KINDS = [source_type.kind for source_type in SOURCE_TYPES]
ARCHIVE_NAMES = sorted(ARCHIVE_FORMATS)

# Generated content: a few sizes around the hashing and streaming chunk boundaries, in folders.
FILES = {
    "notes/readme.txt": b"synthetic notes\n" * 3,
    "DCIM/100/one.bin": bytes(range(256)) * 300,
    "empty-ish.dat": b"x",
    # Incompressible, so that archive formats do not take it for a bomb.
    "deep/a/b/c/seven.bin": random.Random(7).randbytes((1 << 20) + 5),
}


def _hashes(data: bytes) -> dict[str, str]:
    return {
        "md5": hashlib.md5(data).hexdigest(),  # noqa: S324 - evidence hashes, not security
        "sha1": hashlib.sha1(data).hexdigest(),  # noqa: S324
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def _require(table: Mapping[str, object], name: str, what: str) -> None:
    if name not in table:
        pytest.fail(
            f"{what} {name!r} is registered but has no contract sample: add a module to "
            "muhafiz/triage/tests/samples/ (copy basic.py) and register its builders"
        )


def _check_listed_and_hashed(built: Built, result: ScanResult) -> None:
    missing = sorted(set(built.expected) - set(result.files))
    assert missing == [], f"not listed: {missing}; listed: {sorted(result.files)}"
    for path, data in built.expected.items():
        row = result.files[path]
        assert row["size"] == len(data), path
        assert {k: row[k] for k in ("md5", "sha1", "sha256")} == _hashes(data), path
        assert result.errors.get(path, []) == [], path


def _check_broken(broken: Broken, scan: Scanner) -> None:
    try:
        result = scan(broken.path)
    except SourceError as exc:
        assert str(broken.path) in str(exc)
        assert broken.says in str(exc)
        return
    said = [
        f"{code} {message}"
        for problems in result.errors.values()
        for code, message in problems
        if message.strip()
    ]
    assert any(broken.says in text for text in said), f"expected {broken.says!r} in {said}"


def test_every_registered_source_and_archive_has_samples() -> None:
    assert sorted(set(SOURCE_KINDS) - set(SOURCE_SAMPLES)) == []
    assert sorted(set(SOURCE_KINDS) - set(BROKEN_SOURCES)) == []
    assert sorted(set(ARCHIVE_NAMES) - set(ARCHIVE_SAMPLES)) == []
    assert sorted(set(ARCHIVE_NAMES) - set(BROKEN_ARCHIVES)) == []
    # A sample for something no longer registered is a leftover.
    assert sorted(set(SOURCE_SAMPLES) | set(BROKEN_SOURCES)) == sorted(SOURCE_KINDS)
    assert sorted(set(ARCHIVE_SAMPLES) | set(BROKEN_ARCHIVES)) == ARCHIVE_NAMES


@pytest.mark.parametrize("kind", SOURCE_KINDS)
def test_a_source_is_opened_by_its_own_type(kind: str, tmp_path: Path) -> None:
    _require(SOURCE_SAMPLES, kind, "source type")
    built = SOURCE_SAMPLES[kind](tmp_path, FILES)
    assert open_source(1, built.path).kind == kind


@pytest.mark.parametrize("kind", SOURCE_KINDS)
def test_a_source_lists_every_file_with_the_hashes_of_its_bytes(
    kind: str, tmp_path: Path, scan: Scanner
) -> None:
    _require(SOURCE_SAMPLES, kind, "source type")
    (tmp_path / "sample").mkdir()
    built = SOURCE_SAMPLES[kind](tmp_path / "sample", FILES)
    _check_listed_and_hashed(built, scan(built.path))


@pytest.mark.parametrize("kind", SOURCE_KINDS)
def test_a_broken_source_gives_a_clear_error(kind: str, tmp_path: Path, scan: Scanner) -> None:
    _require(BROKEN_SOURCES, kind, "source type")
    _check_broken(BROKEN_SOURCES[kind](tmp_path), scan)


@pytest.mark.parametrize("name", ARCHIVE_NAMES)
def test_an_archive_lists_every_member_with_the_hashes_of_its_bytes(
    name: str, tmp_path: Path, scan: Scanner
) -> None:
    _require(ARCHIVE_SAMPLES, name, "archive format")
    built = ARCHIVE_SAMPLES[name](tmp_path, FILES)
    _check_listed_and_hashed(built, scan(built.path))


@pytest.mark.parametrize("name", ARCHIVE_NAMES)
def test_a_broken_archive_is_recorded_not_crashed_on(
    name: str, tmp_path: Path, scan: Scanner
) -> None:
    _require(BROKEN_ARCHIVES, name, "archive format")
    broken = BROKEN_ARCHIVES[name](tmp_path)
    _check_broken(broken, scan)
    result = scan(broken.path)
    archive_errors = result.errors.get(broken.path.name, [])
    assert broken.says in {code for code, _ in archive_errors}, result.errors
    assert broken.path.name in result.files  # the archive itself is still recorded and hashed
