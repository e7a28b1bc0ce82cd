"""iOS (iTunes/Finder) backup folders: each stored file mapped back to its domain and path.

A backup keeps every file as `<first two hex of fileID>/<fileID>`; `Manifest.db` (SQLite,
table `Files`) says which domain and relative path each fileID was on the phone, and its `file`
plist the file's times. The folder is scanned like any folder (every file hashed, nothing
skipped); files listed in the manifest also get their device path (`domain/relativePath`) and
times. An encrypted backup (`Manifest.plist` IsEncrypted) keeps its manifest encrypted too: its
files are hashed as they are, and the source records "encrypted: needs the backup password".
"""

from __future__ import annotations

import datetime as dt
import os
import plistlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from muhafiz.triage.records import FileRecord, Issue, IssueCode
from muhafiz.triage.sources.base import OpenedUnit, Unit
from muhafiz.triage.sources.directory import DirectorySource, open_readonly

_NOTE = "device times from the backup's Manifest.db (UTC)"
_INFO_KEYS = {
    "Device Name": "device_name",
    "Product Type": "model",
    "Product Version": "ios_version",
    "IMEI": "imei",
    "MEID": "meid",
    "Serial Number": "serial",
    "Phone Number": "phone_number",
    "Last Backup Date": "last_backup",
    "Unique Identifier": "udid",
}
ENCRYPTED_MESSAGE = "encrypted: needs the backup password"


def _read_plist(path: Path) -> dict[str, Any]:
    try:
        with os.fdopen(open_readonly(path), "rb") as handle:
            value = plistlib.load(handle)
    except (OSError, plistlib.InvalidFileException, ValueError, TypeError):
        return {}
    return value if isinstance(value, dict) else {}


class IosBackupSource(DirectorySource):
    kind: ClassVar[str] = "ios-backup"

    def __init__(self, source_id: int, path: Path) -> None:
        super().__init__(source_id, path)
        self._manifest: dict[str, tuple[str, str, bytes | None]] | None = None
        self._details: dict[str, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"source_id": self.source_id, "path": self.path, "_details": self._details}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._manifest = None

    @classmethod
    def accepts(cls, path: Path) -> bool:
        return path.is_dir() and (path / "Manifest.db").is_file()

    def describe(self) -> str:
        return f"iOS backup {self.path.resolve()}"

    def details(self) -> dict[str, Any] | None:
        return self._details

    @property
    def encrypted(self) -> bool:
        return bool(_read_plist(self.path / "Manifest.plist").get("IsEncrypted"))

    def walk(self) -> Iterator[Unit | FileRecord | Issue]:
        info = _read_plist(self.path / "Info.plist")
        details: dict[str, Any] = {"format": "iOS backup"}
        for key, name in _INFO_KEYS.items():
            if info.get(key) not in (None, ""):
                value = info[key]
                details[name] = value.isoformat() if isinstance(value, dt.datetime) else str(value)
        if "model" in details:
            details["make"] = "Apple"
        details["encrypted"] = self.encrypted
        self._details = details
        if self.encrypted:
            yield Issue(
                self.source_id,
                f"{self.label}/Manifest.db",
                IssueCode.ENCRYPTED_BACKUP,
                f"{ENCRYPTED_MESSAGE}; files are hashed as stored (encrypted), without their "
                "device paths",
            )
        else:
            try:
                details["manifest_files"] = len(self.manifest())
            except sqlite3.Error as exc:
                yield Issue(
                    self.source_id,
                    f"{self.label}/Manifest.db",
                    IssueCode.UNREADABLE,
                    f"Manifest.db could not be read ({exc}); files are hashed without their "
                    "device paths",
                )
        yield from super().walk()

    def manifest(self) -> dict[str, tuple[str, str, bytes | None]]:
        """fileID -> (domain, relativePath, file plist), read once per process."""
        if self._manifest is None:
            self._manifest = {}
            if self.encrypted:
                return self._manifest
            # immutable=1: SQLite writes nothing beside the evidence (no -wal, -shm or lock).
            uri = f"{(self.path / 'Manifest.db').resolve().as_uri()}?mode=ro&immutable=1"
            conn = sqlite3.connect(uri, uri=True)
            try:
                rows = conn.execute(
                    "SELECT fileID, domain, relativePath, file FROM Files WHERE flags = 1"
                )
                for file_id, domain, relative, blob in rows:
                    self._manifest[str(file_id).lower()] = (str(domain), str(relative), blob)
            finally:
                conn.close()
        return self._manifest

    def open(self, unit: Unit) -> OpenedUnit:
        opened = super().open(unit)
        name = unit.locator.rsplit("/", 1)[-1].lower()
        try:
            found = self.manifest().get(name) if len(name) == 40 else None
        except sqlite3.Error:
            found = None
        if found is not None:
            domain, relative, blob = found
            record = opened.record
            record.device_path = f"{domain}/{relative}"
            _times(record, blob)
        return opened


def _times(record: FileRecord, blob: bytes | None) -> None:
    """LastModified and Birth from the NSKeyedArchiver plist in `Files.file`, if readable."""
    if not blob:
        return
    try:
        archived = plistlib.loads(blob)
        objects = archived.get("$objects", [])
        attributes = next((o for o in objects if isinstance(o, dict) and "LastModified" in o), None)
    except Exception:  # a damaged plist costs the times, not the file
        return
    if attributes is None:
        return
    stamps = {"mtime": attributes.get("LastModified"), "created": attributes.get("Birth")}
    if not any(isinstance(v, int) for v in stamps.values()):
        return
    record.atime = record.ctime = None  # those described the backup copy, not the phone
    record.mtime = None
    for key, value in stamps.items():
        if isinstance(value, int) and 0 < value < 2**33:
            moment = dt.datetime.fromtimestamp(value, dt.UTC)
            setattr(record, key, moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    record.time_zone = "UTC"
    record.timestamps_reliable = True
    record.timestamp_note = _NOTE
