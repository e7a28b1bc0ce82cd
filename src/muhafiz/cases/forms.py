"""Forms of the case pages. They only parse and validate input; writes go through actions.

Field names and the ids Django gives them (`id_<name>`) are stable: the browser walk relies on
them.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from muhafiz.accounts.models import User
from muhafiz.cases.models import (
    CNIC_MAX_LENGTH,
    IDENTITY_PURPOSE_MAX_LENGTH,
    Accused,
    Case,
    CaseFact,
    CaseStatus,
    Consent,
    ConsentOverride,
    Gender,
    Referral,
    SectionRule,
    StatusChange,
    TeamJoinRequest,
    TeamRole,
    Victim,
    Witness,
)
from muhafiz.cases.search import (
    IDENTIFIER_MAX_LENGTH,
    QUERY_MAX_LENGTH,
    CaseSearch,
    stage_choices,
)
from muhafiz.catalogue.models import Agency, District, Offence, PoliceStation
from muhafiz.core import forms as core_forms
from muhafiz.core.limits import max_length

_USERNAME = max_length(User, "username")
# Lists typed one entry a line (the actions count the entries; these bound the text typed).
PERSON_PHONES_TEXT_MAX_LENGTH = 200
ACCUSED_PHONES_TEXT_MAX_LENGTH = 1000
ACCUSED_LIST_TEXT_MAX_LENGTH = 2000  # handles, e-mail addresses
WEAKER_CODES_TEXT_MAX_LENGTH = 500


class ReplacesEveryField(forms.Form):
    """A form that replaces every field it has: each must be sent, even empty.

    A browser sends every text box of the form, empty or not; a request that leaves a field
    out (a script, a truncated post) must not erase what is recorded there. Erasing is explicit:
    the field sent empty.
    """

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        # An unticked checkbox is never sent: checkboxes are exempt.
        missing = [
            name
            for name, field in self.fields.items()
            if self.add_prefix(name) not in self.data
            and not isinstance(field.widget, forms.CheckboxInput)
        ]
        if missing:
            raise ValidationError(
                _("Every field must be sent (empty to erase it); missing: %(fields)s")
                % {"fields": ", ".join(sorted(missing))}
            )
        return cleaned


class _Multi(forms.CheckboxSelectMultiple):
    pass


class CaseForm(forms.Form):
    district = forms.ModelChoiceField(
        label=_("District"), queryset=District.objects.all(), to_field_name="code"
    )
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
    reported_at = forms.DateTimeField(
        label=_("Report received"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    summary = forms.CharField(
        label=_("Summary (no names: refer to victims by code)"),
        max_length=max_length(Case, "summary"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    facts = forms.MultipleChoiceField(
        label=_("Facts recorded"), choices=CaseFact.choices, required=False, widget=_Multi
    )
    offences = forms.ModelMultipleChoiceField(
        label=_("Offences"),
        queryset=Offence.objects.filter(active=True),
        to_field_name="code",
        required=False,
        widget=_Multi,
    )

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Choosing a district reloads the police stations of that district (htmx).
        self.fields["district"].widget.attrs.update(
            {
                "hx-get": reverse_lazy("cases:stations"),
                "hx-target": "#id_police_station",
                "hx-trigger": "change changed",
            }
        )
        district = self.data.get("district") or self.initial.get("district")
        if district is None and user is not None:
            district = getattr(user.district, "code", None)
        if district:
            self.fields["police_station"].queryset = PoliceStation.objects.filter(  # type: ignore[attr-defined]
                district__code=district
            )
        if not self.is_bound and user is not None:
            self.initial.setdefault("district", getattr(user.district, "code", None))
            self.initial.setdefault("agency", getattr(user.agency, "code", None))
            self.initial.setdefault(
                "reported_at", timezone.localtime().replace(second=0, microsecond=0)
            )


class CaseEditForm(forms.Form):
    agency = CaseForm.base_fields["agency"]
    police_station = CaseForm.base_fields["police_station"]
    fir_number = CaseForm.base_fields["fir_number"]
    summary = CaseForm.base_fields["summary"]
    facts = CaseForm.base_fields["facts"]
    offences = CaseForm.base_fields["offences"]

    def __init__(self, *args: Any, district: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if district is not None:
            self.fields["police_station"].queryset = PoliceStation.objects.filter(  # type: ignore[attr-defined]
                district=district
            )


class ReasonForm(forms.Form):
    """A case closed or reopened, a member taken off the team (that reason is only audited)."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=max_length(StatusChange, "reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class TeamForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=_USERNAME)
    team_role = forms.ChoiceField(label=_("Role on the case"), choices=TeamRole.choices)


class TeamRequestForm(forms.Form):
    username = forms.CharField(
        label=_("User name"),
        max_length=_USERNAME,
        required=False,
        help_text=_("Leave empty to ask for yourself; a team member may ask for a colleague."),
    )
    team_role = forms.ChoiceField(label=_("Role on the case"), choices=TeamRole.choices)
    reason = forms.CharField(
        label=_("Why they need to be on the team"),
        max_length=max_length(TeamJoinRequest, "reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class WelfareJoinForm(forms.Form):
    """A child-protection officer asks for themselves, in their own role (`TeamRequestForm`'s
    fields, posted to the same page)."""

    team_role = forms.ChoiceField(choices=TeamRole.choices, widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Why you need to be on the team"),
        max_length=max_length(TeamJoinRequest, "reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DecisionNoteForm(forms.Form):
    note = forms.CharField(
        label=_("Reason"), max_length=max_length(TeamJoinRequest, "decision_note"), required=False
    )


class VictimForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=max_length(Victim, "name"), required=False)
    cnic = forms.CharField(
        label=_("CNIC or B-form number"), max_length=CNIC_MAX_LENGTH, required=False
    )
    birth_date = forms.DateField(
        label=_("Date of birth"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    estimated_age = forms.IntegerField(
        label=_("Estimated age (when the birth date is unknown)"),
        min_value=0,
        max_value=120,
        required=False,
    )
    guardian_name = forms.CharField(
        label=_("Guardian"), max_length=max_length(Victim, "guardian_name"), required=False
    )
    address = forms.CharField(
        label=_("Address"),
        max_length=max_length(Victim, "address"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    phones = forms.CharField(
        label=_("Phone numbers (one a line)"),
        max_length=PERSON_PHONES_TEXT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices, initial=Gender.UNKNOWN)
    consent_sharing = forms.BooleanField(label=Consent.SHARING.label, required=False)
    consent_referral = forms.BooleanField(label=Consent.REFERRAL.label, required=False)
    consent_statistics = forms.BooleanField(label=Consent.STATISTICS.label, required=False)
    confirmed = forms.BooleanField(
        label=_("I have checked: these facts are right"),
        required=False,
        help_text=_("Only when the platform asks, for a fact that looks unlikely."),
    )


class PurposeForm(forms.Form):
    purpose = forms.CharField(
        label=_("Why do you need to see the identity?"), max_length=IDENTITY_PURPOSE_MAX_LENGTH
    )


class ConsentForm(forms.Form):
    consent_sharing = forms.BooleanField(label=Consent.SHARING.label, required=False)
    consent_referral = forms.BooleanField(label=Consent.REFERRAL.label, required=False)
    consent_statistics = forms.BooleanField(label=Consent.STATISTICS.label, required=False)


class OverrideForm(forms.Form):
    consent = forms.ChoiceField(label=_("Consent to override"), choices=Consent.choices)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=max_length(ConsentOverride, "reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AccusedForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=max_length(Accused, "name"), required=False)
    aliases = forms.CharField(
        label=_("Aliases"), max_length=max_length(Accused, "aliases"), required=False
    )
    cnic = forms.CharField(label=_("CNIC"), max_length=CNIC_MAX_LENGTH, required=False)
    phones = forms.CharField(
        label=_("Phone numbers (one a line)"),
        max_length=ACCUSED_PHONES_TEXT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    handles = forms.CharField(
        label=_("Online handles (platform:name, one a line)"),
        max_length=ACCUSED_LIST_TEXT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    emails = forms.CharField(
        label=_("E-mail addresses (one a line)"),
        max_length=ACCUSED_LIST_TEXT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    addresses = forms.CharField(
        label=_("Addresses"),
        max_length=max_length(Accused, "addresses"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("suspect", _("Suspect")), ("accused", _("Accused"))]
    )


class WitnessForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=max_length(Witness, "name"))
    phones = VictimForm.base_fields["phones"]
    address = forms.CharField(
        label=_("Address"),
        max_length=max_length(Witness, "address"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    relation = forms.CharField(
        label=_("Relation to the case"), max_length=max_length(Witness, "relation"), required=False
    )
    is_child = forms.BooleanField(label=_("The witness is a child"), required=False)


class ReferralForm(forms.Form):
    # Offered as a list of the case's codes, taken as text: the action looks the code up after
    # its permission check, so a refused caller hears the same for a real and a made-up code.
    victim = forms.CharField(
        label=_("Victim"), max_length=max_length(Victim, "pseudonym"), widget=forms.Select
    )
    needs = forms.CharField(
        label=_("What the child needs (no names)"),
        max_length=max_length(Referral, "needs"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    officer = forms.CharField(
        label=_("Child-protection officer (user name)"), max_length=_USERNAME, required=False
    )

    def __init__(self, *args: Any, codes: list[str] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["victim"].widget.choices = [(c, c) for c in codes]


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note"),
        max_length=max_length(Referral, "decision_note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class SectionRuleForm(forms.Form):
    facts = forms.MultipleChoiceField(
        label=_("When all these facts hold"), choices=CaseFact.choices, widget=_Multi
    )
    offence_code = forms.ModelChoiceField(
        label=_("Suggest this offence"),
        queryset=Offence.objects.filter(active=True),
        to_field_name="code",
    )
    weaker_codes = forms.CharField(
        label=_("Weaker sections it replaces (codes, one a line)"),
        max_length=WEAKER_CODES_TEXT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    explanation = forms.CharField(label=_("Why"), max_length=max_length(SectionRule, "explanation"))
    source = forms.CharField(
        label=_("Source"), max_length=max_length(SectionRule, "source"), required=False
    )


# The cases views call `forms.apply_errors`; there is one, in core.
apply_errors = core_forms.apply_errors


class CaseSearchForm(forms.Form):
    """The case list's search and filters (GET); every field optional, a bad value ignored with
    its error shown, never a server error."""

    q = forms.CharField(
        label=_("Case reference or FIR number (or part of it)"),
        required=False,
        max_length=QUERY_MAX_LENGTH,
    )
    identifier = forms.CharField(
        label=_("Accused CNIC, phone or handle"),
        required=False,
        max_length=IDENTIFIER_MAX_LENGTH,
        help_text=_("Matched exactly, through the protected index."),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Open and closed")), *CaseStatus.choices]
    )
    district = forms.ModelChoiceField(
        label=_("District"), queryset=District.objects.all(), required=False, to_field_name="code"
    )
    station = forms.ModelChoiceField(
        label=_("Police station"), queryset=PoliceStation.objects.none(), required=False
    )
    stage = forms.ChoiceField(label=_("Stage"), required=False)
    overdue = forms.ChoiceField(
        label=_("Deadlines"),
        required=False,
        choices=[
            ("", _("Any")),
            ("either", _("Missed or nearly due")),
            ("missed", _("Missed")),
            ("due_soon", _("Nearly due")),
        ],
    )
    offence = forms.ModelChoiceField(
        label=_("Offence"),
        queryset=Offence.objects.filter(active=True),
        required=False,
        to_field_name="code",
    )
    since = forms.DateField(
        label=_("Reported from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("Reported until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    court = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    prosecutor = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    member = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("newest", _("Newest report first")),
            ("oldest", _("Oldest report first")),
            ("reference", _("Reference")),
            ("stalled", _("Longest in its stage")),
        ],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = [("", _("All stages")), *stage_choices()]  # type: ignore[attr-defined]
        district = self.data.get("district") if self.is_bound else None
        if district:
            self.fields["station"].queryset = PoliceStation.objects.filter(  # type: ignore[attr-defined]
                district__code=str(district)[:8]
            )

    def search(self) -> CaseSearch:
        """The search the valid fields describe (invalid ones are left out)."""
        if not self.is_bound:
            return CaseSearch()
        self.is_valid()
        data = self.cleaned_data
        district = data.get("district")
        station = data.get("station")
        offence = data.get("offence")
        return CaseSearch(
            text=data.get("q") or "",
            identifier=data.get("identifier") or "",
            status=data.get("status") or "",
            district=district.code if district else "",
            station_id=station.pk if station else None,
            stage=data.get("stage") or "",
            overdue=data.get("overdue") or "",
            offence=offence.code if offence else "",
            since=data.get("since"),
            until=data.get("until"),
            court_id=data.get("court"),
            prosecutor_id=data.get("prosecutor"),
            member_id=data.get("member"),
            sort=data.get("sort") or "newest",
        )
