"""How many rows a query matches: exactly where that is cheap, otherwise the database's estimate, said to be one.

A count reads every matching row; at a million entries an unfiltered or broad search took longer to count than to
page. :func:`counted` counts at most ``exact_up_to`` rows and one more (a ``COUNT`` over a ``LIMIT``: its cost is
bounded), so every query that matches up to that many rows gets its exact number. Beyond it, on PostgreSQL, the
number is the query planner's estimate of the query's rows (``EXPLAIN``, from the table statistics), and at least
``exact_up_to + 1``, flagged as an estimate. SQLite keeps no such statistics: there every count is exact.
"""

import json

from django.db import connections
from django.db.models import QuerySet


def counted(queryset: QuerySet, exact_up_to: int) -> tuple[int, bool]:
    """(number of rows of ``queryset``, whether that number is an estimate)."""
    rows = queryset.order_by().values("pk")
    if connections[rows.db].vendor != "postgresql":
        return rows.count(), False
    capped = rows[: exact_up_to + 1].count()
    if capped <= exact_up_to:
        return capped, False
    return max(planned_rows(rows), capped), True


def planned_rows(queryset: QuerySet) -> int:
    """The PostgreSQL planner's estimate of the rows ``queryset`` returns."""
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
