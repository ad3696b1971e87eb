"""The phase-diagram page's downloads of its entries: JSON, the REST API's document of the diagram
(``/api/v1/phase-diagrams/<chemsys>/``, :class:`portal.api.serializers.PhaseDiagramSerializer`) with the units
added, and CSV, one row per entry of that same document in the order of the page's table. The figure itself is
downloaded in the browser (PNG and SVG, ``diagram_download.js``)."""

import json

from hull.export import StructureFile
from hull.phase_diagrams import PhaseDiagramData
from portal.api.serializers import PhaseDiagramSerializer
from portal.downloads import csv_lines
from portal.pages.diagrams import table_order

UNITS = {
    "formation_energy_per_atom": "eV/atom",
    "e_above_hull": "eV/atom",
    "decomposition_energy": "eV/atom",
    "energy_per_atom": "eV/atom",
    "fractions": "atom fraction",
    "decomposition.amount": "fraction of the entry's atoms",
}
"""The units of the document's numbers (energies on the hull set's scale, MP2020-compatible for ``dft``)."""

CSV_COLUMNS = [
    ("formula", "reduced_formula"),
    ("id", "public_id"),
    ("formation_energy_per_atom (eV/atom)", "formation_energy_per_atom"),
    ("e_above_hull (eV/atom)", "e_above_hull"),
    ("decomposition_energy (eV/atom)", "decomposition_energy"),
    ("is_stable", "is_stable"),
    ("decomposes_to", "decomposition"),
    ("energy_per_atom (eV/atom)", "energy_per_atom"),
    ("method", "method"),
    ("source", "source"),
    ("stability_source", "stability_source"),
]
"""CSV header (with units) and the document field each column holds."""

FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def diagram_document(data: PhaseDiagramData) -> dict:
    """The REST API's document of ``data``, with ``units``."""
    return {**PhaseDiagramSerializer(data).data, "units": UNITS}


def _cell(entry: dict, field: str):
    value = entry[field]
    if field == "decomposition":  # "Li2O [mp-1960] 0.5 + Fe2O3 [mp-19770] 0.5": formula, id, atom fraction
        return " + ".join(f"{p['formula']} [{p['public_id']}] {p['amount']:.6g}" for p in value)
    return "" if value is None else value


def entries_csv(data: PhaseDiagramData) -> str:
    """Every entry of the diagram's document as a CSV row (the portal's one CSV writer,
    :func:`portal.downloads.csv_lines`), stable first then by energy above hull, as the page's table lists them."""
    by_key = {entry["key"]: entry for entry in diagram_document(data)["entries"]}
    rows = (
        {header: _cell(by_key[entry.key], field) for header, field in CSV_COLUMNS}
        for entry in table_order(data.entries)
    )
    return b"".join(csv_lines(rows)).decode()


def diagram_file(data: PhaseDiagramData, *, fmt: str) -> StructureFile:
    """The download in ``fmt`` (csv or json), as the text file that :func:`portal.downloads.structure_download`
    serves."""
    name = f"{data.chemsys}_{data.hull_set}_phase_diagram.{fmt}"
    if fmt == "csv":
        return StructureFile(text=entries_csv(data), filename=name, content_type=FORMATS["csv"])
    text = json.dumps(diagram_document(data), indent=1, default=str)
    return StructureFile(text=text, filename=name, content_type=FORMATS["json"])
