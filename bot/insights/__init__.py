"""Insights: how the service is doing, as numbers a team lead can check (issue 17).

filters.py says which conversations a number is about (period, language, topic); queries.py holds every
metric as one query on the shop database; charts.py draws them as SVG on the server; export.py writes
exactly what a chart shows as CSV. docs/metrics.md defines each number.
"""
