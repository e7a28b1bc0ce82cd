"""Every write to the evidence tables: items and their custody, scan imports and server scans,
categories, reveals and adding confirmed material to a bank. Each checks the actor's right on the
case, runs in one transaction and writes its audit record in it."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import os
import sqlite3
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from muhafiz.audit.actions import record, record_read
from muhafiz.banks.index.pdq import MIN_PDQ_QUALITY
from muhafiz.cases.actions import refuse_victim_identity
from muhafiz.cases.models import Case
from muhafiz.core.datadir import FILE_MODE, secure_directory, secure_file
from muhafiz.core.jobs import enqueue_on_commit
from muhafiz.core.permissions import (
    Perm,
    check_perm,
    check_system,
    has_perm,
    oversees,
    same_principal,
    user_pk,
)
from muhafiz.evidence.models import (
    CustodyEvent,
    EvidenceItem,
    EvidenceKind,
    MediaFile,
    Scan,
    ScanIssue,
    ScanMatch,
    ScanOrigin,
    ScanStatus,
)
from muhafiz.triage.scanfile import ScanFileError, open_readonly, verify_seconds

CHUNK = 1 << 20
BATCH = 1000
PREVIEW_SIDE = 320


class ScanImportError(ValidationError):
    """A scan file cannot be imported; the message says why. Nothing was saved."""


class UploadTooLargeError(ScanImportError):
    """The upload is past `MUHAFIZ_MAX_UPLOAD_BYTES`."""


# --- helpers ------------------------------------------------------------------------------------


def _user_or_none(actor: Any) -> Any:
    from muhafiz.accounts.models import User

    return actor if isinstance(actor, User) else None


def _check_open(case: Case) -> None:
    if not case.is_open:
        raise ValidationError(_("The case is closed; reopen it to change its evidence."))


def _text(value: str, field: str, limit: int, *, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: _("This is required.")})
    if len(value) > limit:
        raise ValidationError({field: _("Keep it under %(n)d characters.") % {"n": limit}})
    return value


def _not_future(moment: dt.datetime, field: str) -> None:
    if moment > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({field: _("This time is in the future.")})


def scans_dir() -> Path:
    return secure_directory(Path(settings.DATA_DIR) / "evidence" / "scans")


def scan_roots() -> list[Path]:
    """Where server scans may read: `MUHAFIZ_SCAN_ROOTS`, else DATA_DIR/sources."""
    roots = getattr(settings, "MUHAFIZ_SCAN_ROOTS", [Path(settings.DATA_DIR) / "sources"])
    return [Path(r).resolve() for r in roots]


def _within(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- items and custody --------------------------------------------------------------------------


@dataclass
class ItemDetails:
    kind: str
    seized_at: dt.datetime
    seized_place: str
    seized_by: Any
    description: str = ""
    make_model: str = ""
    serial_number: str = ""
    seal_number: str = ""


def create_item(
    actor: Any, case: Case, details: ItemDetails, *, request: HttpRequest | None = None
) -> EvidenceItem:
    """Record a seized item (E1, E2, … in the case); its seizure is the first custody entry."""
    check_perm(actor, Perm.EVIDENCE_EDIT, case)
    _check_open(case)
    if details.kind not in EvidenceKind.values:
        raise ValidationError({"kind": _("Unknown kind of evidence.")})
    fields = {
        "description": _text(details.description, "description", 500),
        "make_model": _text(details.make_model, "make_model", 200),
        "serial_number": _text(details.serial_number, "serial_number", 100),
        "seal_number": _text(details.seal_number, "seal_number", 100),
        "seized_place": _text(details.seized_place, "seized_place", 300, required=True),
    }
    refuse_victim_identity(
        case,
        description=fields["description"],
        make_model=fields["make_model"],
        seized_place=fields["seized_place"],
    )
    if details.seized_by is None or not getattr(details.seized_by, "is_active", False):
        raise ValidationError({"seized_by": _("Name the officer who seized it.")})
    _not_future(details.seized_at, "seized_at")
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=case.pk).first()
        count = EvidenceItem.objects.filter(case=case).count()
        item = EvidenceItem.objects.create(
            case=case,
            label=f"E{count + 1}",
            kind=details.kind,
            seized_at=details.seized_at,
            seized_by=details.seized_by,
            holder=details.seized_by,
            created_by=_user_or_none(actor),
            **fields,
        )
        CustodyEvent.objects.create(
            item=item,
            seq=1,
            from_user=None,
            to_user=details.seized_by,
            at=details.seized_at,
            purpose="seizure",
            seal_intact=bool(fields["seal_number"]),
            recorded_by=_user_or_none(actor),
        )
        record(
            actor,
            "evidence.item.create",
            item,
            request=request,
            case=case.reference,
            kind=item.kind,
            seized_by=details.seized_by.pk,
        )
    return item


def may_hold(person: Any, case: Case) -> bool:
    """The custody rule: a staff member whose role may hold seized items (EVIDENCE_CUSTODY) and
    whose jurisdiction covers the case may receive its items."""
    return user_pk(person) is not None and has_perm(person, Perm.EVIDENCE_CUSTODY, case)


def may_record_handover(actor: Any, item: EvidenceItem) -> bool:
    """The holder of the item records handing it on; a supervisor overseeing the case may record
    a hand-over for them. Nobody else records hand-overs between other people."""
    if user_pk(actor) is not None and user_pk(actor) == item.holder_id:
        return may_hold(actor, item.case)
    return oversees(actor, item.case) and has_perm(actor, Perm.EVIDENCE_EDIT, item.case)


RECIPIENT_REFUSED = _lazy("This person cannot receive this item.")


def record_handover(
    actor: Any,
    item: EvidenceItem,
    *,
    from_user: Any,
    to_user: Any,
    at: dt.datetime,
    purpose: str,
    seal_intact: bool,
    note: str = "",
    request: HttpRequest | None = None,
) -> CustodyEvent:
    """Append one hand-over to the item's chain of custody; impossible sequences are refused.

    Recorded by the holder (or a supervisor overseeing the case), to someone who may hold the
    item (`may_hold`). A refused recipient gets the same answer whoever they are.
    """
    if not may_record_handover(actor, item):
        raise PermissionDenied("custody.handover")
    purpose = _text(purpose, "purpose", 300, required=True)
    note = _text(note, "note", 500)
    refuse_victim_identity(item.case, purpose=purpose, note=note)
    _not_future(at, "at")
    if to_user is None or not may_hold(to_user, item.case):
        raise ValidationError({"to_user": str(RECIPIENT_REFUSED)})
    if from_user is not None and same_principal(to_user, from_user):
        raise ValidationError({"to_user": _("An item cannot be handed to the person who has it.")})
    with transaction.atomic():
        locked = EvidenceItem.objects.select_for_update().get(pk=item.pk)
        last = CustodyEvent.objects.filter(item=locked).order_by("-seq").first()
        if at < locked.seized_at:
            raise ValidationError({"at": _("A hand-over cannot come before the seizure.")})
        if last is not None and at < last.at:
            raise ValidationError(
                {"at": _("A hand-over cannot come before the previous hand-over.")}
            )
        if from_user is None or user_pk(from_user) != locked.holder_id:
            raise ValidationError(
                {"from_user": _("Only the person who holds the item can hand it over.")}
            )
        if locked.holder_id != item.holder_id:  # handed on meanwhile: decide again
            item.holder_id = locked.holder_id
            if not may_record_handover(actor, item):
                raise PermissionDenied("custody.handover")
        event = CustodyEvent.objects.create(
            item=locked,
            seq=(last.seq if last else 0) + 1,
            from_user=from_user,
            to_user=to_user,
            at=at,
            purpose=purpose,
            seal_intact=seal_intact,
            note=note,
            recorded_by=_user_or_none(actor),
        )
        locked.holder = to_user
        locked.save(update_fields=["holder"])
        record(
            actor,
            "evidence.custody.handover",
            event,
            request=request,
            item=locked.pk,
            seq=event.seq,
            from_user=from_user.pk,
            to_user=to_user.pk,
            seal_intact=seal_intact,
        )
    item.holder = to_user
    return event


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
    message = str(exc).replace(str(path), "").lstrip(": ")
    return ScanImportError(_("This scan file cannot be imported: %(why)s") % {"why": message})


def stored_file(scan: Scan) -> Path:
    return Path(settings.DATA_DIR) / scan.stored_path


def open_scan(scan: Scan) -> sqlite3.Connection:
    """Open a stored scan file read-only after re-verifying its SHA-256 (and its schema); every
    statement on it together may take at most `verify_seconds` of the file."""
    path = stored_file(scan)
    if not path.is_file():
        raise ScanImportError(_("The stored scan file is missing."))
    if sha256_of(path) != scan.file_sha256:
        raise ScanImportError(
            _("The stored scan file has changed since it was imported (SHA-256 differs).")
        )
    try:
        return open_readonly(path, immutable=True, seconds=verify_seconds(path))
    except ScanFileError as exc:
        raise ScanImportError(str(exc)) from exc


def _keep(temp: Path, sha256: str) -> str:
    """Move a checked scan file to its content-addressed place; returns the DATA_DIR path."""
    final = scans_dir() / f"{sha256}.scan"
    if final.is_file() and sha256_of(final) == sha256:
        temp.unlink(missing_ok=True)  # the same file was imported before
    else:
        temp.replace(final)
    secure_file(final)
    return str(final.relative_to(Path(settings.DATA_DIR)))


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
        (Path(settings.DATA_DIR) / stored).unlink(missing_ok=True)


def _check_item(case: Case, item: EvidenceItem | None) -> None:
    if item is not None and item.case_id != case.pk:
        raise ValidationError({"item": _("The item belongs to another case.")})


def _import_rows(scan: Scan, meta: dict[str, str]) -> None:
    """Read the scan file into the scan's rows, match against the server's banks, find links."""
    from muhafiz.evidence.links import detect_media_links

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
    _match_server_banks(scan)
    scan.statistics = scan_statistics(scan)
    scan.status = ScanStatus.IMPORTED
    scan.imported_at = timezone.now()
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
        ]
    )
    detect_media_links(scan)


def _read_matches(conn: sqlite3.Connection) -> dict[tuple[int, str], list[dict[str, Any]]]:
    found: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for row in conn.execute("SELECT * FROM matches ORDER BY source_id, path, bank, kind"):
        found.setdefault((row["source_id"], row["path"]), []).append(dict(row))
    return found


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
    if "\x00" in raw:
        # No file system has such a name; the operating system would refuse it (ValueError).
        raise ValidationError({"source_path": _("A path cannot hold a NUL character.")})
    path = Path(raw)
    if not path.is_absolute():
        raise ValidationError({"source_path": _("Give an absolute path.")})
    resolved = path.resolve()
    if not _within(resolved, scan_roots()):
        raise ValidationError(
            {"source_path": _("The server scans only inside its configured scan folders.")}
        )
    if not resolved.exists():
        raise ValidationError({"source_path": _("There is nothing at this path.")})
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
    from muhafiz.evidence.tasks import run_server_scan

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


def perform_server_scan(actor: Any, scan_id: int) -> Scan:
    """Run the triage engine on the scan's source and import the result (the job's body).

    The system runs it (`SYSTEM`), for a scan someone with SCAN_RUN queued.
    """
    from muhafiz.triage.engine import ScanOptions, start_scan

    check_system(actor)
    scan = Scan.objects.select_related("case").get(pk=scan_id)
    if scan.status != ScanStatus.QUEUED:
        return scan
    out = scans_dir() / f"server-{scan.pk}-{uuid.uuid4().hex}.part"
    try:
        source = check_source_path(scan.source_path)
        start_scan(
            ScanOptions(
                sources=[source],
                out=out,
                case_ref=scan.case.reference,
                examiner=str(scan.created_by) if scan.created_by_id else "server",
            )
        )
        meta = check_scan_file(out)
        sha256 = sha256_of(out)
        size = out.stat().st_size
        stored = _keep(out, sha256)
        with transaction.atomic():
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
    except Exception as exc:
        out.unlink(missing_ok=True)
        message = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
        with transaction.atomic():
            scan.status = ScanStatus.FAILED
            scan.failure = message[:2000]
            scan.save(update_fields=["status", "failure"])
            record(actor, "evidence.scan.fail", scan, case=scan.case.reference)
    return scan


# --- categories, reveals, banks -----------------------------------------------------------------


def categorize(
    actor: Any,
    media: MediaFile,
    category: int | None,
    *,
    scheme: str = "projectvic-us",
    request: HttpRequest | None = None,
) -> MediaFile:
    """Set the examiner's category of one file (None takes it back to uncategorised)."""
    from muhafiz.hashbank.models import CategoryScheme

    check_perm(actor, Perm.EVIDENCE_EDIT, media.case)
    check_perm(actor, Perm.MEDIA_REVEAL, media.case)  # examiners of the team categorise
    found = CategoryScheme.objects.filter(code=scheme).first()
    if found is None:
        raise ValidationError({"scheme": _("Unknown category scheme.")})
    if category is not None and found.label_for(category) is None:
        raise ValidationError({"category": _("This category is not in the scheme.")})
    with transaction.atomic():
        media.category = category
        media.category_scheme = scheme if category is not None else ""
        media.categorized_by = _user_or_none(actor)
        media.categorized_at = timezone.now()
        media.save(
            update_fields=["category", "category_scheme", "categorized_by", "categorized_at"]
        )
        record(
            actor,
            "evidence.media.categorize",
            media,
            request=request,
            scan=media.scan_id,
            scheme=scheme,
            category=category,
        )
    return media


@dataclass(frozen=True)
class Preview:
    available: bool
    message: str
    data_uri: str = ""


def reveal_media(
    actor: Any, media: MediaFile, *, reason: str, request: HttpRequest | None = None
) -> Preview:
    """Reveal one file's preview to a team member with the right, audited before it is shown.

    The platform keeps no content: a preview exists only when the scan's source is still on the
    server (a server scan) and the file there still has the SHA-256 the scan recorded.
    """
    check_perm(actor, Perm.MEDIA_REVEAL, media.case)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why you need to see this file.")})
    located = _locate(media)
    record_read(
        actor,
        "evidence.media.reveal",
        media,
        reason=reason[:500],
        request=request,
        scan=media.scan_id,
        shown=located is not None,
    )
    if located is None:
        return Preview(False, _("The content is not stored on this server; only its hashes are."))
    if not media.is_image:
        return Preview(False, _("This file is not an image; no preview is made."))
    try:
        return Preview(True, "", _thumbnail(located))
    except (OSError, ValueError):
        return Preview(False, _("The file could not be read as an image."))


def _locate(media: MediaFile) -> Path | None:
    scan = media.scan
    if scan.origin != ScanOrigin.SERVER or not scan.source_path or "!/" in media.path:
        return None
    source = Path(scan.source_path)
    candidate = (source.parent / media.path) if source.is_dir() else source
    if not source.is_dir() and media.path != source.name:
        return None
    try:
        resolved = candidate.resolve()
    except (OSError, ValueError):  # ValueError: a NUL character in the recorded path
        return None
    if not _within(resolved, scan_roots()) or not resolved.is_file():
        return None
    if not media.sha256 or sha256_of(resolved) != media.sha256:
        return None
    return resolved


def _thumbnail(path: Path) -> str:
    from PIL import Image

    with Image.open(path) as image:
        image.draft("RGB", (PREVIEW_SIDE, PREVIEW_SIDE))
        image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
        out = io.BytesIO()
        image.convert("RGB").save(out, format="JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def add_to_bank(
    actor: Any,
    bank: Any,
    media: list[MediaFile],
    *,
    request: HttpRequest | None = None,
) -> Any:
    """Add categorised files of one case to a bank, through the bank's own import (audited)."""
    from muhafiz.banks.formats import get_format
    from muhafiz.banks.model import HashEntry
    from muhafiz.hashbank.actions import import_hash_list

    check_perm(actor, Perm.BANK_MANAGE, bank)
    if not media:
        raise ValidationError(_("Choose at least one categorised file."))
    case = media[0].case
    if any(m.case_id != case.pk for m in media):
        raise ValidationError(_("Add files of one case at a time."))
    check_perm(actor, Perm.EVIDENCE_EDIT, case)
    if any(m.category is None for m in media):
        raise ValidationError(_("Only categorised files can be added to a bank."))
    if any(not (m.md5 or m.sha1 or m.sha256 or m.pdq) for m in media):
        raise ValidationError(_("A file without hashes cannot be added to a bank."))
    entries = [
        HashEntry(
            md5=m.md5 or None,
            sha1=m.sha1 or None,
            sha256=m.sha256 or None,
            pdq=m.pdq if m.pdq and (m.pdq_quality or 0) >= MIN_PDQ_QUALITY else None,
            pdq_quality=m.pdq_quality if m.pdq else None,
            category=m.category,
        )
        for m in media
    ]
    with tempfile.TemporaryDirectory(dir=scans_dir()) as tmp:
        path = Path(tmp) / "confirmed.json"
        with path.open("w", encoding="utf-8") as out:
            get_format("vics").write(entries, out)
        with transaction.atomic():
            bank_import = import_hash_list(
                actor,
                bank,
                path,
                fmt="vics",
                source_name=f"{case.reference} confirmed {timezone.now():%Y%m%dT%H%M%S}",
            )
            MediaFile.objects.filter(pk__in=[m.pk for m in media]).update(banked_in=bank.name[:100])
            record(
                actor,
                "evidence.media.bank",
                None,
                request=request,
                case=case.reference,
                bank=bank.pk,
                files=len(media),
                added=bank_import.added,
                duplicates=bank_import.duplicates,
            )
    return bank_import


def require_evidence_view(actor: Any, case: Case) -> None:
    if not getattr(actor, "is_authenticated", True):
        raise PermissionDenied("evidence.view")
    check_perm(actor, Perm.EVIDENCE_VIEW, case)
