"""Folders and archives: every member listed, streamed, and every bad input recorded."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import py7zr
import pytest

from muhafiz.triage.settings import ScanSettings
from muhafiz.triage.tests.conftest import Scanner
from muhafiz.triage.tests.media import jpeg_bytes, png_bytes, scene, write

MiB = 1024 * 1024


def _zip(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _tar_bytes(members: dict[str, bytes], mode: str = "w") -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode, errors="surrogateescape") as archive:  # type: ignore[call-overload]
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_700_000_000
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_folder_files_are_recorded_with_type_hashes_and_utc_times(
    tmp_path: Path, scan: Scanner
) -> None:
    src = tmp_path / "drive"
    write(src / "DCIM" / "a.jpg", jpeg_bytes(scene(1)))
    write(src / "disguised.dll", png_bytes(scene(2)))
    write(src / "notes.txt", b"hello")
    result = scan(src)
    jpg = result.files["drive/DCIM/a.jpg"]
    assert jpg["mime"] == "image/jpeg" and jpg["pdq"] and jpg["pdq_quality"] >= 50
    assert jpg["md5"] and jpg["sha1"] and jpg["sha256"]
    assert jpg["mtime"].endswith("Z") and jpg["time_zone"] == "UTC"
    assert jpg["timestamps_reliable"] == 0 and "logical" in jpg["timestamp_note"]
    assert result.files["drive/disguised.dll"]["mime"] == "image/png"
    assert result.files["drive/disguised.dll"]["ext_mismatch"] == 1
    assert result.files["drive/notes.txt"]["ext_mismatch"] == 0


@pytest.mark.parametrize(
    ("suffix", "mode"),
    [(".tar", "w"), (".tar.gz", "w:gz"), (".tar.bz2", "w:bz2"), (".tar.xz", "w:xz")],
)
def test_tar_members_are_listed_with_their_own_hashes(
    tmp_path: Path, scan: Scanner, suffix: str, mode: str
) -> None:
    photo = jpeg_bytes(scene(3))
    archive = write(tmp_path / f"pics{suffix}", _tar_bytes({"p/a.jpg": photo, "b.txt": b"x"}, mode))
    result = scan(archive)
    member = result.files[f"pics{suffix}!/p/a.jpg"]
    assert member["parent"] == f"pics{suffix}" and member["depth"] == 1
    assert member["size"] == len(photo) and member["pdq"]
    assert member["mtime"] == "2023-11-14T22:13:20.000000Z"
    assert f"pics{suffix}!/b.txt" in result.files


def test_zip_and_7z_members_and_nested_archives_are_expanded(tmp_path: Path, scan: Scanner) -> None:
    photo = jpeg_bytes(scene(4))
    inner_zip = io.BytesIO()
    with zipfile.ZipFile(inner_zip, "w") as z:
        z.writestr("deep/photo.jpg", photo)
    inner_tgz = _tar_bytes({"t.jpg": photo}, "w:gz")
    seven = tmp_path / "inner.7z"
    with py7zr.SevenZipFile(seven, "w") as z:
        z.writestr(photo, "s/photo.jpg")
        z.writestr(inner_zip.getvalue(), "s/inner.zip")
        z.writestr(b"", "s/empty.bin")
    outer = _zip(
        tmp_path / "src" / "outer.zip",
        {"a.zip": inner_zip.getvalue(), "b.tgz": inner_tgz, "c.7z": seven.read_bytes()},
    )
    result = scan(outer)
    paths = set(result.files)
    assert "outer.zip!/a.zip!/deep/photo.jpg" in paths
    assert "outer.zip!/b.tgz!/t.jpg" in paths
    assert "outer.zip!/c.7z!/s/photo.jpg" in paths
    assert "outer.zip!/c.7z!/s/inner.zip!/deep/photo.jpg" in paths
    assert result.files["outer.zip!/c.7z!/s/empty.bin"]["size"] == 0
    deepest = result.files["outer.zip!/c.7z!/s/inner.zip!/deep/photo.jpg"]
    assert deepest["depth"] == 3
    sha = {result.files[p]["sha256"] for p in paths if p.endswith("photo.jpg")}
    assert len(sha) == 1


def test_nesting_deeper_than_the_limit_is_recorded(tmp_path: Path, scan: Scanner) -> None:
    data = b"innermost"
    for level in range(4):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr(f"level{level}.zip" if level else "x.txt", data)
        data = buf.getvalue()
    archive = write(tmp_path / "russian.zip", data)
    result = scan(archive, settings=ScanSettings(max_archive_depth=2))
    limited = [p for p in result.files if "depth-limit" in result.codes(p)]
    assert limited == ["russian.zip!/level3.zip!/level2.zip"]


def test_zip_bomb_by_ratio_is_recorded_and_not_expanded(tmp_path: Path, scan: Scanner) -> None:
    bomb = _zip(tmp_path / "bomb.zip", {"zeros.bin": bytes(20 * MiB), "ok.txt": b"fine"})
    result = scan(bomb)
    assert result.codes("bomb.zip!/zeros.bin") == ["zip-bomb"]
    assert result.files["bomb.zip!/zeros.bin"]["md5"] is None
    assert result.files["bomb.zip!/ok.txt"]["md5"]


def test_tar_gz_bomb_is_stopped_by_the_archive_ratio(tmp_path: Path, scan: Scanner) -> None:
    bomb = write(
        tmp_path / "zeros.tar.gz", _tar_bytes({"a.bin": bytes(64 * MiB), "b.txt": b"x"}, "w:gz")
    )
    assert bomb.stat().st_size < 200_000
    result = scan(bomb)
    assert result.codes("zeros.tar.gz!/a.bin") == ["zip-bomb"]
    assert result.files["zeros.tar.gz!/a.bin"]["md5"] is None
    assert "zeros.tar.gz!/b.txt" not in result.files


def test_expansion_stops_at_the_total_size_limit(tmp_path: Path, scan: Scanner) -> None:
    members = {f"m{i}.bin": os.urandom(64 * 1024) for i in range(10)}
    archive = _zip(tmp_path / "many.zip", members, zipfile.ZIP_STORED)
    result = scan(archive, settings=ScanSettings(max_expanded_bytes=200 * 1024))
    stopped = [p for p in result.files if "expanded-size-limit" in result.codes(p)]
    assert stopped == ["many.zip!/m3.bin"]
    assert "many.zip!/m9.bin" not in result.files
    assert all(result.files[f"many.zip!/m{i}.bin"]["md5"] for i in range(3))


def test_member_names_with_dotdot_or_absolute_paths_are_recorded_never_extracted(
    tmp_path: Path, scan: Scanner
) -> None:
    archive = _zip(tmp_path / "evil.zip", {"../../etc/x": b"1", "/abs/y": b"2", "ok": b"3"})
    tar = write(tmp_path / "evil.tar", _tar_bytes({"../up.txt": b"4"}))
    before = set(tmp_path.parent.iterdir())
    result = scan(archive, tar)
    assert result.codes("evil.zip!/../../etc/x") == ["unsafe-member-name"]
    assert result.codes("evil.zip!/abs/y") == ["unsafe-member-name"]
    assert result.codes("evil.tar!/../up.txt") == ["unsafe-member-name"]
    assert result.files["evil.zip!/../../etc/x"]["md5"] == "c4ca4238a0b923820dcc509a6f75849b"
    assert result.codes("evil.zip!/ok") == []
    assert set(tmp_path.parent.iterdir()) == before


def test_password_protected_7z_is_recorded_as_such(tmp_path: Path, scan: Scanner) -> None:
    archive = tmp_path / "locked.7z"
    with py7zr.SevenZipFile(archive, "w", password="secret") as z:
        z.writestr(b"hidden", "hidden.txt")
    result = scan(archive)
    assert "password-protected" in result.codes("locked.7z")


@pytest.mark.skipif(shutil.which("7z") is None, reason="7z (p7zip-full) not installed")
def test_password_protected_zip_members_are_recorded_as_such(tmp_path: Path, scan: Scanner) -> None:
    plain = write(tmp_path / "in" / "secret.txt", b"secret words")
    archive = tmp_path / "locked.zip"
    subprocess.run(
        ["7z", "a", "-tzip", "-psecret", str(archive), str(plain)],
        check=True,
        capture_output=True,
    )
    result = scan(archive)
    assert result.codes("locked.zip!/secret.txt") == ["password-protected"]
    assert result.files["locked.zip!/secret.txt"]["md5"] is None


def test_corrupt_archive_is_recorded_and_the_scan_goes_on(tmp_path: Path, scan: Scanner) -> None:
    good = _zip(tmp_path / "src" / "good.zip", {"a.txt": b"a" * 1000})
    write(tmp_path / "src" / "cut.zip", good.read_bytes()[:-30])
    write(tmp_path / "src" / "cut.tar.gz", _tar_bytes({"a.txt": os.urandom(50_000)}, "w:gz")[:2000])
    write(tmp_path / "src" / "z.txt", b"after")
    result = scan(tmp_path / "src")
    assert result.codes("src/cut.zip") == ["corrupt-archive"]
    assert result.codes("src/cut.tar.gz") == ["corrupt-archive"]
    assert result.files["src/z.txt"]["md5"]


def test_symlink_loops_zero_byte_files_and_non_utf8_names_are_recorded(
    tmp_path: Path, scan: Scanner
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "loop-a").symlink_to("loop-b")
    (src / "loop-b").symlink_to("loop-a")
    (src / "parent").symlink_to("..")  # a loop for anything that follows directory links
    (src / "empty.dat").write_bytes(b"")
    fd = os.open(os.fsencode(src) + b"/caf\xe9.txt", os.O_CREAT | os.O_WRONLY, 0o644)
    os.write(fd, b"latin-1 name")
    os.close(fd)
    write(src / "names.tar", _tar_bytes({os.fsdecode(b"o\xff.txt"): b"x"}))
    result = scan(src)
    assert result.codes("src/loop-a") == ["symlink-loop"]
    assert result.files["src/parent"]["kind"] == "symlink"
    assert result.codes("src/empty.dat") == ["zero-byte"]
    assert result.files["src/empty.dat"]["md5"] == "d41d8cd98f00b204e9800998ecf8427e"
    assert result.codes("src/caf\\xe9.txt") == ["non-utf8-name"]
    assert result.files["src/caf\\xe9.txt"]["path_raw"] == b"src/caf\xe9.txt"
    assert "non-utf8-name" in result.codes("src/names.tar!/o\\xff.txt")


def test_unreadable_and_vanished_files_are_recorded(
    tmp_path: Path, scan: Scanner, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    write(src / "locked.bin", b"locked")
    write(src / "fine.bin", b"fine")
    from muhafiz.triage.sources import directory

    real_open = directory.open_readonly

    def open_or_refuse(path: str | Path, *, directory: bool = False) -> int:
        if str(path).endswith("locked.bin"):
            raise PermissionError(13, "Permission denied")
        if str(path).endswith("fine.bin"):
            Path(path).unlink()  # gone between listing and opening
        return real_open(path, directory=directory)

    if os.geteuid() == 0:  # root reads anything: simulate the refusal at the boundary
        monkeypatch.setattr(directory, "open_readonly", open_or_refuse)
    else:
        (src / "locked.bin").chmod(0)
        monkeypatch.setattr(directory, "open_readonly", open_or_refuse)
    result = scan(src)
    assert result.codes("src/locked.bin") == ["unreadable"]
    assert result.codes("src/fine.bin") == ["vanished"]


def test_duplicate_member_names_in_one_zip_each_get_a_record(tmp_path: Path, scan: Scanner) -> None:
    archive = tmp_path / "dup.zip"
    with zipfile.ZipFile(archive, "w") as z, pytest.warns(UserWarning):
        z.writestr("same.txt", b"one")
        z.writestr("same.txt", b"two")
    result = scan(archive)
    assert {
        result.files["dup.zip!/same.txt"]["md5"],
        result.files["dup.zip!/same.txt [copy 2]"]["md5"],
    } == {
        "f97c5d29941bfb1b2fdab0874906ab82",
        "b8a9f715dbb64fd5c56e7783c6820a61",
    }


def test_a_tree_deeper_than_python_recursion_is_walked(tmp_path: Path, scan: Scanner) -> None:
    deep = tmp_path / "deep"
    deep.mkdir()
    fd = os.open(deep, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(1100):  # os.makedirs itself recurses; go down one level at a time
        os.mkdir("d", dir_fd=fd)
        child = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = child
    leaf = os.open("bottom.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
    os.write(leaf, b"found")
    os.close(leaf)
    os.close(fd)
    try:
        result = scan(deep)
    finally:
        _remove_chain(deep, 1100)  # pytest's own clean-up would recurse too deep
    bottom = [p for p in result.files if p.endswith("/bottom.txt")]
    assert len(bottom) == 1
    assert result.files[bottom[0]]["md5"]


def _remove_chain(top: Path, levels: int) -> None:
    fds = [os.open(top, os.O_RDONLY | os.O_DIRECTORY)]
    for _ in range(levels):
        fds.append(os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fds[-1]))
    os.unlink("bottom.txt", dir_fd=fds[-1])
    for depth in range(levels, 0, -1):
        os.close(fds[depth])
        os.rmdir("d", dir_fd=fds[depth - 1])
    os.close(fds[0])


def test_a_symlink_named_as_the_source_is_followed_once(tmp_path: Path, scan: Scanner) -> None:
    write(tmp_path / "real" / "a.txt", b"a")
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    result = scan(tmp_path / "alias")
    assert set(result.files) == {"real/a.txt"}
