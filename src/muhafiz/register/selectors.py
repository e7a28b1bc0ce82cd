"""Reading the register, shared by the pages and the API: permission-checked loaders, the
registrant record with its data-quality flags, work queues, and `due_for` (what is due for a
person today, for the home pages). There is no search by name or CNIC here: the only lookup is
the approved check (`actions.decide_check`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from muhafiz.core.permissions import (
    Perm,
    case_scope,
    granted_perms,
    has_perm,
    principal_kind,
    scope_filter,
    user_pk,
)
from muhafiz.register.models import (
    REVIEW_KINDS,
    Address,
    CheckRequest,
    CheckStatus,
    Compliance,
    Conviction,
    ConvictionStatus,
    DueProcessRequest,
    Incident,
    NoticeRule,
    Notification,
    Obligation,
    Organisation,
    OrganisationMember,
    PeriodRule,
    RegisterAlert,
    Registrant,
    RegistrantStatus,
    Verification,
)
from muhafiz.register.reviews import Review, reviews_open_to

STALE_ADDRESS = timedelta(days=365)


def register_perms(principal: Any, among: set[Perm] | None = None) -> frozenset[Perm]:
    """The register rights a principal holds (of `among`, default all); PermissionDenied when
    none: the register's shared pages open for any register role and nobody else."""
    from muhafiz.register.support import REGISTER_PERMS

    held = granted_perms(principal) & frozenset(among or REGISTER_PERMS)
    if not held:
        raise PermissionDenied("register")
    return held


def may_open_registrant(principal: Any, registrant: Registrant) -> bool:
    """The register office, or the police of the registrant's district (who verify them)."""
    if has_perm(principal, Perm.REGISTER_MANAGE, registrant):
        return True
    return registrant.status != RegistrantStatus.REMOVED and has_perm(
        principal, Perm.REGISTER_VERIFY, registrant
    )


def load_registrant(principal: Any, code: str) -> Registrant:
    """The registrant with `code` for the register office or the police of their district;
    everyone else gets 404, exactly as for a code that does not exist."""
    registrant = get_object_or_404(Registrant.objects.select_related("district"), code=code)
    if not may_open_registrant(principal, registrant):
        if Perm.REGISTER_MANAGE in granted_perms(principal) or (
            Perm.REGISTER_VERIFY in granted_perms(principal)
        ):
            raise PermissionDenied("register")
        raise Http404("No such registrant.")
    return registrant


@dataclass
class RegistrantRecord:
    registrant: Registrant
    convictions: list[Conviction]
    addresses: list[Address]
    notifications: list[Notification]
    verifications: list[Verification]
    obligations: list[Obligation]
    due_process: list[DueProcessRequest]
    reviews: list[Review] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    aliases: str = ""
    identifiers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def flag_items(self) -> list[tuple[str, str]]:
        return [(flag, str(FLAG_LABELS.get(flag, flag))) for flag in self.flags]


def registrant_record(registrant: Registrant, *, now: datetime | None = None) -> RegistrantRecord:
    """Everything the registrant page shows, in a fixed number of queries."""
    now = now or timezone.now()
    addresses = list(
        registrant.addresses.select_related("district", "police_station", "verified_by")
    )
    return RegistrantRecord(
        registrant=registrant,
        convictions=list(registrant.convictions.select_related("case", "court", "rule")),
        addresses=addresses,
        notifications=list(registrant.notifications.select_related("received_by")[:50]),
        verifications=list(registrant.verifications.select_related("officer", "district")[:50]),
        obligations=list(registrant.obligations.order_by("-due_at")[:20]),
        due_process=list(registrant.due_process.all()),
        reviews=reviews_open_to(registrant) if registrant.status == RegistrantStatus.ACTIVE else [],
        flags=quality_flags(registrant, addresses, now),
        aliases=registrant.aliases,
        identifiers=[(i.kind, i.value) for i in registrant.identifiers.all()],
    )


def quality_flags(registrant: Registrant, addresses: list[Address], now: datetime) -> list[str]:
    """What is wrong with the record (the critiques: stale, incomplete, duplicated records)."""
    flags: list[str] = []
    if registrant.status == RegistrantStatus.REMOVED:
        return flags
    verified = [a.verified_at for a in addresses if a.verified_at is not None]
    if not verified or max(verified) < now - STALE_ADDRESS:
        flags.append("no_verified_address_12_months")
    if not registrant.cnic:
        flags.append("cnic_missing")
    if (
        registrant.name_index
        and Registrant.objects.filter(name_index=registrant.name_index)
        .exclude(pk=registrant.pk)
        .exclude(status=RegistrantStatus.REMOVED)
        .exists()
    ):
        flags.append("duplicate_suspected")
    return flags


FLAG_LABELS = {
    "no_verified_address_12_months": _("No address verified in the last 12 months"),
    "cnic_missing": _("CNIC missing"),
    "duplicate_suspected": _("Possible duplicate: another registrant has the same name"),
}


# --- the register office's lists ----------------------------------------------------------------


def registrant_list(
    principal: Any, *, status: str = "", compliance: str = ""
) -> QuerySet[Registrant]:
    """Registrants for the register office only (codes and states, never names in a list)."""
    if Perm.REGISTER_MANAGE not in granted_perms(principal):
        raise PermissionDenied("register.manage")
    rows = Registrant.objects.filter(scope_filter(principal, Perm.REGISTER_MANAGE)).select_related(
        "district"
    )
    if status:
        rows = rows.filter(status=status)
    if compliance:
        rows = rows.filter(compliance=compliance)
    return rows.order_by("code")


def pending_convictions(principal: Any) -> QuerySet[Conviction]:
    if Perm.REGISTER_MANAGE not in granted_perms(principal):
        raise PermissionDenied("register.manage")
    return (
        Conviction.objects.filter(status=ConvictionStatus.PENDING)
        .select_related("registrant", "case", "court", "rule")
        .order_by("created_at")
    )


def removals_due(principal: Any) -> QuerySet[Registrant]:
    if Perm.REGISTER_MANAGE not in granted_perms(principal):
        raise PermissionDenied("register.manage")
    return Registrant.objects.filter(removal_due=True).exclude(status=RegistrantStatus.REMOVED)


def verifications_due(principal: Any, *, within_days: int = 14) -> QuerySet[Obligation]:
    """Open verification and registration clocks of the registrants the principal verifies."""
    if Perm.REGISTER_VERIFY not in granted_perms(principal) and (
        Perm.REGISTER_MANAGE not in granted_perms(principal)
    ):
        raise PermissionDenied("register.verify")
    perm = (
        Perm.REGISTER_VERIFY
        if Perm.REGISTER_VERIFY in granted_perms(principal)
        else Perm.REGISTER_MANAGE
    )
    horizon = timezone.now() + timedelta(days=within_days)
    return (
        Obligation.objects.filter(
            scope_filter(principal, perm, via="registrant"),
            met_at__isnull=True,
            due_at__lte=horizon,
            registrant__status=RegistrantStatus.ACTIVE,
        )
        .select_related("registrant")
        .order_by("due_at")
    )


# --- checks -------------------------------------------------------------------------------------


def checks_for(principal: Any) -> QuerySet[CheckRequest]:
    """An investigator's own requests; a prosecutor's requests of the districts they cover."""
    mine = Q(requested_by_id=user_pk(principal)) if user_pk(principal) else Q(pk__in=[])
    if Perm.REGISTER_APPROVE in granted_perms(principal):
        mine |= case_scope(principal, Perm.REGISTER_APPROVE)
    return (
        CheckRequest.objects.filter(mine)
        .select_related("case", "accused", "requested_by", "decided_by")
        .order_by("-requested_at", "-pk")
    )


def may_decide(principal: Any, check: CheckRequest) -> bool:
    return (
        check.status == CheckStatus.REQUESTED
        and has_perm(principal, Perm.REGISTER_APPROVE, check, purpose="decide")
        and user_pk(principal) != check.requested_by_id
    )


def load_check(principal: Any, pk: int) -> CheckRequest:
    """A check for its requester or a prosecutor who may decide it (404 for anyone else)."""
    check = get_object_or_404(
        CheckRequest.objects.select_related("case__district", "accused", "requested_by"), pk=pk
    )
    is_requester = user_pk(principal) is not None and user_pk(principal) == check.requested_by_id
    if not (is_requester or has_perm(principal, Perm.REGISTER_APPROVE, check, purpose="view")):
        raise Http404("No such check.")
    return check


# --- what is due (for the home pages) -----------------------------------------------------------


@dataclass(frozen=True)
class DueItem:
    kind: str  # pending_entry, removal_due, absconder, verification_due, check_awaiting, ...
    label: str  # a code or a case reference, never a name
    due_at: datetime | None
    link: str

    @property
    def title(self) -> str:
        """What is due, in the reader's language."""
        return str(DUE_KINDS.get(self.kind, _("Due")))


DUE_KINDS = {
    "pending_entry": _("Entry to create from a conviction"),
    "removal_due": _("Removal due"),
    "absconder": _("Absconder"),
    "review_due": _("Review awaiting a decision"),
    "organisation_applied": _("Organisation awaiting approval"),
    "initial_due": _("Initial registration due"),
    "verification_due": _("Verification due"),
    "notification_due": _("Notification due"),
    "check_awaiting": _("Register check awaiting your decision"),
}


def due_for(principal: Any, *, now: datetime | None = None, limit: int = 20) -> list[DueItem]:
    """What the register asks of `principal` now: the register officer's pending entries,
    removals and absconders; the police's verifications due; the prosecutor's checks awaiting a
    decision (48-hour clock); the investigator's decided checks. Codes and references only."""
    now = now or timezone.now()
    perms = granted_perms(principal)
    items: list[DueItem] = []
    if Perm.REGISTER_MANAGE in perms:
        for c in pending_convictions(principal)[:limit]:
            link = f"/register/registrants/{c.registrant.code}/"
            items.append(DueItem("pending_entry", c.registrant.code, None, link))
        for r in removals_due(principal)[:limit]:
            items.append(DueItem("removal_due", r.code, None, f"/register/registrants/{r.code}/"))
        for r in Registrant.objects.filter(compliance=Compliance.ABSCONDER)[:limit]:
            items.append(DueItem("absconder", r.code, None, f"/register/registrants/{r.code}/"))
        reviews = DueProcessRequest.objects.filter(
            kind__in=REVIEW_KINDS, state__in=["received", "under_review"]
        ).select_related("registrant")
        for d in reviews.order_by("due_at")[:limit]:
            code = d.registrant.code
            items.append(DueItem("review_due", code, d.due_at, f"/register/registrants/{code}/"))
        for org in Organisation.objects.filter(
            scope_filter(principal, Perm.REGISTER_MANAGE), status="applied"
        )[:limit]:
            items.append(
                DueItem(
                    "organisation_applied",
                    org.registration_number,
                    None,
                    "/register/organisations/",
                )
            )
    if Perm.REGISTER_VERIFY in perms:
        for o in verifications_due(principal)[:limit]:
            code = o.registrant.code
            items.append(DueItem(f"{o.kind}_due", code, o.due_at, f"/register/registrants/{code}/"))
    if Perm.REGISTER_APPROVE in perms or Perm.REGISTER_REQUEST in perms:
        for check in checks_for(principal).filter(status=CheckStatus.REQUESTED)[:limit]:
            if may_decide(principal, check):
                items.append(
                    DueItem(
                        "check_awaiting",
                        check.case.reference,
                        check.due_at,
                        f"/register/checks/{check.pk}/",
                    )
                )
    return items


def alerts_for(principal: Any) -> QuerySet[RegisterAlert]:
    pk = user_pk(principal)
    if pk is None:
        return RegisterAlert.objects.none()
    return RegisterAlert.objects.filter(recipient_id=pk)


def incidents(principal: Any) -> QuerySet[Incident]:
    if Perm.REGISTER_MANAGE not in granted_perms(principal):
        raise PermissionDenied("register.manage")
    return Incident.objects.select_related("district", "recorded_by")


# --- rules and organisations --------------------------------------------------------------------


def rule_versions(principal: Any) -> tuple[list[PeriodRule], list[NoticeRule]]:
    """Every version of the period and notice rules, newest first within each rule (the
    register office reads them; only a national office changes them)."""
    if Perm.REGISTER_MANAGE not in granted_perms(principal):
        raise PermissionDenied("register.manage")
    return (
        list(PeriodRule.objects.select_related("changed_by")),
        list(NoticeRule.objects.select_related("changed_by")),
    )


def may_change_rules(principal: Any) -> bool:
    """The rules are national (`PeriodRule.access_scope`): a national register office."""
    return has_perm(principal, Perm.REGISTER_MANAGE, PeriodRule())


def current_period_rule(principal: Any, code: str) -> PeriodRule:
    if not may_change_rules(principal):
        raise PermissionDenied("register.manage: national register office")
    return get_object_or_404(PeriodRule, code=code, in_force_until__isnull=True)


def current_notice_rule(principal: Any, kind: str) -> NoticeRule:
    if not may_change_rules(principal):
        raise PermissionDenied("register.manage: national register office")
    return get_object_or_404(NoticeRule, kind=kind, in_force_until__isnull=True)


def organisations_for(principal: Any) -> QuerySet[Organisation]:
    """The register office: organisations of its jurisdiction; an employer: their own."""
    rows = Organisation.objects.select_related("district", "decided_by").prefetch_related(
        "members__user", "members__client"
    )
    perms = granted_perms(principal)
    if Perm.REGISTER_MANAGE in perms:
        return rows.filter(scope_filter(principal, Perm.REGISTER_MANAGE))
    if Perm.REGISTER_VET in perms:
        own = organisation_of(principal)
        return rows.filter(pk=own.pk) if own is not None else rows.none()
    raise PermissionDenied("register")


def organisation_of(principal: Any) -> Organisation | None:
    """The organisation a staff member or API client asks for (None: none)."""
    kind = principal_kind(principal)
    if kind == "user":
        found = OrganisationMember.objects.filter(user_id=principal.pk)
    elif kind == "client":
        found = OrganisationMember.objects.filter(client_id=principal.pk)
    else:
        return None
    member = found.select_related("organisation__district").first()
    return member.organisation if member is not None else None


def load_organisation(principal: Any, pk: int) -> Organisation:
    """An organisation for a register officer whose jurisdiction covers it (404 otherwise)."""
    organisation = get_object_or_404(Organisation.objects.select_related("district"), pk=pk)
    if not has_perm(principal, Perm.REGISTER_MANAGE, organisation):
        raise Http404("No such organisation.")
    return organisation
