"""Pages of intake: the public report and its follow-up (public by rule, Urdu first, no
JavaScript), the helpline form, the district triage queue and a report's page. Thin: load
through selectors, write through actions, render."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from muhafiz.core.permissions import Perm, has_perm, public, requires
from muhafiz.intake import actions, forms, selectors
from muhafiz.intake.models import Channel, ReportState
from muhafiz.intake.throttle import RateLimited, visitor

PUBLIC_LANGUAGES = ("ur", "en")


def _public_language(request: HttpRequest) -> str:
    """Urdu unless the visitor chose English on the page (`lang`, in the query or the form)."""
    chosen = request.POST.get("lang") or request.GET.get("lang") or "ur"
    return chosen if chosen in PUBLIC_LANGUAGES else "ur"


def _private(response: HttpResponse) -> HttpResponse:
    """Receipts, passphrases and replies are never cached by a browser or a proxy."""
    response["Cache-Control"] = "no-store"
    return response


def _errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            for error in errors:
                form.add_error(
                    field if field in form.fields else None,
                    error.message % (error.params or {}) if error.params else error.message,
                )
    else:
        for message in exc.messages:
            form.add_error(None, message)


def _too_many(request: HttpRequest, lang: str, exc: RateLimited) -> HttpResponse:
    response = render(
        request,
        "intake/public_limited.html",
        {"lang": lang, "minutes": max(1, exc.retry_after // 60)},
        status=429,
    )
    response["Retry-After"] = str(exc.retry_after)
    return _private(response)


@public
def public_report(request: HttpRequest) -> HttpResponse:
    lang = _public_language(request)
    with translation.override(lang):
        form = forms.PublicReportForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                receipt = actions.submit_public_report(
                    visitor(request),
                    concern=data["concern"],
                    account=data["account"],
                    district=data["district"],
                    occurred_on=data["occurred_on"],
                    child_in_danger=data["child_in_danger"],
                    links=data["links"],
                    age_band=data["age_band"],
                    reporter_name=data["reporter_name"],
                    reporter_contact=data["reporter_contact"],
                    honeypot=data["website"],
                )
            except RateLimited as exc:
                return _too_many(request, lang, exc)
            except ValidationError as exc:
                _errors(form, exc)
            else:
                return _private(
                    render(
                        request, "intake/public_receipt.html", {"receipt": receipt, "lang": lang}
                    )
                )
        return _private(render(request, "intake/public_report.html", {"form": form, "lang": lang}))


@public
def public_follow_up(request: HttpRequest) -> HttpResponse:
    """Come back with the receipt code and passphrase (always a POST: nothing in the URL)."""
    lang = _public_language(request)
    with translation.override(lang):
        form = forms.FollowUpForm(request.POST or None)
        context: dict[str, Any] = {"form": form, "lang": lang}
        if request.method == "POST" and form.is_valid():
            who = visitor(request)
            try:
                report = actions.open_receipt(
                    who, form.cleaned_data["receipt"], form.cleaned_data["passphrase"]
                )
            except RateLimited as exc:
                return _too_many(request, lang, exc)
            except PermissionDenied:
                form.add_error(None, _("The receipt code or the passphrase is not right."))
                response = render(request, "intake/public_follow_up.html", context, status=403)
                return _private(response)
            add_form = forms.AddInformationForm(
                request.POST if "information" in request.POST else None
            )
            if "information" in request.POST and add_form.is_valid():
                try:
                    actions.add_reporter_information(
                        who, report, add_form.cleaned_data["information"]
                    )
                except RateLimited as exc:
                    return _too_many(request, lang, exc)
                except ValidationError as exc:
                    _errors(add_form, exc)
                else:
                    context["added"] = True
                    add_form = forms.AddInformationForm()
            context.update(
                report=report,
                conversation=list(selectors.conversation(report)),
                add_form=add_form,
            )
        return _private(render(request, "intake/public_follow_up.html", context))


# --- staff pages ------------------------------------------------------------------------------


@requires(Perm.INTAKE_HANDLE)
def queue(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    district = request.GET.get("district", "")[:8]
    reports = selectors.queue(
        request.user,
        state=state,
        district=district,
        national=request.GET.get("national") == "1",
        mine=request.GET.get("mine") == "1",
        channel=request.GET.get("channel", "")[:20],
    )[:300]
    return render(
        request,
        "intake/queue.html",
        {
            "reports": [(r, selectors.is_overdue(r)) for r in reports],
            "states": ReportState.choices,
            "channels": Channel.choices,
            "state": state,
        },
    )


@requires(Perm.INTAKE_RECORD)
def helpline(request: HttpRequest) -> HttpResponse:
    form = forms.HelplineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            report = actions.record_helpline_call(request.user, request=request, **data)
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("Recorded as report %(ref)s.") % {"ref": report.reference})
            return redirect("intake:helpline")
    return render(request, "intake/helpline.html", {"form": form})


@requires(Perm.INTAKE_HANDLE)
def report_detail(request: HttpRequest, reference: str) -> HttpResponse:
    report = selectors.load_report(request.user, reference)
    return _private(
        render(
            request,
            "intake/report_detail.html",
            {
                "report": report,
                "overdue": selectors.is_overdue(report),
                "conversation": selectors.conversation(report),
                "history": selectors.history(report),
                "cluster": selectors.cluster_of(report),
                "matches": selectors.referral_matches(request.user, report),
                "may_open_case": has_perm(request.user, Perm.CASE_CREATE),
                "refer_form": forms.ReferForm(),
                "close_form": forms.CloseForm(),
                "reply_form": forms.ReplyForm(),
                "assign_form": forms.AssignForm(),
                "route_form": forms.RouteForm(),
                "case_form": forms.OpenCaseForm(),
            },
        )
    )


def _form_errors(form: Any) -> str:
    """A form's errors as one message, each after its field's label."""
    return " ".join(
        f"{form.fields[name].label}: {' '.join(errors)}"
        if name in form.fields
        else " ".join(errors)
        for name, errors in form.errors.items()
    )


def _act(request: HttpRequest, reference: str, form_class: Any, act: Any) -> HttpResponse:
    report = selectors.load_report(request.user, reference)
    form = form_class(request.POST) if form_class is not None else None
    if form is not None and not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("intake:report", report.reference)
    try:
        done = act(report, form.cleaned_data if form is not None else {})
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("intake:report", report.reference)
    if isinstance(done, HttpResponse):
        return done
    return redirect("intake:report", report.reference)


@require_POST
@requires(Perm.INTAKE_HANDLE)
def report_screen(request: HttpRequest, reference: str) -> HttpResponse:
    return _act(
        request,
        reference,
        None,
        lambda r, d: actions.start_screening(request.user, r, request=request),
    )


@require_POST
@requires(Perm.INTAKE_HANDLE)
def report_refer(request: HttpRequest, reference: str) -> HttpResponse:
    return _act(
        request,
        reference,
        forms.ReferForm,
        lambda r, d: actions.refer_report(
            request.user, r, d["referred_to"], d["note"], request=request
        ),
    )


@require_POST
@requires(Perm.INTAKE_HANDLE)
def report_close(request: HttpRequest, reference: str) -> HttpResponse:
    return _act(
        request,
        reference,
        forms.CloseForm,
        lambda r, d: actions.close_report(request.user, r, d["reason"], d["note"], request=request),
    )


@require_POST
@requires(Perm.INTAKE_HANDLE)
def report_reply(request: HttpRequest, reference: str) -> HttpResponse:
    return _act(
        request,
        reference,
        forms.ReplyForm,
        lambda r, d: actions.reply_to_reporter(request.user, r, d["body"], request=request),
    )


@require_POST
@requires(Perm.INTAKE_HANDLE)
def report_assign(request: HttpRequest, reference: str) -> HttpResponse:
    def assign(report: Any, data: dict[str, Any]) -> Any:
        return actions.assign_report(request.user, report, data["username"], request=request)

    return _act(request, reference, forms.AssignForm, assign)


@require_POST
@requires(Perm.INTAKE_HANDLE)
def report_route(request: HttpRequest, reference: str) -> HttpResponse:
    def route(report: Any, data: dict[str, Any]) -> Any:
        actions.move_report_to_district(request.user, report, data["district"], request=request)
        if not has_perm(request.user, Perm.INTAKE_HANDLE, report):
            return redirect("intake:list")
        return None

    return _act(request, reference, forms.RouteForm, route)


@require_POST
@requires(Perm.INTAKE_HANDLE, Perm.CASE_CREATE)
def report_open_case(request: HttpRequest, reference: str) -> HttpResponse:
    def open_case(report: Any, data: dict[str, Any]) -> Any:
        case = actions.open_case_from_report(
            request.user,
            report,
            agency=data["agency"],
            police_station=data["police_station"],
            fir_number=data["fir_number"],
            request=request,
        )
        messages.success(request, _("Case %(ref)s opened.") % {"ref": case.reference})
        return redirect("cases:detail", case.reference)

    return _act(request, reference, forms.OpenCaseForm, open_case)


@requires(Perm.INTAKE_HANDLE)
def cluster_detail(request: HttpRequest, cluster_id: int) -> HttpResponse:
    cluster = selectors.load_cluster(request.user, cluster_id)
    return render(
        request,
        "intake/cluster.html",
        {
            "cluster": cluster,
            "reports": selectors.cluster_reports(request.user, cluster),
            "events": selectors.cluster_ip_events(request.user, cluster)[:500],
        },
    )


@requires(Perm.INTAKE_HANDLE)
def cluster_ip_export(request: HttpRequest, cluster_id: int) -> HttpResponse:
    """The cluster's IP capture events as CSV, for legal requests to providers (audited)."""
    cluster = selectors.load_cluster(request.user, cluster_id)
    events = list(selectors.cluster_ip_events(request.user, cluster))
    actions.record_ip_export(request.user, cluster, rows=len(events), request=request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="cluster-{cluster.pk}-ip-events.csv"'
    writer = csv.writer(response)
    writer.writerow(
        ["cybertipline_report", "ip_address", "event", "date_time_utc", "port", "possible_proxy"]
    )
    for event in events:
        writer.writerow(
            [
                event.tip.report_id_ncmec,
                event.ip_address,
                event.event_name,
                event.occurred_at.isoformat() if event.occurred_at else "",
                event.port or "",
                "" if event.possible_proxy is None else str(event.possible_proxy).lower(),
            ]
        )
    return _private(response)
