"""Forms of the insights pages: the public area and year, the staff statistics filters."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from muhafiz.insights.measures import OFFENCE_GROUPS
from muhafiz.insights.selectors import StaffFilter, filter_choices


class StaffFilterForm(forms.Form):
    year_from = forms.TypedChoiceField(label=_("From year"), required=False, coerce=int)
    year_to = forms.TypedChoiceField(label=_("To year"), required=False, coerce=int)
    district = forms.TypedChoiceField(label=_("District"), required=False, coerce=int)
    agency = forms.TypedChoiceField(label=_("Investigating agency"), required=False, coerce=int)
    offence_group = forms.ChoiceField(label=_("Offence group"), required=False)
    stage = forms.ChoiceField(label=_("Stage (deadline)"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = filter_choices()
        years = [("", _("Any"))] + [(y, str(y)) for y in choices["years"]]
        self.fields["year_from"].choices = years  # type: ignore[attr-defined]
        self.fields["year_to"].choices = years  # type: ignore[attr-defined]
        self.fields["district"].choices = [("", _("All")), *choices["districts"]]  # type: ignore[attr-defined]
        self.fields["agency"].choices = [("", _("All")), *choices["agencies"]]  # type: ignore[attr-defined]
        self.fields["offence_group"].choices = [("", _("All")), *OFFENCE_GROUPS]  # type: ignore[attr-defined]
        self.fields["stage"].choices = [("", _("All stages")), *choices["rules"]]  # type: ignore[attr-defined]

    def filters(self) -> StaffFilter:
        if not (self.is_bound and self.is_valid()):
            return StaffFilter()
        data = self.cleaned_data
        return StaffFilter(
            year_from=data.get("year_from") or None,
            year_to=data.get("year_to") or None,
            district_id=data.get("district") or None,
            agency_id=data.get("agency") or None,
            offence_group=data.get("offence_group") or "",
            rule_code=data.get("stage") or "",
        )
