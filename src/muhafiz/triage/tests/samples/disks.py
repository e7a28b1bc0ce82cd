"""Samples of the disk-image sources: raw (dd), EWF (E01), VMDK, VHD and QCOW2, each holding one
MBR partition with a FAT16 file system built with Debian's tools (skipped where they are
missing). The broken sample has a partition whose file system is garbage."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from muhafiz.triage.tests import diskimages as di
from muhafiz.triage.tests.samples import Broken, Built, Files, broken_source, source_sample

Wrap = Callable[[Path, Path], Path]  # (raw image, folder) -> the image the examiner names

WRAPPERS: dict[str, Wrap] = {
    "raw-image": lambda raw, folder: raw,
    "ewf": lambda raw, folder: di.to_e01(raw, folder / "laptop"),
    "vmdk": lambda raw, folder: di.to_qemu(raw, folder / "disk.vmdk", "vmdk"),
    "vhd": lambda raw, folder: di.to_qemu(raw, folder / "disk.vhd", "vpc"),
    "qcow": lambda raw, folder: di.to_qemu(raw, folder / "disk.qcow2", "qcow2"),
}


def _tools() -> None:
    missing = di.missing_tools()
    if missing:
        pytest.skip(f"disk-image tools missing: {missing}")


def _image(kind: str) -> Callable[[Path, Files], Built]:
    def build(tmp_path: Path, files: Files) -> Built:
        _tools()
        fat = di.fat_fs(tmp_path / "p1.fat", 16 * di.MiB, 16, files, [])
        raw = tmp_path / "disk.dd"
        di.disk(raw, [di.Part(fat, "6", 16 * di.MiB)])
        fat.unlink()
        image = WRAPPERS[kind](raw, tmp_path)
        return Built(image, {f"{image.name}!p1/{name}": data for name, data in files.items()})

    return build


def _damaged(kind: str) -> Callable[[Path], Broken]:
    def build(tmp_path: Path) -> Broken:
        _tools()
        fat = di.fat_fs(tmp_path / "p2.fat", 16 * di.MiB, 16, {"kept.txt": b"still here\n"}, [])
        raw = tmp_path / "damaged.dd"
        garbage = random.Random(3).randbytes(4096)
        di.disk(raw, [di.Part(None, "83", 4 * di.MiB, garbage), di.Part(fat, "6", 16 * di.MiB)])
        return Broken(WRAPPERS[kind](raw, tmp_path), "file-system-unreadable")

    return build


for _kind in WRAPPERS:
    source_sample(_kind)(_image(_kind))
    broken_source(_kind)(_damaged(_kind))
