"""The cases CSV runs no formula in a spreadsheet (issue 8, finding 6)."""

from __future__ import annotations

import csv
import io

from muhafiz.cases import actions
from muhafiz.cases.models import Case
from muhafiz.testing import People, signed_in

FORMULA = "=cmd|' /C calc'!A0"


def test_a_formula_typed_into_a_case_goes_out_as_text(people: People, lahore_case: Case) -> None:
    actions.update_case(people.lahore_investigator, lahore_case, fir_number=FORMULA)
    station = lahore_case.police_station
    assert station is not None
    station.name = "@SUM(1+1)*cmd|' /C calc'!A0"
    station.save(update_fields=["name"])
    response = signed_in(people.lahore_investigator).get("/cases/export.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    cells = [cell for row in rows[1:] for cell in row]
    assert FORMULA not in cells
    assert "'" + FORMULA in cells
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in cells
