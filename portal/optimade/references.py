"""The OPTIMADE ``references`` entries: the papers behind the portal's data and method, kept in code.

They are few and fixed, so filters on them are evaluated in Python: the same filter transformer runs with
fields that build :class:`Predicate` objects (which combine with ``&``, ``|`` and ``~`` like ``Q``) instead of
database lookups.
"""

import operator
from collections.abc import Callable
from datetime import UTC, datetime

from portal.optimade import fields as f
from portal.optimade.filters import parse_filter

LAST_MODIFIED = datetime(2026, 11, 1, tzinfo=UTC)

REFERENCES = [
    {
        "id": "merchant2023",
        "bib_type": "article",
        "authors": [
            {"name": "Amil Merchant", "firstname": "Amil", "lastname": "Merchant"},
            {"name": "Ekin Dogus Cubuk", "firstname": "Ekin Dogus", "lastname": "Cubuk"},
        ],
        "title": "Scaling deep learning for materials discovery",
        "journal": "Nature",
        "volume": "624",
        "pages": "80-85",
        "year": "2023",
        "doi": "10.1038/s41586-023-06735-9",
    },
    {
        "id": "jain2013",
        "bib_type": "article",
        "authors": [
            {"name": "Anubhav Jain", "firstname": "Anubhav", "lastname": "Jain"},
            {"name": "Kristin A. Persson", "firstname": "Kristin A.", "lastname": "Persson"},
        ],
        "title": "Commentary: The Materials Project: A materials genome approach to accelerating materials innovation",
        "journal": "APL Materials",
        "volume": "1",
        "pages": "011002",
        "year": "2013",
        "doi": "10.1063/1.4812323",
    },
]

STRING_PROPERTIES = ("id", "bib_type", "title", "journal", "volume", "pages", "year", "doi")
COMPARE = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class Predicate:
    """A test on one reference (a dict), combinable like ``Q``."""

    def __init__(self, test: Callable[[dict], bool]) -> None:
        self.test = test

    def __and__(self, other: "Predicate") -> "Predicate":
        return Predicate(lambda r: self.test(r) and other.test(r))

    def __or__(self, other: "Predicate") -> "Predicate":
        return Predicate(lambda r: self.test(r) or other.test(r))

    def __invert__(self) -> "Predicate":
        return Predicate(lambda r: not self.test(r))


ALWAYS = Predicate(lambda r: True)
NEVER = Predicate(lambda r: False)


class PyField(f.Field):
    """A scalar property of the in-code references."""

    def __init__(self, name: str, coerce_as: f.Field) -> None:
        super().__init__(name)
        self.checker = coerce_as

    def compare(self, op: str, value) -> Predicate:
        value = self.checker.coerce(value)
        return Predicate(lambda r: r.get(self.column) is not None and COMPARE[op](r[self.column], value))

    def fuzzy(self, op: str, value) -> Predicate:
        if not isinstance(self.checker, f.StringField):
            raise f.FilterError(f"{op} applies to strings")
        value = self.checker.coerce(value)
        test = {"CONTAINS": str.__contains__, "STARTS": str.startswith, "ENDS": str.endswith}[op]
        return Predicate(lambda r: r.get(self.column) is not None and test(r[self.column], value))

    def known(self, known: bool) -> Predicate:
        return Predicate(lambda r: (r.get(self.column) is not None) == known)


class PyUnknown(f.UnknownField):
    def compare(self, op, value):
        return NEVER

    fuzzy = compare

    def has(self, mode, values):
        return NEVER

    def length(self, op, value):
        return NEVER

    def known(self, known):
        return NEVER if known else ALWAYS


def reference_fields() -> dict[str, f.Field]:
    fields: dict[str, f.Field] = {name: PyField(name, f.StringField(name)) for name in STRING_PROPERTIES}
    fields["type"] = PyField("type", f.StringField("type"))
    fields["last_modified"] = PyField("last_modified", f.TimestampField("last_modified"))
    fields["authors"] = f.UnqueryableField("authors (a list of persons) is not queryable")
    return fields


def info_properties() -> dict[str, dict]:
    out = {
        name: {"description": f"{name} of the reference", "type": "string", "sortable": False}
        for name in STRING_PROPERTIES
    }
    out["type"] = {"description": "always references", "type": "string", "sortable": False}
    out["last_modified"] = {"description": "last change", "type": "timestamp", "sortable": False}
    out["authors"] = {"description": "authors", "type": "list", "sortable": False}
    return out


def references_matching(text: str) -> list[dict]:
    rows = [{**item, "type": "references", "last_modified": LAST_MODIFIED} for item in REFERENCES]
    if not text:
        return rows
    predicate = parse_filter(text, reference_fields(), unknown=PyUnknown(), everything=ALWAYS)
    return [row for row in rows if predicate.test(row)]


def reference_resource(row: dict, base_url: str) -> dict:
    attributes = {k: v for k, v in row.items() if k not in ("id", "type")}
    attributes["last_modified"] = f.rfc3339(row["last_modified"])
    return {
        "id": row["id"],
        "type": "references",
        "attributes": attributes,
        "links": {"self": f"{base_url}/references/{row['id']}"},
    }
