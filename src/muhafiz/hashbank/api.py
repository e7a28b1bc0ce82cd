"""Matching API under /api/v1: POST /match, POST /hash, bank listing, stats and entry removal,
hash lists uploaded into a bank (202: stored and queued; the import's state at its own URL).

Hashes in, matches out. An uploaded image is hashed in memory (or Django's temporary upload
file, deleted when the request ends) and never stored. Matching and hashing requests are
audited by their counts, not their hashes.

(No `from __future__ import annotations` here: django-ninja reads the payload types of the
wrapped operations when the module is imported.)
"""

from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from muhafiz.banks.index.pdq import MATCH_DISTANCE, MIN_PDQ_QUALITY
from muhafiz.core.api import SessionAuth, TokenAuth, api_requires
from muhafiz.core.permissions import Perm
from muhafiz.hashbank import actions
from muhafiz.hashbank.downloads import bank_download
from muhafiz.hashbank.hashing import ImageError, hash_image
from muhafiz.hashbank.matching import (
    EntryMatch,
    HashQuery,
    QueryError,
    match_hashes,
    parse_query,
)
from muhafiz.hashbank.models import (
    ENABLE_REASON_MAX_LENGTH,
    Bank,
    BankEntry,
    BankUpload,
    ImportStatus,
)
from muhafiz.hashbank.reasons import reason_in_words, stored_reason, upload_failure_in_words
from muhafiz.hashbank.selectors import bank_stats, bank_summary, banks_with_sizes
from muhafiz.hashbank.uploads import (
    UploadTooLargeError,
    check_not_too_large,
    limit_upload,
    upload_limit,
)

router = Router(tags=["banks"])

MAX_HASHES_PER_REQUEST = 10_000


class HashIn(Schema):
    value: str = Field(description="Hex hash. MD5 32, SHA-1 40, SHA-256 or PDQ 64 characters.")
    type: str | None = Field(
        default=None,
        description="md5, sha1, sha256 or pdq; without it the type is told by length and a "
        "64-character value is matched both as SHA-256 and as PDQ.",
    )
    pdq_quality: int | None = Field(
        default=None,
        description=f"PDQ quality; below {MIN_PDQ_QUALITY} the PDQ hash is not matched.",
    )


class MatchIn(Schema):
    hashes: list[HashIn] = Field(max_length=MAX_HASHES_PER_REQUEST)
    max_distance: int = Field(default=MATCH_DISTANCE, ge=0, le=MATCH_DISTANCE)
    banks: list[str] = Field(default_factory=list, description="Only these banks (by name).")


class MatchOut(Schema):
    bank: str
    bank_kind: str
    hash_type: str
    distance: int
    entry_id: int
    category: int | None
    category_label: str | None
    series: str | None
    victim_identified: bool | None
    offender_identified: bool | None
    tags: list[str]


class HashResultOut(Schema):
    value: str
    types: list[str]
    matches: list[MatchOut]
    note: str | None = None


class IndexOut(Schema):
    generation: str | None
    built_at: str | None


class MatchResponse(Schema):
    results: list[HashResultOut]
    matched: int
    index: IndexOut


class HashesOut(Schema):
    md5: str
    sha1: str
    sha256: str
    pdq: str | None
    pdq_quality: int | None
    size: int


class BankOut(Schema):
    name: str
    kind: str
    agency: str | None
    category_scheme: str | None
    enabled: bool
    entries: int
    created_at: str


class ImportOut(Schema):
    id: int
    source_name: str
    source_sha256: str
    format: str
    imported_at: str
    status: str
    added: int
    duplicates: int
    bad: int


class BankStatsOut(BankOut):
    removed: int
    by_hash: dict[str, int]
    by_category: dict[str, int]
    imports: list[ImportOut]


class RemoveIn(Schema):
    reason: str = Field(min_length=1)  # the action names an over-long one (BankError)


class EnableIn(Schema):
    enabled: bool
    reason: str = Field("", max_length=ENABLE_REASON_MAX_LENGTH)


class RemovedOut(Schema):
    entry_id: int
    removed_at: str
    reason: str


class BadRowOut(Schema):
    line: int | None
    message: str = Field(description="Why, in the request's language (Accept-Language).")
    code: str = Field(
        default="",
        description="Why, as a stable code of the banks library (muhafiz.banks.reasons); "
        "empty for a row named before codes were kept, or a reason without one.",
    )
    place: str = Field(
        default="",
        description="Where in the file the reason was found, besides the line: '' (the line "
        "itself), 'record' (a record of a database or a VICS document) or 'record_media' (a "
        "VICS record with its MediaID); their values are in params.",
    )
    params: dict[str, str | int] = Field(
        default_factory=dict,
        description="The values the reason names (a hash as found, a length, a record number), "
        "as the file had them; their names are part of the code's contract.",
    )


class UploadOut(Schema):
    id: int
    url: str = Field(description="Where this upload's state is read (GET).")
    bank: str
    source_name: str
    source_sha256: str
    source_size: int
    format: str
    status: Literal["queued", "running", "done", "failed"]
    uploaded_at: str
    started_at: str | None
    finished_at: str | None
    import_id: int | None = Field(description="The import record the job made (see the bank).")
    rows_read: int = Field(
        description="Rows of the file read so far while it runs (said every few seconds), "
        "then all of them; 0 while queued."
    )
    added: int
    duplicates: int
    already_imported: bool
    bad: int
    errors: list[BadRowOut] = Field(description="Every bad row, named (nothing was imported).")
    failure: str = Field(
        description="Why the import failed, when it did (in the request's language)."
    )


def upload_url(upload: BankUpload) -> str:
    return f"/api/v1/banks/{upload.bank.name}/uploads/{upload.pk}"


def upload_out(upload: BankUpload) -> UploadOut:
    def when(value: Any) -> str | None:
        return value.isoformat() if value else None

    return UploadOut(
        id=upload.pk,
        url=upload_url(upload),
        bank=upload.bank.name,
        source_name=upload.source_name,
        source_sha256=upload.source_sha256,
        source_size=upload.source_size,
        format=upload.format,
        status=upload.status,  # type: ignore[arg-type]
        uploaded_at=upload.uploaded_at.isoformat(),
        started_at=when(upload.started_at),
        finished_at=when(upload.finished_at),
        import_id=upload.bank_import_id,
        rows_read=upload.rows_read,
        added=upload.added,
        duplicates=upload.duplicates,
        already_imported=upload.already_imported,
        bad=upload.bad,
        errors=[bad_row_out(e) for e in upload.errors],
        failure=upload_failure_in_words(
            upload.failure, bad=upload.bad, errors=upload.errors, file=upload.source_name
        ),
    )


def bad_row_out(row: dict[str, Any]) -> BadRowOut:
    why = stored_reason(row)
    if why is None:  # named before codes were kept
        return BadRowOut(line=row.get("line"), message=str(row.get("message", "")))
    return BadRowOut(
        line=row.get("line"),
        message=reason_in_words(why),
        code=why.code,
        place=why.place,
        params=dict(why.params),
    )


def match_out(found: EntryMatch) -> MatchOut:
    entry = found.entry
    scheme = entry.bank.category_scheme
    return MatchOut(
        bank=entry.bank.name,
        bank_kind=entry.bank.kind,
        hash_type=found.kind.value,
        distance=found.distance,
        entry_id=entry.pk,
        category=entry.category,
        category_label=scheme.label_for(entry.category) if scheme else None,
        series=entry.series or None,
        victim_identified=entry.victim_identified,
        offender_identified=entry.offender_identified,
        tags=list(entry.tags or []),
    )


@router.post(
    "/match",
    response=MatchResponse,
    summary="Match hashes (MD5, SHA-1, SHA-256, PDQ) against the enabled banks",
)
@api_requires(Perm.HASH_MATCH)
def match(request: HttpRequest, payload: MatchIn) -> Any:
    queries: list[HashQuery] = []
    owners: list[int] = []
    notes: dict[int, str] = {}
    errors: list[str] = []
    for position, item in enumerate(payload.hashes):
        try:
            parsed = parse_query(item.value, item.type)
        except QueryError as exc:
            errors.append(f"hashes[{position}]: {exc}")
            continue
        if item.pdq_quality is not None and item.pdq_quality < MIN_PDQ_QUALITY:
            kept = [q for q in parsed if q.kind.value != "pdq"]
            if len(kept) != len(parsed):
                notes[position] = f"PDQ quality below {MIN_PDQ_QUALITY}: not matched as PDQ"
            parsed = kept
        queries.extend(parsed)
        owners.extend([position] * len(parsed))
    if payload.banks:
        known = set(Bank.objects.filter(name__in=payload.banks).values_list("name", flat=True))
        errors.extend(f"no bank named {name!r}" for name in payload.banks if name not in known)
    if errors:
        raise HttpError(400, "; ".join(errors[:50]))
    outcome = match_hashes(queries, max_distance=payload.max_distance, banks=payload.banks)
    results = [
        HashResultOut(
            value=item.value.strip().lower(),
            types=[],
            matches=[],
            note=notes.get(position),
        )
        for position, item in enumerate(payload.hashes)
    ]
    for query, owner, found in zip(queries, owners, outcome.results, strict=True):
        results[owner].types.append(query.kind.value)
        results[owner].matches.extend(match_out(m) for m in found)
    matched = sum(1 for r in results if r.matches)
    actions.record_request(
        request.auth,  # type: ignore[attr-defined]
        action="bank.match",
        endpoint="api.match",
        queried=len(payload.hashes),
        matched=matched,
        banks=sorted(outcome.banks),
        request=request,
    )
    return MatchResponse(
        results=results,
        matched=matched,
        index=IndexOut(generation=outcome.index_generation, built_at=outcome.index_built_at),
    )


class UploadLimit:
    """First auth step of the upload route: enforces the size limit before the body is read.

    It never authenticates anyone itself (returns None, so Session/Token auth follow); it runs
    first because session auth's CSRF check reads the body.
    """

    def __call__(self, request: HttpRequest) -> None:
        try:
            limit_upload(request)
        except UploadTooLargeError as exc:
            raise HttpError(413, str(exc)) from exc


UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            }
        },
    }
}


def read_upload(request: HttpRequest, field: str = "file") -> bytes:
    """The one uploaded file's bytes (413 past MUHAFIZ_MAX_UPLOAD_BYTES, 400 when missing)."""
    upload = request.FILES.get(field)
    try:
        check_not_too_large(request)
    except UploadTooLargeError as exc:
        raise HttpError(413, str(exc)) from exc
    if upload is None:
        raise HttpError(400, f"send the image as multipart/form-data in a field named {field!r}")
    limit = upload_limit()
    data = bytes(upload.read(limit + 1))
    if len(data) > limit:
        raise HttpError(413, str(UploadTooLargeError(upload.size, limit)))
    return data


@router.post(
    "/hash",
    response=HashesOut,
    auth=[UploadLimit(), SessionAuth(), TokenAuth()],
    openapi_extra=UPLOAD_BODY,
    summary="Hash an uploaded image (MD5, SHA-1, SHA-256, PDQ); the image is not stored",
)
@api_requires(Perm.HASH_MATCH)
def hash_upload(request: HttpRequest) -> Any:
    data = read_upload(request)
    try:
        hashes = hash_image(data)
    except ImageError as exc:
        raise HttpError(400, str(exc)) from exc
    finally:
        del data
    actions.record_request(
        request.auth,  # type: ignore[attr-defined]
        action="bank.hash",
        endpoint="api.hash",
        queried=1,
        matched=0,
        request=request,
    )
    return HashesOut(
        md5=hashes.md5,
        sha1=hashes.sha1,
        sha256=hashes.sha256,
        pdq=hashes.pdq,
        pdq_quality=hashes.pdq_quality,
        size=hashes.size,
    )


LIST_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "format": {
                            "type": "string",
                            "description": "The list's format; without it, told from the content.",
                        },
                    },
                    "required": ["file"],
                }
            }
        },
    }
}


@router.post(
    "/banks/{name}/uploads",
    response={202: UploadOut},
    auth=[UploadLimit(), SessionAuth(), TokenAuth()],
    openapi_extra=LIST_UPLOAD_BODY,
    summary="Upload a hash list into a bank: stored and queued (202); a job imports it all or "
    "nothing, and its state is read at the returned `url` (also the Location header)",
)
@api_requires(Perm.BANK_MANAGE)
def upload_hash_list(request: HttpRequest, name: str, response: HttpResponse) -> Any:
    try:
        bank = actions.get_bank(name)
    except actions.BankError as exc:
        raise HttpError(404, str(exc)) from exc
    upload = request.FILES.get("file")
    try:
        check_not_too_large(request)
    except UploadTooLargeError as exc:
        raise HttpError(413, str(exc)) from exc
    if upload is None:
        raise HttpError(400, "send the hash list as multipart/form-data in a field named 'file'")
    if upload.size is not None and upload.size > upload_limit():
        raise HttpError(413, str(UploadTooLargeError(upload.size, upload_limit())))
    try:
        queued = actions.queue_bank_upload(
            request.auth,  # type: ignore[attr-defined]
            bank,
            upload,
            fmt=str(request.POST.get("format") or "") or None,
            request=request,
        )
    except actions.BankError as exc:
        raise HttpError(400, str(exc)) from exc
    response["Location"] = upload_url(queued)
    return Status(202, upload_out(queued))


@router.get(
    "/banks/{name}/uploads/{upload_id}",
    response=UploadOut,
    summary="One uploaded hash list: queued, running, done (with counts) or failed (with every "
    "bad row, or why)",
)
@api_requires(Perm.BANK_VIEW)
def get_upload(request: HttpRequest, name: str, upload_id: int) -> Any:
    found = (
        BankUpload.objects.filter(pk=upload_id, bank__name=name)
        .select_related("bank", "bank_import")
        .first()
    )
    if found is None:
        raise HttpError(404, f"bank {name!r} has no upload {upload_id}")
    return upload_out(found)


@router.get("/banks", response=list[BankOut], summary="The hash banks and their sizes")
@api_requires(Perm.BANK_VIEW)
def list_banks(request: HttpRequest) -> Any:
    return [BankOut(**bank_summary(bank, size)) for bank, size in banks_with_sizes()]


@router.get("/banks/{name}", response=BankStatsOut, summary="One bank: sizes and imports")
@api_requires(Perm.BANK_VIEW)
def get_bank(request: HttpRequest, name: str) -> Any:
    try:
        bank = actions.get_bank(name)
    except actions.BankError as exc:
        raise HttpError(404, str(exc)) from exc
    return BankStatsOut(**bank_stats(bank))


@router.post(
    "/banks/{name}/entries/{entry_id}/remove",
    response=RemovedOut,
    summary="Remove an entry from matching, with a reason (the row is kept)",
)
@api_requires(Perm.BANK_MANAGE)
def remove_entry(request: HttpRequest, name: str, entry_id: int, payload: RemoveIn) -> Any:
    entry = BankEntry.objects.filter(pk=entry_id, bank__name=name).select_related("bank").first()
    if entry is None:
        raise HttpError(404, f"bank {name!r} has no entry {entry_id}")
    try:
        removed = actions.remove_entry(
            request.auth,  # type: ignore[attr-defined]
            entry,
            reason=payload.reason,
        )
    except actions.BankError as exc:
        raise HttpError(400, str(exc)) from exc
    assert removed.removed_at is not None
    return RemovedOut(
        entry_id=removed.pk,
        removed_at=removed.removed_at.isoformat(),
        reason=removed.removal_reason,
    )


@router.get(
    "/banks/{name}/export",
    summary="Download a bank's active entries as VICS 2.0 JSON or a PDQ list (audited)",
)
@api_requires(Perm.BANK_MANAGE)
def export(request: HttpRequest, name: str, format: Literal["vics", "pdq"] = "vics") -> Any:
    try:
        bank = actions.get_bank(name)
    except actions.BankError as exc:
        raise HttpError(404, str(exc)) from exc
    return bank_download(request.auth, bank, format)  # type: ignore[attr-defined]


@router.post(
    "/banks/{name}/enabled",
    response=BankOut,
    summary="Enable or disable a bank for matching (takes effect at once; audited)",
)
@api_requires(Perm.BANK_MANAGE)
def set_enabled(request: HttpRequest, name: str, payload: EnableIn) -> Any:
    try:
        bank = actions.get_bank(name)
    except actions.BankError as exc:
        raise HttpError(404, str(exc)) from exc
    try:
        bank = actions.set_bank_enabled(
            request.auth,  # type: ignore[attr-defined]
            bank,
            payload.enabled,
            reason=payload.reason,
        )
    except actions.BankError as exc:
        raise HttpError(400, str(exc)) from exc
    return BankOut(**bank_summary(bank, BankEntry.objects.active().filter(bank=bank).count()))


__all__ = ["ImportStatus", "router"]
