"""Charts drawn on the server as accessible SVG: no script, no external file, a title and a
description for screen readers, and the same figures as the table printed beside them.

A suppressed figure ("<5" or "x") is never drawn to scale: its bar is absent and its mark is
written where the bar would stand, so no chart says more than its table.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language_bidi

WIDTH = 400
BAR_AREA = 180
PALETTE = ("#0d5c55", "#e0a526", "#5a6675", "#8c3b2a", "#2f6db3", "#6a8f2b", "#9b59b6")
# A label's line: long enough for most labels at this width, wrapped beyond (never cut).
LABEL_CHARS = 52
# A label line's height: Urdu's Nastaliq letters reach far above and below their line.
LINE = {"ltr": 18, "rtl": 38}
PAD = 6
_ids = count(1)


@dataclass(frozen=True)
class Point:
    label: str
    shown: str  # a number, or "<5" / "x"

    @property
    def number(self) -> int | None:
        return int(self.shown) if self.shown.isdigit() else None


class _Side:
    """Where a line of text starts in the reading direction of the page: the left edge in
    English, the right edge in Urdu, so that a label grows into the chart, never out of it."""

    def __init__(self) -> None:
        self.rtl = get_language_bidi()
        self.line = LINE["rtl" if self.rtl else "ltr"]

    def x(self, offset: float) -> float:
        return WIDTH - offset if self.rtl else offset

    def text(self, offset: float, y: float, body: str, css: str, size: int = 13) -> str:
        """Text anchored at `offset` from the start edge, in the page's direction; a body of
        several lines (label_lines) is written line under line."""
        direction = "rtl" if self.rtl else "ltr"
        return (
            f'<text x="{_fmt(self.x(offset))}" y="{_fmt(y)}" text-anchor="start" '
            f'direction="{direction}" font-size="{size}" class="{css}">{body}</text>'
        )


def _open_svg(uid: int, height: float) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" '
        f'viewBox="0 0 {WIDTH} {_fmt(height)}" role="img" '
        f'aria-labelledby="chart-{uid}-title chart-{uid}-desc">'
    )


def label_lines(label: str) -> list[str]:
    """A label cut into lines at spaces, none longer than LABEL_CHARS (a single longer word
    stays whole); nothing is dropped."""
    return textwrap.wrap(label, LABEL_CHARS, break_long_words=False) or [""]


def _label(side: _Side, offset: float, y: float, lines: list[str], css: str) -> str:
    body = "".join(
        f'<tspan x="{_fmt(side.x(offset))}" dy="{0 if i == 0 else side.line}">'
        f"{escape(line)}</tspan>"
        for i, line in enumerate(lines)
    )
    return side.text(offset, y, body, css)


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def bar_chart(title: str, description: str, points: Sequence[Point]) -> SafeString:
    """One bar per point, across the chart: its label written whole above it (wrapped, never
    cut or overlapping the next), its figure after its end; in Urdu the bars grow from the
    right edge."""
    uid = next(_ids)
    side = _Side()
    numbers = [p.number for p in points if p.number is not None]
    top = max(numbers, default=0) or 1
    longest = max((len(p.shown) for p in points), default=1)
    span = WIDTH - 2 * PAD - 9 * longest - 8  # room for the figure after the longest bar
    bar = 14
    rows = []
    y: float = PAD
    for p in points:
        lines = label_lines(p.label)
        label_y = y + side.line * 0.68
        bar_y = y + side.line * len(lines) + 2
        rows.append((p, lines, label_y, bar_y))
        y = bar_y + bar + side.line * 0.5
    height = y + PAD
    parts = [
        _open_svg(uid, height),
        f'<title id="chart-{uid}-title">{escape(title)}</title>',
        f'<desc id="chart-{uid}-desc">{escape(description)}</desc>',
    ]
    for p, lines, label_y, bar_y in rows:
        parts.append(_label(side, PAD, label_y, lines, "chart__label"))
        length = 0.0
        if p.number is not None:
            length = max(span * p.number / top, 1 if p.number else 0)
            x = side.x(PAD + length) if side.rtl else PAD
            parts.append(
                f'<rect x="{_fmt(x)}" y="{_fmt(bar_y)}" width="{_fmt(length)}" height="{bar}" '
                f'fill="{PALETTE[0]}" data-shown="{escape(p.shown)}"/>'
            )
        # The figure, after the bar's end (where a suppressed bar would end: at its start).
        parts.append(
            f'<text x="{_fmt(side.x(PAD + length + 4))}" y="{_fmt(bar_y + bar - 2)}" '
            f'text-anchor="{"end" if side.rtl else "start"}" font-size="13" direction="ltr" '
            f'class="chart__value">{escape(p.shown)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def line_chart(
    title: str, description: str, xs: Sequence[str], series: Sequence[tuple[str, Sequence[str]]]
) -> SafeString:
    """One line per series over `xs` (years, left to right in both languages); a suppressed
    figure breaks the line and is written as its mark on the axis, never placed at a height.
    The legend is a list under the axis, each name whole (wrapped) from the page's start edge."""
    uid = next(_ids)
    side = _Side()
    numbers = [int(v) for _name, values in series for v in values if v.isdigit()]
    top = max(numbers, default=0) or 1
    left, right = 30, WIDTH - 30
    step = (right - left) / max(len(xs) - 1, 1)
    legend = []
    y: float = BAR_AREA + 52
    for s, (name, _values) in enumerate(series):
        lines = label_lines(name)
        legend.append((s, lines, y))
        y += side.line * len(lines) + 4
    height = y + PAD
    parts = [
        _open_svg(uid, height),
        f'<title id="chart-{uid}-title">{escape(title)}</title>',
        f'<desc id="chart-{uid}-desc">{escape(description)}</desc>',
        f'<line x1="{left}" y1="{BAR_AREA + 20}" x2="{right}" y2="{BAR_AREA + 20}" '
        'stroke="#5a6675"/>',
    ]
    for i, x in enumerate(xs):
        parts.append(
            f'<text x="{_fmt(left + i * step)}" y="{BAR_AREA + 38}" text-anchor="middle" '
            f'font-size="12" direction="ltr" class="chart__axis">{escape(x)}</text>'
        )
    for s, (_name, values) in enumerate(series):
        colour = PALETTE[s % len(PALETTE)]
        run: list[str] = []
        for i, value in enumerate(values):
            cx = left + i * step
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
                # Each series' mark on its own line above the axis, never on another's.
                parts.append(
                    f'<text x="{_fmt(cx)}" y="{BAR_AREA + 14 - 14 * s}" text-anchor="middle" '
                    f'font-size="11" fill="{colour}" direction="ltr" class="chart__value">'
                    f"{escape(value)}</text>"
                )
        if len(run) > 1:
            parts.append(
                f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" '
                'stroke-width="2"/>'
            )
    for s, lines, legend_y in legend:
        colour = PALETTE[s % len(PALETTE)]
        swatch = side.x(PAD + 12) if side.rtl else PAD
        parts.append(
            f'<rect x="{_fmt(swatch)}" y="{_fmt(legend_y + side.line * 0.68 - 11)}" '
            f'width="12" height="12" '
            f'fill="{colour}"/>'
        )
        parts.append(_label(side, PAD + 18, legend_y + side.line * 0.68, lines, "chart__legend"))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
