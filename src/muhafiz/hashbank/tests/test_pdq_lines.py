"""The common PDQ-list lines are read without the general line parser (a million-line list in
seconds); what comes out must be what `PdqList.parse_line` makes, line for line, bad lines and
repeats included."""

from __future__ import annotations

from pathlib import Path

from muhafiz.banks.formats.pdqlist import PdqList
from muhafiz.banks.model import HashListError
from muhafiz.hashbank.hashlists import CheckResult, iter_checked

A, B, C = "ab" * 32, "cd" * 32, "EF" * 32


def _by_the_line_parser(lines: list[str]) -> list[object]:
    out: list[object] = []
    for number, text in enumerate(lines, start=1):
        try:
            out.append(PdqList().parse_line(text, "x", number, {}))
        except HashListError as exc:
            out.append(exc.message)
    return out


def test_plain_pdq_lines_read_as_the_line_parser_reads_them(tmp_path: Path) -> None:
    lines = [A, f"{B},100", f"{C},007", f"{A.upper()},0", f"{B},5,a note", f"{C}\t90"]
    path = tmp_path / "list.pdq"
    path.write_text("\n".join(lines) + "\n")
    result = CheckResult(format="pdq")
    entries = list(iter_checked(path, PdqList(), result.add_error, result.count_repeat))
    expected = _by_the_line_parser(lines)
    # Repeats: the fourth line is the first's hash with details (kept: the first had none); the
    # fifth and sixth repeat the second and third with the same facts (dropped, counted).
    assert entries == [expected[0], expected[1], expected[2], expected[3]]
    assert (result.repeats, result.bad) == (2, 0)


def test_a_quality_past_100_is_named_as_the_line_parser_names_it(tmp_path: Path) -> None:
    lines = [f"{A},101", f"{B},1000", f"{C},50"]
    path = tmp_path / "list.pdq"
    path.write_text("\n".join(lines) + "\n")
    result = CheckResult(format="pdq")
    entries = list(iter_checked(path, PdqList(), result.add_error))
    expected = _by_the_line_parser(lines)
    assert entries == [expected[2]]
    assert [e["message"] for e in result.errors] == expected[:2]
    assert [e["line"] for e in result.errors] == [1, 2]
