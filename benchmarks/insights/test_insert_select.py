"""The insights benchmark's raw inserts list every column of their models, so a column added to
a model later fills itself in (its default) or stops the benchmark naming it, and the
benchmark's smoke test is part of the suite (`make test`), so that a broken generator fails CI."""

from __future__ import annotations

import re
import tomllib

import pytest
from benchmarks.cases.test_cases_bench_smoke import ROOT
from benchmarks.pg import insert_select

from muhafiz.cases.models import Case, Referral, Victim
from muhafiz.proceedings.models import CaseProgress, Clock, StageEvent


def _columns(sql: str) -> list[str]:
    match = re.match(r"INSERT INTO \w+ \(([^)]*)\)", sql)
    assert match is not None, sql
    return [c.strip() for c in match.group(1).split(",")]


def _not_null(model: type) -> set[str]:
    return {
        f.column
        for f in model._meta.concrete_fields  # type: ignore[attr-defined]
        if not f.null and not f.primary_key and not f.has_db_default()
    }


@pytest.mark.parametrize(
    ("model", "given"),
    [
        (StageEvent, {"case_id": "case_id", "code": "'fir_registered'", "occurred_at": "now()"}),
        (
            CaseProgress,
            {
                "case_id": "case_id",
                "stage": "'x'",
                "stage_since": "now()",
                "last_event_at": "now()",
            },
        ),
        (Victim, {"case_id": "c.id", "pseudonym": "'V'"}),
    ],
)
def test_an_insert_lists_every_not_null_column_even_those_the_generator_leaves_out(
    model: type, given: dict[str, str]
) -> None:
    sql = insert_select(model, given, "FROM somewhere")
    assert _not_null(model) <= set(_columns(sql))


def test_a_column_the_generator_leaves_out_gets_what_django_would_save() -> None:
    given = {"case_id": "case_id", "stage": "'x'", "stage_since": "now()", "last_event_at": "now()"}
    sql = insert_select(CaseProgress, given, "FROM t")
    columns = _columns(sql)
    select = sql.split("\nSELECT ", 1)[1].split("\nFROM", 1)[0]
    # The expressions follow the columns; 'adjournments' (added after the generator was written)
    # is 0, its default, and a voided event's reason is '' as Django saves it.
    values = dict(zip(columns, [v.strip() for v in select.split(", ")], strict=True))
    assert values["adjournments"] == "0"
    sql = insert_select(StageEvent, {"case_id": "1", "code": "'x'", "occurred_at": "now()"}, "")
    assert "void_reason" in _columns(sql)
    assert "recorded_at" in _columns(sql)  # auto_now_add: now()


def test_a_required_column_without_a_default_stops_the_benchmark_naming_it() -> None:
    with pytest.raises(SystemExit, match=r"proceedings_clock\.rule_id is NOT NULL"):
        insert_select(Clock, {"case_id": "1", "started_at": "now()"}, "")
    with pytest.raises(SystemExit, match=r"cases_referral\.victim_id"):
        insert_select(Referral, {"case_id": "1"}, "")


def test_a_column_the_model_does_not_have_stops_the_benchmark() -> None:
    with pytest.raises(SystemExit, match="no column no_such_column"):
        insert_select(Case, {"no_such_column": "1"}, "")


def test_the_benchmark_smoke_tests_are_part_of_the_suite() -> None:
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "benchmarks" in options["testpaths"]
    make_test = (ROOT / "Makefile").read_text().split("\ntest:", 1)[1].split("\n\n", 1)[0]
    for command in (options["addopts"], make_test):  # slow tests are not deselected
        assert "slow" not in command
    assert (ROOT / "benchmarks" / "insights" / "test_insights_bench_smoke.py").exists()
