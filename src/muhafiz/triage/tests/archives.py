"""Archives for the tests of a single archive scanned in shards: a ZIP, a tar, a tar.gz and an
Android `.ab` backup of the same few hundred small generated members (text, binaries, pictures
of shapes for PDQ, a nested ZIP, one name twice). Benign content only."""

from __future__ import annotations

import gzip
import io
import random
import tarfile
import warnings
import zipfile
import zlib
from pathlib import Path

from muhafiz.triage.tests.media import jpeg_bytes, png_bytes, scene

MEMBERS = 240


def _members() -> list[tuple[str, bytes]]:
    """Text, binaries, pictures (PNG and JPEG, two near-copies each), a nested ZIP, a name twice."""
    rng = random.Random(14)
    members: list[tuple[str, bytes]] = []
    for number in range(MEMBERS):
        folder = f"data/d{number // 40}"
        if number % 30 == 5:
            image = scene(number // 60, size=(160, 120))
            data = png_bytes(image) if number % 60 == 5 else jpeg_bytes(image)
            members.append((f"{folder}/pic{number}.{'png' if number % 60 == 5 else 'jpg'}", data))
        elif number % 7 == 0:
            members.append((f"{folder}/blob{number}.bin", rng.randbytes(200 + number)))
        else:
            members.append((f"{folder}/note{number}.txt", f"note {number}\n".encode() * 9))
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as nested:
        nested.writestr("inner/a.txt", b"inside the nested archive\n")
        nested.writestr("inner/p.jpg", jpeg_bytes(scene(40, size=(160, 120))))
    members.insert(120, ("data/nested.zip", inner.getvalue()))
    members.insert(200, ("data/d0/note1.txt", b"the same name again, other bytes\n"))
    return members


def _zip(path: Path, members: list[tuple[str, bytes]]) -> Path:
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        warnings.simplefilter("ignore", UserWarning)  # the name given twice, on purpose
        for name, data in members:
            archive.writestr(name, data)
    return path


def _tar_bytes(members: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1714557600
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def archive_folder(kind: str, tree: Path, out: Path) -> Path:
    """Every file below `tree`, in the order of their paths, as a ZIP, tar.gz or `.ab` at `out`."""
    members = [
        (path.relative_to(tree).as_posix(), path.read_bytes())
        for path in sorted(tree.rglob("*"))
        if path.is_file()
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    if kind == "zip":
        return _zip(out, members)
    if kind == "tar.gz":
        out.write_bytes(gzip.compress(_tar_bytes(members), mtime=0))
        return out
    out.write_bytes(b"ANDROID BACKUP\n5\n1\nnone\n" + zlib.compress(_tar_bytes(members)))
    return out


def make_archive(kind: str, folder: Path) -> Path:
    """`seized.zip`, `seized.tar`, `seized.tar.gz` or `phone.ab` (kind "ab") in `folder`."""
    members = _members()
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "zip":
        return _zip(folder / "seized.zip", members)
    if kind == "tar":
        path = folder / "seized.tar"
        path.write_bytes(_tar_bytes(members))
        return path
    if kind == "tar.gz":
        path = folder / "seized.tar.gz"
        path.write_bytes(gzip.compress(_tar_bytes(members), mtime=0))
        return path
    path = folder / "phone.ab"  # as `adb backup` writes it (phone.make_adb_backup, a name twice)
    path.write_bytes(b"ANDROID BACKUP\n5\n1\nnone\n" + zlib.compress(_tar_bytes(members)))
    return path
