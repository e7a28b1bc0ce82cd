"""A CyberTipline import finds the clusters of the values it brings by two index look-ups: the
referrals holding the values (identifiers by kind and value), then those referrals' clusters (by
id). One statement joining identifiers to referrals made PostgreSQL expect thousands of rows and
hash every referral imported so far, for each 500 values of each batch: at 100,000 referrals
the import took twice as long on PostgreSQL as on SQLite (issue 14)."""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from muhafiz.core.permissions import SYSTEM
from muhafiz.intake import actions
from muhafiz.intake.models import CyberTip, TipCluster
from muhafiz.intake.tests.synthetic_tips import SyntheticTip, write_xml
from muhafiz.testing import People

pytestmark = pytest.mark.django_db


def _xml(tips: list[SyntheticTip]) -> io.BytesIO:
    text = io.StringIO()
    write_xml(text, tips)
    return io.BytesIO(text.getvalue().encode())


def test_clusters_are_found_without_joining_identifiers_to_referrals(people: People) -> None:
    actions.import_cybertips(
        SYSTEM,
        _xml(
            [
                SyntheticTip("5100001", screen_name="river_cat", city="Lahore"),
                SyntheticTip("5100002", ips=["198.51.100.7"], city="Lahore"),
                SyntheticTip("5100003", screen_name="alone", city="Lahore"),
            ]
        ),
    )
    with CaptureQueriesContext(connection) as queries:
        actions.import_cybertips(
            SYSTEM,
            _xml(
                [
                    # Bridges the first two referrals' clusters; the next joins the third's.
                    SyntheticTip("5100004", screen_name="RIVER_CAT", ips=["198.51.100.7"]),
                    SyntheticTip("5100005", screen_name="alone"),
                    SyntheticTip("5100006", screen_name="nobody_else"),
                ]
            ),
        )
    lookups = [
        q["sql"] for q in queries.captured_queries if 'FROM "intake_tipidentifier"' in q["sql"]
    ]
    assert lookups, "the import read no identifiers"
    joined = [sql for sql in lookups if "JOIN" in sql]
    assert joined == [], joined[0][:300]

    def cluster(report_id: str) -> int | None:
        return CyberTip.objects.get(report_id_ncmec=report_id).cluster_id

    assert cluster("5100001") == cluster("5100002") == cluster("5100004")
    assert cluster("5100003") == cluster("5100005") != cluster("5100001")
    assert cluster("5100006") not in {cluster("5100001"), cluster("5100003")}
    assert TipCluster.objects.get(pk=cluster("5100001") or 0).size == 3
    assert TipCluster.objects.get(pk=cluster("5100003") or 0).size == 2
