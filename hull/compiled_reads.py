"""Reads compiled to SQL once and then run with new values.

Django builds and compiles a queryset anew on every call. Where only values differ between requests (a material
by its public id; a page of a search whose numbers, elements or cursor change), building and compiling the
``.values()`` queryset was a third of a material's page and a quarter of a list page. Here the queryset is built
once with *markers* in place of those values (values no other parameter of the query has), compiled, and the
SQL is then run with each marker's parameters replaced by the request's values; rows come back as ``.values()``
gives them (the same names, and the same converters: JSON decoded, datetimes aware).

- :class:`CompiledRead`: a read of one fixed shape, looked up by one value.
- :class:`CompiledShapes`: reads keyed by their shape (what the SQL's text depends on), each compiled the first
  time its shape is seen; :class:`Marks` makes the markers and keeps the values they stand for.

What a marker stands for must reach the SQL unchanged as a parameter: a value that the query building turns into
something else (a formula reduced, a chemical system split) belongs in the shape's key instead. A marker that
does not reach the parameters (a condition optimised away) makes the shape uncompilable, and it is read through
the ORM as before.
"""

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import Any

import orjson
from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import JSONField, QuerySet
from django.db.models.fields.json import KeyTransform
from django.db.models.query import ValuesIterable

# Markers: within every integer column's range (smallint included), far from any real float, and superheavy
# element symbols (valid, so that element checks pass, and never stored in a catalogue of computed crystals).
INT_MARKERS = range(32_001, 32_700)
FLOAT_MARKER = -987_654.125
ELEMENT_MARKERS = ("Og", "Ts", "Lv", "Mc", "Fl", "Nh", "Cn", "Rg", "Ds", "Mt", "Hs", "Bh", "Sg", "Db", "Rf")
SAFE_INT = 2**62  # larger integers are kept in the shape (the ORM checks them against the column's range)


@dataclass(frozen=True)
class Compiled:
    sql: str
    params: tuple
    slots: tuple[tuple[int, int], ...]  # (parameter position, index of the value it takes)
    names: tuple[str, ...]
    converters: tuple

    def rows(self, values: list, using: str = DEFAULT_DB_ALIAS) -> list[dict]:
        """The rows of the SQL run with ``values`` in the markers' places, converted as ``.values()`` converts
        them. The converters were taken from the compiling thread's connection; they read only its settings (the
        time zone), and each call hands them the calling thread's connection."""
        params = list(self.params)
        for position, index in self.slots:
            params[position] = values[index]
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            raw = cursor.fetchall()
        rows = []
        for record in raw:
            record = list(record)
            for position, (functions, expression) in self.converters:
                item = record[position]
                for function in functions:
                    item = function(item, expression, connection)
                record[position] = item
            rows.append(dict(zip(self.names, record, strict=True)))
        return rows

    def counting(self) -> "Compiled":
        """The number of this read's rows, as one row ``{"n": number}`` (its SQL counted as a subquery)."""
        return replace(self, sql=f"SELECT COUNT(*) FROM ({self.sql}) AS counted", names=("n",), converters=())


def compile_values(queryset: QuerySet, markers: list, using: str = DEFAULT_DB_ALIAS) -> Compiled | None:
    """``queryset`` (a ``.values()`` queryset) compiled, with the parameters that are ``markers[i]`` taking the
    i-th value of :meth:`Compiled.rows`; ``None`` where a marker is not among the parameters or the query can
    match nothing."""
    if queryset._iterable_class is not ValuesIterable:
        raise ValueError("a compiled read must be a .values() queryset (its rows are dicts by column name)")
    query = queryset.query
    compiler = query.get_compiler(using)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:  # a condition that nothing meets (the ORM answers it without a query)
        return None
    index_of = {_marker_key(marker): index for index, marker in enumerate(markers)}
    slots = []
    for position, param in enumerate(params):
        index = index_of.get(_marker_key(param))
        if index is not None:
            slots.append((position, index))
    if {index for _, index in slots} != set(range(len(markers))):
        return None
    columns = [selected[0] for selected in compiler.select[: compiler.col_count]]
    # the names .values() gives its columns (django.db.models.query.ValuesIterable)
    if query.selected:
        names = list(query.selected)
    else:
        names = [*query.extra_select, *query.values_select, *query.annotation_select]
    if len(names) != len(columns):
        raise ValueError(f"{len(names)} column names for {len(columns)} columns in {sql}")
    return Compiled(
        sql=sql,
        params=tuple(params),
        slots=tuple(slots),
        names=tuple(names),
        converters=tuple(
            (position, (tuple(_faster(function) for function in functions), expression))
            for position, (functions, expression) in compiler.get_converters(columns).items()
        ),
    )


def _faster(converter: Callable) -> Callable:
    """``converter``, or a faster one that gives the same values: a JSON column without a decoder of its own is
    decoded with orjson (a structure decoded four times faster than with ``json``), as
    ``JSONField.from_db_value`` decodes it otherwise. One difference: an integer beyond 64 bits comes back as the
    nearest float (orjson's reading), where ``json`` keeps it exact; the APIs could not have written it anyway
    (their JSON writer, orjson too, refuses such integers), and structures and compositions hold floats."""
    field = getattr(converter, "__self__", None)
    if getattr(converter, "__func__", None) is JSONField.from_db_value and field.decoder is None:
        return _json_value
    return converter


def _json_value(value: Any, expression: Any, connection: Any) -> Any:
    if value is None or (isinstance(expression, KeyTransform) and not isinstance(value, str)):
        return value
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        pass  # what json reads and orjson refuses (NaN, which SQLite's JSON text can hold), or no JSON
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def _marker_key(value: Any) -> tuple | None:
    """What identifies a marker among parameters: its type and value (``True == 1`` but is no marker)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    return (type(value), value)


class CompiledRead:
    """``build(marker)`` returns a ``.values()`` queryset that looks up ``marker``; :meth:`rows` runs it for any
    value of the marker's type. ``marker`` must be a value no other parameter of the query has."""

    def __init__(self, build: Callable[[Any], QuerySet], marker: Any) -> None:
        self.build, self.marker = build, marker
        self._compiled: dict[str, Compiled] = {}

    def rows(self, value: Any, using: str = DEFAULT_DB_ALIAS) -> list[dict]:
        compiled = self._compiled.get(using)
        if compiled is None:
            compiled = compile_values(self.build(self.marker), [self.marker], using)
            if compiled is None:
                raise ValueError(f"the query does not look up its marker {self.marker!r}")
            self._compiled[using] = compiled
        return compiled.rows([value], using)


class Marks:
    """Markers for one read, and the request's values they stand for (in the order they were asked for)."""

    def __init__(self) -> None:
        self.markers: list = []
        self.values: list = []
        self._elements = iter(ELEMENT_MARKERS)

    def value(self, value: Any) -> Any:
        """A marker for a number or string that reaches the SQL unchanged (``None``, booleans and very large
        integers are returned as they are: they shape the query)."""
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int):
            if abs(value) >= SAFE_INT:
                return value
            marker = INT_MARKERS[len(self.markers)]
        elif isinstance(value, float):
            marker = FLOAT_MARKER - len(self.markers)
        elif isinstance(value, str):
            marker = f"\0marker-{len(self.markers)}"
        else:
            return value
        return self._keep(marker, value)

    def element(self, symbol: str) -> str:
        """A marker for an element symbol (one of :data:`ELEMENT_MARKERS`); ``StopIteration`` when none is left."""
        return self._keep(next(self._elements), symbol)

    def _keep(self, marker: Any, value: Any) -> Any:
        self.markers.append(marker)
        self.values.append(value)
        return marker


class CompiledShapes:
    """Compiled reads by shape, shared by a process's threads, the ``size`` most recently used kept."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple, Compiled | None] = OrderedDict()

    def get(
        self, key: Hashable, marks: Marks, build: Callable[[], QuerySet], using: str = DEFAULT_DB_ALIAS
    ) -> Compiled | None:
        """The read of ``key``'s shape, compiled from ``build()`` (built with ``marks``' markers) the first time;
        ``None`` for a shape that cannot be compiled."""
        full = (using, key)
        with self._lock:
            if full in self._kept:
                self._kept.move_to_end(full)
                return self._kept[full]
        compiled = compile_values(build(), marks.markers, using)
        with self._lock:
            self._kept[full] = compiled
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return compiled

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
