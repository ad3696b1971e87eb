"""The REST API's FilterSet shares its filters and form fields between requests instead of copying them per
request: it must validate exactly as django-filter's own FilterSet and form do, one request after another. Every
parameter of the list and the export is declared in the OpenAPI schema (type, range, rule for repeats), and a
property-based fuzz of each finds no server error."""

import base64
import json
from urllib.parse import urlencode

import django_filters
import pytest
from django.http import QueryDict
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from hull.search import INT_MAX, INT_MIN
from portal.api.filters import LIST_NAMES, REPEAT_REFUSED, REPEATS_COMBINED, EntryFilterSet
from portal.api.views import EXPORT_PARAMETERS, LIST_PARAMETERS


class CopyingEntryFilterSet(EntryFilterSet):
    """The same filters with django-filter's behaviour: filters and form fields deep-copied per instance."""

    __init__ = django_filters.FilterSet.__init__
    get_form_class = django_filters.FilterSet.get_form_class


QUERIES = [
    "",
    "elements=Li,O&e_above_hull_max=0.05&page_size=20",
    "nelements_min=abc&is_stable=maybe&hull_set=nope",
    "e_above_hull_max=1e400&band_gap_min=-1&sort=-e_above_hull",
    "layered=true&li_conductor=false&li_conductor_max_e_above_hull=0.1&round=3",
    "layered=1&li_conductor=0&round=x&sort=bogus&spacegroup_number=12.5",
    "formula=Fe2O3&source=mp&source=gnome&method=r2scan&batch=7",
    "is_stable=True&nsites_max=8&nsites_max=9&chemsys=Li-*-O",
]


def outcome(filterset) -> tuple:
    valid = filterset.is_valid()
    errors = {name: list(messages) for name, messages in filterset.errors.items()}
    return valid, errors, dict(filterset.form.cleaned_data)


@pytest.mark.parametrize("query", QUERIES)
def test_shared_filter_form_validates_as_django_filters_own(query):
    expected = outcome(CopyingEntryFilterSet(QueryDict(query)))
    assert outcome(EntryFilterSet(QueryDict(query))) == expected


def test_one_request_leaves_nothing_in_the_shared_form_for_the_next():
    """Interleaved valid and invalid queries: each sees only its own data and errors."""
    expected = {query: outcome(CopyingEntryFilterSet(QueryDict(query))) for query in QUERIES}
    for _ in range(3):
        for query in [*QUERIES, *reversed(QUERIES)]:
            assert outcome(EntryFilterSet(QueryDict(query))) == expected[query]
    fields = EntryFilterSet(QueryDict("")).form.fields
    assert fields is not EntryFilterSet(QueryDict("")).form.fields  # each form orders its own dict
    assert list(fields) == list(EntryFilterSet.base_filters)


# --- every parameter read whole or refused: the schema declares each, and no value of any gives a 5xx ------------

LIST_URL, EXPORT_URL = "/api/v1/materials/", "/api/v1/materials/export/"


def schema_parameters(path: str) -> dict[str, dict]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}


@pytest.mark.parametrize(("path", "known"), [(LIST_URL, LIST_PARAMETERS), (EXPORT_URL, EXPORT_PARAMETERS)])
def test_every_parameter_is_declared_with_its_type_and_rule_for_repeats(path, known):
    declared = schema_parameters(path)
    assert set(declared) == set(known)
    for name, parameter in declared.items():
        rule = REPEATS_COMBINED if name in LIST_NAMES else REPEAT_REFUSED
        assert rule in parameter["description"], name
        assert (parameter["schema"]["type"] == "array") == (name in LIST_NAMES), name
    for name in ("nelements_min", "nsites_max", "batch", "round", "spacegroup_number"):
        assert declared[name]["schema"] == {"type": "integer", "minimum": INT_MIN, "maximum": INT_MAX}
    for name in ("is_stable", "layered", "li_conductor"):
        assert declared[name]["schema"]["type"] == "boolean"


EDGE_TEXTS = [
    "",
    " ",
    "\x00",
    "Li\x00O",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "9" * 5000,
    "1e400",
    "-1e400",
    "1e-400",
    "1e50",
    "nan",
    "NaN",
    "inf",
    "-Infinity",
    "-1",
    "0",
    "2.5",
    "0x10",
    "1_000",
    "true",
    "maybe",
    "Li1e400O",
    "Li-*-O",
    "*-*-*-*-*-*-*-*-*",
    "Li,O,,",
    "A" + "9" * 400,
    "Ω",
    "é\u200b𝔘",
    "-",
    ",",
    "%",
    "mp-149",
]
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
NUMBERS = st.one_of(
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
JSON_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), TEXT, st.lists(st.integers(), max_size=2)
)


def encoded(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


CURSORS = st.one_of(
    st.builds(lambda v, pk: encoded({"v": v, "id": pk}), JSON_VALUES, JSON_VALUES),
    st.builds(
        lambda t, pk: encoded({"t": t, "id": pk}), st.one_of(TEXT, st.datetimes().map(str)), JSON_VALUES
    ),
    JSON_VALUES.map(encoded),
)
VALUES = st.one_of(st.sampled_from(EDGE_TEXTS), TEXT, NUMBERS, CURSORS)
SENT = {"requests": 0, "shapes": set()}


def no_server_error(client, url: str, query: list[tuple[str, str]]) -> None:
    response = client.get(url, QueryDict(urlencode(query)))
    SENT["requests"] += 1
    SENT["shapes"].add((url, tuple(sorted({name for name, _ in query}))))
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code < 500, (query, body[:500])
    if response.status_code != 200:
        assert "detail" in json.loads(body) or response.status_code == 400, (query, body[:500])


@pytest.fixture(scope="module", autouse=True)
def _report_requests():
    yield
    if SENT["requests"]:
        print(f"\nfuzz: {SENT['requests']} requests, {len(SENT['shapes'])} distinct parameter sets")


def edge_examples(test):
    """Every edge text given once, then repeats: the same value twice and two different ones."""
    for text in EDGE_TEXTS:
        test = example(values=[text], others=[])(test)
    for values in (["1", "1"], ["1", "2"], ["Li-O", "Fe-O", ""], ["true", "maybe"]):
        test = example(values=values, others=[])(test)
    return test


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(LIST_PARAMETERS | EXPORT_PARAMETERS))
@settings(
    max_examples=16,  # generated, beside the explicit edge examples
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    values=st.lists(VALUES, min_size=1, max_size=3),
    others=st.lists(st.tuples(st.sampled_from(sorted(LIST_PARAMETERS)), VALUES), max_size=2),
)
@edge_examples
def test_no_value_of_any_parameter_gives_a_server_error(catalogue, name, values, others):
    """Each parameter with every edge-case value (huge, negative, NaN, inf, unicode, NUL, empty) given once, four
    repeats, then 16 generated draws (one to three numbers, texts or cursors, beside up to two other parameters),
    on the list and the export: never a 5xx."""
    client = APIClient()
    query = [(name, value) for value in values] + others
    if name in LIST_PARAMETERS:
        no_server_error(client, LIST_URL, query)
    if name in EXPORT_PARAMETERS:
        no_server_error(client, EXPORT_URL, [(n, v) for n, v in query if n in EXPORT_PARAMETERS])
