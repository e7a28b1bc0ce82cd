"""The public dashboard: open to all, every published figure safe, consent respected.

The enumeration test reads every public representation (every area's page in every year, with
its tables and charts, the CSV files and the JSON) and proves that no figure is 1–4 and that no
hidden figure can be worked out from the totals published beside it.
"""

from __future__ import annotations

import csv
import html as html_text
import io
import json
import re
from typing import Any

from django.test import Client

from muhafiz.core.permissions import SYSTEM
from muhafiz.insights.actions import refresh_summaries
from muhafiz.insights.models import PowerUse, SummaryCount
from muhafiz.insights.publish import Geography, cell_values
from muhafiz.insights.suppression import SMALL, WITHHELD, audit
from muhafiz.insights.tests.conftest import VICTIM_NAME, Recorded, at, make_case

SMALL_NUMBERS = {"1", "2", "3", "4"}


def _json(client: Client) -> dict[str, Any]:
    response = client.get("/statistics/data.json")
    assert response.status_code == 200
    data: dict[str, Any] = json.loads(response.content)
    return data


def _figures_in_page(html: str) -> list[str]:
    """Every count the page prints in a table cell or draws in a chart."""
    cells = re.findall(r'class="n" data-shown="([^"]*)">([^<]*)<', html)
    for attribute, text in cells:
        assert attribute == text
    drawn = re.findall(r'data-shown="([^"]*)"', html)
    written = re.findall(r'class="chart__value">([^<]*)<', html)
    found = [text for _a, text in cells] + drawn + written
    return [html_text.unescape(f) for f in found]


def test_the_dashboard_opens_without_signing_in(world: Recorded, client: Client) -> None:
    refresh_summaries(SYSTEM)
    response = client.get("/statistics/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script" not in html.split("</head>", 1)[1]  # no script in the page body
    assert "<svg" in html
    assert 'role="img"' in html
    assert response["Cache-Control"].startswith("public")


def test_every_published_figure_is_safe(world: Recorded, client: Client) -> None:
    refresh_summaries(SYSTEM)
    data = _json(client)
    published = {
        (c["year"], c["area_code"], c["measure"], c["dimension"], c["category"]): c["value"]
        for c in data["cells"]
    }
    # 1. No figure anywhere is 1–4: JSON, CSV, every page with its charts.
    assert not [k for k, v in published.items() if v in SMALL_NUMBERS]
    rows = list(csv.DictReader(io.StringIO(client.get("/statistics/data.csv").content.decode())))
    assert len(rows) == len(published)
    assert "0" not in published.values()  # zeros are not listed; the dictionary says so
    for row in rows:
        key = (
            int(row["year"]),
            row["area_code"],
            row["measure"],
            row["dimension"],
            row["category"],
        )
        assert published[key] == row["value"]
    durations = client.get("/statistics/stage-durations.csv").content.decode()
    assert "<5" not in durations
    geo = Geography.load()
    areas = ["PK", *geo.districts_of, *geo.province_of]
    years = sorted({k[0] for k in published})
    pages = 0
    for year in years:
        for area in areas:
            html = client.get(f"/statistics/?area={area}&year={year}").content.decode()
            figures = _figures_in_page(html)
            assert not [f for f in figures if f in SMALL_NUMBERS], (area, year)
            pages += 1
    assert pages > 100
    # 2. What the page shows is what the open data says.
    html = client.get(f"/statistics/?area=LHR&year={years[-1]}").content.decode()
    shown = re.findall(r'<tfoot><tr data-area="LHR">.*?</tr>', html, re.S)[0]
    lahore = [html_text.unescape(v) for v in re.findall(r'data-shown="([^"]*)"', shown)]
    assert lahore == [
        published.get((years[-1], "LHR", m, "", ""), "0")
        for m in (
            "reports_received",
            "firs",
            "challans",
            "trials_concluded",
            "convictions",
            "acquittals",
            "referrals",
        )
    ]
    # 3. Nothing hidden can be worked out: the published marks, against the true figures.
    values, lines = cell_values(SummaryCount.objects.all(), PowerUse.objects.all(), geo)
    marks = {k: v for k, v in published.items() if v in {SMALL, WITHHELD}}
    for key, value in published.items():
        if key not in marks:
            assert str(values[key]) == value, key
    assert SMALL in marks.values()
    assert audit(values, lines, marks) == []


def test_a_case_without_statistics_consent_is_not_counted(world: Recorded, client: Client) -> None:
    refresh_summaries(SYSTEM)
    before = _json(client)["cells"]
    lahore = world.cases[0].district
    make_case(
        lahore,
        world.cases[0].agency,
        at(2026, 4),
        victims=(("girl", "6-10", False),),
        challan_after=__import__("datetime").timedelta(days=3),
        judgment="conviction",
        referral=True,
    )
    refresh_summaries(SYSTEM)
    assert _json(client)["cells"] == before
    make_case(lahore, world.cases[0].agency, at(2026, 4), victims=(("girl", "6-10", True),))
    refresh_summaries(SYSTEM)
    assert _json(client)["cells"] != before


def test_no_row_is_about_one_case_or_one_child(world: Recorded, client: Client) -> None:
    refresh_summaries(SYSTEM)
    everything = (
        client.get("/statistics/data.json").content.decode()
        + client.get("/statistics/data.csv").content.decode()
        + client.get("/statistics/").content.decode()
    )
    assert VICTIM_NAME not in everything
    for case in world.cases:
        assert case.reference not in everything
        for victim in case.victims.all():
            assert victim.pseudonym not in everything


def test_the_data_dictionary_explains_every_column(world: Recorded, client: Client) -> None:
    refresh_summaries(SYSTEM)
    data = _json(client)
    columns = set(data["cells"][0])
    assert columns <= set(data["dictionary"]["columns"])
    page = client.get("/statistics/dictionary/").content.decode()
    for column in columns:
        assert f"<code>{column}</code>" in page
    assert {c["measure"] for c in data["cells"]} <= set(data["dictionary"]["measures"])


def test_an_empty_installation_says_nothing_is_published(client: Client, db: None) -> None:
    response = client.get("/statistics/")
    assert response.status_code == 200
    assert b"no-figures" in response.content
    assert _json(client)["cells"] == []
