"""A server scan fanned out into shards (issue 14, item 2): the merged scan file has the records
of a single-process scan and the same court report byte for byte, whatever the number of
workers; a worker killed mid-shard leaves its shard to another, with no file missing or twice.
Folders, disk images (an E01 in-process, an ext4 image on three real workers) and an archive
given as the source in ranges of its members (in-process, and a ZIP and a tar.gz of 3,000 files
on three real workers, one killed mid-range); the progress of an archive counts its members; a
shard that ends after its scan failed leaves no part behind.

The multi-worker tests run real `muhafiz worker` processes on the configured queue (the
database, or RQ when REDIS_URL is set: `make test-rq` runs this file too).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings

from muhafiz.cases.models import Case
from muhafiz.core.jobs import uses_rq, worker_command
from muhafiz.core.storage import file_store
from muhafiz.evidence import actions
from muhafiz.evidence.actions import scans as scan_actions
from muhafiz.evidence.actions import shards as shard_actions
from muhafiz.evidence.actions.scans import stored_file
from muhafiz.evidence.models import MediaFile, Scan, ScanShard, ScanStatus, ShardStatus
from muhafiz.evidence.tasks import run_scan_shards, run_server_scan
from muhafiz.testing import People, database_url_for_workers, generate_scan_source, signed_in
from muhafiz.triage import shards as triage_shards
from muhafiz.triage.engine import ScanOptions, start_scan
from muhafiz.triage.reports import write_report
from muhafiz.triage.scanfile import open_readonly, record_rows
from muhafiz.triage.tests import diskimages as di
from muhafiz.triage.tests.archives import MEMBERS, archive_folder, make_archive


def _single_process(source: Path, out: Path) -> Path:
    start_scan(ScanOptions(sources=[source], out=out, case_ref="single", examiner="single"))
    return out


def _report(scan_file: Path, out: Path) -> bytes:
    write_report(scan_file, "csv", out)
    return out.read_bytes()


def _custody(scan_file: Path) -> list[str]:
    conn = open_readonly(scan_file)
    try:
        return [row[0] for row in conn.execute("SELECT action FROM custody ORDER BY seq")]
    finally:
        conn.close()


def _assert_same_as_single_process(scan: Scan, source: Path, tmp_path: Path) -> None:
    merged = stored_file(scan)
    single = _single_process(source, tmp_path / "single.scan")
    assert record_rows(merged) == record_rows(single)
    assert _report(merged, tmp_path / "merged.csv") == _report(single, tmp_path / "single.csv")
    rows = record_rows(single)
    assert MediaFile.objects.filter(scan=scan).count() == len(rows["files"])
    left = list(file_store().names(f"evidence/scans/fanout/{scan.pk}"))
    assert not left, (left, list(ScanShard.objects.filter(scan=scan).values()))  # parts removed


def test_a_fanned_out_server_scan_has_the_records_and_report_of_a_single_process_scan(
    people: People, lahore_case: Case, sources: Path, settings: Any, tmp_path: Path
) -> None:
    device = sources / "seized-server"
    generate_scan_source(device, 700, images=6, per_folder=30)
    settings.MUHAFIZ_SCAN_SHARD_FILES = 100
    scan = actions.queue_server_scan(people.lahore_investigator, lahore_case, str(device))
    run_server_scan.call(scan.pk)  # no other worker here: the job does every shard itself
    scan.refresh_from_db()
    assert scan.status == ScanStatus.IMPORTED, scan.failure
    shards = list(ScanShard.objects.filter(scan=scan, number__gt=0))
    assert len(shards) >= 6
    assert {s.status for s in shards} == {ShardStatus.DONE}
    assert sum(s.files for s in shards) == 706
    # Most shards end where a folder ends (30 files a folder, 100 a shard).
    assert sum(1 for s in shards if s.files % 30 == 0) >= len(shards) - 2
    _assert_same_as_single_process(scan, device, tmp_path)
    custody = _custody(stored_file(scan))
    assert custody.count("shard merged") == len(shards)
    assert "scan fanned out" in custody


def test_a_small_folder_is_scanned_in_one_job_as_before(
    people: People, lahore_case: Case, sources: Path, settings: Any, tmp_path: Path
) -> None:
    device = sources / "small"
    generate_scan_source(device, 50)
    settings.MUHAFIZ_SCAN_SHARD_FILES = 100
    scan = actions.queue_server_scan(people.lahore_investigator, lahore_case, str(device))
    run_server_scan.call(scan.pk)
    scan.refresh_from_db()
    assert scan.status == ScanStatus.IMPORTED, scan.failure
    assert not ScanShard.objects.filter(scan=scan).exists()
    assert "scan fanned out" not in _custody(stored_file(scan))


needs_disk_tools = pytest.mark.skipif(
    bool(di.missing_tools()), reason=f"disk-image tools missing: {di.missing_tools()}"
)


def _e01(sources: Path, tmp_path: Path) -> Path:
    """A generated two-partition disk (FAT16 and ext4, deleted files, pictures to carve) as an
    E01 with its acquisition hashes, inside the scan root."""
    disk = di.sample_disk(tmp_path / "disk")
    return di.to_e01(disk.raw, sources / "laptop")


class _Killed(BaseException):
    """Stands for SIGKILL: no handler of the job catches it, the lease is left as it was."""


def _second_shard_dies_then_is_taken_over(
    actor: Any, case: Case, source: Path, monkeypatch: pytest.MonkeyPatch
) -> Scan:
    """Queue a server scan of `source` and run it here; the job dies (as SIGKILL would) in its
    second shard, then a shard job takes that shard over once its lease has gone silent, does
    it again and merges the scan once."""
    real = triage_shards.scan_shard
    calls: list[int] = []

    def dies_in_its_second_shard(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise _Killed
        return real(*args, **kwargs)

    monkeypatch.setattr(shard_actions, "scan_shard", dies_in_its_second_shard)
    scan = actions.queue_server_scan(actor, case, str(source))
    with pytest.raises(_Killed):
        run_server_scan.call(scan.pk)
    held = ScanShard.objects.get(scan=scan, status=ShardStatus.RUNNING)
    assert held.number > 0 and held.lease
    monkeypatch.setattr(shard_actions, "scan_shard", real)
    run_scan_shards.call(scan.pk)  # waits for the dead lease to go silent, then takes it over
    scan.refresh_from_db()
    assert scan.status == ScanStatus.IMPORTED, scan.failure
    held.refresh_from_db()
    assert held.status == ShardStatus.DONE and held.attempts == 2
    return scan


@needs_disk_tools
def test_a_disk_image_is_fanned_out_and_a_dead_workers_shard_is_taken_over(  # noqa: PLR0917
    people: People,
    lahore_case: Case,
    sources: Path,
    settings: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    image = _e01(sources, tmp_path)
    settings.MUHAFIZ_SCAN_SHARD_FILES = 2
    settings.MUHAFIZ_SCAN_SHARD_LEASE_SECONDS = 2
    scan = _second_shard_dies_then_is_taken_over(
        people.lahore_investigator, lahore_case, image, monkeypatch
    )
    shards = list(ScanShard.objects.filter(scan=scan, number__gt=0))
    partitions = {u[1].partition("/")[0] for s in shards for u in s.units}
    assert {"laptop.E01", "laptop.E01!p1", "laptop.E01!p2"} <= partitions
    _assert_same_as_single_process(scan, image, tmp_path)
    with closing(open_readonly(stored_file(scan))) as conn:
        assert conn.execute("SELECT verification FROM sources").fetchone()[0] == "match"


@pytest.mark.parametrize("kind", ["zip", "tar.gz", "ab"])
def test_an_archive_given_as_the_source_is_fanned_out_and_a_dead_workers_range_taken_over(  # noqa: PLR0917
    people: People,
    lahore_case: Case,
    sources: Path,
    settings: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    """A ZIP, a tar.gz and an Android backup given as the source are cut into ranges of their
    members; the worker of the second range dies; its range is done again, merged once."""
    archive = make_archive(kind, sources / "seized")
    settings.MUHAFIZ_SCAN_SHARD_FILES = 50
    settings.MUHAFIZ_SCAN_SHARD_LEASE_SECONDS = 2
    scan = _second_shard_dies_then_is_taken_over(
        people.lahore_investigator, lahore_case, archive, monkeypatch
    )
    shards = list(ScanShard.objects.filter(scan=scan, number__gt=0))
    assert len(shards) >= 5
    assert all(len(s.units) == 1 and s.units[0][1] == archive.name for s in shards)
    _assert_same_as_single_process(scan, archive, tmp_path)
    assert MediaFile.objects.filter(scan=scan).count() >= MEMBERS + 5
    custody = _custody(stored_file(scan))
    assert custody.count("shard merged") == len(shards)
    assert "archive scanned whole" not in custody


def test_a_shard_that_ends_after_its_scan_failed_leaves_no_part(
    people: People,
    lahore_case: Case,
    sources: Path,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    device = sources / "seized-failing"
    generate_scan_source(device, 300, per_folder=30)
    settings.MUHAFIZ_SCAN_SHARD_FILES = 100
    real = scan_actions.record_scan_progress
    failed: list[int] = []

    def another_job_fails_the_scan(actor: Any, scan_id: int, progress: Any) -> None:
        if not failed and ScanShard.objects.filter(scan_id=scan_id, status="running").exists():
            # What a job whose shard raised does (`work_on_shards`), while this shard runs.
            failed.append(scan_id)
            scan = Scan.objects.select_related("case").get(pk=scan_id)
            scan_actions.fail_server_scan(actor, scan, RuntimeError("a shard failed elsewhere"))
            shard_actions._forget_parts(scan_id)
        real(actor, scan_id, progress)

    monkeypatch.setattr(scan_actions, "record_scan_progress", another_job_fails_the_scan)
    scan = actions.queue_server_scan(people.lahore_investigator, lahore_case, str(device))
    run_server_scan.call(scan.pk)
    scan.refresh_from_db()
    assert failed and scan.status == ScanStatus.FAILED
    assert ScanShard.objects.filter(scan=scan, status=ShardStatus.DONE).count() == 1
    assert not list(file_store().names(f"evidence/scans/fanout/{scan.pk}"))


# --- several worker processes ---------------------------------------------------------------------

FILES = 3000


@pytest.fixture
def empty_queue(flushable_audit: None) -> Iterator[None]:
    if uses_rq():
        import django_rq

        django_rq.get_connection().flushdb()
    yield
    if uses_rq():
        import django_rq

        django_rq.get_connection().flushdb()


def _workers(
    count: int, tmp_path: Path, sources: Path, extra: dict[str, str]
) -> list[tuple[subprocess.Popen[bytes], Path]]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_workers(),
        "MUHAFIZ_PROFILE": "test",
        "DJANGO_SETTINGS_MODULE": "muhafiz.settings",
        "MUHAFIZ_DATA_DIR": str(django_settings.DATA_DIR),
        "MUHAFIZ_SCAN_ROOTS": str(sources),
        "MUHAFIZ_MEDIA_INDEX_DIR": str(django_settings.MUHAFIZ_MEDIA_INDEX_DIR),
        "MUHAFIZ_SCAN_SHARD_FILES": "250",
        "MUHAFIZ_SCAN_SHARD_LEASE_SECONDS": "5",
        **extra,
    }
    name, args = worker_command([], batch=False)
    started = []
    for number in range(count):
        command = [sys.executable, "-m", "django", name, *args]
        if name == "rqworker":
            command += ["--name", f"fanout-{number}"]
        else:
            command += ["--interval", "0.1", "--no-startup-delay", "--no-reload", "--skip-checks"]
            command += ["--worker-id", f"fanout-{number}"]
        log = tmp_path / f"worker-{number}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        started.append((process, log))
    return started


def _stop(workers: list[tuple[subprocess.Popen[bytes], Path]]) -> None:
    """SIGTERM: a worker still finishing a shard a slower lease-holder also did ends it first."""
    for process, _log in workers:
        if process.poll() is None:
            process.terminate()
    for process, _log in workers:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)


def _wait_for(condition: Callable[[], bool], what: str, logs: list[Path], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            tails = "\n".join(log.read_text(errors="replace")[-2500:] for log in logs)
            raise AssertionError(f"timed out waiting for {what}\n{tails}")
        time.sleep(0.2)


def _imported(scan: Scan, seen: list[Any]) -> bool:
    """Whether the scan has left the queue; notes the progress the scan page shows meanwhile."""
    scan.refresh_from_db()
    if scan.progress is not None:
        seen.append(scan.progress)
    return scan.status != ScanStatus.QUEUED


def _parent(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat.rsplit(")", 1)[1].split()[1])


def _holder(worker: subprocess.Popen[bytes]) -> int:
    """The process of this worker that holds a shard now (the worker itself on the database
    queue; RQ's work horse, a child in a session of its own), or 0."""
    for held_by in ScanShard.objects.filter(number__gt=0, status=ShardStatus.RUNNING).values_list(
        "worker", flat=True
    ):
        last = held_by.rsplit(" ", 1)[-1]
        pid = int(last) if last.isdigit() else 0
        if pid and worker.pid in {pid, _parent(pid)}:
            return pid
    return 0


def _held_shard(worker: subprocess.Popen[bytes]) -> int:
    """The shard this worker (or its work horse) runs now, or 0."""
    for pk, held_by in ScanShard.objects.filter(
        number__gt=0, status=ShardStatus.RUNNING
    ).values_list("pk", "worker"):
        last = held_by.rsplit(" ", 1)[-1]
        pid = int(last) if last.isdigit() else 0
        if pid and worker.pid in {pid, _parent(pid)}:
            return int(pk)
    return 0


def _holds_a_long_shard(worker: subprocess.Popen[bytes]) -> bool:
    """The worker still runs the same shard a moment later: a range of files, not a disk image's
    whole-media hash (done in milliseconds), which a kill would miss."""
    first = _held_shard(worker)
    if not first:
        return False
    time.sleep(0.3)
    return _held_shard(worker) == first


def _kill_mid_shard(
    victim: subprocess.Popen[bytes], logs: list[Path], holds: Callable[[], bool]
) -> None:
    """Once `holds()` says the worker holds a shard, SIGKILL it with its work horse, as a
    machine dies: no handler runs, its lease is left to go silent."""
    _wait_for(holds, "the first worker to take a shard", logs, 60)
    horse = _holder(victim)
    os.killpg(victim.pid, signal.SIGKILL)  # the worker with its work horse, mid-shard
    if horse and horse != victim.pid:
        os.kill(horse, signal.SIGKILL)
    victim.wait(timeout=20)


@pytest.mark.parametrize("kill", [False, True], ids=["three-workers", "one-killed-mid-shard"])
def test_three_workers_drain_a_fanned_out_scan_into_the_single_process_report(  # noqa: PLR0917
    empty_queue: None,
    people: People,
    lahore_case: Case,
    sources: Path,
    tmp_path: Path,
    kill: bool,
) -> None:
    device = sources / "seized-nas"
    generate_scan_source(device, FILES, file_bytes=512, images=4)
    workers = _workers(3, tmp_path, sources, {"MUHAFIZ_SCAN_DELAY_MS": "4"} if kill else {})
    logs = [log for _process, log in workers]
    seen: list[Any] = []
    try:
        scan = actions.queue_server_scan(people.lahore_investigator, lahore_case, str(device))
        if kill:
            victim, _log = workers[0]
            _kill_mid_shard(victim, logs, lambda: bool(_holder(victim)))
        _wait_for(lambda: _imported(scan, seen), "the merged scan", logs, 90)
    finally:
        _stop(workers)
    assert scan.status == ScanStatus.IMPORTED, scan.failure
    shards = list(ScanShard.objects.filter(scan=scan, number__gt=0))
    assert len(shards) >= 10
    workers_seen = {s.worker for s in shards}
    assert len(workers_seen) >= 2, workers_seen  # the shards were shared out
    if kill:
        assert max(s.attempts for s in shards) >= 2  # the killed worker's shard was done again
    # The scan page's progress counted every shard's files while they ran.
    assert any(p.total_files == FILES + 4 and 0 < p.done_files < p.total_files for p in seen), seen
    _assert_same_as_single_process(scan, device, tmp_path)


@needs_disk_tools
def test_a_disk_image_on_three_workers_survives_one_killed_mid_shard(
    empty_queue: None, people: People, lahore_case: Case, sources: Path, tmp_path: Path
) -> None:
    """An ext4 image of 1,500 files (no partition table), its file list in ranges on three real
    workers, one killed with its work horse while it holds a shard of the image."""
    tree = tmp_path / "tree"
    total = generate_scan_source(tree, 1500, file_bytes=512, images=4)
    image = sources / "seized-disk.raw"
    di.run("truncate", "-s", str(total * 3 + 16 * 1024 * 1024), image)
    di.run("mke2fs", "-q", "-F", "-t", "ext4", "-N", "4096", "-d", tree, image)
    workers = _workers(3, tmp_path, sources, {"MUHAFIZ_SCAN_DELAY_MS": "8"})
    logs = [log for _process, log in workers]
    try:
        scan = actions.queue_server_scan(people.lahore_investigator, lahore_case, str(image))
        victim, _log = workers[0]
        _kill_mid_shard(victim, logs, lambda: _holds_a_long_shard(victim))
        _wait_for(lambda: _imported(scan, []), "the merged scan", logs, 120)
    finally:
        _stop(workers)
    assert scan.status == ScanStatus.IMPORTED, scan.failure
    shards = list(ScanShard.objects.filter(scan=scan, number__gt=0))
    assert len(shards) >= 6
    assert max(s.attempts for s in shards) >= 2  # the killed worker's shard was done again
    _assert_same_as_single_process(scan, image, tmp_path)


ARCHIVE_FILES = 3000
RANGE_MEMBERS = 250  # MUHAFIZ_SCAN_SHARD_FILES of the workers (`_workers`)


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_an_archive_in_ranges_on_three_workers_survives_one_killed_mid_range(  # noqa: PLR0917
    empty_queue: None,
    people: People,
    lahore_case: Case,
    sources: Path,
    tmp_path: Path,
    kind: str,
) -> None:
    """A ZIP and a tar.gz of 3,000 generated files given as the source, cut into ranges of their
    members on three real workers, one killed with its work horse while it holds a range: the
    range is done again, merged once, and the court report is the single-process one. The scan
    page's progress counted the archive's members while the ranges ran, not the ranges."""
    tree = tmp_path / "tree"
    generate_scan_source(tree, ARCHIVE_FILES, file_bytes=512, images=4)
    archive = archive_folder(kind, tree, sources / f"seized-archive.{kind}")
    workers = _workers(3, tmp_path, sources, {"MUHAFIZ_SCAN_DELAY_MS": "4"})
    logs = [log for _process, log in workers]
    seen: list[Any] = []
    try:
        scan = actions.queue_server_scan(people.lahore_investigator, lahore_case, str(archive))
        victim, _log = workers[0]
        _kill_mid_shard(victim, logs, lambda: _holds_a_long_shard(victim))
        _wait_for(lambda: _imported(scan, seen), "the merged scan", logs, 180)
    finally:
        _stop(workers)
    assert scan.status == ScanStatus.IMPORTED, scan.failure
    shards = list(ScanShard.objects.filter(scan=scan, number__gt=0))
    assert len(shards) >= 10
    assert all(len(s.units) == 1 and s.units[0][1] == archive.name for s in shards)
    assert len({s.worker for s in shards}) >= 2
    assert max(s.attempts for s in shards) >= 2  # the killed worker's range was done again
    members = ARCHIVE_FILES + 4
    assert sum(s.files for s in shards) == members + 1  # its members, and the archive itself
    assert any(p.total_files == members + 1 and 0 < p.done_files < p.total_files for p in seen)
    # Member by member: not only sums of whole ranges (250 members; the last, 4 and the archive).
    assert any(p.done_files % RANGE_MEMBERS not in {0, 5} for p in seen), seen
    _assert_same_as_single_process(scan, archive, tmp_path)
    custody = _custody(stored_file(scan))
    assert custody.count("shard merged") == len(shards)
    assert "archive scanned whole" not in custody


def test_the_progress_of_an_archive_in_ranges_counts_its_members_and_bytes(
    people: People, lahore_case: Case, sources: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scan page (in English and in Urdu) and the API give an archive in ranges' progress in
    its members and their bytes, as a folder's in its files (not a range as one file)."""
    archive = make_archive("zip", sources / "seized")
    with zipfile.ZipFile(archive) as opened:
        members = len(opened.infolist())
        member_bytes = sum(info.file_size for info in opened.infolist())
    settings.MUHAFIZ_SCAN_SHARD_FILES = 50
    monkeypatch.setattr(shard_actions, "PROGRESS_SECONDS", 0)  # every member's step written
    client = signed_in(people.lahore_investigator)
    real = scan_actions.record_scan_progress
    read: dict[str, Any] = {}

    def read_mid_range(actor: Any, scan_id: int, progress: Any) -> None:
        real(actor, scan_id, progress)
        if not read and progress["done_files"] == 10:  # ten members into the first range
            read["progress"] = progress
            read["api"] = client.get(f"/api/v1/evidence/scans/{scan_id}").json()
            for language in ("en", "ur"):
                client.cookies.load({"django_language": language})
                page = client.get(f"/evidence/scans/{scan_id}/", HTTP_ACCEPT_LANGUAGE=language)
                read[language] = page.content.decode()

    monkeypatch.setattr(scan_actions, "record_scan_progress", read_mid_range)
    scan = actions.queue_server_scan(people.lahore_investigator, lahore_case, str(archive))
    run_server_scan.call(scan.pk)
    scan.refresh_from_db()
    assert scan.status == ScanStatus.IMPORTED, scan.failure
    total = members + 1  # and the archive's own record
    progress = read["progress"]
    assert progress["total_files"] == total
    assert progress["total_bytes"] == member_bytes + archive.stat().st_size
    assert 0 < progress["done_bytes"] < member_bytes
    assert read["api"]["statistics"]["progress"]["total_files"] == total
    assert read["api"]["statistics"]["progress"]["done_files"] == 10
    assert f"10 of {total} files" in read["en"]
    assert f"{total} میں سے 10 فائلیں" in read["ur"]
    shards = list(ScanShard.objects.filter(scan=scan, number__gt=0))
    assert sum(s.files for s in shards) == total
