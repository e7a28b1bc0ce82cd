"""Catalogue models: geography, agencies, offences and statutory deadline rules.

Every legal rule is a row an administrator can edit, carrying the source it comes from and
whether a deployment's legal team has verified it; shipped defaults live in fixtures/.
"""

from __future__ import annotations

import re
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def localized(english: str, urdu: str) -> str:
    """A catalogue name in the language of the page: its Urdu name on an Urdu page when the
    catalogue has one (issue 15), else the English name."""
    if urdu and (get_language() or "").startswith("ur"):
        return urdu
    return english


class Cited(models.Model):
    """Where a catalogue entry comes from, and whether it has been confirmed."""

    source = models.CharField(
        _("source"), max_length=300, help_text=_("The Act and section, notification or report.")
    )
    source_url = models.URLField(_("source link"), blank=True)
    verified = models.BooleanField(
        _("verified"),
        default=False,
        help_text=_(
            "Checked against the cited source. Unverified entries (the sources disagree or are "
            "secondary) wait for the deployment's legal team."
        ),
    )
    active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        abstract = True


class Province(models.Model):
    code = models.CharField(_("code"), max_length=8, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_ur = models.CharField(_("name (Urdu)"), max_length=100, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("province or territory")
        verbose_name_plural = _("provinces and territories")

    def __str__(self) -> str:
        return localized(self.name, self.name_ur)


class District(models.Model):
    code = models.CharField(_("code"), max_length=8, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_ur = models.CharField(_("name (Urdu)"), max_length=100, blank=True)
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="districts")
    division = models.CharField(_("division"), max_length=100, blank=True)

    class Meta:
        ordering = ["province__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["province", "name"], name="district_name_per_province")
        ]

    def __str__(self) -> str:
        return localized(self.name, self.name_ur)


class PoliceStation(Cited):
    """A police station of a district: where an FIR is registered (FIR numbers are unique per
    station). Its key is its district and name; stations come from the province's police
    notification, added on the catalogue pages or imported from CSV."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="police_stations")
    name = models.CharField(_("name"), max_length=150)
    name_ur = models.CharField(_("name (Urdu)"), max_length=150, blank=True)

    class Meta:
        ordering = ["district__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="station_name_per_district")
        ]
        verbose_name = _("police station")
        verbose_name_plural = _("police stations")

    def __str__(self) -> str:
        return f"{self.display_name} ({self.district})"

    @property
    def display_name(self) -> str:
        """The station's name in the language of the page."""
        return localized(self.name, self.name_ur)


_PLACE_SEPARATORS = re.compile(r"[\s,._\-]+")


def place_key(name: str) -> str:
    """A place name compared without case, punctuation or repeated spaces."""
    return _PLACE_SEPARATORS.sub(" ", (name or "").strip().lower()).strip()


class GazetteerPlace(Cited):
    """A place name as CyberTipline referrals give it (a city or region in `estimatedLocation`)
    and the district whose queue its referrals go to. Every district's own English and Urdu
    name matches without a row here; these rows add other spellings, old names, cantonments.
    A name that means several districts (Karachi) is left out, so it goes to a person."""

    name = models.CharField(_("place name"), max_length=120)
    key = models.CharField(max_length=120, unique=True, blank=True, editable=False)
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="+", verbose_name=_("district")
    )

    class Meta:
        ordering = ["key"]
        verbose_name = _("gazetteer place")
        verbose_name_plural = _("gazetteer places")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.key = place_key(self.name)
        if not self.key:
            raise ValidationError({"name": _("Give the place's name.")})


class AgencyKind(models.TextChoices):
    POLICE = "police", _("Police")
    SSOIU = "ssoiu", _("Special Sexual Offences Investigation Unit")
    CYBERCRIME = "cybercrime", _("Federal cybercrime agency")
    CRISIS_CELL = "crisis_cell", _("Anti-Rape Crisis Cell")
    PROSECUTION = "prosecution", _("Public prosecution")
    COURT = "court", _("Court")
    CHILD_PROTECTION = "child_protection", _("Child protection")
    FORENSIC = "forensic", _("Forensic laboratory")
    REGISTER = "register", _("Sex offenders register keeper")
    IDENTITY = "identity", _("Identity registration")
    OVERSIGHT = "oversight", _("Oversight and audit")
    PLATFORM = "platform", _("Platform operator")


class Agency(Cited):
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_ur = models.CharField(_("name (Urdu)"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=30, choices=AgencyKind.choices)
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, null=True, blank=True, related_name="agencies"
    )
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, null=True, blank=True, related_name="agencies"
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = _("agencies")

    def __str__(self) -> str:
        return localized(self.name, self.name_ur)

    def clean(self) -> None:
        super().clean()
        if self.district_id is not None:
            district_province = District.objects.only("province_id").get(pk=self.district_id)
            if self.province_id is None:
                self.province_id = district_province.province_id
            elif self.province_id != district_province.province_id:
                raise ValidationError(
                    {"district": _("The district is not in the agency's province.")}
                )


class Offence(Cited):
    code = models.CharField(_("code"), max_length=40, unique=True, help_text=_("e.g. PPC 377A"))
    law = models.CharField(_("law"), max_length=100)
    section = models.CharField(_("section"), max_length=20)
    title = models.CharField(_("title"), max_length=300)
    title_ur = models.CharField(_("title (Urdu)"), max_length=300, blank=True)
    penalty = models.CharField(_("penalty"), max_length=300, blank=True)
    registrable = models.BooleanField(
        _("listed sex offence"),
        default=False,
        help_text=_("A conviction creates a register entry (Anti-Rape Act 2021 s.2(h))."),
    )

    class Meta:
        ordering = ["law", "section"]

    def __str__(self) -> str:
        return f"{self.code} — {self.display_title}"

    @property
    def display_title(self) -> str:
        """The offence's title in the language of the page."""
        return localized(self.title, self.title_ur)


# Case events and conditions are named like fir_registered, missing_child.
EVENT_NAME = re.compile(r"[a-z][a-z0-9_]*")
# A clock may stop at any of several events: "challan_submitted|case_closed".
END_EVENTS = re.compile(r"[a-z][a-z0-9_]*(\|[a-z][a-z0-9_]*)*")


# The conditions the proceedings derive from a case's events (proceedings/actions/clocks.py,
# DERIVED_CONDITIONS); any other condition is a fact recorded on the case, named by its field.
DERIVED_CONDITION_LABELS: dict[str, Any] = {
    "sexual_offence": _("a sexual offence"),
    "challan_incomplete": _("the challan is not in on time"),
    "child_protection_custody": _("the child is in protective custody"),
}


# Events that are not stages of a case: the intake app's screening clock.
INTAKE_EVENT_LABELS: dict[str, Any] = {
    "intake_report_received": _("Report received in the district queue"),
    "intake_report_screened": _("Report screened"),
}


def event_label(code: str) -> str:
    """A case event's code ("fir_registered") by its name in the reader's language.

    The events are the proceedings app's stage codes; the catalogue sits below that app, so it
    asks the app registry rather than importing it. A code no stage knows reads as itself."""
    intake = INTAKE_EVENT_LABELS.get(code)
    if intake is not None:
        return str(intake)
    return _choice_of(("proceedings", "StageEvent", "code"), code) or code


def condition_label(code: str) -> str:
    """A clock's condition ("missing_child") by its name in the reader's language."""
    derived = DERIVED_CONDITION_LABELS.get(code)
    if derived is not None:
        return str(derived)
    try:
        field = apps.get_model("cases", "Case")._meta.get_field(code)
    except (LookupError, FieldDoesNotExist):
        return code
    return str(getattr(field, "verbose_name", code))


def _choice_of(where: tuple[str, str, str], code: str) -> str | None:
    app, model, name = where
    try:
        field = apps.get_model(app, model)._meta.get_field(name)
    except (LookupError, FieldDoesNotExist):
        return None
    return next((str(label) for value, label in field.flatchoices if value == code), None)


class ClockUnit(models.TextChoices):
    HOURS = "hours", _("calendar hours")
    DAYS = "days", _("calendar days")
    BUSINESS_DAYS = "business_days", _("business days")
    MONTHS = "months", _("calendar months")


class DeadlineRule(Cited):
    """A statutory clock: once `start_event` happens, `end_event` is due within a limit."""

    code = models.CharField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_ur = models.CharField(_("name (Urdu)"), max_length=200, blank=True)
    start_event = models.CharField(_("clock starts at"), max_length=60)
    end_event = models.CharField(_("clock stops at"), max_length=60)
    amount = models.PositiveIntegerField(_("limit"))
    unit = models.CharField(_("unit"), max_length=20, choices=ClockUnit.choices)
    applies_when = models.CharField(
        _("applies when"),
        max_length=60,
        blank=True,
        help_text=_("A case condition such as 'missing_child'; empty means every case."),
    )
    due_soon_fraction = models.FloatField(
        _("due-soon warning at"),
        default=0.75,
        help_text=_("Share of the limit after which the clock counts as nearly due."),
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return localized(self.name, self.name_ur)

    def start_event_label(self) -> str:
        return event_label(self.start_event)

    def end_event_labels(self) -> list[str]:
        """The events that stop the clock (any one of them), by name."""
        return [event_label(code) for code in self.end_event.split("|") if code]

    def applies_when_label(self) -> str:
        return condition_label(self.applies_when) if self.applies_when else ""

    def clean(self) -> None:
        super().clean()
        errors: dict[str, Any] = {}
        if self.amount is not None and self.amount < 1:
            errors["amount"] = _("A time limit must be at least 1.")
        if self.due_soon_fraction is not None and not 0 < self.due_soon_fraction < 1:
            errors["due_soon_fraction"] = _("Give a share between 0 and 1, such as 0.75.")
        for name in ("start_event", "applies_when"):
            value = getattr(self, name)
            if value and not EVENT_NAME.fullmatch(value):
                errors[name] = _("Use lower-case letters and underscores, such as fir_registered.")
        if self.end_event and not END_EVENTS.fullmatch(self.end_event):
            errors["end_event"] = _(
                "Use lower-case letters and underscores, such as challan_submitted; separate "
                "events that each stop the clock with |."
            )
        if self.start_event and self.start_event in self.end_event.split("|"):
            errors["end_event"] = _("The clock must stop at a different event than it starts.")
        if errors:
            raise ValidationError(errors)
