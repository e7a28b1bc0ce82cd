"""Sample files for the hash-list format contract suite (`test_format_contract.py`).

Every registered format (`muhafiz.banks.formats.formats()`) needs one `FormatSample` here,
registered under its name with `@sample("name")`: the suite fails for a format without one.
A sample builds, in a test's temporary folder and from the test's own bytes only:

- `valid(tmp_path, files)`: a file in the format listing `files` (name -> bytes); the suite reads
  it back and checks every hash against the bytes. Formats that can write are not asked for
  one: the suite writes them with their own writer (write -> sniff -> read round trip).
- `broken(tmp_path, files)`: a file whose record at a known line is bad; returns the path and
  that line (the record number for databases). The suite checks that the error names it.

Adding a format: copy a sibling below, register it under the format's name.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

Files = dict[str, bytes]
Builder = Callable[[Path, Files], Path]
BrokenBuilder = Callable[[Path, Files], tuple[Path, int]]

# Which hashes of a file a format carries (the suite checks those it reads back).
MD5, SHA1, SHA256, PDQ = "md5", "sha1", "sha256", "pdq"


@dataclass(frozen=True)
class FormatSample:
    carries: tuple[str, ...]  # md5 / sha1 / sha256 / pdq: what `valid` files hold per file
    broken: BrokenBuilder
    valid: Builder | None = None  # None: the format writes its own sample


SAMPLES: dict[str, FormatSample] = {}


def sample(
    name: str, *, carries: tuple[str, ...], valid: Builder | None = None
) -> Callable[[BrokenBuilder], BrokenBuilder]:
    def register(broken: BrokenBuilder) -> BrokenBuilder:
        SAMPLES[name] = FormatSample(carries=carries, broken=broken, valid=valid)
        return broken

    return register


def digest(kind: str, data: bytes) -> str:
    """The hash of `kind` of the bytes; a "PDQ" here is the SHA-256 of the bytes, which has the
    PDQ's shape (256 bits) and is of the test's own content."""
    if kind == MD5:
        return hashlib.md5(data).hexdigest()  # noqa: S324 - a list format, not security
    if kind == SHA1:
        return hashlib.sha1(data).hexdigest()  # noqa: S324
    return hashlib.sha256(data).hexdigest()


def _text(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- text formats -----------------------------------------------------------------------------


def _plain(tmp_path: Path, files: Files) -> Path:
    return _text(tmp_path / "hashes.txt", [digest(MD5, data) for data in files.values()])


@sample("plain", carries=(MD5,), valid=_plain)
def _plain_broken(tmp_path: Path, files: Files) -> tuple[Path, int]:
    lines = [digest(MD5, data) for data in files.values()]
    lines.insert(1, "0" * 39)  # no hash kind is 39 hex digits long
    return _text(tmp_path / "bad.txt", lines), 2


def _checksum(tmp_path: Path, files: Files) -> Path:
    lines = [f"{digest(SHA256, data)}  {name}" for name, data in files.items()]
    return _text(tmp_path / "list.sha256", lines)


@sample("checksum", carries=(SHA256,), valid=_checksum)
def _checksum_broken(tmp_path: Path, files: Files) -> tuple[Path, int]:
    items = list(files.items())
    lines = [f"{digest(SHA256, data)}  {name}" for name, data in items]
    lines.insert(2, f"{digest(MD5, items[0][1])}  mixed")  # one list, one algorithm
    return _text(tmp_path / "bad.sha256", lines), 3


def _hashdeep(tmp_path: Path, files: Files) -> Path:
    lines = ["%%%% HASHDEEP-1.0", "%%%% size,md5,sha256,filename", "## synthetic"]
    lines += [
        f"{len(data)},{digest(MD5, data)},{digest(SHA256, data)},/evidence/{name}"
        for name, data in files.items()
    ]
    return _text(tmp_path / "hashdeep.csv", lines)


@sample("hashdeep", carries=(MD5, SHA256), valid=_hashdeep)
def _hashdeep_broken(tmp_path: Path, files: Files) -> tuple[Path, int]:
    lines = _hashdeep(tmp_path, files).read_text(encoding="utf-8").splitlines()
    lines.insert(4, "12,zz,not-a-hash")  # two fields short
    return _text(tmp_path / "bad.csv", lines), 5


def _vpdq(tmp_path: Path, files: Files) -> Path:
    lines = [
        f"{frame * 30},100,{digest(PDQ, data)},{frame:.3f}"
        for frame, data in enumerate(files.values())
    ]
    return _text(tmp_path / "video.vpdq.txt", lines)


@sample("vpdq", carries=(PDQ,), valid=_vpdq)
def _vpdq_broken(tmp_path: Path, files: Files) -> tuple[Path, int]:
    lines = _vpdq(tmp_path, files).read_text(encoding="utf-8").splitlines()
    lines.insert(1, f"30,100,{'z' * 64},1.000")
    return _text(tmp_path / "bad.vpdq.txt", lines), 2


@sample("pdq", carries=(PDQ,))
def _pdq_broken(tmp_path: Path, files: Files) -> tuple[Path, int]:
    lines = [f"{digest(PDQ, data)},100" for data in files.values()]
    lines.insert(2, f"{digest(PDQ, b'x')},101")  # quality is 0..100
    return _text(tmp_path / "bad.pdq", lines), 3


# --- structured formats -----------------------------------------------------------------------

VICS_20 = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media"


@sample("vics", carries=(MD5, SHA1))
def _vics_broken(tmp_path: Path, files: Files) -> tuple[Path, int]:
    media = [
        {"MediaID": i, "Category": 1, "MD5": digest(MD5, data), "SHA1": digest(SHA1, data)}
        for i, data in enumerate(files.values(), start=1)
    ]
    media[1]["MD5"] = "abc"
    lines = [
        "{",
        f' "@odata.context": "{VICS_20}",',
        ' "value": [',
        ",\n".join("  " + json.dumps(item) for item in media),
        " ]",
        "}",
    ]
    path = tmp_path / "bad.json"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, 5  # one media record a line, the second on line 5


NSRL_MINIMAL_SCHEMA = """
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


def _nsrl_rows(files: Files) -> list[tuple[str, str, str, str, int]]:
    return [
        (
            digest(SHA256, data).upper(),
            digest(SHA1, data).upper(),
            digest(MD5, data).upper(),
            name,
            len(data),
        )
        for name, data in files.items()
    ]


def _nsrl_db(path: Path, rows: list[tuple[str, str, str, str, int]]) -> Path:
    connection = sqlite3.connect(path)
    try:
        connection.executescript(NSRL_MINIMAL_SCHEMA)
        connection.executemany(
            "INSERT INTO FILE (sha256, sha1, md5, file_name, file_size, package_id) "
            "VALUES (?, ?, ?, ?, ?, 1)",
            rows,
        )
        connection.execute("INSERT INTO VERSION VALUES ('2026.09.1', 'modern', '', '', 'test')")
        connection.commit()
    finally:
        connection.close()
    return path


def _nsrl(tmp_path: Path, files: Files) -> Path:
    return _nsrl_db(tmp_path / "rds.db", _nsrl_rows(files))


@sample("nsrl", carries=(MD5, SHA1, SHA256), valid=_nsrl)
def _nsrl_broken(tmp_path: Path, files: Files) -> tuple[Path, int]:
    rows = _nsrl_rows(files)
    sha256, sha1, _md5, name, size = rows[1]
    rows[1] = (sha256, sha1, "XYZ", name, size)
    return _nsrl_db(tmp_path / "bad.db", rows), 2  # the second record
