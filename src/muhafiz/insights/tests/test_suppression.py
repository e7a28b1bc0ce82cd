"""The suppression rules on their own: small counts hidden, and never recoverable."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from muhafiz.insights.suppression import SMALL, WITHHELD, Line, audit, suppress


def _table(rows: list[list[int]]) -> tuple[dict[object, int], list[Line]]:
    """A table with row totals, column totals and a grand total, as cells and lines."""
    values: dict[object, int] = {}
    lines = []
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            values[(r, c)] = v
        values[(r, "T")] = sum(row)
        lines.append(Line((r, "T"), tuple((r, c) for c in range(len(row)))))
    for c in range(len(rows[0])):
        values[("T", c)] = sum(row[c] for row in rows)
        lines.append(Line(("T", c), tuple((r, c) for r in range(len(rows)))))
    values[("T", "T")] = sum(map(sum, rows))
    lines.append(Line(("T", "T"), tuple((r, "T") for r in range(len(rows)))))
    lines.append(Line(("T", "T"), tuple(("T", c) for c in range(len(rows[0])))))
    return values, lines


def test_a_lone_small_count_takes_a_second_cell_with_it() -> None:
    values, lines = _table([[3, 10, 12], [7, 9, 20]])
    marks = suppress(values, lines)
    assert marks[(0, 0)] == SMALL
    assert len(marks) >= 4  # a rectangle at least: one row or column alone gives it away
    assert WITHHELD in marks.values()
    assert audit(values, lines, marks) == []


def test_the_audit_finds_what_a_naive_suppression_leaves_open() -> None:
    values, lines = _table([[3, 10, 12], [7, 9, 20]])
    naive = {(0, 0): SMALL}
    assert audit(values, lines, naive)


def test_two_ones_in_a_line_are_not_read_off_their_total() -> None:
    # 1 + 1 = 2 in a row: "<5" and "<5" adding up to 2 can only be 1 and 1.
    values, lines = _table([[1, 1, 30], [8, 9, 40]])
    marks = suppress(values, lines)
    assert audit(values, lines, marks) == []


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from([0, 0, 1, 2, 3, 4, 5, 6, 9, 17, 40]), min_size=2, max_size=5),
        min_size=2,
        max_size=5,
    ).filter(lambda rows: len({len(r) for r in rows}) == 1)
)
def test_no_table_gives_a_small_count_away(rows: list[list[int]]) -> None:
    values, lines = _table(rows)
    marks = suppress(values, lines)
    assert audit(values, lines, marks) == []


def test_a_hierarchy_of_districts_provinces_and_a_country() -> None:
    rng = random.Random(4)
    values: dict[object, int] = {}
    lines = []
    provinces = []
    for p in range(4):
        districts = [(p, d) for d in range(6)]
        for key in districts:
            values[key] = rng.choice([0, 1, 2, 3, 6, 11, 25])
        values[("P", p)] = sum(values[k] for k in districts)
        lines.append(Line(("P", p), tuple(districts)))
        provinces.append(("P", p))
    values["PK"] = sum(values[p] for p in provinces)
    lines.append(Line("PK", tuple(provinces)))
    marks = suppress(values, lines)
    assert audit(values, lines, marks) == []
