"""Whole scans: matching, determinism, resume after a crash, read-only sources, the CLI."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from muhafiz.triage.imaging import pdq_of_encoded
from muhafiz.triage.scanfile import record_rows
from muhafiz.triage.sources.directory import mount_state, read_write_warning
from muhafiz.triage.tests.conftest import Scanner, read_scan
from muhafiz.triage.tests.media import gps_exif, jpeg_bytes, png_bytes, scene, write

MUHAFIZ = [sys.executable, "-m", "muhafiz"]
ALPHA = b"alpha\n"


def _corpus(root: Path, n_images: int = 6) -> Path:
    src = root / "drive"
    for i in range(n_images):
        write(
            src / "DCIM" / f"img{i:02d}.jpg",
            jpeg_bytes(scene(i, (720, 540)), exif=gps_exif(31.5 + i / 100, 74.3)),
        )
    write(src / "docs" / "a.txt", b"alpha\n")
    write(src / "docs" / "copy-of-a.txt", b"alpha\n")
    write(src / "empty.bin", b"")
    with zipfile.ZipFile(src / "backup.zip", "w") as z:
        z.writestr("old/img00.jpg", (src / "DCIM" / "img00.jpg").read_bytes())
        z.writestr("old/logo.png", png_bytes(scene(50, (300, 300))))
    return src


def _pdq_of_file(path: Path) -> str:
    result = pdq_of_encoded(path.read_bytes())
    assert result.hex is not None
    return result.hex


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def test_exact_near_and_known_good_matches_are_recorded(tmp_path: Path, scan: Scanner) -> None:
    src = _corpus(tmp_path)
    img1 = (src / "DCIM" / "img01.jpg").read_bytes()
    md5_list = write(tmp_path / "bad.md5", f"{_md5(img1)}  img01.jpg\n".encode())
    sha_list = write(
        tmp_path / "sums.sha256",
        f"{hashlib.sha256(ALPHA).hexdigest()}  a.txt\n".encode(),
    )
    # The near match: the bank holds the PDQ of a recompressed, brightened copy of img03.
    altered = tmp_path / "altered.jpg"
    Image.eval(Image.open(src / "DCIM" / "img03.jpg"), lambda v: min(255, v + 12)).save(
        altered, quality=60
    )
    pdq_list = write(tmp_path / "near.pdq", f"{_pdq_of_file(altered)},100,altered copy\n".encode())
    good = write(
        tmp_path / "good.md5", f"{_md5((src / 'docs' / 'a.txt').read_bytes())}  x\n".encode()
    )
    result = scan(src, banks=[md5_list, sha_list, pdq_list], known_good=[good])
    by_path: dict[str, set[tuple[str, str, str]]] = {}
    for m in result.matches:
        by_path.setdefault(m["path"], set()).add((m["bank"], m["kind"], m["bank_kind"]))
    assert by_path["drive/DCIM/img01.jpg"] == {("bad", "md5", "known-bad")}
    assert ("near", "pdq", "known-bad") in by_path["drive/DCIM/img03.jpg"]
    near = next(m for m in result.matches if m["path"] == "drive/DCIM/img03.jpg")
    assert near["distance"] <= 31  # brightness and recompression may leave PDQ unchanged
    assert near["kind"] == "pdq" and _md5(altered.read_bytes()) != _md5(img1)
    assert ("good", "md5", "known-good") in by_path["drive/docs/a.txt"]
    assert result.files["drive/docs/a.txt"]["known_good"] == 1
    assert result.files["drive/DCIM/img01.jpg"]["known_good"] == 0
    assert "drive/empty.bin" not in by_path  # the empty file's hashes are never matched


def test_same_source_gives_same_records_with_one_or_two_workers(
    tmp_path: Path, scan: Scanner
) -> None:
    src = _corpus(tmp_path)
    bank = write(tmp_path / "bad.md5", f"{_md5(ALPHA)}  a\n".encode())
    one = scan(src, banks=[bank], workers=1)
    two = scan(src, banks=[bank], workers=2)
    assert record_rows(one.path) == record_rows(two.path)
    conn = sqlite3.connect(one.path)
    clusters = conn.execute("SELECT cluster, path FROM pdq_clusters ORDER BY path").fetchall()
    dups = conn.execute("SELECT sha256, copies FROM duplicate_groups").fetchall()
    conn.close()
    assert {p for _, p in clusters} >= {"drive/DCIM/img00.jpg", "drive/backup.zip!/old/img00.jpg"}
    assert sorted(c for _, c in dups) == [2, 2]


def _stat(path: Path) -> tuple[bytes, int, int]:
    st = path.stat()
    return path.read_bytes(), st.st_mtime_ns, st.st_atime_ns


def test_the_source_is_unchanged_bytes_mtime_and_atime(tmp_path: Path, scan: Scanner) -> None:
    src = _corpus(tmp_path)
    files = sorted(p for p in src.rglob("*") if p.is_file())
    old = 1_600_000_000_000_000_000
    for path in files:
        # atime older than mtime: a plain read would update it under the default relatime.
        os.utime(path, ns=(old, old + 10**12))
    before = {p: _stat(p) for p in files}
    os.utime(src, ns=(old, old + 10**12))
    dir_before = src.stat().st_atime_ns, src.stat().st_mtime_ns
    # _stat reads the bytes: take the times again so the reference itself is not disturbed.
    before = {p: (b[0], p.stat().st_mtime_ns, p.stat().st_atime_ns) for p, b in before.items()}
    scan(src, workers=2)
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_atime_ns) for p in files}
    assert {p: (v[1], v[2]) for p, v in after.items()} == {
        p: (v[1], v[2]) for p, v in before.items()
    }
    assert {p: v[0] for p, v in after.items()} == {p: v[0] for p, v in before.items()}
    assert (src.stat().st_atime_ns, src.stat().st_mtime_ns) == dir_before
    assert sorted(p for p in src.rglob("*") if p.is_file()) == files


def _files_done(scan_file: Path) -> int:
    try:
        conn = sqlite3.connect(f"{scan_file.as_uri()}?mode=ro", uri=True)
        try:
            return int(
                conn.execute("SELECT COUNT(*) FROM files WHERE parent IS NULL").fetchone()[0]
            )
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def _default_sigint() -> None:
    # A process started in the background by a non-interactive shell (as CI may run the suite)
    # inherits SIGINT ignored, and Python then installs no KeyboardInterrupt for it: give the
    # scan the examiner's terminal's default, which is what this test is about.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupted_scan(tmp_path: Path, src: Path, bank: Path, sig: int, workers: int) -> Path:
    out = tmp_path / f"interrupted-{sig}.scan"
    # 400 ms a file: the first results are committed after one batch (8 files, 3 s), and the
    # rest take several seconds more, so the signal lands mid-scan even when a loaded machine
    # leaves this process waiting for a second or two.
    env = {**os.environ, "MUHAFIZ_SCAN_DELAY_MS": "400"}
    process = subprocess.Popen(
        [*MUHAFIZ, "scan", str(src), "--out", str(out), "--bank", str(bank), "--quiet",
         "--workers", str(workers), "--case", "TEST-1", "--examiner", "Test Examiner"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=_default_sigint,  # noqa: PLW1509 (the test starts no threads)
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while _files_done(out) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert process.returncode == 130, stderr.decode()
    else:
        assert process.returncode == -signal.SIGKILL
    done = _files_done(out)
    assert 5 <= done < 40, "the scan should have stopped half-way"
    return out


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "workers"), [(signal.SIGKILL, 1), (signal.SIGINT, 2)])
def test_resume_after_a_crash_or_ctrl_c_ends_with_the_uninterrupted_records(
    tmp_path: Path, scan: Scanner, sig: int, workers: int
) -> None:
    src = tmp_path / "drive"
    for i in range(40):
        write(src / f"f{i:02d}.txt", f"file {i}\n".encode() * 100)
    write(src / "pic.png", png_bytes(scene(9, (300, 200))))
    seventh = b"file 7\n" * 100
    bank = write(tmp_path / "bad.md5", f"{_md5(seventh)}  f07\n".encode())
    out = _interrupted_scan(tmp_path, src, bank, sig, workers)
    resumed = subprocess.run(
        [*MUHAFIZ, "scan", "--resume", str(out), "--quiet", "--workers", str(workers)],
        capture_output=True,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr.decode()
    straight = scan(src, banks=[bank], out=tmp_path / "straight.scan")
    assert record_rows(out) == record_rows(straight.path)
    conn = sqlite3.connect(out)
    actions = [a for (a,) in conn.execute("SELECT action FROM custody ORDER BY seq")]
    status = conn.execute("SELECT value FROM meta WHERE key = 'status'").fetchone()[0]
    conn.close()
    assert "scan resumed" in actions and actions[-1] == "scan completed"
    assert status == "complete"
    assert not out.with_name(out.name + "-wal").exists()


def test_scan_and_report_never_import_django(tmp_path: Path) -> None:
    src = _corpus(tmp_path, n_images=1)
    code = (
        "import sys\n"
        "from muhafiz.cli import main\n"
        "for args in (['scan', sys.argv[1], '--out', sys.argv[2], '--quiet', '--workers', '1'],\n"
        "             ['report', sys.argv[2], '--format', 'pdf', '--out', sys.argv[3]]):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit as exc:\n"
        "        assert exc.code in (0, None), exc.code\n"
        "assert 'django' not in sys.modules, sorted(m for m in sys.modules if 'django' in m)\n"
        "print('no django')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", code, str(src), str(tmp_path / "s.scan"), str(tmp_path / "r.pdf")],
        capture_output=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert b"no django" in result.stdout


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MUHAFIZ, *args], capture_output=True, text=True, check=False)


def test_exit_codes_say_why_a_scan_could_not_run(tmp_path: Path) -> None:
    src = _corpus(tmp_path, n_images=1)
    bad_list = write(
        tmp_path / "broken.md5", b"d41d8cd98f00b204e9800998ecf8427e  ok\nnot-a-hash  x\n"
    )
    assert (
        _cli("scan", str(tmp_path / "nowhere"), "--out", str(tmp_path / "a.scan")).returncode == 3
    )
    broken = _cli("scan", str(src), "--out", str(tmp_path / "b.scan"), "--bank", str(bad_list))
    assert broken.returncode == 4
    assert "line 2" in broken.stderr
    assert not (tmp_path / "b.scan").exists()
    ok = _cli("scan", str(src), "--out", str(tmp_path / "c.scan"), "--quiet")
    assert ok.returncode == 0, ok.stderr
    assert _cli("scan", str(src), "--out", str(tmp_path / "c.scan"), "--quiet").returncode == 5
    assert _cli("scan", str(src)).returncode == 2
    inside = _cli("scan", str(src), "--out", str(src / "case.scan"), "--quiet")
    assert inside.returncode == 5
    assert not (src / "case.scan").exists()
    not_scan = write(tmp_path / "x.scan", b"not sqlite at all")
    assert (
        _cli(
            "report", str(not_scan), "--format", "csv", "--out", str(tmp_path / "x.csv")
        ).returncode
        == 5
    )
    assert _cli("scan", "--resume", str(tmp_path / "c.scan"), "--quiet").returncode == 0


def test_a_worker_crash_costs_one_file_not_the_scan(tmp_path: Path) -> None:
    src = tmp_path / "drive"
    for i in range(12):
        write(src / f"f{i:02d}.txt", f"file {i}\n".encode())
    out = tmp_path / "crash.scan"
    env = {**os.environ, "MUHAFIZ_SCAN_CRASH_ON": "f05.txt"}
    result = subprocess.run(
        [*MUHAFIZ, "scan", str(src), "--out", str(out), "--quiet", "--workers", "2"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    scanned = read_scan(out)
    assert len(scanned.files) == 12
    assert scanned.codes("drive/f05.txt") == ["internal-error"]
    assert all(scanned.files[f"drive/f{i:02d}.txt"]["md5"] for i in range(12) if i != 5)


def test_resume_adds_the_additive_columns_and_tables_to_an_older_scan_file(tmp_path: Path) -> None:
    from muhafiz.triage.scanfile import ADDED_COLUMNS, ADDED_TABLES, ScanWriter

    out = tmp_path / "old.scan"
    writer = ScanWriter.create(out, meta={}, sources=[], banks=[])
    for table, column, _ in ADDED_COLUMNS:
        writer.conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    for table in ADDED_TABLES:
        writer.conn.execute(f"DROP TABLE {table}")
    writer.close()

    resumed = ScanWriter.resume(out)
    for table, column, _ in ADDED_COLUMNS:
        columns = {row[1] for row in resumed.conn.execute(f"PRAGMA table_info({table})")}
        assert column in columns
    tables = {r[0] for r in resumed.conn.execute("SELECT name FROM sqlite_master")}
    assert set(ADDED_TABLES) <= tables
    resumed.close()
    ScanWriter.resume(out).close()  # and the upgraded file passes the schema check


def _times(paths: list[Path]) -> dict[Path, tuple[int, int, int]]:
    """atime, mtime and size by lstat: no listing or reading, which would change atime."""
    return {
        p: (os.lstat(p).st_atime_ns, os.lstat(p).st_mtime_ns, os.lstat(p).st_size) for p in paths
    }


def test_a_scan_leaves_every_file_and_folder_time_unchanged(tmp_path: Path, scan: Scanner) -> None:
    src = _corpus(tmp_path, n_images=2)
    write(src / "deep" / "er" / "still" / "note.txt", b"deep\n")
    (src / "empty-folder").mkdir()
    (src / "link-to-a").symlink_to("docs/a.txt")
    # Fresh tree, as a seized drive would be: every atime equals its mtime. Under relatime
    # (Linux's default) a plain read or folder listing then updates atime, so a scan that
    # opened anything without O_NOATIME would show here.
    fresh = time.time_ns() - 3600 * 10**9
    tree = sorted([src, *src.rglob("*")], key=lambda p: -len(p.parts))  # listed before the utime
    for path in tree:
        os.utime(path, ns=(fresh, fresh), follow_symlinks=False)
    control = tmp_path / "control"
    control.mkdir()
    os.utime(control, ns=(fresh, fresh))
    os.listdir(control)  # noqa: PTH208 - the plain listing whose effect we look for
    if control.stat().st_atime_ns == fresh:
        pytest.skip("this file system does not update atime on reading (noatime mount)")
    before = _times(tree)
    assert all(atime == mtime == fresh for atime, mtime, _ in before.values())
    scan(src, workers=2)
    after = _times(tree)
    # A symlink's own atime is updated by readlink on a read-write mount (Linux has no
    # O_NOATIME for it); its mtime and size are compared like everything else's.
    link = src / "link-to-a"
    assert after.pop(link)[1:] == before.pop(link)[1:]
    assert after == before
    assert len(before) == 14  # 7 folders (the root too), 2 images, 3 documents, 2 more files


def test_a_source_on_a_read_write_mount_is_warned_about_once_and_recorded(
    tmp_path: Path,
) -> None:
    src = _corpus(tmp_path, n_images=1)
    other = write(tmp_path / "loose" / "photo.jpg", jpeg_bytes(scene(9, (300, 200))))
    run = _cli("scan", str(src), str(other), "--out", str(tmp_path / "s.scan"), "--quiet")
    assert run.returncode == 0, run.stderr
    assert run.stderr.count("Warning:") == 1
    assert "read-write mount" in run.stderr and "mount the evidence read-only" in run.stderr
    with sqlite3.connect(tmp_path / "s.scan") as conn:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        custody = [r[0] for r in conn.execute("SELECT detail FROM custody")]
    mounts = json.loads(meta["source_mounts"])
    assert {k: v["read_only"] for k, v in mounts.items()} == {"1": False, "2": False}
    assert any(d.startswith("source 1: READ-WRITE mount") for d in custody)
    report = tmp_path / "r.html"
    made = _cli("report", str(tmp_path / "s.scan"), "--format", "html", "--out", str(report))
    assert made.returncode == 0, made.stderr
    assert "READ-WRITE" in report.read_text()


def test_a_read_only_mount_is_recognised(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = os.statvfs

    class ReadOnly:
        def __init__(self, path: str) -> None:
            self.f_flag = real(path).f_flag | os.ST_RDONLY

    monkeypatch.setattr(os, "statvfs", ReadOnly)  # the kernel's answer for a `mount -o ro`
    state = mount_state(tmp_path)
    assert state.read_only is True
    assert state.mount_point is not None and os.path.ismount(state.mount_point)
    assert read_write_warning([tmp_path]) is None


def test_a_scan_with_matches_and_clusters_passes_the_full_check(
    tmp_path: Path, scan: Scanner
) -> None:
    """SQLite 3.40 reports a false "NULL value in matches.bank_kind" / "pdq_clusters.cluster" in
    `integrity_check` (a NOT NULL column before a key column of a WITHOUT ROWID table): the
    server refused every scan file with a match or a cluster. The value checks decide instead."""
    from muhafiz.triage.scanfile import open_readonly

    picture = jpeg_bytes(scene(31))
    write(tmp_path / "src" / "a.jpg", picture)
    write(tmp_path / "src" / "b.jpg", jpeg_bytes(scene(31), quality=70))  # a near-duplicate
    bank = tmp_path / "known.sha256"
    bank.write_text(f"{hashlib.sha256(picture).hexdigest()}  known\n")
    result = scan(tmp_path / "src", banks=[bank])
    assert result.matches
    conn = sqlite3.connect(result.path)
    assert conn.execute("SELECT COUNT(*) FROM pdq_clusters").fetchone()[0] == 2
    conn.close()
    open_readonly(result.path, verify=True, immutable=True).close()
