"""Pages of the case database. Thin: load through selectors (which check the right on the
object), write through actions, render. Victims appear by code; identity is shown only in the
response to an audited POST, never in a URL."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from muhafiz.cases import actions, forms, selectors
from muhafiz.cases.models import (
    Accused,
    Alert,
    Case,
    ReferralStatus,
    TeamJoinRequest,
    TeamJoinStatus,
    TeamMember,
    Victim,
    Witness,
)
from muhafiz.cases.search import IDENTIFIER_MAX_LENGTH, search_cases
from muhafiz.core.pages import paginate
from muhafiz.core.permissions import Perm, requires, signed_in


def _form_case(request: HttpRequest, reference: str, *perms: Perm) -> Case:
    """The case of a form page. Showing the empty form is a read (the form carries the case's
    data), so it needs `perms`; a submitted form goes to the action, which decides (a refusal
    is PermissionDenied, which Django answers 403)."""
    if request.method == "POST":
        return selectors.find_case(request.user, reference)
    return selectors.load_case(request.user, reference, *perms)


def _htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").replace(",", "\n").splitlines() if line.strip()]


def _victim_identity(data: dict[str, Any]) -> actions.VictimIdentity:
    """The identity fields of a victim form's cleaned data as the actions take them."""
    return actions.VictimIdentity(
        name=data["name"],
        cnic=data["cnic"],
        birth_date=data["birth_date"],
        estimated_age=data["estimated_age"],
        guardian_name=data["guardian_name"],
        address=data["address"],
        phones=_lines(data["phones"]),
        confirmed=bool(data.get("confirmed")),
    )


def _accused_details(data: dict[str, Any]) -> actions.AccusedDetails:
    """The accused form's cleaned data as the actions take it."""
    return actions.AccusedDetails(
        name=data["name"],
        aliases=data["aliases"],
        cnic=data["cnic"],
        phones=_lines(data["phones"]),
        handles=_lines(data["handles"]),
        emails=_lines(data["emails"]),
        addresses=data["addresses"],
        status=data["status"],
    )


# --- list, create -------------------------------------------------------------------------------


# Rows per page of the case list, the alerts and the referral queue.
CASES_PER_PAGE = 50
ALERTS_PER_PAGE = 50
REFERRALS_PER_PAGE = 50


# An accused's CNIC, phone or handle is never put in a URL (access logs, browser history,
# Referer): the search form is posted, the identifier kept in the server-side session under a
# random token, and the list, its pages and its CSV carry only the token (`found`).
IDENTIFIER_SEARCHES = "cases.identifier_searches"
IDENTIFIER_SEARCHES_KEPT = 20


def _search_data(request: HttpRequest) -> QueryDict | None:
    """The list's search from the URL, with the identifier of its token (never one typed
    into the URL itself)."""
    if not request.GET:
        return None
    data = request.GET.copy()
    data.pop("identifier", None)
    token = data.get("found", "")
    saved = request.session.get(IDENTIFIER_SEARCHES, {}) if token else {}
    if token in saved:
        data["identifier"] = saved[token]
    return data


def _search_redirect(request: HttpRequest) -> HttpResponse:
    """Post → redirect → get: the posted search as a URL, its identifier replaced by a token."""
    skip = {"csrfmiddlewaretoken", "identifier", "page", "found"}
    params = [(k, v) for k, values in request.POST.lists() if k not in skip for v in values if v]
    identifier = request.POST.get("identifier", "").strip()[:IDENTIFIER_MAX_LENGTH]
    if identifier:
        token = secrets.token_urlsafe(12)
        saved = dict(request.session.get(IDENTIFIER_SEARCHES, {}))
        saved[token] = identifier
        request.session[IDENTIFIER_SEARCHES] = dict(list(saved.items())[-IDENTIFIER_SEARCHES_KEPT:])
        params.append(("found", token))
    target = reverse("cases:list")
    return redirect(f"{target}?{urlencode(params)}" if params else target)


@signed_in
def case_list(request: HttpRequest) -> HttpResponse:
    """Search and filter the cases the person may open, a page at a time."""
    if request.method == "POST":
        return _search_redirect(request)
    form = forms.CaseSearchForm(_search_data(request))
    search = form.search()
    page, query = paginate(request, search_cases(request.user, search), CASES_PER_PAGE)
    return render(
        request,
        "cases/case_list.html",
        {
            "form": form,
            "page": page,
            "cases": page.object_list,
            "query": query,
            "searched": bool(query),
            **selectors.case_list_rights(request.user),
        },
    )


@requires(Perm.CASE_CREATE)
def case_create(request: HttpRequest) -> HttpResponse:
    form = forms.CaseForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = actions.create_case(
                request.user,
                district=data["district"],
                agency=data["agency"],
                police_station=data["police_station"],
                fir_number=data["fir_number"],
                reported_at=data["reported_at"],
                summary=data["summary"],
                facts=data["facts"],
                offences=list(data["offences"]),
                request=request,
            )
        except ValidationError as exc:
            forms.apply_errors(form, exc)
        else:
            messages.success(request, _("Case %(ref)s opened.") % {"ref": case.reference})
            return redirect("cases:detail", reference=case.reference)
    return render(request, "cases/case_form.html", {"form": form, "case": None})


# --- the case page, one section a page -----------------------------------------------------------
# Overview, parties, referrals and history are here; proceedings and clocks, evidence and scans,
# links and network are the upper apps' pages under the same /cases/<reference>/ (each shows the
# same section bar, `{% case_sections %}`).


@signed_in
def case_detail(request: HttpRequest, reference: str) -> HttpResponse:
    """The overview: what the case is, its facts and sections of law, and its team."""
    case = selectors.load_case_page(request.user, reference)
    rights = selectors.case_rights(request.user, case)
    context: dict[str, Any] = {"case": case, "rights": rights, "section": "overview"}
    if rights["view"]:
        context.update(
            offences=case.offences.all(),
            advice=selectors.case_section_advice(case),
            team=case.team.select_related("user"),
            team_form=forms.TeamForm(),
            team_request_form=forms.TeamRequestForm(),
            join_requests=case.join_requests.filter(status=TeamJoinStatus.REQUESTED).select_related(
                "user", "requested_by"
            ),
        )
    if rights["welfare"] and not rights["view"]:
        context["welfare_join"] = selectors.welfare_join_state(request.user, case)
        context["welfare_join_form"] = forms.WelfareJoinForm(
            initial={"team_role": getattr(request.user, "role", "")}
        )
    return render(request, "cases/case_detail.html", context)


@signed_in
def case_parties(request: HttpRequest, reference: str) -> HttpResponse:
    """Victims (by code; to the investigation team and to child protection), the accused and
    the witnesses (to the investigation team)."""
    case = selectors.load_case_page(request.user, reference)
    rights = selectors.case_rights(request.user, case)
    context: dict[str, Any] = {
        "case": case,
        "rights": rights,
        "section": "parties",
        "victims": selectors.case_victims(case),
    }
    if rights["view"]:
        context.update(
            accused=selectors.case_accused(case), witnesses=Witness.objects.filter(case=case)
        )
    return render(request, "cases/case_parties.html", context)


@requires(Perm.WELFARE_VIEW)
def case_referrals(request: HttpRequest, reference: str) -> HttpResponse:
    case = selectors.load_case(request.user, reference, Perm.WELFARE_VIEW)
    context = {
        "case": case,
        "rights": selectors.case_rights(request.user, case),
        "section": "referrals",
        "referrals": selectors.case_referrals(case),
    }
    return render(request, "cases/case_referrals.html", context)


@requires(Perm.CASE_VIEW)
def case_history(request: HttpRequest, reference: str) -> HttpResponse:
    """Closure and reopening, with the form that does either."""
    case = selectors.load_case(request.user, reference, Perm.CASE_VIEW)
    context = {
        "case": case,
        "rights": selectors.case_rights(request.user, case),
        "section": "history",
        "status_changes": case.status_changes.select_related("changed_by"),
        "reason_form": forms.ReasonForm(),
    }
    return render(request, "cases/case_history.html", context)


@requires(Perm.CASE_EDIT)
def case_edit(request: HttpRequest, reference: str) -> HttpResponse:
    case = _form_case(request, reference, Perm.CASE_EDIT)
    initial = {
        "agency": case.agency.code,
        "police_station": case.police_station_id,
        "fir_number": case.fir_number,
        "summary": case.summary,
        "facts": sorted(case.facts()),
        "offences": list(case.offences.values_list("code", flat=True)),
    }
    form = forms.CaseEditForm(request.POST or None, initial=initial, district=case.district)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.update_case(
                request.user,
                case,
                agency=data["agency"],
                police_station=data["police_station"],
                fir_number=data["fir_number"],
                summary=data["summary"],
                facts=data["facts"],
                offences=list(data["offences"]),
                request=request,
            )
        except ValidationError as exc:
            forms.apply_errors(form, exc)
        else:
            return redirect("cases:detail", reference=case.reference)
    return render(request, "cases/case_form.html", {"form": form, "case": case})


@requires(Perm.CASE_EDIT)
@require_POST
def add_offences(request: HttpRequest, reference: str) -> HttpResponse:
    case = selectors.find_case(request.user, reference)
    codes = [c for c in request.POST.getlist("code") if c][:40]
    error = ""
    try:
        actions.add_offences(request.user, case, codes, request=request)
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if _htmx(request):
        # The partial replaces the section in place: the refusal is said there, not later.
        return render(
            request,
            "cases/_sections.html",
            {
                "case": case,
                "offences": case.offences.all(),
                "advice": selectors.case_section_advice(case),
                "rights": selectors.case_rights(request.user, case),
                "error": error,
            },
        )
    if error:
        messages.error(request, error)
    return redirect("cases:detail", reference=case.reference)


def _refused_reason(request: HttpRequest, form: Any) -> None:
    """Say why a form with a reason was refused: no reason given, or what is wrong (a reason
    too long, an unknown choice)."""
    if not (request.POST.get("reason") or "").strip():
        messages.error(request, _("Give a reason."))
        return
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))


def _status_change(request: HttpRequest, reference: str, close: bool) -> HttpResponse:
    case = selectors.find_case(request.user, reference)
    form = forms.ReasonForm(request.POST)
    if form.is_valid():
        try:
            change = actions.close_case if close else actions.reopen_case
            change(request.user, case, form.cleaned_data["reason"], request=request)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        _refused_reason(request, form)
    return redirect("cases:history", reference=case.reference)


@requires(Perm.CASE_EDIT)
@require_POST
def case_close(request: HttpRequest, reference: str) -> HttpResponse:
    return _status_change(request, reference, close=True)


@requires(Perm.CASE_EDIT)
@require_POST
def case_reopen(request: HttpRequest, reference: str) -> HttpResponse:
    return _status_change(request, reference, close=False)


@requires(Perm.CASE_OVERSEE)
@require_POST
def team_add(request: HttpRequest, reference: str) -> HttpResponse:
    """A supervisor overseeing the case adds someone directly; others ask (`team_request`)."""
    case = selectors.find_case(request.user, reference)
    form = forms.TeamForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.add_team_member(
                request.user, case, data["username"], data["team_role"], request=request
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    elif not (request.POST.get("username") or "").strip():
        messages.error(request, _("Give the user name of the person to add."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
    return redirect("cases:detail", reference=case.reference)


@signed_in
@require_POST
def team_request(request: HttpRequest, reference: str) -> HttpResponse:
    """Ask to join the case team (or, as a member, ask for a colleague); a supervisor decides."""
    case = selectors.load_case_page(request.user, reference)
    form = forms.TeamRequestForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.request_team_join(
                request.user,
                case,
                data["team_role"],
                data["reason"],
                user=data["username"] or None,
                request=request,
            )
            messages.success(request, _("Your request was sent to the case's supervisors."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, _("Say why the person needs to be on the team."))
    return redirect("cases:detail", reference=case.reference)


@requires(Perm.CASE_OVERSEE)
@require_POST
def team_decide(
    request: HttpRequest, reference: str, request_id: int, decision: str
) -> HttpResponse:
    case = selectors.find_case(request.user, reference)
    join = get_object_or_404(TeamJoinRequest, case=case, pk=request_id)
    if decision not in ("approve", "refuse"):
        raise Http404
    form = forms.DecisionNoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        actions.decide_team_join(request.user, join, decision == "approve", note, request=request)
        messages.success(
            request,
            _("The request was approved.")
            if decision == "approve"
            else _("The request was refused."),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("cases:detail", reference=case.reference)


@requires(Perm.CASE_EDIT)
@require_POST
def team_remove(request: HttpRequest, reference: str, member_id: int) -> HttpResponse:
    case = selectors.find_case(request.user, reference)
    member = get_object_or_404(TeamMember, case=case, pk=member_id)
    form = forms.ReasonForm(request.POST)
    if form.is_valid():
        actions.remove_team_member(
            request.user, member, form.cleaned_data["reason"], request=request
        )
    else:
        _refused_reason(request, form)
    return redirect("cases:detail", reference=case.reference)


# --- victims ------------------------------------------------------------------------------------


@requires(Perm.CASE_EDIT, Perm.VICTIM_IDENTITY)
def victim_create(request: HttpRequest, reference: str) -> HttpResponse:
    case = _form_case(request, reference, Perm.CASE_EDIT, Perm.VICTIM_IDENTITY)
    form = forms.VictimForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            victim = actions.add_victim(
                request.user,
                case,
                _victim_identity(data),
                gender=data["gender"],
                consent_sharing=data["consent_sharing"],
                consent_referral=data["consent_referral"],
                consent_statistics=data["consent_statistics"],
                request=request,
            )
        except ValidationError as exc:
            forms.apply_errors(form, exc)
        else:
            messages.success(
                request, _("Victim recorded as %(code)s.") % {"code": victim.pseudonym}
            )
            return redirect("cases:parties", reference=case.reference)
    response = render(request, "cases/victim_form.html", {"form": form, "case": case})
    response["Cache-Control"] = "no-store"  # a refused form carries the identity typed in
    return response


@signed_in
def victim_detail(request: HttpRequest, reference: str, code: str) -> HttpResponse:
    case = selectors.load_case_page(request.user, reference)
    victim = selectors.load_victim(request.user, case, code)
    return render(request, "cases/victim_detail.html", _victim_context(request, case, victim))


def _victim_context(request: HttpRequest, case: Case, victim: Victim, **extra: Any) -> Any:
    rights = selectors.case_rights(request.user, case)
    return {
        "case": case,
        "victim": victim,
        "rights": rights,
        "can_consent": rights["consent"],
        "overrides": victim.consent_overrides.select_related("decided_by"),
        "purpose_form": forms.PurposeForm(),
        "consent_form": forms.ConsentForm(
            initial={
                "consent_sharing": victim.consent_sharing,
                "consent_referral": victim.consent_referral,
                "consent_statistics": victim.consent_statistics,
            }
        ),
        "override_form": forms.OverrideForm(),
        **extra,
    }


@requires(Perm.VICTIM_IDENTITY)
@require_POST
def victim_identity(request: HttpRequest, reference: str, code: str) -> HttpResponse:
    """Show the identity in the response to this POST only; the read is audited first."""
    case = selectors.find_case(request.user, reference)
    victim = selectors.load_victim(request.user, case, code)
    form = forms.PurposeForm(request.POST)
    identity = None
    if form.is_valid():
        try:
            identity = actions.reveal_victim_identity(
                request.user, victim, form.cleaned_data["purpose"], request=request
            )
        except ValidationError as exc:
            forms.apply_errors(form, exc)
    template = "cases/_identity.html" if _htmx(request) else "cases/victim_detail.html"
    extra: dict[str, Any] = {"identity": identity, "purpose_form": form}
    if identity is not None and selectors.case_rights(request.user, case)["edit"]:
        extra["edit_form"] = _identity_form(identity)
    response = render(request, template, _victim_context(request, case, victim, **extra))
    response["Cache-Control"] = "no-store"
    return response


class _IdentityForm(forms.ReplacesEveryField, forms.VictimForm):
    """The identity part of the victim form (consents are set on their own form); it replaces
    every identity field, so each must be sent."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("consent_sharing", "consent_referral", "consent_statistics", "gender"):
            del self.fields[name]


def _identity_form(identity: dict[str, Any]) -> forms.VictimForm:
    initial = {**identity, "phones": "\n".join(identity.get("phones", []))}
    return _IdentityForm(initial=initial, prefix="edit")


@requires(Perm.CASE_EDIT, Perm.VICTIM_IDENTITY)
@require_POST
def victim_identity_edit(request: HttpRequest, reference: str, code: str) -> HttpResponse:
    """Replace the identity fields; the form was shown only after an audited reveal."""
    case = selectors.find_case(request.user, reference)
    victim = selectors.load_victim(request.user, case, code)
    form = _IdentityForm(request.POST, prefix="edit")
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.update_victim_identity(
                request.user,
                victim,
                _victim_identity(data),
                request=request,
            )
        except ValidationError as exc:
            forms.apply_errors(form, exc)
        else:
            messages.success(request, _("Identity saved."))
            return redirect("cases:victim", reference=case.reference, code=victim.pseudonym)
    response = render(
        request,
        "cases/victim_detail.html",
        _victim_context(request, case, victim, edit_form=form),
    )
    response["Cache-Control"] = "no-store"
    return response


@requires(Perm.VICTIM_CONSENT)
@require_POST
def victim_consents(request: HttpRequest, reference: str, code: str) -> HttpResponse:
    case = selectors.load_case_page(request.user, reference)
    victim = selectors.load_victim(request.user, case, code)
    form = forms.ConsentForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        actions.set_victim_consents(
            request.user,
            victim,
            sharing=data["consent_sharing"],
            referral=data["consent_referral"],
            statistics=data["consent_statistics"],
            request=request,
        )
        messages.success(request, _("Consents saved."))
    return redirect("cases:victim", reference=case.reference, code=victim.pseudonym)


@requires(Perm.CASE_EDIT)
@require_POST
def victim_override(request: HttpRequest, reference: str, code: str) -> HttpResponse:
    case = selectors.find_case(request.user, reference)
    victim = selectors.load_victim(request.user, case, code)
    form = forms.OverrideForm(request.POST)
    if form.is_valid():
        try:
            actions.override_consent(
                request.user,
                victim,
                form.cleaned_data["consent"],
                form.cleaned_data["reason"],
                request=request,
            )
            messages.success(request, _("Override recorded."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        _refused_reason(request, form)
    return redirect("cases:victim", reference=case.reference, code=victim.pseudonym)


# --- accused and witnesses ----------------------------------------------------------------------


@requires(Perm.CASE_EDIT)
def accused_create(request: HttpRequest, reference: str) -> HttpResponse:
    case = _form_case(request, reference, Perm.CASE_EDIT)
    form = forms.AccusedForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            accused = actions.add_accused(
                request.user,
                case,
                _accused_details(form.cleaned_data),
                request=request,
            )
        except ValidationError as exc:
            forms.apply_errors(form, exc)
        else:
            messages.success(
                request, _("Accused recorded as %(label)s.") % {"label": accused.label}
            )
            return redirect("cases:accused", reference=case.reference, label=accused.label)
    return render(request, "cases/accused_form.html", {"form": form, "case": case})


@requires(Perm.CASE_EDIT)
def accused_edit(request: HttpRequest, reference: str, label: str) -> HttpResponse:
    case = _form_case(request, reference, Perm.CASE_EDIT)
    accused = get_object_or_404(Accused, case=case, label=label)
    initial = {
        "name": accused.name,
        "aliases": accused.aliases,
        "cnic": " ".join(accused.identifier_values("cnic")),
        "phones": "\n".join(accused.identifier_values("phone")),
        "handles": "\n".join(accused.identifier_values("handle")),
        "emails": "\n".join(accused.identifier_values("email")),
        "addresses": accused.addresses,
        "status": accused.status,
    }
    form = forms.AccusedForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_accused(
                request.user,
                accused,
                _accused_details(form.cleaned_data),
                request=request,
            )
        except ValidationError as exc:
            forms.apply_errors(form, exc)
        else:
            return redirect("cases:accused", reference=case.reference, label=accused.label)
    return render(
        request, "cases/accused_form.html", {"form": form, "case": case, "accused": accused}
    )


@requires(Perm.CASE_VIEW)
def accused_detail(request: HttpRequest, reference: str, label: str) -> HttpResponse:
    case = selectors.load_case(request.user, reference, Perm.CASE_VIEW)
    accused = get_object_or_404(Accused, case=case, label=label)
    links = selectors.accused_links_for(request.user, accused)
    return render(
        request,
        "cases/accused_detail.html",
        {
            "case": case,
            "accused": accused,
            "links": links,
            "can_edit": selectors.case_rights(request.user, case)["edit"],
        },
    )


@requires(Perm.CASE_EDIT)
def witness_create(request: HttpRequest, reference: str) -> HttpResponse:
    case = _form_case(request, reference, Perm.CASE_EDIT)
    form = forms.WitnessForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.add_witness(
                request.user,
                case,
                name=data["name"],
                phones=_lines(data["phones"]),
                address=data["address"],
                relation=data["relation"],
                is_child=data["is_child"],
                request=request,
            )
        except ValidationError as exc:
            forms.apply_errors(form, exc)
        else:
            return redirect("cases:parties", reference=case.reference)
    return render(request, "cases/witness_form.html", {"form": form, "case": case})


# --- referrals ----------------------------------------------------------------------------------


@requires(Perm.CASE_EDIT)
def referral_create(request: HttpRequest, reference: str) -> HttpResponse:
    case = _form_case(request, reference, Perm.CASE_EDIT)
    codes = list(Victim.objects.filter(case=case).values_list("pseudonym", flat=True))
    form = forms.ReferralForm(request.POST or None, codes=codes)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.refer_victim(
                request.user,
                data["victim"],
                case=case,
                needs=data["needs"],
                officer=data["officer"] or None,
                request=request,
            )
        except ValidationError as exc:
            forms.apply_errors(form, exc)
        else:
            return redirect("cases:referrals", reference=case.reference)
    return render(request, "cases/referral_form.html", {"form": form, "case": case})


@requires(Perm.WELFARE_EDIT)
@require_POST
def referral_decide(
    request: HttpRequest, reference: str, referral_id: int, decision: str
) -> HttpResponse:
    case = selectors.find_case(request.user, reference)
    form = forms.NoteForm(request.POST)
    if not form.is_valid():
        # An over-long note is refused, never dropped with the decision taken without it.
        for error in form.errors.get("note", []):
            messages.error(request, str(error))
        return redirect("cases:detail", reference=case.reference)
    note = form.cleaned_data["note"]
    try:
        actions.decide_referral(
            request.user, referral_id, decision, note, case=case, request=request
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Referral decision recorded."))
    return redirect("cases:referrals", reference=case.reference)


# --- statistics and alerts ----------------------------------------------------------------------


@requires(Perm.STATS_VIEW)
def statistics(request: HttpRequest) -> HttpResponse:
    """The old victim counts page: the staff statistics replace it (by gender and age band,
    with filters, from the summary tables); old links and bookmarks land there."""
    return redirect("insights:staff", permanent=True)


@signed_in
def alerts(request: HttpRequest) -> HttpResponse:
    page, query = paginate(request, selectors.alerts_for(request.user), ALERTS_PER_PAGE)
    return render(
        request, "cases/alerts.html", {"alerts": page.object_list, "page": page, "query": query}
    )


@signed_in
@require_POST
def alert_read(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = get_object_or_404(Alert, pk=alert_id, recipient_id=request.user.pk)
    actions.mark_alert_read(request.user, alert)
    messages.success(request, _("Alert marked read."))
    # Marked from the home page's queue: back there.
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        return redirect(target)
    return redirect("cases:alerts")


# --- export -------------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "reference",
    "district",
    "police_station",
    "fir_number",
    "status",
    "reported_at",
    "facts",
    "offences",
    "victims",
    "victim_age_bands",
    "accused",
)


@requires(Perm.CASE_VIEW)
def case_export(request: HttpRequest) -> HttpResponse:
    """The cases the person may see, as CSV: references, codes and counts, never identities."""

    from muhafiz.core import spreadsheet

    search = forms.CaseSearchForm(_search_data(request)).search()
    cases = (
        selectors.visible_cases(request.user)
        .filter(pk__in=search_cases(request.user, search).values("pk"))
        .prefetch_related(
            "offences",
            Prefetch(
                "victims", queryset=Victim.objects.only("pk", "case_id", "pseudonym", "age_band")
            ),
            Prefetch("accused", queryset=Accused.objects.only("pk", "case_id", "label")),
        )
        .order_by("reference")[:5000]
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="cases.csv"'
    writer = spreadsheet.writer(response)
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for case in cases:
        victims = list(case.victims.all())
        writer.writerow(
            [
                case.reference,
                case.district.code,
                case.police_station.name if case.police_station else "",
                case.fir_number,
                case.status,
                case.reported_at.isoformat(),
                " ".join(sorted(case.facts())),
                " ".join(sorted(o.code for o in case.offences.all())),
                " ".join(v.pseudonym for v in victims),
                " ".join(v.age_band for v in victims),
                " ".join(a.label for a in case.accused.all()),
            ]
        )
        count += 1
    actions.record_case_export(request.user, rows=count, query=search.text, request=request)
    return response


# --- section rules ------------------------------------------------------------------------------


@signed_in
def section_rules(request: HttpRequest) -> HttpResponse:
    """The rules behind section suggestions; catalogue editors add and retire them."""
    from muhafiz.cases.models import SectionRule

    form = forms.SectionRuleForm(request.POST or None)
    # On a post the action decides (PermissionDenied: 403).
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.add_section_rule(
                request.user,
                facts=data["facts"],
                offence_code=data["offence_code"].code,
                explanation=data["explanation"],
                weaker_codes=_lines(data["weaker_codes"]),
                source=data["source"],
                request=request,
            )
        except ValidationError as exc:
            forms.apply_errors(form, exc)
        else:
            return redirect("cases:section_rules")
    return render(
        request,
        "cases/section_rules.html",
        {
            "rules": SectionRule.objects.all(),
            "form": form,
            "can_edit": selectors.case_list_rights(request.user)["can_edit_rules"],
        },
    )


@requires(Perm.CATALOGUE_EDIT)
@require_POST
def section_rule_active(request: HttpRequest, rule_id: int) -> HttpResponse:
    from muhafiz.cases.models import SectionRule

    rule = get_object_or_404(SectionRule, pk=rule_id)
    active = request.POST.get("active") == "1"
    actions.set_section_rule_active(request.user, rule, active, request=request)
    messages.success(request, _("Rule switched on.") if active else _("Rule switched off."))
    return redirect("cases:section_rules")


@requires(Perm.WELFARE_VIEW)
def referral_queue(request: HttpRequest) -> HttpResponse:
    """The child-protection officer's work: referrals in the cases of their jurisdiction."""
    status = request.GET.get("status", "")
    status = status if status in ReferralStatus.values else ""
    mine = request.GET.get("mine") == "1"
    referrals = selectors.referral_queue(request.user, status)
    if mine:
        referrals = referrals.filter(officer_id=request.user.pk)
    page, query = paginate(request, referrals, REFERRALS_PER_PAGE)
    return render(
        request,
        "cases/referral_queue.html",
        {
            "referrals": page.object_list,
            "page": page,
            "query": query,
            "status": status,
            "statuses": ReferralStatus.choices,
            "mine": mine,
        },
    )


@requires(Perm.CASE_CREATE)
def stations(request: HttpRequest) -> HttpResponse:
    """The police stations of one district, as <option>s for the case form (htmx)."""
    from muhafiz.catalogue.models import PoliceStation

    rows = PoliceStation.objects.filter(district__code=request.GET.get("district", "")[:8])
    return render(request, "cases/_station_options.html", {"stations": rows})
