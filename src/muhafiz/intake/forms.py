"""Forms of the intake pages. They only parse input; the actions validate and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from muhafiz.accounts.models import User
from muhafiz.cases.models import AgeBand, Case
from muhafiz.catalogue.models import Agency, District, PoliceStation
from muhafiz.core.limits import max_length
from muhafiz.intake.models import (
    HELPLINE_CHANNELS,
    CallerType,
    CloseReason,
    Concern,
    HelplineReferral,
    ReferredTo,
    Report,
    ReportMessage,
    ReportTransition,
    Risk,
)

# What the follow-up page accepts as typed (spaces and dashes included); never stored.
RECEIPT_INPUT_MAX_LENGTH = 30
PASSPHRASE_INPUT_MAX_LENGTH = 60
# The public form's hidden trap for bots; never stored.
HONEYPOT_MAX_LENGTH = 200

_CONTACT = max_length(Report, "reporter_contact")
_MESSAGE = max_length(ReportMessage, "body")
_NOTE = max_length(ReportTransition, "note")


class DistrictChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A district by code, labelled in the language of the page."""

    def label_from_instance(self, obj: Any) -> str:
        from django.utils.translation import get_language

        if (get_language() or "").startswith("ur") and obj.name_ur:
            return str(obj.name_ur)
        return str(obj.name)


def _district_field(*, required: bool, label: Any) -> DistrictChoice:
    return DistrictChoice(
        label=label,
        queryset=District.objects.select_related("province").order_by("province__name", "name"),
        to_field_name="code",
        required=required,
        empty_label=_("I do not know"),
    )


def _choose_first(choices: Any) -> list[tuple[str, Any]]:
    """A dropdown that starts blank: a real answer is never recorded because nobody changed it.

    With the field required, a form left on "— choose —" is refused with the field's own error;
    where "not known" is a true answer (age, caller), it is one of the choices, chosen on purpose.
    """
    return [("", _("— choose —")), *choices]


class PublicReportForm(forms.Form):
    concern = forms.ChoiceField(
        label=_("What is it about?"), choices=Concern.choices, widget=forms.RadioSelect
    )
    account = forms.CharField(
        label=_("What happened?"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=max_length(Report, "account"),
        help_text=_("Who, what, where, when, as far as you know. You may leave out names."),
    )
    district = _district_field(required=False, label=_("District where it happened"))
    occurred_on = forms.DateField(
        label=_("When did it happen?"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    child_in_danger = forms.BooleanField(label=_("A child is in danger now"), required=False)
    links = forms.CharField(
        label=_("Links to the pictures, videos or chats online (one a line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "ltr"}),
        max_length=max_length(Report, "links"),
    )
    age_band = forms.ChoiceField(
        label=_("Age of the child"), choices=AgeBand.choices, initial=AgeBand.UNKNOWN
    )
    reporter_name = forms.CharField(
        label=_("Your name (optional)"),
        required=False,
        max_length=max_length(Report, "reporter_name"),
    )
    reporter_contact = forms.CharField(
        label=_("Phone or e-mail to contact you (optional)"),
        required=False,
        max_length=_CONTACT,
    )
    # The honeypot: hidden from people by the page's style, filled in by bots.
    website = forms.CharField(
        label=_("Leave this empty"), required=False, max_length=HONEYPOT_MAX_LENGTH
    )


class FollowUpForm(forms.Form):
    receipt = forms.CharField(label=_("Receipt code"), max_length=RECEIPT_INPUT_MAX_LENGTH)
    passphrase = forms.CharField(
        label=_("Passphrase"),
        max_length=PASSPHRASE_INPUT_MAX_LENGTH,
        widget=forms.PasswordInput(render_value=True),
    )


class AddInformationForm(forms.Form):
    information = forms.CharField(
        label=_("Add information"), widget=forms.Textarea(attrs={"rows": 4}), max_length=_MESSAGE
    )


class HelplineForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("Helpline"), choices=_choose_first((c.value, c.label) for c in HELPLINE_CHANNELS)
    )
    caller_type = forms.ChoiceField(label=_("Caller"), choices=_choose_first(CallerType.choices))
    district = _district_field(required=False, label=_("Child's district"))
    age_band = forms.ChoiceField(label=_("Child's age"), choices=_choose_first(AgeBand.choices))
    concern = forms.ChoiceField(label=_("What happened"), choices=_choose_first(Concern.choices))
    account = forms.CharField(
        label=_("Account of the call"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=max_length(Report, "account"),
    )
    risk = forms.ChoiceField(label=_("Risk level"), choices=_choose_first(Risk.choices))
    helpline_referral = forms.ChoiceField(
        label=_("Referral made"), choices=_choose_first(HelplineReferral.choices)
    )
    links = forms.CharField(
        label=_("Links to online content"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=max_length(Report, "links"),
    )
    caller_contact = forms.CharField(
        label=_("Caller's contact (optional)"), required=False, max_length=_CONTACT
    )


class ReferForm(forms.Form):
    referred_to = forms.ChoiceField(label=_("Refer to"), choices=_choose_first(ReferredTo.choices))
    note = forms.CharField(label=_("Note"), required=False, max_length=_NOTE)


class CloseForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=_choose_first(CloseReason.choices))
    note = forms.CharField(label=_("Note"), required=False, max_length=_NOTE)


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Reply to the reporter"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=_MESSAGE,
    )


class AssignForm(forms.Form):
    username = forms.CharField(
        label=_("User name (empty: nobody)"),
        required=False,
        max_length=max_length(User, "username"),
    )


class RouteForm(forms.Form):
    district = _district_field(required=True, label=_("District"))


class OpenCaseForm(forms.Form):
    agency = forms.ModelChoiceField(
        label=_("Investigating agency"),
        queryset=Agency.objects.filter(active=True),
        to_field_name="code",
    )
    police_station = forms.ModelChoiceField(
        label=_("Police station"), queryset=PoliceStation.objects.all(), required=False
    )
    fir_number = forms.CharField(
        label=_("FIR number"), max_length=max_length(Case, "fir_number"), required=False
    )
