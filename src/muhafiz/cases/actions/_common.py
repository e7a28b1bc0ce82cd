"""What the cases actions share: limits, numbering, the checks of free text, open cases, police
stations and FIR numbers, and identifiers (CNIC, phone, handle). No action lives here."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import F, Model
from django.utils import timezone
from django.utils.translation import gettext as _

from muhafiz.cases.models import (
    ACCUSED_IDENTIFIERS_MAX,
    AgeBand,
    Case,
    CaseStatus,
    Sequence,
    Victim,
)
from muhafiz.catalogue.models import Agency, District, PoliceStation
from muhafiz.core.limits import check_lengths
from muhafiz.core.permissions import (
    Scope,
)


@dataclass(frozen=True, slots=True)
class _Place:
    """Where a case not yet created would live, for the jurisdiction check."""

    district: District
    agency: Agency | None = None

    def access_scope(self) -> Scope:
        return Scope(
            district_id=self.district.pk,
            province_id=self.district.province_id,
            agency_id=getattr(self.agency, "pk", None),
        )


# --- numbering ----------------------------------------------------------------------------------


def _next_number(kind: str, district: District, year: int) -> int:
    """The next number of a per-district, per-year sequence; safe under concurrent callers.

    The row is locked (PostgreSQL) or the whole database is (SQLite IMMEDIATE transactions)
    until the caller's transaction ends, so two cases never get the same reference.
    """
    sequence, _created = Sequence.objects.select_for_update().get_or_create(
        kind=kind, district=district, year=year
    )
    Sequence.objects.filter(pk=sequence.pk).update(last=F("last") + 1)
    sequence.refresh_from_db(fields=["last"])
    return sequence.last


def _local_year(moment: dt.datetime) -> int:
    return timezone.localtime(moment).year


# --- validation helpers -------------------------------------------------------------------------


def _reason(
    reason: str, model: type[Model], field: str = "reason", *, model_field: str = ""
) -> str:
    """A reason that must be given, no longer than the column (`model_field`, else `field`) of
    `model` that keeps it; a reason that only goes into the audit log is `AuditEvent`'s."""
    text = (reason or "").strip()
    if not text:
        raise ValidationError({field: _("Give a reason.")})
    check_lengths(model, {field: text}, fields={field: model_field or field})
    return text


def _identity_strings(case: Case) -> list[str]:
    """The victims' names, guardians and CNICs on a case (decrypted only to be kept out)."""
    values: list[str] = []
    for victim in Victim.objects.filter(case=case).only("pk", "name", "guardian_name", "cnic"):
        for value in (victim.name, victim.guardian_name, victim.cnic):
            if value and len(value.strip()) >= 3:
                values.append(value.strip())
        if victim.cnic:
            values.append(victim.cnic.replace("-", ""))
    return values


def refuse_victim_identity(case: Case, **texts: str) -> None:
    """The identity safety net: free text on the case's records names victims by code only.

    Every free-text field of case, evidence and proceedings records (summaries, reasons,
    purposes, notes, descriptions, places, relations, addresses) goes through this one check,
    keyword by field name, before it is written: roles without the identity right read these
    fields, and reasons go into the audit log. Refuses a victim's name, guardian's name or CNIC
    (with or without dashes) written as a whole word, naming the field, never the value.
    """
    written = {field: text for field, text in texts.items() if text and text.strip()}
    if not written:
        return
    patterns = [
        re.compile(rf"(?<!\w){re.escape(secret)}(?!\w)", re.IGNORECASE)
        for secret in _identity_strings(case)
    ]
    for field, text in written.items():
        if any(pattern.search(text) for pattern in patterns):
            raise ValidationError(
                {field: _("Do not write a victim's name or CNIC here; use the victim's code.")}
            )


def _check_open(case: Case) -> None:
    if case.status != CaseStatus.OPEN:
        raise ValidationError(_("The case is closed; reopen it before changing it."))


def _check_station(district: District, police_station: PoliceStation | None, fir: str) -> None:
    if police_station is not None and police_station.district_id != district.pk:
        raise ValidationError(
            {"police_station": _("The police station is not in the case's district.")}
        )
    if fir and police_station is None:
        raise ValidationError({"police_station": _("An FIR number needs its police station.")})


def _check_fir_unique(police_station: PoliceStation | None, fir: str, exclude: int | None) -> None:
    if not fir or police_station is None:
        return
    clash = Case.objects.filter(police_station=police_station, fir_number=fir)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    other = clash.values_list("reference", flat=True).first()
    if other is not None:
        raise ValidationError(
            {
                "fir_number": _("FIR %(fir)s is already registered at %(station)s (case %(ref)s).")
                % {"fir": fir, "station": police_station.name, "ref": other}
            }
        )


def _clean(obj: Any, exclude: Iterable[str] = ()) -> None:
    """Model validation (lengths, choices); messages keyed by field, never echoing values."""
    obj.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)


def _fir_integrity(exc: IntegrityError) -> ValidationError:
    if "fir_number" in str(exc):
        return ValidationError(
            {"fir_number": _("This FIR number is already registered at this police station.")}
        )
    raise exc


def _user_or_none(actor: Any) -> Any:
    """The staff member acting, or None for an API client or the system (the audit names them)."""
    from muhafiz.accounts.models import User

    return actor if isinstance(actor, User) else None


# --- identifiers --------------------------------------------------------------------------------


def normalize_cnic(raw: str) -> str:
    """A CNIC or B-form number as 12345-1234567-1; a clear error otherwise (value not echoed)."""
    from muhafiz.cases import identifiers

    return identifiers.normalize_cnic(raw)


def normalize_phone(raw: str) -> str:
    from muhafiz.cases import identifiers

    return identifiers.normalize_phone(raw)


def normalize_handle(raw: str) -> str:
    from muhafiz.cases import identifiers

    return identifiers.normalize_handle(raw)


def normalize_email(raw: str) -> str:
    from muhafiz.cases import identifiers

    return identifiers.normalize_email(raw)


def _split_lines(raw: str | Iterable[str]) -> list[str]:
    items = raw.replace(",", "\n").splitlines() if isinstance(raw, str) else list(raw)
    return [item.strip() for item in items if item and item.strip()]


def _normalized_list(
    raw: str | Iterable[str], normalize: Any, field: str, limit: int = ACCUSED_IDENTIFIERS_MAX
) -> list[str]:
    values: list[str] = []
    for position, item in enumerate(_split_lines(raw), start=1):
        try:
            value = normalize(item)
        except ValidationError as exc:
            raise ValidationError(
                {field: _("Entry %(n)d: %(msg)s") % {"n": position, "msg": " ".join(exc.messages)}}
            ) from None
        if value not in values:
            values.append(value)
    if len(values) > limit:
        raise ValidationError({field: _("At most %(n)d entries.") % {"n": limit}})
    return values


def age_band(birth_date: dt.date | None, on: dt.date, estimated_age: int | None = None) -> str:
    """The statistics band of a victim's age on the day the case was reported."""
    if birth_date is not None:
        years = (
            on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
        )
    elif estimated_age is not None:
        years = estimated_age
    else:
        return AgeBand.UNKNOWN
    if years < 0:
        return AgeBand.UNKNOWN
    for upper, band in ((5, AgeBand.UNDER_6), (10, AgeBand.FROM_6), (15, AgeBand.FROM_11)):
        if years <= upper:
            return band
    return AgeBand.FROM_16 if years < 18 else AgeBand.ADULT
