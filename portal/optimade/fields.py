"""OPTIMADE properties as filterable fields: how each stored column (or derived value, or constant) answers the
comparisons of a filter (:mod:`portal.optimade.filters` parses the text and combines what these return), and the
errors and conditions they share with the transformer."""

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime

from django.db import connection
from django.db.models import F, Q, Value
from django.db.models.functions import Left, Right, StrIndex
from django.db.models.lookups import Exact, GreaterThan
from django.utils.dateparse import parse_datetime
from django.utils.timezone import is_naive, make_aware
from pymatgen.core import Composition, Element

from hull.selectors import Systems

NOTHING = Q(pk__in=[])
EVERYTHING = Q(pk__isnull=False)  # a true condition (an empty Q() vanishes when combined or negated)
OPERATORS = {"=": "exact", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
REVERSED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}


class FilterError(Exception):
    """The filter is wrong (400 Bad Request)."""


class FilterNotImplemented(Exception):
    """The filter is valid OPTIMADE that this implementation does not support (501 Not Implemented)."""


# --- fields ----------------------------------------------------------------------------------------------


class Field:
    """How one OPTIMADE property is queried. ``column`` is a field or annotation of the queryset."""

    kind = "string"

    def __init__(self, column: str | None = None, *, nullable: bool = False) -> None:
        self.column = column
        self.nullable = nullable

    def coerce(self, value):
        return value

    def compare(self, op: str, value) -> Q:
        value = self.coerce(value)
        if op == "!=":
            return Q(**{f"{self.column}__isnull": False}) & ~Q(**{self.column: value})
        return Q(**{f"{self.column}__{OPERATORS[op]}": value})

    def known(self, known: bool) -> Q:
        if not self.nullable:
            return EVERYTHING if known else NOTHING
        return Q(**{f"{self.column}__isnull": not known})

    def fuzzy(self, op: str, value) -> Q:
        raise FilterNotImplemented(f"{op} is not supported on this property")

    def has(self, mode: str, values: list) -> Q:
        raise FilterError(f"HAS {mode} applies to list properties only")

    def length(self, op: str, value: int) -> Q:
        raise FilterError("LENGTH applies to list properties only")


def rfc3339(moment: datetime) -> str:
    """A timestamp as RFC 3339 in UTC with a ``Z`` (no ``+`` to be mangled in URLs)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class StringField(Field):
    def coerce(self, value):
        if not isinstance(value, str):
            raise FilterError(f"a string property is compared with {value!r}; quote strings")
        if "\x00" in value:
            raise FilterError("strings may not contain NUL characters")
        return value

    def fuzzy(self, op: str, value) -> Q:
        value = self.coerce(value)
        if connection.vendor == "postgresql":  # case-sensitive LIKE, served by text indexes
            lookup = {"CONTAINS": "contains", "STARTS": "startswith", "ENDS": "endswith"}[op]
            return Q(**{f"{self.column}__{lookup}": value})
        # SQLite's LIKE ignores case: use exact, case-sensitive substring functions instead
        not_null = Q(**{f"{self.column}__isnull": False})
        if op == "CONTAINS":
            return not_null & Q(GreaterThan(StrIndex(F(self.column), Value(value)), 0))
        if not value:
            return not_null
        function = Left if op == "STARTS" else Right
        return not_null & Q(Exact(function(F(self.column), len(value)), Value(value)))


class NumberField(Field):
    kind = "number"

    def coerce(self, value):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise FilterError(f"a numeric property is compared with {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise FilterError("numbers must be finite")
        if isinstance(value, int) and abs(value) > 2**62:
            raise FilterError(f"number {value} is out of range")
        return value


class BoolField(Field):
    kind = "boolean"

    def coerce(self, value):
        if not isinstance(value, bool):
            raise FilterError(f"a boolean property is compared with {value!r} (use TRUE or FALSE)")
        return value

    def compare(self, op: str, value) -> Q:
        if op not in ("=", "!="):
            raise FilterError("booleans support = and != only")
        return super().compare(op, value)


class TimestampField(Field):
    kind = "timestamp"

    def coerce(self, value):
        if not isinstance(value, str):
            raise FilterError(f"timestamps are compared with quoted RFC 3339 strings, not {value!r}")
        text = re.sub(r" (\d\d:\d\d)$", r"+\1", value)  # a '+' that arrived unescaped in a URL
        try:
            moment = parse_datetime(text.replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is None:
            raise FilterError(f"{value!r} is not an RFC 3339 timestamp")
        if is_naive(moment):
            return make_aware(moment, UTC)
        try:  # compared in UTC, where the offset can move the date out of the calendar (years 1 to 9999)
            return moment.astimezone(UTC)
        except OverflowError as exc:
            raise FilterError(f"{value!r} lies outside the years 1 to 9999 in UTC") from exc

    def fuzzy(self, op: str, value) -> Q:
        raise FilterError(f"{op} applies to strings, not timestamps")


class DerivedStringField(StringField):
    """A string property served as ``to_served(stored column)`` (``None``: unset, matched by no comparison). Every
    operator is evaluated over the distinct stored values (a bounded set, refused with 501 beyond ``MAX_VALUES``)
    and becomes ``column IN (...)``."""

    MAX_VALUES = 20000

    def __init__(self, column: str, to_served: Callable[[str], str]) -> None:
        super().__init__(column)
        self.to_served = to_served

    def compare(self, op: str, value) -> Q:
        value = self.coerce(value)
        if op == "!=":
            return Q(**{f"{self.column}__isnull": False}) & ~self.compare("=", value)
        return self._matching(lambda served: _string_compare(served, op, value))

    def fuzzy(self, op: str, value) -> Q:
        value = self.coerce(value)
        test = {"CONTAINS": str.__contains__, "STARTS": str.startswith, "ENDS": str.endswith}[op]
        return self._matching(lambda served: test(served, value))

    def _matching(self, keep: Callable[[str], bool]) -> Q:
        from hull.models import Entry

        stored = list(Entry.objects.values_list(self.column, flat=True).distinct()[: self.MAX_VALUES + 1])
        if len(stored) > self.MAX_VALUES:
            raise FilterNotImplemented(
                f"this comparison is only supported on catalogues with at most {self.MAX_VALUES} distinct values; "
                "use = or elements"
            )
        served = {v: self.to_served(v) for v in stored if v is not None}
        chosen = [v for v, value in served.items() if value is not None and keep(value)]
        return Q(**{f"{self.column}__in": chosen}) if chosen else NOTHING


class ReducedFormulaField(DerivedStringField):
    """``chemical_formula_reduced`` in OPTIMADE form (elements alphabetical) over pymatgen's stored reduced
    formula: equality goes through the composition (an indexed lookup), other operators over distinct values."""

    def compare(self, op: str, value) -> Q:
        value = self.coerce(value)
        if op not in ("=", "!="):
            return super().compare(op, value)
        stored = _pymatgen_reduced(value)
        if stored is None or self.to_served(stored) != value:  # not a reduced formula in OPTIMADE form
            return NOTHING if op == "=" else EVERYTHING
        q = Q(**{self.column: stored})
        return q if op == "=" else ~q


def _string_compare(a: str, op: str, b: str) -> bool:
    return {"=": a == b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _pymatgen_reduced(text: str) -> str | None:
    if not re.fullmatch(r"([A-Z][a-z]?\d*)+", text):
        return None
    try:
        comp = Composition(text)
    except Exception:  # pymatgen raises several types on odd input
        return None
    if not all(isinstance(el, Element) for el in comp.elements):
        return None
    return comp.reduced_formula


class ElementsField(Field):
    """``elements``: HAS / HAS ALL / HAS ANY / HAS ONLY through the chemical-system element table; LENGTH is
    ``nelements``."""

    kind = "list"

    def compare(self, op: str, value) -> Q:
        raise FilterError("elements is a list: use HAS, HAS ALL, HAS ANY, HAS ONLY or LENGTH")

    def has(self, mode: str, values: list) -> Q:
        if not all(isinstance(v, str) for v in values):
            raise FilterError("elements are strings: quote them")
        valid = [v for v in values if Element.is_valid_symbol(v)]
        if mode in ("ONE", "ALL") and len(valid) < len(values):
            return NOTHING  # no entry has an unknown element
        if mode == "ANY" and not valid:
            return NOTHING
        if mode == "ONLY" and not valid:
            return NOTHING
        kind = {"ONE": "contains_all", "ALL": "contains_all", "ANY": "contains_any", "ONLY": "only"}[mode]
        return Q(chemsys__in=Systems(**{kind: tuple(valid)}))

    def length(self, op: str, value: int) -> Q:
        return NumberField("nelements").compare(op, value)


class RatiosField(ElementsField):
    def has(self, mode: str, values: list) -> Q:
        raise FilterNotImplemented("HAS queries on elements_ratios (a list of floats) are not supported")


class ConstantField(Field):
    """A property with the same value for every structure we serve (e.g. ``nperiodic_dimensions`` = 3)."""

    def __init__(self, value, kind: str) -> None:
        super().__init__(None)
        self.value = value
        self.kind = kind

    def compare(self, op: str, value) -> Q:
        if self.kind == "list":
            raise FilterError("use HAS or LENGTH on list properties")
        if isinstance(value, bool) or not isinstance(value, type(self.value)):
            raise FilterError(f"this property is compared with {value!r} of the wrong type")
        result = {
            "=": self.value == value,
            "!=": self.value != value,
            "<": self.value < value,
            "<=": self.value <= value,
            ">": self.value > value,
            ">=": self.value >= value,
        }[op]
        return EVERYTHING if result else NOTHING

    def has(self, mode: str, values: list) -> Q:
        if self.kind != "list":
            raise FilterError("HAS applies to list properties only")
        present = set(self.value)
        result = {
            "ONE": all(v in present for v in values),
            "ALL": all(v in present for v in values),
            "ANY": any(v in present for v in values),
            "ONLY": present <= set(values),
        }[mode]
        return EVERYTHING if result else NOTHING

    def length(self, op: str, value: int) -> Q:
        if self.kind != "list":
            raise FilterError("LENGTH applies to list properties only")
        return ConstantField(len(self.value), "number").compare(op, value)


class UnqueryableField(Field):
    def __init__(self, reason: str) -> None:
        super().__init__(None)
        self.reason = reason

    def compare(self, op, value):
        raise FilterNotImplemented(self.reason)

    fuzzy = compare

    def has(self, mode, values):
        raise FilterNotImplemented(self.reason)

    def length(self, op, value):
        raise FilterNotImplemented(self.reason)

    def known(self, known: bool) -> Q:
        return EVERYTHING if known else NOTHING


class UnknownField(Field):
    """A property whose value is unknown for every entry: comparisons are false, IS UNKNOWN is true."""

    def compare(self, op, value):
        return NOTHING

    def fuzzy(self, op, value):
        return NOTHING

    def has(self, mode, values):
        return NOTHING

    def length(self, op, value):
        return NOTHING

    def known(self, known: bool) -> Q:
        return NOTHING if known else EVERYTHING
