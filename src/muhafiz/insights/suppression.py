"""Small-count suppression of published tables: primary "<5", complementary "x", and the audit.

Every published count is a *cell*; a *line* says that some cells add up to another (the districts
of a province to the province, the provinces to Pakistan, the categories of a breakdown to its
total). A count of 1–4 is never published: it shows as "<5" (primary suppression). A line in
which only one cell is hidden would give it away by subtraction, so another cell of that line is
hidden too and shows as "x" (complementary suppression); a line whose hidden cells could be
narrowed to one value by what an outsider knows ("<5" means 1–4, "x" means 0 or at least 5)
gets one more. Finally the whole system of lines is checked by linear algebra: no hidden cell
may be a fixed combination of published numbers. `audit` is the same check, for tests.

Pure Python (and numpy): no Django, so the rules can be read and tested on their own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

SMALL_MIN, SMALL_MAX = 1, 4
SMALL = "<5"  # a count of 1 to 4
WITHHELD = "x"  # a count withheld so that a "<5" cannot be worked out


def is_small(value: int) -> bool:
    return SMALL_MIN <= value <= SMALL_MAX


@dataclass(frozen=True)
class Line:
    """`parts` add up to `total` (all are cell keys)."""

    total: Hashable
    parts: tuple[Hashable, ...]


Intervals = list[tuple[int, int]]


def _merge(intervals: Iterable[tuple[int, int]], cap: int) -> Intervals:
    out: Intervals = []
    for low, high in sorted((lo, min(hi, cap)) for lo, hi in intervals if lo <= cap):
        if out and low <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], high))
        else:
            out.append((low, high))
    return out


def _domain(mark: str, cap: int) -> Intervals:
    """What an outsider knows of a hidden cell from its mark."""
    if mark == SMALL:
        return _merge([(SMALL_MIN, SMALL_MAX)], cap)
    return _merge([(0, 0), (SMALL_MAX + 1, cap)], cap)


def _feasible(own: Intervals, rest: Intervals, remainder: int) -> Intervals:
    """Values v in `own` such that remainder - v is a sum the other hidden cells can make."""
    out: Intervals = []
    for low, high in rest:
        # v in [remainder - high, remainder - low]
        out += [
            (max(lo, remainder - high), min(hi, remainder - low))
            for lo, hi in own
            if max(lo, remainder - high) <= min(hi, remainder - low)
        ]
    return _merge(out, remainder)


def _width(intervals: Intervals) -> int:
    return sum(high - low + 1 for low, high in intervals)


def line_disclosures(
    line: Line, values: Mapping[Any, int], marks: Mapping[Any, str]
) -> list[Hashable]:
    """Hidden parts of `line` whose value an outsider narrows to one, when the total is shown."""
    hidden = [p for p in line.parts if p in marks]
    if line.total in marks:
        # A hidden total with every part shown is their sum.
        return [] if hidden else [line.total]
    if not hidden:
        return []
    remainder = values[line.total] - sum(values[p] for p in line.parts if p not in marks)
    if len(hidden) == 1:
        return hidden
    small = sum(1 for p in hidden if marks[p] == SMALL)
    withheld = len(hidden) - small
    found = []
    for cell in hidden:
        own = _domain(marks[cell], remainder)
        k = small - (marks[cell] == SMALL)
        j = withheld - (marks[cell] != SMALL)
        if _width(_feasible(own, _sum_of(k, j, remainder), remainder)) <= 1:
            found.append(cell)
    return found


def _sum_of(small: int, withheld: int, cap: int) -> Intervals:
    """Every sum `small` cells of 1–4 and `withheld` cells of 0 or ≥ 5 can make (up to cap)."""
    low, high = small * SMALL_MIN, small * SMALL_MAX
    if not withheld:
        return _merge([(low, high)], cap)
    return _merge([(low, high), (low + SMALL_MAX + 1, high + cap)], cap)


def _exactly_determined(
    lines: list[Line], values: Mapping[Any, int], marks: Mapping[Any, str]
) -> list[Hashable]:
    """Hidden cells that the published numbers determine through the lines taken together."""
    hidden = sorted(marks, key=repr)
    index = {cell: i for i, cell in enumerate(hidden)}
    # Each line as its sparse row over the hidden cells (column → coefficient): a dense row
    # per line would be lines x hidden cells, most of the refresh's time at a national scale.
    rows: list[dict[int, float]] = []
    for line in lines:
        cells = [line.total, *line.parts]
        if not any(c in marks for c in cells):
            continue
        row: dict[int, float] = defaultdict(float)
        if line.total in marks:
            row[index[line.total]] -= 1
        for part in line.parts:
            if part in marks:
                row[index[part]] += 1
        rows.append({column: value for column, value in row.items() if value})
    if not rows:
        return []
    # Only cells sharing a line with others matter; solve per connected group for speed.
    groups = _groups(rows)
    determined = []
    for group_rows, group_cols in groups:
        position_of = {column: i for i, column in enumerate(group_cols)}
        matrix = np.zeros((len(group_rows), len(group_cols)))
        for i, r in enumerate(group_rows):
            for column, value in rows[r].items():
                matrix[i, position_of[column]] = value
        # A hidden cell is fixed by the lines exactly when every solution of the homogeneous
        # system leaves it at zero: its column of the null-space basis is zero.
        _u, singular, vt = np.linalg.svd(matrix)
        rank = int((singular > 1e-9).sum())
        null_space = vt[rank:]
        for position, column in enumerate(group_cols):
            if null_space.shape[0] == 0 or np.abs(null_space[:, position]).max() < 1e-9:
                determined.append(hidden[column])
    return determined


def _groups(rows: list[dict[int, float]]) -> list[tuple[list[int], list[int]]]:
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    columns_of = [sorted(row) for row in rows]
    for columns in columns_of:
        for column in columns[1:]:
            parent[find(int(column))] = find(int(columns[0]))
    by_root: dict[int, tuple[list[int], set[int]]] = defaultdict(lambda: ([], set()))
    for r, columns in enumerate(columns_of):
        if columns:
            root = find(int(columns[0]))
            by_root[root][0].append(r)
            by_root[root][1].update(int(c) for c in columns)
    return [(rs, sorted(cs)) for rs, cs in by_root.values()]


def suppress(values: Mapping[Any, int], lines: list[Line]) -> dict[Any, str]:
    """The mark of every hidden cell ("<5" or "x"); cells not in the result are published."""
    marks: dict[Any, str] = {c: SMALL for c, v in values.items() if is_small(v)}
    lines_of: dict[Hashable, list[Line]] = defaultdict(list)
    for line in lines:
        for cell in (line.total, *line.parts):
            lines_of[cell].append(line)

    def hide(cell: Hashable) -> None:
        marks[cell] = SMALL if is_small(values[cell]) else WITHHELD

    def complement(line: Line) -> Hashable | None:
        """Hide one more cell of `line`: the smallest shown part of at least 5 (its mark says
        least), else any shown part, else the total; the cell hidden, or None."""
        shown = [p for p in line.parts if p not in marks]
        large = [p for p in shown if values[p] > SMALL_MAX]
        pool = large or shown
        if pool:
            cell = min(pool, key=lambda p: (values[p], repr(p)))
            hide(cell)
            return cell
        if line.total not in marks:
            hide(line.total)
            return line.total
        return None

    for _round in range(10_000):
        # The line rules first (cheap, and they settle most tables alone): a worklist of the
        # lines whose cells changed.
        pending = list(lines)
        while pending:
            line = pending.pop()
            if line_disclosures(line, values, marks):
                hidden = complement(line)
                if hidden is not None:
                    pending.extend(lines_of[hidden])
        determined = _exactly_determined(lines, values, marks)
        if not determined:
            return marks
        # Each cell the lines fix together gets one more hidden cell in one of its lines;
        # then everything is checked again.
        widened = False
        for cell in determined:
            for line in lines_of[cell]:
                if complement(line) is not None:
                    widened = True
                    break
        if not widened:
            break
    raise RuntimeError("suppression did not settle")


def audit(values: Mapping[Any, int], lines: list[Line], marks: Mapping[Any, str]) -> list[str]:
    """What an outsider could learn: every problem found, empty when none (for tests)."""
    problems = [
        f"{cell!r} is {value} but published"
        for cell, value in values.items()
        if is_small(value) and cell not in marks
    ]
    for line in lines:
        for cell in line_disclosures(line, values, marks):
            problems.append(f"{cell!r} follows from the total {line.total!r}")
    for cell in _exactly_determined(lines, values, marks):
        problems.append(f"{cell!r} follows from the lines taken together")
    return problems
