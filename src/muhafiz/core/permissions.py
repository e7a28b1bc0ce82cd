"""The one permission mechanism: role × jurisdiction × case team × purpose.

Pages, API handlers, exports and querysets all ask `has_perm` / `scope_filter`; no view decides
access on its own. Every route declares its rule with `@requires(...)`, `@signed_in` or `@public`
so a test can enumerate the URL map and fail on a route without one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import wraps
from typing import Any, Protocol, TypeVar, runtime_checkable

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext_noop


class Perm(StrEnum):
    CASE_VIEW = "case.view"  # a case's summary and its investigative content
    CASE_CREATE = "case.create"
    CASE_EDIT = "case.edit"
    CASE_OVERSEE = "case.oversee"  # oversee every case of the jurisdiction (see `oversees`)
    VICTIM_IDENTITY = "victim.identity"  # decrypt and read a victim's identity
    VICTIM_CONSENT = "victim.consent"  # record the consents a victim or guardian gave
    WELFARE_VIEW = "welfare.view"  # the welfare part of a case: victim needs, referrals
    WELFARE_EDIT = "welfare.edit"
    EVIDENCE_VIEW = "evidence.view"
    EVIDENCE_EDIT = "evidence.edit"
    EVIDENCE_CUSTODY = "evidence.custody"  # hold a seized item (be a hand-over's recipient)
    MEDIA_REVEAL = "media.reveal"  # reveal one media preview, audited
    SCAN_RUN = "scan.run"
    HASH_MATCH = "hash.match"  # send hashes, receive matches
    BANK_VIEW = "bank.view"
    BANK_MANAGE = "bank.manage"
    REGISTER_REQUEST = "register.request"  # ask for a named suspect's record
    REGISTER_APPROVE = "register.approve"  # the prosecutor's second signature
    REGISTER_MANAGE = "register.manage"
    REGISTER_VERIFY = "register.verify"  # record a registrant's verification visit or notification
    REGISTER_VET = "register.vet"  # ask the yes/no vetting question, with the applicant's consent
    INTAKE_RECORD = "intake.record"  # record a helpline call as a report
    INTAKE_HANDLE = "intake.handle"  # screen, assign and route reports of a jurisdiction
    STATS_VIEW = "stats.view"  # aggregates without names
    AUDIT_VIEW = "audit.view"
    USER_MANAGE = "user.manage"
    CATALOGUE_EDIT = "catalogue.edit"
    JOB_MANAGE = "job.manage"


_CASE_WORK = {Perm.CASE_VIEW, Perm.CASE_EDIT, Perm.EVIDENCE_VIEW}
_VICTIM_WORK = {Perm.VICTIM_IDENTITY, Perm.VICTIM_CONSENT, Perm.WELFARE_VIEW}

ROLE_GRANTS: dict[str, frozenset[Perm]] = {
    "investigator": frozenset(
        _CASE_WORK
        | _VICTIM_WORK
        | {Perm.CASE_CREATE, Perm.EVIDENCE_EDIT, Perm.EVIDENCE_CUSTODY}
        | {Perm.SCAN_RUN, Perm.HASH_MATCH, Perm.REGISTER_REQUEST, Perm.INTAKE_HANDLE}
    ),
    "supervisor": frozenset(
        _CASE_WORK
        | _VICTIM_WORK
        | {Perm.CASE_CREATE, Perm.CASE_OVERSEE, Perm.EVIDENCE_EDIT, Perm.EVIDENCE_CUSTODY}
        | {Perm.SCAN_RUN, Perm.HASH_MATCH, Perm.INTAKE_HANDLE, Perm.STATS_VIEW}
    ),
    "forensic_examiner": frozenset(
        {Perm.CASE_VIEW, Perm.EVIDENCE_VIEW, Perm.EVIDENCE_EDIT, Perm.EVIDENCE_CUSTODY}
        | {Perm.MEDIA_REVEAL, Perm.SCAN_RUN, Perm.HASH_MATCH, Perm.BANK_VIEW, Perm.BANK_MANAGE}
    ),
    # Prosecutors may hold an exhibit to produce it in court.
    "prosecutor": frozenset(
        _CASE_WORK | _VICTIM_WORK | {Perm.REGISTER_APPROVE, Perm.EVIDENCE_CUSTODY}
    ),
    # Child-protection officers also screen and refer the reports of their district's intake
    # queue (helpline calls and public reports about a child's welfare).
    "child_protection_officer": frozenset(_VICTIM_WORK | {Perm.WELFARE_EDIT, Perm.INTAKE_HANDLE}),
    "register_officer": frozenset({Perm.REGISTER_MANAGE}),
    # Verifies registrants of the station's district and receives their notifications.
    "police_station_officer": frozenset({Perm.REGISTER_VERIFY}),
    # Staff of the 1099/1121/15 helplines: record calls as reports, nothing else.
    "helpline_officer": frozenset({Perm.INTAKE_RECORD}),
    # Staff of a registered child-facing organisation: the yes/no vetting answer only.
    "employer": frozenset({Perm.REGISTER_VET}),
    "analyst": frozenset({Perm.STATS_VIEW}),
    "auditor": frozenset({Perm.AUDIT_VIEW, Perm.STATS_VIEW}),
    # Separation of duties: the administrator runs the platform but reads no case content.
    "administrator": frozenset({Perm.USER_MANAGE, Perm.CATALOGUE_EDIT, Perm.JOB_MANAGE}),
}

# Using these on one case needs membership of that case's team (or oversight, see `oversees`),
# not just jurisdiction: a victim's identity and consents, and the evidence and its content.
TEAM_PERMS = frozenset(
    {
        Perm.VICTIM_IDENTITY,
        Perm.VICTIM_CONSENT,
        Perm.WELFARE_EDIT,
        Perm.EVIDENCE_VIEW,
        Perm.EVIDENCE_EDIT,
        Perm.MEDIA_REVEAL,
    }
)
# Police and prosecution read the identity of a victim of their case whether or not the victim
# consented to sharing it; everyone else (child-protection officers, every API client) needs
# that consent, or a supervisor's recorded override. See `needs_sharing_consent`.
IDENTITY_WITHOUT_SHARING_CONSENT_ROLES = frozenset({"investigator", "supervisor", "prosecutor"})
# These are only granted for a stated purpose (a named suspect in a case, a consented vetting).
PURPOSE_PERMS = frozenset({Perm.REGISTER_REQUEST, Perm.REGISTER_APPROVE, Perm.REGISTER_VET})


# --- API client profiles ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClientProfile:
    """What an API client may do: a role for machines. A client holds one profile, never a
    hand-picked list of permissions, so an administrator cannot mint a token that reads case
    content on their own (separation of duties: the administrator reads no case content)."""

    code: str
    label: str  # marked for translation (gettext_noop); pages show it through gettext
    description: str
    perms: frozenset[Perm]
    # Roles of which one person (not the one who created the client, and whose jurisdiction
    # covers the client's) must approve the client before its token works. Empty: no approval.
    approved_by: frozenset[str] = frozenset()
    # An agency's case system acts only on cases its own agency investigates, and on those it
    # stands with the case team (the only way a client uses the team rights).
    agency_cases: bool = False
    # Every call made with the token is written to the audit log.
    audit_every_use: bool = False

    @property
    def needs_approval(self) -> bool:
        return bool(self.approved_by)


_CASE_SYSTEM = frozenset(
    {Perm.CASE_VIEW, Perm.CASE_CREATE, Perm.CASE_EDIT, Perm.EVIDENCE_VIEW, Perm.EVIDENCE_EDIT}
)

CLIENT_PROFILES: dict[str, ClientProfile] = {
    p.code: p
    for p in (
        ClientProfile(
            "hash_matcher",
            gettext_noop("Hash matcher"),
            "Sends hashes and receives matches against the hash banks; reads no case.",
            frozenset({Perm.HASH_MATCH}),
        ),
        ClientProfile(
            "hma_matcher",
            gettext_noop("HMA matcher"),
            "A Hasher-Matcher-Actioner client: matches hashes and lists the banks; reads no case.",
            frozenset({Perm.HASH_MATCH, Perm.BANK_VIEW}),
        ),
        ClientProfile(
            "statistics_reader",
            gettext_noop("Statistics reader"),
            "Reads aggregates without names or codes.",
            frozenset({Perm.STATS_VIEW}),
        ),
        ClientProfile(
            "bank_keeper",
            gettext_noop("Hash bank keeper"),
            "Matches and maintains hash banks (imports, retirement); approved by a forensic "
            "examiner.",
            frozenset({Perm.HASH_MATCH, Perm.BANK_VIEW, Perm.BANK_MANAGE}),
            approved_by=frozenset({"forensic_examiner"}),
        ),
        ClientProfile(
            "audit_reader",
            gettext_noop("Audit reader"),
            "Reads the audit log for an oversight body; approved by an auditor.",
            frozenset({Perm.AUDIT_VIEW}),
            approved_by=frozenset({"auditor"}),
        ),
        ClientProfile(
            "vetting_employer",
            gettext_noop("Vetting employer"),
            "A child-facing organisation's system (school, madrassa, orphanage, NGO): asks the "
            "register's yes/no vetting question about an applicant who consented; approved by a "
            "register officer; every call is audited.",
            frozenset({Perm.REGISTER_VET}),
            approved_by=frozenset({"register_officer"}),
            audit_every_use=True,
        ),
        ClientProfile(
            "case_system",
            gettext_noop("Case system of an agency"),
            "Opens and updates the cases its agency investigates, and their evidence, without "
            "victims' identities; approved by a supervisor.",
            _CASE_SYSTEM,
            approved_by=frozenset({"supervisor"}),
            agency_cases=True,
        ),
        ClientProfile(
            "case_system_identity",
            gettext_noop("Case system of an agency, with victims' identities"),
            "A case system that also reads victims' identities (only with the victim's consent "
            "to sharing); approved by a supervisor; every call is audited.",
            _CASE_SYSTEM | {Perm.VICTIM_IDENTITY, Perm.WELFARE_VIEW},
            approved_by=frozenset({"supervisor"}),
            agency_cases=True,
            audit_every_use=True,
        ),
    )
}


def client_profile(principal: Any) -> ClientProfile | None:
    """The profile of an API client; None for a person or a client without a known profile."""
    if principal_kind(principal) != "client":
        return None
    return CLIENT_PROFILES.get(getattr(principal, "profile", ""))


def client_is_approved(principal: Any) -> bool:
    profile = client_profile(principal)
    if profile is None:
        return False
    return not profile.needs_approval or getattr(principal, "approved_at", None) is not None


def jurisdiction_contains(outer: Any, inner: Any) -> bool:
    """True when `outer`'s jurisdiction contains all of `inner`'s (both are principals)."""
    level = outer.jurisdiction_level
    if level == "national":
        return True
    if level == "province":
        return inner.jurisdiction_level in ("province", "district") and (
            inner.province_id is not None and inner.province_id == outer.province_id
        )
    if level == "district":
        return inner.jurisdiction_level == "district" and (
            inner.district_id is not None and inner.district_id == outer.district_id
        )
    return False


def may_approve_client(person: Any, client: Any) -> bool:
    """The second-person rule for client profiles that need approval: an active staff member
    holding one of the profile's approving roles, who did not create the client, and whose
    jurisdiction contains the client's."""
    profile = client_profile(client)
    if profile is None or not profile.needs_approval:
        return False
    if principal_kind(person) != "user" or not getattr(person, "is_active", False):
        return False
    if getattr(person, "role", "") not in profile.approved_by:
        return False
    if getattr(client, "created_by_id", None) == getattr(person, "pk", None):
        return False
    return jurisdiction_contains(person, client)


class PrincipalKind(StrEnum):
    """Users and API clients are numbered in separate tables: an id alone names no one."""

    USER = "user"
    CLIENT = "client"
    SYSTEM = "system"


def principal_kind(principal: Any) -> str:
    """The kind a principal declares (`principal_kind` on the model); "" for anything else."""
    kind = getattr(principal, "principal_kind", "")
    return kind if kind in PrincipalKind._value2member_map_ else ""


def principal_key(principal: Any) -> tuple[str, Any] | None:
    """What identifies a principal: its kind and its id. None for no principal."""
    kind = principal_kind(principal)
    pk = getattr(principal, "pk", None)
    if not kind or pk is None:
        return None
    return kind, pk


def same_principal(a: Any, b: Any) -> bool:
    """True when `a` and `b` are the same person or client; a user and a client never are."""
    key = principal_key(a)
    return key is not None and key == principal_key(b)


def user_pk(principal: Any) -> int | None:
    """The id of a staff member, or None for an API client or anything else.

    Use it wherever a principal is compared with a user column (team members, alert
    recipients, evidence holders), so that client #1 is never taken for user #1.
    """
    if principal_kind(principal) != PrincipalKind.USER:
        return None
    pk = getattr(principal, "pk", None)
    return pk if isinstance(pk, int) else None


class SystemPrincipal:
    """The platform itself acting: the clock job, hooks run after a commit, the operator's
    shell commands. Code names it explicitly (`SYSTEM`); no request ever carries it.

    It holds every permission in every jurisdiction, but an action meant for the system only
    (the clock job, bulk alerts) accepts nobody else (`check_system`).
    """

    principal_kind = PrincipalKind.SYSTEM.value
    pk = None
    is_active = True
    is_authenticated = True
    jurisdiction_level = "national"
    province_id = None
    district_id = None

    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM = SystemPrincipal()


def is_system(principal: Any) -> bool:
    return principal is SYSTEM


def check_system(principal: Any) -> None:
    """Refuse anyone but the system: for the writes of jobs that no person may start."""
    if not is_system(principal):
        raise PermissionDenied("system")


@dataclass(frozen=True, slots=True)
class Scope:
    """Where an object lives and who works on it, as far as access is concerned."""

    district_id: int | None = None
    province_id: int | None = None
    # Staff members on the case team, by user id; API clients are never on a team.
    team_user_ids: frozenset[int] = field(default_factory=frozenset)
    # The investigating agency (cases): an agency's case system acts only on its own cases.
    agency_id: int | None = None


@runtime_checkable
class Scoped(Protocol):
    def access_scope(self) -> Scope: ...


class Principal(Protocol):
    """A user or an API client: anything with a jurisdiction and a set of permissions."""

    pk: Any
    jurisdiction_level: str
    province_id: int | None
    district_id: int | None

    @property
    def is_active(self) -> bool: ...


def granted_perms(principal: Any) -> frozenset[Perm]:
    """What a principal's role (or an API client's profile) grants, before any object check."""
    if principal is None or not getattr(principal, "is_authenticated", True):
        return frozenset()
    if not getattr(principal, "is_active", False):
        return frozenset()
    if is_system(principal):
        return frozenset(Perm)
    if principal_kind(principal) == "client":
        # A client's rights are its profile's, once approved: never a list of its own.
        profile = client_profile(principal)
        if profile is None or not client_is_approved(principal):
            return frozenset()
        return profile.perms
    return ROLE_GRANTS.get(getattr(principal, "role", ""), frozenset())


def covers(principal: Any, scope: Scope) -> bool:
    """True when the principal's jurisdiction contains the object's place."""
    level = principal.jurisdiction_level
    if level == "national":
        return True
    if level == "province":
        return scope.province_id is not None and scope.province_id == principal.province_id
    if level == "district":
        return scope.district_id is not None and scope.district_id == principal.district_id
    return False


def has_perm(principal: Any, perm: Perm, obj: object | None = None, *, purpose: str = "") -> bool:
    if perm not in granted_perms(principal):
        return False
    if perm in PURPOSE_PERMS and not purpose.strip():
        return False
    if obj is None:
        return True
    if not isinstance(obj, Scoped):
        raise TypeError(f"{type(obj).__name__} does not say where it lives (access_scope)")
    scope = obj.access_scope()
    if not covers(principal, scope):
        return False
    profile = client_profile(principal)
    if profile is not None and profile.agency_cases:
        # An agency's case system: only its agency's cases, and on those it stands with the team.
        return scope.agency_id is not None and scope.agency_id == principal.agency_id
    if perm in TEAM_PERMS:
        return is_team_member(principal, scope) or _oversees(principal, scope)
    return True


def _oversees(principal: Any, scope: Scope) -> bool:
    return Perm.CASE_OVERSEE in granted_perms(principal) and covers(principal, scope)


def oversees(principal: Any, obj: object) -> bool:
    """The oversight rule: a principal granted CASE_OVERSEE (a supervisor) whose jurisdiction
    covers the case oversees it without being on its team. They approve or refuse requests to
    join its team, override a victim's consent with a reason, and use the team rights."""
    return has_perm(principal, Perm.CASE_OVERSEE, obj)


def takes_referrals(person: Any) -> bool:
    """The rule of who may be named as a referral's officer: an active staff member whose role
    grants WELFARE_EDIT (a child-protection officer)."""
    return user_pk(person) is not None and Perm.WELFARE_EDIT in granted_perms(person)


def may_report_publicly(principal: Any) -> bool:
    """The public rule of the confidential report (intake): anyone may report, but only as a
    visitor without an account, so that the report and its audit name nobody and record no
    address. A signed-in staff member's request is turned into such a visitor by the page; a
    user object (even an inactive one) or an API client is refused. Abuse of the rule is held
    back by rate limits on a daily-rotating keyed hash, not by this check."""
    return (
        principal is not None
        and principal_kind(principal) == ""
        and not getattr(principal, "is_authenticated", True)
        and getattr(principal, "public_visitor", False) is True
    )


def needs_sharing_consent(principal: Any) -> bool:
    """True when `principal` may read a victim's identity only with the victim's consent to
    sharing it (or a supervisor's override): anyone outside police and prosecution."""
    if principal_kind(principal) != PrincipalKind.USER:
        return True
    return getattr(principal, "role", "") not in IDENTITY_WITHOUT_SHARING_CONSENT_ROLES


def is_team_member(principal: Any, scope: Scope) -> bool:
    """True when `principal` is a staff member on the team of the object with `scope`."""
    pk = user_pk(principal)
    return pk is not None and pk in scope.team_user_ids


def check_perm(principal: Any, perm: Perm, obj: object | None = None, *, purpose: str = "") -> None:
    if not has_perm(principal, perm, obj, purpose=purpose):
        raise PermissionDenied(perm.value)


def check_role_grants(principal: Any, perm: Perm) -> None:
    """The route-level check: the principal's role (or client profile) grants `perm`. The
    object, team and stated purpose are checked by the action the route calls (a purpose
    permission cannot be checked before the purpose is read from the request)."""
    if perm not in granted_perms(principal):
        raise PermissionDenied(perm.value)


def scope_filter(principal: Any, perm: Perm, *, via: str = "") -> Q:
    """A queryset filter that keeps exactly the rows `has_perm` would allow by jurisdiction.

    The rows have a `district` of their own (`via=""`) or live where the row they point to
    lives (`via="registrant"`: `registrant__district`). Rows reached through a case use
    `case_scope`, the one case-scope filter.
    """
    if perm not in granted_perms(principal):
        return Q(pk__in=[])
    prefix = f"{via}__" if via else ""
    district_field = f"{prefix}district"
    province_field = f"{prefix}district__province"
    profile = client_profile(principal)
    if profile is not None and profile.agency_cases:
        # The case's agency sits beside its district (`district` -> `agency`).
        mine = Q(**{f"{prefix}agency_id": principal.agency_id})
        return mine & _jurisdiction_filter(principal, district_field, province_field)
    return _jurisdiction_filter(principal, district_field, province_field)


def case_scope(principal: Any, *perms: Perm, via: str = "case") -> Q:
    """The one case-scope filter: rows whose case `principal` may see with any of `perms`, by
    the rule of `has_perm` (jurisdiction, and an agency's case system only its agency's cases).

    `via` is the path from the rows to their case: "case" for victims, referrals, clocks and
    evidence; "" for the cases themselves. Every selector of every app that keeps "the cases
    this principal may see" asks this function (`core/tests/test_one_case_scope.py` fails on a
    module that writes the filter out itself). Team membership is not part of it: team rights
    are checked on one case (`has_perm`), and lists narrow to a team with their own condition.
    """
    if not perms:
        raise ValueError("case_scope() needs at least one permission")
    allowed = Q(pk__in=[])
    for perm in perms:
        allowed |= scope_filter(principal, perm, via=via)
    return allowed


def summary_scope(principal: Any, perm: Perm, *, districts_of_province: Callable[[int], Any]) -> Q:
    """`scope_filter` for summary tables that hold a bare `district_id` column (no foreign key):
    national principals see every row (those of no known district too), a province's the rows
    of the districts `districts_of_province(province_id)` returns (a queryset of ids)."""
    if perm not in granted_perms(principal):
        return Q(pk__in=[])
    level = principal.jurisdiction_level
    if level == "national":
        return Q(pk__isnull=False)
    if level == "province":
        return Q(district_id__in=districts_of_province(principal.province_id))
    if level == "district":
        return Q(district_id=principal.district_id)
    return Q(pk__in=[])


def province_summary_scope(principal: Any, perm: Perm) -> Q:
    """`scope_filter` for summary tables kept per province (`province_id`): national principals
    see every row; anyone else the rows of their own province (a district's staff, their
    province's: the table is not finer)."""
    if perm not in granted_perms(principal):
        return Q(pk__in=[])
    if principal.jurisdiction_level == "national":
        return Q(pk__isnull=False)
    province_id = getattr(principal, "province_id", None)
    return Q(province_id=province_id) if province_id is not None else Q(pk__in=[])


def is_national(principal: Any) -> bool:
    """True when the principal's jurisdiction is the whole country (the system's is)."""
    return getattr(principal, "jurisdiction_level", "") == "national"


def jurisdiction_key(principal: Any) -> tuple[str, int | None, int | None]:
    """The jurisdiction part of the key of a cache of scoped figures (the principal's level,
    province and district)."""
    return (
        getattr(principal, "jurisdiction_level", ""),
        getattr(principal, "province_id", None),
        getattr(principal, "district_id", None),
    )


def _jurisdiction_filter(principal: Any, district_field: str, province_field: str) -> Q:
    level = principal.jurisdiction_level
    if level == "national":
        # Every row, as a condition: an empty Q() would vanish when OR-ed with another filter
        # (`Q(pk__in=[]) | Q()` is `Q(pk__in=[])`), and a national principal would see nothing.
        return Q(pk__isnull=False)
    if level == "province":
        return Q(**{f"{province_field}_id": principal.province_id})
    if level == "district":
        return Q(**{f"{district_field}_id": principal.district_id})
    return Q(pk__in=[])


# --- route rules ------------------------------------------------------------------------------

PUBLIC = "public"
SIGNED_IN = "signed-in"
# Past the password but not yet past two-factor: only the sign-in steps themselves.
FIRST_FACTOR = "first-factor"

V = TypeVar("V", bound=Callable[..., HttpResponseBase])


def _mark(view: Callable[..., Any], rule: str | tuple[Perm, ...]) -> None:
    view.access_rule = rule  # type: ignore[attr-defined]


def public(view: V) -> V:
    """Anyone may open this route, signed in or not (sign-in page, public report, dashboard)."""
    _mark(view, PUBLIC)
    return view


def is_verified_staff(user: Any) -> bool:
    """Signed in, active, and past two-factor verification in this session."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and getattr(user, "is_verified", lambda: False)()
    )


def _sign_in_step(request: HttpRequest, *, allow_pending_password: bool = False) -> Any:
    """Where a request that may not go on yet must go instead; None when it may go on.

    Anonymous visitors go to the sign-in page; someone past the password but not the second
    factor goes to the two-factor step; someone with a one-time password from an administrator
    goes to choose their own before anything else.
    """
    from django.contrib.auth.views import redirect_to_login
    from django.shortcuts import redirect

    user = request.user
    if not (user.is_authenticated and user.is_active):
        return redirect_to_login(request.get_full_path())
    if not is_verified_staff(user):
        return redirect_to_login(request.get_full_path(), login_url="accounts:verify")
    if getattr(user, "must_change_password", False) and not allow_pending_password:
        return redirect("accounts:password_change")
    return None


def first_factor(view: V) -> V:
    """A sign-in step for someone who has given the right password (two-factor pages)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not (user.is_authenticated and user.is_active):
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    _mark(wrapper, FIRST_FACTOR)
    return wrapper  # type: ignore[return-value]


def signed_in(view: V) -> V:
    """Any staff member who has passed two-factor sign-in."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        detour = _sign_in_step(request)
        if detour is not None:
            return detour  # type: ignore[no-any-return]
        return view(request, *args, **kwargs)

    _mark(wrapper, SIGNED_IN)
    return wrapper  # type: ignore[return-value]


def signed_in_pending_password(view: V) -> V:
    """Like `signed_in`, but open while a one-time password still has to be replaced."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        detour = _sign_in_step(request, allow_pending_password=True)
        if detour is not None:
            return detour  # type: ignore[no-any-return]
        return view(request, *args, **kwargs)

    _mark(wrapper, SIGNED_IN)
    return wrapper  # type: ignore[return-value]


def requires(*perms: Perm) -> Callable[[V], V]:
    """A staff member past two-factor sign-in whose role grants every one of `perms`.

    Object-level checks (jurisdiction, team) happen in the view through `check_perm` on the
    object it loads, with the same mechanism.
    """
    if not perms:
        raise ValueError("requires() needs at least one permission; use signed_in otherwise")

    def decorate(view: V) -> V:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            detour = _sign_in_step(request)
            if detour is not None:
                return detour  # type: ignore[no-any-return]
            for perm in perms:
                check_role_grants(request.user, perm)
            return view(request, *args, **kwargs)

        _mark(wrapper, tuple(perms))
        return wrapper  # type: ignore[return-value]

    return decorate


def rule_of(view: Callable[..., Any]) -> str | tuple[Perm, ...] | None:
    """The declared access rule of a view (looks through class-based view wrappers)."""
    for candidate in (view, getattr(view, "view_class", None), getattr(view, "cls", None)):
        rule = getattr(candidate, "access_rule", None)
        if rule is not None:
            return rule  # type: ignore[no-any-return]
    return None


def perms_for_roles(roles: Iterable[str]) -> frozenset[Perm]:
    result: set[Perm] = set()
    for role in roles:
        result |= ROLE_GRANTS.get(role, frozenset())
    return frozenset(result)
