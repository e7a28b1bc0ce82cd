"""The one CSV writer: nothing a spreadsheet would run as a formula goes out as typed."""

from __future__ import annotations

import csv
import io

import pytest

from muhafiz.core import spreadsheet


@pytest.mark.parametrize(
    "typed",
    ["=cmd|' /C calc'!A0", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\tx", "\rx"],
)
def test_a_formula_goes_out_as_text(typed: str) -> None:
    out = io.StringIO()
    spreadsheet.writer(out).writerow(["ok", typed])
    assert next(csv.reader(io.StringIO(out.getvalue()))) == ["ok", "'" + typed]


def test_numbers_and_plain_text_go_out_unchanged() -> None:
    out = io.StringIO()
    spreadsheet.writer(out).writerows([["-3", "+2.5", -4, 1.5, None, "Model Town", "a=b"]])
    assert out.getvalue().strip() == "-3,+2.5,-4,1.5,,Model Town,a=b"
