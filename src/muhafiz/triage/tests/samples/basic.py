"""Samples of the folder and single-file sources and of the zip, tar and 7z archive formats."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path

import py7zr

from muhafiz.triage.tests.samples import (
    Broken,
    Built,
    Files,
    archive_sample,
    broken_archive,
    broken_source,
    source_sample,
)


@source_sample("directory")
def folder(tmp_path: Path, files: Files) -> Built:
    root = tmp_path / "drive"
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return Built(root, {f"drive/{name}": data for name, data in files.items()})


@broken_source("directory")
def missing_folder(tmp_path: Path) -> Broken:
    return Broken(tmp_path / "no-such-drive", "no such file or folder")


@source_sample("file")
def single_file(tmp_path: Path, files: Files) -> Built:
    name, data = next(iter(files.items()))
    path = tmp_path / Path(name).name
    path.write_bytes(data)
    return Built(path, {path.name: data})


@broken_source("file")
def not_a_regular_file(tmp_path: Path) -> Broken:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    return Broken(fifo, "not a folder or a regular file")


@archive_sample("zip")
def zip_archive(tmp_path: Path, files: Files) -> Built:
    path = tmp_path / "pack.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return Built(path, {f"pack.zip!/{name}": data for name, data in files.items()})


@broken_archive("zip")
def cut_zip(tmp_path: Path) -> Broken:
    whole = zip_archive(tmp_path, {"a.txt": b"synthetic " * 500, "b.txt": b"more " * 500})
    data = whole.path.read_bytes()
    whole.path.write_bytes(data[: len(data) // 2])
    return Broken(whole.path, "corrupt-archive")


@archive_sample("tar")
def tar_archive(tmp_path: Path, files: Files) -> Built:
    path = tmp_path / "pack.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_700_000_000
            archive.addfile(info, io.BytesIO(data))
    return Built(path, {f"pack.tar.gz!/{name}": data for name, data in files.items()})


@broken_archive("tar")
def cut_tar(tmp_path: Path) -> Broken:
    whole = tar_archive(tmp_path, {"a.txt": os.urandom(4096), "b.txt": os.urandom(4096)})
    data = whole.path.read_bytes()
    whole.path.write_bytes(data[: len(data) // 2])
    return Broken(whole.path, "corrupt-archive")


@archive_sample("7z")
def seven_zip_archive(tmp_path: Path, files: Files) -> Built:
    path = tmp_path / "pack.7z"
    with py7zr.SevenZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(data, name)
    return Built(path, {f"pack.7z!/{name}": data for name, data in files.items()})


@broken_archive("7z")
def cut_7z(tmp_path: Path) -> Broken:
    whole = seven_zip_archive(tmp_path, {"a.txt": os.urandom(4096), "b.txt": os.urandom(4096)})
    data = whole.path.read_bytes()
    whole.path.write_bytes(data[: len(data) // 2])
    return Broken(whole.path, "corrupt-archive")
