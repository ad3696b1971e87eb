"""Reading page parameters: numbers and flags from the query string with clear ``CatalogueError`` messages,
the search page's columns, and links that change one parameter of the current query."""

import math
from functools import cache

from django.http import QueryDict
from django.urls import reverse
from pymatgen.core import Element

from hull.errors import CatalogueError
from hull.provenance import stability_source_of
from hull.search import FALSE_WORDS, TRUE_WORDS, int_in_range


def get_float(params: QueryDict, name: str, default: float | None) -> float | None:
    raw = params.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise CatalogueError(f"parameter {name!r} is {raw!r}, which is not a number")
    return value


def get_int(params: QueryDict, name: str, default: int | None) -> int | None:
    raw = params.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise CatalogueError(f"parameter {name!r} is {raw!r}, which is not a whole number") from exc
    return int_in_range(name, value)


def get_bool(params: QueryDict, name: str, default: bool = False) -> bool:
    raw = params.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in TRUE_WORDS:
        return True
    if raw in FALSE_WORDS:
        return False
    raise CatalogueError(f"parameter {name!r} is {raw!r}; use 1 or 0")


def get_list(params: QueryDict, name: str) -> list[str] | None:
    """Repeated or comma-separated values; None when the parameter is absent."""
    if name not in params:
        return None
    return [item.strip() for value in params.getlist(name) for item in value.split(",") if item.strip()]


def with_param(params: QueryDict, **changes) -> str:
    """The query string with some parameters replaced (None removes one)."""
    query = params.copy()
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = str(value)
    return "?" + query.urlencode()


# --- search results: columns ----------------------------------------------------------------------

# key: (heading, sort key of hull.search.SORTABLE or "")
COLUMNS = {
    "formula": ("formula", "formula"),
    "public_id": ("id", "public_id"),
    "chemsys": ("chemical system", "chemsys"),
    "nelements": ("elements", "nelements"),
    "nsites": ("sites", "nsites"),
    "spacegroup": ("space group", "spacegroup_number"),
    "energy_per_atom": ("energy (eV/atom)", "energy_per_atom"),
    "formation_energy_per_atom": ("formation energy (eV/atom)", "formation_energy_per_atom"),
    "e_above_hull": ("above hull (eV/atom)", "e_above_hull"),
    "is_stable": ("stable", ""),
    "band_gap": ("band gap (eV)", "band_gap"),
    "volume": ("volume (Å³)", "volume"),
    "density": ("density (g/cm³)", "density"),
    "source": ("source", ""),
    "method": ("method", ""),
    "created_at": ("added", "created_at"),
}
DEFAULT_COLUMNS = [
    "formula",
    "public_id",
    "spacegroup",
    "nsites",
    "formation_energy_per_atom",
    "e_above_hull",
    "is_stable",
    "source",
]
PAGE_SIZES = (25, 50, 100, 200)


def _number(value, digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def stable_text(entry) -> str:
    """ "yes", "no" or "unknown", naming the evaluator where the answer is not DFT ("yes (predicted by ...)")."""
    text = "unknown" if entry.is_stable is None else "yes" if entry.is_stable else "no"
    return text if entry.method_family == "dft" else f"{text} ({stability_source_of(entry)})"


def result_cells(entry, columns: list[str], hull_set: str) -> list[tuple[str, str, str]]:
    """One search-result row as ``(text, link, css class)`` cells, in the chosen columns' order."""
    material = reverse("material", args=[entry.public_id])
    values = {
        "formula": (entry.reduced_formula, material, "material-link"),
        "public_id": (entry.public_id, material, ""),
        "chemsys": (
            entry.chemsys_id,
            f"{reverse('phase-diagram')}?chemsys={entry.chemsys_id}&hull_set={hull_set}",
            "",
        ),
        "nelements": (str(entry.nelements), "", "num"),
        "nsites": (str(entry.nsites), "", "num"),
        "spacegroup": (
            f"{entry.spacegroup_symbol} ({entry.spacegroup_number})" if entry.spacegroup_number else "",
            "",
            "",
        ),
        "energy_per_atom": (_number(entry.energy_per_atom, 4), "", "num"),
        "formation_energy_per_atom": (_number(entry.formation_energy_per_atom, 4), "", "num"),
        "e_above_hull": (_number(entry.e_above_hull, 4), "", "num"),
        "is_stable": (stable_text(entry), "", ""),
        "band_gap": (_number(entry.band_gap, 3), "", "num"),
        "volume": (_number(entry.volume, 2), "", "num"),
        "density": (_number(entry.density, 3), "", "num"),
        "source": (entry.source, "", ""),
        "method": (entry.method, "", ""),
        "created_at": (entry.created_at.strftime("%Y-%m-%d"), "", ""),
    }
    return [values[key] for key in columns]


def columns_from(params: QueryDict) -> list[str]:
    chosen = get_list(params, "cols")
    if not chosen:
        return list(DEFAULT_COLUMNS)
    unknown = [c for c in chosen if c not in COLUMNS]
    if unknown:
        raise CatalogueError(f"unknown column {unknown[0]!r}: choose from {', '.join(COLUMNS)}")
    return [c for c in COLUMNS if c in chosen]


def page_size_from(params: QueryDict) -> int:
    size = get_int(params, "per_page", 50)
    if size not in PAGE_SIZES:
        raise CatalogueError(f"per_page must be one of {', '.join(map(str, PAGE_SIZES))}, not {size}")
    return size


@cache
def periodic_table() -> list[dict]:
    """Element symbols with their row and column in the usual 18-column layout (f-block below)."""
    cells = []
    for z in range(1, 104):
        element = Element.from_Z(z)
        if 57 <= z <= 71:
            row, col = 8, z - 57 + 3
        elif 89 <= z <= 103:
            row, col = 9, z - 89 + 3
        else:
            row, col = element.row, element.group
        cells.append({"symbol": element.symbol, "z": z, "row": row, "col": col})
    return cells
