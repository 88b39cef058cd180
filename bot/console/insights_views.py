"""The insights dashboard (/console/insights): how the service is doing, for leads and trainers.

The guard (auth.py) lets in roles lead and trainer; agents get 403. Every number comes from
bot/insights/queries.py (docs/metrics.md); each chart is drawn on the server from the same table
that the page shows beside it and that its CSV link downloads.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from bot.console.auth import csrf_token, end_session
from bot.console.keys import AGENT
from bot.i18n import SUPPORTED_LANGUAGES
from bot.insights.charts import chart
from bot.insights.filters import PERIODS, TOPICS, InsightsFilter, from_query
from bot.insights.queries import PARTS, Durations, Insights, assemble
from bot.insights.tables import tables, to_csv
from bot.web.keys import DATABASE

INSIGHTS = "/console/insights"
LANGUAGE_NAMES = {"nb": "Norwegian", "sv": "Swedish", "da": "Danish", "en": "English"}


def _today() -> Any:
    return datetime.now(timezone.utc).date()


def _duration(durations: Durations) -> str:
    """e.g. "45 s / 1 min 21 s (4)": p50 / p90 (how many were measured)."""

    def one(seconds: float | None) -> str:
        if seconds is None:
            return "–"
        seconds = round(seconds)
        return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"

    return f"{one(durations.p50)} / {one(durations.p90)} ({durations.count})"


def _query_of(f: InsightsFilter, period: str) -> dict[str, str]:
    """The URL query that asks for this filter again (for the CSV links)."""
    query = {"period": period}
    if period == "custom":
        query["from"], query["to"] = f.days[0].isoformat(), f.days[-1].isoformat()
    if f.language:
        query["language"] = f.language
    if f.topic:
        query["topic"] = f.topic
    return query


async def _insights(request: web.Request, f: InsightsFilter) -> Insights:
    """The three scans side by side, on three of the database's threads: the page waits for the slowest."""
    database = request.config_dict[DATABASE]
    return assemble(f, list(await asyncio.gather(*(database.run(part, f) for part in PARTS))))


async def insights_page(request: web.Request) -> web.Response:
    f, period = from_query(request.query, _today())
    found = await _insights(request, f)
    shown = [(table, chart(table)) for table in tables(found)]
    context = {
        "user": request[AGENT],
        "csrf": await csrf_token(request),
        "f": f,
        "period": period,
        "periods": [*PERIODS, "custom"],
        "languages": [(code, LANGUAGE_NAMES.get(code, code)) for code in SUPPORTED_LANGUAGES],
        "topics": list(TOPICS),
        "found": found,
        "charts": shown,
        "csv_query": urlencode(_query_of(f, period)),
        "duration": _duration,
    }
    return aiohttp_jinja2.render_template("insights.html", request, context)


async def insights_csv(request: web.Request) -> web.Response:
    f, _ = from_query(request.query, _today())
    wanted = request.match_info["chart"]
    found = await _insights(request, f)
    table = next((table for table in tables(found) if table.name == wanted), None)
    if table is None:
        raise web.HTTPNotFound(text="No such chart.")
    name = f"varde-{table.name}-{f.days[0].isoformat()}-{f.days[-1].isoformat()}.csv"
    return web.Response(
        text=to_csv(table),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def logout(request: web.Request) -> web.StreamResponse:
    await end_session(request)
    raise web.HTTPSeeOther("/console/login")


def add_insights_routes(app: web.Application, prefix: str) -> None:
    """Under the console sub-app mounted at `prefix` ("/console")."""
    base = INSIGHTS.removeprefix(prefix)
    app.router.add_get(base, insights_page)
    app.router.add_get(base + "/{chart:[a-z]+}.csv", insights_csv)
    app.router.add_post(base + "/logout", logout)
