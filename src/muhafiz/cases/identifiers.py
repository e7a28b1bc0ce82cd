"""Normalizing the identifiers of people in a case: CNIC/B-form and phone through
`muhafiz.core.identifiers` (one rule for the whole platform), online handles and e-mail
addresses here.

Error messages never repeat the value given: they may end up in a log or an API response.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from muhafiz.core import identifiers

_HANDLE = re.compile(r"^[\w.\-]{1,100}$")
_PLATFORM = re.compile(r"^[a-z0-9][a-z0-9.\-]{0,30}$")


def normalize_cnic(raw: str) -> str:
    """A CNIC or B-form number in its display form 12345-1234567-1 (core.identifiers rules)."""
    try:
        return identifiers.format_cnic(raw)
    except identifiers.IdentifierError as exc:
        raise ValidationError(str(exc), code=exc.code) from None


def normalize_phone(raw: str) -> str:
    """A phone number in E.164 (+923001234567); Pakistani forms and foreign numbers accepted."""
    try:
        return identifiers.normalize_phone(raw, allow_foreign=True)
    except identifiers.IdentifierError as exc:
        raise ValidationError(str(exc), code=exc.code) from None


def normalize_email(raw: str) -> str:
    """An e-mail address, lower case (providers treat the whole address without regard to
    case in practice), checked by Django's validator."""
    text = (raw or "").strip().lower()
    try:
        validate_email(text)
    except ValidationError:
        raise ValidationError(
            _("An e-mail address looks like name@example.org."), code="email"
        ) from None
    return text


def normalize_handle(raw: str) -> str:
    """An online handle as 'platform:name' or 'name', lower case, without a leading '@'."""
    text = (raw or "").strip().lower()
    platform = ""
    if ":" in text and not text.startswith("http"):
        platform, _sep, text = text.partition(":")
        platform = platform.strip()
        text = text.strip()
    text = text.lstrip("@")
    if not _HANDLE.fullmatch(text) or (platform and not _PLATFORM.fullmatch(platform)):
        raise ValidationError(
            _("A handle is letters, digits, '.', '_' or '-', optionally after 'platform:'."),
            code="handle",
        )
    return f"{platform}:{text}" if platform else text
