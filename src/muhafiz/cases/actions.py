"""Every write to the case database: each checks the actor's right, runs in one transaction and
writes its audit record in it. Views, API handlers, jobs and other apps call these."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from collections.abc import Sequence as Seq
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from muhafiz.audit.actions import record, record_read
from muhafiz.cases import hooks
from muhafiz.cases.models import (
    FACT_FIELDS,
    Accused,
    AccusedIdentifier,
    AccusedStatus,
    AgeBand,
    Alert,
    AlertKind,
    Case,
    CaseStatus,
    Consent,
    ConsentOverride,
    Gender,
    IdentifierKind,
    Referral,
    ReferralStatus,
    SectionRule,
    Sequence,
    StatusChange,
    TeamJoinRequest,
    TeamJoinStatus,
    TeamMember,
    TeamRole,
    Victim,
    Witness,
)
from muhafiz.catalogue.models import Agency, District, Offence, PoliceStation
from muhafiz.core.permissions import (
    SYSTEM,
    Perm,
    Scope,
    check_perm,
    check_system,
    covers,
    has_perm,
    needs_sharing_consent,
    oversees,
    same_principal,
    user_pk,
)

MAX_REASON = 2000
MAX_SUMMARY = 4000


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


# --- alerts -------------------------------------------------------------------------------------


def raise_alert(
    actor: Any, case: Case, recipient: Any, kind: str, message: str, *, dedupe_key: str
) -> tuple[Alert, bool]:
    """Tell `recipient` about something on `case`, once: a second call with the same
    `dedupe_key` for the same person changes nothing and returns the existing alert.

    The system raises alerts (after the commit of the action that causes them), so `actor` is
    `SYSTEM`. Messages name cases by reference and victims by code, never by name.
    """
    check_system(actor)
    if kind not in AlertKind.values:
        raise ValueError(f"unknown alert kind {kind!r}")
    with transaction.atomic():
        alert, created = Alert.objects.get_or_create(
            recipient=recipient,
            dedupe_key=dedupe_key[:200],
            defaults={"case": case, "kind": kind, "message": message[:500]},
        )
    return alert, created


@dataclass(frozen=True, slots=True)
class TeamNotice:
    """One alert for the members of a case's team (see `raise_team_alerts`)."""

    case_id: int
    kind: str
    message: str
    dedupe_key: str


def raise_team_alerts(actor: Any, notices: Seq[TeamNotice], team_roles: Iterable[str]) -> int:
    """Alert every member of each notice's case team who holds one of `team_roles` on it, once
    per person and dedupe key, as `raise_alert` does; returns how many alerts were new.

    For the system's jobs, which alert in bulk (the clock job after an outage: 100,000s of
    alerts): PostgreSQL takes a batch as one statement, other databases one bulk insert.
    """
    check_system(actor)
    roles = sorted(set(team_roles))
    if set(roles) - set(TeamRole.values):
        raise ValueError(f"unknown team roles {sorted(set(roles) - set(TeamRole.values))}")
    if any(n.kind not in AlertKind.values for n in notices):
        raise ValueError("unknown alert kind")
    if not notices or not roles:
        return 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            return _insert_team_alerts_in_sql(notices, roles)
        return _insert_team_alerts(notices, roles)


def _insert_team_alerts_in_sql(notices: Seq[TeamNotice], roles: list[str]) -> int:
    sql = f"""
        INSERT INTO {Alert._meta.db_table}
            (recipient_id, case_id, kind, message, dedupe_key, created_at)
        SELECT DISTINCT ON (tm.user_id, n.dedupe_key)
            tm.user_id, n.case_id, n.kind, n.message, n.dedupe_key, now()
        FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[])
            AS n(case_id, kind, message, dedupe_key)
        JOIN {TeamMember._meta.db_table} tm
            ON tm.case_id = n.case_id AND tm.team_role = ANY(%s)
        ON CONFLICT (recipient_id, dedupe_key) DO NOTHING
    """  # noqa: S608 - table names come from model metadata; every value is a parameter
    params: list[Any] = [
        [n.case_id for n in notices],
        [n.kind for n in notices],
        [n.message[:500] for n in notices],
        [n.dedupe_key[:200] for n in notices],
        roles,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(int(cursor.rowcount), 0)


def _insert_team_alerts(notices: Seq[TeamNotice], roles: list[str]) -> int:
    recipients: dict[int, set[int]] = {}
    for case_id, user_id in TeamMember.objects.filter(
        case_id__in={n.case_id for n in notices}, team_role__in=roles
    ).values_list("case_id", "user_id"):
        recipients.setdefault(case_id, set()).add(user_id)
    wanted: dict[tuple[int, str], Alert] = {}
    for notice in notices:
        key = notice.dedupe_key[:200]
        for user_id in sorted(recipients.get(notice.case_id, ())):
            wanted.setdefault(
                (user_id, key),
                Alert(
                    recipient_id=user_id,
                    case_id=notice.case_id,
                    kind=notice.kind,
                    message=notice.message[:500],
                    dedupe_key=key,
                ),
            )
    if not wanted:
        return 0
    existing = set(
        Alert.objects.filter(
            recipient_id__in={user_id for user_id, _key in wanted},
            dedupe_key__in={key for _user, key in wanted},
        ).values_list("recipient_id", "dedupe_key")
    )
    rows = [alert for pair, alert in wanted.items() if pair not in existing]
    Alert.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    return len(rows)


def mark_alert_read(actor: Any, alert: Alert) -> None:
    if user_pk(actor) is None or alert.recipient_id != user_pk(actor):
        raise PermissionDenied("alert")
    if alert.read_at is None:
        alert.read_at = timezone.now()
        alert.save(update_fields=["read_at"])


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


def _reason(reason: str, field: str = "reason") -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationError({field: _("Give a reason.")})
    if len(text) > MAX_REASON:
        raise ValidationError({field: _("Keep it under %(n)d characters.") % {"n": MAX_REASON}})
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
    if len(summary) > MAX_SUMMARY:
        raise ValidationError(
            {"summary": _("Keep it under %(n)d characters.") % {"n": MAX_SUMMARY}}
        )
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


def _user_or_none(actor: Any) -> Any:
    """The staff member acting, or None for an API client or the system (the audit names them)."""
    from muhafiz.accounts.models import User

    return actor if isinstance(actor, User) else None


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
    if fir_number is not None and fir_number.strip() != case.fir_number:
        case.fir_number = fir_number.strip()
        changed.append("fir_number")
    if summary is not None and summary != case.summary:
        if len(summary) > MAX_SUMMARY:
            raise ValidationError(
                {"summary": _("Keep it under %(n)d characters.") % {"n": MAX_SUMMARY}}
            )
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
    text = _reason(reason)
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


# --- the team -----------------------------------------------------------------------------------


def _check_can_join(case: Case, user: Any, team_role: str) -> None:
    """`user` may be on the case team as `team_role`: a staff member holding that role whose
    jurisdiction covers the case. Refusals say so without naming anyone."""
    if team_role not in TeamRole.values:
        raise ValidationError({"team_role": _("Unknown role on a case.")})
    if user_pk(user) is None:
        raise ValidationError({"user": _("Only staff members join a case team.")})
    if getattr(user, "role", "") != team_role or not user.is_active:
        raise ValidationError(
            {
                "user": _("This person does not hold the role of %(role)s.")
                % {"role": TeamRole(team_role).label}
            }
        )
    if not covers(user, case.access_scope()):
        raise ValidationError({"user": _("This person does not work in the case's district.")})


def _put_on_team(
    approver: Any,
    case: Case,
    user: Any,
    team_role: str,
    *,
    join_request: TeamJoinRequest | None,
    request: HttpRequest | None,
) -> tuple[TeamMember, bool]:
    """Inside the caller's transaction: add the member, audit with the approver, tell them."""
    member, created = TeamMember.objects.get_or_create(case=case, user=user, team_role=team_role)
    case.forget_team()
    if created:
        record(
            approver,
            "case.team.add",
            case,
            request=request,
            user_id=user.pk,
            team_role=team_role,
            approved_by=user_pk(approver),
            join_request=getattr(join_request, "pk", None),
        )
        transaction.on_commit(
            lambda: raise_alert(
                SYSTEM,
                case,
                user,
                AlertKind.TEAM,
                _("You were added to case %(ref)s as %(role)s.")
                % {"ref": case.reference, "role": TeamRole(team_role).label},
                dedupe_key=f"team:{case.pk}:{team_role}",
            )
        )
    return member, created


def add_team_member(
    actor: Any,
    case: Case,
    user: Any,
    team_role: str,
    *,
    request: HttpRequest | None = None,
) -> TeamMember:
    """A supervisor overseeing the case puts `user` on its team (their approval is the add).

    Everyone else asks with `request_team_join`; nobody adds themselves by jurisdiction alone.
    """
    check_perm(actor, Perm.CASE_OVERSEE, case)
    _check_open(case)
    _check_can_join(case, user, team_role)
    with transaction.atomic():
        member, _created = _put_on_team(
            actor, case, user, team_role, join_request=None, request=request
        )
        TeamJoinRequest.objects.filter(
            case=case, user=user, team_role=team_role, status=TeamJoinStatus.REQUESTED
        ).update(status=TeamJoinStatus.APPROVED, decided_by=actor, decided_at=timezone.now())
    return member


def request_team_join(
    actor: Any,
    case: Case,
    team_role: str,
    reason: str,
    *,
    user: Any = None,
    request: HttpRequest | None = None,
) -> TeamJoinRequest:
    """Ask that `user` (the actor when None) join the case team as `team_role`.

    A staff member who may open the case asks for themselves; a member of the team may also ask
    for a colleague. A supervisor overseeing the case decides (`decide_team_join`).
    """
    from muhafiz.cases.selectors import CASE_PAGE_PERMS

    if not any(has_perm(actor, perm, case) for perm in CASE_PAGE_PERMS):
        check_perm(actor, Perm.CASE_VIEW, case)
    if user_pk(actor) is None:
        raise PermissionDenied("team.request")
    user = actor if user is None else user
    if not same_principal(user, actor) and user_pk(actor) not in case.team_user_ids():
        raise PermissionDenied("team.request")
    _check_open(case)
    _check_can_join(case, user, team_role)
    text = _reason(reason)
    if len(text) > 500:
        raise ValidationError({"reason": _("Keep it under %(n)d characters.") % {"n": 500}})
    refuse_victim_identity(case, reason=text)
    with transaction.atomic():
        if TeamMember.objects.filter(case=case, user=user, team_role=team_role).exists():
            raise ValidationError({"user": _("This person is already on the team in that role.")})
        if TeamJoinRequest.objects.filter(
            case=case, user=user, team_role=team_role, status=TeamJoinStatus.REQUESTED
        ).exists():
            raise ValidationError({"user": _("This request is already waiting for a decision.")})
        join = TeamJoinRequest.objects.create(
            case=case, user=user, team_role=team_role, reason=text, requested_by=actor
        )
        record(
            actor,
            "case.team.join_requested",
            join,
            reason=text,
            request=request,
            case=case.reference,
            user_id=user.pk,
            team_role=team_role,
        )
        transaction.on_commit(partial(_tell_supervisors, join))
    return join


def _tell_supervisors(join: TeamJoinRequest) -> None:
    """Alert every active supervisor who oversees the case that a request waits for them."""
    from muhafiz.accounts.models import User

    case = join.case
    for supervisor in User.objects.filter(is_active=True).exclude(pk=join.user_id):
        if oversees(supervisor, case):
            raise_alert(
                SYSTEM,
                case,
                supervisor,
                AlertKind.TEAM_REQUEST,
                _("A request to join case %(ref)s as %(role)s waits for your decision.")
                % {"ref": case.reference, "role": TeamRole(join.team_role).label},
                dedupe_key=f"team-request:{join.pk}",
            )


def decide_team_join(
    actor: Any,
    join: TeamJoinRequest,
    approve: bool,
    note: str = "",
    *,
    request: HttpRequest | None = None,
) -> TeamJoinRequest:
    """A supervisor overseeing the case approves (the person joins) or refuses (with a reason).

    Nobody decides a request to put themselves on a team.
    """
    case = join.case
    check_perm(actor, Perm.CASE_OVERSEE, case)
    if user_pk(actor) is not None and user_pk(actor) == join.user_id:
        raise PermissionDenied("team.decide.own")
    note = (note or "").strip()
    if not approve:
        note = _reason(note, "note")
    if len(note) > 500:
        raise ValidationError({"note": _("Keep it under %(n)d characters.") % {"n": 500}})
    refuse_victim_identity(case, note=note)
    if approve:
        _check_open(case)
        _check_can_join(case, join.user, join.team_role)
    with transaction.atomic():
        locked = TeamJoinRequest.objects.select_for_update().get(pk=join.pk)
        if locked.status != TeamJoinStatus.REQUESTED:
            raise ValidationError(_("This request has already been decided."))
        join.status = TeamJoinStatus.APPROVED if approve else TeamJoinStatus.REFUSED
        join.decided_by = actor
        join.decided_at = timezone.now()
        join.decision_note = note
        join.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        record(
            actor,
            "case.team.join_approved" if approve else "case.team.join_refused",
            join,
            reason=note,
            request=request,
            case=case.reference,
            user_id=join.user_id,
            team_role=join.team_role,
            requested_by=join.requested_by_id,
        )
        if approve:
            _put_on_team(actor, case, join.user, join.team_role, join_request=join, request=request)
    return join


def remove_team_member(
    actor: Any, member: TeamMember, reason: str, *, request: HttpRequest | None = None
) -> None:
    """A supervisor overseeing the case takes someone off its team; a member may leave."""
    case = member.case
    leaving = user_pk(actor) is not None and user_pk(actor) == member.user_id
    if not (leaving or oversees(actor, case)):
        check_perm(actor, Perm.CASE_OVERSEE, case)
    text = _reason(reason)
    refuse_victim_identity(case, reason=text)  # the reason goes into the audit log
    with transaction.atomic():
        record(
            actor,
            "case.team.remove",
            case,
            reason=text,
            request=request,
            user_id=member.user_id,
            team_role=member.team_role,
        )
        member.delete()
        case.forget_team()


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


def _split_lines(raw: str | Iterable[str]) -> list[str]:
    items = raw.replace(",", "\n").splitlines() if isinstance(raw, str) else list(raw)
    return [item.strip() for item in items if item and item.strip()]


def _normalized_list(
    raw: str | Iterable[str], normalize: Any, field: str, limit: int = 20
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


# --- victims ------------------------------------------------------------------------------------


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


IDENTITY_LIMITS = {"name": 200, "guardian_name": 200, "address": 1000}


def _clean_identity(identity: VictimIdentity, reported_on: dt.date) -> dict[str, Any]:
    for attr, limit in IDENTITY_LIMITS.items():
        if len(getattr(identity, attr) or "") > limit:
            raise ValidationError({attr: _("Keep it under %(n)d characters.") % {"n": limit}})
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
    phones = _normalized_list(identity.phones, normalize_phone, "phones", limit=5)
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
    if len(text) > 500:
        raise ValidationError({"purpose": _("Keep it under %(n)d characters.") % {"n": 500}})
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
    text = _reason(reason)
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


# --- accused and witnesses ----------------------------------------------------------------------


@dataclass
class AccusedDetails:
    name: str = ""
    aliases: str = ""
    cnic: str = ""
    phones: str | list[str] = ""
    handles: str | list[str] = ""
    addresses: str = ""
    status: str = AccusedStatus.SUSPECT


def _clean_accused(details: AccusedDetails) -> tuple[dict[str, Any], dict[str, list[str]]]:
    for attr, limit in (("name", 200), ("aliases", 500), ("addresses", 2000)):
        if len(getattr(details, attr) or "") > limit:
            raise ValidationError({attr: _("Keep it under %(n)d characters.") % {"n": limit}})
    if details.status not in AccusedStatus.values:
        raise ValidationError({"status": _("Unknown status.")})
    identifiers = {
        IdentifierKind.CNIC: _normalized_list(details.cnic, normalize_cnic, "cnic", limit=3),
        IdentifierKind.PHONE: _normalized_list(details.phones, normalize_phone, "phones"),
        IdentifierKind.HANDLE: _normalized_list(details.handles, normalize_handle, "handles"),
    }
    fields = {
        "name": (details.name or "").strip(),
        "aliases": (details.aliases or "").strip(),
        "addresses": (details.addresses or "").strip(),
        "status": details.status,
    }
    # An unidentified suspect is recorded too: the label (A1, A2, …) names them until known.
    return fields, {str(k): v for k, v in identifiers.items()}


def _set_identifiers(accused: Accused, identifiers: dict[str, list[str]]) -> None:
    accused.identifiers.all().delete()
    AccusedIdentifier.objects.bulk_create(
        [
            _identifier(accused, kind, value)
            for kind, values in identifiers.items()
            for value in values
        ]
    )


def _identifier(accused: Accused, kind: str, value: str) -> AccusedIdentifier:
    return AccusedIdentifier(accused=accused, kind=kind, value=value)


def add_accused(
    actor: Any, case: Case, details: AccusedDetails, *, request: HttpRequest | None = None
) -> Accused:
    """Record an accused person or suspect (A1, A2, … on the case)."""
    check_perm(actor, Perm.CASE_EDIT, case)
    _check_open(case)
    fields, identifiers = _clean_accused(details)
    refuse_victim_identity(case, aliases=fields["aliases"], addresses=fields["addresses"])
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=case.pk).first()
        count = Accused.objects.filter(case=case).count()
        accused = Accused.objects.create(
            case=case, label=f"A{count + 1}", created_by=_user_or_none(actor), **fields
        )
        _set_identifiers(accused, identifiers)
        record(
            actor,
            "accused.create",
            accused,
            request=request,
            case=case.reference,
            identifiers={k: len(v) for k, v in identifiers.items()},
        )
        _notify_links_on_commit(accused)
    return accused


def update_accused(
    actor: Any, accused: Accused, details: AccusedDetails, *, request: HttpRequest | None = None
) -> Accused:
    case = accused.case
    check_perm(actor, Perm.CASE_EDIT, case)
    _check_open(case)
    fields, identifiers = _clean_accused(details)
    refuse_victim_identity(case, aliases=fields["aliases"], addresses=fields["addresses"])
    changed = [name for name, value in fields.items() if getattr(accused, name) != value]
    for name, value in fields.items():
        setattr(accused, name, value)
    with transaction.atomic():
        if changed:
            accused.save(update_fields=changed)
        _set_identifiers(accused, identifiers)
        record(
            actor,
            "accused.update",
            accused,
            request=request,
            changed=changed,
            identifiers={k: len(v) for k, v in identifiers.items()},
        )
        _notify_links_on_commit(accused)
    return accused


def _notify_links_on_commit(accused: Accused) -> None:
    # Other apps (evidence: cross-case links) connect to the hook; called after commit.
    hooks.accused_identifiers_changed.send_on_commit(accused)


def add_witness(
    actor: Any,
    case: Case,
    *,
    name: str,
    phones: str | list[str] = "",
    address: str = "",
    relation: str = "",
    is_child: bool = False,
    request: HttpRequest | None = None,
) -> Witness:
    check_perm(actor, Perm.CASE_EDIT, case)
    _check_open(case)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the witness's name.")})
    for attr, value, limit in (
        ("name", name, 200),
        ("address", address, 1000),
        ("relation", relation, 200),
    ):
        if len(value or "") > limit:
            raise ValidationError({attr: _("Keep it under %(n)d characters.") % {"n": limit}})
    phone_list = _normalized_list(phones, normalize_phone, "phones", limit=5)
    refuse_victim_identity(case, relation=relation)
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=case.pk).first()
        count = Witness.objects.filter(case=case).count()
        witness = Witness.objects.create(
            case=case,
            label=f"W{count + 1}",
            name=name,
            phones="\n".join(phone_list),
            address=(address or "").strip(),
            relation=(relation or "").strip(),
            is_child=is_child,
            created_by=_user_or_none(actor),
        )
        record(actor, "witness.create", witness, request=request, case=case.reference)
    return witness


# --- referrals ----------------------------------------------------------------------------------


def refer_victim(
    actor: Any,
    victim: Victim,
    *,
    needs: str,
    service: Agency | None = None,
    officer: Any = None,
    request: HttpRequest | None = None,
) -> Referral:
    """Refer a victim to child-protection services.

    Refused without the victim's referral consent, unless a supervisor has overridden it
    (`override_consent`), and the override is linked to the referral.
    """
    case = victim.case
    check_perm(actor, Perm.CASE_EDIT, case)
    # Acting on the victim's consent, and putting an officer on the team, is the team's part.
    check_perm(actor, Perm.VICTIM_CONSENT, case)
    _check_open(case)
    needs = (needs or "").strip()
    if not needs:
        raise ValidationError({"needs": _("Say what the child needs.")})
    if len(needs) > MAX_REASON:
        raise ValidationError({"needs": _("Keep it under %(n)d characters.") % {"n": MAX_REASON}})
    refuse_victim_identity(case, needs=needs)
    override = None
    if not victim.consent_referral:
        override = victim.consent_overrides.filter(consent=Consent.REFERRAL).last()
        if override is None:
            raise ValidationError(
                {
                    "victim": _(
                        "%(code)s has not consented to a referral. A supervisor can override "
                        "this with a reason."
                    )
                    % {"code": victim.pseudonym}
                }
            )
    if officer is not None and getattr(officer, "role", "") != TeamRole.CHILD_PROTECTION_OFFICER:
        raise ValidationError({"officer": _("Choose a child-protection officer.")})
    if officer is not None and not covers(officer, case.access_scope()):
        raise ValidationError({"officer": _("This officer does not work in the case's district.")})
    with transaction.atomic():
        referral = Referral.objects.create(
            case=case,
            victim=victim,
            service=service,
            officer=officer,
            needs=needs,
            consent_override=override,
            created_by=_user_or_none(actor),
        )
        if officer is not None:
            TeamMember.objects.get_or_create(
                case=case, user=officer, team_role=TeamRole.CHILD_PROTECTION_OFFICER
            )
            case.forget_team()
        record(
            actor,
            "referral.create",
            referral,
            request=request,
            case=case.reference,
            victim=victim.pseudonym,
            officer_id=getattr(officer, "pk", None),
            consent_override_id=getattr(override, "pk", None),
        )
        if officer is not None:
            transaction.on_commit(
                lambda: raise_alert(
                    SYSTEM,
                    case,
                    officer,
                    AlertKind.REFERRAL,
                    _("%(code)s of case %(ref)s was referred to you.")
                    % {"code": victim.pseudonym, "ref": case.reference},
                    dedupe_key=f"referral:{referral.pk}",
                )
            )
    return referral


_TRANSITIONS = {
    "accept": ({ReferralStatus.REQUESTED}, ReferralStatus.ACCEPTED),
    "reject": ({ReferralStatus.REQUESTED}, ReferralStatus.REJECTED),
    "done": ({ReferralStatus.ACCEPTED}, ReferralStatus.DONE),
}


def decide_referral(
    actor: Any,
    referral: Referral,
    decision: str,
    note: str = "",
    *,
    request: HttpRequest | None = None,
) -> Referral:
    """The child-protection officer on the team accepts, rejects (with a reason) or completes."""
    check_perm(actor, Perm.WELFARE_EDIT, referral.case)
    if decision not in _TRANSITIONS:
        raise ValidationError({"decision": _("Unknown decision.")})
    allowed_from, to = _TRANSITIONS[decision]
    note = (note or "").strip()
    if decision == "reject":
        note = _reason(note, "note")
    if len(note) > MAX_REASON:
        raise ValidationError({"note": _("Keep it under %(n)d characters.") % {"n": MAX_REASON}})
    refuse_victim_identity(referral.case, note=note)
    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        if locked.status not in allowed_from:
            raise ValidationError(
                {
                    "decision": _("A referral that is %(status)s cannot be changed that way.")
                    % {"status": locked.get_status_display()}
                }
            )
        referral.status = to
        now = timezone.now()
        fields = ["status"]
        if decision == "done":
            referral.done_at = now
            fields.append("done_at")
        else:
            referral.decided_at = now
            referral.decided_by = _user_or_none(actor)
            fields += ["decided_at", "decided_by"]
        if note:
            referral.decision_note = note
            fields.append("decision_note")
        referral.save(update_fields=fields)
        record(
            actor,
            f"referral.{decision}",
            referral,
            reason=note if decision == "reject" else "",
            request=request,
            case=referral.case.reference,
        )
    return referral


# --- section rules ------------------------------------------------------------------------------


def add_section_rule(
    actor: Any,
    *,
    facts: Seq[str],
    offence_code: str,
    explanation: str,
    weaker_codes: Seq[str] = (),
    source: str = "",
    request: HttpRequest | None = None,
) -> SectionRule:
    """Add a rule: when every fact in `facts` holds, suggest `offence_code`."""
    check_perm(actor, Perm.CATALOGUE_EDIT)
    wanted = sorted(set(facts))
    if not wanted:
        raise ValidationError({"facts": _("Choose at least one fact.")})
    unknown = set(wanted) - set(FACT_FIELDS)
    if unknown:
        raise ValidationError({"facts": _("Unknown fact: %(f)s") % {"f": ", ".join(unknown)}})
    if not Offence.objects.filter(code=offence_code).exists():
        raise ValidationError(
            {"offence_code": _("Not in the catalogue: %(c)s") % {"c": offence_code}}
        )
    rule = SectionRule(
        facts=wanted,
        offence_code=offence_code,
        explanation=(explanation or "").strip(),
        weaker_codes=sorted({c.strip() for c in weaker_codes if c.strip()}),
        source=(source or "").strip(),
    )
    _clean(rule)
    with transaction.atomic():
        rule.save(force_insert=True)
        record(
            actor,
            "catalogue.section_rule.add",
            rule,
            request=request,
            facts=wanted,
            offence=offence_code,
            weaker=rule.weaker_codes,
        )
    return rule


def set_section_rule_active(
    actor: Any, rule: SectionRule, active: bool, *, request: HttpRequest | None = None
) -> SectionRule:
    check_perm(actor, Perm.CATALOGUE_EDIT)
    if rule.active != active:
        rule.active = active
        with transaction.atomic():
            rule.save(update_fields=["active"])
            record(
                actor,
                "catalogue.section_rule.activate" if active else "catalogue.section_rule.retire",
                rule,
                request=request,
            )
    return rule
