"""The search page: a search's results as a table with the columns, sort and page size chosen."""

from dataclasses import fields as dataclass_fields
from types import SimpleNamespace

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse

from hull import selectors
from hull.hull_sets import HULL_SETS
from hull.search import EntrySearch, search_condition, search_order
from hull.selectors.catalogue import catalogue_labels
from hull.selectors.search import Window, search_count, search_page
from portal.pages import params
from portal.pages import selectors as page_selectors
from portal.pages.rendering import catalogue_errors, render
from portal.pages.search_readings import readings_of
from portal.response_cache import CatalogueRead, kept_count

# The search page's query parameters (its results are kept only for queries naming no others)
SEARCH_PARAMETERS = frozenset(
    field.name for field in dataclass_fields(EntrySearch) if not field.metadata.get("derived")
) | {
    "cols",
    "per_page",
    "page",
}


def export_links(entry_search: EntrySearch) -> dict[str, str]:
    """Links to the REST export of the page's search (all its results, in its order): CSV and JSON Lines."""
    export = reverse("material-export")
    links = {}
    for fmt in ("csv", "jsonl"):
        query = QueryDict(mutable=True)
        query.update({**entry_search.as_params(), "format": fmt})
        links[fmt] = f"{export}?{query.urlencode()}"
    return links


# The columns a row of results reads (what :func:`params.result_cells` shows, and the stability source's method)
RESULT_COLUMNS = (
    "public_id",
    "reduced_formula",
    "chemsys_id",
    "nelements",
    "nsites",
    "spacegroup_symbol",
    "spacegroup_number",
    "energy_per_atom",
    "formation_energy_per_atom",
    "e_above_hull",
    "is_stable",
    "band_gap",
    "volume",
    "density",
    "source",
    "method",
    "method_family",
    "created_at",
)


def _search_results(entry_search: EntrySearch, page_size: int, wanted) -> tuple[int, int, list]:
    """(count, page number, rows of the page) of a search, the page number as the paginator settles it (the last
    page for one past the end, the first for one that is no number)."""
    condition = search_condition(entry_search)
    count, _ = search_count(condition=condition, hull_set=entry_search.hull_set)
    paginator = Paginator([], page_size)
    paginator.count = count  # a cached property: the page number is settled on the count alone
    number = paginator.get_page(wanted).number
    page = search_page(
        condition=condition,
        hull_set=entry_search.hull_set,
        order=search_order(entry_search),
        columns=RESULT_COLUMNS,
        window=Window(limit=page_size, offset=(number - 1) * page_size),
    )
    return count, number, page.rows


@catalogue_errors("portal/search.html")
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET
    columns = params.columns_from(query)
    page_size = params.page_size_from(query)
    entry_search = EntrySearch.from_params(query)
    # the page's rows and the count are kept per URL and catalogue state
    read = CatalogueRead(request, SEARCH_PARAMETERS)
    count, number, entries = read.get(lambda: _search_results(entry_search, page_size, query.get("page")))
    band_gaps = kept_count("band-gaps", "", read.state, selectors.catalogue_has_band_gaps)
    filled = kept_count("hull-sets", "", read.state, selectors.hull_sets_with_entries)
    held_labels = kept_count("labels", "", read.state, catalogue_labels)
    # the catalogue's sources and methods to pick from, and any the query names beyond them (found nothing)
    label_choices = {
        name: [(value, value in picked) for value in sorted(set(held_labels[name]) | set(picked))]
        for name, picked in (("source", entry_search.source), ("method", entry_search.method))
    }
    all_columns = {key: spec for key, spec in params.COLUMNS.items() if band_gaps or key != "band_gap"}
    paginator = Paginator([], page_size)
    paginator.count = count  # a cached property: no COUNT query
    page = Page([SimpleNamespace(**entry) for entry in entries], number, paginator)  # rows read as entries
    rows = [params.result_cells(entry, columns, entry_search.hull_set) for entry in page]
    held = selectors.catalogue_elements()
    absent = page_selectors.absent_elements(entry_search, held) if not count else []
    sort = entry_search.sort
    headings = []
    for key in columns:
        label, sort_key = params.COLUMNS[key]
        link = None
        if sort_key:
            descending = sort == sort_key
            link = params.with_param(query, sort=f"-{sort_key}" if descending else sort_key, page=None)
        state = "asc" if sort == sort_key else "desc" if sort == f"-{sort_key}" else ""
        headings.append({"key": key, "label": label, "link": link, "state": state})
    return render(
        request,
        "portal/search.html",
        {
            "search": entry_search,
            "page": page,
            "rows": rows,
            "columns": columns,
            "headings": headings,
            "all_columns": all_columns,
            "band_gaps": band_gaps,
            "label_choices": label_choices,
            "readings": readings_of(query, entry_search),
            "export_links": export_links(entry_search),
            "page_sizes": params.PAGE_SIZES,
            "page_size": page_size,
            "hull_sets": list(HULL_SETS),
            "empty_hull_sets": [name for name in HULL_SETS if name not in filled],
            "periodic_table": params.periodic_table(),
            "catalogue_elements": held,
            "absent_elements": absent,
            "prev_link": params.with_param(query, page=page.previous_page_number())
            if page.has_previous()
            else "",
            "next_link": params.with_param(query, page=page.next_page_number()) if page.has_next() else "",
            "first_link": params.with_param(query, page=1),
            "last_link": params.with_param(query, page=paginator.num_pages),
            "share_link": request.get_full_path(),
        },
    )
