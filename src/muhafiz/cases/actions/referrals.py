"""Referrals of victims to child protection, and the officer's decisions on them."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from muhafiz.accounts.selectors import staff_named
from muhafiz.audit.actions import record
from muhafiz.cases.actions._common import (
    _check_open,
    _reason,
    _user_or_none,
    refuse_victim_identity,
)
from muhafiz.cases.actions.alerts import raise_alert
from muhafiz.cases.models import (
    AlertKind,
    Case,
    Consent,
    Referral,
    ReferralStatus,
    TeamMember,
    TeamRole,
    Victim,
)
from muhafiz.catalogue.models import Agency
from muhafiz.core.limits import check_lengths
from muhafiz.core.permissions import (
    SYSTEM,
    Perm,
    check_perm,
    covers,
    takes_referrals,
)

# --- referrals ----------------------------------------------------------------------------------


def _victim_of(case: Case, victim: Victim | str) -> Victim:
    """`victim` itself, or the victim of `case` with that code (after the caller's check)."""
    if not isinstance(victim, str):
        return victim
    found = Victim.objects.filter(case=case, pseudonym=victim).first()
    if found is None:
        raise ValidationError({"victim": _("This case has no victim with that code.")})
    return found


def refer_victim(
    actor: Any,
    victim: Victim | str,
    *,
    case: Case | None = None,
    needs: str,
    service: Agency | None = None,
    officer: Any = None,
    request: HttpRequest | None = None,
) -> Referral:
    """Refer a victim to child-protection services.

    `victim` is the victim, or their code on `case`; `officer` is a staff member or their
    username. Codes and names are looked up only once the actor may refer on the case, so a
    caller without the right hears the same for a real code and a made-up one. Refused without
    the victim's referral consent, unless a supervisor has overridden it (`override_consent`),
    and the override is linked to the referral.
    """
    if case is None:
        case = victim.case  # type: ignore[union-attr]
    check_perm(actor, Perm.CASE_EDIT, case)
    # Acting on the victim's consent, and putting an officer on the team, is the team's part.
    check_perm(actor, Perm.VICTIM_CONSENT, case)
    victim = _victim_of(case, victim)
    _check_open(case)
    needs = (needs or "").strip()
    if not needs:
        raise ValidationError({"needs": _("Say what the child needs.")})
    check_lengths(Referral, {"needs": needs})
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
    named = officer is not None
    officer = staff_named(officer)  # a username is looked up only after the permission checks
    if named and (officer is None or not takes_referrals(officer)):
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
                    gettext_noop("%(code)s of case %(ref)s was referred to you."),
                    params={"code": victim.pseudonym, "ref": case.reference},
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
    referral: Referral | int,
    decision: str,
    note: str = "",
    *,
    case: Case | None = None,
    request: HttpRequest | None = None,
) -> Referral:
    """The child-protection officer on the team accepts, rejects (with a reason) or completes.

    `referral` is the referral, or its id on `case`, looked up after the permission check (no
    answer tells a caller without the right which ids exist)."""
    if case is None:
        case = referral.case  # type: ignore[union-attr]
    check_perm(actor, Perm.WELFARE_EDIT, case)
    if not isinstance(referral, Referral):
        found = (
            Referral.objects.select_related("case", "victim").filter(case=case, pk=referral).first()
        )
        if found is None:
            raise Http404("No such referral.")
        referral = found
    if decision not in _TRANSITIONS:
        raise ValidationError({"decision": _("Unknown decision.")})
    allowed_from, to = _TRANSITIONS[decision]
    note = (note or "").strip()
    if decision == "reject":
        note = _reason(note, Referral, "note", model_field="decision_note")
    check_lengths(Referral, {"note": note}, fields={"note": "decision_note"})
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
