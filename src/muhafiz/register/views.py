"""Pages of the register (under /register/). Thin: load through selectors, write through
actions, render. Registrants appear by code; no page searches by name or CNIC, and no URL
carries either. Responses with a person's details are `Cache-Control: no-store`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from muhafiz.cases.models import Accused
from muhafiz.core.permissions import Perm, has_perm, requires, signed_in
from muhafiz.register import actions, forms, selectors
from muhafiz.register.models import (
    CheckStatus,
    Conviction,
    DueProcessRequest,
    NoticeRule,
    OrganisationStatus,
    PeriodRule,
    RegisterAlert,
    Registrant,
    RegistrantStatus,
    RuleSet,
)


def _registrant_page(code: str) -> str:
    return f"/register/registrants/{code}/"


def _apply(form: Any, exc: ValidationError) -> None:
    forms.apply_errors(form, exc)


def _submit(
    request: HttpRequest, form: Any, write: Callable[[dict[str, Any]], Any], done: str
) -> bool:
    """Run `write` with the form's data; True when it succeeded (errors go on the form)."""
    if not form.is_valid():
        return False
    try:
        write(form.cleaned_data)
    except ValidationError as exc:
        _apply(form, exc)
        return False
    messages.success(request, done)
    return True


# --- home, alerts, rules ------------------------------------------------------------------------


@signed_in
def home(request: HttpRequest) -> HttpResponse:
    perms = selectors.register_perms(request.user)
    return render(
        request,
        "register/home.html",
        {
            "due": selectors.due_for(request.user),
            "is_office": Perm.REGISTER_MANAGE in perms,
            "can_request": Perm.REGISTER_REQUEST in perms,
            "can_approve": Perm.REGISTER_APPROVE in perms,
            "can_vet": Perm.REGISTER_VET in perms,
            "alerts": selectors.alerts_for(request.user).filter(read_at__isnull=True)[:20],
        },
    )


@requires(Perm.REGISTER_MANAGE)
def rules(request: HttpRequest) -> HttpResponse:
    from muhafiz.register.support import rule_set

    period_rules, notice_rules = selectors.rule_versions(request.user)
    return render(
        request,
        "register/rules.html",
        {
            "period_rules": period_rules,
            "notice_rules": notice_rules,
            "rule_set": RuleSet(rule_set()).label,
            "may_change": selectors.may_change_rules(request.user),
        },
    )


def _rule_page(
    request: HttpRequest,
    rule: PeriodRule | NoticeRule,
    form: Any,
    change: Callable[..., Any],
    history: Any,
) -> HttpResponse:
    """A rule's change form (every field starting as the version in force) and its versions."""
    if request.method == "POST" and _submit(
        request,
        form,
        lambda d: change(
            request.user,
            rule,
            changes={k: d[k] for k in form.changed_fields},
            in_force_from=d["in_force_from"],
            reason=d["reason"],
            request=request,
        ),
        _("The rule's new version is recorded."),
    ):
        return redirect("register:rules")
    return render(
        request,
        "register/rule_form.html",
        {"form": form, "rule": rule, "history": history.select_related("changed_by")},
    )


@requires(Perm.REGISTER_MANAGE)
def rule_edit(request: HttpRequest, code: str) -> HttpResponse:
    rule = selectors.current_period_rule(request.user, code)
    form = forms.PeriodRuleForm(
        request.POST or None, initial=forms.PeriodRuleForm.initial_for(rule)
    )
    history = PeriodRule.objects.filter(code=rule.code)
    return _rule_page(request, rule, form, actions.change_period_rule, history)


@requires(Perm.REGISTER_MANAGE)
def notice_rule_edit(request: HttpRequest, kind: str) -> HttpResponse:
    rule = selectors.current_notice_rule(request.user, kind)
    form = forms.NoticeRuleForm(
        request.POST or None, initial=forms.NoticeRuleForm.initial_for(rule)
    )
    history = NoticeRule.objects.filter(kind=rule.kind)
    return _rule_page(request, rule, form, actions.change_notice_rule, history)


@signed_in
@require_POST
def alert_read(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = get_object_or_404(RegisterAlert, pk=alert_id, recipient_id=request.user.pk)
    actions.mark_alert_read(request.user, alert)
    messages.success(request, _("Alert marked read."))
    return redirect("register:home")


# --- registrants --------------------------------------------------------------------------------


@requires(Perm.REGISTER_MANAGE)
def registrant_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")[:12]
    compliance = request.GET.get("compliance", "")[:16]
    rows = selectors.registrant_list(request.user, status=status, compliance=compliance)[:200]
    return render(
        request,
        "register/registrant_list.html",
        {
            "registrants": rows,
            "pending": selectors.pending_convictions(request.user)[:100],
            "removals": selectors.removals_due(request.user)[:100],
        },
    )


# The forms of the registrant page: context name → (form, id prefix: several forms share a page).
REGISTRANT_FORMS: dict[str, tuple[type[Any], str]] = {
    "confirm_form": (forms.ConfirmForm, "confirm_%s"),
    "release_form": (forms.ReleaseForm, "release_%s"),
    "verification_form": (forms.VerificationForm, "visit_%s"),
    "notification_form": (forms.NotificationForm, "notice_%s"),
    "change_form": (forms.ChangeDetectedForm, "change_%s"),
    "removal_form": (forms.RemovalForm, "removal_%s"),
    "due_process_form": (forms.DueProcessForm, "dp_%s"),
    "decision_form": (forms.DueProcessDecisionForm, "decision_%s"),
}


def _registrant_post(
    request: HttpRequest,
    registrant: Registrant,
    key: str,
    write: Callable[[dict[str, Any]], Any],
    done: str,
) -> HttpResponse:
    """One form of the registrant page: write through the action, then back to the page (or
    to the list, once the entry is removed); on an error, the page with the form's errors."""
    form_class, auto_id = REGISTRANT_FORMS[key]
    form = form_class(request.POST, auto_id=auto_id)
    if not _submit(request, form, write, done):
        return _show_registrant(request, registrant, **{key: form})
    registrant.refresh_from_db()
    if registrant.status == RegistrantStatus.REMOVED:
        return redirect("register:registrants")
    return redirect(_registrant_page(registrant.code))


def _registrant_context(
    request: HttpRequest, registrant: Registrant, **forms_: Any
) -> dict[str, Any]:
    user = request.user
    office = has_perm(user, Perm.REGISTER_MANAGE, registrant)
    police = has_perm(user, Perm.REGISTER_VERIFY, registrant)
    context: dict[str, Any] = {
        "record": selectors.registrant_record(registrant),
        "office": office,
        "police": police,
        **{
            key: forms_.get(key) or form_class(auto_id=auto_id)
            for key, (form_class, auto_id) in REGISTRANT_FORMS.items()
        },
    }
    return context


def _show_registrant(request: HttpRequest, registrant: Registrant, **forms_: Any) -> HttpResponse:
    response = render(
        request, "register/registrant.html", _registrant_context(request, registrant, **forms_)
    )
    response["Cache-Control"] = "no-store"
    return response


@signed_in
@never_cache
def registrant_detail(request: HttpRequest, code: str) -> HttpResponse:
    registrant = selectors.load_registrant(request.user, code)
    return _show_registrant(request, registrant)


@requires(Perm.REGISTER_MANAGE)
@require_POST
def conviction_confirm(request: HttpRequest, code: str, conviction_id: int) -> HttpResponse:
    registrant = selectors.load_registrant(request.user, code)
    conviction = get_object_or_404(Conviction, pk=conviction_id, registrant=registrant)
    return _registrant_post(
        request,
        registrant,
        "confirm_form",
        lambda d: actions.confirm_conviction(
            request.user, conviction, sentence_months=d["sentence_months"], request=request
        ),
        _("Conviction confirmed."),
    )


@requires(Perm.REGISTER_MANAGE)
@require_POST
def release(request: HttpRequest, code: str) -> HttpResponse:
    registrant = selectors.load_registrant(request.user, code)
    return _registrant_post(
        request,
        registrant,
        "release_form",
        lambda d: actions.record_release(
            request.user,
            registrant,
            released_at=d["released_at"],
            address=d["address"],
            district=d["district"],
            request=request,
        ),
        _("Release recorded: the registration period has started."),
    )


@requires(Perm.REGISTER_VERIFY)
@require_POST
def verification(request: HttpRequest, code: str) -> HttpResponse:
    registrant = selectors.load_registrant(request.user, code)
    return _registrant_post(
        request,
        registrant,
        "verification_form",
        lambda d: actions.record_verification(
            request.user,
            registrant,
            visited_at=d["visited_at"],
            outcome=d["outcome"],
            district=d["district"],
            new_address=d["new_address"],
            photo_reference=d["photo_reference"],
            request=request,
        ),
        _("Verification recorded."),
    )


@requires(Perm.REGISTER_VERIFY)
@require_POST
def notification(request: HttpRequest, code: str) -> HttpResponse:
    registrant = selectors.load_registrant(request.user, code)
    return _registrant_post(
        request,
        registrant,
        "notification_form",
        lambda d: actions.record_notification(
            request.user,
            registrant,
            kind=d["kind"],
            changed_on=d["changed_on"],
            details=d["details"],
            how=d["how"],
            new_address=d["new_address"],
            district=d["district"],
            request=request,
        ),
        _("Notification recorded."),
    )


@requires(Perm.REGISTER_VERIFY)
@require_POST
def change_detected(request: HttpRequest, code: str) -> HttpResponse:
    registrant = selectors.load_registrant(request.user, code)
    return _registrant_post(
        request,
        registrant,
        "change_form",
        lambda d: actions.record_change_detected(
            request.user, registrant, kind=d["kind"], changed_on=d["changed_on"], request=request
        ),
        _("Recorded: the notification clock is running."),
    )


@requires(Perm.REGISTER_MANAGE)
@require_POST
def removal(request: HttpRequest, code: str) -> HttpResponse:
    registrant = selectors.load_registrant(request.user, code)
    return _registrant_post(
        request,
        registrant,
        "removal_form",
        lambda d: actions.remove_entry(
            request.user, registrant, reason=d["reason"], request=request
        ),
        _("Entry removed; the person's details are erased."),
    )


@requires(Perm.REGISTER_MANAGE)
@require_POST
def due_process(request: HttpRequest, code: str) -> HttpResponse:
    registrant = selectors.load_registrant(request.user, code)
    return _registrant_post(
        request,
        registrant,
        "due_process_form",
        lambda d: actions.submit_due_process(
            request.user,
            registrant,
            kind=d["kind"],
            grounds=d["grounds"],
            submitted_through=d["submitted_through"],
            request=request,
        ),
        _("Request received."),
    )


@requires(Perm.REGISTER_MANAGE)
@require_POST
def due_process_decide(request: HttpRequest, code: str, item_id: int) -> HttpResponse:
    registrant = selectors.load_registrant(request.user, code)
    item = get_object_or_404(DueProcessRequest, pk=item_id, registrant=registrant)
    return _registrant_post(
        request,
        registrant,
        "decision_form",
        lambda d: actions.decide_due_process(
            request.user,
            item,
            upheld=d["upheld"],
            reasons=d["reasons"],
            corrected_name=d["corrected_name"],
            new_rule=d["new_rule"],
            request=request,
        ),
        _("Decision recorded."),
    )


# --- case-bound checks --------------------------------------------------------------------------


@signed_in
def check_list(request: HttpRequest) -> HttpResponse:
    perms = selectors.register_perms(request.user, {Perm.REGISTER_REQUEST, Perm.REGISTER_APPROVE})
    return render(
        request,
        "register/check_list.html",
        {
            "checks": selectors.checks_for(request.user)[:200],
            "can_request": Perm.REGISTER_REQUEST in perms,
        },
    )


@requires(Perm.REGISTER_REQUEST)
def check_new(request: HttpRequest) -> HttpResponse:
    initial = {"case": request.GET.get("case", "")[:30]}
    form = forms.CheckRequestForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        from muhafiz.cases.selectors import load_case

        case = load_case(request.user, data["case"].strip().upper(), Perm.CASE_VIEW)
        accused = Accused.objects.filter(case=case, label=data["accused"].strip().upper()).first()
        if accused is None:
            form.add_error("accused", _("This case has no accused with that label."))
        else:
            try:
                check = actions.request_check(
                    request.user, case, accused, reason=data["reason"], request=request
                )
            except ValidationError as exc:
                _apply(form, exc)
            else:
                messages.success(request, _("Request sent to the District Public Prosecutor."))
                return redirect("register:check", check_id=check.pk)
    return render(request, "register/check_form.html", {"form": form})


@signed_in
def check_detail(request: HttpRequest, check_id: int) -> HttpResponse:
    check = selectors.load_check(request.user, check_id)
    return render(
        request,
        "register/check.html",
        {
            "check": check,
            "may_decide": selectors.may_decide(request.user, check),
            "is_requester": check.requested_by_id == request.user.pk,
            "approved": check.status == CheckStatus.APPROVED,
            "form": forms.CheckDecisionForm(),
        },
    )


@requires(Perm.REGISTER_APPROVE)
@require_POST
def check_decide(request: HttpRequest, check_id: int) -> HttpResponse:
    check = selectors.load_check(request.user, check_id)
    form = forms.CheckDecisionForm(request.POST)
    if _submit(
        request,
        form,
        lambda d: actions.decide_check(
            request.user,
            check,
            approve=d["decision"] == "approve",
            reason=d["reason"],
            request=request,
        ),
        _("Decision recorded."),
    ):
        return redirect("register:check", check_id=check.pk)
    return render(
        request,
        "register/check.html",
        {"check": check, "may_decide": True, "form": form, "is_requester": False},
    )


@requires(Perm.REGISTER_REQUEST)
@require_POST
@never_cache
def check_result(request: HttpRequest, check_id: int) -> HttpResponse:
    check = selectors.load_check(request.user, check_id)
    try:
        result = actions.view_check_result(request.user, check, request=request)
    except ValidationError as exc:
        raise Http404(" ".join(exc.messages)) from None
    response = render(request, "register/check_result.html", {"check": check, "result": result})
    response["Cache-Control"] = "no-store"
    return response


# --- vetting ------------------------------------------------------------------------------------


@requires(Perm.REGISTER_VET)
@never_cache
def vetting(request: HttpRequest) -> HttpResponse:
    organisation = actions.organisation_of(request.user)
    approved = organisation is not None and organisation.status == OrganisationStatus.APPROVED
    if not approved:
        return render(request, "register/vetting.html", {"organisation": organisation})
    form = forms.VettingForm(request.POST or None)
    answer = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            answer = actions.vet_applicant(request.user, request=request, **data)
        except ValidationError as exc:
            _apply(form, exc)
        else:
            form = forms.VettingForm()
    return render(
        request,
        "register/vetting.html",
        {"form": form, "answer": answer, "organisation": organisation, "approved": True},
    )


# --- organisations ------------------------------------------------------------------------------


@signed_in
def organisations(request: HttpRequest) -> HttpResponse:
    """The register office: organisations to approve and their members; an employer: their
    organisation, or the application form."""
    perms = selectors.register_perms(request.user, {Perm.REGISTER_MANAGE, Perm.REGISTER_VET})
    office = Perm.REGISTER_MANAGE in perms
    form = None
    if not office and actions.organisation_of(request.user) is None:
        form = forms.OrganisationApplicationForm(request.POST or None)
        if request.method == "POST" and _submit(
            request,
            form,
            lambda d: actions.apply_for_organisation(request.user, request=request, **d),
            _("Application sent to the register office."),
        ):
            return redirect("register:organisations")
    return render(
        request,
        "register/organisations.html",
        {
            "organisations": selectors.organisations_for(request.user)[:200],
            "office": office,
            "form": form,
            "decision_form": forms.OrganisationDecisionForm(auto_id="org_decision_%s"),
            "member_form": forms.OrganisationMemberForm(auto_id="org_member_%s"),
        },
    )


@requires(Perm.REGISTER_MANAGE)
@require_POST
def organisation_decide(request: HttpRequest, organisation_id: int) -> HttpResponse:
    organisation = selectors.load_organisation(request.user, organisation_id)
    form = forms.OrganisationDecisionForm(request.POST)
    if not _submit(
        request,
        form,
        lambda d: actions.decide_organisation(
            request.user, organisation, status=d["status"], reason=d["reason"], request=request
        ),
        _("Decision recorded."),
    ):
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect("register:organisations")


@requires(Perm.REGISTER_MANAGE)
@require_POST
def organisation_member(request: HttpRequest, organisation_id: int) -> HttpResponse:
    from muhafiz.accounts.models import ApiClient, User

    organisation = selectors.load_organisation(request.user, organisation_id)
    form = forms.OrganisationMemberForm(request.POST)

    def add(d: dict[str, Any]) -> Any:
        model = User if d["member_kind"] == "user" else ApiClient
        field = "username" if model is User else "name"
        member = model.objects.filter(**{field: d["name"].strip()}).first()
        if member is None:
            raise ValidationError({"name": _("No such staff member or API client.")})
        return actions.add_organisation_member(
            request.user, organisation, member=member, request=request
        )

    if not _submit(request, form, add, _("Member added.")):
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect("register:organisations")


@requires(Perm.REGISTER_MANAGE)
@never_cache
def applicant_answers(request: HttpRequest) -> HttpResponse:
    form = forms.ApplicantAnswersForm(request.POST or None)
    answers = None
    if request.method == "POST" and form.is_valid():
        try:
            answers = actions.answers_about_applicant(
                request.user,
                applicant_cnic=form.cleaned_data["applicant_cnic"],
                purpose=form.cleaned_data["purpose"],
                request=request,
            )
        except ValidationError as exc:
            _apply(form, exc)
    response = render(
        request, "register/applicant_answers.html", {"form": form, "answers": answers}
    )
    response["Cache-Control"] = "no-store"
    return response


# --- incidents ----------------------------------------------------------------------------------


@requires(Perm.REGISTER_MANAGE)
def incidents(request: HttpRequest) -> HttpResponse:
    form = forms.IncidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        registrant = None
        if data["registrant"]:
            registrant = Registrant.objects.filter(code=data["registrant"].strip()).first()
        if data["registrant"] and registrant is None:
            form.add_error("registrant", _("No registrant has this code."))
        else:
            try:
                actions.record_incident(
                    request.user,
                    kind=data["kind"],
                    occurred_on=data["occurred_on"],
                    description=data["description"],
                    registrant=registrant,
                    district=data["district"],
                    request=request,
                )
            except ValidationError as exc:
                _apply(form, exc)
            else:
                messages.success(request, _("Incident recorded."))
                return redirect("register:incidents")
    return render(
        request,
        "register/incidents.html",
        {"form": form, "incidents": selectors.incidents(request.user)[:200]},
    )
