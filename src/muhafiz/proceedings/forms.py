"""Forms of the proceedings pages: recording a stage, filtering the dashboards."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from muhafiz.accounts.models import User
from muhafiz.accounts.roles import Role
from muhafiz.cases.models import Accused, Case
from muhafiz.catalogue.models import Agency, AgencyKind, District, PoliceStation
from muhafiz.proceedings.models import NOTE_LENGTH, SENTENCE_LENGTH, Outcome, StageCode


class AccusedChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.label)


class StageEventForm(forms.Form):
    code = forms.ChoiceField(
        label=_("Stage"),
        choices=[(c.value, c.label) for c in StageCode if c != StageCode.REPORT_RECEIVED],
    )
    occurred_at = forms.DateTimeField(
        label=_("When (Pakistan time)"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    accused = AccusedChoice(
        label=_("Accused"),
        queryset=Accused.objects.none(),
        required=False,
        help_text=_("For an arrest, remand, register check, judgment or appeal."),
    )
    remand_days = forms.IntegerField(
        label=_("Remand days granted"), required=False, min_value=1, max_value=15
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), required=False, choices=[("", "—"), *Outcome.choices]
    )
    sentence = forms.CharField(label=_("Sentence"), required=False, max_length=SENTENCE_LENGTH)
    court = forms.ModelChoiceField(
        label=_("Court"),
        queryset=Agency.objects.filter(kind=AgencyKind.COURT, active=True),
        required=False,
    )
    fir_number = forms.CharField(
        label=_("FIR number"),
        required=False,
        max_length=Case._meta.get_field("fir_number").max_length,
        help_text=_("For the FIR registration: written on the case with its police station."),
    )
    police_station = forms.ModelChoiceField(
        label=_("Police station"),
        queryset=PoliceStation.objects.none(),
        required=False,
        help_text=_("Where the FIR was registered (the case's district)."),
    )
    next_hearing_at = forms.DateTimeField(
        label=_("Next hearing (Pakistan time)"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_(
            "The date the court fixed: needed for an adjournment; for a hearing or the "
            "trial's start when fixed."
        ),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=NOTE_LENGTH,
        help_text=_("No names: refer to victims by their code and accused by their label."),
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["accused"].queryset = Accused.objects.filter(case=case).only(  # type: ignore[attr-defined]
            "pk", "label", "case_id"
        )
        self.fields["police_station"].queryset = PoliceStation.objects.filter(  # type: ignore[attr-defined]
            district_id=case.district_id, active=True
        )


class _OneReadChoices(forms.models.ModelChoiceIterator[District]):
    """The choices in one read: a district list is a few hundred rows, and the server-side
    cursor Django's iterator opens costs three round trips (DECLARE, FETCH, CLOSE) on every
    view of the dashboard."""

    def __iter__(self) -> Any:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():
            yield self.choice(obj)


class _DistrictChoiceField(forms.ModelChoiceField[District]):
    iterator = _OneReadChoices


class DashboardFilterForm(forms.Form):
    district = _DistrictChoiceField(
        label=_("District"), queryset=District.objects.all(), required=False
    )
    since = forms.DateField(
        label=pgettext_lazy("date range", "From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = forms.DateField(
        label=pgettext_lazy("date range", "To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    stage = forms.ChoiceField(
        label=_("Stage"), required=False, choices=[("", _("All stages")), *StageCode.choices]
    )


class DiaryForm(forms.Form):
    """Which hearings the court diary shows: a court, a prosecutor, the list or one week."""

    court = forms.ModelChoiceField(
        label=_("Court"),
        queryset=Agency.objects.filter(kind=AgencyKind.COURT, active=True),
        required=False,
        empty_label=_("All courts"),
    )
    prosecutor = forms.ModelChoiceField(
        label=_("Prosecutor"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("All prosecutors"),
    )
    view = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[("list", _("List of coming hearings")), ("week", _("Week"))],
    )
    week = forms.DateField(
        label=_("Week of"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["prosecutor"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            role=Role.PROSECUTOR, is_active=True
        ).order_by("username")


class CorrectionForm(forms.Form):
    """Correct what a stage event says; the reason is required and kept in its history."""

    occurred_at = forms.DateTimeField(
        label=_("When (Pakistan time)"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    remand_days = forms.IntegerField(
        label=_("Remand days granted"), required=False, min_value=1, max_value=15
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), required=False, choices=[("", "—"), *Outcome.choices]
    )
    sentence = forms.CharField(label=_("Sentence"), required=False, max_length=SENTENCE_LENGTH)
    court = forms.ModelChoiceField(
        label=_("Court"),
        queryset=Agency.objects.filter(kind=AgencyKind.COURT, active=True),
        required=False,
    )
    next_hearing_at = forms.DateTimeField(
        label=_("Next hearing (Pakistan time)"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=NOTE_LENGTH)
    reason = forms.CharField(
        label=_("Why is this corrected?"),
        max_length=NOTE_LENGTH,
        help_text=_("Kept with the old value in the history and the audit. No names."),
    )


class VoidForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is this entry void?"),
        max_length=NOTE_LENGTH,
        help_text=_("The entry stays in the history, marked void, and no longer counts."),
    )
