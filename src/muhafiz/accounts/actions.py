"""Every write to accounts: people, their second factor, their passwords, API clients.

Each action runs in one transaction with its audit record. Secrets (passwords, tokens, TOTP
keys) are returned to the caller to show once and are never written to the audit log.
"""

from __future__ import annotations

import secrets
from typing import Any

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from muhafiz.accounts import tokens
from muhafiz.accounts.models import ApiClient, User
from muhafiz.accounts.roles import JurisdictionLevel, Role
from muhafiz.catalogue.models import Agency, District, Province
from muhafiz.core.permissions import (
    CLIENT_PROFILES,
    Perm,
    PrincipalKind,
    check_perm,
    check_system,
    may_approve_client,
    principal_kind,
    same_principal,
)

# Fields an administrator sets on a person; everything else is the person's own or the system's.
PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "role",
    "agency",
    "jurisdiction_level",
    "province",
    "district",
)
ONE_TIME_PASSWORD_BYTES = 12
# The reason an administrator gives for a change to a person or a client (it is audited): the one
# limit of the pages, the API and the actions.
REASON_MAX_LENGTH = 500


def _audit(
    actor: Any,
    action: str,
    obj: Any = None,
    *,
    reason: str = "",
    request: HttpRequest | None = None,
    **details: Any,
) -> None:
    from muhafiz.audit.actions import record

    if len(reason or "") > REASON_MAX_LENGTH:
        # Inside the action's transaction: the change it goes with is rolled back too.
        raise ValidationError(
            {"reason": _("Keep it under %(n)d characters.") % {"n": REASON_MAX_LENGTH}}
        )
    record(actor, action, obj, reason=reason, request=request, **details)


def _required_reason(reason: str) -> str:
    """The reason a page says is written to the audit log: refused when empty or blank (issue 15),
    before anything is written."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why: the reason is written to the audit log.")})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            {"reason": _("Keep it under %(n)d characters.") % {"n": REASON_MAX_LENGTH}}
        )
    return reason


def _one_time_password() -> str:
    return secrets.token_urlsafe(ONE_TIME_PASSWORD_BYTES)


def _value(value: Any) -> Any:
    """A JSON-friendly form of a field value for the audit details."""
    if isinstance(value, Agency | Province | District):
        return value.pk
    return value


def is_locked(user: User) -> bool:
    """True when repeated failed sign-ins have locked this account."""
    attempts = AccessAttempt.objects.filter(
        username=user.username, failures_since_start__gte=settings.AXES_FAILURE_LIMIT
    )
    return bool(attempts.exists())


def has_two_factor(user: User) -> bool:
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


# --- administration of people ---------------------------------------------------------------


def _save_new_user(password: str, **fields: Any) -> User:
    """Validate and store a new account with its password (inside the caller's transaction)."""
    user = User(**fields)
    user.set_password(password)
    user.full_clean()
    user.save()
    return user


def create_user(
    actor: User,
    *,
    username: str,
    role: str,
    agency: Agency | None,
    jurisdiction_level: str,
    province: Province | None = None,
    district: District | None = None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    phone: str = "",
    request: HttpRequest | None = None,
) -> tuple[User, str]:
    """Create a staff account; return it with a one-time password to hand over in person."""
    check_perm(actor, Perm.USER_MANAGE)
    password = _one_time_password()
    with transaction.atomic():
        user = _save_new_user(
            password,
            username=username,
            role=role,
            agency=agency,
            jurisdiction_level=jurisdiction_level,
            province=province,
            district=district,
            first_name=first_name,
            last_name=last_name,
            email=email,
            phone=phone,
            must_change_password=True,
        )
        _audit(
            actor,
            "accounts.user_created",
            user,
            request=request,
            username=username,
            role=role,
            jurisdiction_level=jurisdiction_level,
            agency=_value(agency),
            province=_value(user.province),
            district=_value(district),
        )
    return user, password


def create_administrator_as_system(
    actor: Any,
    *,
    username: str,
    agency: Agency,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    reason: str = "",
) -> tuple[User, str]:
    """An administrator (national jurisdiction) created by the operator at the command line,
    when no administrator can sign in to create one: the first, or after all were locked out.

    Audited as the system. Returns the account with a one-time password to show once; the
    person chooses their own password and enrols an authenticator at the first sign-in.
    """
    check_system(actor)
    username = (username or "").strip()
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("An account with this username already exists.")})
    password = _one_time_password()
    with transaction.atomic():
        user = User(
            username=username,
            role=Role.ADMINISTRATOR,
            agency=agency,
            jurisdiction_level=JurisdictionLevel.NATIONAL,
            first_name=first_name,
            last_name=last_name,
            email=email,
            must_change_password=True,
        )
        user.set_password(password)
        user.full_clean()
        user.save()
        _audit(
            actor,
            "accounts.administrator_created",
            user,
            reason=reason,
            username=username,
            role=Role.ADMINISTRATOR.value,
            jurisdiction_level=JurisdictionLevel.NATIONAL.value,
            agency=_value(agency),
        )
    return user, password


def create_demo_person_as_system(
    actor: Any,
    *,
    username: str,
    role: str,
    agency: Agency | None,
    jurisdiction_level: str,
    province: Province | None = None,
    district: District | None = None,
    first_name: str = "",
    last_name: str = "",
    password: str,
    totp_key_hex: str,
    reason: str,
) -> tuple[User, TOTPDevice]:
    """A person of the synthetic demo (`muhafiz demo`): a published password and a fixed,
    confirmed authenticator key, so the demo can be re-created identically. Audited as the
    system. Refused in the production profile, where such an account would be a back door.
    """
    check_system(actor)
    if getattr(settings, "PRODUCTION", False):
        raise PermissionDenied("demo people have published passwords: not in production")
    with transaction.atomic():
        user = _save_new_user(
            password,
            username=username,
            role=role,
            agency=agency,
            jurisdiction_level=jurisdiction_level,
            province=province,
            district=district,
            first_name=first_name,
            last_name=last_name,
            must_change_password=False,
        )
        device = TOTPDevice.objects.create(
            user=user, name="demo authenticator", key=totp_key_hex, confirmed=True
        )
        _audit(
            actor,
            "demo.person_created",
            user,
            reason=reason,
            role=role,
            agency=agency.code if agency else "",
        )
    return user, device


def update_user(
    actor: User,
    user: User,
    changes: dict[str, Any],
    *,
    reason: str,
    request: HttpRequest | None = None,
) -> list[str]:
    """Change a person's profile, role or jurisdiction; return the names of changed fields.

    The reason is required: the page says it is written to the audit log."""
    check_perm(actor, Perm.USER_MANAGE)
    reason = _required_reason(reason)
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"not a profile field: {', '.join(sorted(unknown))}")
    if same_principal(user, actor) and changes.get("role", user.role) != user.role:
        raise PermissionDenied(_("An administrator cannot change their own role."))
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        before = {name: _value(getattr(user, name)) for name in PROFILE_FIELDS}
        for name, value in changes.items():
            setattr(user, name, value)
        user.full_clean()
        after = {name: _value(getattr(user, name)) for name in PROFILE_FIELDS}
        changed = [name for name in PROFILE_FIELDS if before[name] != after[name]]
        if changed:
            user.save(update_fields=changed)
            _audit(
                actor,
                "accounts.user_changed",
                user,
                reason=reason,
                request=request,
                changed={name: [before[name], after[name]] for name in changed},
            )
    return changed


def deactivate_user(
    actor: User, user: User, *, reason: str, request: HttpRequest | None = None
) -> None:
    """Close an account: its sessions stop working at once, its history stays."""
    check_perm(actor, Perm.USER_MANAGE)
    reason = _required_reason(reason)
    if same_principal(user, actor):
        raise PermissionDenied(_("An administrator cannot deactivate their own account."))
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
        _audit(actor, "accounts.user_deactivated", user, reason=reason, request=request)


def reactivate_user(
    actor: User, user: User, *, reason: str, request: HttpRequest | None = None
) -> None:
    check_perm(actor, Perm.USER_MANAGE)
    reason = _required_reason(reason)
    with transaction.atomic():
        user.is_active = True
        user.save(update_fields=["is_active"])
        _audit(actor, "accounts.user_reactivated", user, reason=reason, request=request)


def unlock_user(actor: User, user: User, *, reason: str, request: HttpRequest | None = None) -> int:
    """Clear the failed sign-ins that locked an account; return how many were cleared."""
    check_perm(actor, Perm.USER_MANAGE)
    reason = _required_reason(reason)
    with transaction.atomic():
        cleared = int(axes_reset(username=user.username))
        _audit(
            actor, "accounts.user_unlocked", user, reason=reason, request=request, cleared=cleared
        )
    return cleared


def reset_password(
    actor: User, user: User, *, reason: str, request: HttpRequest | None = None
) -> str:
    """Issue a one-time password; the person must choose their own at the next sign-in."""
    check_perm(actor, Perm.USER_MANAGE)
    reason = _required_reason(reason)
    password = _one_time_password()
    with transaction.atomic():
        user.set_password(password)
        user.must_change_password = True
        user.save(update_fields=["password", "must_change_password"])
        _audit(actor, "accounts.password_reset", user, reason=reason, request=request)
    return password


def reset_two_factor(
    actor: User, user: User, *, reason: str, request: HttpRequest | None = None
) -> int:
    """Remove a person's authenticator (lost phone): they enrol a new one at the next sign-in."""
    check_perm(actor, Perm.USER_MANAGE)
    reason = _required_reason(reason)
    with transaction.atomic():
        removed = int(TOTPDevice.objects.filter(user=user).delete()[0])
        _audit(
            actor,
            "accounts.two_factor_reset",
            user,
            reason=reason,
            request=request,
            removed=removed,
        )
    return removed


# --- a person's own sign-in -----------------------------------------------------------------


def check_own_account(user: Any) -> None:
    """The rule of a person's own sign-in steps and settings: the actor is the account acted on
    (these actions take no other), a staff member's, and still active."""
    if principal_kind(user) != PrincipalKind.USER or not user.is_active:
        raise PermissionDenied("own account")


def pending_totp_device(user: User, *, request: HttpRequest | None = None) -> TOTPDevice:
    """The authenticator being enrolled: an unconfirmed device, made on first need."""
    check_own_account(user)
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
            _audit(user, "accounts.two_factor_enrolment_started", user, request=request)
    return device


def confirm_totp_device(
    user: User, device: TOTPDevice, code: str, *, request: HttpRequest | None = None
) -> bool:
    """Confirm enrolment with a code from the new authenticator; False if the code is wrong."""
    check_own_account(user)
    if device.user_id != user.pk or device.confirmed:
        raise PermissionDenied("not this person's pending authenticator")
    with transaction.atomic():
        if not device.verify_token(code):
            return False
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        _audit(user, "accounts.two_factor_enrolled", user, request=request)
    return True


def verify_second_factor(
    user: User, code: str, *, request: HttpRequest | None = None
) -> TOTPDevice | None:
    """The confirmed device that accepts `code`, or None. A code is accepted once only."""
    check_own_account(user)
    for device in TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk"):
        with transaction.atomic():
            if device.verify_token(code):
                _audit(user, "accounts.signed_in", user, request=request)
                return device
    return None


def set_preferred_language(
    user: User, language: str, *, request: HttpRequest | None = None
) -> bool:
    """Remember the language a person chose; True when it changed."""
    check_own_account(user)
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"preferred_language": _("Not a language of Muhafiz.")})
    if user.preferred_language == language:
        return False
    with transaction.atomic():
        previous = user.preferred_language
        user.preferred_language = language
        user.save(update_fields=["preferred_language"])
        _audit(
            user, "accounts.language_changed", user, request=request, language=[previous, language]
        )
    return True


def change_own_password(
    user: User, new_password: str, *, request: HttpRequest | None = None
) -> None:
    """A person sets their own password (validated by the form that called this)."""
    check_own_account(user)
    with transaction.atomic():
        user.set_password(new_password)
        user.must_change_password = False
        user.save(update_fields=["password", "must_change_password"])
        _audit(user, "accounts.password_changed", user, request=request)


# --- API clients ----------------------------------------------------------------------------


def create_api_client(
    actor: User,
    *,
    name: str,
    agency: Agency,
    profile: str,
    jurisdiction_level: str,
    province: Province | None = None,
    district: District | None = None,
    request: HttpRequest | None = None,
) -> tuple[ApiClient, str]:
    """Register a system that calls the API with one profile; return it with its token, shown
    this once. A profile that reads case content or the audit log works only after a second
    person of the profile's approving role approves it (`approve_api_client`)."""
    check_perm(actor, Perm.USER_MANAGE)
    spec = CLIENT_PROFILES.get(profile)
    if spec is None:
        raise ValidationError({"profile": _("Not a profile an API client can hold.")})
    token, prefix, digest = tokens.new_token()
    with transaction.atomic():
        client = ApiClient(
            name=name,
            agency=agency,
            profile=spec.code,
            scopes=sorted(p.value for p in spec.perms),
            jurisdiction_level=jurisdiction_level,
            province=province,
            district=district,
            token_prefix=prefix,
            token_hash=digest,
            created_by=actor,
        )
        client.full_clean()
        client.save()
        _audit(
            actor,
            "accounts.api_client_created",
            client,
            request=request,
            name=name,
            profile=spec.code,
            scopes=client.scopes,
            jurisdiction_level=jurisdiction_level,
            token_prefix=prefix,
            awaiting_approval=spec.needs_approval,
        )
    return client, token


def approve_api_client(
    actor: Any, client: ApiClient, *, reason: str, request: HttpRequest | None = None
) -> ApiClient:
    """The second person approves a client whose profile needs it; its token works from now.

    Only someone the profile names (a supervisor for a case system, an auditor for an audit
    reader, a forensic examiner for a bank keeper), whose jurisdiction contains the client's,
    and who did not create it.
    """
    if not may_approve_client(actor, client):
        raise PermissionDenied("accounts.api_client.approve")
    reason = _required_reason(reason)
    with transaction.atomic():
        locked = ApiClient.objects.select_for_update().get(pk=client.pk)
        if not locked.active:
            raise ValidationError(_("This client's token has been revoked."))
        if locked.approved_at is not None:
            raise ValidationError(_("This client is already approved."))
        client.approved_by = actor
        client.approved_at = timezone.now()
        client.save(update_fields=["approved_by", "approved_at"])
        _audit(
            actor,
            "accounts.api_client_approved",
            client,
            reason=reason,
            request=request,
            profile=client.profile,
            created_by=client.created_by_id,
        )
    return client


def clients_awaiting(person: Any) -> list[ApiClient]:
    """The active clients waiting for an approval that `person` may give."""
    pending = ApiClient.objects.filter(active=True, approved_at__isnull=True).select_related(
        "agency", "province", "district", "created_by"
    )
    return [c for c in pending if may_approve_client(person, c)]


def revoke_api_client(
    actor: User, client: ApiClient, *, reason: str, request: HttpRequest | None = None
) -> None:
    check_perm(actor, Perm.USER_MANAGE)
    reason = _required_reason(reason)
    with transaction.atomic():
        client.active = False
        client.revoked_at = timezone.now()
        client.save(update_fields=["active", "revoked_at"])
        _audit(actor, "accounts.api_client_revoked", client, reason=reason, request=request)
