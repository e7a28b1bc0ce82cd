"""Normalizing the identifiers of people in a case (CNIC/B-form, phone, online handle).

Error messages never repeat the value given: they may end up in a log or an API response.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_HANDLE = re.compile(r"^[\w.\-]{1,100}$")
_PLATFORM = re.compile(r"^[a-z0-9][a-z0-9.\-]{0,30}$")


def normalize_cnic(raw: str) -> str:
    """A CNIC or B-form number (13 digits) as 12345-1234567-1."""
    text = (raw or "").strip()
    digits = re.sub(r"[\s-]", "", text)
    if not digits.isdigit() or len(digits) != 13:
        raise ValidationError(
            _("A CNIC or B-form number has 13 digits, written 12345-1234567-1."), code="cnic"
        )
    if digits[0] == "0":
        raise ValidationError(_("A CNIC or B-form number does not start with 0."), code="cnic")
    return f"{digits[:5]}-{digits[5:12]}-{digits[12]}"


def normalize_phone(raw: str) -> str:
    """A phone number in international form (+923001234567); Pakistani forms accepted."""
    text = (raw or "").strip()
    if not re.fullmatch(r"[+()\d\s.\-]{6,25}", text):
        raise ValidationError(
            _("A phone number has digits only, like 0300 1234567 or +92 300 1234567."),
            code="phone",
        )
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        international = digits
    elif digits.startswith("00"):
        international = digits[2:]
    elif digits.startswith("0"):
        international = "92" + digits[1:]
    elif digits.startswith("92") and len(digits) == 12:
        international = digits
    else:
        international = "92" + digits
    if international.startswith("92"):
        national = international[2:]
        if national.startswith("3") and len(national) != 10:
            raise ValidationError(
                _("A Pakistani mobile number has 11 digits, like 0300 1234567."), code="phone"
            )
        if not 9 <= len(national) <= 10:
            raise ValidationError(
                _("A Pakistani phone number has 10 or 11 digits with its area code."),
                code="phone",
            )
    elif not 8 <= len(international) <= 15:
        raise ValidationError(_("An international number has 8 to 15 digits."), code="phone")
    return f"+{international}"


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
