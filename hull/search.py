"""Catalogue search: one query object shared by the pages, the REST API and the OPTIMADE layer.

``EntrySearch.from_params`` reads URL parameters (every name below), checks them and raises
``CatalogueError`` naming the bad parameter; ``search_condition`` and ``search_order`` turn a search into the
condition and order that the catalogue's one read takes (:mod:`hull.selectors.search`), over entries annotated
with the stability of the chosen hull set (``e_above_hull``, ``formation_energy_per_atom``, ``is_stable``,
``decomposition_energy``).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from django.db.models import Q, QuerySet

from hull.errors import CatalogueError
from hull.formula_input import formula_readings, pattern_text, read_anonymous, reduced_formula_pattern
from hull.formulas import parse_composition, parse_elements
from hull.hull_sets import DEFAULT_HULL_SET
from hull.models import Entry
from hull.selectors import Systems, check_hull_set
from hull.selectors.search import search_queryset
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


def search_condition(search: EntrySearch) -> Q:
    """The condition of ``search`` over :func:`hull.selectors.search.catalogue_entries` (its element conditions as
    :class:`hull.selectors.elements.Systems` data, for the selector to place)."""
    condition = Q()
    if search.formula:
        condition &= Q(reduced_formula=parse_composition(search.formula).reduced_formula)
    if search.anonymous_formula:
        condition &= Q(anonymous_formula=search.anonymous_formula)
    for element, amount in search.anonymous_named:
        if amount is not None:
            condition &= Q(reduced_formula__regex=reduced_formula_pattern(element, amount))
    contains_all = list(search.elements) + [element for element, _ in search.anonymous_named]
    if search.chemsys:
        known, size = _chemsys_parts(search.chemsys)
        contains_all += known
        if len(known) == size:
            condition &= Q(chemsys_id="-".join(sorted(known)))
        else:
            condition &= Q(nelements=size)
    if contains_all or search.elements_any or search.elements_only or search.exclude_elements:
        systems = Systems(
            contains_all=tuple(contains_all),
            contains_any=tuple(search.elements_any),
            only=tuple(search.elements_only),
            exclude=tuple(search.exclude_elements),
        )
        condition &= Q(chemsys__in=systems)
    ranges = {
        "nelements": (search.nelements_min, search.nelements_max),
        "nsites": (search.nsites_min, search.nsites_max),
        "e_above_hull": (search.e_above_hull_min, search.e_above_hull_max),
        "formation_energy_per_atom": (search.formation_energy_min, search.formation_energy_max),
        "band_gap": (search.band_gap_min, search.band_gap_max),
    }
    for name, (low, high) in ranges.items():
        if low is not None:
            condition &= Q(**{f"{name}__gte": low})
        if high is not None:
            condition &= Q(**{f"{name}__lte": high})
    if search.spacegroup_number is not None:
        condition &= Q(spacegroup_number=search.spacegroup_number)
    if search.spacegroup_symbol:
        condition &= Q(spacegroup_symbol=search.spacegroup_symbol)
    if search.is_stable is not None:
        condition &= Q(is_stable=search.is_stable)
    if search.source:
        condition &= Q(source__in=search.source)
    if search.method:
        condition &= Q(method__in=search.method)
    if search.batch is not None:
        condition &= Q(batch_id=search.batch)
    return condition


def search_order(search: EntrySearch) -> list[tuple[str, bool]]:
    """The sort of ``search`` as the selector's order: its one key (column, descending); id follows."""
    return [(SORTABLE[search.sort.lstrip("-")], search.sort.startswith("-"))]


def search_entries(search: EntrySearch) -> QuerySet[Entry]:
    """Entries matching ``search``, annotated with their stability in ``search.hull_set`` and sorted (nulls last,
    then by id), as one queryset (:func:`hull.selectors.search.search_queryset`)."""
    return search_queryset(
        condition=search_condition(search), hull_set=search.hull_set, order=search_order(search)
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
