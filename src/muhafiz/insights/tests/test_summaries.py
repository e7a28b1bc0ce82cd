"""The summary job counts exactly the cases it may, per district, year and measure."""

from __future__ import annotations

from muhafiz.core.permissions import SYSTEM
from muhafiz.insights.actions import refresh_summaries
from muhafiz.insights.models import PublishedCell, SummaryCount
from muhafiz.insights.tests.conftest import Recorded


def _total(measure: str, **where: object) -> int:
    return sum(c.value for c in SummaryCount.objects.filter(measure=measure, dimension="", **where))


def test_only_cases_whose_victims_all_allow_statistics_are_counted(world: Recorded) -> None:
    refresh = refresh_summaries(SYSTEM)
    assert _total("reports_received") == len(world.counted)
    assert refresh.cases_counted == len(world.counted)
    assert refresh.cases_left_out == len(world.cases) - len(world.counted)
    # The refused case had a referral: it is not counted either.
    counted_referrals = sum(c.referrals.count() for c in world.counted)
    assert _total("referrals") == counted_referrals


def test_counts_per_district_and_year_match_the_cases(world: Recorded) -> None:
    refresh_summaries(SYSTEM)
    for case in world.counted:
        assert _total(
            "reports_received", district_id=case.district_id, year=case.reported_at.year
        ) == sum(
            1
            for c in world.counted
            if c.district_id == case.district_id and c.reported_at.year == case.reported_at.year
        )
    convictions = {
        c.pk for c in world.counted if c.stage_events.filter(outcome="conviction").exists()
    }
    assert _total("convictions") == len(convictions)


def test_published_cells_never_show_one_to_four(world: Recorded) -> None:
    refresh_summaries(SYSTEM)
    shown = list(PublishedCell.objects.values_list("shown", flat=True))
    assert shown
    assert not [s for s in shown if s in {"1", "2", "3", "4"}]
    assert "<5" in shown
