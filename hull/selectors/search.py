"""The one read of catalogue pages: a search's page of rows, its count and its ordered queryset.

The search page, the REST list and the OPTIMADE structures list are adapters of this module: each turns its
request into a *condition* (one ``Q`` over the columns of :func:`catalogue_entries`, element conditions kept as
:class:`hull.selectors.elements.Systems` data), an *order* (sort keys, then ``id``), the *columns* it shows and a
*window* (a keyset cursor, or an offset, and a limit), calls :func:`search_page`, and renders the rows.

Two rules of reading live here and nowhere else:

- **Element conditions** (:func:`resolved`) test the entry's system, or the stability row's copy of it where only
  rows with a stability row can match (a sibling condition needs a value of the row, or the rows are the first
  part of a stability sort): the database then walks the stability index (hull set, system, energy above hull)
  per matching system instead of every entry of those systems.
- **Stability sorts in two parts** (:func:`sorted_parts`): a sort by a stability value where entries without one
  can match is read as the rows with a value, in the value's order (an inner join read off the hull set's index),
  then the rows without one, by id. The single query (``ORDER BY value NULLS LAST, id``) gives the same rows in
  the same order but has to join every matching entry's row before its ``LIMIT``.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Expression, F, FilteredRelation, Q, QuerySet

from hull.counting import counted
from hull.errors import CatalogueError
from hull.models import Entry
from hull.selectors.elements import Systems

# The values of the hull set's stability row that every read is annotated with (and filters and sorts on), and
# the alias of the row's copy of the entry's system (what element conditions test where the row must exist).
STABILITY_VALUES = ("e_above_hull", "formation_energy_per_atom", "is_stable", "decomposition_energy")
ROW_CHEMSYS = "stab_chemsys"

Order = Sequence[tuple[str, bool]]  # (column, descending) of each sort key; id follows them
Computed = Mapping[str, Expression] | None  # values computed per row, by name


class InvalidCursor(CatalogueError):
    """A cursor whose value cannot be compared with its sort key (one not made from a page of this order)."""


@dataclass(frozen=True)
class Window:
    """Which rows of the ordered results a page holds: ``limit`` rows after the keyset cursor ``after`` (the
    sort value and id of the last row seen; ``None``: from the start), or from ``offset`` on."""

    limit: int
    after: tuple | None = None
    offset: int = 0


@dataclass(frozen=True)
class Page:
    """The page's rows (``.values()`` dicts); whether more rows follow; the cursor after the last row (its sort
    value and id) where they do."""

    rows: list[dict]
    more: bool
    next_cursor: tuple | None


def catalogue_entries(*, hull_set: str, computed: Computed = None) -> QuerySet[Entry]:
    """Every entry, annotated with its stability row in ``hull_set`` (:data:`STABILITY_VALUES`, one left join) and
    with the ``computed`` expressions by name (a condition may name them)."""
    return _entries(hull_set, tuple((computed or {}).items()), None).all()


@lru_cache(maxsize=256)
def _entries(hull_set: str, computed: tuple, names: tuple[str, ...] | None) -> QuerySet[Entry]:
    """The annotated entries of a hull set (with ``computed``, as ``.values()`` of ``names`` where given), built
    once per process and shape: building them (resolving the filtered relation, its annotations and the
    columns) was more than half the cost of building a page's query, and of a material's. Every use clones it
    (``filter``, ``all``), and it is never evaluated itself, so one queryset serves every thread."""
    entries = (
        Entry.objects.annotate(
            stab=FilteredRelation("stabilities", condition=Q(stabilities__hull_set=hull_set))
        )
        .annotate(**{name: F(f"stab__{name}") for name in STABILITY_VALUES})
        .alias(**{ROW_CHEMSYS: F("stab__chemsys")})
    )
    if computed:
        entries = entries.annotate(**dict(computed))
    return entries if names is None else entries.values(*names, *(name for name, _ in computed))


def requires_row(condition: Q) -> bool:
    """Whether ``condition`` holds only for entries with a stability row: it is not negated and requires (directly
    or through an AND) a value of the row's, or IS KNOWN on one."""
    if not isinstance(condition, Q) or condition.negated or condition.connector != Q.AND:
        return False
    for child in condition.children:
        if isinstance(child, tuple):
            column, _, lookup = child[0].partition("__")
            if column in STABILITY_VALUES and (
                child[1] is False if lookup == "isnull" else child[1] is not None
            ):
                return True
        elif requires_row(child):
            return True
    return False


def resolved(condition: Q, *, on_rows: bool = False) -> Q:
    """``condition`` with each element condition (a :class:`Systems` value) made a condition on a system column:
    the stability row's copy of the system where every row read has one (``on_rows``) or where a sibling in the
    same AND requires the row (:func:`requires_row`), else the entry's system."""
    if not isinstance(condition, Q):
        return condition
    here = on_rows or (
        not condition.negated
        and condition.connector == Q.AND
        and any(
            requires_row(child) if isinstance(child, Q) else requires_row(Q(child))
            for child in condition.children
        )
    )
    children = []
    for child in condition.children:
        if isinstance(child, Q):
            children.append(resolved(child, on_rows=on_rows))
        elif isinstance(child, tuple) and isinstance(child[1], Systems):
            children.append(child[1].condition(ROW_CHEMSYS if here else "chemsys"))
        else:
            children.append(child)
    return Q(*children, _connector=condition.connector, _negated=condition.negated)


def search_queryset(
    *, condition: Q, hull_set: str, order: Order = (), computed: Computed = None
) -> QuerySet[Entry]:
    """The entries matching ``condition``, in ``order`` (nulls last) and then by id, as one query: for reads of
    every row (exports, screens) and counts."""
    entries = catalogue_entries(hull_set=hull_set, computed=computed)
    return entries.filter(resolved(condition)).order_by(*_order_by(order, "id"))


def sorted_parts(
    *,
    condition: Q,
    hull_set: str,
    order: Order = (),
    computed: Computed = None,
    columns: Sequence[str] | None = None,
) -> list[QuerySet[Entry]]:
    """The results in ``order`` as consecutive querysets (of ``.values()`` of ``columns`` and ``computed`` where
    given): one, or two where the first sort key is a stability value and entries without one can match (see the
    module doc)."""
    entries = _entries(hull_set, tuple((computed or {}).items()), None if columns is None else tuple(columns))
    if not order or order[0][0] not in STABILITY_VALUES or requires_row(condition):
        return [entries.filter(resolved(condition)).order_by(*_order_by(order, "id"))]
    (column, descending), then = order[0], _order_by(order[1:], "id")
    plain = F(column).desc() if descending else F(column).asc()
    valued = entries.filter(resolved(condition, on_rows=True), **{f"{column}__isnull": False})
    unvalued = entries.filter(resolved(condition), **{f"{column}__isnull": True})
    return [valued.order_by(plain, *then), unvalued.order_by(*then)]


def search_page(
    *,
    condition: Q,
    hull_set: str,
    order: Order = (),
    columns: Sequence[str],
    window: Window,
    computed: Computed = None,
) -> Page:
    """A page of the entries matching ``condition`` in ``order``: the ``columns`` (and ``computed`` expressions,
    by name) of the rows in ``window``. A keyset window (``after``) pages an order of at most one key; its rows
    carry that key and ``id`` too (the next cursor is made of them). Raises :class:`InvalidCursor` for a cursor
    whose value does not fit the key."""
    if window.after is not None and len(order) > 1:
        raise ValueError("a keyset cursor pages an order of at most one key before id")
    names = list(dict.fromkeys([*columns, *(key for key, _ in order[:1]), "id"]))
    parts = sorted_parts(
        condition=condition, hull_set=hull_set, order=order, computed=computed, columns=names
    )
    wanted = window.limit + 1
    if window.after is not None:
        column, descending = order[0] if order else (None, False)
        rows = rows_after(parts, column, descending, window.after, wanted)
    else:
        rows = _rows_from(parts, window.offset, wanted)
    more = len(rows) > window.limit
    rows = rows[: window.limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = (last[order[0][0]] if order else None, last["id"])
    return Page(rows=rows, more=more, next_cursor=next_cursor)


def search_count(
    *, condition: Q, hull_set: str, exact_up_to: int | None = None, computed: Computed = None
) -> tuple[int, bool]:
    """(entries matching ``condition``, whether an estimate): exact, or up to ``exact_up_to`` where given and the
    database's estimate beyond it (:func:`hull.counting.counted`)."""
    queryset = catalogue_entries(hull_set=hull_set, computed=computed).filter(resolved(condition))
    if exact_up_to is None:
        return queryset.count(), False
    return counted(queryset, exact_up_to)


def _order_by(order: Order, *then: str) -> list:
    keys = [
        F(column).desc(nulls_last=True) if descending else F(column).asc(nulls_last=True)
        for column, descending in order
    ]
    return [*keys, *then]


def rows_after(
    parts: list[QuerySet], column: str | None, descending: bool, after: tuple, wanted: int
) -> list:
    """``wanted`` rows after the cursor ``after`` (its value, id). Of two parts, the first holds the rows with a
    value: a cursor without one lies in the second, which is read where the first leaves the page short."""
    value, pk = after
    if len(parts) == 1:
        return list(_filtered(parts[0], _after(column, descending, value, pk, nulls_follow=True))[:wanted])
    valued, unvalued = parts
    rows = []
    if value is not None:
        rows = list(_filtered(valued, _after(column, descending, value, pk, nulls_follow=False))[:wanted])
    if len(rows) < wanted:
        rest = unvalued.filter(pk__gt=pk) if value is None else unvalued
        rows += list(rest[: wanted - len(rows)])
    return rows


def _rows_from(parts: list[QuerySet], offset: int, wanted: int) -> list:
    """``wanted`` rows from ``offset`` on, through the parts in turn: an earlier part is counted only where the
    window starts past its end."""
    rows: list = []
    start = offset
    for part in parts:
        if len(rows) >= wanted:
            break
        got = list(part[start : start + wanted - len(rows)])
        start = max(0, start - part.count()) if not got and start else 0
        rows += got
    return rows


def _after(column: str | None, descending: bool, value, pk: int, *, nulls_follow: bool) -> Q:
    """Rows after the cursor's row; ``nulls_follow``: the rows without a value, which come last, follow too."""
    if column is None:
        return Q(pk__gt=pk)
    if value is None:  # nulls come last: only later nulls remain
        return Q(**{f"{column}__isnull": True, "pk__gt": pk})
    beyond = Q(**{f"{column}__lt" if descending else f"{column}__gt": value}) | Q(
        **{column: value, "pk__gt": pk}
    )
    return beyond | Q(**{f"{column}__isnull": True}) if nulls_follow else beyond


def _filtered(queryset: QuerySet, after: Q) -> QuerySet:
    try:
        return queryset.filter(after)
    except (ValueError, TypeError, DjangoValidationError) as exc:
        raise InvalidCursor("invalid cursor: use the `next` link of the previous page") from exc
