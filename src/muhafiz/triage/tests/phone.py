"""Synthetic phone extractions built in the tests: a Cellebrite UFDR ZIP, an iTunes/Finder
backup folder with Manifest.db, and an Android `.ab` backup. Benign content only."""

from __future__ import annotations

import hashlib
import io
import plistlib
import sqlite3
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

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


def make_ios_backup(
    folder: Path, files: list[tuple[str, str, bytes]], *, encrypted: bool = False
) -> Path:
    """An iTunes/Finder backup folder: (domain, relativePath, bytes) stored by fileID."""
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
    (folder / "Manifest.plist").write_bytes(plistlib.dumps({"IsEncrypted": encrypted}))
    (folder / "Status.plist").write_bytes(plistlib.dumps({"IsFullBackup": False}))
    if encrypted:  # Manifest.db of an encrypted backup is itself encrypted: not SQLite
        (folder / "Manifest.db").write_bytes(bytes(range(256)) * 16)
    conn = None if encrypted else sqlite3.connect(folder / "Manifest.db")
    if conn is not None:
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
        target.write_bytes(data if not encrypted else bytes(b ^ 0x5A for b in data))
        if conn is not None:
            blob = plistlib.dumps(
                {
                    "$objects": [
                        "$null",
                        {"LastModified": 1714557600, "Birth": 1714550000, "Size": len(data)},
                    ]
                },
                fmt=plistlib.FMT_BINARY,
            )
            conn.execute(
                "INSERT INTO Files VALUES (?, ?, ?, 1, ?)", (file_id, domain, relative, blob)
            )
    if conn is not None:
        conn.commit()
        conn.close()
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
