"""Accounts: staff with a role, an agency and a jurisdiction; API clients with scoped tokens."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from muhafiz.accounts.roles import JurisdictionLevel, Role
from muhafiz.catalogue.models import Agency, District, Province
from muhafiz.core.permissions import CLIENT_PROFILES, ClientProfile, PrincipalKind


def client_profile_choices() -> list[tuple[str, Any]]:
    return [(code, _(profile.label)) for code, profile in CLIENT_PROFILES.items()]


class Jurisdiction(models.Model):
    """Where a principal may act: the whole country, one province, or one district."""

    jurisdiction_level = models.CharField(
        _("jurisdiction"),
        max_length=20,
        choices=JurisdictionLevel.choices,
        default=JurisdictionLevel.DISTRICT,
    )
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        abstract = True

    def clean(self) -> None:
        super().clean()
        level = self.jurisdiction_level
        if level == JurisdictionLevel.DISTRICT and self.district_id is None:
            raise ValidationError({"district": _("A district jurisdiction needs a district.")})
        if level == JurisdictionLevel.PROVINCE and self.province_id is None:
            raise ValidationError({"province": _("A provincial jurisdiction needs a province.")})
        if level == JurisdictionLevel.DISTRICT and self.district is not None:
            self.province = self.district.province
        if level == JurisdictionLevel.PROVINCE:
            self.district = None
        if level == JurisdictionLevel.NATIONAL:
            self.province = None
            self.district = None


class User(AbstractUser, Jurisdiction):
    role = models.CharField(_("role"), max_length=40, choices=Role.choices)
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="staff"
    )
    phone = models.CharField(_("official phone"), max_length=20, blank=True)
    preferred_language = models.CharField(
        _("language"), max_length=5, choices=[("en", "English"), ("ur", "اردو")], default="en"
    )
    must_change_password = models.BooleanField(
        _("must change password"),
        default=False,
        help_text=_("Set when an administrator issues a one-time password."),
    )

    # Permission checks tell people from API clients by this, never by the id alone.
    principal_kind = PrincipalKind.USER

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def clean(self) -> None:
        # AbstractBaseUser.clean does not call super(), so the jurisdiction rules are run here.
        AbstractUser.clean(self)
        Jurisdiction.clean(self)


class ApiClient(Jurisdiction):
    """A machine principal: a system that calls the API with a scoped bearer token."""

    name = models.CharField(_("name"), max_length=150, unique=True)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="api_clients")
    # The client's rights come from its profile (core.permissions.CLIENT_PROFILES); `scopes`
    # records the profile's permissions at creation, for the record only.
    profile = models.CharField(
        _("profile"), max_length=40, choices=client_profile_choices, blank=True, default=""
    )
    scopes = models.JSONField(_("permissions granted"), default=list)
    token_prefix = models.CharField(max_length=12, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # A profile that needs a second person's approval works only once approved.
    approved_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    principal_kind = PrincipalKind.CLIENT

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    # An API client stands where a user would in permission checks (see core.permissions).
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def profile_spec(self) -> ClientProfile | None:
        return CLIENT_PROFILES.get(self.profile)

    @property
    def awaiting_approval(self) -> bool:
        spec = self.profile_spec
        return bool(spec and spec.needs_approval and self.approved_at is None)
