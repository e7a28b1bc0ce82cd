"""CNIC, B-form and phone numbers: one canonical form, clear errors, no crash on any input."""

from __future__ import annotations

import pytest
from django import forms
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from muhafiz.core.identifiers import (
    CnicField,
    IdentifierError,
    PhoneField,
    format_cnic,
    format_phone,
    normalize_cnic,
    normalize_phone,
    validate_cnic,
    validate_mobile,
)


@pytest.mark.parametrize(
    "text",
    ["35202-1234567-1", "3520212345671", " 35202 1234567 1 ", "۳۵۲۰۲-۱۲۳۴۵۶۷-۱", "35202–1234567–1"],
)
def test_a_cnic_is_accepted_with_or_without_dashes(text: str) -> None:
    assert normalize_cnic(text) == "3520212345671"
    assert format_cnic(text) == "35202-1234567-1"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("35202-1234567", "13 digits; this one has 12"),
        ("35202-1234567-12", "13 digits; this one has 14"),
        ("35202-12345X7-1", "'X' is not allowed"),
        ("352-0212345-671", "#####-#######-#"),
        ("35202/1234567/1", "'/' is not allowed"),
        ("", "empty"),
        ("1" * 100, "too long"),
    ],
)
def test_a_malformed_cnic_gets_an_error_saying_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(IdentifierError, match=says.replace("(", r"\(")):
        normalize_cnic(text)
    with pytest.raises(ValidationError):
        validate_cnic(text)


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("0300-1234567", "+923001234567"),
        ("03001234567", "+923001234567"),
        ("+92 300 1234567", "+923001234567"),
        ("0092 300 1234567", "+923001234567"),
        ("042-35761234", "+924235761234"),
        ("051 9201234", "+92519201234"),
    ],
)
def test_pakistani_numbers_normalize_to_e164(text: str, e164: str) -> None:
    assert normalize_phone(text) == e164


def test_mobile_and_landline_are_told_apart() -> None:
    assert normalize_phone("0321-7654321", kind="mobile") == "+923217654321"
    with pytest.raises(IdentifierError, match="not a mobile"):
        normalize_phone("042-35761234", kind="mobile")
    with pytest.raises(IdentifierError, match="not a landline"):
        normalize_phone("0300-1234567", kind="landline")
    with pytest.raises(ValidationError):
        validate_mobile("042-35761234")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("0300-123456", "not a valid Pakistani number"),
        ("+44 20 7946 0958", "not a Pakistani number"),
        ("call me", "cannot contain letters"),
        ("+", "not a phone number"),
        ("", "empty"),
    ],
)
def test_a_bad_phone_number_gets_a_clear_error(text: str, says: str) -> None:
    with pytest.raises(IdentifierError, match=says):
        normalize_phone(text)


def test_foreign_numbers_only_when_allowed() -> None:
    assert normalize_phone("+44 20 7946 0958", allow_foreign=True) == "+442079460958"
    assert format_phone("+923001234567") == "0300 1234567"


class _Form(forms.Form):
    cnic = CnicField()
    mobile = PhoneField(kind="mobile", required=False)


def test_form_fields_clean_to_the_canonical_forms() -> None:
    form = _Form(data={"cnic": "3520212345671", "mobile": "0300 1234567"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"cnic": "35202-1234567-1", "mobile": "+923001234567"}


def test_form_fields_report_errors_on_the_field() -> None:
    form = _Form(data={"cnic": "12345", "mobile": "12"})
    assert not form.is_valid()
    assert "13 digits" in form.errors["cnic"][0]
    assert form.errors["mobile"]


# --- properties -------------------------------------------------------------------------------

cnic_digits = st.text(alphabet="0123456789", min_size=13, max_size=13)


@given(cnic_digits, st.sampled_from(["plain", "dashes", "spaces"]))
def test_normalize_and_format_of_a_cnic_are_idempotent(digits: str, layout: str) -> None:
    shown = {
        "plain": digits,
        "dashes": f"{digits[:5]}-{digits[5:12]}-{digits[12]}",
        "spaces": f"{digits[:5]} {digits[5:12]} {digits[12]}",
    }[layout]
    assert normalize_cnic(shown) == digits
    assert normalize_cnic(format_cnic(shown)) == digits
    assert format_cnic(format_cnic(shown)) == format_cnic(digits)


@given(st.text(max_size=80))
def test_any_text_is_a_cnic_or_a_clear_error(text: str) -> None:
    try:
        digits = normalize_cnic(text)
    except IdentifierError as exc:
        assert str(exc)
        assert exc.code
    else:
        assert len(digits) == 13
        assert digits.isascii()
        assert digits.isdigit()


@given(st.text(max_size=80))
def test_any_text_is_a_phone_number_or_a_clear_error(text: str) -> None:
    try:
        e164 = normalize_phone(text)
    except IdentifierError as exc:
        assert str(exc)
    else:
        assert e164.startswith("+92")
        assert normalize_phone(e164) == e164
        assert normalize_phone(format_phone(e164)) == e164


@given(
    st.sampled_from(["0", "+92", "0092"]),
    st.sampled_from(["300", "301", "312", "321", "333", "345"]),
    st.text(alphabet="0123456789", min_size=7, max_size=7),
)
def test_mobile_numbers_round_trip(trunk: str, operator: str, subscriber: str) -> None:
    text = f"{trunk}{operator}{subscriber}"
    e164 = normalize_phone(text, kind="mobile")
    assert normalize_phone(format_phone(e164), kind="mobile") == e164


@given(st.one_of(st.integers(), st.none(), st.binary(), st.lists(st.integers())))
def test_values_that_are_not_text_are_refused(value: object) -> None:
    with pytest.raises(IdentifierError):
        normalize_cnic(value)
    with pytest.raises(IdentifierError):
        normalize_phone(value)
