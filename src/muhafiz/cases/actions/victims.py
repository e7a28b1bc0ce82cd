"""Victims under codes: recorded, their identity changed or revealed (audited, for a purpose),
their consents recorded or overridden by a supervisor."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from muhafiz.audit.actions import record, record_read
from muhafiz.cases.actions._common import (
    _check_open,
    _local_year,
    _next_number,
    _normalized_list,
    _reason,
    _user_or_none,
    age_band,
    normalize_cnic,
    normalize_phone,
    refuse_victim_identity,
)
from muhafiz.cases.models import (
    IDENTITY_PURPOSE_MAX_LENGTH,
    PERSON_PHONES_MAX,
    Case,
    Consent,
    ConsentOverride,
    Gender,
    Victim,
)
from muhafiz.core.limits import check_lengths
from muhafiz.core.permissions import (
    Perm,
    check_perm,
    needs_sharing_consent,
    oversees,
)

# --- victims ------------------------------------------------------------------------------------


@dataclass
class VictimIdentity:
    """What the form or API gives for a victim's identity; every field optional."""

    name: str = ""
    cnic: str = ""
    birth_date: dt.date | None = None
    guardian_name: str = ""
    address: str = ""
    phones: str | list[str] = ""
    estimated_age: int | None = None
    # An unlikely fact (an adult's date of birth on a case marked "victim under 18") is refused
    # until the person confirms it is right.
    confirmed: bool = False


IDENTITY_LIMITS = Victim.TEXT_LIMITS  # the limits live on the model (core.limits)


def _age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _check_plausible(case: Case, identity: VictimIdentity, reported_on: dt.date) -> None:
    """A victim 18 or older at the report, on a case recorded as "victim under 18", is asked
    to be confirmed (a typing slip in the year is the likely cause)."""
    if identity.confirmed or not case.victim_under_18:
        return
    age = None
    if identity.birth_date is not None:
        age = _age_on(identity.birth_date, reported_on)
    elif identity.estimated_age is not None:
        age = identity.estimated_age
    if age is not None and age >= 18:
        raise ValidationError(
            {
                "confirmed": _(
                    "The case says the victim is under 18, but this makes the victim %(age)d "
                    "at the report. Check the date, or confirm that it is right."
                )
                % {"age": age}
            },
            code="implausible",
        )


def _clean_identity(identity: VictimIdentity, reported_on: dt.date) -> dict[str, Any]:
    check_lengths(Victim, {attr: getattr(identity, attr) for attr in IDENTITY_LIMITS})
    cnic = ""
    if identity.cnic and identity.cnic.strip():
        try:
            cnic = normalize_cnic(identity.cnic)
        except ValidationError as exc:
            raise ValidationError({"cnic": exc.messages}) from None
    if identity.birth_date is not None and identity.birth_date > reported_on:
        raise ValidationError({"birth_date": _("The date of birth is after the report.")})
    if identity.estimated_age is not None and not 0 <= identity.estimated_age <= 120:
        raise ValidationError({"estimated_age": _("Give an age between 0 and 120.")})
    phones = _normalized_list(identity.phones, normalize_phone, "phones", limit=PERSON_PHONES_MAX)
    return {
        "name": (identity.name or "").strip(),
        "cnic": cnic,
        "birth_date": identity.birth_date,
        "guardian_name": (identity.guardian_name or "").strip(),
        "address": (identity.address or "").strip(),
        "phones": "\n".join(phones),
    }


def add_victim(
    actor: Any,
    case: Case,
    identity: VictimIdentity,
    *,
    gender: str = Gender.UNKNOWN,
    consent_sharing: bool = False,
    consent_referral: bool = False,
    consent_statistics: bool = False,
    request: HttpRequest | None = None,
) -> Victim:
    """Record a victim on the case under a new code (V-<year>-<district>-<number>)."""
    check_perm(actor, Perm.CASE_EDIT, case)
    check_perm(actor, Perm.VICTIM_IDENTITY, case)
    _check_open(case)
    if gender not in Gender.values:
        raise ValidationError({"gender": _("Unknown gender value.")})
    reported_on = timezone.localtime(case.reported_at).date()
    fields = _clean_identity(identity, reported_on)
    _check_plausible(case, identity, reported_on)
    with transaction.atomic():
        year = _local_year(case.reported_at)
        number = _next_number("victim", case.district, year)
        victim = Victim.objects.create(
            case=case,
            pseudonym=f"V-{year}-{case.district.code}-{number:04d}",
            gender=gender,
            age_band=age_band(fields["birth_date"], reported_on, identity.estimated_age),
            consent_sharing=consent_sharing,
            consent_referral=consent_referral,
            consent_statistics=consent_statistics,
            created_by=_user_or_none(actor),
            **fields,
        )
        record(
            actor,
            "victim.create",
            victim,
            request=request,
            case=case.reference,
            identity_fields=sorted(k for k, v in fields.items() if v),
            consents=_consents(victim),
        )
    return victim


def _consents(victim: Victim) -> dict[str, bool]:
    return {c: bool(getattr(victim, f"consent_{c}")) for c in Consent.values}


def update_victim_identity(
    actor: Any, victim: Victim, identity: VictimIdentity, *, request: HttpRequest | None = None
) -> Victim:
    """Replace the victim's identity fields; the audit names the fields changed, not values."""
    case = victim.case
    check_perm(actor, Perm.CASE_EDIT, case)
    check_perm(actor, Perm.VICTIM_IDENTITY, case)
    _check_open(case)
    reported_on = timezone.localtime(case.reported_at).date()
    fields = _clean_identity(identity, reported_on)
    _check_plausible(case, identity, reported_on)
    changed = [name for name, value in fields.items() if getattr(victim, name) != value]
    for name, value in fields.items():
        setattr(victim, name, value)
    band = age_band(fields["birth_date"], reported_on, identity.estimated_age)
    if fields["birth_date"] is None and identity.estimated_age is None:
        band = victim.age_band  # nothing new about the age: keep the band recorded before
    if band != victim.age_band:
        victim.age_band = band
        changed.append("age_band")
    if not changed:
        return victim
    update = [*changed, "cnic_index"] if "cnic" in changed else changed
    with transaction.atomic():
        victim.save(update_fields=update)
        record(actor, "victim.identity.update", victim, request=request, changed=changed)
    return victim


def reveal_victim_identity(
    actor: Any, victim: Victim, purpose: str, *, request: HttpRequest | None = None
) -> dict[str, Any]:
    """The victim's identity for one person, after the right is checked and the read audited.

    Sharing consent: outside police and prosecution (a child-protection officer) the identity
    is shown only when the victim consented to sharing, or a supervisor overrode it.
    """
    case = victim.case
    check_perm(actor, Perm.VICTIM_IDENTITY, case)
    if needs_sharing_consent(actor) and not victim.consents(Consent.SHARING):
        raise PermissionDenied("consent.sharing")
    text = (purpose or "").strip()
    if not text:
        raise ValidationError({"purpose": _("Say why you need to see the identity.")})
    if len(text) > IDENTITY_PURPOSE_MAX_LENGTH:
        raise ValidationError(
            {"purpose": _("Keep it under %(n)d characters.") % {"n": IDENTITY_PURPOSE_MAX_LENGTH}}
        )
    refuse_victim_identity(case, purpose=text)
    record_read(actor, "victim.identity.view", victim, reason=text, request=request)
    return {
        "pseudonym": victim.pseudonym,
        "name": victim.name,
        "cnic": victim.cnic,
        "birth_date": victim.birth_date,
        "guardian_name": victim.guardian_name,
        "address": victim.address,
        "phones": [p for p in (victim.phones or "").splitlines() if p],
    }


def set_victim_consents(
    actor: Any,
    victim: Victim,
    *,
    sharing: bool | None = None,
    referral: bool | None = None,
    statistics: bool | None = None,
    request: HttpRequest | None = None,
) -> Victim:
    """Record the consents the victim (or guardian) gave or withdrew."""
    case = victim.case
    # The case team (or a supervisor overseeing the case) records consents; jurisdiction alone
    # does not let a stranger to the case change what a victim agreed to.
    check_perm(actor, Perm.VICTIM_CONSENT, case)
    wanted = {"sharing": sharing, "referral": referral, "statistics": statistics}
    changed = []
    for consent, value in wanted.items():
        if value is not None and getattr(victim, f"consent_{consent}") != value:
            setattr(victim, f"consent_{consent}", value)
            changed.append(f"consent_{consent}")
    if changed:
        with transaction.atomic():
            victim.save(update_fields=changed)
            record(
                actor, "victim.consent.update", victim, request=request, consents=_consents(victim)
            )
    return victim


def override_consent(
    actor: Any, victim: Victim, consent: str, reason: str, *, request: HttpRequest | None = None
) -> ConsentOverride:
    """A supervisor decides to act without one of the victim's consents, with a reason."""
    case = victim.case
    check_perm(actor, Perm.CASE_EDIT, case)
    # Overriding a victim's refusal is for those who oversee the case (supervisors).
    if not oversees(actor, case):
        raise PermissionDenied("consent.override")
    if consent not in Consent.values:
        raise ValidationError({"consent": _("Unknown consent.")})
    text = _reason(reason, ConsentOverride)
    refuse_victim_identity(case, reason=text)
    with transaction.atomic():
        override = ConsentOverride.objects.create(
            victim=victim, consent=consent, reason=text, decided_by=actor
        )
        record(
            actor,
            "victim.consent.override",
            victim,
            reason=text,
            request=request,
            consent=consent,
            override_id=override.pk,
        )
    return override
