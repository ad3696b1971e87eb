"""Catalogue search: one query object shared by the pages, the REST API and the OPTIMADE layer.

``EntrySearch.from_params`` reads URL parameters (every name below), checks them and raises
``CatalogueError`` naming the bad parameter; ``search_entries`` turns a search into a queryset annotated with
the stability of the chosen hull set (``e_above_hull``, ``formation_energy_per_atom``, ``is_stable``,
``decomposition_energy``).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

from django.db.models import F, FilteredRelation, Q, QuerySet

from hull.compiled_reads import ELEMENT_MARKERS, Marks
from hull.errors import CatalogueError
from hull.formula_input import formula_readings, pattern_text, read_anonymous, reduced_formula_pattern
from hull.formulas import parse_composition, parse_elements
from hull.hull_sets import DEFAULT_HULL_SET
from hull.models import Entry
from hull.selectors import check_hull_set, systems_with_elements
from hull.space_groups import space_group_number

MAX_ELEMENTS = 8  # the hull engine handles systems of 1 to 8 elements
# The whole numbers a parameter may hold: the database's 64-bit integers (a larger one is refused where it is
# read, before it reaches a query), and the words of a yes/no parameter.
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")

SORTABLE = {
    "formula": "reduced_formula",
    "reduced_formula": "reduced_formula",
    "chemsys": "chemsys_id",
    "nelements": "nelements",
    "nsites": "nsites",
    "energy_per_atom": "energy_per_atom",
    "e_above_hull": "e_above_hull",
    "formation_energy_per_atom": "formation_energy_per_atom",
    "band_gap": "band_gap",
    "spacegroup_number": "spacegroup_number",
    "volume": "volume",
    "density": "density",
    "created_at": "created_at",
    "id": "id",
    "public_id": "public_id",
}


@dataclass
class EntrySearch:
    formula: str = ""
    anonymous_formula: str = ""
    elements: list[str] = field(default_factory=list)  # contains all
    elements_any: list[str] = field(default_factory=list)
    elements_only: list[str] = field(default_factory=list)
    exclude_elements: list[str] = field(default_factory=list)
    chemsys: str = ""  # "Li-*-O": wildcards stand for any element
    nelements_min: int | None = None
    nelements_max: int | None = None
    nsites_min: int | None = None
    nsites_max: int | None = None
    e_above_hull_min: float | None = None
    e_above_hull_max: float | None = None
    formation_energy_min: float | None = None
    formation_energy_max: float | None = None
    band_gap_min: float | None = None
    band_gap_max: float | None = None
    spacegroup_number: int | None = None
    spacegroup_symbol: str = ""
    is_stable: bool | None = None
    hull_set: str = DEFAULT_HULL_SET
    source: list[str] = field(default_factory=list)
    method: list[str] = field(default_factory=list)
    batch: int | None = None
    sort: str = "e_above_hull"
    # Derived by validate(), not a parameter: the elements an anonymous formula names, each with its amount in
    # the reduced formula (None: any, every amount being the same); anonymous_formula keeps all the amounts.
    anonymous_named: tuple[tuple[str, str | None], ...] = field(default=(), metadata={"derived": True})

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> "EntrySearch":
        """Read URL parameters; lists may be repeated or comma-separated, any other parameter is given once (a
        repeat with another value is refused). Unknown names are ignored."""
        search = cls()
        for spec in fields(cls):
            if spec.name not in params or spec.metadata.get("derived"):
                continue
            raw = params.getlist(spec.name) if hasattr(params, "getlist") else params[spec.name]
            values = raw if isinstance(raw, list) else [raw]
            values = [str(v).strip() for v in values if v is not None and str(v).strip() != ""]
            if not values:
                continue
            setattr(search, spec.name, _convert(spec.name, spec.type, values))
        search.validate()
        return search

    def validate(self) -> None:
        check_hull_set(self.hull_set)
        for name in ("elements", "elements_any", "elements_only", "exclude_elements"):
            setattr(self, name, parse_elements(getattr(self, name)))
        if self.chemsys:
            _chemsys_parts(self.chemsys)
            self.chemsys = "-".join(
                part if part == "*" else parse_elements([part])[0]
                for part in self.chemsys.replace(",", "-").split("-")
            )
        if self.anonymous_formula:
            try:
                pattern = read_anonymous(self.anonymous_formula)
            except CatalogueError as exc:
                raise CatalogueError(f"parameter 'anonymous_formula': {exc}") from exc
            self.anonymous_formula, self.anonymous_named = pattern.anonymous, pattern.named
        if self.formula:
            self.formula = formula_readings(self.formula)[0]
        if self.spacegroup_symbol:
            number = space_group_number(self.spacegroup_symbol)
            if self.spacegroup_number not in (None, number):
                raise CatalogueError(
                    f"spacegroup_symbol {self.spacegroup_symbol!r} is space group {number}, "
                    f"not spacegroup_number {self.spacegroup_number}"
                )
            self.spacegroup_number, self.spacegroup_symbol = number, ""
        key = self.sort.lstrip("-")
        if key not in SORTABLE:
            raise CatalogueError(f"cannot sort by {self.sort!r}: choose one of {', '.join(sorted(SORTABLE))}")
        for low, high in (
            ("nelements_min", "nelements_max"),
            ("nsites_min", "nsites_max"),
            ("e_above_hull_min", "e_above_hull_max"),
            ("formation_energy_min", "formation_energy_max"),
            ("band_gap_min", "band_gap_max"),
        ):
            a, b = getattr(self, low), getattr(self, high)
            if a is not None and b is not None and a > b:
                raise CatalogueError(f"{low} ({a}) is larger than {high} ({b})")
        if self.spacegroup_number is not None and not 1 <= self.spacegroup_number <= 230:
            raise CatalogueError(f"spacegroup_number must be between 1 and 230, not {self.spacegroup_number}")

    def as_params(self) -> dict[str, str]:
        """The parameters that give this validated search again (its sort always, other defaults left out): what
        a link to the same search elsewhere carries, such as the REST export's."""
        params = {}
        default = EntrySearch()
        for spec in fields(self):
            value = getattr(self, spec.name)
            if spec.metadata.get("derived") or (value == getattr(default, spec.name) and spec.name != "sort"):
                continue
            if spec.name == "anonymous_formula":
                value = pattern_text(value, self.anonymous_named)
            if isinstance(value, list):
                value = ",".join(value)
            elif isinstance(value, bool):
                value = "true" if value else "false"
            params[spec.name] = str(value)
        return params

    def needs_stability_row(self) -> bool:
        """Whether only entries with a stability row in the hull set can match (a condition on its values)."""
        bounds = (
            self.e_above_hull_min,
            self.e_above_hull_max,
            self.formation_energy_min,
            self.formation_energy_max,
        )
        return self.is_stable is not None or any(bound is not None for bound in bounds)


# The values of the hull set's stability row that a search is annotated with (and filters and sorts on), and the
# alias of the row's copy of the entry's system (for element conditions beside a condition on those values).
STABILITY_ANNOTATIONS = ("e_above_hull", "formation_energy_per_atom", "is_stable", "decomposition_energy")
ROW_CHEMSYS = "stab_chemsys"


VALUED, UNVALUED = "valued", "unvalued"


def sorts_by_missing_row(search: EntrySearch) -> bool:
    """Whether ``search`` sorts by a stability value while entries without one can match (no condition needs the
    row). Its single query (``ORDER BY value NULLS LAST, id``) must then join every matching entry's row before
    its LIMIT (seconds at a million entries); :func:`search_parts` splits it instead."""
    return search.sort.lstrip("-") in STABILITY_ANNOTATIONS and not search.needs_stability_row()


def search_parts(search: EntrySearch) -> list[QuerySet[Entry]]:
    """The results of ``search`` as consecutive parts: one queryset, or, where :func:`sorts_by_missing_row`, the
    entries with a value of the sort key, sorted by it and id (an inner join that the database reads off the
    hull set's index in order), then those without one (no row in the hull set, or an empty value), by id. The
    parts in turn are the single query's rows in its order (:class:`SearchParts` slices them)."""
    if not sorts_by_missing_row(search):
        return [search_entries(search)]
    return [search_entries(search, part=VALUED), search_entries(search, part=UNVALUED)]


def valued_part(queryset: QuerySet, column: str, descending: bool, then: list) -> QuerySet:
    """The first part of ``queryset`` ordered by ``column`` (nulls last) and then ``then``: the rows with a value,
    in a plain order (no nulls to place, so a descending order matches the ascending index read backwards)."""
    plain = F(column).desc() if descending else F(column).asc()
    return queryset.filter(**{f"{column}__isnull": False}).order_by(plain, *then)


def unvalued_part(queryset: QuerySet, column: str, then: list) -> QuerySet:
    """The second part: the rows of ``queryset`` without a value of ``column``, by ``then``."""
    return queryset.filter(**{f"{column}__isnull": True}).order_by(*then)


class SearchParts:
    """Consecutive querysets sliced and counted as one ordered list (for ``Paginator`` and offset pages).

    ``total`` counts all of them at once (the single search: its count needs no sort); a reader that only slices
    (an OPTIMADE page, which counts its filter apart) gives none. A slice reads the parts in turn; the count of an
    earlier part is needed only when a slice starts past its end."""

    ordered = True

    def __init__(self, parts: list[QuerySet], total: QuerySet | None = None) -> None:
        self.parts, self.total = parts, total

    def count(self) -> int:
        if self.total is None:
            raise TypeError("these search parts were given no total to count")
        return self.total.count()

    def __getitem__(self, window: slice) -> list:
        if not isinstance(window, slice) or window.step not in (None, 1):
            raise TypeError("search parts are read in slices")
        start = window.start or 0
        size = None if window.stop is None else max(0, window.stop - start)
        rows: list = []
        for part in self.parts:
            if size is not None and len(rows) >= size:
                break
            wanted = None if size is None else size - len(rows)
            got = list(part[start : None if wanted is None else start + wanted])
            if not got and start:
                start = max(0, start - part.count())  # the slice starts past this part's end
            else:
                start = 0
            rows += got
        return rows


def search_entries(search: EntrySearch, *, part: str | None = None) -> QuerySet[Entry]:
    """Entries matching ``search``, annotated with their stability in ``search.hull_set`` and sorted; ``part``
    (:data:`VALUED` or :data:`UNVALUED`) selects one part of :func:`search_parts`."""
    queryset = Entry.objects.annotate(
        stab=FilteredRelation("stabilities", condition=Q(stabilities__hull_set=search.hull_set))
    ).annotate(**{name: F(f"stab__{name}") for name in STABILITY_ANNOTATIONS})
    queryset = queryset.alias(**{ROW_CHEMSYS: F("stab__chemsys")})
    if search.formula:
        queryset = queryset.filter(reduced_formula=parse_composition(search.formula).reduced_formula)
    if search.anonymous_formula:
        queryset = queryset.filter(anonymous_formula=search.anonymous_formula)
    for element, amount in search.anonymous_named:
        if amount is not None:
            queryset = queryset.filter(reduced_formula__regex=reduced_formula_pattern(element, amount))
    contains_all = list(search.elements) + [element for element, _ in search.anonymous_named]
    if search.chemsys:
        known, size = _chemsys_parts(search.chemsys)
        contains_all += known
        if len(known) == size:
            queryset = queryset.filter(chemsys_id="-".join(sorted(known)))
        else:
            queryset = queryset.filter(nelements=size)
    if contains_all or search.elements_any or search.elements_only or search.exclude_elements:
        # With a stability condition only entries with a stability row match, and the row holds a copy of the
        # entry's system: the condition on the row's copy lets the database walk the stability index
        # (hull_set, chemsys, e_above_hull) per matching system instead of every entry of those systems.
        column = ROW_CHEMSYS if search.needs_stability_row() or part == VALUED else "chemsys"
        queryset = queryset.filter(
            systems_with_elements(
                column,
                contains_all=contains_all,
                contains_any=search.elements_any,
                only=search.elements_only,
                exclude=search.exclude_elements,
            )
        )
    # Stability conditions name the annotations, so they apply to the one joined stability row; each filter()
    # on "stab__..." would join the stability table again (the same row: (entry, hull set) is unique).
    ranges = {
        "nelements": (search.nelements_min, search.nelements_max),
        "nsites": (search.nsites_min, search.nsites_max),
        "e_above_hull": (search.e_above_hull_min, search.e_above_hull_max),
        "formation_energy_per_atom": (search.formation_energy_min, search.formation_energy_max),
        "band_gap": (search.band_gap_min, search.band_gap_max),
    }
    for name, (low, high) in ranges.items():
        if low is not None:
            queryset = queryset.filter(**{f"{name}__gte": low})
        if high is not None:
            queryset = queryset.filter(**{f"{name}__lte": high})
    if search.spacegroup_number is not None:
        queryset = queryset.filter(spacegroup_number=search.spacegroup_number)
    if search.spacegroup_symbol:
        queryset = queryset.filter(spacegroup_symbol=search.spacegroup_symbol)
    if search.is_stable is not None:
        queryset = queryset.filter(is_stable=search.is_stable)
    if search.source:
        queryset = queryset.filter(source__in=search.source)
    if search.method:
        queryset = queryset.filter(method__in=search.method)
    if search.batch is not None:
        queryset = queryset.filter(batch_id=search.batch)
    key = search.sort.lstrip("-")
    column = SORTABLE[key]
    if part is not None:
        if part == VALUED:
            return valued_part(queryset, column, search.sort.startswith("-"), ["id"])
        return unvalued_part(queryset, column, ["id"])
    if search.sort.startswith("-"):
        order = F(column).desc(nulls_last=True)
    else:
        order = F(column).asc(nulls_last=True)
    return queryset.order_by(order, "id")


# The values of a search that reach the SQL unchanged, as parameters: they may be markers of a compiled read
# (hull/compiled_reads.py). The other values shape the query's text (a formula is reduced, a system split).
MARKED_VALUES = (
    "nelements_min",
    "nelements_max",
    "nsites_min",
    "nsites_max",
    "e_above_hull_min",
    "e_above_hull_max",
    "formation_energy_min",
    "formation_energy_max",
    "band_gap_min",
    "band_gap_max",
    "spacegroup_number",
    "spacegroup_symbol",
    "anonymous_formula",
    "batch",
)
MARKED_LISTS = ("source", "method")
MARKED_ELEMENTS = ("elements", "elements_any", "exclude_elements")


def marked_search(search: EntrySearch, marks: Marks) -> EntrySearch | None:
    """``search`` with the values that reach the SQL unchanged replaced by ``marks``' markers, for a read compiled
    per shape; ``None`` where it cannot be: elements beside a chemical system (both make one "contains all" list,
    whose repeats are dropped), a marker element among the elements that stay, or too many elements to mark."""
    if search.elements and (search.chemsys or search.anonymous_named):
        return None
    staying = set(search.elements_only) | set(_chemsys_parts(search.chemsys)[0] if search.chemsys else ())
    staying |= {element for element, _ in search.anonymous_named}
    if staying.intersection(ELEMENT_MARKERS):
        return None
    changes: dict = {}
    for name in MARKED_VALUES:
        value = getattr(search, name)
        changes[name] = marks.value(value) if value not in ("", None) else value
    for name in MARKED_LISTS:
        changes[name] = [marks.value(value) for value in getattr(search, name)]
    try:
        for name in MARKED_ELEMENTS:
            changes[name] = [marks.element(symbol) for symbol in getattr(search, name)]
    except StopIteration:
        return None
    return replace(search, **changes)


def search_shape(search: EntrySearch) -> tuple:
    """A hashable summary of every field of ``search`` (a marked search's shape)."""
    return tuple(
        (spec.name, tuple(value) if isinstance(value, list) else value)
        for spec in fields(search)
        for value in [getattr(search, spec.name)]
    )


def _chemsys_parts(text: str) -> tuple[list[str], int]:
    """``"Li-*-O"`` -> (["Li", "O"], 3), with clear errors for malformed systems."""
    parts = [p.strip() for p in text.replace(",", "-").split("-")]
    if any(not p for p in parts):
        raise CatalogueError(
            f"malformed chemical system {text!r} (expected elements or * joined by '-', e.g. Li-*-O)"
        )
    if len(parts) > MAX_ELEMENTS:
        raise CatalogueError(
            f"chemical system {text!r} has {len(parts)} elements; at most {MAX_ELEMENTS} are supported"
        )
    known = [p for p in parts if p != "*"]
    elements = parse_elements(known)
    if len(elements) != len(known):
        raise CatalogueError(f"chemical system {text!r} repeats an element")
    return elements, len(parts)


def single_value(name: str, values: list[str]) -> str:
    """The one value of a parameter that takes one: refused where it is given again with another value (reading
    only one of them would answer a question the client did not ask)."""
    distinct = list(dict.fromkeys(values))
    if len(distinct) > 1:
        shown = ", ".join(repr(value[:40]) for value in distinct[:3])
        raise CatalogueError(f"parameter {name!r} is given {len(values)} times ({shown}); it takes one value")
    return distinct[0]


def int_in_range(name: str, value: int) -> int:
    """``value`` where the database can hold it (:data:`INT_MIN` to :data:`INT_MAX`), else a ``CatalogueError``."""
    if not INT_MIN <= value <= INT_MAX:
        raise CatalogueError(f"parameter {name!r} is {value}, outside {INT_MIN} to {INT_MAX}")
    return value


def list_values(values: list[str]) -> list[str]:
    """The items of a list parameter: its repeats combined, each split at commas, blanks dropped."""
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def _convert(name: str, kind: object, values: list[str]):
    text = str(kind)
    if "list" in text:
        return list_values(values)
    value = single_value(name, values)
    try:
        if "bool" in text:
            lowered = value.lower()
            if lowered in TRUE_WORDS:
                return True
            if lowered in FALSE_WORDS:
                return False
            raise ValueError(value)
        if "int" in text:
            return int_in_range(name, int(value))
        if "float" in text:
            number = float(value)
            if number != number or number in (float("inf"), float("-inf")):
                raise ValueError(value)
            return number
    except ValueError as exc:
        raise CatalogueError(
            f"parameter {name!r} is {value!r}, which is not a valid {text.split()[0]}"
        ) from exc
    return value
