"""OPTIMADE filters -> Django ``Q`` objects.

The filter text is parsed with the ``optimade`` package's grammar (``LarkParser``, v1.2.0 grammar) and the tree is
turned into a ``Q`` over the annotated catalogue queryset (:func:`hull.search.search_entries`) by our own lark
``Transformer``. User text only ever becomes query *parameters* (ORM lookups), never SQL.

Errors: a malformed filter, an unknown property or a type mismatch raise :class:`FilterError` (400); a valid
construct we do not implement (zip operators, nested properties, properties as values, operators inside value
lists, queries on arrays of floats or coordinates) raises :class:`FilterNotImplemented` (501).

Semantics of properties we do not store (standard ones we do not serve, and other providers' fields): their
value is unknown, so every comparison on them is false and ``IS UNKNOWN`` is true.
"""

import math
import re
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from django.conf import settings
from django.db.models import Q
from django.db.models.expressions import BaseExpression
from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import VisitError
from optimade.exceptions import BadRequest
from optimade.filterparser import LarkParser
from optimade.filterparser.lark_parser import AVAILABLE_PARSERS
from optimade.models import StructureResourceAttributes

from hull.compiled_reads import ELEMENT_MARKERS, Marks
from hull.search import ROW_CHEMSYS, STABILITY_ANNOTATIONS
from portal.optimade.fields import (
    EVERYTHING,
    REVERSED,
    Field,
    FilterError,
    FilterNotImplemented,
    Systems,
    UnknownField,
)

GRAMMAR_VERSION = (1, 2, 0)
MAX_FILTER_LENGTH = 4000
MAX_NESTING = 30
PARSED_FILTERS = 1024  # distinct filter texts whose parse trees are kept (each a few kB)
PARSED_FILTER_LENGTH = 1000  # longer texts are parsed every time: their trees would make the cache large
STANDARD_PROPERTIES = set(StructureResourceAttributes.model_fields) | {"id", "type"}


@dataclass(frozen=True)
class Prop:
    name: str


def _parser() -> LarkParser:
    """The package's parser on the package's grammar, with two changes to its Lark instance:

    - token positions are kept: the grammar's bool rule drops its TRUE/FALSE token, so the value is read back
      from the filter text at the rule's position;
    - LALR(1) instead of Earley: the grammar has no conflicts under LALR (Lark refuses a grammar that has) and
      gives the same trees (tests/api/test_optimade_grammar.py holds the two parsers equal on generated filters),
      20 to 100 times faster: an Earley parse cost more than the query the filter becomes.
    """
    parser = LarkParser(version=GRAMMAR_VERSION)
    with open(AVAILABLE_PARSERS[GRAMMAR_VERSION]["default"]) as handle:
        parser.lark = Lark(handle.read(), parser="lalr", maybe_placeholders=False, propagate_positions=True)
    return parser


PARSER = _parser()


def check_filter_text(text: str) -> None:
    if len(text) > MAX_FILTER_LENGTH:
        raise FilterError(f"filter is {len(text)} characters long; at most {MAX_FILTER_LENGTH} are accepted")
    depth = deepest = 0
    for char in re.sub(r'"(?:[^"\\]|\\.)*"', '""', text):
        if char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
    if deepest > MAX_NESTING:
        raise FilterError(f"filter nests parentheses {deepest} deep; at most {MAX_NESTING} are accepted")


def parse_filter(
    text: str, fields: dict[str, "Field"], *, unknown: "Field | None" = None, everything=EVERYTHING
):
    """The ``Q`` of an OPTIMADE filter over ``fields`` (OPTIMADE name -> Field); an empty filter is ``everything``.

    ``unknown`` answers for properties whose value is unknown (other providers' fields, standard fields we do
    not serve); by default comparisons on them match nothing."""
    return resolved(_transformed(text, fields, unknown or UnknownField(), everything))


@dataclass(frozen=True)
class MarkedFilter:
    """A filter's condition twice: with the request's values (``real``) and with markers in their place
    (``marked``, see :func:`marked`), both to be :func:`resolved`; ``key`` is the marked condition's
    :func:`shape_key` (``None``: the filter cannot be keyed)."""

    key: Hashable | None
    marked: Q
    real: Q


def marked_filter(text: str, fields: dict[str, "Field"], marks: Marks) -> MarkedFilter:
    """:func:`parse_filter`'s condition with its values marked by ``marks``, and the key of its shape."""
    real = _transformed(text, fields, UnknownField(), EVERYTHING)
    try:
        condition = marked(real, marks)
    except Unmarkable:
        return MarkedFilter(None, real, real)
    return MarkedFilter(shape_key(condition), condition, real)


def _transformed(text: str, fields: dict[str, "Field"], unknown: "Field", everything):
    check_filter_text(text)
    try:
        tree = _parse_tree(text) if len(text) <= PARSED_FILTER_LENGTH else PARSER.parse(text)
    except BadRequest as exc:
        raise FilterError(f"cannot parse the filter: {_first_line(exc.detail)}") from exc
    except RecursionError as exc:
        raise FilterError("filter too deeply nested") from exc
    try:
        return FilterTransformer(text, fields, unknown, everything).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, FilterError | FilterNotImplemented):
            raise exc.orig_exc from None
        raise
    except RecursionError as exc:
        raise FilterError("filter too deeply nested") from exc


@lru_cache(maxsize=PARSED_FILTERS)
def _parse_tree(text: str) -> Tree:
    """The grammar's tree of a filter text, kept per text: clients page through and repeat the same filters.
    Only successful parses are kept (an error raises, which ``lru_cache`` does not store). The tree is only
    read afterwards: the transformer builds new objects and never changes it, so one tree can serve
    concurrent requests."""
    return PARSER.parse(text)


def _first_line(detail: str | None) -> str:
    text = (detail or "").split("Lark traceback:")[-1].strip()
    return text.splitlines()[0][:300] if text else "syntax error"


# --- the transformer -------------------------------------------------------------------------------------


class FilterTransformer(Transformer):
    """Bottom-up translation of the OPTIMADE grammar's tree into ``Q`` objects."""

    def __init__(self, text: str, fields: dict[str, Field], unknown: Field, everything) -> None:
        super().__init__()
        self.text = text
        self.fields = fields
        self.unknown = unknown
        self.everything = everything
        self.own_prefix = settings.PORTAL_ID_PREFIX

    # values
    def filter(self, children):
        return children[0] if children else self.everything

    @v_args(inline=True)
    def string(self, token: Token) -> str:
        return re.sub(r"\\(.)", r"\1", str(token)[1:-1], flags=re.S)

    @v_args(inline=True)
    def number(self, token: Token):
        value = int(token) if token.type == "SIGNED_INT" else float(token)
        if isinstance(value, float) and not math.isfinite(value):
            raise FilterError(f"number {token} is out of range")
        return value

    @v_args(inline=True)
    def signed_int(self, token: Token) -> int:
        return int(token)

    @v_args(meta=True)
    def bool(self, meta, children) -> bool:
        return self.text[meta.start_pos : meta.end_pos].strip() == "TRUE"

    def property(self, children) -> Prop:
        if len(children) > 1:
            raise FilterNotImplemented("nested properties (a.b) are not supported")
        return Prop(str(children[0]))

    @v_args(inline=True)
    def value(self, item):
        return item

    constant = value
    non_string_value = value

    @v_args(inline=True)
    def not_implemented_string(self, item):
        return item

    def value_list(self, children) -> list:
        if any(isinstance(c, Token) and c.type == "OPERATOR" for c in children):
            raise FilterNotImplemented("operators inside value lists are not supported")
        return list(children)

    def value_zip(self, children):
        raise FilterNotImplemented("zipped (:) set operators are not supported")

    value_zip_list = value_zip
    set_zip_op_rhs = value_zip
    property_zip_addon = value_zip

    # right-hand sides, as tuples handed to the comparison
    @v_args(inline=True)
    def value_op_rhs(self, operator: Token, value):
        return ("compare", str(operator), value)

    def known_op_rhs(self, children):
        return ("known", children[-1].type == "KNOWN")

    def fuzzy_string_op_rhs(self, children):
        return ("fuzzy", children[0].type, children[-1])

    def set_op_rhs(self, children):
        rest = children[1:]
        if len(rest) == 2 and isinstance(rest[0], Token) and rest[0].type == "OPERATOR":
            raise FilterNotImplemented("HAS with an operator is not supported")
        if len(rest) == 1:
            return ("has", "ONE", [rest[0]])
        return ("has", rest[0].type, rest[1])

    def length_op_rhs(self, children):
        op = str(children[1]) if len(children) == 3 else "="
        return ("length", op, children[-1])

    # comparisons
    @v_args(inline=True)
    def property_first_comparison(self, prop: Prop, rhs: tuple) -> Q:
        field = self.field(prop)
        kind = rhs[0]
        if kind == "compare":
            _, op, value = rhs
            if isinstance(value, Prop):
                raise FilterNotImplemented("comparing two properties is not supported")
            return field.compare(op, value)
        if kind == "known":
            return field.known(rhs[1])
        if kind == "fuzzy":
            if isinstance(rhs[2], Prop):
                raise FilterNotImplemented("comparing two properties is not supported")
            return field.fuzzy(rhs[1], rhs[2])
        if kind == "has":
            values = rhs[2]
            if any(isinstance(v, Prop) for v in values):
                raise FilterNotImplemented("properties inside HAS are not supported")
            return field.has(rhs[1], values)
        return field.length(rhs[1], rhs[2])

    @v_args(inline=True)
    def constant_first_comparison(self, constant, operator: Token, other) -> Q:
        if not isinstance(other, Prop):
            raise FilterNotImplemented("comparing two constants is not supported")
        return self.field(other).compare(REVERSED[str(operator)], constant)

    @v_args(inline=True)
    def comparison(self, q: Q) -> Q:
        return q

    def expression_phrase(self, children) -> Q:
        if len(children) == 2:  # NOT phrase
            return ~children[1]
        return children[0]

    def expression_clause(self, children) -> Q:
        if any(_needs_stability_row(child) for child in children):
            children = [_on_stability_row(child) for child in children]
        return _combine(children, lambda a, b: a & b)

    def expression(self, children) -> Q:
        return _combine(children, lambda a, b: a | b)

    def field(self, prop: Prop) -> Field:
        name = prop.name
        if name in self.fields:
            return self.fields[name]
        if name.startswith("_"):
            prefix = name[1:].split("_", 1)[0]
            if prefix == self.own_prefix:
                raise FilterError(
                    f"unknown property {name!r} (our provider fields are listed in /info/structures)"
                )
            return self.unknown  # another provider's field
        if name in STANDARD_PROPERTIES:
            return self.unknown  # standard, not served here
        raise FilterError(f"unknown property {name!r}")


def _needs_stability_row(q: Q) -> bool:
    """Whether ``q`` holds only for entries with a stability row: it is not negated and requires (directly or
    through an AND) a value of the row's, or IS KNOWN on one."""
    if not isinstance(q, Q) or q.negated or q.connector != Q.AND:
        return False
    for child in q.children:
        if isinstance(child, tuple):
            column, _, lookup = child[0].partition("__")
            if column in STABILITY_ANNOTATIONS and (
                child[1] is False if lookup == "isnull" else child[1] is not None
            ):
                return True
        elif _needs_stability_row(child):
            return True
    return False


def _on_stability_row(q: Q) -> Q:
    """An element condition (systems by elements) as a condition on the stability row's copy of the system, for
    use beside a conjunct that requires the row: the database can then walk the stability index per system
    (see ``hull.search.search_entries``); anything else unchanged."""
    if isinstance(q, Q) and not q.negated and len(q.children) == 1 and isinstance(q.children[0], tuple):
        name, value = q.children[0]
        if name == "chemsys__in":
            return Q(**{f"{ROW_CHEMSYS}__in": value})
    return q


# --- conditions as data: resolved, marked, keyed --------------------------------------------------------------

# Lookups whose value reaches the SQL unchanged as one parameter (a string under "contains" does not: it is
# wrapped in wildcards), and every lookup the fields make (a name without one is "exact").
MARKABLE_LOOKUPS = {"exact", "lt", "lte", "gt", "gte"}
LOOKUPS = MARKABLE_LOOKUPS | {"in", "isnull", "contains", "startswith", "endswith"}


def _rebuilt(q: Q, child: Callable) -> Q:
    """``q`` with ``child`` applied to each (field lookup, value) pair, through nested ``Q`` objects."""
    children = [_rebuilt(c, child) if isinstance(c, Q) else child(c) for c in q.children]
    return Q(*children, _connector=q.connector, _negated=q.negated)


class Unmarkable(Exception):
    """A condition whose values cannot all be told from markers (it is read through the ORM)."""


def resolved(condition):
    """``condition`` with each :class:`Systems` made its condition; anything but a ``Q`` is returned as it is."""
    if not isinstance(condition, Q):
        return condition

    def child(c):
        if isinstance(c, tuple) and isinstance(c[1], Systems):
            return c[1].condition(c[0].removesuffix("__in"))
        return c

    return _rebuilt(condition, child)


def on_stability_rows(condition):
    """``condition`` with every element condition on the stability row's copy of the system, for a read of rows
    that all have one (the first part of a page sorted by a stability value): the database then tests the rows
    it walks in the row index's order without reading their entries first."""
    if not isinstance(condition, Q):
        return condition

    def child(c):
        if isinstance(c, tuple) and c[0] == "chemsys__in" and isinstance(c[1], Systems):
            return (f"{ROW_CHEMSYS}__in", c[1])
        return c

    return _rebuilt(condition, child)


def marked(condition: Q, marks: Marks) -> Q:
    """``condition`` with the values that reach the SQL unchanged replaced by ``marks``' markers
    (hull/compiled_reads.py): numbers and strings compared with =, <, <=, >, >=, the items of ``in`` lists and
    the elements of :class:`Systems` (except ``ONLY``, whose element list names its subsystems). Other values
    (booleans, timestamps, wildcard strings) stay and are part of the shape. Raises :class:`Unmarkable` where
    markers run out or a value kept would read as one."""
    if not isinstance(condition, Q):
        return condition

    def child(c):
        if not isinstance(c, tuple):
            return c  # an expression (SQLite's exact substring tests): kept as it is
        name, value = c
        field, _, lookup = name.rpartition("__")
        if not field or lookup not in LOOKUPS:
            lookup = "exact"
        if lookup in MARKABLE_LOOKUPS:
            return (name, marks.value(value))
        if lookup == "in" and isinstance(value, Systems):
            if value.mode == "ONLY":
                if set(value.elements) & set(ELEMENT_MARKERS):  # its names would read as markers
                    raise Unmarkable(f"elements HAS ONLY {value.elements}")
                return c
            try:
                return (
                    name,
                    Systems(value.mode, tuple([marks.element(symbol) for symbol in value.elements])),
                )
            except StopIteration:
                raise Unmarkable("more elements than element markers") from None
        if lookup == "in" and isinstance(value, list | tuple):
            return (name, [marks.value(item) for item in value])
        return c

    return _rebuilt(condition, child)


def shape_key(condition: Q) -> Hashable | None:
    """A key that is equal for two conditions exactly when they are the same condition (connectors, negations,
    lookups and values, types included: ``1`` is not ``1.0`` or ``True``); ``None`` for a value of a type it does
    not know (such a condition is read through the ORM)."""
    try:
        return _key(condition)
    except TypeError:
        return None


def _key(node) -> Hashable:
    if isinstance(node, Q):
        return ("Q", node.connector, node.negated, tuple(_key(child) for child in node.children))
    if isinstance(node, tuple) and len(node) == 2 and isinstance(node[0], str):
        return (node[0], _key(node[1]))
    if isinstance(node, list | tuple):
        return ("list", tuple(_key(item) for item in node))
    if node is None or isinstance(node, bool | int | float | str | datetime | Systems | BaseExpression):
        hash(node)  # an expression with an unhashable part raises TypeError
        return (type(node), node)
    raise TypeError(f"no shape key for {type(node).__name__}")


def _combine(items: Iterable[Q], join) -> Q:
    items = list(items)
    result = items[0]
    for item in items[1:]:
        result = join(result, item)
    return result
