"""Forms of the catalogue pages: an administrator edits offences, deadline rules and agencies."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from muhafiz.catalogue import actions, places
from muhafiz.catalogue.models import (
    Agency,
    DeadlineRule,
    District,
    GazetteerPlace,
    Offence,
    PoliceStation,
)
from muhafiz.catalogue.stations import COLUMNS, MAX_BYTES
from muhafiz.core.limits import max_length

REASON_MAX_LENGTH = 500


def _formfield(field: models.Field[Any, Any], **kwargs: Any) -> forms.Field | None:
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"  # a source link without a scheme is a web page
    return field.formfield(**kwargs)


class CatalogueForm(forms.ModelForm):  # type: ignore[type-arg]
    """A catalogue row: the code is fixed once created; every change gives its reason."""

    editable_fields: tuple[str, ...] = ()

    reason = forms.CharField(
        label=_("Reason for the change"),
        max_length=REASON_MAX_LENGTH,
        help_text=_("Kept in the audit log, e.g. the amendment or notification that changed it."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    key_field = "code"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields[self.key_field].disabled = True
            self.fields[self.key_field].help_text = self.key_help

    key_help = _("The code is a stable key and cannot change.")

    def keys(self) -> dict[str, Any]:
        """What identifies a new row (its code), passed to the create action."""
        return {"code": self.cleaned_data["code"]}

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.editable_fields}


class OffenceForm(CatalogueForm):
    editable_fields = actions.OFFENCE_FIELDS

    class Meta:
        model = Offence
        formfield_callback = _formfield
        fields = ["code", *actions.OFFENCE_FIELDS]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


class DeadlineRuleForm(CatalogueForm):
    editable_fields = actions.DEADLINE_RULE_FIELDS

    class Meta:
        model = DeadlineRule
        formfield_callback = _formfield
        fields = ["code", *actions.DEADLINE_RULE_FIELDS]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


class AgencyForm(CatalogueForm):
    editable_fields = actions.AGENCY_FIELDS

    class Meta:
        model = Agency
        formfield_callback = _formfield
        fields = ["code", *actions.AGENCY_FIELDS]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        district = self.fields["district"]
        assert isinstance(district, forms.ModelChoiceField)
        district.queryset = _districts()
        district.label = _("District")
        self.fields["province"].label = _("Province")


def _districts() -> Any:
    return District.objects.select_related("province").order_by("province__name", "name")


class PoliceStationForm(CatalogueForm):
    editable_fields = actions.POLICE_STATION_FIELDS
    key_field = "district"
    key_help = _("A station stays in its district; a new station is added instead.")

    class Meta:
        model = PoliceStation
        formfield_callback = _formfield
        fields = ["district", *actions.POLICE_STATION_FIELDS]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        district = self.fields["district"]
        assert isinstance(district, forms.ModelChoiceField)
        district.queryset = _districts()
        district.label = _("District")

    def keys(self) -> dict[str, Any]:
        return {"district": self.cleaned_data["district"]}


class GazetteerPlaceForm(CatalogueForm):
    editable_fields = actions.GAZETTEER_PLACE_FIELDS
    key_field = "name"
    key_help = _("A place's name is its key; add a new place for another spelling.")

    class Meta:
        model = GazetteerPlace
        formfield_callback = _formfield
        fields = ["name", *actions.GAZETTEER_PLACE_FIELDS]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        district = self.fields["district"]
        assert isinstance(district, forms.ModelChoiceField)
        district.queryset = _districts()
        district.label = _("District")

    def keys(self) -> dict[str, Any]:
        return {"name": self.cleaned_data["name"]}


class StationImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))
    source = forms.CharField(
        label=_("Source of rows without one"),
        max_length=max_length(PoliceStation, "source"),
        required=False,
        help_text=_("e.g. the police department's notification of its stations."),
    )
    reason = forms.CharField(
        label=_("Reason for the change"),
        max_length=REASON_MAX_LENGTH,
        help_text=_("Kept in the audit log."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = gettext(
            "UTF-8 CSV, at most %(mb)d MB. The first line names the columns: %(columns)s "
            "(district is the district's code, such as LHR; verified is yes or no)."
        ) % {"mb": MAX_BYTES // (1024 * 1024), "columns": ", ".join(COLUMNS)}


class GazetteerImportForm(StationImportForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].help_text = gettext(
            "e.g. the NCCIA desk's list of place names, with its date."
        )
        self.fields["file"].help_text = gettext(
            "UTF-8 CSV, at most %(mb)d MB. The first line names the columns: %(columns)s "
            "(district is the district's code, such as LHR; active is yes or no)."
        ) % {"mb": MAX_BYTES // (1024 * 1024), "columns": ", ".join(places.COLUMNS)}
