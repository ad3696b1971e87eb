"""Catalogue entries as OPTIMADE ``structures`` resources, and the properties we declare in info/structures.

Only entries with a structure are served under /structures: a bare ComputedEntry has no lattice or sites, and
OPTIMADE structures are crystal structures, so composition-only entries stay in the REST API only. Provider
fields (``_<prefix>_...``) give the source's id and the stability in the default hull set (``dft``, named in
``_<prefix>_hull_set``), each value meaning what :data:`hull.stability_meaning.STABILITY_MEANING` says, with who
says so in ``_<prefix>_stability_source`` (DFT, or an evaluator's prediction); they are null for entries outside
the hull set (evaluator results) or without an elemental reference.
"""

import math
import re
import warnings
from fractions import Fraction
from functools import lru_cache, reduce

import spglib
from django.conf import settings
from django.db.models import CharField, F, Value
from django.db.models.functions import Concat, Substr
from pymatgen.core import Composition

from hull.hull_sets import DEFAULT_HULL_SET
from hull.provenance import stability_source_of
from hull.stability_meaning import STABILITY_MEANING
from portal.optimade import fields as f

ANONYMOUS = [chr(c) for c in range(ord("A"), ord("Z") + 1)]


@lru_cache(maxsize=100_000)
def optimade_reduced_formula(pymatgen_reduced: str) -> str:
    """pymatgen's reduced formula (``LiFePO4``, ``O2``) in OPTIMADE form: alphabetical, integer, fully reduced
    (``FeLiO4P``, ``O``)."""
    amounts = _integer_amounts(pymatgen_reduced)
    return "".join(f"{el}{n if n != 1 else ''}" for el, n in sorted(amounts.items()))


@lru_cache(maxsize=100_000)
def optimade_anonymous_formula(stored: str) -> str:
    """The stored anonymous formula fully reduced with integer amounts (the catalogue keeps pymatgen's special
    cases unreduced, e.g. ``A2`` for O2 and ``A2B2`` for Li2O2; OPTIMADE wants ``A`` and ``AB``)."""
    amounts = [
        Fraction(a or "1").limit_denominator(1000) for a in re.findall(r"[A-Z][a-z]*([0-9.]*)", stored)
    ]
    scale = reduce(math.lcm, (a.denominator for a in amounts), 1)
    counts = [int(a * scale) for a in amounts]
    divisor = reduce(math.gcd, counts)
    counts = sorted((n // divisor for n in counts), reverse=True)
    return "".join(f"{_anonymous_label(i)}{n if n != 1 else ''}" for i, n in enumerate(counts))


@lru_cache(maxsize=100_000)
def optimade_hill_formula(pymatgen_reduced: str) -> str | None:
    """The Hill formula of pymatgen's reduced formula, by OPTIMADE's rules: the formula unit pymatgen chose (its
    chemical insight: ``Li2O2`` and ``O2`` stay as they are), carbon first, hydrogen second where carbon is present,
    then alphabetical, amounts 1 left out and no spaces (pymatgen's ``Composition.hill_formula`` separates elements
    with spaces and keeps the cell's amounts). ``None`` where an amount is not a whole number (partial
    occupancies): the specification then leaves it unset."""
    amounts = Composition(pymatgen_reduced).get_el_amt_dict()
    if any(not float(amount).is_integer() for amount in amounts.values()):
        return None
    order = sorted(amounts, key=lambda el: (0, el) if el in ("C", "H") and "C" in amounts else (1, el))
    return "".join(f"{el}{round(amounts[el]) if amounts[el] != 1 else ''}" for el in order)


@lru_cache(maxsize=1)
def _short_hm_symbols() -> dict[str, str]:
    """spglib's short Hermann-Mauguin symbol of every setting (``P6_3/mmc``, as stored) -> OPTIMADE's encoding of
    it (``P 63/m m c``: generators separated by one space, screw axes as plain digits)."""
    symbols = {}
    for hall_number in range(1, 531):
        with warnings.catch_warnings():  # spglib's notice of its future error handling, once per call
            warnings.simplefilter("ignore", DeprecationWarning)
            group = spglib.get_spacegroup_type(hall_number)
        spaced = group.international.split(" = ")[0]  # monoclinic: "P 2 = P 1 1 2", the short form first
        symbols.setdefault(group.international_short, spaced.replace("_", ""))
    return symbols


def optimade_hm_symbol(stored: str) -> str | None:
    """The stored short H-M symbol in OPTIMADE's encoding; ``None`` where there is none."""
    return _short_hm_symbols().get(stored)


def _anonymous_label(index: int) -> str:
    first = ANONYMOUS[index % 26]
    return first if index < 26 else first + chr(ord("a") + index // 26 - 1)


def _integer_amounts(formula: str) -> dict[str, int]:
    comp = Composition(formula)
    if any(not float(a).is_integer() for a in comp.values()):
        comp = Composition(comp.get_integer_formula_and_factor()[0])
    amounts = {el.symbol: round(a) for el, a in comp.items()}
    divisor = reduce(math.gcd, amounts.values())
    return {el: n // divisor for el, n in amounts.items()}


def prefix() -> str:
    return settings.PORTAL_ID_PREFIX


def property_table() -> list[tuple]:
    """(OPTIMADE name, OPTIMADE type, Field, sort column or None, unit, description) of each property."""
    return _property_table(prefix())


@lru_cache(maxsize=8)
def _property_table(own_prefix: str) -> list[tuple]:
    """The table for one provider prefix, made once: fields hold no request state (each request reads it)."""
    p = f"_{own_prefix}_"
    return [
        ("id", "string", f.StringField("public_id"), "public_id", None, "the portal's id of the entry"),
        ("type", "string", f.ConstantField("structures", "string"), None, None, "always structures"),
        ("last_modified", "timestamp", f.TimestampField("updated_at"), "updated_at", None, "last change"),
        ("elements", "list", f.ElementsField(), None, None, "element symbols, alphabetical"),
        ("nelements", "integer", f.NumberField("nelements"), "nelements", None, "number of elements"),
        ("elements_ratios", "list", f.RatiosField(), None, None, "atom fractions, in the order of elements"),
        (
            "chemical_formula_descriptive",
            "string",
            f.StringField("formula"),
            "formula",
            None,
            "formula of the cell (pymatgen's, e.g. 'Li2 O1')",
        ),
        (
            "chemical_formula_reduced",
            "string",
            f.ReducedFormulaField("reduced_formula", optimade_reduced_formula),
            None,
            None,
            "reduced formula, elements alphabetical",
        ),
        (
            "chemical_formula_anonymous",
            "string",
            f.DerivedStringField("anonymous_formula", optimade_anonymous_formula),
            None,
            None,
            "anonymous reduced formula, e.g. A2B",
        ),
        (
            "chemical_formula_hill",
            "string",
            f.ReducedFormulaField("reduced_formula", optimade_hill_formula),
            None,
            None,
            "Hill formula of pymatgen's formula unit (C, then H, then alphabetical; Li2O2, O2 as such); unset where "
            "an amount is not whole",
        ),
        (
            "immutable_id",
            "string",
            f.StringField("immutable_id"),
            "immutable_id",
            None,
            "this version of the entry: its id, ':' and the first 16 hex digits of the SHA-256 of its data "
            "(structure, composition, energies, method, band gap, source extras), which change when a re-ingest "
            "changes them; the stability values, which follow the catalogue, are no part of it",
        ),
        ("dimension_types", "list", f.ConstantField([1, 1, 1], "list"), None, None, "periodic along a, b, c"),
        ("nperiodic_dimensions", "integer", f.ConstantField(3, "integer"), None, None, "always 3"),
        (
            "lattice_vectors",
            "list",
            f.UnqueryableField("lattice_vectors is not queryable"),
            None,
            "Å",
            "cell",
        ),
        (
            "cartesian_site_positions",
            "list",
            f.UnqueryableField("cartesian_site_positions is not queryable"),
            None,
            "Å",
            "site positions",
        ),
        ("nsites", "integer", f.NumberField("nsites"), "nsites", None, "number of sites"),
        (
            "species",
            "list",
            f.UnqueryableField("species is not queryable"),
            None,
            None,
            "species of the sites",
        ),
        (
            "species_at_sites",
            "list",
            f.UnqueryableField("species_at_sites is not queryable"),
            None,
            None,
            "species name of each site",
        ),
        ("structure_features", "list", f.ConstantField([], "list"), None, None, "empty: ordered, periodic"),
        (
            "space_group_it_number",
            "integer",
            f.NumberField("spacegroup_number", nullable=True),
            "spacegroup_number",
            None,
            "International Tables space-group number (spglib at the portal's symprec)",
        ),
        (
            "space_group_symbol_hermann_mauguin",
            "string",
            f.DerivedStringField("spacegroup_symbol", optimade_hm_symbol),
            None,
            None,
            "short Hermann-Mauguin symbol of the space group (spglib at the portal's symprec), e.g. 'P 63/m m c'",
        ),
        (
            f"{p}source_id",
            "string",
            f.StringField("source_id"),
            "source_id",
            None,
            f"the entry's id in its source database ({p}source), e.g. the Materials Project id mp-1960",
        ),
        (
            f"{p}hull_set",
            "string",
            f.ConstantField(DEFAULT_HULL_SET, "string"),
            None,
            None,
            f"the hull set of every stability value here: {DEFAULT_HULL_SET}",
        ),
        (
            f"{p}energy_above_hull",
            "float",
            f.NumberField("e_above_hull", nullable=True),
            "e_above_hull",
            "eV/atom",
            _stability("e_above_hull", p),
        ),
        (
            f"{p}formation_energy_per_atom",
            "float",
            f.NumberField("formation_energy_per_atom", nullable=True),
            "formation_energy_per_atom",
            "eV/atom",
            _stability("formation_energy_per_atom", p),
        ),
        (
            f"{p}decomposition_energy",
            "float",
            f.NumberField("decomposition_energy", nullable=True),
            "decomposition_energy",
            "eV/atom",
            _stability("decomposition_energy", p),
        ),
        (
            f"{p}is_stable",
            "boolean",
            f.BoolField("is_stable", nullable=True),
            None,
            None,
            _stability("is_stable", p),
        ),
        (
            f"{p}stability_source",
            "string",
            f.UnqueryableField(f"{p}stability_source is not queryable; filter on {p}method_family"),
            None,
            None,
            'who says the stability values hold: "DFT", or "predicted by <evaluator with version>"',
        ),
        (
            f"{p}decomposition",
            "list",
            f.UnqueryableField(f"{p}decomposition is not queryable"),
            None,
            None,
            f'the hull set\'s entries this one decomposes into on the hull, [{{"id", "formula", "amount": atom '
            f"fraction}}], amounts summing to 1: the products behind {p}energy_above_hull (a polymorph: its stable "
            f"polymorph alone); a stable entry is its own decomposition (itself, amount 1). In hull set {DEFAULT_HULL_SET}",
        ),
        (
            f"{p}energy_per_atom",
            "float",
            f.NumberField("energy_per_atom"),
            "energy_per_atom",
            "eV/atom",
            "total energy per atom, MP2020-compatible corrected scale",
        ),
        (
            f"{p}band_gap",
            "float",
            f.NumberField("band_gap", nullable=True),
            "band_gap",
            "eV",
            "band gap, where the source gives one",
        ),
        (f"{p}source", "string", f.StringField("source"), "source", None, "source database (mp, gnome, ...)"),
        (f"{p}method", "string", f.StringField("method"), "method", None, "method label"),
        (
            f"{p}method_family",
            "string",
            f.StringField("method_family"),
            "method_family",
            None,
            "dft, ml (machine-learned potential) or other",
        ),
    ]


def _stability(name: str, p: str) -> str:
    """The meaning of a stability value (``p``: the provider fields' prefix), with its hull set and who says so."""
    return (
        f"{STABILITY_MEANING[name]}. In hull set {DEFAULT_HULL_SET} ({p}hull_set); a DFT result or an evaluator's "
        f"prediction, as {p}stability_source says"
    )


def fields() -> dict[str, f.Field]:
    return {row[0]: row[2] for row in property_table()}


def sort_columns() -> dict[str, str]:
    return {row[0]: row[3] for row in property_table() if row[3]}


def info_properties() -> dict[str, dict]:
    out = {}
    sortable = sort_columns()
    for name, kind, _field, _sort, unit, description in property_table():
        item = {"description": description, "type": kind, "sortable": name in sortable}
        if unit:
            item["unit"] = unit
        out[name] = item
    return out


COLUMNS = [
    "id",
    "public_id",
    "updated_at",
    "composition",
    "structure",
    "formula",
    "reduced_formula",
    "anonymous_formula",
    "nelements",
    "nsites",
    "spacegroup_number",
    "spacegroup_symbol",
    "source_id",
    "e_above_hull",
    "formation_energy_per_atom",
    "decomposition_energy",
    "is_stable",
    "energy_per_atom",
    "band_gap",
    "source",
    "method",
    "method_family",
]


def structure_resource(row: dict, base_url: str) -> dict:
    """A row of :data:`COLUMNS` as an OPTIMADE structures resource."""
    p = f"_{prefix()}_"
    composition = row["composition"]
    elements = sorted(composition)
    total = sum(composition.values())
    ratios = [composition[el] / total for el in elements]
    species, species_at_sites, features = _sites(row["structure"])
    positions = [site["xyz"] for site in row["structure"]["sites"]]
    attributes = {
        "last_modified": f.rfc3339(row["updated_at"]),
        "elements": elements,
        "nelements": row["nelements"],
        "elements_ratios": ratios,
        "chemical_formula_descriptive": row["formula"],
        "chemical_formula_reduced": optimade_reduced_formula(row["reduced_formula"]),
        "chemical_formula_anonymous": optimade_anonymous_formula(row["anonymous_formula"]),
        "chemical_formula_hill": optimade_hill_formula(row["reduced_formula"]),
        "immutable_id": row["immutable_id"],
        "dimension_types": [1, 1, 1],
        "nperiodic_dimensions": 3,
        "lattice_vectors": row["structure"]["lattice"]["matrix"],
        "cartesian_site_positions": positions,
        "nsites": len(positions),
        "species": species,
        "species_at_sites": species_at_sites,
        "structure_features": features,
        "space_group_it_number": row["spacegroup_number"],
        "space_group_symbol_hermann_mauguin": optimade_hm_symbol(row["spacegroup_symbol"]),
        f"{p}source_id": row["source_id"],
        f"{p}hull_set": DEFAULT_HULL_SET,
        f"{p}energy_above_hull": row["e_above_hull"],
        f"{p}formation_energy_per_atom": row["formation_energy_per_atom"],
        f"{p}decomposition_energy": row["decomposition_energy"],
        f"{p}is_stable": row["is_stable"],
        f"{p}decomposition": _decomposition(row["decomposition"]),
        f"{p}energy_per_atom": row["energy_per_atom"],
        f"{p}band_gap": row["band_gap"],
        f"{p}source": row["source"],
        f"{p}method": row["method"],
        f"{p}method_family": row["method_family"],
        f"{p}stability_source": stability_source_of(row),
    }
    return {
        "id": row["public_id"],
        "type": "structures",
        "attributes": attributes,
        "links": {"self": f"{base_url}/structures/{row['public_id']}"},
    }


def _decomposition(products: list[dict] | None) -> list[dict] | None:
    """The stored decomposition as served: the products' ids, formulas and atom fractions."""
    if products is None:
        return None
    return [
        {"id": part["public_id"], "formula": part["formula"], "amount": part["amount"]} for part in products
    ]


# An entry's version: its id and the first 16 hex digits of the hash of its data (queried and sorted in SQL)
IMMUTABLE_ID = Concat("public_id", Value(":"), Substr("content_hash", 1, 16), output_field=CharField())
# The values a resource reads beyond :data:`COLUMNS`: the version id and the decomposition (the stability row's)
COMPUTED = {"immutable_id": IMMUTABLE_ID, "decomposition": F("stab__decomposition")}


def _symbol(element: str) -> str:
    """The element symbol of a species name (``Fe`` of ``Fe2+``)."""
    return element if element.isalpha() else re.sub(r"[^A-Za-z]", "", element)


def _sites(structure: dict) -> tuple[list[dict], list[str], list[str]]:
    species: dict[str, dict] = {}
    at_sites = []
    disordered = False
    for site in structure["sites"]:
        parts = [(_symbol(s["element"]), float(s.get("occu", 1.0))) for s in site["species"]]
        if len(parts) == 1 and abs(parts[0][1] - 1.0) < 1e-9:
            name = parts[0][0]
            entry = {"name": name, "chemical_symbols": [name], "concentration": [1.0]}
        else:
            disordered = True
            name = "".join(f"{el}{occu:g}" for el, occu in parts)
            symbols = [el for el, _ in parts]
            concentration = [occu for _, occu in parts]
            vacancy = 1.0 - sum(concentration)
            if vacancy > 1e-9:
                symbols.append("vacancy")
                concentration.append(vacancy)
            entry = {"name": name, "chemical_symbols": symbols, "concentration": concentration}
        species.setdefault(name, entry)
        at_sites.append(name)
    return list(species.values()), at_sites, ["disorder"] if disordered else []
