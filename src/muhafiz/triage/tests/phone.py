"""Synthetic phone extractions built in the tests: a Cellebrite UFDR ZIP, an iTunes/Finder
backup folder with Manifest.db, and an Android `.ab` backup. Benign content only."""

from __future__ import annotations

import hashlib
import io
import os
import plistlib
import sqlite3
import struct
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.keywrap import aes_key_wrap

UFDR_NS = "http://pa.cellebrite.com/report/2.0"


@dataclass
class PhoneFile:
    device_path: str  # e.g. /Root/DCIM/Camera/a.jpg (fs is added by the UFDR builder)
    data: bytes
    deleted: bool = False
    stored_md5: str | None = None  # None: the true MD5
    stored_sha256: str | None = None  # None: the true SHA-256
    in_zip: bool = True


def ufdr_report_xml(
    files: list[tuple[PhoneFile, str]],
    *,
    fs: str = "Android Logical",
    imei: str = "356938035643809",
) -> bytes:
    """report.xml for (file, local path in the ZIP) pairs."""
    out = io.StringIO()
    out.write(f'<?xml version="1.0" encoding="utf-8"?>\n<project xmlns="{UFDR_NS}" id="p1">\n')
    out.write('<caseInformation><field name="Case number">TEST-1</field></caseInformation>\n')
    out.write(
        '<sourceExtractions><extractionInfo id="0" name="Logical" type="Logical"'
        ' deviceName="Test Phone" /></sourceExtractions>\n'
    )
    out.write(
        '<metadata section="Device Info">'
        '<item name="DeviceInfoDetectedManufacturer">Samsung</item>'
        '<item name="DeviceInfoDetectedModel">SM-A515F</item>'
        f'<item name="IMEI">{imei}</item></metadata>\n<taggedFiles>\n'
    )
    for n, (f, local) in enumerate(files):
        md5 = f.stored_md5 or hashlib.md5(f.data).hexdigest()  # noqa: S324 - forensic MD5
        sha = f.stored_sha256 or hashlib.sha256(f.data).hexdigest()
        deleted = "Deleted" if f.deleted else "Intact"
        out.write(
            f'<file fs={quoteattr(fs)} path={quoteattr(f.device_path)} size="{len(f.data)}"'
            f' id="f{n}" extractionId="0" deleted="{deleted}" embedded="false">'
            '<accessInfo><timestamp name="CreationTime">2024-05-01T10:00:00.000+05:00</timestamp>'
            '<timestamp name="ModifyTime">2024-05-02T11:30:00.000+05:00</timestamp></accessInfo>'
            '<metadata section="File">'
            f'<item name="Local Path"><![CDATA[{local}]]></item>'
            f'<item name="MD5">{md5.upper()}</item><item name="SHA256">{sha}</item>'
            "</metadata></file>\n"
        )
    out.write("</taggedFiles>\n")
    out.write(f'<decodedData><modelType type="Chat">{escape("<none>")}</modelType></decodedData>')
    out.write("</project>\n")
    return out.getvalue().encode("utf-8")


def make_ufdr(path: Path, files: list[PhoneFile]) -> Path:
    pairs = []
    for n, f in enumerate(files):
        name = f.device_path.rsplit("/", 1)[-1]
        pairs.append((f, f"files\\Image\\{n}_{name}"))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("report.xml", ufdr_report_xml(pairs))
        for f, local in pairs:
            if f.in_zip:
                archive.writestr(local.replace("\\", "/"), f.data)
    return path


def ios_file_id(domain: str, relative_path: str) -> str:
    return hashlib.sha1(f"{domain}-{relative_path}".encode()).hexdigest()  # noqa: S324 - iOS's id


IOS_PASSWORD = b"benign-test-backup-password"
# Class keys: the manifest's (ManifestKey) and the files' protection classes, as iOS uses them.
_MANIFEST_CLASS = 4
_FILE_CLASS = 3


@dataclass
class IosCrypto:
    """The encryption side of an encrypted iOS backup (iOS 10.2+), written from the same
    description as the reader (docs/decisions/0104): a keybag whose class keys are wrapped
    (RFC 3394) by PBKDF2-SHA1(PBKDF2-SHA256(password)), per-file keys wrapped by a class key,
    AES-256-CBC with a zero IV and PKCS#7 padding. Few PBKDF2 rounds keep the tests fast."""

    password: bytes = IOS_PASSWORD
    sha256_rounds: int = 2000
    sha1_rounds: int = 100
    class_keys: dict[int, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.class_keys = {cls: os.urandom(32) for cls in range(1, 12)}

    def keybag(self) -> bytes:
        dpsl, salt = os.urandom(20), os.urandom(20)
        inner = hashlib.pbkdf2_hmac("sha256", self.password, dpsl, self.sha256_rounds, 32)
        key = hashlib.pbkdf2_hmac("sha1", inner, salt, self.sha1_rounds, 32)
        records = [
            _tlv(b"VERS", 4), _tlv(b"TYPE", 1), _tlv(b"UUID", os.urandom(16)),
            _tlv(b"HMCK", os.urandom(40)), _tlv(b"WRAP", 0), _tlv(b"SALT", salt),
            _tlv(b"ITER", self.sha1_rounds), _tlv(b"DPWT", 1), _tlv(b"DPIC", self.sha256_rounds),
            _tlv(b"DPSL", dpsl),
        ]  # fmt: skip
        for cls, class_key in self.class_keys.items():
            records += [
                _tlv(b"UUID", os.urandom(16)), _tlv(b"CLAS", cls), _tlv(b"WRAP", 2),
                _tlv(b"KTYP", 0), _tlv(b"WPKY", aes_key_wrap(key, class_key)),
            ]  # fmt: skip
        return b"".join(records)

    def stored_key(self, cls: int, key: bytes) -> bytes:
        """`ManifestKey` / `EncryptionKey`: little-endian class, then the wrapped key."""
        return struct.pack("<I", cls) + aes_key_wrap(self.class_keys[cls], key)


def _tlv(tag: bytes, value: bytes | int) -> bytes:
    data = struct.pack(">I", value) if isinstance(value, int) else value
    return tag + struct.pack(">I", len(data)) + data


def ios_encrypt(key: bytes, data: bytes) -> bytes:
    """AES-256-CBC, zero IV, PKCS#7 padding (a full block when the size is a multiple of 16)."""
    pad = 16 - len(data) % 16
    encryptor = Cipher(algorithms.AES(key), modes.CBC(bytes(16))).encryptor()
    return encryptor.update(data + bytes([pad]) * pad) + encryptor.finalize()


def _mbfile(relative: str, size: int, encryption_key: bytes | None) -> bytes:
    """The `Files.file` blob: an NSKeyedArchiver archive of an MBFile."""
    root: dict[str, object] = {
        "$class": plistlib.UID(3), "RelativePath": plistlib.UID(2), "LastModified": 1714557600,
        "Birth": 1714550000, "LastStatusChange": 1714557600, "Size": size, "Mode": 33188,
        "ProtectionClass": _FILE_CLASS,
    }  # fmt: skip
    objects: list[object] = [
        "$null", root, relative, {"$classname": "MBFile", "$classes": ["MBFile", "NSObject"]},
    ]  # fmt: skip
    if encryption_key is not None:
        root["EncryptionKey"] = plistlib.UID(len(objects))
        objects += [
            {"$class": plistlib.UID(len(objects) + 1), "NS.data": encryption_key},
            {"$classname": "NSMutableData", "$classes": ["NSMutableData", "NSData", "NSObject"]},
        ]  # fmt: skip
    archive = {
        "$version": 100000, "$archiver": "NSKeyedArchiver", "$top": {"root": plistlib.UID(1)},
        "$objects": objects,
    }  # fmt: skip
    return plistlib.dumps(archive, fmt=plistlib.FMT_BINARY)


def make_ios_backup(
    folder: Path,
    files: list[tuple[str, str, bytes]],
    *,
    encrypted: bool = False,
    crypto: IosCrypto | None = None,
) -> Path:
    """An iTunes/Finder backup folder: (domain, relativePath, bytes) stored by fileID. Encrypted
    (with `crypto`, or IOS_PASSWORD): genuinely, as iOS encrypts a backup."""
    crypto = crypto or (IosCrypto() if encrypted else None)
    folder.mkdir(parents=True)
    (folder / "Info.plist").write_bytes(
        plistlib.dumps(
            {
                "Device Name": "Test iPhone",
                "Product Type": "iPhone14,2",
                "Product Version": "17.4",
                "IMEI": "356938035643810",
                "Serial Number": "F2LTESTSERIAL",
            }
        )
    )
    manifest_plist: dict[str, object] = {"IsEncrypted": crypto is not None, "Version": "10.0"}
    manifest_key = os.urandom(32)
    if crypto is not None:
        manifest_plist["BackupKeyBag"] = crypto.keybag()
        manifest_plist["ManifestKey"] = crypto.stored_key(_MANIFEST_CLASS, manifest_key)
    (folder / "Manifest.plist").write_bytes(plistlib.dumps(manifest_plist))
    (folder / "Status.plist").write_bytes(plistlib.dumps({"IsFullBackup": False}))
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT,"
        " flags INTEGER, file BLOB)"
    )
    conn.execute("INSERT INTO Files VALUES (?, ?, ?, 2, NULL)", (
        ios_file_id("CameraRollDomain", "Media/DCIM"), "CameraRollDomain", "Media/DCIM",
    ))  # fmt: skip
    for domain, relative, data in files:
        file_id = ios_file_id(domain, relative)
        target = folder / file_id[:2] / file_id
        target.parent.mkdir(exist_ok=True)
        stored_key = None
        if crypto is not None:
            file_key = os.urandom(32)
            stored_key = crypto.stored_key(_FILE_CLASS, file_key)
            target.write_bytes(ios_encrypt(file_key, data))
        else:
            target.write_bytes(data)
        blob = _mbfile(relative, len(data), stored_key)
        conn.execute("INSERT INTO Files VALUES (?, ?, ?, 1, ?)", (file_id, domain, relative, blob))
    conn.commit()
    database = conn.serialize()
    conn.close()
    if crypto is not None:
        database = ios_encrypt(manifest_key, database)
    (folder / "Manifest.db").write_bytes(database)
    return folder


def make_adb_backup(path: Path, members: dict[str, bytes], *, encrypted: bool = False) -> Path:
    """An Android `adb backup` file: text header, then a zlib-compressed tar."""
    if encrypted:
        header = b"ANDROID BACKUP\n5\n1\nAES-256\n" + b"00" * 32 + b"\n" + b"00" * 32 + b"\n"
        path.write_bytes(header + bytes(range(256)) * 8)
        return path
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1714557600
            archive.addfile(info, io.BytesIO(data))
    path.write_bytes(b"ANDROID BACKUP\n5\n1\nnone\n" + zlib.compress(tar_bytes.getvalue()))
    return path
