"""Selectors: the read side of the catalogue."""

from collections.abc import Iterable

from django.db import connection
from django.db.models import BooleanField, Count, Exists, F, Func, OuterRef, Prefetch, Q, QuerySet, Value

from hull.engine import chemsys_of, subsystems
from hull.errors import CatalogueError
from hull.formulas import parse_elements
from hull.hull_sets import DEFAULT_HULL_SET, HULL_SETS
from hull.models import (
    CatalogueState,
    ChemicalSystem,
    ChemicalSystemElement,
    ChemicalSystemPair,
    Entry,
    HullSetState,
    Stability,
)
from hull.provenance import DFT_LABEL, stability_source

ONLY_ENUMERATED = 8  # at most 255 subsystems


def chemsys_with_elements(
    *,
    contains_all: Iterable[str] = (),
    contains_any: Iterable[str] = (),
    only: Iterable[str] = (),
    exclude: Iterable[str] = (),
) -> QuerySet[ChemicalSystem]:
    """Chemical systems by their elements: containing all of, any of, only (a subset of) and none of.

    Works the same on SQLite and PostgreSQL: "all of" reads the pair table (:func:`_names_holding`); the other
    conditions are each an ``EXISTS`` over the element table, except "only" with up to :data:`ONLY_ENUMERATED`
    elements, which names its systems (every non-empty subset): databases estimate a list of names well, and a
    "no other element" ``NOT EXISTS`` badly.
    """
    queryset = ChemicalSystem.objects.all()
    elements_of = ChemicalSystemElement.objects.filter(chemsys=OuterRef("pk"))
    all_of = parse_elements(contains_all)
    if all_of:
        queryset = queryset.filter(name__in=_names_holding(all_of))
    any_of = parse_elements(contains_any)
    if any_of:
        queryset = queryset.filter(Exists(elements_of.filter(symbol__in=any_of)))
    only_these = parse_elements(only)
    if only_these and len(only_these) <= ONLY_ENUMERATED:
        queryset = queryset.filter(name__in=subsystems(chemsys_of(only_these)))
    elif only_these:
        queryset = queryset.exclude(Exists(elements_of.exclude(symbol__in=only_these)))
    none_of = parse_elements(exclude)
    if none_of:
        queryset = queryset.exclude(Exists(elements_of.filter(symbol__in=none_of)))
    return queryset


def chemsys_names_with_elements(
    *,
    contains_all: Iterable[str] = (),
    contains_any: Iterable[str] = (),
    only: Iterable[str] = (),
    exclude: Iterable[str] = (),
) -> QuerySet:
    """The names of :func:`chemsys_with_elements`, as a one-column queryset for ``chemsys__in``. "All of" alone
    (the commonest element query) is read from the pair table without the systems table."""
    if contains_any or only or exclude:
        systems = chemsys_with_elements(
            contains_all=contains_all, contains_any=contains_any, only=only, exclude=exclude
        )
        return systems.values("name")
    return _names_holding(parse_elements(contains_all))


def _names_holding(elements: list[str]) -> QuerySet:
    """Names of the systems that hold every one of ``elements`` (every system for none): the pair table's rows for the
    first two (or the first with itself), then an index probe of the pair table per further element. The pair
    table holds both orders and each element with itself, so the result does not depend on their order or on
    repeats (a marked query, hull/compiled_reads.py, may hold the same element under two markers)."""
    if not elements:
        return ChemicalSystem.objects.values("name")
    first, second = elements[0], elements[1] if len(elements) > 1 else elements[0]
    names = ChemicalSystemPair.objects.filter(first=first, second=second)
    for symbol in elements[2:]:
        names = names.filter(
            Exists(ChemicalSystemPair.objects.filter(first=first, second=symbol, chemsys=OuterRef("chemsys")))
        )
    return names.values("chemsys")


class NameHolds(Func):
    """Whether a system name (``Fe-Li-O``) holds an element: ``'-O-'`` within ``'-Fe-Li-O-'``."""

    function = "STRPOS"
    arity = 2
    template = "(%(function)s('-' || %(expressions)s || '-') > 0)"
    arg_joiner = " || '-', '-' || "
    output_field = BooleanField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="INSTR", **extra_context)


def system_holds(
    column: str,
    *,
    contains_all: Iterable[str] = (),
    contains_any: Iterable[str] = (),
    exclude: Iterable[str] = (),
) -> Q:
    """A test of the system name in ``column`` (symbols joined by "-", sorted: ``Fe-Li-O``) for elements, read off
    the name: ``-O-`` is within ``-Fe-Li-O-``, and ``-C-`` is not within ``-Cl-``. Beside a ``column__in`` condition
    of :func:`chemsys_names_with_elements` with the same elements it changes no result (the names it allows all
    pass it); it is there for the database.

    A page read in the order of an index (entries by id, stability rows by energy above hull) tests each row it
    walks against the systems; without this test each new system costs a probe of the pair table (1,000,000
    entries, the first 20 with Li and O by id: 13,380 rows walked, 10,266 probes, 27 ms). Tested on the row
    first, only the rows that hold the elements reach the probe. Its estimate (a third of the rows per
    element) also steers the planner away from walking an index for a few matches that lie far apart (Li and
    O by energy above hull: 35,436 rows walked)."""

    def holds(symbol: str) -> Q:
        # the symbol is a parameter of its own, so that a compiled read's marker element reaches the SQL as is
        return Q(NameHolds(F(column), Value(symbol)))

    test = Q()
    for symbol in contains_all:
        test &= holds(symbol)
    any_of = Q()
    for symbol in contains_any:
        any_of |= holds(symbol)
    test &= any_of
    for symbol in exclude:
        test &= ~holds(symbol)
    return test


def systems_with_elements(
    column: str,
    *,
    contains_all: Iterable[str] = (),
    contains_any: Iterable[str] = (),
    only: Iterable[str] = (),
    exclude: Iterable[str] = (),
) -> Q:
    """The condition that the system name in ``column`` is one of :func:`chemsys_names_with_elements`, with
    :func:`system_holds` beside it for the database ("only" names its subsystems and needs no test)."""
    names = chemsys_names_with_elements(
        contains_all=contains_all, contains_any=contains_any, only=only, exclude=exclude
    )
    test = system_holds(column, contains_all=contains_all, contains_any=contains_any, exclude=exclude)
    return Q(**{f"{column}__in": names}) & test


def entries_with_elements(
    *,
    contains_all: Iterable[str] = (),
    contains_any: Iterable[str] = (),
    only: Iterable[str] = (),
    exclude: Iterable[str] = (),
    queryset: QuerySet[Entry] | None = None,
) -> QuerySet[Entry]:
    """Entries whose chemical system satisfies :func:`chemsys_with_elements`."""
    queryset = Entry.objects.all() if queryset is None else queryset
    return queryset.filter(
        systems_with_elements(
            "chemsys", contains_all=contains_all, contains_any=contains_any, only=only, exclude=exclude
        )
    )


def check_hull_set(hull_set: str) -> str:
    if hull_set not in HULL_SETS:
        raise CatalogueError(f"unknown hull set {hull_set!r}: choose one of {', '.join(HULL_SETS)}")
    return hull_set


def entry_get(*, public_id: str) -> Entry:
    """One entry with its stabilities, or ``CatalogueError`` naming the id."""
    try:
        return (
            Entry.objects.select_related("batch")
            .prefetch_related(Prefetch("stabilities", queryset=Stability.objects.order_by("hull_set")))
            .get(public_id=public_id)
        )
    except Entry.DoesNotExist as exc:
        raise CatalogueError(f"no entry with id {public_id!r}") from exc


def catalogue_stats(*, hull_set: str = DEFAULT_HULL_SET) -> dict:
    """Counts for the home page: entries, stable entries, chemical systems, stable entries by nelements."""
    check_hull_set(hull_set)
    stable = Stability.objects.filter(hull_set=hull_set, is_stable=True)
    by_nelements = dict(
        stable.values_list("entry__nelements").annotate(n=Count("id")).order_by("entry__nelements")
    )
    return {
        "hull_set": hull_set,
        "entries": Entry.objects.count(),
        "stable": stable.count(),
        "stable_by_source": stable_by_source(stable),
        "chemical_systems": ChemicalSystem.objects.count(),
        "sources": list(Entry.objects.values_list("source").annotate(n=Count("id")).order_by("-n")),
        "stable_by_nelements": by_nelements,
        "missing_references": Stability.objects.filter(hull_set=hull_set, is_stable__isnull=True).count(),
    }


def stable_by_source(stable: QuerySet[Stability]) -> list[tuple[str, int]]:
    """Stable entries counted by who says so: ``("DFT", n)`` first, then ``("predicted by <evaluator>", n)``."""
    counts: dict[str, int] = {}
    for method, family, n in (
        stable.values_list("entry__method", "entry__method_family").annotate(n=Count("id")).order_by()
    ):
        label = stability_source(method=method, method_family=family)
        counts[label] = counts.get(label, 0) + n
    return sorted(counts.items(), key=lambda item: (item[0] != DFT_LABEL, item[0]))


def entries_in_chemsys(*, chemsys: str, hull_set: str = DEFAULT_HULL_SET) -> QuerySet[Entry]:
    """Entries of one chemical system with their stability in ``hull_set`` prefetched."""
    check_hull_set(hull_set)
    return Entry.objects.filter(chemsys_id=chemsys).prefetch_related(
        Prefetch("stabilities", queryset=Stability.objects.filter(hull_set=hull_set))
    )


def catalogue_state() -> tuple[int, int, int]:
    """What changes whenever a read of the catalogue can: the largest entry id, the sum of the hull-set versions
    (every ingest bumps them in the transaction that writes its entries, and every hull update does) and the sum
    of the :class:`CatalogueState` counters (structure features). One round trip: it runs on every cached read.

    Read it before the data it keys: a write committed in between makes the data newer than the state, which a
    later read with the same state may be served harmlessly; data older than its state cannot happen."""
    names = [connection.ops.quote_name(m._meta.db_table) for m in (Entry, HullSetState, CatalogueState)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT MAX(id) FROM {names[0]}), (SELECT SUM(version) FROM {names[1]}), "
            f"(SELECT SUM(version) FROM {names[2]})"
        )
        return tuple(int(value or 0) for value in cursor.fetchone())


def catalogue_elements() -> list[str]:
    """The element symbols that some entry of the catalogue holds, sorted (the systems table has a row per
    element of every system that has entries)."""
    return sorted(set(ChemicalSystemElement.objects.values_list("symbol", flat=True).distinct()))


def hull_provenance(*, chemsys: str, hull_set: str) -> dict:
    """What a hull of ``chemsys`` in ``hull_set`` is built from: the method families of the hull set, the entries
    of the system and its subsystems counted by source, the newest of them and the hull set's version."""
    check_hull_set(hull_set)
    entries = Entry.objects.filter(
        chemsys_id__in=subsystems(chemsys), method_family__in=sorted(HULL_SETS[hull_set])
    )
    sources = list(entries.values_list("source").annotate(n=Count("id")).order_by("-n", "source"))
    state = HullSetState.objects.filter(hull_set=hull_set).first()
    return {
        "chemsys": chemsys,
        "hull_set": hull_set,
        "method_families": sorted(HULL_SETS[hull_set]),
        "entries": sum(n for _, n in sources),
        "sources": sources,
        "newest_entry_at": entries.order_by("-created_at").values_list("created_at", flat=True).first(),
        "hull_set_version": state.version if state else 0,
        "hull_set_updated_at": state.updated_at if state else None,
    }


def catalogue_has_band_gaps() -> bool:
    """Whether any entry of the catalogue has a band gap (a filter on band gaps finds nothing otherwise)."""
    return Entry.objects.filter(band_gap__isnull=False).exists()


def hull_sets_with_entries() -> list[str]:
    """The hull sets that hold some entry (a stability row), in :data:`HULL_SETS` order."""
    return [name for name in HULL_SETS if Stability.objects.filter(hull_set=name).exists()]
