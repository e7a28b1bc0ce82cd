"""Forms of the register pages. Identity fields are typed in by officers and go straight to the
actions (encrypted there); nothing here is ever put in a URL."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from muhafiz.accounts.models import ApiClient, User
from muhafiz.cases.models import Accused, Case
from muhafiz.catalogue.models import District
from muhafiz.core.forms import apply_errors
from muhafiz.core.identifiers import CnicField
from muhafiz.core.limits import max_length
from muhafiz.register.actions.rules import NOTICE_FIELDS, PERIOD_FIELDS
from muhafiz.register.models import (
    APPLICANT_PURPOSE_MAX_LENGTH,
    OFFENCE_CODES_MAX_LENGTH,
    Address,
    CheckRequest,
    DueProcessKind,
    DueProcessRequest,
    HowReceived,
    Incident,
    IncidentKind,
    NoticeKind,
    NoticeRule,
    NoticeUnit,
    Notification,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    PeriodRule,
    Registrant,
    Verification,
    VerificationOutcome,
    VettingRequest,
)

__all__ = ["apply_errors"]

DATETIME = {
    "input_formats": ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    "widget": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
}
DATE = {"widget": forms.DateInput(attrs={"type": "date"})}
_ADDRESS = max_length(Address, "address")
# A member is named by a staff username or an API client's name: the longer of the two.
MEMBER_NAME_MAX_LENGTH = max(max_length(User, "username"), max_length(ApiClient, "name"))


class DistrictChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", District.objects.all())
        kwargs.setdefault("to_field_name", "code")
        super().__init__(**kwargs)


class ConfirmForm(forms.Form):
    sentence_months = forms.IntegerField(
        label=_("Sentence in months (when it was not understood)"),
        required=False,
        min_value=0,
        max_value=1200,
    )


class ReleaseForm(forms.Form):
    released_at = forms.DateTimeField(label=_("Released from custody"), **DATETIME)  # type: ignore[arg-type]
    address = forms.CharField(
        label=_("Address on release"), required=False, max_length=_ADDRESS, widget=forms.Textarea
    )
    district = DistrictChoice(label=_("District of the address"), required=False)


class VerificationForm(forms.Form):
    visited_at = forms.DateTimeField(label=_("Visited"), **DATETIME)  # type: ignore[arg-type]
    outcome = forms.ChoiceField(label=_("Outcome"), choices=VerificationOutcome.choices)
    district = DistrictChoice(label=_("District"))
    new_address = forms.CharField(
        label=_("New address (if moved)"), required=False, max_length=_ADDRESS
    )
    photo_reference = forms.CharField(
        label=_("Photo reference (kept outside Muhafiz)"),
        required=False,
        max_length=max_length(Verification, "photo_reference"),
    )


class NotificationForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What changed"),
        choices=[c for c in NoticeKind.choices if c[0] != NoticeKind.INITIAL],
    )
    changed_on = forms.DateField(label=_("Date of the change (or of departure)"), **DATE)  # type: ignore[arg-type]
    how = forms.ChoiceField(label=_("How it was received"), choices=HowReceived.choices)
    details = forms.CharField(
        label=_("Details"), required=False, max_length=max_length(Notification, "details")
    )
    new_address = forms.CharField(label=_("New address"), required=False, max_length=_ADDRESS)
    district = DistrictChoice(label=_("District of the new address"), required=False)


class RemovalForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why the entry is removed"),
        choices=[
            ("period_ended", _("The registration period has ended")),
            ("acquittal", _("Acquitted on appeal")),
            ("entered_in_error", _("Entered in error")),
        ],
    )


class DueProcessForm(forms.Form):
    kind = forms.ChoiceField(label=_("Request"), choices=DueProcessKind.choices)
    submitted_through = forms.ChoiceField(
        label=_("Submitted through"),
        choices=[("register_officer", _("A register officer")), ("counsel", _("Counsel"))],
    )
    grounds = forms.CharField(
        label=_("Grounds"),
        max_length=max_length(DueProcessRequest, "grounds"),
        widget=forms.Textarea,
    )


class DueProcessDecisionForm(forms.Form):
    upheld = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("yes", _("Upheld")), ("no", _("Refused"))],
        coerce=lambda v: v == "yes",
    )
    reasons = forms.CharField(
        label=_("Reasons"),
        max_length=max_length(DueProcessRequest, "decision_reasons"),
        widget=forms.Textarea,
    )
    corrected_name = forms.CharField(
        label=_("Corrected name"), required=False, max_length=max_length(Registrant, "name")
    )
    new_rule = forms.ModelChoiceField(
        label=_("Rule that applies instead"),
        # The versions in force: one per code.
        queryset=PeriodRule.objects.filter(active=True, in_force_until__isnull=True),
        required=False,
        to_field_name="code",
    )


class CheckRequestForm(forms.Form):
    case = forms.CharField(label=_("Case reference"), max_length=max_length(Case, "reference"))
    accused = forms.CharField(
        label=_("Accused (label on the case, e.g. A1)"), max_length=max_length(Accused, "label")
    )
    reason = forms.CharField(
        label=_("Why the check is needed"),
        max_length=max_length(CheckRequest, "reason"),
        widget=forms.Textarea,
    )


class CheckDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("approve", _("Approve")), ("refuse", _("Refuse"))]
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=max_length(CheckRequest, "decision_reason")
    )


class VettingForm(forms.Form):
    position = forms.CharField(
        label=_("Position applied for"), max_length=max_length(VettingRequest, "position")
    )
    applicant_cnic = CnicField(label=_("Applicant's CNIC"))
    consent_reference = forms.CharField(
        label=_("Reference of the applicant's signed consent"),
        max_length=max_length(VettingRequest, "consent_reference"),
    )
    consent_given_on = forms.DateField(label=_("Consent given on"), **DATE)  # type: ignore[arg-type]


class ApplicantAnswersForm(forms.Form):
    applicant_cnic = CnicField(label=_("Applicant's CNIC"))
    purpose = forms.CharField(
        label=_("Why (the applicant's request)"), max_length=APPLICANT_PURPOSE_MAX_LENGTH
    )


class IncidentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=IncidentKind.choices)
    occurred_on = forms.DateField(label=_("When"), **DATE)  # type: ignore[arg-type]
    registrant = forms.CharField(
        label=_("Registrant code (if any)"),
        required=False,
        max_length=max_length(Registrant, "code"),
    )
    district = DistrictChoice(label=_("District"), required=False)
    description = forms.CharField(
        label=_("What happened"),
        max_length=max_length(Incident, "description"),
        widget=forms.Textarea,
    )


class ChangeDetectedForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What the police found out"),
        choices=[c for c in NoticeKind.choices if c[0] != NoticeKind.INITIAL],
    )
    changed_on = forms.DateField(
        label=_("Date of the change (for a journey abroad: the planned departure)"),
        **DATE,  # type: ignore[arg-type]
    )


MONTHS = {"required": False, "min_value": 0, "max_value": 1200}


class PeriodRuleForm(forms.Form):
    """A new version of a period rule; every field starts as the version in force."""

    name = forms.CharField(label=_("Name"), max_length=max_length(PeriodRule, "name"))
    name_ur = forms.CharField(
        label=_("Name (Urdu)"), max_length=max_length(PeriodRule, "name_ur"), required=False
    )
    tier = forms.CharField(
        label=_("Tier"), max_length=max_length(PeriodRule, "tier"), required=False
    )
    rank = forms.IntegerField(label=_("Severity rank"), min_value=0, max_value=1000)
    offence_codes = forms.CharField(
        label=_("Offences (catalogue codes, comma-separated; empty: any listed offence)"),
        max_length=OFFENCE_CODES_MAX_LENGTH,
        required=False,
    )
    min_sentence_months = forms.IntegerField(label=_("Sentence from (months)"), **MONTHS)  # type: ignore[arg-type]
    max_sentence_months = forms.IntegerField(label=_("Sentence up to (months)"), **MONTHS)  # type: ignore[arg-type]
    life_or_death = forms.BooleanField(label=_("Life or death sentence"), required=False)
    non_custodial = forms.BooleanField(label=_("No custodial sentence"), required=False)
    period_months = forms.IntegerField(
        label=_("Period (months; empty: without end)"),
        **MONTHS,  # type: ignore[arg-type]
    )
    verification_interval_months = forms.IntegerField(
        label=_("In-person verification every (months)"), min_value=1, max_value=120
    )
    review_after_months = forms.IntegerField(
        label=_("Review may be asked after (months from release)"),
        **MONTHS,  # type: ignore[arg-type]
    )
    review_reduction_months = forms.IntegerField(
        label=_("A granted review shortens the period by (months; empty: ends it)"),
        **MONTHS,  # type: ignore[arg-type]
    )
    review_decision_days = forms.IntegerField(
        label=_("Review decided within (days)"), required=False, min_value=1, max_value=365
    )
    source = forms.CharField(label=_("Source"), max_length=max_length(PeriodRule, "source"))
    verified = forms.BooleanField(label=_("Verified against the law"), required=False)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea)
    active = forms.BooleanField(label=_("In use"), required=False)
    in_force_from = forms.DateField(label=_("In force from"), **DATE)  # type: ignore[arg-type]
    reason = forms.CharField(
        label=_("Reason for the change"), max_length=max_length(PeriodRule, "change_reason")
    )

    changed_fields = PERIOD_FIELDS

    def clean_offence_codes(self) -> list[str]:
        raw = self.cleaned_data.get("offence_codes") or ""
        return [code.strip() for code in raw.split(",") if code.strip()]

    @staticmethod
    def initial_for(rule: PeriodRule) -> dict[str, Any]:
        initial = rule_initial(rule, PERIOD_FIELDS)
        initial["offence_codes"] = ", ".join(rule.offence_codes or [])
        return initial


def rule_initial(rule: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """A rule's form starts as the version in force, from today."""
    return {**{name: getattr(rule, name) for name in fields}, "in_force_from": timezone.localdate()}


class NoticeRuleForm(forms.Form):
    amount = forms.IntegerField(label=_("Limit"), min_value=1, max_value=365)
    unit = forms.ChoiceField(
        label=_("Unit"),
        choices=NoticeUnit.choices,
    )
    in_advance = forms.BooleanField(label=_("Due ahead of the event"), required=False)
    source = forms.CharField(label=_("Source"), max_length=max_length(NoticeRule, "source"))
    verified = forms.BooleanField(label=_("Verified against the law"), required=False)
    in_force_from = forms.DateField(label=_("In force from"), **DATE)  # type: ignore[arg-type]
    reason = forms.CharField(
        label=_("Reason for the change"), max_length=max_length(NoticeRule, "change_reason")
    )

    changed_fields = NOTICE_FIELDS

    @staticmethod
    def initial_for(rule: NoticeRule) -> dict[str, Any]:
        return rule_initial(rule, NOTICE_FIELDS)


class OrganisationApplicationForm(forms.Form):
    name = forms.CharField(
        label=_("Name of the organisation"), max_length=max_length(Organisation, "name")
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=OrganisationKind.choices)
    registration_number = forms.CharField(
        label=_("Registration number"), max_length=max_length(Organisation, "registration_number")
    )
    district = DistrictChoice(label=_("District"))


class OrganisationDecisionForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (OrganisationStatus.APPROVED, _("Approve")),
            (OrganisationStatus.REFUSED, _("Refuse")),
            (OrganisationStatus.SUSPENDED, _("Suspend")),
        ],
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=max_length(Organisation, "decision_reason")
    )


class OrganisationMemberForm(forms.Form):
    member_kind = forms.ChoiceField(
        label=_("Member"), choices=[("user", _("Staff member")), ("client", _("API client"))]
    )
    name = forms.CharField(
        label=_("Username or API client name"), max_length=MEMBER_NAME_MAX_LENGTH
    )
