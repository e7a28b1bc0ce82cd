"""iOS (iTunes/Finder) backup folders: each stored file mapped back to its domain and path.

A backup keeps every file as `<first two hex of fileID>/<fileID>`; `Manifest.db` (SQLite,
table `Files`) says which domain and relative path each fileID was on the phone, and its `file`
plist the file's times. The folder is scanned like any folder (every file hashed, nothing
skipped); files listed in the manifest also get their device path (`domain/relativePath`) and
times. An encrypted backup (`Manifest.plist` IsEncrypted) keeps its manifest and every stored
file encrypted: with the backup password (`scan --ios-password-file`) both are decrypted in
memory as they are read (`ioscrypto`), and the records are those of the plaintext; without it,
the source records "encrypted backup: supply --ios-password-file" and lists each stored file as
encrypted, unhashed (a hash of ciphertext matches nothing and would look like a file's hash).
"""

from __future__ import annotations

import datetime as dt
import errno
import io
import os
import plistlib
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from muhafiz.triage.records import FileRecord, Issue, IssueCode
from muhafiz.triage.sources import ioscrypto
from muhafiz.triage.sources.base import (
    OpenedUnit,
    Passwords,
    SourceError,
    Unit,
    WrongPasswordError,
)
from muhafiz.triage.sources.directory import DirectorySource, fill_from_stat, open_readonly
from muhafiz.untrusted import sqlite as untrusted_sqlite

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
ENCRYPTED_MESSAGE = "encrypted backup: supply --ios-password-file (needs the backup password)"
_STORED_NAME = re.compile(r"[0-9a-f]{40}")
# Manifest.db is decrypted into memory whole; a larger one is not a phone's manifest.
MAX_MANIFEST_BYTES = 1 << 30
ManifestEntry = tuple[str, str, bytes | None]
Manifest = dict[str, ManifestEntry]
# One stored file's entry, looked up in the evidence's own Manifest.db through its fileID index.
_LOOKUP = (
    "SELECT domain, relativePath, file FROM Files WHERE fileID IN (?, ?) AND flags = 1 LIMIT 1"
)


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
        self._manifest: Manifest | None = None
        self._details: dict[str, Any] = {}
        self._encrypted: bool | None = None
        # Protection class -> class key, once the password has unlocked the keybag (memory only).
        self._class_keys: dict[int, bytes] | None = None
        self._manifest_key: bytes | None = None
        # An unencrypted backup whose Manifest.db has its index on fileID (every real one: the
        # column is its primary key) is asked file by file, each process on a connection of its
        # own: no copy of the manifest in memory (about 1 KB a file, in every worker).
        self._indexed: bool | None = None
        self._conn: sqlite3.Connection | None = None
        self._conn_pid = 0
        # A backup found inside a folder (`sources.nested`): its path there.
        self.nested_label: str | None = None

    @property
    def label(self) -> str:
        return self.nested_label or super().label

    def __getstate__(self) -> dict[str, Any]:
        keys = ("source_id", "path", "_details", "_encrypted", "_indexed", "nested_label")
        state = {k: self.__dict__[k] for k in keys}
        state |= {"_class_keys": self._class_keys, "_manifest_key": self._manifest_key}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._manifest = None
        self._conn, self._conn_pid = None, 0

    @classmethod
    def accepts(cls, path: Path) -> bool:
        return path.is_dir() and (path / "Manifest.db").is_file()

    def describe(self) -> str:
        return f"iOS backup {self.path.resolve()}"

    def details(self) -> dict[str, Any] | None:
        return self._details

    @property
    def encrypted(self) -> bool:
        if self._encrypted is None:
            self._encrypted = bool(_read_plist(self.path / "Manifest.plist").get("IsEncrypted"))
        return self._encrypted

    @property
    def locked(self) -> bool:
        return self.encrypted and self._class_keys is None

    def use_passwords(self, passwords: Passwords) -> None:
        if not self.encrypted or not passwords.ios_backup:
            return
        plist = _read_plist(self.path / "Manifest.plist")
        blob, manifest_key = plist.get("BackupKeyBag"), plist.get("ManifestKey")
        if not isinstance(blob, bytes) or not isinstance(manifest_key, bytes):
            raise SourceError(f"{self.describe()}: Manifest.plist lacks BackupKeyBag/ManifestKey")
        try:
            keybag = ioscrypto.parse_keybag(blob)
            for password in passwords.ios_backup:
                try:
                    class_keys = ioscrypto.unlock(keybag, password)
                    break
                except ioscrypto.WrongPasswordError:
                    continue
            else:
                raise WrongPasswordError(
                    f"{self.describe()}: wrong backup password (the password in "
                    "--ios-password-file does not unlock the backup's keybag)"
                )
            self._manifest_key = ioscrypto.unwrap_file_key(
                class_keys, *ioscrypto.split_class_and_key(manifest_key)
            )
        except ioscrypto.KeybagError as exc:
            raise SourceError(
                f"{self.describe()}: the backup's keybag is damaged ({exc})"
            ) from None
        self._class_keys = class_keys

    def unlocked_keys(self) -> tuple[dict[int, bytes], bytes | None] | None:
        """The class keys and the manifest's key once a password has unlocked the backup (memory
        only; a backup found inside a folder is unlocked once per process, `sources.nested`)."""
        if self._class_keys is None:
            return None
        return dict(self._class_keys), self._manifest_key

    def use_keys(self, keys: tuple[dict[int, bytes], bytes | None]) -> None:
        """Unlock with the keys another instance of the same backup's `unlocked_keys` gave."""
        self._class_keys, self._manifest_key = dict(keys[0]), keys[1]

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
        if self.encrypted:
            details["decrypted"] = not self.locked
        self._details = details
        if self.locked:
            yield Issue(
                self.source_id,
                f"{self.label}/Manifest.db",
                IssueCode.ENCRYPTED_BACKUP,
                f"{ENCRYPTED_MESSAGE}; the stored files are listed as encrypted, not hashed, "
                "and without their device paths",
            )
            for item in super().walk():
                yield self._encrypted_record(item) if self._is_stored(item) else item
            return
        try:
            details["manifest_files"] = self._count()
        except (sqlite3.Error, ioscrypto.KeybagError, OSError) as exc:
            yield Issue(
                self.source_id,
                f"{self.label}/Manifest.db",
                IssueCode.UNREADABLE,
                f"Manifest.db could not be read ({exc}); files are hashed without their "
                "device paths",
            )
        yield from super().walk()

    @staticmethod
    def _is_stored(item: Unit | FileRecord | Issue) -> bool:
        if not isinstance(item, Unit):
            return False
        folder, _, name = item.locator.rpartition("/")
        return bool(_STORED_NAME.fullmatch(name)) and folder.endswith(f"/{name[:2]}")

    def _encrypted_record(self, unit: Unit | FileRecord | Issue) -> FileRecord | Issue:
        assert isinstance(unit, Unit)
        record = FileRecord(unit.source_id, unit.path, None, 0, size=unit.size)
        try:
            fill_from_stat(record, os.lstat(unit.locator))
        except OSError as exc:
            return Issue(unit.source_id, unit.path, IssueCode.VANISHED, str(exc.strerror))
        record.add_issue(
            IssueCode.ENCRYPTED_BACKUP,
            "stored encrypted in the backup: not hashed (its bytes are ciphertext); "
            "supply --ios-password-file to read it",
        )
        return record

    def manifest(self) -> Manifest:
        """fileID -> (domain, relativePath, file plist), read once per process."""
        if self._manifest is None:
            if self.locked:
                return {}
            if self._manifest_key is not None:
                conn = self._decrypted_manifest(self._manifest_key)
            else:  # immutable: SQLite writes nothing beside the evidence (no -wal, -shm, lock)
                conn = untrusted_sqlite.connect(self.path / "Manifest.db", immutable=True)
            manifest: Manifest = {}
            try:
                rows = conn.execute(
                    "SELECT fileID, domain, relativePath, file FROM Files WHERE flags = 1"
                )
                for file_id, domain, relative, blob in rows:
                    manifest[str(file_id).lower()] = (str(domain), str(relative), blob)
            finally:
                conn.close()
            self._manifest = manifest
        return self._manifest

    def _count(self) -> int:
        """Files the manifest lists; decides whether stored files are looked up one by one."""
        if self._manifest_key is not None or not self._lookups():
            return len(self.manifest())
        conn = untrusted_sqlite.connect(self.path / "Manifest.db", immutable=True)
        try:
            row = conn.execute(
                "SELECT COUNT(DISTINCT lower(fileID)) FROM Files WHERE flags = 1"
            ).fetchone()
        finally:
            conn.close()
        return int(row[0])

    def _lookups(self) -> bool:
        """Whether this (unencrypted) backup's manifest can be asked file by file: SQLite plans
        the lookup as a search of an index on fileID, not a scan of the table (a crafted or
        damaged manifest without one is read into memory once, as before)."""
        if self.encrypted:
            return False  # its manifest is decrypted into memory only (decision 0104)
        if self._indexed is None:
            conn = untrusted_sqlite.connect(self.path / "Manifest.db", immutable=True)
            try:
                plan = conn.execute(f"EXPLAIN QUERY PLAN {_LOOKUP}", ("", "")).fetchall()
            finally:
                conn.close()
            self._indexed = bool(plan) and all(
                str(row[-1]).startswith("SEARCH") and "(fileid=?)" in str(row[-1]).lower()
                for row in plan
            )
        return self._indexed

    def _lookup(self, name: str) -> ManifestEntry | None:
        if self._conn is None or self._conn_pid != os.getpid():
            # A connection is never used across a fork (SQLite forbids it): each process opens
            # its own, and one inherited from the parent is left alone, not closed.
            self._conn = untrusted_sqlite.connect(self.path / "Manifest.db", immutable=True)
            self._conn_pid = os.getpid()
        row = self._conn.execute(_LOOKUP, (name, name.upper())).fetchone()
        if row is None:
            return None
        domain, relative, blob = row
        return str(domain), str(relative), blob

    def _decrypted_manifest(self, key: bytes) -> sqlite3.Connection:
        """Manifest.db decrypted into memory (nothing decrypted touches a disk)."""
        with os.fdopen(open_readonly(self.path / "Manifest.db"), "rb") as handle:
            data = handle.read(MAX_MANIFEST_BYTES + 1)
        if len(data) > MAX_MANIFEST_BYTES:
            raise ioscrypto.KeybagError("Manifest.db is larger than any phone's manifest")
        plain = ioscrypto.decrypt_all(data, key)
        if not plain.startswith(b"SQLite format 3\x00"):
            raise ioscrypto.KeybagError("Manifest.db does not decrypt to an SQLite database")
        conn = sqlite3.connect(":memory:")
        try:
            conn.deserialize(plain)
            untrusted_sqlite.harden(conn)
        except sqlite3.Error:
            conn.close()
            raise
        return conn

    def _entry(self, unit: Unit) -> ManifestEntry | None:
        name = unit.locator.rsplit("/", 1)[-1].lower()
        if len(name) != 40 or self.locked:
            return None
        try:
            if self._lookups():
                return self._lookup(name)
            return self.manifest().get(name)
        except (sqlite3.Error, ioscrypto.KeybagError, OSError):
            return None

    def _decrypting(
        self, stream: BinaryIO, blob: bytes | None
    ) -> ioscrypto.DecryptingReader | None:
        """The stored file's plaintext, if the backup is unlocked and the file has a key; raises
        OSError (the file is recorded as unreadable) when its key cannot be unwrapped."""
        if self._class_keys is None:
            return None
        try:
            stored = ioscrypto.stored_key(blob)
            if stored is None:
                return None
            key = ioscrypto.unwrap_file_key(
                self._class_keys, stored.protection_class, stored.wrapped
            )
        except ioscrypto.KeybagError as exc:
            stream.close()
            raise OSError(errno.EINVAL, f"its encryption key cannot be unwrapped: {exc}") from None
        fd = os.dup(stream.fileno())
        stream.close()
        try:
            return ioscrypto.DecryptingReader(fd, key, stored.size)
        except BaseException:
            os.close(fd)
            raise

    def open(self, unit: Unit) -> OpenedUnit:
        opened = super().open(unit)
        found = self._entry(unit)
        if found is not None:
            domain, relative, blob = found
            record = opened.record
            reader = self._decrypting(opened.stream, blob)
            if reader is not None:
                opened.stream = io.BufferedReader(reader)
                record.size = reader.plaintext_size
                stored = ioscrypto.stored_key(blob)
                if stored is not None and stored.size is not None and stored.size > record.size:
                    record.add_issue(
                        IssueCode.SIZE_MISMATCH,
                        f"the manifest records {stored.size} bytes, the backup holds "
                        f"{record.size} (truncated)",
                    )
            record.device_path = f"{domain}/{relative}"
            _times(record, blob)
        return opened

    def reopen(self, unit: Unit) -> BinaryIO | None:
        stream = super().reopen(unit)
        found = self._entry(unit)
        if stream is None or found is None:
            return stream
        try:
            reader = self._decrypting(stream, found[2])
        except OSError:
            return None
        return stream if reader is None else io.BufferedReader(reader)


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
