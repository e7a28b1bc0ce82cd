"""The staff overdue dashboard reads the summary tables and says the same as the live count."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from muhafiz.cases.models import Case, TeamMember
from muhafiz.catalogue.models import DeadlineRule
from muhafiz.core.permissions import SYSTEM
from muhafiz.insights.actions import refresh_overdue, refresh_summaries
from muhafiz.insights.tests.conftest import Recorded
from muhafiz.proceedings import selectors
from muhafiz.proceedings.models import Clock, StageEvent
from muhafiz.testing import People, drain_job_queues, signed_in


@pytest.fixture
def running(world: Recorded, people: People) -> list[Clock]:
    """Missed and nearly-due challan clocks on open cases in Lahore and Kasur, prosecutors on
    the Lahore ones."""
    rule = DeadlineRule.objects.get(code="challan_submitted")
    now = timezone.now()
    made = []
    for i, case in enumerate(c for c in world.cases[:30] if c.status == "open"):
        fir = StageEvent.objects.filter(case=case, code="fir_registered").first()
        if fir is None or Clock.objects.filter(rule=rule, start_event=fir).exists():
            continue
        missed = i % 3 != 0
        due = now - dt.timedelta(days=2) if missed else now + dt.timedelta(days=1)
        made.append(
            Clock.objects.create(
                case=case,
                rule=rule,
                started_at=due - dt.timedelta(days=14),
                due_at=due,
                due_soon_at=due - dt.timedelta(days=3),
                state="missed" if missed else "due_soon",
                start_event=fir,
            )
        )
        if case.district.code == "LHR":
            TeamMember.objects.get_or_create(
                case=case, user=people.prosecutor, team_role="prosecutor"
            )
    assert len(made) > 5
    return made


def _same(live: selectors.Dashboard, summary: selectors.Dashboard) -> None:
    assert summary.overdue == live.overdue
    assert [(d.rule_code, d.count, d.on_time) for d in summary.durations] == [
        (d.rule_code, d.count, d.on_time) for d in live.durations
    ]
    for a, b in zip(live.durations, summary.durations, strict=True):
        assert a.median is not None and b.median is not None
        assert abs(b.median - a.median) <= a.median * 0.06 + dt.timedelta(minutes=1)
    assert summary.stalled == live.stalled


def test_the_summary_says_what_the_live_count_says(running: list[Clock], people: People) -> None:
    refresh_summaries(SYSTEM)
    for person in (people.analyst, people.lahore_supervisor):
        for filters in (
            selectors.DashboardFilter(),
            selectors.DashboardFilter(stage="challan_submitted"),
            selectors.DashboardFilter(district_id=running[0].case.district_id),
        ):
            live = selectors.dashboard(person, filters, use_summary=False)
            summarised = selectors.summarised_dashboard(person, filters)
            assert summarised is not None
            _same(live, summarised[0])
    lahore = selectors.summarised_dashboard(people.lahore_supervisor, selectors.DashboardFilter())
    assert lahore is not None
    assert [row.label for row in lahore[0].overdue["district"]] == ["Lahore"]


def test_a_date_filter_is_counted_live(running: list[Clock], people: People) -> None:
    refresh_summaries(SYSTEM)
    since = selectors.DashboardFilter(since=timezone.localdate() - dt.timedelta(days=30))
    assert selectors.summarised_dashboard(people.analyst, since) is None
    board, _as_of = selectors.cached_dashboard(people.analyst, since)
    assert board.overdue["district"]


def test_the_page_reads_the_summary_and_the_overdue_refresh_brings_it_up_to_date(
    running: list[Clock], people: People
) -> None:
    client = signed_in(people.analyst)
    before = refresh_overdue(SYSTEM)
    page = client.get("/proceedings/dashboard/").content.decode()
    assert timezone.localtime(before.finished_at).strftime("%Y-%m-%d %H:%M") in page
    total = sum(
        row.overdue
        for row in selectors.dashboard(people.analyst, selectors.DashboardFilter()).overdue[
            "district"
        ]
    )
    running[0].case.status = "closed"
    running[0].case.save(update_fields=["status"])
    assert (
        sum(
            row.overdue
            for row in selectors.dashboard(people.analyst, selectors.DashboardFilter()).overdue[
                "district"
            ]
        )
        == total
    )  # the summary stands until the next refresh
    refresh_overdue(SYSTEM)
    after = sum(
        row.overdue
        for row in selectors.dashboard(people.analyst, selectors.DashboardFilter()).overdue[
            "district"
        ]
    )
    assert after == total - (1 if running[0].state == "missed" else 0)
    assert Case.objects.filter(status="closed").exists()


def test_the_page_states_how_close_the_summarised_durations_are(
    running: list[Clock], people: People
) -> None:
    client = signed_in(people.analyst)
    live = client.get("/proceedings/dashboard/").content.decode()
    assert 'data-testid="duration-bound"' not in live  # counted live: exact
    refresh_overdue(SYSTEM)
    page = client.get("/proceedings/dashboard/").content.decode()
    assert "within about 5 % of the exact figure" in page


def test_the_clock_job_queues_the_overdue_refresh_and_a_worker_brings_the_dashboard_up_to_date(
    running: list[Clock],
    people: People,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from muhafiz.core.jobs import uses_rq
    from muhafiz.proceedings.actions import evaluate_clocks

    refresh_overdue(SYSTEM)
    nearly = next(c for c in running if c.state == "due_soon")
    Clock.objects.filter(pk=nearly.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))

    def missed() -> int:
        board = selectors.dashboard(people.analyst, selectors.DashboardFilter())
        return sum(row.overdue for row in board.overdue["district"])

    before = missed()
    with django_capture_on_commit_callbacks(execute=True):
        evaluate_clocks(SYSTEM)
    if not uses_rq():
        from django_tasks_db.models import DBTaskResult

        [queued] = DBTaskResult.objects.filter(task_path__endswith="refresh_overdue_task")
        assert queued.queue_name == "clocks"
    assert missed() == before  # the tables stand until the queued refresh runs
    drain_job_queues(monkeypatch)
    assert missed() > before  # this clock, and any other the job found past its deadline
    assert missed() == sum(
        row.overdue
        for row in selectors.dashboard(
            people.analyst, selectors.DashboardFilter(), use_summary=False
        ).overdue["district"]
    )


def test_each_jurisdiction_reads_its_own_precomputed_board_in_two_queries(
    running: list[Clock], people: People, django_assert_max_num_queries: Any
) -> None:
    from muhafiz.accounts.roles import JurisdictionLevel, Role
    from muhafiz.insights.models import OverdueBoard
    from muhafiz.testing import make_user

    refresh_overdue(SYSTEM)
    assert OverdueBoard.objects.filter(scope="PK").exists()
    punjab = make_user(
        "analyst.punjab", Role.ANALYST, district_code="LHR", level=JurisdictionLevel.PROVINCE
    )
    kasur = make_user("sup.kasur", Role.SUPERVISOR, district_code="KSR")
    everything = selectors.DashboardFilter()
    for person in (people.analyst, punjab, people.lahore_supervisor, kasur):
        with django_assert_max_num_queries(2):
            summarised = selectors.summarised_dashboard(person, everything)
        assert summarised is not None
        _same(selectors.dashboard(person, everything, use_summary=False), summarised[0])
    lahore_rows = selectors.summarised_dashboard(people.lahore_supervisor, everything)
    assert lahore_rows is not None
    assert [row.label for row in lahore_rows[0].overdue["district"]] == ["Lahore"]
    # Another district's board is not the Lahore supervisor's to read: nothing, as counted live.
    elsewhere = selectors.DashboardFilter(district_id=kasur.district_id)
    summarised = selectors.summarised_dashboard(people.lahore_supervisor, elsewhere)
    assert summarised is not None
    assert not any(summarised[0].overdue.values()) and not summarised[0].stalled
    _same(
        selectors.dashboard(people.lahore_supervisor, elsewhere, use_summary=False), summarised[0]
    )


@pytest.mark.parametrize("summarised", [False, True], ids=["live", "from the summary"])
def test_names_on_the_dashboard_are_in_the_page_language(
    running: list[Clock], people: People, summarised: bool
) -> None:
    """Districts and deadlines on the overdue dashboard in Urdu on an Urdu page, whether the
    figures are counted live or read from the summary (which keeps English names only)."""
    from django.conf import settings

    from muhafiz.catalogue.models import District

    if summarised:
        refresh_overdue(SYSTEM)
    client = signed_in(people.analyst)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    page = client.get("/proceedings/dashboard/").content.decode()
    # Stage durations name the deadlines of stopped clocks; the overdue table names districts.
    rules = DeadlineRule.objects.filter(
        pk__in=Clock.objects.filter(stopped_at__isnull=False).values("rule")
    )
    lahore = District.objects.get(code="LHR")
    assert rules and lahore.name_ur
    assert all(rule.name_ur in page and rule.name not in page for rule in rules)
    assert lahore.name_ur in page
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get("/proceedings/dashboard/").content.decode()
    assert all(rule.name in english for rule in rules) and lahore.name in english
