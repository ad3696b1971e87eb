"""OPTIMADE filters -> Django ``Q`` objects.

The filter text is parsed with the ``optimade`` package's grammar (``LarkParser``, v1.2.0 grammar) and the tree is
turned into a ``Q`` over the annotated catalogue entries (:func:`hull.selectors.search.catalogue_entries`) by our own lark
``Transformer``. User text only ever becomes query *parameters* (ORM lookups), never SQL.

Errors: a malformed filter, an unknown property or a type mismatch raise :class:`FilterError` (400); a valid
construct we do not implement (zip operators, nested properties, properties as values, operators inside value
lists, queries on arrays of floats or coordinates) raises :class:`FilterNotImplemented` (501).

Semantics of properties we do not store (standard ones we do not serve, and other providers' fields): their
value is unknown, so every comparison on them is false and ``IS UNKNOWN`` is true.
"""

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.db.models import Q
from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import VisitError
from optimade.exceptions import BadRequest
from optimade.filterparser import LarkParser
from optimade.filterparser.lark_parser import AVAILABLE_PARSERS
from optimade.models import StructureResourceAttributes

from portal.optimade.fields import (
    EVERYTHING,
    REVERSED,
    Field,
    FilterError,
    FilterNotImplemented,
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
    Element conditions stay data (:class:`hull.selectors.elements.Systems`) for the catalogue's read to place
    (:func:`hull.selectors.search.resolved`).

    ``unknown`` answers for properties whose value is unknown (other providers' fields, standard fields we do
    not serve); by default comparisons on them match nothing."""
    return _transformed(text, fields, unknown or UnknownField(), everything)


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


def _combine(items: Iterable[Q], join) -> Q:
    items = list(items)
    result = items[0]
    for item in items[1:]:
        result = join(result, item)
    return result
