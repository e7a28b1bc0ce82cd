"""A hash list uploaded on a bank's page: stored and queued, then imported by a job.

A national list (a million PDQ hashes, millions of NSRL rows) takes minutes to read; behind a
production web server the request would time out. `queue_bank_upload` does only what needs no
parsing, at once: the permission, the size limit, the format sniffed from the file's head, one
import per bank at a time; it stores the file (`core.storage`, under its SHA-256 and its name:
the PDQ and vPDQ readers read the name), records a `BankUpload` (`queued`) and queues
the job `import_bank_upload` for when the transaction commits. The job (`perform_bank_upload`)
runs the same all-or-nothing import as the command line (`import_hash_list`, as the uploader)
and records its outcome on the upload: the rows added and duplicates, or every bad row, or why
it failed. The stored file is kept, as an uploaded scan file is: the bank's provenance names
the file by its SHA-256 and the file is there to show it.

One upload per bank at a time: a second one while the first is queued or running is refused
with a message naming the first (the examiner sends it again when the first has finished; a
queue of several national lists behind each other would hold the bank's import lock for hours
with nobody watching).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_tasks import task

from muhafiz.audit.actions import record
from muhafiz.banks.formats import detect_format, file_sha256, get_format
from muhafiz.banks.model import HashListError
from muhafiz.core.datadir import FILE_MODE, secure_directory
from muhafiz.core.jobs import SCANS_QUEUE, enqueue_on_commit
from muhafiz.core.permissions import SYSTEM, Perm, check_perm, check_system
from muhafiz.core.storage import StoredFileMissingError, file_store, stored_copy
from muhafiz.hashbank.actions.banks import _user
from muhafiz.hashbank.actions.imports import import_hash_list
from muhafiz.hashbank.errors import (
    BankError,
    ImportChangedError,
    ImportRejectedError,
    ImportRunningError,
)
from muhafiz.hashbank.models import (
    UPLOAD_BUSY,
    Bank,
    BankUpload,
    ImportStatus,
    UploadStatus,
)
from muhafiz.hashbank.reasons import reason_in_words

UPLOADS_FOLDER = "hashbank/uploads"
CHUNK = 1 << 20


def queue_bank_upload(
    actor: Any,
    bank: Bank,
    upload: UploadedFile[Any],
    *,
    fmt: str | None = None,
    request: HttpRequest | None = None,
) -> BankUpload:
    """Store `upload` and queue its import into `bank`; returns the `queued` upload.

    Raises `BankError` (nothing stored) when the file is too large, empty, not a hash list in a
    known format, or another upload into the bank is queued or running."""
    check_perm(actor, Perm.BANK_MANAGE, bank)
    _refuse_if_busy(bank)
    name = _file_name(upload.name)
    with tempfile.TemporaryDirectory(dir=_incoming(), prefix="upload-") as folder:
        path = Path(folder) / name
        sha256, size = _write(upload, path)
        try:
            chosen = (get_format(fmt) if fmt else detect_format(path)).name
        except HashListError as exc:  # unknown format, empty file
            raise BankError(
                _("%(file)s cannot be imported: %(why)s")
                % {"file": name, "why": reason_in_words(exc.reason)}
            ) from exc
        stored = f"{UPLOADS_FOLDER}/{sha256}/{name}"
        store = file_store()
        if not store.exists(stored):
            store.put_file(stored, path)
    try:
        with transaction.atomic():
            Bank.objects.select_for_update().filter(pk=bank.pk).first()
            _refuse_if_busy(bank)
            queued = BankUpload.objects.create(
                bank=bank,
                source_name=name,
                source_sha256=sha256,
                source_size=size,
                stored_name=stored,
                format=chosen,
                uploaded_by=_user(actor),
                uploaded_by_client=_client(actor),
            )
            record(
                actor,
                "bank.upload",
                queued,
                request=request,
                bank=bank.pk,
                sha256=sha256,
                size=size,
                format=chosen,
            )
            enqueue_on_commit(import_bank_upload, queued.pk)
    except BaseException:
        if not BankUpload.objects.filter(stored_name=stored).exists():
            file_store().delete(stored)
        raise
    return queued


def _client(actor: Any) -> Any:
    from muhafiz.accounts.models import ApiClient

    return actor if isinstance(actor, ApiClient) else None


def _refuse_if_busy(bank: Bank) -> None:
    waiting = BankUpload.objects.filter(bank=bank, status__in=UPLOAD_BUSY).order_by("pk").first()
    if waiting is not None:
        raise BankError(
            _(
                "%(file)s is still being imported into this bank (%(state)s); "
                "upload the next list when it has finished."
            )
            % {"file": waiting.source_name, "state": waiting.get_status_display()}
        )


def _file_name(given: str | None) -> str:
    """The upload's own file name (no folders), kept for the readers that look at it."""
    name = Path((given or "").replace("\\", "/")).name.replace("\x00", "").strip()
    if name in {"", ".", ".."}:
        name = "upload"
    return name[-200:]


def _incoming() -> Path:
    return secure_directory(Path(settings.DATA_DIR) / "hashbank" / "incoming")


def _write(upload: UploadedFile[Any], path: Path) -> tuple[str, int]:
    """Copy the upload to `path` (owner-only), refusing it past the upload limit."""
    limit = int(settings.MUHAFIZ_MAX_UPLOAD_BYTES)
    too_large = BankError(
        _("The file is too large: the limit is %(mb)s MB.") % {"mb": f"{limit / (1 << 20):.1f}"}
    )
    if upload.size is not None and upload.size > limit:
        raise too_large
    digest = hashlib.sha256()
    size = 0
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE), "wb") as out:
        for chunk in upload.chunks(CHUNK):
            size += len(chunk)
            if size > limit:
                raise too_large
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest(), size


@task(queue_name=SCANS_QUEUE)
def import_bank_upload(upload_id: int) -> dict[str, int | str]:
    """The job (queue `scans`, for long work): the system imports a queued upload."""
    upload = perform_bank_upload(SYSTEM, upload_id)
    return {"upload": upload.pk, "status": upload.status, "added": upload.added}


def perform_bank_upload(actor: Any, upload_id: int) -> BankUpload:
    """Import a queued upload (the job's body; the system runs it, the import acts as the
    uploader). Run again after a killed worker, a `running` upload is imported again: the
    import cleans up after a dead one of the same bank and adds a file at most once."""
    check_system(actor)
    with transaction.atomic():
        upload = BankUpload.objects.select_for_update().select_related("bank").get(pk=upload_id)
        if upload.status not in UPLOAD_BUSY:
            return upload
        upload.status = UploadStatus.RUNNING
        upload.started_at = timezone.now()
        upload.save(update_fields=["status", "started_at"])
    try:
        _import(upload)
    except ImportRejectedError as exc:
        upload.bank_import = exc.bank_import
        upload.bad = exc.bank_import.bad
        upload.errors = exc.errors
        _finish(actor, upload, UploadStatus.FAILED, failure=str(exc))
    except (BankError, PermissionDenied, StoredFileMissingError) as exc:
        _finish(actor, upload, UploadStatus.FAILED, failure=_failure(exc))
    except Exception as exc:
        _finish(actor, upload, UploadStatus.FAILED, failure=f"{type(exc).__name__}: {exc}")
        raise  # the job fails too, with its traceback; an administrator retries it
    return upload


def _import(upload: BankUpload) -> None:
    uploader = upload.uploaded_by or upload.uploaded_by_client
    if uploader is None or not uploader.is_active:
        raise PermissionDenied(Perm.BANK_MANAGE.value)
    with stored_copy(upload.stored_name) as path:
        if file_sha256(path) != upload.source_sha256:
            raise BankError(CHANGED)
        try:
            result = import_hash_list(
                uploader,
                upload.bank,
                path,
                fmt=upload.format or None,
                source_name=upload.source_name,
            )
        except (ImportRejectedError, ImportRunningError, ImportChangedError):
            raise
        except BankError as exc:  # said without the server's own path to its copy
            raise BankError(str(exc).replace(str(path), upload.source_name)) from exc
    upload.bank_import = result
    upload.added = result.added
    upload.duplicates = result.duplicates
    upload.already_imported = result.status == ImportStatus.ALREADY_IMPORTED
    _finish(None, upload, UploadStatus.DONE)


# The job's own reasons, kept in English and shown in the reader's language by the bank's page
# (`{% translate upload.failure %}`); the import's reasons name the file and read as written.
CHANGED = gettext_noop("The stored file has changed since it was uploaded (SHA-256 differs).")
NO_RIGHT = gettext_noop("The uploader may no longer manage this bank.")
MISSING = gettext_noop("The stored file is missing.")
CHANGED_DURING = gettext_noop(
    "The stored file changed while it was being imported; nothing was imported."
)
RUNNING = gettext_noop(
    "Another import into this bank was running when the job started; "
    "upload the list again when it has finished."
)


def _failure(exc: BaseException) -> str:
    if isinstance(exc, PermissionDenied):
        return NO_RIGHT
    if isinstance(exc, StoredFileMissingError):
        return MISSING
    if isinstance(exc, ImportRunningError):
        return RUNNING
    if isinstance(exc, ImportChangedError):
        return CHANGED_DURING
    return str(exc)


def _finish(actor: Any, upload: BankUpload, status: str, *, failure: str = "") -> None:
    """Record the outcome; a failure the import did not record itself is audited here."""
    with transaction.atomic():
        upload.status = status
        upload.failure = failure[:4000]
        upload.finished_at = timezone.now()
        upload.save(
            update_fields=[
                "status",
                "failure",
                "finished_at",
                "bank_import",
                "added",
                "duplicates",
                "already_imported",
                "bad",
                "errors",
            ]
        )
        if status == UploadStatus.FAILED and upload.bank_import is None:
            record(
                actor,
                "bank.upload.fail",
                upload,
                reason=upload.failure,
                bank=upload.bank_id,
                sha256=upload.source_sha256,
            )
