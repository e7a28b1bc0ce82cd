"""The case itself: open it, change what is recorded, add offences, close and reopen it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from collections.abc import Sequence as Seq
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from muhafiz.audit.actions import record
from muhafiz.cases import hooks
from muhafiz.cases.actions._common import (
    _check_fir_unique,
    _check_open,
    _check_station,
    _clean,
    _fir_integrity,
    _local_year,
    _next_number,
    _Place,
    _reason,
    _user_or_none,
    refuse_victim_identity,
)
from muhafiz.cases.models import (
    FACT_FIELDS,
    Case,
    CaseStatus,
    StatusChange,
    TeamMember,
    TeamRole,
)
from muhafiz.catalogue.models import Agency, District, Offence, PoliceStation
from muhafiz.core.limits import check_lengths
from muhafiz.core.permissions import (
    Perm,
    check_perm,
)

# --- the case -----------------------------------------------------------------------------------


def create_case(
    actor: Any,
    *,
    district: District,
    agency: Agency,
    reported_at: dt.datetime,
    police_station: PoliceStation | None = None,
    fir_number: str = "",
    summary: str = "",
    facts: Iterable[str] = (),
    offences: Iterable[Offence] = (),
    request: HttpRequest | None = None,
) -> Case:
    """Open a case in `district`; its reference is the district's next number for the year."""
    check_perm(actor, Perm.CASE_CREATE, _Place(district, agency))
    fir_number = (fir_number or "").strip()
    facts = set(facts)
    unknown = facts - set(FACT_FIELDS)
    if unknown:
        raise ValidationError({"facts": _("Unknown fact: %(f)s") % {"f": ", ".join(unknown)}})
    check_lengths(Case, {"fir_number": fir_number, "summary": summary})
    if reported_at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({"reported_at": _("The report cannot be received in the future.")})
    _check_station(district, police_station, fir_number)
    case = Case(
        reference="pending",
        district=district,
        agency=agency,
        police_station=police_station,
        fir_number=fir_number,
        summary=summary,
        reported_at=reported_at,
        created_by=_user_or_none(actor),
        **{code: code in facts for code in FACT_FIELDS},
    )
    _clean(case, exclude=["created_by", "reference"])
    try:
        with transaction.atomic():
            _check_fir_unique(police_station, fir_number, None)
            number = _next_number("case", district, _local_year(reported_at))
            case.reference = f"{district.code}-{_local_year(reported_at)}-{number:04d}"
            case.save(force_insert=True)
            hooks.case_saved.send_on_commit(case.pk, True)
            case.offences.set(list(offences))
            role = getattr(actor, "role", "")
            if role in TeamRole.values:
                TeamMember.objects.create(case=case, user=actor, team_role=role)
                case.forget_team()
            record(
                actor,
                "case.create",
                case,
                request=request,
                district=district.code,
                fir_number=fir_number,
                facts=sorted(facts),
                offences=sorted(o.code for o in offences),
            )
    except IntegrityError as exc:
        raise _fir_integrity(exc) from exc
    return case


def update_case(
    actor: Any,
    case: Case,
    *,
    agency: Agency | None = None,
    police_station: PoliceStation | str | None = "unchanged",
    fir_number: str | None = None,
    summary: str | None = None,
    facts: Iterable[str] | None = None,
    offences: Iterable[Offence] | None = None,
    request: HttpRequest | None = None,
) -> Case:
    """Change what is recorded about a case; only the arguments given change."""
    check_perm(actor, Perm.CASE_EDIT, case)
    _check_open(case)
    changed: list[str] = []
    before = {
        "fir_number": case.fir_number,
        "police_station": case.police_station_id,
        "agency": case.agency_id,
        "facts": sorted(case.facts()),
    }
    if agency is not None and agency.pk != case.agency_id:
        # Handing a case to another agency needs the right there too (an agency's case system
        # acts only for its own agency).
        check_perm(actor, Perm.CASE_EDIT, _Place(case.district, agency))
        case.agency = agency
        changed.append("agency")
    if not isinstance(police_station, str) and police_station != case.police_station:
        case.police_station = police_station
        changed.append("police_station")
    check_lengths(Case, {"fir_number": fir_number, "summary": summary})
    if fir_number is not None and fir_number.strip() != case.fir_number:
        case.fir_number = fir_number.strip()
        changed.append("fir_number")
    if summary is not None and summary != case.summary:
        refuse_victim_identity(case, summary=summary)
        case.summary = summary
        changed.append("summary")
    if facts is not None:
        wanted = set(facts)
        unknown = wanted - set(FACT_FIELDS)
        if unknown:
            raise ValidationError({"facts": _("Unknown fact: %(f)s") % {"f": ", ".join(unknown)}})
        for code in FACT_FIELDS:
            if getattr(case, code) != (code in wanted):
                setattr(case, code, code in wanted)
                changed.append(code)
    _check_station(case.district, case.police_station, case.fir_number)
    _clean(case, exclude=["created_by"])
    try:
        with transaction.atomic():
            _check_fir_unique(case.police_station, case.fir_number, case.pk)
            if changed:
                case.save(update_fields=changed)
                hooks.case_saved.send_on_commit(case.pk, False)
            offence_codes: list[str] | None = None
            if offences is not None:
                new = list(offences)
                old_codes = sorted(case.offences.values_list("code", flat=True))
                offence_codes = sorted(o.code for o in new)
                if offence_codes != old_codes:
                    case.offences.set(new)
                    changed.append("offences")
            if changed:
                record(
                    actor,
                    "case.update",
                    case,
                    request=request,
                    changed=changed,
                    before=before,
                    after={
                        "fir_number": case.fir_number,
                        "police_station": case.police_station_id,
                        "agency": case.agency_id,
                        "facts": sorted(case.facts()),
                        "offences": offence_codes,
                    },
                )
    except IntegrityError as exc:
        raise _fir_integrity(exc) from exc
    return case


def add_offences(
    actor: Any, case: Case, codes: Seq[str], *, request: HttpRequest | None = None
) -> list[Offence]:
    """Add catalogue offences (by code) to a case, e.g. accepting suggested sections."""
    check_perm(actor, Perm.CASE_EDIT, case)
    _check_open(case)
    if not codes:
        raise ValidationError({"offences": _("Tick at least one section to add.")})
    found = list(Offence.objects.filter(code__in=codes, active=True))
    missing = set(codes) - {o.code for o in found}
    if missing:
        raise ValidationError(
            {"offences": _("Not in the catalogue: %(c)s") % {"c": ", ".join(sorted(missing))}}
        )
    with transaction.atomic():
        case.offences.add(*found)
        record(actor, "case.offences.add", case, request=request, offences=sorted(codes))
    return found


def close_case(actor: Any, case: Case, reason: str, *, request: HttpRequest | None = None) -> None:
    check_perm(actor, Perm.CASE_EDIT, case)
    _change_status(actor, case, CaseStatus.CLOSED, reason, request)


def reopen_case(actor: Any, case: Case, reason: str, *, request: HttpRequest | None = None) -> None:
    check_perm(actor, Perm.CASE_EDIT, case)
    _change_status(actor, case, CaseStatus.OPEN, reason, request)


def _change_status(
    actor: Any, case: Case, to: str, reason: str, request: HttpRequest | None
) -> None:
    text = _reason(reason, StatusChange)
    refuse_victim_identity(case, reason=text)
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.status == to:
            raise ValidationError(
                _("The case is already closed.")
                if to == CaseStatus.CLOSED
                else _("The case is already open.")
            )
        StatusChange.objects.create(
            case=locked,
            from_status=locked.status,
            to_status=to,
            reason=text,
            changed_by=_user_or_none(actor),
        )
        case.status = to
        case.closed_at = timezone.now() if to == CaseStatus.CLOSED else None
        case.save(update_fields=["status", "closed_at"])
        hooks.case_saved.send_on_commit(case.pk, False)
        record(
            actor,
            "case.close" if to == CaseStatus.CLOSED else "case.reopen",
            case,
            reason=text,
            request=request,
        )


def record_case_export(
    actor: Any, *, rows: int, query: str, request: HttpRequest | None = None
) -> None:
    """Audit a CSV export of the case list (codes and counts only): how many rows, which search."""
    check_perm(actor, Perm.CASE_VIEW)
    with transaction.atomic():
        record(actor, "case.export", request=request, rows=rows, query=query)


def correct_reported_at(
    actor: Any,
    case: Case,
    reported_at: dt.datetime,
    *,
    reason: str,
    request: HttpRequest | None = None,
) -> Case:
    """Correct when the report was received, with a reason; the old date stays in the audit.
    The proceedings app calls it from its correction of the report (which re-derives the
    clocks); nothing else should."""
    check_perm(actor, Perm.CASE_EDIT, case)
    _check_open(case)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the date is corrected.")})
    if timezone.is_naive(reported_at):
        raise ValidationError({"reported_at": _("Give the time with its time zone.")})
    if reported_at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({"reported_at": _("This date is in the future.")})
    refuse_victim_identity(case, reason=reason)
    before = case.reported_at
    with transaction.atomic():
        case.reported_at = reported_at
        case.save(update_fields=["reported_at"])
        record(
            actor,
            "case.reported_at.correct",
            case,
            request=request,
            before=before.isoformat(),
            after=reported_at.isoformat(),
            reason=reason,
        )
    return case
