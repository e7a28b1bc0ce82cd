"""A server scan fanned out into shard jobs that any worker on any machine takes, merged into one
scan file whose records are those of a single-process scan (`muhafiz.triage.shards`).

`fan_out` (inside the server-scan job) lists the folder once, stores the header scan file in the
file store, records one `ScanShard` row per range of the listing plus row 0 for the merge, and
queues one `run_scan_shards` job per shard; it then works on shards itself. Every such job loops:
it takes a shard (a pending one, or one whose lease has gone silent: its worker died), processes
it into a part scan file kept in the file store, and marks it done only if it still holds the
lease; when none is left to take, one job stays to watch the running ones (taking over any whose
worker dies), and the job that finds every shard done takes the merge, imports the merged file
(as `perform_server_scan` does) and removes the header and parts. A shard processed twice counts
once: the part named by the lease that finished it. Leases are compare-and-set updates of one
row, so they hold on SQLite and PostgreSQL alike, whichever queue (database or RQ) runs the jobs.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from muhafiz.audit.actions import record
from muhafiz.core.permissions import check_system
from muhafiz.core.storage import file_store
from muhafiz.evidence.actions._common import SCANS_FOLDER, scans_dir
from muhafiz.evidence.models import Scan, ScanShard, ScanStatus, ShardStatus
from muhafiz.triage.engine import ScanOptions
from muhafiz.triage.shards import (
    merge_shards,
    plan_fanout,
    scan_shard,
    unit_files,
    unit_from_json,
    unit_to_json,
)

logger = logging.getLogger(__name__)

MERGE = 0  # the row of the merge; shards are numbered from 1
# A running scan writes its progress at most this often (as `scans.PROGRESS_SECONDS`).
PROGRESS_SECONDS = 1.0


@dataclass(frozen=True)
class ServerScanSteps:
    """What a fanned-out scan does as a one-process server scan does (`actions.scans` passes
    its own functions; this module does not import it): import the finished file (running
    `also` in the import's transaction), record a failure, write progress, queue a shard job."""

    import_file: Callable[..., None]
    fail: Callable[[Any, Scan, Exception], None]
    progress: Callable[[Any, int, dict[str, float]], None]
    queue_shard_job: Callable[[int], None]


def _folder(scan_id: int) -> str:
    return f"{SCANS_FOLDER}/fanout/{scan_id}"


def _header_name(scan_id: int) -> str:
    return f"{_folder(scan_id)}/header.scan"


def _lease_seconds() -> int:
    return max(2, int(settings.MUHAFIZ_SCAN_SHARD_LEASE_SECONDS))


@dataclass(frozen=True)
class _Lease:
    token: str
    worker: str


def fan_out(actor: Any, scan: Scan, options: ScanOptions, steps: ServerScanSteps) -> bool:
    """Run `scan` in shards if its source is a folder larger than one shard: plan it (once, even
    when the job runs again), queue the shard jobs and work on shards here too. False: scan it
    in one process as before."""
    check_system(actor)
    if not ScanShard.objects.filter(scan=scan).exists():
        files = int(settings.MUHAFIZ_SCAN_SHARD_FILES)
        if files <= 0:
            return False
        temp = scans_dir() / f"fanout-{scan.pk}-{uuid.uuid4().hex}.header"
        try:
            plan = plan_fanout(
                options,
                temp,
                shard_files=files,
                shard_bytes=int(settings.MUHAFIZ_SCAN_SHARD_BYTES),
            )
            if plan is None:
                return False
            file_store().put_file(_header_name(scan.pk), temp)
        finally:
            temp.unlink(missing_ok=True)
        with transaction.atomic():
            ScanShard.objects.create(scan=scan, number=MERGE)
            ScanShard.objects.bulk_create(
                ScanShard(
                    scan=scan,
                    number=number,
                    units=[unit_to_json(u) for u in units],
                    files=sum(unit_files(u) for u in units),  # a range: its members
                    bytes=sum(u.size for u in units),
                )
                for number, units in enumerate(plan.shards, start=1)
            )
            record(
                actor,
                "evidence.scan.fanout",
                scan,
                case=scan.case.reference,
                shards=len(plan.shards),
                files=plan.listed_files,
            )
            for _ in plan.shards[1:]:
                steps.queue_shard_job(scan.pk)
    work_on_shards(actor, scan.pk, steps)
    return True


def work_on_shards(actor: Any, scan_id: int, steps: ServerScanSteps) -> None:
    """Take shards of the scan until none is left, watch or merge (the shard job's body)."""
    check_system(actor)
    lease = _Lease(uuid.uuid4().hex, f"{socket.gethostname()} pid {os.getpid()}")
    beat = _Heartbeat(scan_id, lease.token)
    beat.start()
    try:
        while True:
            scan = Scan.objects.select_related("case").get(pk=scan_id)
            if scan.status != ScanStatus.QUEUED:
                return
            shard = _claim_shard(scan_id, lease)
            if shard is not None:
                _run_shard(actor, scan, shard, lease, steps)
                continue
            if _claim_merge(scan_id, lease):
                _merge(actor, scan, lease, steps)
                return
            if not _watch(scan_id, lease):
                return  # nothing to take, and another job watches the running shards
            time.sleep(_lease_seconds() / 4)
    except Exception as exc:
        logger.exception("a shard of server scan %s failed", scan_id)
        scan = Scan.objects.select_related("case").get(pk=scan_id)
        if scan.status == ScanStatus.QUEUED:
            steps.fail(actor, scan, exc)
            _forget_parts(scan_id)
    finally:
        beat.stop()


def _stale() -> Any:
    return timezone.now() - timedelta(seconds=_lease_seconds())


def _claim_shard(scan_id: int, lease: _Lease) -> ScanShard | None:
    """A pending shard, or one whose worker has gone silent, now held by `lease`."""
    stale = _stale()
    candidates = (
        ScanShard.objects.filter(scan_id=scan_id, number__gt=MERGE)
        .filter(
            Q(status=ShardStatus.PENDING) | Q(status=ShardStatus.RUNNING, heartbeat_at__lt=stale)
        )
        .order_by("number")
        .values_list("pk", "status", "lease")
    )
    for pk, status, held_by in candidates:
        taken = (
            ScanShard.objects.filter(pk=pk, status=status, lease=held_by)
            .filter(Q(status=ShardStatus.PENDING) | Q(heartbeat_at__lt=stale))
            .update(
                status=ShardStatus.RUNNING,
                lease=lease.token,
                worker=lease.worker,
                heartbeat_at=timezone.now(),
                attempts=F("attempts") + 1,
                done_files=0,
                done_bytes=0,
            )
        )
        if taken:
            return ScanShard.objects.get(pk=pk)
    return None


def _claim_merge(scan_id: int, lease: _Lease) -> bool:
    """The merge, once every shard is done, unless another live job has taken it."""
    if (
        ScanShard.objects.filter(scan_id=scan_id, number__gt=MERGE)
        .exclude(status=ShardStatus.DONE)
        .exists()
    ):
        return False
    stale = _stale()
    return bool(
        ScanShard.objects.filter(scan_id=scan_id, number=MERGE)
        .filter(
            Q(status=ShardStatus.PENDING) | Q(status=ShardStatus.RUNNING, heartbeat_at__lt=stale)
        )
        .update(
            status=ShardStatus.RUNNING,
            lease=lease.token,
            worker=lease.worker,
            heartbeat_at=timezone.now(),
            attempts=F("attempts") + 1,
        )
    )


def _watch(scan_id: int, lease: _Lease) -> bool:
    """Become (or stay) the one job that waits for the running shards, so that a shard whose
    worker dies is taken over even when no other job of the scan is left; False: another does,
    or nothing is left to wait for."""
    if not ScanShard.objects.filter(scan_id=scan_id).exclude(status=ShardStatus.DONE).exists():
        return False
    return bool(
        ScanShard.objects.filter(scan_id=scan_id, number=MERGE, status=ShardStatus.PENDING)
        .filter(Q(lease__in=["", lease.token]) | Q(heartbeat_at__lt=_stale()))
        .update(lease=lease.token, worker=lease.worker, heartbeat_at=timezone.now())
    )


class _Heartbeat:
    """Renews the job's leases while it works (a large file may take minutes)."""

    def __init__(self, scan_id: int, token: str) -> None:
        self.scan_id = scan_id
        self.token = token
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="shard-heartbeat")

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=10)

    def _run(self) -> None:
        try:
            while not self.stopped.wait(_lease_seconds() / 4):
                ScanShard.objects.filter(scan_id=self.scan_id, lease=self.token).exclude(
                    status=ShardStatus.DONE
                ).update(heartbeat_at=timezone.now())
        except Exception:  # the lease lapses; another job takes the shard over
            logger.exception("the heartbeat of a scan shard stopped")
        finally:
            connection.close()


class _ShardProgress:
    """A shard's progress on its row, and the whole scan's (every shard's sum) on the scan."""

    def __init__(
        self, actor: Any, scan: Scan, shard: ScanShard, token: str, steps: ServerScanSteps
    ) -> None:
        self.steps = steps
        self.actor = actor
        self.scan = scan
        self.shard = shard
        self.token = token
        self.files = 0
        self.bytes = 0
        self.written = 0.0

    def start(self, total_files: int, total_bytes: int, done_files: int, done_bytes: int) -> None:
        self._write(force=True)

    def advance(self, files: int, nbytes: int) -> None:
        self.files += files
        self.bytes += nbytes
        self._write(force=False)

    def _write(self, *, force: bool) -> None:
        now = time.monotonic()
        if not force and now - self.written < PROGRESS_SECONDS:
            return
        self.written = now
        ScanShard.objects.filter(pk=self.shard.pk, lease=self.token).update(
            done_files=self.files, done_bytes=self.bytes
        )
        write_fanout_progress(self.actor, self.scan, self.steps)


def write_fanout_progress(actor: Any, scan: Scan, steps: ServerScanSteps) -> None:
    """The scan page's progress of a fanned-out scan: files and bytes of every shard (the
    system's shard jobs write it)."""
    check_system(actor)
    totals = ScanShard.objects.filter(scan=scan, number__gt=MERGE).aggregate(
        total_files=Sum("files"),
        total_bytes=Sum("bytes"),
        done_files=Sum("done_files"),
        done_bytes=Sum("done_bytes"),
    )
    progress = {key: float(value or 0) for key, value in totals.items()}
    progress["seconds"] = round((timezone.now() - scan.created_at).total_seconds(), 1)
    steps.progress(actor, scan.pk, progress)


def _run_shard(
    actor: Any, scan: Scan, shard: ScanShard, lease: _Lease, steps: ServerScanSteps
) -> None:
    store = file_store()
    header = store.local_path(_header_name(scan.pk))
    out = scans_dir() / f"shard-{scan.pk}-{shard.number}-{lease.token}.part"
    name = f"{_folder(scan.pk)}/shard-{shard.number}-{lease.token}.scan"
    try:
        scan_shard(
            header,
            [unit_from_json(u) for u in shard.units],
            out,
            progress=_ShardProgress(actor, scan, shard, lease.token, steps),
        )
        if not _holds(shard, lease):  # taken over while this job was silent
            return
        store.put_file(name, out)
    finally:
        out.unlink(missing_ok=True)
    finished = ScanShard.objects.filter(
        pk=shard.pk, lease=lease.token, status=ShardStatus.RUNNING
    ).update(
        status=ShardStatus.DONE,
        part_name=name,
        done_files=shard.files,
        done_bytes=shard.bytes,
        heartbeat_at=timezone.now(),
    )
    if not finished:  # taken over while this job was silent: the other job's part counts
        store.delete(name)
        return
    if not Scan.objects.filter(pk=scan.pk, status=ScanStatus.QUEUED).exists():
        # The scan failed (another job's shard) while this one ran: nothing will merge the part.
        # The failing job removes the parts after recording the failure, and this job checks
        # after storing its part, so one of the two sees it.
        _forget_parts(scan.pk)
        return
    write_fanout_progress(actor, scan, steps)


def _holds(shard: ScanShard, lease: _Lease) -> bool:
    return ScanShard.objects.filter(
        pk=shard.pk, lease=lease.token, status=ShardStatus.RUNNING
    ).exists()


class _MergeLostError(RuntimeError):
    pass


def _merge(actor: Any, scan: Scan, lease: _Lease, steps: ServerScanSteps) -> None:
    store = file_store()
    shards = list(ScanShard.objects.filter(scan=scan, number__gt=MERGE).order_by("number"))
    parts = [
        (
            store.local_path(shard.part_name),
            f"processed by {shard.worker} (attempt {shard.attempts})",
        )
        for shard in shards
    ]
    out = scans_dir() / f"server-{scan.pk}-{uuid.uuid4().hex}.part"

    def still_mine() -> None:
        if not ScanShard.objects.filter(
            scan=scan, number=MERGE, lease=lease.token, status=ShardStatus.RUNNING
        ).update(status=ShardStatus.DONE, heartbeat_at=timezone.now()):
            raise _MergeLostError("another job took the merge over")

    header = store.local_path(_header_name(scan.pk))
    try:
        merge_shards(header, parts, out)
        steps.import_file(actor, scan, out, also=still_mine)
    except _MergeLostError:
        return
    finally:
        out.unlink(missing_ok=True)
    _forget_parts(scan.pk)
    for path in [header, *(part for part, _about in parts)]:
        path.unlink(missing_ok=True)  # copies fetched from a bucket (on disk: removed already)


def _forget_parts(scan_id: int) -> None:
    """Remove the header and the parts from the file store (the merged file is kept)."""
    store = file_store()
    for name in list(store.names(_folder(scan_id))):
        store.delete(name)


__all__ = ["ServerScanSteps", "fan_out", "work_on_shards", "write_fanout_progress"]
