"""What the phase-diagram page shows: the diagram of the chosen system (2 to 4 elements drawn; 5 or more as
a table with a chosen 4-element slice drawn), the unstable-entry cutoff, and the comparison with the hull as
it stood after an earlier discovery round."""

from dataclasses import replace
from urllib.parse import urlencode

from django.http import QueryDict

from hull.errors import CatalogueError
from hull.hull_sets import DEFAULT_HULL_SET
from hull.phase_diagrams import DiagramEntry, PhaseDiagramData, hull_facets, parse_system, phase_diagram_get
from hull.selectors import catalogue_elements, check_hull_set
from portal.pages import figures, params
from portal.pages.selectors import ELEMENT_SYMBOL, round_as_of

DEFAULT_CUTOFF = 0.2  # eV/atom: unstable entries shown at first
MAX_TABLE_ROWS = 2000


def diagram_form(query: QueryDict) -> dict:
    """The form's fields as the user typed them, kept when the request is refused."""
    return {
        "chemsys_text": query.get("chemsys", "").strip(),
        "hull_set": query.get("hull_set", "").strip() or DEFAULT_HULL_SET,
        "cutoff": query.get("cutoff", "").strip() or DEFAULT_CUTOFF,
        "round_text": query.get("round", "").strip(),
        "slice_text": query.get("slice", "").strip(),
    }


def as_typed(text: str, elements: list[str]) -> str:
    """The system's elements in the order the user typed them (``parse_system`` sorts them): Li-Fe-O stays
    Li-Fe-O in the title."""
    typed = ELEMENT_SYMBOL.findall(text)
    return "-".join(sorted(elements, key=lambda el: typed.index(el) if el in typed else len(typed)))


def diagram_context(query: QueryDict, context: dict) -> dict:
    """Fills ``context`` (the form's values at first, :func:`diagram_form`) with the diagram; what it has
    filled stays there when a ``CatalogueError`` stops it (the elements, those absent from the catalogue)."""
    text = context["chemsys_text"]
    hull_set = check_hull_set(context["hull_set"])
    context["catalogue_elements"] = catalogue_elements()
    if not text:
        return context
    cutoff = params.get_float(query, "cutoff", DEFAULT_CUTOFF)
    if cutoff < 0:
        raise CatalogueError(f"the unstable-entry cutoff must not be negative, not {cutoff}")
    context["cutoff"] = cutoff
    round_number = params.get_int(query, "round", None)
    elements = parse_system(text)
    context["elements"] = elements
    context["title_system"] = as_typed(text, elements)
    context["absent_elements"] = [el for el in elements if el not in context["catalogue_elements"]]
    data = phase_diagram_get(chemsys="-".join(elements), hull_set=hull_set)
    drawn, slice_elements = data, None
    if len(elements) > 4:
        slice_elements = _slice(query.get("slice", ""), elements, data)
        drawn = _slice_of(data, slice_elements)
    previous, new_stable, round_ = None, set(), None
    if round_number is not None:
        round_, as_of = round_as_of(number=round_number)
        try:
            previous = phase_diagram_get(chemsys=drawn.chemsys, hull_set=hull_set, as_of=as_of)
            before = set(previous.stable_keys)
        except CatalogueError:  # the system had no entries yet
            before = set()
        new_stable = set(data.stable_keys) - before
        if drawn is not data:
            new_stable &= set(drawn.stable_keys)
    label = f"round {round_.number}" if round_ else ""
    figure = None
    if 2 <= len(drawn.elements) <= 4:
        figure = figures.figure_json(
            figures.phase_diagram(drawn, previous=previous, previous_label=label, new_stable=new_stable)
        )
    unstable = [e.e_above_hull for e in drawn.entries if e.e_above_hull is not None and not e.is_stable]
    rows = table_order(data.entries)
    context.update(
        {
            "data": data,
            "drawn": drawn,
            "slice_elements": slice_elements,
            "slice_text": "-".join(slice_elements or []),
            "figure": figure,
            "download_query": urlencode({"chemsys": data.chemsys, "hull_set": hull_set}),
            "stable": sorted(data.stable, key=lambda e: e.reduced_formula),
            "rows_json": figures.figure_json(_table_rows(rows[:MAX_TABLE_ROWS], new_stable)),
            "n_rows": min(len(rows), MAX_TABLE_ROWS),
            "rows_truncated": len(rows) > MAX_TABLE_ROWS,
            "n_unstable": len(unstable),
            "cutoff_max": max(0.5, round(min(max(unstable, default=0.5), 2.0) + 0.01, 2)),
            "round": round_,
            "new_stable": new_stable,
            "n_new_stable": len(new_stable & set(data.stable_keys)),
            "new_stable_sources": figures.new_stable_sources(data.entries, new_stable),
            "previous": previous,
        }
    )
    return context


def table_order(entries: list[DiagramEntry]) -> list[DiagramEntry]:
    """The entries as the table lists them (and the CSV download): stable first, then by energy above hull,
    unknown last."""
    return sorted(entries, key=lambda e: (e.e_above_hull is None, e.e_above_hull or 0.0, e.reduced_formula))


def _table_rows(rows: list[DiagramEntry], new_stable: set[int]) -> list[list]:
    """The all-entries table as compact JSON rows, drawn and filtered in the browser (a thousand rows of
    template take longer than the page's budget): formula, id, formation energy, energy above hull (null
    when unknown, 0 when stable), stable, new since the round, decomposition ``[[id, formula, amount]]``."""
    return [
        [
            e.reduced_formula,
            e.public_id,
            None if e.formation_energy_per_atom is None else round(e.formation_energy_per_atom, 4),
            None if e.e_above_hull is None else round(e.e_above_hull, 4),
            bool(e.is_stable),
            e.key in new_stable,
            [[p["public_id"], p["formula"], round(p["amount"], 3)] for p in e.decomposition],
        ]
        for e in rows
    ]


def _slice_of(data: PhaseDiagramData, elements: list[str]) -> PhaseDiagramData:
    """The diagram of a subsystem taken from the whole system's: the subsystem's entries keep their
    thermodynamics (the hull of a face of the composition simplex is the face of the hull), and the facets are
    those of the subsystem's stable phases."""
    inside = set(elements)
    entries = [
        replace(e, fractions={el: e.fractions[el] for el in elements})
        for e in data.entries
        if all(fraction == 0 or el in inside for el, fraction in e.fractions.items())
    ]
    stable = [e for e in entries if e.is_stable]
    missing = [el for el in data.missing_elements if el in inside]
    return PhaseDiagramData(
        chemsys="-".join(elements),
        elements=elements,
        hull_set=data.hull_set,
        entries=entries,
        stable_keys=[e.key for e in stable],
        facets=[] if missing else hull_facets(elements, stable),
        missing_elements=missing,
        as_of=data.as_of,
    )


def _slice(text: str, elements: list[str], data: PhaseDiagramData) -> list[str]:
    """The 4-element slice the user chose, or the four elements with the most entries."""
    if text.strip():
        chosen = parse_system(text)
        if len(chosen) != 4 or not set(chosen) <= set(elements):
            raise CatalogueError(f"the slice {text!r} must be 4 elements of {'-'.join(elements)}")
        return chosen
    weight = {el: sum(1 for e in data.entries if e.fractions.get(el, 0) > 0) for el in elements}
    return sorted(sorted(elements, key=lambda el: (-weight[el], el))[:4])
