"""Charts drawn on the server as accessible SVG: no script, no external file, a title and a
description for screen readers, and the same figures as the table printed beside them.

A suppressed figure ("<5" or "x") is never drawn to scale: its bar is absent and its mark is
written where the bar would stand, so no chart says more than its table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 640
BAR_AREA = 180
PALETTE = ("#0d5c55", "#e0a526", "#5a6675", "#8c3b2a", "#2f6db3", "#6a8f2b", "#9b59b6")
_ids = count(1)


@dataclass(frozen=True)
class Point:
    label: str
    shown: str  # a number, or "<5" / "x"

    @property
    def number(self) -> int | None:
        return int(self.shown) if self.shown.isdigit() else None


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def bar_chart(title: str, description: str, points: Sequence[Point]) -> SafeString:
    """Vertical bars, one per point, with its figure written above it."""
    uid = next(_ids)
    numbers = [p.number for p in points if p.number is not None]
    top = max(numbers, default=0) or 1
    slot = WIDTH / max(len(points), 1)
    bar = max(slot * 0.6, 4)
    height = BAR_AREA + 70
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-labelledby="chart-{uid}-title chart-{uid}-desc">',
        f'<title id="chart-{uid}-title">{escape(title)}</title>',
        f'<desc id="chart-{uid}-desc">{escape(description)}</desc>',
        f'<line x1="0" y1="{BAR_AREA + 20}" x2="{WIDTH}" y2="{BAR_AREA + 20}" stroke="#5a6675"/>',
    ]
    for i, p in enumerate(points):
        x = i * slot + (slot - bar) / 2
        centre = i * slot + slot / 2
        if p.number is not None:
            h = BAR_AREA * p.number / top
            y = BAR_AREA + 20 - h
            parts.append(
                f'<rect x="{_fmt(x)}" y="{_fmt(y)}" width="{_fmt(bar)}" height="{_fmt(h)}" '
                f'fill="{PALETTE[0]}" data-shown="{escape(p.shown)}"/>'
            )
            label_y = y - 4
        else:
            label_y = BAR_AREA + 14
        parts.append(
            f'<text x="{_fmt(centre)}" y="{_fmt(label_y)}" text-anchor="middle" '
            f'font-size="13" direction="ltr" class="chart__value">{escape(p.shown)}</text>'
        )
        parts.append(
            f'<text x="{_fmt(centre)}" y="{BAR_AREA + 38}" text-anchor="middle" font-size="12" '
            f'class="chart__label">{escape(p.label[:18])}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def line_chart(
    title: str, description: str, xs: Sequence[str], series: Sequence[tuple[str, Sequence[str]]]
) -> SafeString:
    """One line per series over `xs` (years); a suppressed figure breaks the line and is
    written as its mark on the axis, never placed at a height."""
    uid = next(_ids)
    numbers = [int(v) for _name, values in series for v in values if v.isdigit()]
    top = max(numbers, default=0) or 1
    step = (WIDTH - 80) / max(len(xs) - 1, 1)
    height = BAR_AREA + 60 + 18 * len(series)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-labelledby="chart-{uid}-title chart-{uid}-desc">',
        f'<title id="chart-{uid}-title">{escape(title)}</title>',
        f'<desc id="chart-{uid}-desc">{escape(description)}</desc>',
        f'<line x1="40" y1="{BAR_AREA + 20}" x2="{WIDTH - 40}" y2="{BAR_AREA + 20}" '
        'stroke="#5a6675"/>',
    ]
    for i, x in enumerate(xs):
        parts.append(
            f'<text x="{_fmt(40 + i * step)}" y="{BAR_AREA + 38}" text-anchor="middle" '
            f'font-size="12" class="chart__label">{escape(x)}</text>'
        )
    for s, (name, values) in enumerate(series):
        colour = PALETTE[s % len(PALETTE)]
        run: list[str] = []
        for i, value in enumerate(values):
            cx = 40 + i * step
            if value.isdigit():
                cy = BAR_AREA + 20 - BAR_AREA * int(value) / top
                run.append(f"{_fmt(cx)},{_fmt(cy)}")
                parts.append(
                    f'<circle cx="{_fmt(cx)}" cy="{_fmt(cy)}" r="3" fill="{colour}" '
                    f'data-shown="{escape(value)}"/>'
                )
            else:
                if len(run) > 1:
                    parts.append(
                        f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" '
                        'stroke-width="2"/>'
                    )
                run = []
                parts.append(
                    f'<text x="{_fmt(cx)}" y="{BAR_AREA + 14}" text-anchor="middle" '
                    f'font-size="11" fill="{colour}" direction="ltr" class="chart__value">'
                    f"{escape(value)}</text>"
                )
        if len(run) > 1:
            parts.append(
                f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" '
                'stroke-width="2"/>'
            )
        legend_y = BAR_AREA + 58 + 18 * s
        parts.append(
            f'<rect x="40" y="{legend_y - 10}" width="12" height="12" fill="{colour}"/>'
            f'<text x="58" y="{legend_y}" font-size="12" class="chart__legend">'
            f"{escape(name)}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
