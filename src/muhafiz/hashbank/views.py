"""Pages of the hash banks for the staff the permission module allows: the list, one bank's
statistics and imports, an upload stored and imported all or nothing by a job (its state on the
bank's page), an export, enabling and disabling.
Thin: reads through `selectors`, every change through `actions` (which check and audit)."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from muhafiz.core.permissions import Perm, requires
from muhafiz.hashbank import actions, selectors
from muhafiz.hashbank.downloads import SUFFIXES, bank_download
from muhafiz.hashbank.forms import EnableForm, ImportForm
from muhafiz.hashbank.models import UPLOAD_BUSY, Bank
from muhafiz.hashbank.uploads import UploadTooLargeError, check_not_too_large, limit_upload


@requires(Perm.BANK_VIEW)
def bank_list(request: HttpRequest) -> HttpResponse:
    rows = [
        (bank, size, selectors.may_manage(request.user, bank))
        for bank, size in selectors.banks_with_sizes()
    ]
    return render(request, "hashbank/bank_list.html", {"rows": rows})


def _detail(
    request: HttpRequest,
    bank: Bank,
    *,
    enable_form: EnableForm | None = None,
    import_form: ImportForm | None = None,
    status: int = 200,
) -> HttpResponse:
    uploads = selectors.recent_uploads(bank)
    stats = selectors.bank_stats(bank)
    for row in stats["imports"]:  # the API's UTC text, as a moment the page shows in local time
        row["imported_at"] = datetime.fromisoformat(row["imported_at"])
    return render(
        request,
        "hashbank/bank_detail.html",
        {
            "bank": bank,
            "stats": stats,
            "can_manage": selectors.may_manage(request.user, bank),
            "enable_form": enable_form or EnableForm(initial={"enabled": not bank.enabled}),
            "import_form": import_form or ImportForm(),
            "uploads": uploads,
            "uploads_waiting": any(u.status in UPLOAD_BUSY for u in uploads),
            "export_formats": list(SUFFIXES),
        },
        status=status,
    )


@requires(Perm.BANK_VIEW)
def bank_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, get_object_or_404(Bank, pk=pk))


@requires(Perm.BANK_MANAGE)
@require_POST
def bank_enable(request: HttpRequest, pk: int) -> HttpResponse:
    bank = get_object_or_404(Bank, pk=pk)
    form = EnableForm(request.POST)
    if not form.is_valid():
        return _detail(request, bank, enable_form=form, status=400)
    enabled = form.cleaned_data["enabled"]
    actions.set_bank_enabled(request.user, bank, enabled, reason=form.cleaned_data["reason"])
    if enabled:
        messages.success(request, _("Bank %(bank)s is used for matching again.") % {"bank": bank})
    else:
        messages.success(
            request, _("Bank %(bank)s is no longer used for matching.") % {"bank": bank}
        )
    return redirect("hashbank:bank", pk=bank.pk)


@requires(Perm.BANK_MANAGE)
def bank_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponseBase:
    bank = get_object_or_404(Bank, pk=pk)
    if fmt not in SUFFIXES:
        messages.error(request, _("Unknown export format."))
        return redirect("hashbank:bank", pk=bank.pk)
    return bank_download(request.user, bank, fmt)


@requires(Perm.BANK_MANAGE)
@require_POST
@csrf_exempt  # checked in `_import`, after the size limit is in place (Django's upload recipe)
def bank_import(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        limit_upload(request)  # before the body is read, so before the CSRF check reads it
    except UploadTooLargeError as exc:
        return _too_large(request, get_object_or_404(Bank, pk=pk), exc)
    return _import(request, pk)


def _too_large(request: HttpRequest, bank: Bank, exc: UploadTooLargeError) -> HttpResponse:
    form = ImportForm(data={})
    form.is_valid()  # bound, so its errors show; the size is the reason, not a missing file
    if exc.size is not None:
        why = _("the upload is %(size)s bytes; the limit is %(limit)s bytes") % {
            "size": f"{exc.size:,}",
            "limit": f"{exc.limit:,}",
        }
    else:
        why = _("the upload is larger than the limit of %(limit)s bytes") % {
            "limit": f"{exc.limit:,}"
        }
    form.errors["hash_list"] = form.error_class(
        [_("The file is too large: %(why)s.") % {"why": why}]
    )
    return _detail(request, bank, import_form=form, status=413)


@csrf_protect
def _import(request: HttpRequest, pk: int) -> HttpResponse:
    bank = get_object_or_404(Bank, pk=pk)
    try:
        form = ImportForm(request.POST, request.FILES)
        valid = form.is_valid()
        check_not_too_large(request)
    except UploadTooLargeError as exc:
        return _too_large(request, bank, exc)
    if not valid:
        return _detail(request, bank, import_form=form, status=400)
    upload = form.cleaned_data["hash_list"]
    try:
        queued = actions.queue_bank_upload(
            request.user, bank, upload, fmt=form.cleaned_data["format"] or None, request=request
        )
    except actions.BankError as exc:
        form.add_error(None, str(exc))
        return _detail(request, bank, import_form=form, status=400)
    messages.success(
        request,
        _("%(file)s is queued for import; its result appears below when a worker has read it.")
        % {"file": queued.source_name},
    )
    return redirect("hashbank:bank", pk=bank.pk)
