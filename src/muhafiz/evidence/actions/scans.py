"""Scan files: an uploaded one stored and imported, a server scan queued and run by the system,
the analysis job after either (server banks, cross-case links); the stored files read back
(`check_scan_file`, `open_scan`, `scan_statistics`)."""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, override
from django_tasks import task

from muhafiz.audit.actions import record
from muhafiz.banks.index.pdq import MIN_PDQ_QUALITY
from muhafiz.cases.models import Case
from muhafiz.core.datadir import FILE_MODE
from muhafiz.core.jobs import enqueue_on_commit
from muhafiz.core.limits import check_lengths
from muhafiz.core.permissions import (
    SYSTEM,
    Perm,
    check_perm,
    check_system,
)
from muhafiz.core.storage import StoredFileMissingError, file_store
from muhafiz.core.words import phrase, value_in_words
from muhafiz.evidence import hooks
from muhafiz.evidence.actions._common import (
    BATCH,
    CHUNK,
    SCANS_FOLDER,
    ScanImportError,
    UploadTooLargeError,
    _check_open,
    _user_or_none,
    _within,
    scan_roots,
    scans_dir,
    sha256_of,
)
from muhafiz.evidence.models import (
    AnalysisStatus,
    EvidenceItem,
    MediaFile,
    Scan,
    ScanIssue,
    ScanMatch,
    ScanOrigin,
    ScanStatus,
)
from muhafiz.evidence.reasons import reason_words, stored_reason
from muhafiz.triage.scanfile import ScanFileError, open_readonly, verify_seconds

logger = logging.getLogger(__name__)

# --- scans: storing and reading scan files ------------------------------------------------------


def _max_upload() -> int:
    return int(settings.MUHAFIZ_MAX_UPLOAD_BYTES)


def _store_upload(upload: UploadedFile[Any]) -> tuple[Path, str, int]:
    """Copy an uploaded scan file under DATA_DIR, refusing it past the size limit."""
    limit = _max_upload()
    if upload.size is not None and upload.size > limit:
        raise UploadTooLargeError(_too_large(limit))
    temp = scans_dir() / f"incoming-{uuid.uuid4().hex}.part"
    digest = hashlib.sha256()
    size = 0
    try:
        # Owner-only from the first byte, whatever the process umask.
        with os.fdopen(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE), "wb") as out:
            for chunk in upload.chunks(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise UploadTooLargeError(_too_large(limit))
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp, digest.hexdigest(), size


def _too_large(limit: int) -> str:
    return _("The scan file is larger than the upload limit of %(mb)s MB.") % {
        "mb": f"{limit / (1024 * 1024):.1f}"
    }


def check_scan_file(path: Path) -> dict[str, str]:
    """The scan file's meta table, after the triage reader has checked it as a file anyone may
    have made (schema exactly the scan file's, no views or triggers, `integrity_check`, every
    value's type and size; see `muhafiz.triage.scanfile.open_readonly`). Runs before any
    transaction opens, in bounded time; a file it refuses raises ScanImportError with the
    reader's reason."""
    try:
        with closing(open_readonly(path, verify=True, immutable=True)) as conn:
            return {row["key"]: row["value"] for row in conn.execute("SELECT key, value FROM meta")}
    except ScanFileError as exc:
        raise _refused(exc, path) from exc


def _refused(exc: Exception, path: Path) -> ScanImportError:
    """The reader's refusal in the active language, without the (temporary) file's path."""
    reason = stored_reason(exc) if isinstance(exc, ScanFileError) else {}
    why = reason_words(reason, _english(exc, path))
    words = phrase(gettext_noop("This scan file cannot be imported: %(why)s"), why=why)
    return ScanImportError(str(value_in_words(words)), words=words)


def _english(exc: Exception, path: Path | str) -> str:
    """The reader's English reason without the file's path (a temporary or stored file's)."""
    return str(exc).replace(str(path), "").lstrip(": ") if str(path) else str(exc)


def stored_file(scan: Scan) -> Path:
    """The scan file on the local disk: in the data directory, or a private copy fetched from
    the bucket (`core.storage`); ScanImportError when the store has lost it."""
    try:
        if not scan.stored_path:  # a server scan that has not finished
            raise StoredFileMissingError("", "")
        return file_store().local_path(scan.stored_path)
    except StoredFileMissingError as exc:
        raise ScanImportError(_("The stored scan file is missing.")) from exc


def open_scan(scan: Scan) -> sqlite3.Connection:
    """Open a stored scan file read-only after re-verifying its SHA-256 (and its schema); every
    statement on it together may take at most `verify_seconds` of the file."""
    path = stored_file(scan)
    if sha256_of(path) != scan.file_sha256:
        raise ScanImportError(
            _("The stored scan file has changed since it was imported (SHA-256 differs).")
        )
    try:
        return open_readonly(path, immutable=True, seconds=verify_seconds(path))
    except ScanFileError as exc:
        words = reason_words(stored_reason(exc), _english(exc, path))
        raise ScanImportError(str(value_in_words(words)), words=words) from exc


def _keep(temp: Path, sha256: str) -> str:
    """Move a checked scan file into the file store under its content-addressed name; returns
    the name (for files on disk, the path under DATA_DIR, as before the store existed)."""
    store = file_store()
    name = f"{SCANS_FOLDER}/{sha256}.scan"
    if store.exists(name) and _stored_sha256(name) == sha256:
        temp.unlink(missing_ok=True)  # the same file was imported before
    else:
        store.put_file(name, temp)
    return name


def _stored_sha256(name: str) -> str:
    digest = hashlib.sha256()
    for chunk in file_store().stream(name):
        digest.update(chunk)
    return digest.hexdigest()


# --- scans: import ------------------------------------------------------------------------------


def import_uploaded_scan(
    actor: Any,
    case: Case,
    upload: UploadedFile[Any],
    *,
    item: EvidenceItem | None = None,
    request: HttpRequest | None = None,
) -> Scan:
    """Import a scan file from a field laptop: all of it, or nothing with a clear reason."""
    check_perm(actor, Perm.EVIDENCE_EDIT, case)
    _check_open(case)
    _check_item(case, item)
    temp, sha256, size = _store_upload(upload)
    try:
        meta = check_scan_file(temp)
        stored = _keep(temp, sha256)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    scan = Scan(
        case=case,
        item=item,
        origin=ScanOrigin.UPLOAD,
        status=ScanStatus.QUEUED,
        original_name=(upload.name or "scan")[:255],
        stored_path=stored,
        file_sha256=sha256,
        file_size=size,
        created_by=_user_or_none(actor),
    )
    try:
        with transaction.atomic():
            scan.save(force_insert=True)
            _import_rows(scan, meta)
            record(
                actor,
                "evidence.scan.import",
                scan,
                request=request,
                case=case.reference,
                sha256=sha256,
                size=size,
                files=scan.statistics.get("files", 0),
                matched=scan.statistics.get("matched_files", 0),
            )
    except BaseException:
        _forget_unused(stored)
        raise
    return scan


def _forget_unused(stored: str) -> None:
    """Remove a stored scan file that no scan refers to (its import was rolled back)."""
    if not Scan.objects.filter(stored_path=stored).exists():
        file_store().delete(stored)


def _check_item(case: Case, item: EvidenceItem | None) -> None:
    if item is not None and item.case_id != case.pk:
        raise ValidationError({"item": _("The item belongs to another case.")})


def _import_rows(scan: Scan, meta: dict[str, str]) -> None:
    """Read the scan file into the scan's rows and queue the analysis (matching against the
    server's banks, cross-case links) for when the transaction commits: an upload returns as soon
    as the rows are recorded, however large the banks and the case database are."""
    scan.tool_version = meta.get("tool_version", "")[:40]
    scan.scan_state = meta.get("status", "")[:20]
    scan.examiner = meta.get("examiner", "")[:200]
    scan.started_at = meta.get("started_at", "")[:40]
    scan.finished_at = meta.get("finished_at", "")[:40]
    # The file was checked before the transaction began (`check_scan_file`): what is read here
    # are plain tables of checked values, within the file's time budget.
    path = stored_file(scan)
    with closing(open_scan(scan)) as conn:
        try:
            matches = _read_matches(conn)
            _copy_files(scan, conn, matches)
            ScanIssue.objects.bulk_create(
                (
                    ScanIssue(
                        scan=scan,
                        path=row["path"],
                        code=row["code"][:40],
                        severity=row["severity"][:10],
                        message=row["message"],
                    )
                    for row in conn.execute("SELECT * FROM errors ORDER BY source_id, path, code")
                ),
                batch_size=BATCH,
            )
        except sqlite3.Error as exc:
            if "interrupt" in str(exc):
                raise ScanImportError(
                    _("Reading the scan file took longer than its size allows.")
                ) from exc
            raise _refused(exc, path) from exc
    scan.statistics = scan_statistics(scan)
    scan.status = ScanStatus.IMPORTED
    scan.imported_at = timezone.now()
    scan.analysis_status = AnalysisStatus.PENDING
    scan.save(
        update_fields=[
            "tool_version",
            "scan_state",
            "examiner",
            "started_at",
            "finished_at",
            "statistics",
            "status",
            "imported_at",
            "analysis_status",
        ]
    )
    enqueue_on_commit(analyse_scan, scan.pk)


# --- scans: analysis (a job after the import) ---------------------------------------------------


def perform_scan_analysis(actor: Any, scan_id: int) -> Scan:
    """Match an imported scan's files against the server's banks and link them to other cases
    (the job's body; the system runs it). Running it again does no harm: matches and links are
    recorded once, so a retry after a failure or a killed worker finishes the work."""
    from muhafiz.evidence.links import detect_media_links

    check_system(actor)
    with transaction.atomic():
        scan = Scan.objects.select_for_update().select_related("case").get(pk=scan_id)
        if scan.status != ScanStatus.IMPORTED or scan.analysis_status == AnalysisStatus.DONE:
            return scan
        scan.analysis_status = AnalysisStatus.RUNNING
        scan.save(update_fields=["analysis_status"])
    try:
        with transaction.atomic():
            _match_server_banks(scan)
            links = detect_media_links(scan)
            scan.statistics = scan_statistics(scan)
            scan.analysis_status = AnalysisStatus.DONE
            scan.analysis_failure = ""
            scan.analysed_at = timezone.now()
            scan.save(
                update_fields=["statistics", "analysis_status", "analysis_failure", "analysed_at"]
            )
            record(
                actor,
                "evidence.scan.analyse",
                scan,
                case=scan.case.reference,
                matched=scan.statistics.get("matched_files", 0),
                links=len(links),
            )
            hooks.scan_analysed.send_on_commit(scan.case_id, scan.pk)
    except Exception as exc:
        with transaction.atomic():
            scan.analysis_status = AnalysisStatus.FAILED
            scan.analysis_failure = f"{type(exc).__name__}: {exc}"[:2000]
            scan.analysis_failure_words = _analysis_failure_words(exc)
            scan.save(
                update_fields=["analysis_status", "analysis_failure", "analysis_failure_words"]
            )
        raise  # the job fails too, with its traceback; an administrator retries it
    _extend_media_index()
    return scan


def _analysis_failure_words(exc: Exception) -> dict[str, Any]:
    """Why the analysis failed, as words the scan page says in its reader's language: a scan
    file's refusal as it was said, anything else with its type and text as they are."""
    if isinstance(exc, ScanImportError):
        return exc.words or phrase(exc.messages[0])
    return phrase(
        gettext_noop("The analysis stopped with an error: %(error)s"),
        error=f"{type(exc).__name__}: {exc}"[:2000],
    )


def _extend_media_index() -> None:
    """Add the committed rows to the standing cross-case index; a failure only makes the next
    linking read more rows from the database (the index is never the truth)."""
    from muhafiz.evidence import media_index

    try:
        media_index.extend_media_index()
    except OSError:
        logger.exception("the cross-case media index could not be extended")


@task()
def analyse_scan(scan_id: int) -> dict[str, str | int]:
    """The job (`evidence.tasks`): the system matches and links an imported scan."""
    scan = perform_scan_analysis(SYSTEM, scan_id)
    return {"scan": scan.pk, "analysis": scan.analysis_status}


def _read_matches(conn: sqlite3.Connection) -> dict[tuple[int, str], list[dict[str, Any]]]:
    found: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for row in conn.execute("SELECT * FROM matches ORDER BY source_id, path, bank, kind"):
        found.setdefault((row["source_id"], row["path"]), []).append(dict(row))
    return found


def _column(row: sqlite3.Row, name: str, default: Any) -> Any:
    # Columns added to the scan file after version 1 shipped (triage.scanfile.ADDED_COLUMNS):
    # a scan file written before them has none.
    return row[name] if name in row.keys() else default  # noqa: SIM118 - sqlite3.Row


def _exif(row: sqlite3.Row) -> dict[str, Any]:
    keys = ("exif_make", "exif_model", "exif_software", "exif_datetime", "exif_offset")
    summary = {k.removeprefix("exif_"): row[k] for k in keys if row[k]}
    if row["gps_lat"] is not None and row["gps_lon"] is not None:
        summary["gps"] = [row["gps_lat"], row["gps_lon"]]
    return summary


def _copy_files(
    scan: Scan, conn: sqlite3.Connection, matches: dict[tuple[int, str], list[dict[str, Any]]]
) -> None:
    for rows in _chunks(conn.execute("SELECT * FROM files ORDER BY source_id, path"), BATCH):
        media = [
            MediaFile(
                scan=scan,
                case_id=scan.case_id,
                source_id=row["source_id"],
                path=row["path"],
                size=row["size"],
                mime=(row["mime"] or "")[:100],
                md5=row["md5"] or "",
                sha1=row["sha1"] or "",
                sha256=row["sha256"] or "",
                pdq=row["pdq"] or "",
                pdq_quality=row["pdq_quality"],
                width=row["width"],
                height=row["height"],
                exif=_exif(row),
                known_good=bool(row["known_good"]),
                ext_mismatch=bool(row["ext_mismatch"]),
                deleted=bool(_column(row, "deleted", 0)),
                carved_offset=_column(row, "carved_offset", None),
                device_path=_column(row, "device_path", None) or "",
                matched=any(
                    m["bank_kind"] != "known-good"
                    for m in matches.get((row["source_id"], row["path"]), [])
                ),
            )
            for row in rows
        ]
        MediaFile.objects.bulk_create(media, batch_size=BATCH)
        by_key = {
            (m.source_id, m.path): m
            for m in MediaFile.objects.filter(
                scan=scan,
                source_id__in={m.source_id for m in media},
                path__in=[m.path for m in media],
            )
        }
        ScanMatch.objects.bulk_create(
            (
                ScanMatch(
                    media=by_key[key],
                    bank=str(m["bank"])[:200],
                    bank_kind=str(m["bank_kind"])[:20],
                    kind=str(m["kind"])[:10],
                    distance=int(m["distance"]),
                    category=m["category"],
                    series=(m["series"] or "")[:200],
                    frame_times=m.get("frame_times") or "",
                    query_percent=m.get("query_percent"),
                    compared_percent=m.get("compared_percent"),
                )
                for key in by_key
                for m in matches.get(key, [])
            ),
            batch_size=BATCH,
        )


def _chunks(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _match_server_banks(scan: Scan) -> None:
    """Match the scan's hashes against the server's banks too (they may know more than the
    laptop did); a hit is stored like the scan file's own, once per bank and hash kind."""
    from muhafiz.banks.model import HashKind
    from muhafiz.hashbank.matching import HashQuery, match_hashes

    media = list(
        MediaFile.objects.filter(scan=scan, size__gt=0).only(
            "pk", "md5", "sha1", "sha256", "pdq", "pdq_quality"
        )
    )
    for batch in _chunks(media, 500):
        queries: list[HashQuery] = []
        owners: list[MediaFile] = []
        for m in batch:
            for kind, value in (
                (HashKind.MD5, m.md5),
                (HashKind.SHA1, m.sha1),
                (HashKind.SHA256, m.sha256),
                (HashKind.PDQ, m.pdq if (m.pdq_quality or 0) >= MIN_PDQ_QUALITY else ""),
            ):
                if value:
                    queries.append(HashQuery(kind, value))
                    owners.append(m)
        if not queries:
            continue
        outcome = match_hashes(queries)
        existing = set(
            ScanMatch.objects.filter(media__in=batch).values_list("media_id", "bank", "kind")
        )
        new: list[ScanMatch] = []
        hit: set[int] = set()
        for owner, found in zip(owners, outcome.results, strict=True):
            for match in found:
                key = (owner.pk, match.entry.bank.name, match.kind.value)
                if key in existing:
                    continue
                existing.add(key)
                new.append(
                    ScanMatch(
                        media=owner,
                        bank=match.entry.bank.name[:200],
                        bank_kind=match.entry.bank.kind,
                        kind=match.kind.value,
                        distance=match.distance,
                        category=match.entry.category,
                        series=match.entry.series[:200],
                    )
                )
                if match.entry.bank.kind != "known-good":
                    hit.add(owner.pk)
        ScanMatch.objects.bulk_create(new, batch_size=BATCH)
        if hit:
            MediaFile.objects.filter(pk__in=hit).update(matched=True)


def scan_statistics(scan: Scan) -> dict[str, Any]:
    """Counts by type, matches by bank and kind, errors by code: what the scan page shows."""
    media = MediaFile.objects.filter(scan=scan)
    by_type: Counter[str] = Counter()
    total_bytes = 0
    for mime, size in media.values_list("mime", "size").iterator():
        by_type[mime or "unknown"] += 1
        total_bytes += size or 0
    by_bank: Counter[tuple[str, str, str]] = Counter()
    for bank, bank_kind, kind in ScanMatch.objects.filter(media__scan=scan).values_list(
        "bank", "bank_kind", "kind"
    ):
        by_bank[(bank, bank_kind, kind)] += 1
    errors: Counter[tuple[str, str]] = Counter(
        ScanIssue.objects.filter(scan=scan).values_list("severity", "code")
    )
    return {
        "files": media.count(),
        "bytes": total_bytes,
        "matched_files": media.filter(matched=True).count(),
        "known_good_files": media.filter(known_good=True).count(),
        "images": media.filter(mime__startswith="image/").count(),
        "by_type": [
            {"mime": k, "files": v} for k, v in sorted(by_type.items(), key=lambda i: (-i[1], i[0]))
        ],
        "matches": [
            {"bank": b, "bank_kind": bk, "kind": k, "count": n}
            for (b, bk, k), n in sorted(by_bank.items())
        ],
        "errors": [{"severity": s, "code": c, "count": n} for (s, c), n in sorted(errors.items())],
    }


# --- scans on the server ------------------------------------------------------------------------


def check_source_path(raw: str) -> Path:
    """A source path the server may scan: an existing path inside a configured scan root."""
    raw = (raw or "").strip()
    if not raw:
        raise ValidationError({"source_path": _("Give the path of the source on the server.")})
    check_lengths(Scan, {"source_path": raw})
    if "\x00" in raw:
        # No file system has such a name; the operating system would refuse it (ValueError).
        raise ValidationError({"source_path": _("A path cannot hold a NUL character.")})
    path = Path(raw)
    if not path.is_absolute():
        raise ValidationError({"source_path": _("Give an absolute path.")})
    resolved = path.resolve()
    roots = scan_roots()
    if not _within(resolved, roots):
        raise ValidationError(
            {
                "source_path": _(
                    "The server scans only inside its scan folders: %(folders)s. Copy the "
                    "source there, or ask the administrator to add its folder to "
                    "MUHAFIZ_SCAN_ROOTS."
                )
                % {"folders": ", ".join(str(root) for root in roots)}
            }
        )
    if not resolved.exists():
        raise ValidationError({"source_path": _("There is nothing at this path.")})
    check_lengths(Scan, {"source_path": str(resolved)})  # a link may lead somewhere longer
    return resolved


def queue_server_scan(
    actor: Any,
    case: Case,
    source_path: str,
    *,
    item: EvidenceItem | None = None,
    request: HttpRequest | None = None,
) -> Scan:
    """Queue a scan of a source on the server; the job imports its scan file when done."""
    check_perm(actor, Perm.SCAN_RUN, case)
    check_perm(actor, Perm.EVIDENCE_EDIT, case)
    _check_open(case)
    _check_item(case, item)
    source = check_source_path(source_path)
    with transaction.atomic():
        scan = Scan.objects.create(
            case=case,
            item=item,
            origin=ScanOrigin.SERVER,
            status=ScanStatus.QUEUED,
            source_path=str(source),
            original_name=source.name[:255],
            created_by=_user_or_none(actor),
        )
        record(actor, "evidence.scan.queue", scan, request=request, case=case.reference)
        enqueue_on_commit(run_server_scan, scan.pk)
    return scan


# A running scan writes its progress at most this often (the scan page polls every 5 s).
PROGRESS_SECONDS = 1.0


def record_scan_progress(actor: Any, scan_id: int, progress: dict[str, float]) -> None:
    """The system notes how far a running server scan has got (files and bytes done of all,
    seconds since it started), for the scan page. Bookkeeping of the job, not evidence: the
    scan's start and its import are what the audit log records."""
    check_system(actor)
    Scan.objects.filter(pk=scan_id, status=ScanStatus.QUEUED).update(
        scan_state="running", statistics={"progress": progress}
    )


class _ProgressOnScan:
    """The triage engine's progress, written on the scan row now and then."""

    def __init__(self, actor: Any, scan_id: int) -> None:
        self.actor = actor
        self.scan_id = scan_id
        self.began = time.monotonic()
        self.written = 0.0
        self.counts = {"total_files": 0, "total_bytes": 0, "done_files": 0, "done_bytes": 0}

    def start(self, total_files: int, total_bytes: int, done_files: int, done_bytes: int) -> None:
        self.counts = {
            "total_files": total_files,
            "total_bytes": total_bytes,
            "done_files": done_files,
            "done_bytes": done_bytes,
        }
        self._write(force=True)

    def advance(self, files: int, nbytes: int) -> None:
        self.counts["done_files"] += files
        self.counts["done_bytes"] += nbytes
        self._write(force=False)

    def _write(self, *, force: bool) -> None:
        now = time.monotonic()
        if not force and now - self.written < PROGRESS_SECONDS:
            return
        self.written = now
        record_scan_progress(
            self.actor, self.scan_id, {**self.counts, "seconds": round(now - self.began, 1)}
        )


def perform_server_scan(actor: Any, scan_id: int) -> Scan:
    """Run the triage engine on the scan's source and import the result (the job's body). A
    large folder is fanned out into shard jobs instead (`actions.shards`), which import the
    merged scan file when the last shard is done.

    The system runs it (`SYSTEM`), for a scan someone with SCAN_RUN queued.
    """
    from muhafiz.evidence.actions.shards import fan_out
    from muhafiz.triage.engine import ScanOptions, start_scan

    check_system(actor)
    scan = Scan.objects.select_related("case").get(pk=scan_id)
    if scan.status != ScanStatus.QUEUED:
        return scan
    out = scans_dir() / f"server-{scan.pk}-{uuid.uuid4().hex}.part"
    try:
        source = check_source_path(scan.source_path)
        options = ScanOptions(
            sources=[source],
            out=out,
            case_ref=scan.case.reference,
            examiner=str(scan.created_by) if scan.created_by_id else "server",
        )
        if fan_out(actor, scan, options, _server_scan_steps()):
            scan.refresh_from_db()
            return scan
        start_scan(options, progress=_ProgressOnScan(actor, scan.pk))
        import_server_scan(actor, scan, out)
    except Exception as exc:
        out.unlink(missing_ok=True)
        fail_server_scan(actor, scan, exc)
    return scan


def _server_scan_steps() -> Any:
    from muhafiz.evidence.actions.shards import ServerScanSteps

    return ServerScanSteps(
        import_file=import_server_scan,
        fail=fail_server_scan,
        progress=record_scan_progress,
        queue_shard_job=lambda scan_id: enqueue_on_commit(run_scan_shards, scan_id),
    )


def import_server_scan(actor: Any, scan: Scan, out: Path, *, also: Any = None) -> None:
    """Keep a finished server scan file and import its rows, audited; `also` runs inside the
    same transaction (a fanned-out scan checks there that it still holds its merge). Only the
    system does this, in a scan job."""
    check_system(actor)
    meta = check_scan_file(out)
    sha256 = sha256_of(out)
    size = out.stat().st_size
    stored = _keep(out, sha256)
    with transaction.atomic():
        if also is not None:
            also()
        scan.stored_path, scan.file_sha256, scan.file_size = stored, sha256, size
        scan.save(update_fields=["stored_path", "file_sha256", "file_size"])
        _import_rows(scan, meta)
        record(
            actor,
            "evidence.scan.import",
            scan,
            case=scan.case.reference,
            sha256=sha256,
            size=size,
            files=scan.statistics.get("files", 0),
            matched=scan.statistics.get("matched_files", 0),
        )


def fail_server_scan(actor: Any, scan: Scan, exc: Exception) -> None:
    """Record why a server scan could not run (the scan page shows it), audited; the system's
    scan job does this."""
    check_system(actor)
    message = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
    words: dict[str, Any] = {}
    if isinstance(exc, ScanImportError):
        words = exc.words or phrase(message)
    elif isinstance(exc, ScanFileError) and exc.code:
        words = reason_words(stored_reason(exc), _english(exc, exc.path))
    if words:  # kept in English whatever language the job speaks; the page says the words
        with override("en"):
            message = str(value_in_words(words))
    with transaction.atomic():
        scan.status = ScanStatus.FAILED
        scan.failure = message[:2000]
        scan.failure_words = words
        scan.save(update_fields=["status", "failure", "failure_words"])
        record(actor, "evidence.scan.fail", scan, case=scan.case.reference)


@task(queue_name="scans")
def run_server_scan(scan_id: int) -> dict[str, str | int]:
    """The job (`evidence.tasks`): the system runs a queued server scan and imports its scan file.

    Defined beside its body so that queueing it imports nothing above the actions."""
    scan = perform_server_scan(SYSTEM, scan_id)
    return {"scan": scan.pk, "status": scan.status, "failure": scan.failure[:200]}


def perform_scan_shards(actor: Any, scan_id: int) -> Scan:
    """The shard job's body: the system works on a fanned-out scan's shards (`actions.shards`)."""
    from muhafiz.evidence.actions.shards import work_on_shards

    check_system(actor)
    work_on_shards(actor, scan_id, _server_scan_steps())
    return Scan.objects.get(pk=scan_id)


@task(queue_name="scans")
def run_scan_shards(scan_id: int) -> dict[str, str | int]:
    """The job (`evidence.tasks`): the system works on a fanned-out server scan's shards, any
    worker on any machine; the last to finish merges and imports the scan file."""
    scan = perform_scan_shards(SYSTEM, scan_id)
    return {"scan": scan.pk, "status": scan.status}
