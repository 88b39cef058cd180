"""What each chart of the dashboard shows, as a table: the chart is drawn from it, the page shows it beside
the chart, and its CSV is it. One source, so the three never disagree."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from bot.insights.queries import Insights

Cell = str | int | float | None


@dataclass(frozen=True)
class Table:
    name: str  # in URLs: /console/insights/{name}.csv
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]]
    kind: str  # "line": a series per column after the first, over days; "bars": one bar per row


REASON_LABELS = {"requested": "asked", "complaint": "complaint", "misunderstood": "misunderstood",
                 "frustration": "frustration"}  # fmt: skip


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _mean(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def tables(found: Insights) -> list[Table]:
    """The dashboard's charts, in the order they are shown."""
    days = found.daily
    return [
        Table("conversations", "Conversations and contained, per day", ("day", "conversations", "contained"),
              [(day.day.isoformat(), day.conversations, day.contained) for day in days], "line"),
        Table("containment", "Containment per day (%)", ("day", "containment %"),
              [(day.day.isoformat(), _share(day.contained, day.conversations)) for day in days], "line"),
        Table("csat", "CSAT per day (average rating, 1-5)", ("day", "CSAT average", "ratings"),
              [(day.day.isoformat(), _mean(day.csat), day.rated) for day in days], "line"),
        Table("handoffs", "Handed over, by reason", ("reason", "conversations"),
              [(REASON_LABELS[reason], count) for reason, count in found.handoffs_by_reason.items()], "bars"),
        Table("intents", "Top intents", ("intent", "customer turns"), list(found.top_intents), "bars"),
        Table("ratings", "CSAT distribution", ("rating", "conversations"),
              [(str(rating), count) for rating, count in found.csat.distribution.items()], "bars"),
    ]  # fmt: skip


def to_csv(table: Table) -> str:
    """The table as CSV (RFC 4180): a header, then its rows; an empty cell where the table shows none.

    A cell starting with = + - @ would be read as a formula by a spreadsheet: it gets a leading '.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(["" if cell is None else _safe(cell) for cell in row])
    return out.getvalue()


def _safe(cell: Cell) -> Cell:
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@"):
        return "'" + cell
    return cell
