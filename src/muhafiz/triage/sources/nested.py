"""Disk images found inside a folder (an evidence folder holding `laptop.E01`, `laptop.E02`, a
`.dd`, a QCOW2, an ISO), scanned as if each had been named as a source.

The folder's walk lists every file as before (the image file is hashed as a file: its own
MD5/SHA-1/SHA-256 record), then, for a file whose content is a disk image (the image sources'
own sniffers, `DiskImageSource.accepts_head`), the image source's walk with paths under the
image's path (`evidence/laptop.E01!p2/Users/…`, media `evidence/laptop.E01!media`). Each such
unit's locator names the image (format, path, label) and the image's own locator, so any process
(a worker, a shard, a resumed scan) reopens the image read-only and opens the unit there.

A Cellebrite extraction (`phone.ufdr`) in a folder is opened the same way, by UfdrSource
(device paths, deleted flags, stored hashes checked): its paths are `evidence/phone.ufdr!/…`,
as they would be for the file named alone, and its own file is only hashed (not expanded a
second time as a plain ZIP). An iOS backup folder (with its Manifest.db) inside a folder is
listed by IosBackupSource in place of the folder's own walk of it: the same paths, each file
with its domain and device path. An encrypted one is unlocked by the passwords the examiner gave
(`--ios-password-file`, each tried in turn) and read decrypted, as a backup named as a source
is (decision 0104); without a password it is listed as encrypted, and when none of those given
unlocks it, a `wrong-password` issue says so and it is listed as encrypted: a wrong password
costs that backup, not the scan. The passwords stay in the main process's memory; what a
password unlocked (the class keys, as for a backup named alone) is kept per backup, so the
keybag's PBKDF2 runs once a process, and workers inherit the keys. A scan resumes only with the
nested backups unlocked as they were when it began (`EvidenceFolderSource.check_resume`).

A multi-segment EWF set is opened once, through its first segment (the sniffer accepts only
segment 1); the other segments are hashed as files. A split raw image likewise opens from its
`.001`. Nesting is one level: an image or archive found inside a nested image is hashed and
expanded as the image's files are (archives), never opened as a further image, so a hostile
image cannot nest without end. An image or UFDR inside an archive is opened from a temporary
copy (`triage.spool`), under the same one-level bound.
"""

from __future__ import annotations

import errno
import itertools
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from muhafiz.triage.records import FileRecord, Issue, IssueCode
from muhafiz.triage.sources.base import (
    OpenedUnit,
    Passwords,
    SourceError,
    SweptFile,
    Unit,
    Verification,
    WrongPasswordError,
)
from muhafiz.triage.sources.directory import DirectorySource, open_readonly
from muhafiz.triage.sources.diskimage import DiskImageSource
from muhafiz.triage.sources.ios import IosBackupSource
from muhafiz.triage.sources.ufdr import UfdrSource

NESTED_LOCATOR = "nested"
# Files smaller than this are not sniffed (no image format fits in less; an EWF segment
# header and its volume section alone take more).
MIN_IMAGE_BYTES = 1024
# Every image format is recognised from a file's first 4 KiB, and an ISO 9660 disc from the 8
# bytes at 32 KiB: one open and at most two reads a file (the folder's walk sniffs every file).
HEAD_BYTES = 4096
ISO9660_PVD = 32 * 1024
# A Cellebrite extraction's own file is only hashed: its members are the extraction's units (with
# their device paths), not expanded a second time as a plain ZIP's.
_HASHES = ("md5", "sha1", "sha256")

# What a folder may hold and scan as a source of its own.
Nested = DiskImageSource | UfdrSource | IosBackupSource
NestedType = type[DiskImageSource] | type[UfdrSource] | type[IosBackupSource]
FileType = type[DiskImageSource] | type[UfdrSource]


@dataclass(frozen=True, slots=True)
class NestedVerification:
    """A nested image's acquisition-hash check: `path` is the image file's path in the folder."""

    path: str
    format_name: str
    verification: Verification


def sniff(image_types: Sequence[NestedType], path: str, size: int) -> FileType | None:
    """The image format of a file found in a folder, by its content; None if not an image."""
    if size < MIN_IMAGE_BYTES:
        return None
    try:
        fd = open_readonly(path)
        try:
            head = os.pread(fd, HEAD_BYTES, 0)
            if size >= ISO9660_PVD + 8 and len(head) == HEAD_BYTES:
                head = head.ljust(ISO9660_PVD, b"\0") + os.pread(fd, 8, ISO9660_PVD)
        finally:
            os.close(fd)
    except OSError:
        return None
    file = Path(path)
    for image_type in image_types:
        files = issubclass(image_type, (DiskImageSource, UfdrSource))
        if files and image_type.accepts_head(head, file):  # type: ignore[union-attr]
            return image_type  # type: ignore[return-value]
    return None


def wrap(kind: str, argument: str, label: str, unit: Unit) -> Unit:
    locator = NESTED_LOCATOR + ":" + json.dumps([kind, argument, label, unit.locator])
    return Unit(unit.source_id, unit.path, locator, unit.size, unit.path_raw)


def unwrap(unit: Unit) -> tuple[tuple[str, str, str], Unit] | None:
    """(kind, image path, label) and the image's own unit, or None for a folder's own unit."""
    if not unit.locator.startswith(NESTED_LOCATOR + ":"):
        return None
    kind, argument, label, inner = json.loads(unit.locator[len(NESTED_LOCATOR) + 1 :])
    return (kind, argument, label), Unit(unit.source_id, unit.path, inner, unit.size, unit.path_raw)


class NestedImages:
    """The images a folder source holds: listed by its walk, opened again in any process."""

    def __init__(self, source_id: int, image_types: Sequence[NestedType]) -> None:
        self.source_id = source_id
        self.image_types = list(image_types)
        self.sweep = True
        self._images: dict[tuple[str, str, str], Nested] = {}
        # label -> {"kind", "argument", and what the image's walk learned (`details`)}
        self.details: dict[str, dict[str, Any]] = {}
        # The examiner's passwords for encrypted backups (main process only, never pickled).
        self.passwords = Passwords()
        # Encrypted iOS backup (its path) -> the keys the passwords unlocked, or None when none
        # of them did: a backup is tried once a process, however often its source is made.
        self._keys: dict[str, tuple[dict[int, bytes], bytes | None] | None] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {
            "source_id": self.source_id,
            "image_types": self.image_types,
            "sweep": self.sweep,
            "details": self.details,
            "_keys": self._keys,  # keys, as a backup named alone pickles its own; no password
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.source_id = state["source_id"]
        self.image_types = state["image_types"]
        self.sweep = state["sweep"]
        self.details = state["details"]
        self._keys = state["_keys"]
        self.passwords = Passwords()
        self._images = {}

    def image(self, key: tuple[str, str, str]) -> Nested:
        if key not in self._images:
            kind, argument, label = key
            types = {t.kind: t for t in self.image_types}
            if kind not in types:
                raise OSError(f"unknown image kind {kind!r}")
            image = types[kind](self.source_id, Path(argument))
            image.nested_label = label
            if isinstance(image, DiskImageSource):
                image.sweep = self.sweep
            if isinstance(image, IosBackupSource):
                self._unlock(image)
            found = self.details.get(label)
            if found is not None:
                image.use_details({k: v for k, v in found.items() if k not in {"kind", "argument"}})
            self._images[key] = image
        return self._images[key]

    def _unlock(self, backup: IosBackupSource) -> None:
        """Unlock an encrypted backup with the examiner's passwords (once a process)."""
        argument = str(backup.path)
        if argument not in self._keys:
            if not self.passwords.ios_backup or not backup.encrypted:
                return
            try:
                backup.use_passwords(self.passwords)
            except WrongPasswordError:
                self._keys[argument] = None
                return
            except SourceError:
                return  # a damaged keybag: listed as encrypted, its walk says what it can
            self._keys[argument] = backup.unlocked_keys()
        keys = self._keys[argument]
        if keys is not None:
            backup.use_keys(keys)

    def rejected(self, argument: str) -> bool:
        """Whether none of the passwords given unlocks the encrypted backup at `argument`."""
        return argument in self._keys and self._keys[argument] is None

    def walk(
        self, image_type: NestedType, argument: str, label: str
    ) -> Iterator[Unit | FileRecord | Issue]:
        """The image's walk, its units wrapped; a failure is an error on the image file."""
        key = (image_type.kind, argument, label)
        self._images.pop(key, None)
        self.details.pop(label, None)
        image = self.image(key)
        rejected = isinstance(image, IosBackupSource) and self.rejected(str(image.path))
        if rejected:
            yield Issue(
                self.source_id,
                f"{label}/Manifest.plist",
                IssueCode.WRONG_PASSWORD,
                "wrong backup password: none of the passwords given (--ios-password-file) "
                "unlocks this backup's keybag; its stored files are listed as encrypted, not "
                "hashed, and the rest of the folder is scanned",
            )
        try:
            for item in image.walk():
                yield wrap(*key, item) if isinstance(item, Unit) else item
        except Exception as exc:  # a hostile image must cost that image, not the folder
            yield Issue(
                self.source_id,
                label,
                IssueCode.UNREADABLE,
                f"the {_format(image)} inside the folder could not be listed to the end "
                f"({type(exc).__name__}: {str(exc).strip()}); the rest of the folder is scanned",
            )
        self.details[label] = {"kind": key[0], "argument": argument, **(image.details() or {})}
        if rejected:
            self.details[label]["password_rejected"] = True

    def open(self, unit: Unit) -> OpenedUnit:
        found = unwrap(unit)
        assert found is not None
        key, inner = found
        image = self.image(key)
        if image.locked and self.details.get(key[2], {}).get("decrypted"):
            # Listed decrypted (its units are plaintext files): never hash the ciphertext
            # under a plaintext record, in a process that was not given the password.
            raise OSError(
                errno.EACCES, "the backup was listed decrypted: its password is needed to read it"
            )
        opened = image.open(inner)
        swept = opened.swept
        if swept is not None:

            def wrapped() -> list[SweptFile]:
                return [SweptFile(wrap(*key, f.unit), f.extents) for f in swept()]

            opened.swept = wrapped
        return opened

    def reopen(self, unit: Unit) -> Any:
        found = unwrap(unit)
        assert found is not None
        key, inner = found
        image = self.image(key)
        if image.locked and self.details.get(key[2], {}).get("decrypted"):
            return None
        return image.reopen(inner)

    def check_resume(self, recorded: dict[str, Any]) -> None:
        """Refuse (SourceError) to resume a scan whose encrypted backups inside the folder would
        now be read otherwise than when it began (decrypted then, locked now, or the other way):
        the records would mix plaintext and ciphertext. `recorded`: the walk's details then."""
        for label, found in sorted(recorded.items()):
            if not isinstance(found, dict) or found.get("kind") != IosBackupSource.kind:
                continue
            if not isinstance(found.get("decrypted"), bool):
                continue
            image = self.image((IosBackupSource.kind, str(found.get("argument")), label))
            if found["decrypted"] and image.locked:
                raise SourceError(
                    f"the iOS backup {label} inside the folder was decrypted when the scan "
                    "began: give its password again (--ios-password-file) to resume"
                )
            if not found["decrypted"] and not image.locked:
                raise SourceError(
                    f"the iOS backup {label} inside the folder was scanned without a password "
                    "that unlocks it: resume with the passwords the scan began with, or start a "
                    "new scan to read it decrypted"
                )

    def plan(self, units: Iterable[Unit]) -> Iterator[Unit]:
        """Each image's units planned by the image (its media pass reads its files)."""
        for key, group in itertools.groupby(units, key=_key_of):
            if key is None:
                yield from group
                continue
            image = self.image(key)
            inner = (found[1] for u in group if (found := unwrap(u)) is not None)
            yield from (wrap(*key, u) for u in image.plan(inner))

    def verify(
        self, computed: Callable[[str], dict[str, str | None] | None]
    ) -> list[NestedVerification]:
        out = []
        for label, found in sorted(self.details.items()):
            image = self.image((found["kind"], found["argument"], label))
            if not isinstance(image, DiskImageSource) or "media_size" not in found:
                continue  # not an image, or one that could not be opened (its error is recorded)
            out.append(NestedVerification(label, image.format_name, image.verify(computed)))
        return out


def _format(source: Nested) -> str:
    if isinstance(source, DiskImageSource):
        return source.format_name
    return "iOS backup" if isinstance(source, IosBackupSource) else "Cellebrite UFDR"


def _key_of(unit: Unit) -> tuple[str, str, str] | None:
    found = unwrap(unit)
    return found[0] if found is not None else None


class EvidenceFolderSource(DirectorySource):
    """A folder whose disk images are scanned as sources of their own (registered in place of
    `DirectorySource`; the same kind, `directory`)."""

    # The image sources and UFDR, in the registry's order (set by `sources/__init__.py`).
    image_types: ClassVar[Sequence[NestedType]] = ()

    def __init__(self, source_id: int, path: Path) -> None:
        super().__init__(source_id, path)
        self.nested = NestedImages(source_id, self.image_types)

    def inside_folder(
        self, abs_path: str, shown: str
    ) -> Iterator[Unit | FileRecord | Issue] | None:
        if not any(t is IosBackupSource for t in self.nested.image_types):
            return None
        if not IosBackupSource.accepts(Path(abs_path)):
            return None
        return self.nested.walk(IosBackupSource, abs_path, shown)

    def inside(self, abs_path: str, shown: str, size: int) -> Iterator[Unit | FileRecord | Issue]:
        image_type = sniff(self.nested.image_types, abs_path, size)
        if image_type is not None:
            yield from self.nested.walk(image_type, abs_path, shown)

    def open(self, unit: Unit) -> OpenedUnit:
        if unwrap(unit) is not None:
            return self.nested.open(unit)
        opened = super().open(unit)
        if self.nested.details.get(unit.path, {}).get("kind") == UfdrSource.kind:
            opened.hash_only = _HASHES
            opened.record.mime = "application/zip"
        return opened

    def reopen(self, unit: Unit) -> BinaryIO | None:
        if unwrap(unit) is not None:
            return self.nested.reopen(unit)  # type: ignore[no-any-return]
        return super().reopen(unit)

    def plan(self, units: Iterable[Unit]) -> Iterable[Unit]:
        return self.nested.plan(units) if self.nested.details else units

    def details(self) -> dict[str, Any] | None:
        return {"nested_images": self.nested.details} if self.nested.details else None

    def use_details(self, details: dict[str, Any]) -> None:
        self.nested.details = dict(details.get("nested_images") or {})

    def use_passwords(self, passwords: Passwords) -> None:
        """Keep the examiner's passwords for the encrypted iOS backups the walk finds (tried
        there: a wrong one is an issue on that backup, not an error of the scan)."""
        self.nested.passwords = passwords

    def check_resume(self, details: dict[str, Any]) -> None:
        """Refuse to resume if a nested encrypted backup would be read otherwise than when the
        scan began (`details`: the source's details as recorded then)."""
        recorded = details.get("nested_images")
        if isinstance(recorded, dict):
            self.nested.check_resume(recorded)

    def verify_nested(
        self, computed: Callable[[str], dict[str, str | None] | None]
    ) -> list[NestedVerification]:
        """The acquisition hashes of the images in the folder against their media as read."""
        return self.nested.verify(computed)
