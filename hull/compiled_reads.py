"""Reads of a fixed shape, compiled to SQL once per thread and then run with new values.

Django builds and compiles a queryset anew on every call. For a read whose shape never changes (a material's
columns by its public id, a material's stabilities by its entry id) only the looked-up value differs between
requests, yet building and compiling the ``.values()`` queryset over some forty columns and four tables cost
about a third of a material's page. :class:`CompiledRead` builds the queryset once with a marker in place of the
value, compiles it, and runs the SQL with the marker's parameters replaced; the rows come back as ``.values()``
gives them (the same names, and the same converters: JSON decoded, datetimes aware).

The compiled query is kept per thread and database alias: a compiler and its converters belong to the
connection of the thread that made them.
"""

import threading
from collections.abc import Callable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.db.models.query import ValuesIterable


class CompiledRead:
    """``build(marker)`` returns a ``.values()`` queryset that looks up ``marker``; :meth:`rows` runs it for any
    value of the marker's type. ``marker`` must be a value no other parameter of the query has."""

    def __init__(self, build: Callable[[Any], QuerySet], marker: Any) -> None:
        self.build, self.marker = build, marker
        self._local = threading.local()

    def rows(self, value: Any, using: str = DEFAULT_DB_ALIAS) -> list[dict]:
        compiled = self._compiled(using)
        params = [
            value if index in compiled["slots"] else param for index, param in enumerate(compiled["params"])
        ]
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(compiled["sql"], params)
            raw = cursor.fetchall()
        names, converters = compiled["names"], compiled["converters"]
        rows = []
        for record in raw:
            record = list(record)
            for position, (functions, expression) in converters:
                item = record[position]
                for function in functions:
                    item = function(item, expression, connection)
                record[position] = item
            rows.append(dict(zip(names, record, strict=True)))
        return rows

    def _compiled(self, using: str) -> dict:
        kept = getattr(self._local, using, None)
        if kept is None:
            kept = self._compile(using)
            setattr(self._local, using, kept)
        return kept

    def _compile(self, using: str) -> dict:
        queryset = self.build(self.marker)
        if queryset._iterable_class is not ValuesIterable:
            raise ValueError(
                "a compiled read must be a .values() queryset (its rows are dicts by column name)"
            )
        query = queryset.query
        compiler = query.get_compiler(using)
        sql, params = compiler.as_sql()
        slots = {index for index, param in enumerate(params) if param == self.marker}
        if not slots:
            raise ValueError(f"the query does not look up its marker {self.marker!r}: {sql}")
        columns = [selected[0] for selected in compiler.select[: compiler.col_count]]
        # the names .values() gives its columns (django.db.models.query.ValuesIterable)
        if query.selected:
            names = list(query.selected)
        else:
            names = [*query.extra_select, *query.values_select, *query.annotation_select]
        if len(names) != len(columns):
            raise ValueError(f"{len(names)} column names for {len(columns)} columns in {sql}")
        return {
            "sql": sql,
            "params": list(params),
            "slots": slots,
            "names": names,
            "converters": list(compiler.get_converters(columns).items()),
        }
