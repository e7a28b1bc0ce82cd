"""The case team: a supervisor overseeing the case adds and removes members; others ask to join
and a supervisor decides; a member may leave."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from muhafiz.accounts.selectors import staff_named
from muhafiz.audit.actions import record
from muhafiz.audit.models import AuditEvent
from muhafiz.cases.actions._common import _check_open, _reason, refuse_victim_identity
from muhafiz.cases.actions.alerts import raise_alert
from muhafiz.cases.models import (
    AlertKind,
    Case,
    TeamJoinRequest,
    TeamJoinStatus,
    TeamMember,
    TeamRole,
)
from muhafiz.core.limits import check_lengths
from muhafiz.core.permissions import (
    SYSTEM,
    Perm,
    check_perm,
    covers,
    has_perm,
    oversees,
    same_principal,
    user_pk,
)
from muhafiz.core.words import msgid, phrase

# --- the team -----------------------------------------------------------------------------------


def _check_can_join(case: Case, user: Any, team_role: str) -> None:
    """`user` may be on the case team as `team_role`: a staff member holding that role whose
    jurisdiction covers the case. Refusals say so without naming anyone."""
    if team_role not in TeamRole.values:
        raise ValidationError({"team_role": _("Unknown role on a case.")})
    if user is None:  # a username naming nobody: the answer a refused person gets
        raise ValidationError({"user": _("This person cannot join this case team.")})
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
                gettext_noop("You were added to case %(ref)s as %(role)s."),
                params={"ref": case.reference, "role": phrase(msgid(TeamRole(team_role).label))},
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
    """A supervisor overseeing the case puts `user` (a staff member or their username) on its
    team (their approval is the add).

    Everyone else asks with `request_team_join`; nobody adds themselves by jurisdiction alone.
    A username is looked up only after the permission check, so it tells no one without the
    right whether that person exists.
    """
    check_perm(actor, Perm.CASE_OVERSEE, case)
    _check_open(case)
    user = staff_named(user)
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
    """Ask that `user` (a staff member or their username; the actor when None) join the case
    team as `team_role`.

    A staff member who may open the case asks for themselves; a member of the team may also ask
    for a colleague. A supervisor overseeing the case decides (`decide_team_join`). A username is
    looked up only once the actor may ask for a colleague.
    """
    from muhafiz.cases.search import CASE_PAGE_PERMS

    if not any(has_perm(actor, perm, case) for perm in CASE_PAGE_PERMS):
        check_perm(actor, Perm.CASE_VIEW, case)
    if user_pk(actor) is None:
        raise PermissionDenied("team.request")
    if user is None or user == getattr(actor, "username", None):
        user = actor
    elif isinstance(user, str) or not same_principal(user, actor):
        if user_pk(actor) not in case.team_user_ids():
            raise PermissionDenied("team.request")
        user = staff_named(user)
    _check_open(case)
    _check_can_join(case, user, team_role)
    text = _reason(reason, TeamJoinRequest)
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
                gettext_noop("A request to join case %(ref)s as %(role)s waits for your decision."),
                params={
                    "ref": case.reference,
                    "role": phrase(msgid(TeamRole(join.team_role).label)),
                },
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
        note = _reason(note, TeamJoinRequest, "note", model_field="decision_note")
    check_lengths(TeamJoinRequest, {"note": note}, fields={"note": "decision_note"})
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
    text = _reason(reason, AuditEvent)
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
