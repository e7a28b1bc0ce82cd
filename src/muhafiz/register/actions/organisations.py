"""The registry of child-facing organisations that may ask the vetting question: one of their
staff (employer role) applies, a register officer whose jurisdiction covers the organisation's
district approves or refuses with a reason, and attaches the organisation's further staff or
its API client. Only an approved organisation's members are answered."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from muhafiz.audit.actions import record
from muhafiz.catalogue.models import District
from muhafiz.core.permissions import Perm, check_perm, granted_perms, principal_kind, user_pk
from muhafiz.register.models import (
    AlertKind,
    Organisation,
    OrganisationKind,
    OrganisationMember,
    OrganisationStatus,
)
from muhafiz.register.selectors import organisation_of
from muhafiz.register.support import alert_covering, checked_text, reason_text, user_or_none

__all__ = [
    "add_organisation_member",
    "apply_for_organisation",
    "decide_organisation",
    "organisation_of",
]


def apply_for_organisation(
    actor: Any,
    *,
    name: str,
    kind: str,
    registration_number: str,
    district: District,
    request: HttpRequest | None = None,
) -> Organisation:
    """A staff member with the employer role applies to register their organisation (and
    becomes its first member); the register officers covering its district are alerted."""
    check_perm(actor, Perm.REGISTER_VET, purpose="organisation application")
    if user_pk(actor) is None:
        raise PermissionDenied("staff only")
    if organisation_of(actor) is not None:
        raise ValidationError(_("You already belong to a registered organisation."))
    name = checked_text(name, Organisation, "name")
    number = checked_text(registration_number, Organisation, "registration_number")
    if kind not in OrganisationKind.values:
        raise ValidationError({"kind": _("Choose the kind of organisation.")})
    if Organisation.objects.filter(kind=kind, registration_number=number).exists():
        raise ValidationError(
            {"registration_number": _("An organisation with this registration is on file.")}
        )
    with transaction.atomic():
        organisation = Organisation.objects.create(
            name=name,
            kind=kind,
            registration_number=number,
            district=district,
            applied_by=actor,
            applied_at=timezone.now(),
        )
        OrganisationMember.objects.create(organisation=organisation, user=actor, added_by=actor)
        record(
            actor,
            "register.organisation_applied",
            organisation,
            request=request,
            kind=kind,
            district=district.code,
        )
        alert_covering(
            Perm.REGISTER_MANAGE,
            district,
            AlertKind.ORGANISATION,
            gettext_noop("An organisation in %(district)s asks to be registered for vetting."),
            params={"district": district.name},
            link="/register/organisations/",
            dedupe_key=f"organisation:{organisation.pk}",
        )
    return organisation


def decide_organisation(
    actor: Any,
    organisation: Organisation,
    *,
    status: str,
    reason: str,
    request: HttpRequest | None = None,
) -> Organisation:
    """A register officer covering the organisation's district approves, refuses or suspends
    it, with a reason."""
    check_perm(actor, Perm.REGISTER_MANAGE, organisation)
    allowed = {
        OrganisationStatus.APPROVED,
        OrganisationStatus.REFUSED,
        OrganisationStatus.SUSPENDED,
    }
    if status not in allowed:
        raise ValidationError({"status": _("Approve, refuse or suspend.")})
    reason = reason_text(reason, Organisation, model_field="decision_reason")
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        if organisation.status == status:
            raise ValidationError(_("The organisation is already in this state."))
        organisation.status = status
        organisation.decided_by = user_or_none(actor)
        organisation.decided_at = timezone.now()
        organisation.decision_reason = reason
        organisation.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        record(
            actor,
            "register.organisation_decided",
            organisation,
            request=request,
            reason=reason,
            status=status,
        )
    return organisation


def add_organisation_member(
    actor: Any,
    organisation: Organisation,
    *,
    member: Any,
    request: HttpRequest | None = None,
) -> OrganisationMember:
    """A register officer attaches a staff member with the employer role, or an API client of
    the `vetting_employer` profile, to an approved organisation (one organisation each)."""
    check_perm(actor, Perm.REGISTER_MANAGE, organisation)
    if organisation.status != OrganisationStatus.APPROVED:
        raise ValidationError(_("Approve the organisation first."))
    if Perm.REGISTER_VET not in granted_perms(member):
        raise ValidationError({"member": _("Only an employer or a vetting client can be added.")})
    if organisation_of(member) is not None:
        raise ValidationError({"member": _("This one already belongs to an organisation.")})
    kind = principal_kind(member)
    with transaction.atomic():
        row = OrganisationMember.objects.create(
            organisation=organisation,
            user=member if kind == "user" else None,
            client=member if kind == "client" else None,
            added_by=user_or_none(actor),
        )
        record(
            actor,
            "register.organisation_member_added",
            row,
            request=request,
            organisation=organisation.pk,
            member_kind=kind,
        )
    return row
