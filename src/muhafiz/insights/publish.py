"""From the staff summary rows to the public cells: add up per area, suppress small counts over
every table at once, and compute the published stage durations.

Areas: "PK" (Pakistan), each province by its code, each district by its code, and "ZZ" for
counts whose district is not known (they add to Pakistan's total only).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from muhafiz.catalogue.models import District, Province
from muhafiz.insights.measures import (
    DIMENSIONS,
    MEASURE_CODES,
    POWERS,
    RUNNING_MISSED,
    percentile_days,
)
from muhafiz.insights.models import (
    PowerUse,
    PublishedCell,
    PublishedDuration,
    SummaryCount,
    SummaryDuration,
)
from muhafiz.insights.suppression import SMALL_MAX, Line, is_small, suppress

NATIONAL = "PK"
UNKNOWN_DISTRICT = "ZZ"
NATIONAL_STAFF = "NAT"  # watchers: national staff, clients without a province, the system
POWER_MEASURE = "power"
MIN_CLOCKS = SMALL_MAX + 1

CellKey = tuple[int, str, str, str, str]  # year, area, measure, dimension, category


@dataclass(frozen=True)
class Geography:
    province_of: dict[str, str]  # district code → province code
    districts_of: dict[str, list[str]]  # province code → district codes
    district_code: dict[int, str]  # district id → code
    province_code: dict[int, str]  # province id → code

    @classmethod
    def load(cls) -> Geography:
        provinces = dict(Province.objects.values_list("pk", "code"))
        province_of, districts_of, district_code = {}, defaultdict(list), {}
        for pk, code, province_id in District.objects.values_list("pk", "code", "province_id"):
            district_code[pk] = code
            province_of[code] = provinces[province_id]
            districts_of[provinces[province_id]].append(code)
        for code in provinces.values():
            districts_of.setdefault(code, [])
        return cls(province_of, dict(districts_of), district_code, provinces)

    def areas_of(self, district_id: int | None) -> tuple[str, ...]:
        """Every area a district's count adds to, smallest first."""
        code = self.district_code.get(district_id) if district_id is not None else None
        if code is None:
            return (UNKNOWN_DISTRICT, NATIONAL)
        return (code, self.province_of[code], NATIONAL)


def cell_values(
    counts: Iterable[SummaryCount], powers: Iterable[PowerUse], geo: Geography
) -> tuple[dict[CellKey, int], list[Line]]:
    """Every public cell's true value (zeros included) and the lines that tie them."""
    years = sorted({c.year for c in counts} | {p.year for p in powers})
    areas = [NATIONAL, UNKNOWN_DISTRICT, *geo.districts_of, *geo.province_of]
    keys: list[tuple[str, str, str]] = [(m, "", "") for m in MEASURE_CODES]
    keys.append(("victims", "", ""))
    for dimension in DIMENSIONS:
        keys += [(dimension.measure, dimension.code, c) for c, _label in dimension.categories]
    values: dict[CellKey, int] = {(y, a, *k): 0 for y in years for a in areas for k in keys}
    for c in counts:
        for area in geo.areas_of(c.district_id):
            if c.measure == "victims":
                values[(c.year, area, "victims", c.dimension, c.category)] += c.value
                if c.dimension == "gender":  # every victim has exactly one gender row
                    values[(c.year, area, "victims", "", "")] += c.value
                continue
            values[(c.year, area, c.measure, "", "")] += c.value
            if c.measure == "reports_received":
                values[(c.year, area, c.measure, "offence_group", c.offence_group)] += c.value

    lines: list[Line] = []
    for y in years:
        for k in keys:
            for province, districts in geo.districts_of.items():
                lines.append(Line((y, province, *k), tuple((y, d, *k) for d in districts)))
            parts = [*geo.districts_of, UNKNOWN_DISTRICT]
            lines.append(Line((y, NATIONAL, *k), tuple((y, p, *k) for p in parts)))
        for area in areas:
            for dimension in DIMENSIONS:
                lines.append(
                    Line(
                        (y, area, dimension.measure, "", ""),
                        tuple(
                            (y, area, dimension.measure, dimension.code, c)
                            for c, _label in dimension.categories
                        ),
                    )
                )

    power_areas = [*geo.districts_of, NATIONAL_STAFF]
    for y in years:
        for power in POWERS:
            for area in [NATIONAL, *power_areas]:
                values[(y, area, POWER_MEASURE, power.code, "")] = 0
            lines.append(
                Line(
                    (y, NATIONAL, POWER_MEASURE, power.code, ""),
                    tuple((y, a, POWER_MEASURE, power.code, "") for a in power_areas),
                )
            )
    for p in powers:
        area = geo.province_code.get(p.province_id or 0, NATIONAL_STAFF)
        values[(p.year, area, POWER_MEASURE, p.power, "")] += p.value
        values[(p.year, NATIONAL, POWER_MEASURE, p.power, "")] += p.value
    return values, lines


def published_cells(values: dict[CellKey, int], lines: list[Line]) -> list[PublishedCell]:
    """The cells to store: every one that is not a plain 0 (a cell not stored reads as 0)."""
    marks = suppress(values, lines)
    return [
        PublishedCell(
            year=key[0],
            area=key[1],
            measure=key[2],
            dimension=key[3],
            category=key[4],
            shown=marks.get(key, str(value)),
        )
        for key, value in values.items()
        if value or key in marks
    ]


def published_durations(
    durations: Iterable[SummaryDuration], geo: Geography
) -> list[PublishedDuration]:
    bins: dict[tuple[int, str, str], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    met: dict[tuple[int, str, str], int] = defaultdict(int)
    for d in durations:
        for area in geo.areas_of(d.district_id):
            key = (d.year, area, d.rule_code)
            bins[key][d.bin] += d.clocks
            met[key] += d.met
    out = []
    for (year, area, rule), binned in bins.items():
        total = sum(binned.values())
        late = total - met[(year, area, rule)]
        timed = {b: n for b, n in binned.items() if b != RUNNING_MISSED}
        enough = sum(timed.values()) >= MIN_CLOCKS
        share = None
        if total >= MIN_CLOCKS and not is_small(met[(year, area, rule)]) and not is_small(late):
            share = round(100 * met[(year, area, rule)] / total)
        out.append(
            PublishedDuration(
                year=year,
                area=area,
                rule_code=rule,
                median_days=percentile_days(timed, 0.5) if enough else None,
                p90_days=percentile_days(timed, 0.9) if enough else None,
                met_percent=share,
            )
        )
    return out
