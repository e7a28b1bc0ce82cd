"""Samples of the phone extractions: Cellebrite UFDR, iOS backup folders, Android `adb backup`
files (a source, and an archive format for `.ab` files met inside other sources)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from muhafiz.triage.tests.phone import PhoneFile, ios_file_id, make_adb_backup, make_ios_backup
from muhafiz.triage.tests.phone import make_ufdr as build_ufdr
from muhafiz.triage.tests.samples import (
    Broken,
    Built,
    Files,
    archive_sample,
    broken_archive,
    broken_source,
    source_sample,
)


@source_sample("ufdr")
def ufdr(tmp_path: Path, files: Files) -> Built:
    path = build_ufdr(
        tmp_path / "phone.ufdr", [PhoneFile(f"/Root/{name}", data) for name, data in files.items()]
    )
    # make_ufdr stores file n as files/Image/<n>_<base name> inside the ZIP.
    expected = {
        f"phone.ufdr!/files/Image/{n}_{PurePosixPath(name).name}": data
        for n, (name, data) in enumerate(files.items())
    }
    return Built(path, expected)


@broken_source("ufdr")
def ufdr_with_a_wrong_stored_hash(tmp_path: Path) -> Broken:
    bad = PhoneFile("/Root/DCIM/a.bin", b"synthetic bytes", stored_sha256="0" * 64)
    return Broken(build_ufdr(tmp_path / "bad.ufdr", [bad]), "stored-hash-mismatch")


@source_sample("ios-backup")
def ios_backup(tmp_path: Path, files: Files) -> Built:
    folder = make_ios_backup(
        tmp_path / "00008110-000A", [("HomeDomain", name, data) for name, data in files.items()]
    )
    expected = {}
    for name, data in files.items():
        file_id = ios_file_id("HomeDomain", name)
        expected[f"00008110-000A/{file_id[:2]}/{file_id}"] = data
    return Built(folder, expected)


@broken_source("ios-backup")
def encrypted_ios_backup(tmp_path: Path) -> Broken:
    folder = make_ios_backup(
        tmp_path / "locked", [("HomeDomain", "a.bin", b"x" * 100)], encrypted=True
    )
    return Broken(folder, "encrypted-backup")


def _adb(tmp_path: Path, files: Files) -> Built:
    path = make_adb_backup(tmp_path / "phone.ab", {f"shared/0/{n}": d for n, d in files.items()})
    return Built(path, {f"phone.ab!/shared/0/{name}": data for name, data in files.items()})


def _encrypted_adb(tmp_path: Path) -> Broken:
    return Broken(make_adb_backup(tmp_path / "locked.ab", {}, encrypted=True), "password-protected")


source_sample("android-backup")(_adb)
broken_source("android-backup")(_encrypted_adb)
archive_sample("android-backup")(_adb)
broken_archive("android-backup")(_encrypted_adb)
