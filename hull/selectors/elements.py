"""Element conditions: chemical systems (and the rows that name one) by the elements they hold.

Every read of the catalogue that asks for elements goes through :func:`systems_with_elements`: the same index-friendly
condition on SQLite and PostgreSQL for the search page, the REST API and the OPTIMADE layer.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import BooleanField, Exists, F, Func, OuterRef, Q, QuerySet, Value

from hull.engine import chemsys_of, subsystems
from hull.formulas import parse_elements
from hull.models import ChemicalSystem, ChemicalSystemElement, ChemicalSystemPair, Entry

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
    repeats (a search joins its elements and its chemical system's in one list)."""
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
        # the symbol is a parameter of its own (a bound value, never text of the SQL)
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


@dataclass(frozen=True)
class Systems:
    """An element condition kept as data in a ``Q`` (``Q(chemsys__in=Systems(contains_all=("Li", "O")))``) until
    the read that runs it knows which column to test: the entry's system, or the stability row's copy of it
    (:func:`hull.selectors.search.resolved`). The four lists mean what they mean in
    :func:`chemsys_with_elements`."""

    contains_all: tuple[str, ...] = ()
    contains_any: tuple[str, ...] = ()
    only: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def condition(self, column: str) -> Q:
        """The condition that the system name in ``column`` is one of these systems (:func:`systems_with_elements`)."""
        return systems_with_elements(
            column,
            contains_all=self.contains_all,
            contains_any=self.contains_any,
            only=self.only,
            exclude=self.exclude,
        )
