"""Pakistani identifiers: CNIC and B-form numbers, mobile and landline phone numbers.

Each parser returns one canonical form or raises `IdentifierError` (a `ValueError`) whose message
says what is wrong; the Django validators and form fields below turn that into a
`ValidationError`. Urdu keyboards type Eastern Arabic-Indic digits (۰۱۲…), which are accepted.

CNIC and B-form (NADRA's Form-B for children) share the 13-digit format ``#####-#######-#``. The
first digit is widely described as a province code, but NADRA publishes no rule we can cite, so
no digit is checked beyond the count and the layout.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import phonenumbers
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from phonenumbers import PhoneNumberFormat, PhoneNumberType

CNIC_DIGITS = 13
CNIC_GROUPS = (5, 7, 1)
MAX_INPUT = 64  # longer input is refused before any parsing

_DIGITS = str.maketrans(
    "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹\u2010\u2011\u2012\u2013\u2014\u2212",
    "01234567890123456789------",
)
_CNIC_CHARS = re.compile(r"^[0-9\- ]+$")
_CNIC_GROUP_SPLIT = re.compile(r"[- ]+")


class IdentifierError(ValueError):
    """A malformed identifier; the message says what is wrong and how it should look."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def _messages(kind: Literal["cnic", "phone"]) -> dict[str, str]:
    # Whole sentences per identifier, so that each language can word them its own way.
    if kind == "cnic":
        return {
            "type": _("A CNIC or B-form number must be text."),
            "too_long": _("A CNIC or B-form number is too long (at most %(max)d characters)."),
            "empty": _("The CNIC or B-form number is empty."),
        }
    return {
        "type": _("A phone number must be text."),
        "too_long": _("A phone number is too long (at most %(max)d characters)."),
        "empty": _("The phone number is empty."),
    }


def _prepare(value: Any, kind: Literal["cnic", "phone"]) -> str:
    messages = _messages(kind)
    if not isinstance(value, str):
        raise IdentifierError(messages["type"], "type")
    if len(value) > MAX_INPUT:
        raise IdentifierError(messages["too_long"] % {"max": MAX_INPUT}, "too_long")
    text = value.translate(_DIGITS).strip()
    if not text:
        raise IdentifierError(messages["empty"], "empty")
    return text


# --- CNIC and B-form --------------------------------------------------------------------------


def normalize_cnic(value: Any) -> str:
    """The 13 digits of a CNIC or B-form number (accepts ``#####-#######-#``, spaces, or none)."""
    text = _prepare(value, "cnic")
    if not _CNIC_CHARS.match(text):
        bad = next(ch for ch in text if not (ch.isascii() and (ch.isdigit() or ch in "- ")))
        raise IdentifierError(
            _("A CNIC or B-form number has only digits and dashes; %(char)r is not allowed.")
            % {"char": bad},
            "invalid_character",
        )
    digits = re.sub(r"[^0-9]", "", text)
    if len(digits) != CNIC_DIGITS:
        raise IdentifierError(
            _("A CNIC or B-form number has 13 digits; this one has %(count)d.")
            % {"count": len(digits)},
            "wrong_length",
        )
    groups = tuple(len(group) for group in _CNIC_GROUP_SPLIT.split(text))
    if len(groups) > 1 and groups != CNIC_GROUPS:
        raise IdentifierError(
            _(
                "Write a CNIC or B-form number as #####-#######-# "
                "(dashes after the 5th and 12th digits), or as 13 digits."
            ),
            "wrong_layout",
        )
    return digits


def format_cnic(value: Any) -> str:
    """The display form ``#####-#######-#``."""
    digits = normalize_cnic(value)
    return f"{digits[:5]}-{digits[5:12]}-{digits[12]}"


def is_cnic(value: Any) -> bool:
    try:
        normalize_cnic(value)
    except IdentifierError:
        return False
    return True


# --- phone numbers ----------------------------------------------------------------------------

PhoneKind = Literal["any", "mobile", "landline"]

_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
_LANDLINE_TYPES = {
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
    PhoneNumberType.UAN,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.SHARED_COST,
}


def parse_phone(
    value: Any, *, kind: PhoneKind = "any", allow_foreign: bool = False
) -> phonenumbers.PhoneNumber:
    text = _prepare(value, "phone")
    if re.search(r"[A-Za-z]", text):
        raise IdentifierError(_("A phone number cannot contain letters."), "invalid_character")
    try:
        number = phonenumbers.parse(text, "PK")
    except phonenumbers.NumberParseException:
        raise IdentifierError(
            _("This is not a phone number. Write it as 03XX-XXXXXXX or +92 3XX XXXXXXX."),
            "not_a_number",
        ) from None
    region = phonenumbers.region_code_for_number(number)
    if region != "PK" and not allow_foreign:
        raise IdentifierError(
            _("This is not a Pakistani number (country code +%(code)d).")
            % {"code": number.country_code},
            "foreign",
        )
    if not phonenumbers.is_valid_number(number):
        if region == "PK" or number.country_code == 92:
            raise IdentifierError(
                _(
                    "This is not a valid Pakistani number: check the number of digits "
                    "(mobiles are 03XX-XXXXXXX, 11 digits)."
                ),
                "invalid",
            )
        raise IdentifierError(_("This is not a valid phone number."), "invalid")
    number_type = phonenumbers.number_type(number)
    if kind == "mobile" and number_type not in _MOBILE_TYPES:
        raise IdentifierError(
            _("This is not a mobile number (mobiles start with 03)."), "not_mobile"
        )
    if kind == "landline" and number_type not in _LANDLINE_TYPES:
        raise IdentifierError(
            _("This is not a landline number (landlines start with an area code like 042)."),
            "not_landline",
        )
    return number


def normalize_phone(value: Any, *, kind: PhoneKind = "any", allow_foreign: bool = False) -> str:
    """The E.164 form (``+923001234567``) of a Pakistani mobile or landline number."""
    number = parse_phone(value, kind=kind, allow_foreign=allow_foreign)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def format_phone(value: Any, *, allow_foreign: bool = False) -> str:
    """The national display form (``0300 1234567``); international for foreign numbers."""
    number = parse_phone(value, allow_foreign=allow_foreign)
    if phonenumbers.region_code_for_number(number) == "PK":
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


# --- Django validators and form fields --------------------------------------------------------


def validate_cnic(value: Any) -> None:
    try:
        normalize_cnic(value)
    except IdentifierError as exc:
        raise ValidationError(str(exc), code=exc.code) from None


def validate_mobile(value: Any) -> None:
    try:
        normalize_phone(value, kind="mobile")
    except IdentifierError as exc:
        raise ValidationError(str(exc), code=exc.code) from None


def validate_phone(value: Any) -> None:
    try:
        normalize_phone(value)
    except IdentifierError as exc:
        raise ValidationError(str(exc), code=exc.code) from None


class CnicField(forms.CharField):
    """A form field for a CNIC or B-form number; cleans to ``#####-#######-#``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", MAX_INPUT)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("inputmode", "numeric")
        self.widget.attrs.setdefault("autocomplete", "off")
        self.widget.attrs.setdefault("placeholder", "#####-#######-#")
        self.widget.attrs.setdefault("dir", "ltr")

    def to_python(self, value: Any) -> str:
        text = super().to_python(value)
        if text is None or text in self.empty_values:
            return ""
        try:
            return format_cnic(text)
        except IdentifierError as exc:
            raise ValidationError(str(exc), code=exc.code) from None


class PhoneField(forms.CharField):
    """A form field for a Pakistani phone number; cleans to E.164 (``+923001234567``)."""

    def __init__(
        self, *, kind: PhoneKind = "any", allow_foreign: bool = False, **kwargs: Any
    ) -> None:
        self.kind: PhoneKind = kind
        self.allow_foreign = allow_foreign
        kwargs.setdefault("max_length", MAX_INPUT)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("inputmode", "tel")
        self.widget.attrs.setdefault("autocomplete", "off")
        self.widget.attrs.setdefault("dir", "ltr")

    def to_python(self, value: Any) -> str:
        text = super().to_python(value)
        if text is None or text in self.empty_values:
            return ""
        try:
            return normalize_phone(text, kind=self.kind, allow_foreign=self.allow_foreign)
        except IdentifierError as exc:
            raise ValidationError(str(exc), code=exc.code) from None
