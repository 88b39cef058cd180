"""`python -m bot bench --insights`: how fast the insights dashboard answers on a big shop (issue 17).

A PostgreSQL database of its own (varde_insights_bench, kept between runs: generating costs a few
minutes) holds the demo shop and a generated history (bot/store/history.py) of 200 000 conversations
over 90 days. Each dashboard filter is asked REPEAT times: every query of the page (bot/insights; its
three scans side by side, as the console runs them), and the page's tables and SVG charts. Then the
same without the revision 0004 indexes, to show what they buy, and the SVG charts against matplotlib's
SVG backend. The target: under 1 s for every filter.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select, text

from bot.insights.charts import chart
from bot.insights.filters import for_days
from bot.insights.queries import PARTS, assemble, insights
from bot.insights.tables import tables
from bot.store.conversations import Conversation
from bot.store.db import create_schema, get_engine, session_scope
from bot.store.history import HISTORY_PREFIX, generate_history
from bot.store.insight_indexes import INDEXES
from bot.store.postgres_admin import create_database
from bot.store.seed import seed_demo

DATABASE = "varde_insights_bench"
REPEAT = 3
TARGET_SECONDS = 1.0


def _prepare(conversations: int, regenerate: bool, say: Callable[[str], None]) -> str:
    url = create_database(DATABASE, exist_ok=True)  # kept between runs: generating costs minutes
    create_schema(url)
    with session_scope(url) as session:
        have = session.execute(
            select(func.count(Conversation.id)).where(Conversation.id.like(f"{HISTORY_PREFIX}%"))
        ).scalar_one()
    if have == conversations and not regenerate:
        say(f"reusing {have} generated conversations in {DATABASE}")
        return url
    seed_demo(url)
    started = time.monotonic()
    step = max(1, conversations // 10)

    def progress(done: int, total: int) -> None:
        if done % step < 2000 or done == total:
            say(f"generated {done}/{total} conversations ({time.monotonic() - started:.0f} s)")

    counts = generate_history(url, days=90, conversations=conversations, progress=progress)
    say(f"history: {counts} in {time.monotonic() - started:.0f} s")
    with get_engine(url).connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    return url


def _filters() -> dict[str, Any]:
    today = datetime.now(timezone.utc).date()
    return {
        "day": for_days(today, today),
        "week": for_days(today - timedelta(days=6), today),
        "month": for_days(today - timedelta(days=29), today),
        "90 days": for_days(today - timedelta(days=89), today),
        "90 days, sv": for_days(today - timedelta(days=89), today, language="sv"),
        "90 days, returns": for_days(today - timedelta(days=89), today, topic="returns"),
        "month, nb, orders": for_days(today - timedelta(days=29), today, language="nb", topic="orders"),
    }


def _side_by_side(url: str, f: Any) -> Any:
    """As the console does it (bot/console/insights_views.py): the three scans at once, one connection each."""

    def part_of(part: Callable[..., Any]) -> Any:
        with session_scope(url) as session:
            return part(session, f)

    with ThreadPoolExecutor(max_workers=len(PARTS)) as pool:
        return assemble(f, list(pool.map(part_of, PARTS)))


def _time_page(url: str) -> dict[str, dict[str, float]]:
    results = {}
    for name, f in _filters().items():
        query_times, page_times = [], []
        for _ in range(REPEAT):
            started = time.perf_counter()
            found = _side_by_side(url, f)
            queried = time.perf_counter()
            for table in tables(found):
                chart(table)
            page_times.append(time.perf_counter() - started)
            query_times.append(queried - started)
        results[name] = {
            "conversations": found.conversations,
            "queries_median_s": round(statistics.median(query_times), 3),
            "queries_max_s": round(max(query_times), 3),
            "page_median_s": round(statistics.median(page_times), 3),
        }
    return results


def _without_indexes(url: str, work: Callable[[], Any]) -> Any:
    engine = get_engine(url)
    with engine.begin() as connection:
        for index in INDEXES:
            connection.execute(text(f"DROP INDEX IF EXISTS {index.name}"))
    try:
        return work()
    finally:
        for index in INDEXES:
            index.create(engine)
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))


def _charts_cost(url: str) -> dict[str, float]:
    """Milliseconds to draw the page's six charts: ours, and matplotlib's SVG backend for the same."""
    today = datetime.now(timezone.utc).date()
    with session_scope(url) as session:
        shown = tables(insights(session, for_days(today - timedelta(days=29), today)))
    started = time.perf_counter()
    for _ in range(20):
        for table in shown:
            chart(table)
    ours = (time.perf_counter() - started) / 20 * 1000
    import io

    import matplotlib

    matplotlib.use("svg")
    from matplotlib import pyplot

    def draw(table: Any) -> None:
        figure, axes = pyplot.subplots(figsize=(6.4, 2.4))
        labels = [str(row[0]) for row in table.rows]
        if table.kind == "line":
            for column in range(1, len(table.columns)):
                axes.plot(labels, [row[column] if row[column] is not None else float("nan") for row in table.rows])
        else:
            axes.barh(labels, [row[1] for row in table.rows])
        figure.savefig(io.StringIO(), format="svg")
        pyplot.close(figure)

    started = time.perf_counter()
    for _ in range(3):
        for table in shown:
            draw(table)
    theirs = (time.perf_counter() - started) / 3 * 1000
    return {"ours_ms_per_page": round(ours, 2), "matplotlib_ms_per_page": round(theirs, 1)}


def run_insights(conversations: int, regenerate: bool, say: Callable[[str], None]) -> dict[str, Any]:
    url = _prepare(conversations, regenerate, say)
    say("timing the dashboard with the 0004 indexes")
    indexed = _time_page(url)
    say("timing it without them")
    bare = _without_indexes(url, lambda: _time_page(url))
    say("drawing the charts: ours and matplotlib's")
    charts = _charts_cost(url)
    get_engine(url).dispose()
    load = " ".join(f"{value:.1f}" for value in os.getloadavg())
    return {"conversations": conversations, "indexed": indexed, "without_indexes": bare, "charts": charts, "load": load}


def table(results: dict[str, Any]) -> str:
    lines = [
        f"insights dashboard, {results['conversations']} conversations over 90 days on PostgreSQL "
        f"(median of {REPEAT}; target < {TARGET_SECONDS:.0f} s; load average {results['load']})",
        f"{'filter':<20} {'conversations':>13} {'queries':>9} {'max':>7} {'page':>7} {'no 0004 indexes':>16}",
    ]
    for name, row in results["indexed"].items():
        bare = results["without_indexes"][name]
        lines.append(
            f"{name:<20} {row['conversations']:>13} {row['queries_median_s']:>8.3f}s {row['queries_max_s']:>6.3f}s "
            f"{row['page_median_s']:>6.3f}s {bare['queries_median_s']:>15.3f}s"
        )
    charts = results["charts"]
    lines.append(
        f"six charts per page: {charts['ours_ms_per_page']} ms (bot/insights/charts.py), "
        f"{charts['matplotlib_ms_per_page']} ms (matplotlib SVG backend)"
    )
    return "\n".join(lines)
