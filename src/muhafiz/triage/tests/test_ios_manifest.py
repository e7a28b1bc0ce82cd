"""An unencrypted iOS backup's manifest is asked file by file, never copied into memory."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from muhafiz.triage.sources.base import Unit
from muhafiz.triage.sources.ios import IosBackupSource
from muhafiz.triage.tests.conftest import Scanner
from muhafiz.triage.tests.media import jpeg_bytes, scene
from muhafiz.triage.tests.phone import ios_file_id, make_ios_backup

FILES = [
    ("CameraRollDomain", "Media/DCIM/100APPLE/IMG_0001.JPG", b"first"),
    ("HomeDomain", "Library/Notes/note.txt", b"second"),
    ("AppDomain-net.whatsapp.WhatsApp", "Documents/x.bin", b"third"),
]
EXPECTED = {f"{domain}/{relative}" for domain, relative, _ in FILES}


def _without_index(backup: Path) -> None:
    """The same manifest rebuilt without its primary key (a damaged or crafted Manifest.db)."""
    conn = sqlite3.connect(backup / "Manifest.db")
    conn.executescript(
        "CREATE TABLE plain (fileID TEXT, domain TEXT, relativePath TEXT, flags INTEGER,"
        " file BLOB); INSERT INTO plain SELECT * FROM Files; DROP TABLE Files;"
        " ALTER TABLE plain RENAME TO Files;"
    )
    conn.commit()
    conn.execute("VACUUM")
    conn.close()


def _device_paths(source: IosBackupSource) -> set[str]:
    found = set()
    for item in source.walk():
        if isinstance(item, Unit):
            opened = source.open(item)
            opened.stream.close()
            if opened.record.device_path:
                found.add(opened.record.device_path)
    return found


def test_an_indexed_manifest_is_looked_up_file_by_file(tmp_path: Path) -> None:
    backup = make_ios_backup(tmp_path / "phone", FILES)
    source = IosBackupSource(1, backup)
    assert _device_paths(source) == EXPECTED
    assert source._manifest is None  # nothing read into memory
    assert source.details() is not None
    assert source.details()["manifest_files"] == 3  # type: ignore[index]


def test_a_manifest_without_its_index_is_read_once_as_before(tmp_path: Path) -> None:
    backup = make_ios_backup(tmp_path / "phone", FILES)
    _without_index(backup)
    source = IosBackupSource(1, backup)
    assert _device_paths(source) == EXPECTED
    assert source._manifest is not None and len(source._manifest) == 3
    assert source.details()["manifest_files"] == 3  # type: ignore[index]


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("indexed", [True, False])
def test_scans_give_the_same_device_paths_either_way(
    tmp_path: Path, scan: Scanner, workers: int, indexed: bool
) -> None:
    photo = jpeg_bytes(scene(3))
    files = [*FILES, ("CameraRollDomain", "Media/DCIM/100APPLE/IMG_0002.JPG", photo)]
    backup = make_ios_backup(tmp_path / "phone", files)
    if not indexed:
        _without_index(backup)
    result = scan(backup, workers=workers)
    devices = {str(f["device_path"]) for f in result.files.values() if f["device_path"]}
    assert devices == {f"{d}/{r}" for d, r, _ in files}
    file_id = ios_file_id("CameraRollDomain", "Media/DCIM/100APPLE/IMG_0002.JPG")
    row = result.files[f"phone/{file_id[:2]}/{file_id}"]
    assert row["timestamps_reliable"] == 1 and row["pdq"] is not None
