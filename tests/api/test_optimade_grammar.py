"""The filter parser: the OPTIMADE package's grammar run by Lark's LALR(1) parser must read every filter
exactly as the package's own (Earley) parser does: the same tree for valid filters, an error for invalid ones."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lark import Lark
from lark.exceptions import LarkError
from optimade.filterparser import LarkParser
from optimade.filterparser.lark_parser import AVAILABLE_PARSERS

from portal.optimade.filters import GRAMMAR_VERSION, PARSER


@pytest.fixture(scope="module")
def earley() -> Lark:
    reference = LarkParser(version=GRAMMAR_VERSION).lark
    assert reference.options.parser == "earley"
    with open(AVAILABLE_PARSERS[GRAMMAR_VERSION]["default"]) as handle:
        # the same options as ours but the parser, so that trees carry the same positions
        return Lark(handle.read(), maybe_placeholders=False, propagate_positions=True)


def parsed(parser: Lark, text: str):
    try:
        return parser.parse(text)
    except LarkError:
        return "error"


names = st.sampled_from(
    ["elements", "nelements", "elements_ratios", "chemical_formula_reduced", "id", "nsites", "_mdp_is_stable"]
    + ["_mdp_energy_above_hull", "last_modified", "_other_x", "a.b", "structure_features"]
)
numbers = st.one_of(
    st.integers(-1000, 1000).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
    st.sampled_from(["1e3", "-2.5E-2", ".5", "5.", "+3"]),
)
strings = st.text(alphabet='abcLiO"\\ -', max_size=6).map(
    lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
)
values = st.one_of(numbers, strings, st.sampled_from(["TRUE", "FALSE"]), names)
ops = st.sampled_from(["=", "!=", "<", "<=", ">", ">="])


def comparison(draw) -> str:
    kind = draw(st.integers(0, 7))
    name = draw(names)
    if kind == 0:
        return f"{name} {draw(ops)} {draw(values)}"
    if kind == 1:
        return f"{draw(values)} {draw(ops)} {name}"
    if kind == 2:
        mode = draw(st.sampled_from(["", "ALL ", "ANY ", "ONLY "]))
        items = draw(st.lists(st.one_of(strings, numbers), min_size=1, max_size=3))
        return f"{name} HAS {mode}{', '.join(items)}"
    if kind == 3:
        return f"{name} LENGTH {draw(st.sampled_from(['', '>= ', '< ']))}{draw(st.integers(0, 9))}"
    if kind == 4:
        return f"{name} IS {draw(st.sampled_from(['KNOWN', 'UNKNOWN']))}"
    if kind == 5:
        return f"{name} {draw(st.sampled_from(['CONTAINS', 'STARTS WITH', 'STARTS', 'ENDS WITH', 'ENDS']))} {draw(strings)}"
    if kind == 6:
        left = draw(st.lists(names, min_size=2, max_size=2))
        return f"{left[0]}:{left[1]} HAS {draw(strings)}:{draw(ops)}{draw(numbers)}"
    return f"{name}{draw(ops)}{draw(values)}"  # no spaces


@st.composite
def filters(draw, depth: int = 3) -> str:
    if depth == 0 or draw(st.booleans()):
        return comparison(draw)
    join = draw(st.sampled_from(["AND", "OR"]))
    parts = draw(st.lists(filters(depth - 1), min_size=2, max_size=3))
    text = f" {join} ".join(f"({p})" if draw(st.booleans()) else p for p in parts)
    return f"NOT ({text})" if draw(st.integers(0, 4)) == 0 else text


def test_our_parser_is_lalr_on_the_packages_grammar():
    assert PARSER.lark.options.parser == "lalr"


@settings(max_examples=400, deadline=None)
@given(text=filters())
def test_generated_filters_parse_to_the_same_tree(earley, text):
    ours = parsed(PARSER.lark, text)
    assert ours == parsed(earley, text)


@settings(max_examples=300, deadline=None)
@given(text=st.from_regex(r'[a-zA-Z_ ()=<>!":,.0-9\-]{0,60}', fullmatch=True) | st.text(max_size=40))
def test_arbitrary_text_is_read_alike(earley, text):
    assert parsed(PARSER.lark, text) == parsed(earley, text)


def test_the_trees_keep_positions_for_booleans(earley):
    tree = PARSER.lark.parse("_mdp_is_stable = TRUE AND nelements > 2")
    booleans = list(tree.find_data("bool"))
    assert booleans and all(node.meta.start_pos is not None for node in booleans)
    assert tree == earley.parse("_mdp_is_stable = TRUE AND nelements > 2")
