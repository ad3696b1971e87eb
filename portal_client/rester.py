"""``PortalRester``: search, phase diagrams, structures and stability checks over the portal's /api/v1/.

Only ``requests`` and pymatgen are needed; nothing from the portal's server code is imported.
"""

import gzip
import json
from collections.abc import Iterator, Sequence
from typing import Any

import requests
from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
from pymatgen.core import Composition, Structure
from pymatgen.entries.computed_entries import ComputedEntry, ComputedStructureEntry

# Carried into each entry's ``data``.
DATA_FIELDS = (
    "e_above_hull",
    "formation_energy_per_atom",
    "is_stable",
    "band_gap",
    "source",
    "source_id",
    "method",
    "hull_set",
    "spacegroup_number",
)
ENTRY_FIELDS = (
    "public_id",
    "reduced_formula",
    "composition",
    "structure",
    "energy",
    "uncorrected_energy",
    "correction",
    "chemsys",
    "nsites",
    *DATA_FIELDS,
)


class PortalError(Exception):
    """The portal refused a request; the message is the portal's."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


class PortalRester:
    """A session with the portal. ``endpoint`` is the site's root URL; ``token`` an API token (from the
    "your API token" page) for staff actions and higher rate limits; anonymous reads work without one."""

    def __init__(
        self,
        endpoint: str = "http://127.0.0.1:8000",
        token: str | None = None,
        *,
        page_size: int = 500,
        timeout: float = 60.0,
        session: requests.Session | None = None,
    ) -> None:
        self.api = endpoint.rstrip("/") + "/api/v1"
        self.page_size = page_size
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.headers["Accept"] = "application/json"
        if token:
            self.session.headers["Authorization"] = f"Token {token}"

    def __enter__(self) -> "PortalRester":
        return self

    def __exit__(self, *exc) -> None:
        self.session.close()

    # --- low level ------------------------------------------------------------------------------------

    def _get(self, path: str, params: dict | None = None, **kwargs) -> requests.Response:
        url = path if path.startswith("http") else f"{self.api}/{path.lstrip('/')}"
        response = self.session.get(url, params=params, timeout=self.timeout, **kwargs)
        _raise_for(response)
        return response

    def _post(self, path: str, payload: dict) -> dict:
        response = self.session.post(f"{self.api}/{path.lstrip('/')}", json=payload, timeout=self.timeout)
        _raise_for(response)
        return response.json()

    def iterate(self, path: str, params: dict | None = None) -> Iterator[dict]:
        """Every row of a paginated list, following the ``next`` cursors."""
        params = {**(params or {}), "page_size": self.page_size}
        response = self._get(path, params)
        while True:
            page = response.json()
            yield from page["results"]
            if not page.get("next"):
                return
            response = self._get(page["next"])

    # --- materials ------------------------------------------------------------------------------------

    def search_docs(
        self,
        *,
        elements: Sequence[str] | None = None,
        exclude_elements: Sequence[str] | None = None,
        chemsys: str | None = None,
        formula: str | None = None,
        energy_above_hull: tuple[float | None, float | None] | None = None,
        formation_energy: tuple[float | None, float | None] | None = None,
        is_stable: bool | None = None,
        hull_set: str = "dft",
        fields: Sequence[str] | None = None,
        num_entries: int | None = None,
        **filters: Any,
    ) -> list[dict]:
        """Rows of the materials list as dicts (any filter of /api/v1/materials/ may be passed by name)."""
        params: dict[str, Any] = {"hull_set": hull_set, **filters}
        if elements:
            params["elements"] = ",".join(elements)
        if exclude_elements:
            params["exclude_elements"] = ",".join(exclude_elements)
        if chemsys:
            params["chemsys"] = chemsys
        if formula:
            params["formula"] = formula
        if is_stable is not None:
            params["is_stable"] = "true" if is_stable else "false"
        for name, bounds in (("e_above_hull", energy_above_hull), ("formation_energy", formation_energy)):
            if bounds:
                low, high = bounds
                if low is not None:
                    params[f"{name}_min"] = low
                if high is not None:
                    params[f"{name}_max"] = high
        if fields:
            params["fields"] = ",".join(fields)
        rows = []
        for row in self.iterate("materials/", params):
            rows.append(row)
            if num_entries is not None and len(rows) >= num_entries:
                break
        return rows

    def search(self, **criteria: Any) -> list[ComputedStructureEntry | ComputedEntry]:
        """Entries matching ``criteria`` (see :meth:`search_docs`) as pymatgen entries: a
        ``ComputedStructureEntry`` where the entry has a structure, else a ``ComputedEntry``. Energies are the
        catalogue's corrected energies (uncorrected energy plus correction); ``entry_id`` is the portal id."""
        criteria["fields"] = ENTRY_FIELDS
        return [_as_entry(row) for row in self.search_docs(**criteria)]

    def get_entry(self, public_id: str) -> dict:
        """Everything the portal knows about one material (its page's data)."""
        return self._get(f"materials/{public_id}/").json()

    def get_structure(self, public_id: str) -> Structure:
        entry = self.get_entry(public_id)
        if entry.get("structure") is None:
            raise PortalError(404, f"{public_id} has no structure (composition-only entry)")
        return Structure.from_dict(entry["structure"])

    def get_structure_file(self, public_id: str, fmt: str = "cif") -> str:
        """The structure as a cif, poscar or extxyz file's text."""
        return self._get(f"materials/{public_id}/", {"format": fmt}).text

    def export(self, *, compress: bool = True, **filters: Any) -> Iterator[dict]:
        """Every entry of a query from the JSON Lines export, streamed row by row."""
        params = {**filters, **({"compress": "gzip"} if compress else {})}
        response = self._get("materials/export/", params, stream=True)
        with response:
            stream = gzip.GzipFile(fileobj=response.raw) if compress else response.raw
            for line in stream:
                if line.strip():
                    yield json.loads(line)

    # --- thermodynamics -------------------------------------------------------------------------------

    def get_phase_diagram_data(self, chemsys: str | Sequence[str], hull_set: str = "dft") -> dict:
        name = chemsys if isinstance(chemsys, str) else "-".join(chemsys)
        return self._get(f"phase-diagrams/{name}/", {"hull_set": hull_set}).json()

    def get_phase_diagram(self, chemsys: str | Sequence[str], hull_set: str = "dft") -> PhaseDiagram:
        """A pymatgen ``PhaseDiagram`` of the system from the catalogue's entries (one ``PDEntry`` per entry,
        per atom, named by reduced formula, ``attribute`` = portal id)."""
        data = self.get_phase_diagram_data(chemsys, hull_set)
        entries = [
            PDEntry(
                Composition({el: x for el, x in item["fractions"].items() if x > 0}),
                item["energy_per_atom"],
                name=item["reduced_formula"],
                attribute=item["public_id"],
            )
            for item in data["entries"]
        ]
        return PhaseDiagram(entries, elements=[_element(el) for el in data["elements"]])

    def check_stability(
        self,
        composition: str | dict[str, float] | Composition,
        energy_per_atom: float,
        hull_set: str = "dft",
    ) -> dict:
        """Where a hypothetical entry would sit against the catalogue (writes nothing on the portal)."""
        if isinstance(composition, Composition):
            composition = {el.symbol: float(x) for el, x in composition.items()}
        return self._post(
            "stability/",
            {"composition": composition, "energy_per_atom": energy_per_atom, "hull_set": hull_set},
        )

    # --- discovery rounds -----------------------------------------------------------------------------

    def get_rounds(self) -> list[dict]:
        return list(self.iterate("rounds/"))

    def launch_round(self, config: dict) -> dict:
        """Start a discovery round (staff token needed)."""
        return self._post("rounds/", {"config": config})


def _element(symbol: str):
    from pymatgen.core import Element

    return Element(symbol)


def _as_entry(row: dict) -> ComputedStructureEntry | ComputedEntry:
    data = {key: row.get(key) for key in DATA_FIELDS}
    common = {
        "energy": row["uncorrected_energy"],
        "correction": row["correction"],
        "entry_id": row["public_id"],
        "data": data,
    }
    if row.get("structure"):
        return ComputedStructureEntry(Structure.from_dict(row["structure"]), **common)
    return ComputedEntry(Composition(row["composition"]), **common)


def _raise_for(response: requests.Response) -> None:
    if response.ok:
        return
    try:
        body = response.json()
        message = body.get("detail") if isinstance(body, dict) and "detail" in body else json.dumps(body)
    except ValueError:
        message = response.text[:500]
    raise PortalError(response.status_code, message)
