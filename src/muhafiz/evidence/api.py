"""API routes of the evidence app (mounted under /api/v1/evidence), with the page's checks:
the same selectors load each object after checking the right on its case, the same actions
write."""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, File, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.params import functions as params

from muhafiz.accounts.models import User
from muhafiz.accounts.selectors import staff_named
from muhafiz.cases.selectors import find_case, load_case
from muhafiz.catalogue.models import District
from muhafiz.core.api import MAX_OFFSET, api_requires
from muhafiz.core.limits import max_length
from muhafiz.core.permissions import Perm
from muhafiz.evidence import actions, selectors
from muhafiz.evidence.models import (
    REVEAL_REASON_MAX_LENGTH,
    CustodyEvent,
    EvidenceItem,
    EvidenceRevision,
    MediaFile,
    Scan,
)
from muhafiz.hashbank.models import Bank

router = Router(tags=["evidence"])

_USERNAME = max_length(User, "username")
# The most files one request adds to a bank (the page adds those ticked on one page of a scan).
MEDIA_PER_BANK_REQUEST = 1000


# --- schemas ------------------------------------------------------------------------------------


class CustodyOut(Schema):
    seq: int
    at: dt.datetime
    from_user: str | None
    to_user: str
    purpose: str = Field(description="a code of the purposes list, or an officer's own words")
    purpose_label: str = Field(description="the purpose in the language of the request")
    seal_intact: bool
    note: str
    voided_at: dt.datetime | None = Field(None, description="set when voided: it no longer counts")
    void_reason: str = ""


class ItemOut(Schema):
    id: int
    case: str
    label: str
    kind: str
    description: str
    make_model: str
    serial_number: str
    seal_number: str
    seized_at: dt.datetime
    seized_place: str
    seized_by: str
    holder: str
    voided_at: dt.datetime | None = Field(None, description="set when voided: recorded in error")
    void_reason: str = ""


class ItemDetailOut(ItemOut):
    custody: list[CustodyOut]


class ItemIn(Schema):
    kind: str = Field(..., max_length=max_length(EvidenceItem, "kind"))
    seized_at: dt.datetime
    seized_place: str = Field(..., max_length=max_length(EvidenceItem, "seized_place"))
    seized_by: str = Field(..., max_length=_USERNAME, description="username of the seizing officer")
    description: str = Field("", max_length=max_length(EvidenceItem, "description"))
    make_model: str = Field("", max_length=max_length(EvidenceItem, "make_model"))
    serial_number: str = Field("", max_length=max_length(EvidenceItem, "serial_number"))
    seal_number: str = Field("", max_length=max_length(EvidenceItem, "seal_number"))
    confirmed: bool = Field(
        False, description="Confirms an unlikely fact (a seizure over a year before the report)"
    )


class HandoverIn(Schema):
    from_user: str = Field(..., max_length=_USERNAME)
    to_user: str = Field(..., max_length=_USERNAME)
    at: dt.datetime
    purpose: str = Field(
        ...,
        max_length=max_length(CustodyEvent, "purpose"),
        description="a code of the purposes list (forensic_examination, safe_keeping, court, "
        "prosecution, return_to_investigator, transfer, return_to_owner) or your own words",
    )
    seal_intact: bool
    note: str = Field("", max_length=max_length(CustodyEvent, "note"))


# Corrections: only the fields given change (null or absent: unchanged); the reason is kept with
# the old values in the item's history and the audit.
_REASON_DOC = "Why: kept with the old values in the history and the audit (required; no names)"


def _reason_field() -> Any:
    return Field(
        ...,
        min_length=1,
        max_length=max_length(EvidenceRevision, "reason"),
        description=_REASON_DOC,
    )


class ItemCorrectionIn(Schema):
    reason: str = _reason_field()
    kind: str | None = Field(None, max_length=max_length(EvidenceItem, "kind"))
    description: str | None = Field(None, max_length=max_length(EvidenceItem, "description"))
    make_model: str | None = Field(None, max_length=max_length(EvidenceItem, "make_model"))
    serial_number: str | None = Field(None, max_length=max_length(EvidenceItem, "serial_number"))
    seal_number: str | None = Field(None, max_length=max_length(EvidenceItem, "seal_number"))
    seized_at: dt.datetime | None = None
    seized_place: str | None = Field(None, max_length=max_length(EvidenceItem, "seized_place"))
    seized_by: str | None = Field(
        None, max_length=_USERNAME, description="username of the officer who seized it"
    )
    confirmed: bool = Field(
        False, description="Confirms an unlikely fact (a seizure over a year before the report)"
    )


class CustodyCorrectionIn(Schema):
    reason: str = _reason_field()
    at: dt.datetime | None = None
    from_user: str | None = Field(None, max_length=_USERNAME, description="username")
    to_user: str | None = Field(None, max_length=_USERNAME, description="username")
    purpose: str | None = Field(None, max_length=max_length(CustodyEvent, "purpose"))
    seal_intact: bool | None = None
    note: str | None = Field(None, max_length=max_length(CustodyEvent, "note"))
    confirmed: bool = Field(
        False, description="Confirms an unlikely fact (a seizure over a year before the report)"
    )


class VoidIn(Schema):
    reason: str = _reason_field()


class ScanAnalysisOut(Schema):
    """Matching against the server's banks and cross-case linking, a job after the import:
    pending, running, done or failed ("" for scans imported before it was a job)."""

    status: str
    finished_at: dt.datetime | None
    failure: str


class ScanOut(Schema):
    id: int
    case: str
    item: str | None
    origin: str
    status: str
    original_name: str
    file_sha256: str
    file_size: int
    tool_version: str
    scan_state: str
    failure: str
    statistics: dict[str, Any]
    analysis: ScanAnalysisOut


class ServerScanIn(Schema):
    source_path: str = Field(..., max_length=max_length(Scan, "source_path"))
    item: int | None = None


class ScanMatchOut(Schema):
    bank: str
    bank_kind: str
    kind: str
    distance: int
    category: int | None
    series: str
    frame_times: str
    query_percent: float | None
    compared_percent: float | None


class MediaOut(Schema):
    id: int
    path: str
    size: int | None
    mime: str
    md5: str
    sha1: str
    sha256: str
    pdq: str
    pdq_quality: int | None
    exif: dict[str, Any]
    known_good: bool
    matched: bool
    category: int | None
    category_scheme: str
    banked_in: str
    deleted: bool
    carved_offset: int | None
    device_path: str
    matches: list[ScanMatchOut]


class CategoryIn(Schema):
    category: int | None
    scheme: str = Field("projectvic-us", max_length=max_length(MediaFile, "category_scheme"))


class RevealIn(Schema):
    reason: str = Field(..., min_length=1, max_length=REVEAL_REASON_MAX_LENGTH)


class RevealOut(Schema):
    available: bool
    message: str
    data_uri: str


class BankIn(Schema):
    bank: str = Field(..., max_length=max_length(Bank, "name"))
    media: list[int] = Field(..., min_length=1, max_length=MEDIA_PER_BANK_REQUEST)


class AddedToBankOut(Schema):
    bank: str
    added: int
    duplicates: int


class CaseLinkOut(Schema):
    id: int
    kind: str
    found_at: dt.datetime
    your_case: str
    other_case: str
    other_case_visible: bool
    other_contact: str
    shares: str
    distance: int


class LinksOut(Schema):
    items: list[CaseLinkOut]
    truncated: bool


class NodeOut(Schema):
    key: str
    kind: str
    label: str
    detail: str


class EdgeOut(Schema):
    source: str
    target: str
    kind: str


class NetworkOut(Schema):
    nodes: list[NodeOut]
    edges: list[EdgeOut]
    truncated: bool


class NetworkQuery(Schema):
    district: str = Field("", max_length=max_length(District, "code"))
    since: dt.date | None = None
    until: dt.date | None = None


# --- helpers ------------------------------------------------------------------------------------


def _item_out(item: EvidenceItem) -> dict[str, Any]:
    return {
        "id": item.pk,
        "case": item.case.reference,
        "label": item.label,
        "kind": item.kind,
        "description": item.description,
        "make_model": item.make_model,
        "serial_number": item.serial_number,
        "seal_number": item.seal_number,
        "seized_at": item.seized_at,
        "seized_place": item.seized_place,
        "seized_by": item.seized_by.username,
        "holder": item.holder.username,
        "voided_at": item.voided_at,
        "void_reason": item.void_reason,
    }


def _custody_out(event: CustodyEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": event.at,
        "from_user": event.from_user.username if event.from_user else None,
        "to_user": event.to_user.username,
        "purpose": event.purpose,
        "purpose_label": event.purpose_label,
        "seal_intact": event.seal_intact,
        "note": event.note,
        "voided_at": event.voided_at,
        "void_reason": event.void_reason,
    }


def _scan_out(scan: Scan) -> dict[str, Any]:
    return {
        "id": scan.pk,
        "case": scan.case.reference,
        "item": scan.item.label if scan.item else None,
        "origin": scan.origin,
        "status": scan.status,
        "original_name": scan.original_name,
        "file_sha256": scan.file_sha256,
        "file_size": scan.file_size,
        "tool_version": scan.tool_version,
        "scan_state": scan.scan_state,
        "failure": scan.failure,
        "statistics": scan.statistics,
        "analysis": {
            "status": scan.analysis_status,
            "finished_at": scan.analysed_at,
            "failure": scan.analysis_failure,
        },
    }


def _media_out(media: MediaFile) -> dict[str, Any]:
    fields = (
        "path", "size", "mime", "md5", "sha1", "sha256", "pdq", "pdq_quality", "exif",
        "known_good", "matched", "category", "category_scheme", "banked_in", "deleted",
        "carved_offset", "device_path",
    )  # fmt: skip
    out: dict[str, Any] = {"id": media.pk, **{f: getattr(media, f) for f in fields}}
    out["matches"] = [
        {
            "bank": m.bank,
            "bank_kind": m.bank_kind,
            "kind": m.kind,
            "distance": m.distance,
            "category": m.category,
            "series": m.series,
            "frame_times": m.frame_times,
            "query_percent": m.query_percent,
            "compared_percent": m.compared_percent,
        }
        for m in media.matches.all()
    ]
    return out


def _case_item(request: HttpRequest, reference: str, item_id: int | None) -> Any:
    case = find_case(request.auth, reference)  # type: ignore[attr-defined]
    item = None
    if item_id is not None:
        item = EvidenceItem.objects.filter(pk=item_id, case=case).first()
        if item is None:
            raise HttpError(400, "no such item in this case")
    return case, item


# --- items and custody --------------------------------------------------------------------------


@router.get("/cases/{reference}/items", response=list[ItemOut])
@api_requires(Perm.EVIDENCE_VIEW)
def list_items(request: HttpRequest, reference: str) -> list[dict[str, Any]]:
    case = load_case(request.auth, reference, Perm.EVIDENCE_VIEW)  # type: ignore[attr-defined]
    return [_item_out(i) for i in selectors.case_items(case).select_related("case")]


@router.post("/cases/{reference}/items", response={201: ItemOut})
@api_requires(Perm.EVIDENCE_EDIT)
def create_item(request: HttpRequest, reference: str, data: ItemIn) -> Any:
    case = find_case(request.auth, reference)  # type: ignore[attr-defined]
    seized_by = staff_named(data.seized_by)
    details = actions.ItemDetails(**{**data.dict(), "seized_by": seized_by})
    item = actions.create_item(request.auth, case, details, request=request)  # type: ignore[attr-defined]
    return Status(201, _item_out(item))


@router.get("/items/{item_id}", response=ItemDetailOut)
@api_requires(Perm.EVIDENCE_VIEW)
def get_item(request: HttpRequest, item_id: int) -> dict[str, Any]:
    item = selectors.load_item(request.auth, item_id)  # type: ignore[attr-defined]
    custody = CustodyEvent.objects.filter(item=item).select_related("from_user", "to_user")
    return {**_item_out(item), "custody": [_custody_out(e) for e in custody]}


@router.post("/items/{item_id}/custody", response={201: CustodyOut})
@api_requires(Perm.EVIDENCE_CUSTODY)
def handover(request: HttpRequest, item_id: int, data: HandoverIn) -> Any:
    """Recorded by the item's holder (or a supervisor overseeing the case)."""
    item = selectors.find_item(request.auth, item_id)  # type: ignore[attr-defined]
    event = actions.record_handover(
        request.auth,  # type: ignore[attr-defined]
        item,
        from_user=staff_named(data.from_user),
        to_user=staff_named(data.to_user),
        at=data.at,
        purpose=data.purpose,
        seal_intact=data.seal_intact,
        note=data.note,
        request=request,
    )
    return Status(201, _custody_out(event))


# --- corrections: the page's actions, permission checked inside them --------------------------


def _given(data: Schema, people: tuple[str, ...]) -> dict[str, Any]:
    """The fields a correction names (the rest stay as they are), people by username."""
    given = {k: v for k, v in data.dict(exclude={"reason", "confirmed"}).items() if v is not None}
    for name in people:
        if name in given:
            given[name] = staff_named(given[name])
    return given


def _entry(request: HttpRequest, item_id: int, seq: int) -> CustodyEvent:
    item = selectors.find_item(request.auth, item_id)  # type: ignore[attr-defined]
    return get_object_or_404(CustodyEvent.objects.select_related("item__case"), item=item, seq=seq)


@router.post(
    "/items/{item_id}/correct",
    response=ItemOut,
    summary="Correct what is recorded of a seized item, with a reason (old values kept)",
)
@api_requires(Perm.EVIDENCE_EDIT)
def correct_item(request: HttpRequest, item_id: int, data: ItemCorrectionIn) -> dict[str, Any]:
    item = selectors.find_item(request.auth, item_id)  # type: ignore[attr-defined]
    item = actions.correct_item(
        request.auth,  # type: ignore[attr-defined]
        item,
        reason=data.reason,
        confirmed=data.confirmed,
        request=request,
        **_given(data, ("seized_by",)),
    )
    return _item_out(item)


@router.post(
    "/items/{item_id}/void",
    response=ItemOut,
    summary="Void an item recorded in error, with a reason: it stays, marked void",
)
@api_requires(Perm.EVIDENCE_EDIT)
def void_item(request: HttpRequest, item_id: int, data: VoidIn) -> dict[str, Any]:
    item = selectors.find_item(request.auth, item_id)  # type: ignore[attr-defined]
    item = actions.void_item(request.auth, item, reason=data.reason, request=request)  # type: ignore[attr-defined]
    return _item_out(item)


@router.post(
    "/items/{item_id}/custody/{seq}/correct",
    response=CustodyOut,
    summary="Correct one entry of an item's chain of custody, with a reason (old values kept)",
)
@api_requires(Perm.EVIDENCE_EDIT)
def correct_custody(
    request: HttpRequest, item_id: int, seq: int, data: CustodyCorrectionIn
) -> dict[str, Any]:
    entry = actions.correct_custody(
        request.auth,  # type: ignore[attr-defined]
        _entry(request, item_id, seq),
        reason=data.reason,
        confirmed=data.confirmed,
        request=request,
        **_given(data, ("from_user", "to_user")),
    )
    return _custody_out(entry)


@router.post(
    "/items/{item_id}/custody/{seq}/void",
    response=CustodyOut,
    summary="Void a hand-over recorded in error, with a reason: it stays, marked void",
)
@api_requires(Perm.EVIDENCE_EDIT)
def void_custody(request: HttpRequest, item_id: int, seq: int, data: VoidIn) -> dict[str, Any]:
    entry = actions.void_custody(
        request.auth,  # type: ignore[attr-defined]
        _entry(request, item_id, seq),
        reason=data.reason,
        request=request,
    )
    return _custody_out(entry)


# --- scans --------------------------------------------------------------------------------------


@router.get("/cases/{reference}/scans", response=list[ScanOut])
@api_requires(Perm.EVIDENCE_VIEW)
def list_scans(request: HttpRequest, reference: str) -> list[dict[str, Any]]:
    case = load_case(request.auth, reference, Perm.EVIDENCE_VIEW)  # type: ignore[attr-defined]
    return [_scan_out(s) for s in selectors.case_scans(case).select_related("case")]


@router.post(
    "/cases/{reference}/scans",
    response={201: ScanOut},
    description="Import a scan file (multipart field `file`); refused past the upload limit.",
)
@api_requires(Perm.EVIDENCE_EDIT)
def import_scan(
    request: HttpRequest, reference: str, file: File[UploadedFile], item: int | None = None
) -> Any:
    case, evidence_item = _case_item(request, reference, item)
    try:
        scan = actions.import_uploaded_scan(
            request.auth,  # type: ignore[attr-defined]
            case,
            file,
            item=evidence_item,
            request=request,
        )
    except actions.UploadTooLargeError as exc:
        raise HttpError(413, exc.messages[0]) from exc
    return Status(201, _scan_out(scan))


@router.post("/cases/{reference}/server-scans", response={202: ScanOut})
@api_requires(Perm.SCAN_RUN, Perm.EVIDENCE_EDIT)
def server_scan(request: HttpRequest, reference: str, data: ServerScanIn) -> Any:
    case, evidence_item = _case_item(request, reference, data.item)
    scan = actions.queue_server_scan(
        request.auth,  # type: ignore[attr-defined]
        case,
        data.source_path,
        item=evidence_item,
        request=request,
    )
    return Status(202, _scan_out(scan))


@router.get("/scans/{scan_id}", response=ScanOut)
@api_requires(Perm.EVIDENCE_VIEW)
def get_scan(request: HttpRequest, scan_id: int) -> dict[str, Any]:
    return _scan_out(selectors.load_scan(request.auth, scan_id))  # type: ignore[attr-defined]


@router.get("/scans/{scan_id}/media", response=list[MediaOut])
@api_requires(Perm.EVIDENCE_VIEW)
def scan_media(
    request: HttpRequest,
    scan_id: int,
    only: str = "",
    offset: int = params.Query(0, ge=0, le=MAX_OFFSET),
    limit: int = params.Query(200, ge=1, le=MAX_OFFSET),
) -> list[dict[str, Any]]:
    scan = selectors.load_scan(request.auth, scan_id)  # type: ignore[attr-defined]
    limit = max(1, min(limit, 1000))
    media = selectors.scan_media(scan, only=only)[max(offset, 0) : max(offset, 0) + limit]
    return [_media_out(m) for m in media]


# --- examination --------------------------------------------------------------------------------


@router.post("/media/{media_id}/category", response=MediaOut)
@api_requires(Perm.EVIDENCE_EDIT, Perm.MEDIA_REVEAL)
def categorize(request: HttpRequest, media_id: int, data: CategoryIn) -> dict[str, Any]:
    media = selectors.find_media(request.auth, media_id)  # type: ignore[attr-defined]
    actions.categorize(
        request.auth,  # type: ignore[attr-defined]
        media,
        data.category,
        scheme=data.scheme,
        request=request,
    )
    return _media_out(media)


@router.post("/media/{media_id}/reveal", response=RevealOut)
@api_requires(Perm.MEDIA_REVEAL)
def reveal(request: HttpRequest, media_id: int, data: RevealIn) -> dict[str, Any]:
    media = selectors.find_media(request.auth, media_id)  # type: ignore[attr-defined]
    preview = actions.reveal_media(
        request.auth,  # type: ignore[attr-defined]
        media,
        reason=data.reason,
        request=request,
    )
    return {
        "available": preview.available,
        "message": preview.message,
        "data_uri": preview.data_uri,
    }


@router.post("/bank", response=AddedToBankOut)
@api_requires(Perm.BANK_MANAGE, Perm.EVIDENCE_EDIT)
def add_to_bank(request: HttpRequest, data: BankIn) -> dict[str, Any]:
    from muhafiz.hashbank.actions import BankError, get_bank

    try:
        bank = get_bank(data.bank)
    except BankError as exc:
        raise HttpError(400, str(exc)) from exc
    media = [
        selectors.find_media(request.auth, pk)  # type: ignore[attr-defined]
        for pk in data.media
    ]
    try:
        result = actions.add_to_bank(request.auth, bank, media, request=request)  # type: ignore[attr-defined]
    except BankError as exc:
        raise HttpError(400, str(exc)) from exc
    return {"bank": bank.name, "added": result.added, "duplicates": result.duplicates}


# --- links and network --------------------------------------------------------------------------


@router.get("/links", response=LinksOut)
@api_requires(Perm.CASE_VIEW)
def links(request: HttpRequest, filters: Query[NetworkQuery]) -> dict[str, Any]:
    graph = selectors.build_network(
        request.auth,  # type: ignore[attr-defined]
        district=filters.district.upper(),
        since=filters.since,
        until=filters.until,
    )
    return {
        "items": [
            {
                "id": row.link.pk,
                "kind": row.link.kind,
                "found_at": row.link.found_at,
                "your_case": row.this.reference,
                "other_case": row.other_reference,
                "other_case_visible": row.other_visible,
                "other_contact": row.other_contact,
                "shares": row.what,
                "distance": row.link.distance,
            }
            for row in graph.rows
        ],
        "truncated": graph.truncated,
    }


@router.get("/network", response=NetworkOut)
@api_requires(Perm.CASE_VIEW)
def network(request: HttpRequest, filters: Query[NetworkQuery]) -> dict[str, Any]:
    graph = selectors.build_network(
        request.auth,  # type: ignore[attr-defined]
        district=filters.district.upper(),
        since=filters.since,
        until=filters.until,
    )
    return {
        "nodes": [
            {"key": n.key, "kind": n.kind, "label": n.label, "detail": n.detail}
            for n in graph.nodes
        ],
        "edges": [{"source": e.source, "target": e.target, "kind": e.kind} for e in graph.edges],
        "truncated": graph.truncated,
    }
