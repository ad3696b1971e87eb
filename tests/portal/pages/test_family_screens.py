"""Family screens that never claim more than they checked, and one definition per screen (hull/family_rules.py):

* layered: with the dimensionality of only some entries computed (the rest queued behind the fast prototype
  pass), the funnel says "dimensionality computed for N of M entries, results incomplete" and the result is
  marked incomplete; the page's set is the REST flag's (``layered=true&is_stable=true``: stable by default);
* Li-ion conductors: the screen against the criteria computed directly with pymatgen (PhaseDiagram hull
  distances, Composition fractions) over the real Li-Fe-P-O entries; entries without a band gap are listed apart,
  never counted as candidates; Li metal and the phosphides are in neither list; the page and the REST
  ``li_conductor`` flag give the same set;
* prototypes: names of well-known structure types beside the internal keys, and an incomplete prototype pass said.
"""

import re

import pytest
from pymatgen.analysis.phase_diagram import PhaseDiagram
from pymatgen.core import Composition, Element
from pymatgen.entries.computed_entries import ComputedStructureEntry

from hull import family_rules
from hull.models import Entry, EntryFeatures
from tests.conftest import subset
from tests.portal.pages.conftest import LI_FE_P_O

pytestmark = pytest.mark.django_db


def steps(html: str) -> list[tuple[str, int]]:
    block = re.search(r'<ol class="funnel" id="funnel">(.*?)</ol>', html, re.S).group(1)
    return [
        (label, int(count))
        for label, count in re.findall(
            r'<span class="label">(.*?)</span> <strong class="count"[^>]*>(\d+)</strong>', block, re.S
        )
    ]


def linked_ids(html: str, table_id: str) -> set[str]:
    match = re.search(rf'<table[^>]*id="{table_id}">(.*?)</table>', html, re.S)
    return set(re.findall(r'href="/materials/([^/"]+)/"', match.group(1))) if match else set()


def api_ids(client, **params) -> set[str]:
    ids, response = set(), client.get("/api/v1/materials/", {**params, "page_size": 100})
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        ids |= {row["public_id"] for row in body["results"]}
        if not body["next"]:
            return ids
        response = client.get(body["next"])


def prototype_pass_only(entries) -> None:
    """Features rows as the fast prototype pass leaves them: a key, the dimensionality still queued."""
    EntryFeatures.objects.bulk_create(
        [EntryFeatures(entry=entry, prototype_key=f"key-{entry.pk}") for entry in entries]
    )


def test_layered_says_when_dimensionality_is_incomplete(client, catalogue):
    entries = list(Entry.objects.filter(structure__isnull=False).order_by("id"))
    prototype_pass_only(entries)
    li2o = Entry.objects.get(source_id="mp-1960")
    others = [e for e in entries if e.pk != li2o.pk]
    EntryFeatures.objects.filter(entry=li2o).update(dimensionality_cheon=2)
    EntryFeatures.objects.filter(entry=others[0]).update(dimensionality_cheon=3)
    EntryFeatures.objects.filter(entry=others[1]).update(error="cheon: intercalated ion")  # tried: no integer
    html = client.get("/families/layered/").content.decode()
    found = steps(html)
    total = len(entries)
    assert found[2] == (f"dimensionality computed for 3 of {total} entries, results incomplete", 3)
    assert found[3:] == [("2D by Cheon et al. (bond tolerance 0.45 Å)", 1), ("stable (on the dft hull)", 1)]
    assert html.count("(at least: incomplete)") == 3  # the computed step and every step after it
    assert 'id="incomplete"' in html and "Results incomplete" in html and 'id="complete"' not in html
    assert "all entries were checked" not in html.lower() and "every entry was checked" not in html.lower()
    assert linked_ids(html, "family-results") == {li2o.public_id}

    EntryFeatures.objects.filter(entry__in=others[2:]).update(dimensionality_cheon=3)
    html = client.get("/families/layered/").content.decode()
    assert steps(html)[2] == (f"dimensionality computed for all {total} entries with a structure", total)
    assert 'id="complete"' in html and 'id="incomplete"' not in html and "incomplete" not in html


def test_layered_page_and_rest_flag_agree(client, catalogue):
    entries = list(Entry.objects.filter(structure__isnull=False).order_by("id"))
    prototype_pass_only(entries)
    # every fourth entry layered, the rest bulk: stable and unstable ones on both sides
    for i, entry in enumerate(entries):
        EntryFeatures.objects.filter(entry=entry).update(dimensionality_cheon=2 if i % 4 == 0 else 3)
    html = client.get("/families/layered/").content.decode()
    page = linked_ids(html, "family-results")
    assert page and page == api_ids(client, layered="true", is_stable="true")
    layered = {e.public_id for i, e in enumerate(entries) if i % 4 == 0}
    assert api_ids(client, layered="true") == layered
    assert api_ids(client, layered="false") == {e.public_id for e in entries} - layered
    # the screen's hull distance is a setting: within 0.1 eV/atom is the flag with e_above_hull_max
    html = client.get("/families/layered/", {"max_e_above_hull": "0.1"}).content.decode()
    assert linked_ids(html, "family-results") == api_ids(client, layered="true", e_above_hull_max="0.1")


BAND_GAPS = {"Li3PO4": 5.9, "LiPO3": 0.6, "Li4P2O7": 5.2}  # eV: given to every entry of these formulas


def reacts_with_li(diagram: PhaseDiagram, entry) -> bool:
    """pymatgen's hull at the 1:1 mixture (by atoms) of the entry and Li metal lies below the mixture by more
    than the entry's own share of its energy above the hull: some reaction with Li gains energy."""
    fractions = Composition(entry.composition).fractional_composition
    mixture = Composition({el: 0.5 * amount for el, amount in fractions.items()}) + Composition({"Li": 0.5})
    li = diagram.el_refs[Element("Li")].energy_per_atom
    energy = 0.5 * entry.energy_per_atom + 0.5 * li
    gap = energy - diagram.get_hull_energy_per_atom(mixture)
    return gap > 0.5 * diagram.get_e_above_hull(entry) + 1e-6


def reference_li_conductors(
    items: list[dict], gaps: dict[str, float | None], rule, li_metal: bool = False
) -> tuple[list[int], set, set]:
    """The screen computed directly: hull distances from pymatgen's PhaseDiagram of the same entries, fractions
    from pymatgen's Composition; (count after each criterion but the gap, candidates, band gap unknown)."""
    entries = [ComputedStructureEntry.from_dict(item) for item in items]
    diagram = PhaseDiagram(entries)
    rows = []
    for entry in entries:
        composition = Composition(entry.composition)
        elements = {el.symbol for el in composition.elements}
        rows.append(
            {
                "id": entry.entry_id,
                "checks": [
                    "Li" in elements,
                    diagram.get_e_above_hull(entry) <= rule.max_e_above_hull + 1e-9,
                    bool(elements & set(rule.anions)),
                    not elements & set(rule.excluded_metals),
                    composition.get_atomic_fraction("Li") > rule.min_li_fraction,
                ]
                + ([not reacts_with_li(diagram, entry)] if li_metal else []),
                "gap": gaps.get(entry.entry_id),
            }
        )
    counts = [sum(all(row["checks"][: i + 1]) for row in rows) for i in range(len(rows[0]["checks"]))]
    passing = [row for row in rows if all(row["checks"])]
    candidates = {row["id"] for row in passing if row["gap"] is not None and row["gap"] > rule.min_band_gap}
    unknown = {row["id"] for row in passing if row["gap"] is None}
    return counts, candidates, unknown


def test_li_conductors_against_pymatgen_and_the_rest_flag(client, quaternary, mp_entry_dicts):
    items = subset(mp_entry_dicts, LI_FE_P_O)
    for formula, gap in BAND_GAPS.items():
        Entry.objects.filter(reduced_formula=formula).update(band_gap=gap)
    gaps = dict(Entry.objects.exclude(band_gap=None).values_list("source_id", "band_gap"))
    public = dict(Entry.objects.values_list("source_id", "public_id"))
    rule = family_rules.LiConductorRule()
    counts, candidates, unknown = reference_li_conductors(items, gaps, rule)
    assert candidates and unknown  # both lists are exercised

    html = client.get("/families/li-conductors/").content.decode()
    found = steps(html)
    assert [count for _, count in found[:5]] == counts
    assert found[5] == (
        f"band gap &gt; 1 eV ({len(unknown)} with no band gap in the catalogue are not counted: "
        f"listed apart)",
        len(candidates),
    )
    page_candidates = linked_ids(html, "family-results")
    page_unknown = linked_ids(html, "gap-unknown")
    assert page_candidates == {public[i] for i in candidates}
    assert page_unknown == {public[i] for i in unknown}
    assert f"Band gap unknown ({len(unknown)})" in html and "Results incomplete" in html

    # Li metal and the phosphides are in the catalogue, near the hull, and in neither list
    left_out = Entry.objects.filter(reduced_formula__in=["Li", "LiP", "Li3P"])
    assert {"Li", "LiP", "Li3P"} <= set(left_out.values_list("reduced_formula", flat=True))
    shown = page_candidates | page_unknown
    assert not shown & set(left_out.values_list("public_id", flat=True))

    # the REST flag: the same definition, the same set
    assert api_ids(client, li_conductor="true") == page_candidates
    stable = client.get("/families/li-conductors/", {"max_e_above_hull": "0"}).content.decode()
    assert api_ids(client, li_conductor="true", li_conductor_max_e_above_hull="0") == linked_ids(
        stable, "family-results"
    )
    assert not api_ids(client, li_conductor="false") & page_candidates


def test_prototype_names_beside_the_keys(client, with_prototypes):
    html = client.get("/families/prototypes/").content.decode()
    li2o = Entry.objects.get(source_id="mp-1960")
    row = re.search(rf"<tr[^>]*>\s*<td>([^\n]*{re.escape(li2o.features.prototype_key)}[^\n]*)</td>", html)
    assert row and "fluorite / antifluorite (CaF2, C1)" in row.group(1)
    assert 'id="incomplete"' not in html

    EntryFeatures.objects.filter(entry=li2o).delete()  # its prototype not yet computed
    html = client.get("/families/prototypes/").content.decode()
    stable = Entry.objects.filter(stabilities__hull_set="dft", stabilities__is_stable=True).count()
    assert (
        f"prototype computed for {stable - 1} of {stable} stable entries with a structure, results incomplete"
        in html
    )
    assert 'id="incomplete"' in html


def test_li_conductors_stable_against_li_metal(client, quaternary, mp_entry_dicts):
    """The optional step against pymatgen's hull: Li2O coexists with Li metal, Li3PO4 is reduced by it."""
    items = subset(mp_entry_dicts, LI_FE_P_O)
    public = dict(Entry.objects.values_list("source_id", "public_id"))
    rule = family_rules.LiConductorRule(li_metal_stable=True)
    counts, candidates, unknown = reference_li_conductors(items, {}, rule, li_metal=True)
    html = client.get("/families/li-conductors/", {"li_metal_stable": "1"}).content.decode()
    found = steps(html)
    assert found[5][0].startswith("stable against Li metal")
    assert [count for _, count in found[:6]] == counts
    assert linked_ids(html, "gap-unknown") == {public[i] for i in unknown}
    formulas = set(
        Entry.objects.filter(public_id__in=linked_ids(html, "gap-unknown")).values_list(
            "reduced_formula", flat=True
        )
    )
    assert "Li2O" in formulas and "Li3PO4" not in formulas
    html = client.get("/families/li-conductors/").content.decode()
    assert "Li3PO4" in html.split('id="gap-unknown"')[1]  # without the step it is listed
