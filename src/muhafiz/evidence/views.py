"""Pages of the evidence app. Thin: load through selectors (which check the right on the case),
write through actions, render. Previews are hidden until an audited reveal of one file."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_http_methods, require_POST

from muhafiz.cases.selectors import load_case
from muhafiz.core.forms import apply_errors
from muhafiz.core.permissions import Perm, has_perm, requires
from muhafiz.core.revisions import changes
from muhafiz.core.words import in_words
from muhafiz.evidence import actions, forms, selectors
from muhafiz.evidence.actions import REPORT_FORMATS
from muhafiz.evidence.models import (
    REVEAL_REASON_MAX_LENGTH,
    AnalysisStatus,
    CustodyEvent,
    EvidenceItem,
    ScanStatus,
)

MEDIA_PER_PAGE = 100

logger = logging.getLogger(__name__)


def _htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


@requires(Perm.EVIDENCE_VIEW)
def case_evidence(request: HttpRequest, reference: str) -> HttpResponse:
    case = load_case(request.user, reference, Perm.EVIDENCE_VIEW)
    rights = selectors.evidence_rights(request.user, case)
    item_form = forms.ItemForm(case=case, prefix="item")
    upload_form = forms.ScanUploadForm(case=case, prefix="upload")
    server_form = forms.ServerScanForm(case=case, prefix="server")
    if request.method == "POST":  # the actions decide (PermissionDenied: 403)
        what = request.POST.get("form")
        try:
            if what == "item":
                item_form = forms.ItemForm(request.POST, case=case, prefix="item")
                if item_form.is_valid():
                    item = actions.create_item(
                        request.user,
                        case,
                        actions.ItemDetails(**item_form.cleaned_data),
                        request=request,
                    )
                    messages.success(request, _("Item %(label)s recorded.") % {"label": item.label})
                    return redirect("evidence:item", pk=item.pk)
            elif what == "upload":
                upload_form = forms.ScanUploadForm(
                    request.POST, request.FILES, case=case, prefix="upload"
                )
                if upload_form.is_valid():
                    scan = actions.import_uploaded_scan(
                        request.user,
                        case,
                        upload_form.cleaned_data["scan_file"],
                        item=upload_form.cleaned_data["item"],
                        request=request,
                    )
                    messages.success(request, _("Scan file imported."))
                    return redirect("evidence:scan", pk=scan.pk)
            elif what == "server":
                server_form = forms.ServerScanForm(request.POST, case=case, prefix="server")
                if server_form.is_valid():
                    scan = actions.queue_server_scan(
                        request.user,
                        case,
                        server_form.cleaned_data["source_path"],
                        item=server_form.cleaned_data["item"],
                        request=request,
                    )
                    messages.success(request, _("Scan queued on the server."))
                    return redirect("evidence:scan", pk=scan.pk)
        except ValidationError as exc:
            target = {"item": item_form, "upload": upload_form, "server": server_form}.get(
                what or "", item_form
            )
            apply_errors(target, exc)
    return render(
        request,
        "evidence/case_evidence.html",
        {
            "case": case,
            "items": selectors.case_items(case),
            "scans": selectors.case_scans(case),
            "can_edit": rights["edit"],
            "can_scan": rights["scan"],
            "item_form": item_form,
            "upload_form": upload_form,
            "server_form": server_form,
        },
        status=400 if request.method == "POST" else 200,
    )


@requires(Perm.EVIDENCE_VIEW)
def case_links(request: HttpRequest, reference: str) -> HttpResponse:
    """The case's section "links and network": the other cases it is linked to, and the way to
    the network drawn around its district."""
    case = load_case(request.user, reference, Perm.EVIDENCE_VIEW)
    return render(
        request,
        "evidence/case_links.html",
        {
            "case": case,
            "links": selectors.case_links(case),
            "can_network": has_perm(request.user, Perm.CASE_VIEW, case),
        },
    )


@requires(Perm.EVIDENCE_VIEW)
def item_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = selectors.load_item(request.user, pk)
    can_edit = selectors.item_rights(request.user, item)["handover"]
    form = forms.HandoverForm(request.POST or None, item=item)
    # On a post the action decides who may record it (PermissionDenied: 403).
    if request.method == "POST" and form.is_valid():
        try:
            actions.record_handover(request.user, item, **form.cleaned_data, request=request)
            messages.success(request, _("Hand-over recorded."))
            return redirect("evidence:item", pk=item.pk)
        except ValidationError as exc:
            apply_errors(form, exc)
    custody = CustodyEvent.objects.filter(item=item).select_related("from_user", "to_user")
    return render(
        request,
        "evidence/item_detail.html",
        {
            "item": item,
            "custody": custody,
            "form": form,
            "can_edit": can_edit,
            "can_correct": selectors.item_rights(request.user, item)["correct"],
            "history": _history(item),
            "scans": item.scans.all(),
        },
        status=400 if request.method == "POST" else 200,
    )


# --- corrections: an item or a custody entry corrected or voided with a reason ----------------

ITEM_LABELS = {name: f.label or name for name, f in forms.ItemForm.base_fields.items()}
CUSTODY_LABELS = {name: f.label or name for name, f in forms.HandoverForm.base_fields.items()}


def _history(item: EvidenceItem) -> list[tuple[Any, list[Any]]]:
    """The item's revisions, each with its changes put into words (times in Pakistan time)."""
    rows = []
    for revision in item.revisions.select_related("revised_by", "custody"):
        labels = CUSTODY_LABELS if revision.custody_id else ITEM_LABELS
        rows.append((revision, changes(revision.before, revision.after, labels)))
    return rows


def _void(request: HttpRequest, void: Any, target: Any) -> bool:
    form = forms.VoidForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why this entry is void."))
        return False
    try:
        void(request.user, target, reason=form.cleaned_data["reason"], request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return False
    messages.success(request, _("Entry voided; it stays in the history."))
    return True


def _correction_page(
    request: HttpRequest, item: EvidenceItem, entry: CustodyEvent | None
) -> HttpResponse:
    """The page that corrects or voids an item (`entry` None) or one of its custody entries;
    the actions decide who may (PermissionDenied: 403) and whether the chain still holds."""
    target: Any = entry or item
    correct, void = (
        (actions.correct_custody, actions.void_custody)
        if entry
        else (actions.correct_item, actions.void_item)
    )
    posted = request.POST if request.method == "POST" else None
    if posted is not None and posted.get("form") == "void":
        _void(request, void, target)
        return redirect("evidence:item", pk=item.pk)
    form = (
        forms.CustodyCorrectionForm(posted, entry=entry)
        if entry
        else forms.ItemCorrectionForm(posted, item=item)
    )
    if posted is not None and form.is_valid():
        try:
            correct(request.user, target, **form.cleaned_data, request=request)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Correction recorded; the old values are kept."))
            return redirect("evidence:item", pk=item.pk)
    return render(
        request,
        "evidence/item_correct.html",
        {"item": item, "form": form, "void_form": forms.VoidForm(), "entry": entry},
        status=400 if posted is not None else 200,
    )


@requires(Perm.EVIDENCE_VIEW)
@require_http_methods(["GET", "POST"])
def item_correct(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct or void what is recorded of an item, with a reason."""
    return _correction_page(request, selectors.load_item(request.user, pk), None)


@requires(Perm.EVIDENCE_VIEW)
@require_http_methods(["GET", "POST"])
def custody_entry(request: HttpRequest, pk: int, seq: int) -> HttpResponse:
    """Correct or void one entry of an item's chain of custody, with a reason."""
    item = selectors.load_item(request.user, pk)
    entry = get_object_or_404(CustodyEvent.objects.select_related("item__case"), item=item, seq=seq)
    return _correction_page(request, item, entry)


@requires(Perm.EVIDENCE_VIEW)
def custody_record(request: HttpRequest, pk: int) -> HttpResponse:
    """The item's chain of custody as a record to print, sign and file."""
    item = selectors.load_item(request.user, pk)
    return render(
        request,
        "evidence/custody_record.html",
        {
            "item": item,
            "custody": CustodyEvent.objects.filter(item=item).select_related(
                "from_user", "to_user"
            ),
            "printed_at": timezone.now(),
        },
    )


@requires(Perm.EVIDENCE_VIEW)
def scan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scan = selectors.load_scan(request.user, pk)
    only = request.GET.get("only", "")
    if only not in ("", "matched", "unmatched", "uncategorised", "deleted", "mismatch"):
        only = ""
    page = Paginator(selectors.scan_media(scan, only=only), MEDIA_PER_PAGE).get_page(
        request.GET.get("page")
    )
    from muhafiz.hashbank.models import Bank, BankKindChoice, CategoryScheme

    scheme = CategoryScheme.objects.filter(code="projectvic-us").first()
    rights = selectors.scan_rights(request.user, scan)
    kinds = dict(BankKindChoice.choices)
    stats = {  # the stored figures as they are, a bank's kind by its name in the reader's words
        **(scan.statistics or {}),
        "matches": [
            {**row, "bank_kind": kinds.get(row.get("bank_kind"), row.get("bank_kind"))}
            for row in (scan.statistics or {}).get("matches", [])
        ],
    }
    return render(
        request,
        "evidence/scan_detail.html",
        {
            "scan": scan,
            "stats": stats,
            "media": page.object_list,
            "page": page,
            "only": only,
            "waiting": scan.status == ScanStatus.QUEUED
            or scan.analysis_status in {AnalysisStatus.PENDING, AnalysisStatus.RUNNING},
            "categories": [
                {**category, "label": scheme.label_in_words(category.get("value"))}
                for category in scheme.categories
            ]
            if scheme
            else [],
            "can_categorize": rights["categorize"],
            "can_reveal": rights["reveal"],
            "may_reveal": rights["may_reveal"],
            "reveal_reason_max_length": REVEAL_REASON_MAX_LENGTH,
            "report_formats": [(code, label) for code, (label, *_rest) in REPORT_FORMATS.items()]
            if scan.stored_path
            else [],
            "can_bank": rights["bank"],
            "banks": Bank.objects.filter(enabled=True) if rights["bank"] else [],
            "issues": scan.issues.all()[:200],
        },
    )


@requires(Perm.EVIDENCE_VIEW)
def scan_report(request: HttpRequest, pk: int, fmt: str) -> HttpResponseBase:
    """Download the scan's court report; made by the report code the CLI runs, audited."""
    scan = selectors.find_scan(request.user, pk)
    try:
        report = actions.write_court_report(request.user, scan, fmt, request=request)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("evidence:scan", pk=scan.pk)
    handle = report.path.open("rb")
    report.path.unlink()  # the open handle keeps it readable until the response is sent
    return FileResponse(
        handle, as_attachment=True, filename=report.filename, content_type=report.content_type
    )


@requires(Perm.MEDIA_REVEAL)
@require_POST
def media_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    media = selectors.find_media(request.user, pk)
    try:
        preview = actions.reveal_media(
            request.user, media, reason=request.POST.get("reason", ""), request=request
        )
    except ValidationError as exc:
        return render(
            request,
            "evidence/_preview.html",
            {"media": media, "error": exc.messages[0], "htmx": _htmx(request)},
            status=400,
        )
    return render(
        request,
        "evidence/_preview.html",
        {"media": media, "preview": preview, "htmx": _htmx(request)},
    )


@requires(Perm.EVIDENCE_EDIT, Perm.MEDIA_REVEAL)
@require_POST
def media_categorize(request: HttpRequest, pk: int) -> HttpResponse:
    media = selectors.find_media(request.user, pk)
    raw = request.POST.get("category", "")
    try:
        actions.categorize(request.user, media, int(raw) if raw.strip() else None, request=request)
        messages.success(request, _("Category saved."))
    except (ValueError, ValidationError) as exc:
        messages.error(
            request, exc.messages[0] if isinstance(exc, ValidationError) else _("Unknown category.")
        )
    return redirect("evidence:scan", pk=media.scan_id)


@requires(Perm.BANK_MANAGE, Perm.EVIDENCE_EDIT)
@require_POST
def scan_to_bank(request: HttpRequest, pk: int) -> HttpResponse:
    from muhafiz.hashbank.models import Bank

    scan = selectors.find_scan(request.user, pk)
    bank = Bank.objects.filter(pk=request.POST.get("bank") or 0).first()
    chosen = [int(v) for v in request.POST.getlist("media") if v.isdigit()]
    media = list(scan.media.filter(pk__in=chosen).select_related("case"))
    if bank is None:
        messages.error(request, _("Choose a bank."))
        return redirect("evidence:scan", pk=scan.pk)
    try:
        result = actions.add_to_bank(request.user, bank, media, request=request)
        messages.success(
            request,
            _("%(n)d entries added to %(bank)s.") % {"n": result.added, "bank": bank.name},
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    except Exception as exc:  # a bank refusal says why (hashbank.actions.BankError)
        from muhafiz.hashbank.actions import BankError

        if not isinstance(exc, BankError):
            raise
        messages.error(request, _bank_refusal(exc))
    return redirect("evidence:scan", pk=scan.pk)


# A refusal of the bank's import, in the reader's language (the English is the CLI's and the
# log's); at most this many bad rows are named.
_BANK_ROWS_SHOWN = 20


def _bank_refusal(exc: Exception) -> str:
    """Why the bank refused the chosen files: its bad rows through the bank's reasons
    (`hashbank.reasons.row_in_words`), another import running, or the import failing."""
    from muhafiz.hashbank.errors import ImportRejectedError, ImportRunningError
    from muhafiz.hashbank.reasons import row_in_words

    if isinstance(exc, ImportRejectedError):
        rows = [
            in_words(
                gettext_noop("line %(line)s: %(reason)s"),
                {"line": row["line"], "reason": row_in_words(row)},
            )
            if row.get("line") is not None
            else row_in_words(row)
            for row in exc.errors[:_BANK_ROWS_SHOWN]
        ]
        more = exc.bank_import.bad - _BANK_ROWS_SHOWN
        message = in_words(
            gettext_noop(
                "The bank refused the chosen files and nothing was added; "
                "%(count)s bad row(s): %(rows)s"
            ),
            {"count": exc.bank_import.bad, "rows": "; ".join(rows)},
        )
        if more > 0:
            message += " " + in_words(gettext_noop("(and %(more)s more)"), {"more": more})
        return message
    if isinstance(exc, ImportRunningError):
        return _(
            "Another import into this bank is running; nothing was added. "
            "Try again when it has finished."
        )
    logger.warning("adding files to a bank failed: %s", exc)
    return _("The bank could not import the chosen files; nothing was added.")


@requires(Perm.CASE_VIEW)
def network(request: HttpRequest) -> HttpResponse:
    form = forms.NetworkFilter(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    graph = selectors.build_network(
        request.user,
        district=(filters.get("district") or "").upper(),
        since=filters.get("since"),
        until=filters.get("until"),
    )
    return render(request, "evidence/network.html", {"form": form, "graph": graph})
