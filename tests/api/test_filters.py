"""The REST API's FilterSet shares its filters and form fields between requests instead of copying them per
request: it must validate exactly as django-filter's own FilterSet and form do, one request after another."""

import django_filters
import pytest
from django.http import QueryDict

from portal.api.filters import EntryFilterSet


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
