"""Forms of the register pages. Identity fields are typed in by officers and go straight to the
actions (encrypted there); nothing here is ever put in a URL."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from muhafiz.catalogue.models import District
from muhafiz.core.forms import apply_errors
from muhafiz.core.identifiers import CnicField
from muhafiz.register.models import (
    DueProcessKind,
    HowReceived,
    IncidentKind,
    NoticeKind,
    PeriodRule,
    VerificationOutcome,
)

__all__ = ["apply_errors"]

DATETIME = {
    "input_formats": ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    "widget": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
}
DATE = {"widget": forms.DateInput(attrs={"type": "date"})}


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
        label=_("Address on release"), required=False, max_length=1000, widget=forms.Textarea
    )
    district = DistrictChoice(label=_("District of the address"), required=False)


class VerificationForm(forms.Form):
    visited_at = forms.DateTimeField(label=_("Visited"), **DATETIME)  # type: ignore[arg-type]
    outcome = forms.ChoiceField(label=_("Outcome"), choices=VerificationOutcome.choices)
    district = DistrictChoice(label=_("District"))
    new_address = forms.CharField(
        label=_("New address (if moved)"), required=False, max_length=1000
    )
    photo_reference = forms.CharField(
        label=_("Photo reference (kept outside Muhafiz)"), required=False, max_length=100
    )


class NotificationForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What changed"),
        choices=[c for c in NoticeKind.choices if c[0] != NoticeKind.INITIAL],
    )
    changed_on = forms.DateField(label=_("Date of the change (or of departure)"), **DATE)  # type: ignore[arg-type]
    how = forms.ChoiceField(label=_("How it was received"), choices=HowReceived.choices)
    details = forms.CharField(label=_("Details"), required=False, max_length=2000)
    new_address = forms.CharField(label=_("New address"), required=False, max_length=1000)
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
    grounds = forms.CharField(label=_("Grounds"), max_length=2000, widget=forms.Textarea)


class DueProcessDecisionForm(forms.Form):
    upheld = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("yes", _("Upheld")), ("no", _("Refused"))],
        coerce=lambda v: v == "yes",
    )
    reasons = forms.CharField(label=_("Reasons"), max_length=2000, widget=forms.Textarea)
    corrected_name = forms.CharField(label=_("Corrected name"), required=False, max_length=200)
    new_rule = forms.ModelChoiceField(
        label=_("Rule that applies instead"),
        queryset=PeriodRule.objects.filter(active=True),
        required=False,
        to_field_name="code",
    )


class CheckRequestForm(forms.Form):
    case = forms.CharField(label=_("Case reference"), max_length=30)
    accused = forms.CharField(label=_("Accused (label on the case, e.g. A1)"), max_length=10)
    reason = forms.CharField(
        label=_("Why the check is needed"), max_length=2000, widget=forms.Textarea
    )


class CheckDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("approve", _("Approve")), ("refuse", _("Refuse"))]
    )
    reason = forms.CharField(label=_("Reason"), max_length=2000)


class VettingForm(forms.Form):
    organisation = forms.CharField(label=_("Organisation"), max_length=200)
    position = forms.CharField(label=_("Position applied for"), max_length=200)
    applicant_cnic = CnicField(label=_("Applicant's CNIC"))
    consent_reference = forms.CharField(
        label=_("Reference of the applicant's signed consent"), max_length=100
    )
    consent_given_on = forms.DateField(label=_("Consent given on"), **DATE)  # type: ignore[arg-type]


class ApplicantAnswersForm(forms.Form):
    applicant_cnic = CnicField(label=_("Applicant's CNIC"))
    purpose = forms.CharField(label=_("Why (the applicant's request)"), max_length=500)


class IncidentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=IncidentKind.choices)
    occurred_on = forms.DateField(label=_("When"), **DATE)  # type: ignore[arg-type]
    registrant = forms.CharField(label=_("Registrant code (if any)"), required=False, max_length=20)
    district = DistrictChoice(label=_("District"), required=False)
    description = forms.CharField(label=_("What happened"), max_length=2000, widget=forms.Textarea)
