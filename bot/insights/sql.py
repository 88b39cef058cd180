"""The two SQL expressions whose text differs between SQLite and PostgreSQL, as SQLAlchemy constructs.

utc_day(ts)               the UTC day of a timestamp, as days since 1970-01-01 (an integer: cheap to group by)
seconds_between(a, b)     b - a in seconds, as a float
Every timestamp is stored in UTC (bot/store/models.py), so SQLite's date() and julianday() read it right.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class utc_day(FunctionElement):  # lower case: it reads as a SQL function
    type = Integer()
    inherit_cache = True
    name = "utc_day"


class seconds_between(FunctionElement):
    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(utc_day)
def _utc_day_sqlite(element: utc_day, compiler: Any, **kw: Any) -> str:
    # julianday of 1970-01-01 00:00 is 2440587.5; CAST truncates, which is floor for days after 1970.
    return f"CAST(julianday({compiler.process(element.clauses, **kw)}) - 2440587.5 AS INTEGER)"


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element: utc_day, compiler: Any, **kw: Any) -> str:
    return f"CAST(floor(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) / 86400) AS INTEGER)"


@compiles(seconds_between)
def _seconds_sqlite(element: seconds_between, compiler: Any, **kw: Any) -> str:
    earlier, later = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


@compiles(seconds_between, "postgresql")
def _seconds_postgresql(element: seconds_between, compiler: Any, **kw: Any) -> str:
    earlier, later = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
