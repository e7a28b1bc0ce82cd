"""Forms of sign-in, two-factor, password change and the administration of people and clients."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.forms import PasswordChangeForm as DjangoPasswordChangeForm
from django.core.validators import MaxLengthValidator, RegexValidator
from django.utils.translation import gettext_lazy as _

from muhafiz.accounts.actions import PROFILE_FIELDS, REASON_MAX_LENGTH
from muhafiz.accounts.models import ApiClient, User
from muhafiz.accounts.roles import JurisdictionLevel
from muhafiz.catalogue.models import Agency
from muhafiz.core.permissions import CLIENT_PROFILES

# Long enough for any passphrase, short enough that hashing it cannot be used to tie up a worker.
PASSWORD_MAX_LENGTH = 256
CODE_DIGITS = 6  # an authenticator app's code (django-otp's TOTP devices' default)


class SignInForm(AuthenticationForm):
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=PASSWORD_MAX_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    error_messages = {
        "invalid_login": _(
            "The username or password is not right. After %(limit)s failed attempts the "
            "account is locked until an administrator unlocks it."
        ),
        "inactive": _("This account has been deactivated. Ask your administrator."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Username")

    def get_invalid_login_error(self) -> forms.ValidationError:
        from django.conf import settings

        return forms.ValidationError(
            self.error_messages["invalid_login"],
            code="invalid_login",
            params={"limit": settings.AXES_FAILURE_LIMIT},
        )


class CodeForm(forms.Form):
    """A six-digit code from the authenticator app."""

    code = forms.CharField(
        label=_("Six-digit code"),
        min_length=CODE_DIGITS,
        max_length=CODE_DIGITS,
        strip=True,
        validators=[RegexValidator(r"^[0-9]{6}$", _("Enter the six digits your app shows."))],
        help_text=_("Open your authenticator app and type the code it shows for Muhafiz."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9]{6}",
                "autofocus": True,
            }
        ),
    )

    def clean_code(self) -> str:
        return str(self.cleaned_data["code"]).replace(" ", "")


class PasswordChangeForm(DjangoPasswordChangeForm):
    """Replace a one-time password (or the current one) with one the person chooses."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = _("Current or one-time password")
        self.fields["new_password1"].label = _("New password")
        self.fields["new_password2"].label = _("New password again")
        for name in ("old_password", "new_password1", "new_password2"):
            field = self.fields[name]
            assert isinstance(field, forms.CharField)
            field.max_length = PASSWORD_MAX_LENGTH
            field.validators.append(MaxLengthValidator(PASSWORD_MAX_LENGTH))

    def save(self, commit: bool = True) -> Any:  # pragma: no cover - actions save instead
        raise NotImplementedError("use accounts.actions.change_own_password")


class JurisdictionFormMixin(forms.ModelForm):  # type: ignore[type-arg]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "agency" in self.fields:
            self.fields["agency"].queryset = Agency.objects.order_by("name")  # type: ignore[attr-defined]
        if "province" in self.fields:
            self.fields["province"].help_text = _("Needed for a provincial jurisdiction.")
        if "district" in self.fields:
            self.fields["district"].help_text = _("Needed for a district jurisdiction.")


class UserForm(JurisdictionFormMixin):
    """A new staff account: who they are, what they do, where they work."""

    class Meta:
        model = User
        fields = ["username", *PROFILE_FIELDS]
        labels = {
            "username": _("Username"),
            "first_name": _("First name"),
            "last_name": _("Last name"),
            "email": _("E-mail"),
            "agency": _("Agency"),
            "province": _("Province or territory"),
            "district": _("District"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].required = True
        self.fields["agency"].required = True
        if "username" in self.fields:
            self.fields["username"].help_text = _(
                "Up to 150 letters, digits and @ . + - _ ; used to sign in."
            )


class UserEditForm(UserForm):
    class Meta(UserForm.Meta):
        fields = list(PROFILE_FIELDS)

    # Required: the change is written to the audit log with it (issue 15).
    reason = forms.CharField(
        label=_("Reason for the change"),
        max_length=REASON_MAX_LENGTH,
        help_text=_("Written to the audit log."),
        error_messages={"required": _("Say why: the reason is written to the audit log.")},
        widget=forms.TextInput,
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX_LENGTH,
        required=False,
        help_text=_("Written to the audit log."),
    )


class RequiredReasonForm(ReasonForm):
    """A change whose page says its reason is recorded: the reason is required (issue 15)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        reason = self.fields["reason"]
        reason.required = True
        reason.error_messages["required"] = _("Say why: the reason is written to the audit log.")


class ApiClientForm(JurisdictionFormMixin):
    profile = forms.ChoiceField(
        label=_("Profile"),
        choices=[(code, _(spec.label)) for code, spec in CLIENT_PROFILES.items()],
        widget=forms.RadioSelect,
        help_text=_(
            "What the system may do. Profiles that read case content or the audit log work only "
            "after a second person approves them."
        ),
    )

    class Meta:
        model = ApiClient
        fields = ["name", "agency", "jurisdiction_level", "province", "district"]
        labels = {
            "name": _("Name of the system"),
            "agency": _("Agency"),
            "province": _("Province or territory"),
            "district": _("District"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["jurisdiction_level"].initial = JurisdictionLevel.DISTRICT
