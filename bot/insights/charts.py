"""Charts as SVG drawn here, on the server: a line chart over days and horizontal bars. No script, no
library: a page of six charts costs well under a millisecond to draw (matplotlib's SVG backend costs
tens of milliseconds a chart; `python -m bot bench --charts`).

Every piece of text is escaped here; the result is Markup, safe to put in a page as it is. The SVG
scales to its box (viewBox, width 100%), so it fits a 360 px phone as well as a desktop.
"""

from __future__ import annotations

import math
from html import escape

from markupsafe import Markup

from bot.insights.tables import Cell, Table

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 28
COLOURS = ("#14532d", "#b45309", "#0b5cad")  # dark enough on white for text and thin lines


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _nice_top(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above value (at least 1)."""
    if value <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value)


def _svg(title: str, body: list[str], height: int = HEIGHT) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" xmlns="http://www.w3.org/2000/svg" '
        f'preserveAspectRatio="xMidYMid meet"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def line_chart(table: Table) -> Markup:
    """Each column after the first is a line over the rows (days); an empty cell breaks its line."""
    series = [[row[column] for row in table.rows] for column in range(1, len(table.columns))]
    if table.name == "csat":  # the ratings count is in the table, not a line on the 1-5 scale
        series = series[:1]
    values = [value for line in series for value in line if isinstance(value, (int, float))]
    top = 5.0 if table.name == "csat" else 100.0 if table.name == "containment" else _nice_top(max(values, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    count = len(table.rows)

    def x(index: int) -> float:
        return LEFT + (plot_w * index / (count - 1) if count > 1 else plot_w / 2)

    def y(value: float) -> float:
        return TOP + plot_h * (1 - value / top)

    body = []
    steps = 5 if table.name == "csat" else 4  # whole ratings on the CSAT scale
    for step in range(steps + 1):  # grid lines and their values
        value = top * step / steps
        body.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
                    f'stroke="#dfe3e0" stroke-width="1"/>'
                    f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="12" '
                    f'fill="#5b625e">{_number(value)}</text>')  # fmt: skip
    for index in sorted({0, count // 2, count - 1}) if count else []:  # first, middle, last day
        anchor = "start" if index == 0 and count > 1 else "end" if index == count - 1 and count > 1 else "middle"
        body.append(f'<text x="{x(index):.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}" font-size="12" '
                    f'fill="#5b625e">{escape(str(table.rows[index][0]))}</text>')  # fmt: skip
    for number, line in enumerate(series):
        colour = COLOURS[number % len(COLOURS)]
        for segment in _segments(line):
            points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in segment)
            if len(segment) > 1:
                body.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
            if count <= 31 or len(segment) == 1:
                body.extend(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"/>' for i, v in segment)
    if len(series) > 1:  # a legend, top right
        for number, name in enumerate(table.columns[1 : len(series) + 1]):
            colour = COLOURS[number % len(COLOURS)]
            at = WIDTH - RIGHT - 150
            body.append(f'<rect x="{at}" y="{TOP + 4 + 16 * number}" width="10" height="10" fill="{colour}"/>'
                        f'<text x="{at + 14}" y="{TOP + 13 + 16 * number}" font-size="12" fill="#1a1f1c">'
                        f"{escape(name)}</text>")  # fmt: skip
    return _svg(table.title, body)


def _segments(line: list[Cell]) -> list[list[tuple[int, float]]]:
    """Runs of consecutive numbers: a day without a value (no ratings) is a gap, not a zero."""
    segments: list[list[tuple[int, float]]] = [[]]
    for index, value in enumerate(line):
        if isinstance(value, (int, float)):
            segments[-1].append((index, float(value)))
        elif segments[-1]:
            segments.append([])
    return [segment for segment in segments if segment]


def bar_chart(table: Table) -> Markup:
    """One horizontal bar per row: its label on the left, its value at its end."""
    bar, gap, label_w = 22, 8, 150
    height = max(1, len(table.rows)) * (bar + gap) + gap
    top = max((float(row[1]) for row in table.rows if isinstance(row[1], (int, float))), default=0) or 1
    room = WIDTH - label_w - 60
    body = []
    for index, row in enumerate(table.rows):
        value = float(row[1]) if isinstance(row[1], (int, float)) else 0
        y = gap + index * (bar + gap)
        body.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" font-size="13" fill="#1a1f1c">'
                    f"{escape(str(row[0]))}</text>"
                    f'<rect x="{label_w}" y="{y}" width="{room * value / top:.1f}" height="{bar}" fill="{COLOURS[0]}"/>'
                    f'<text x="{label_w + room * value / top + 6:.1f}" y="{y + 16}" font-size="13" fill="#1a1f1c">'
                    f"{_number(value)}</text>")  # fmt: skip
    if not table.rows:
        body.append(f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-size="13" fill="#5b625e">none</text>')
    return _svg(table.title, body, height)


def chart(table: Table) -> Markup:
    return line_chart(table) if table.kind == "line" else bar_chart(table)
