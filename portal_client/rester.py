"""``PortalRester``: search, phase diagrams, structures and stability checks over the portal's /api/v1/.

Only ``requests`` and pymatgen are needed; nothing from the portal's server code is imported.

Search keywords are the portal's own filter names (:data:`PORTAL_FILTERS`) or the names users type from mp-api's
``MPRester.materials.summary.search`` where the catalogue has the field, with the same meaning
(:data:`MP_API_RANGES`, :data:`MP_API_SAME`): ``energy_above_hull=(0, 0.05)``, ``num_elements=2``,
``material_ids=["mp-149"]``, ``chemsys=["Li-O", "Fe-O"]`` (any of them: one query per system), ... A keyword
that is neither, or an mp-api name the catalogue has no field for (:data:`MP_API_WITHOUT_FIELD`), is refused with
a ``TypeError`` naming it before anything is sent. A request the portal refuses for its rate (429) is sent again
after the ``Retry-After`` it names, up to ``max_retries`` times and only where that wait is at most ``max_wait``.
"""

import difflib
import email.utils
import gzip
import itertools
import json
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
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


# The filters of GET /api/v1/materials/ and /export/, passed as they are (lists: repeated or comma-separated).
PORTAL_FILTERS = frozenset(
    {
        "formula",
        "anonymous_formula",
        "elements",
        "elements_any",
        "elements_only",
        "exclude_elements",
        "chemsys",
        "nelements_min",
        "nelements_max",
        "nsites_min",
        "nsites_max",
        "e_above_hull_min",
        "e_above_hull_max",
        "formation_energy_min",
        "formation_energy_max",
        "band_gap_min",
        "band_gap_max",
        "spacegroup_number",
        "spacegroup_symbol",
        "is_stable",
        "source",
        "method",
        "batch",
        "layered",
        "li_conductor",
        "li_conductor_max_e_above_hull",
        "round",
        "material_ids",
        "sort",
    }
)
# mp-api range keywords, (low, high) with None for an open end, and the portal's ``<name>_min`` / ``_max`` pair
# they become; the whole-number ones also take a single number (that many exactly), as mp-api's do.
MP_API_RANGES = {
    "energy_above_hull": "e_above_hull",
    "formation_energy": "formation_energy",
    "band_gap": "band_gap",
    "num_elements": "nelements",
    "num_sites": "nsites",
}
WHOLE_NUMBER_RANGES = ("num_elements", "num_sites")
# mp-api keywords meaning what the portal's filter of the same name means. ``chemsys`` and ``formula`` also take
# a list, as in mp-api: entries matching any of them (one query each, rows in that order, each once).
MP_API_SAME = ("elements", "exclude_elements", "chemsys", "formula", "is_stable", "material_ids")
ANY_OF = ("chemsys", "formula")
# mp-api keywords the catalogue has no field (or no filter) for: refused, naming them.
MP_API_WITHOUT_FIELD = frozenset(
    {
        "crystal_system",
        "density",
        "volume",
        "deprecated",
        "theoretical",
        "e_electronic",
        "e_ionic",
        "e_total",
        "efermi",
        "elastic_anisotropy",
        "equilibrium_reaction_energy",
        "g_reuss",
        "g_voigt",
        "g_vrh",
        "k_reuss",
        "k_voigt",
        "k_vrh",
        "has_props",
        "has_reconstructed",
        "is_gap_direct",
        "is_metal",
        "magnetic_ordering",
        "n",
        "num_magnetic_sites",
        "num_unique_magnetic_sites",
        "piezoelectric_modulus",
        "poisson_ratio",
        "possible_species",
        "shape_factor",
        "surface_energy_anisotropy",
        "total_energy",
        "total_magnetization",
        "total_magnetization_normalized_formula_units",
        "total_magnetization_normalized_vol",
        "uncorrected_energy",
        "weighted_surface_energy",
        "weighted_work_function",
        "include_gnome",
        "all_fields",
        "num_chunks",
        "chunk_size",
    }
)
KNOWN_KEYWORDS = sorted(PORTAL_FILTERS | set(MP_API_RANGES) | set(MP_API_SAME))


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
        max_retries: int = 5,
        max_wait: float = 120.0,
    ) -> None:
        self.api = endpoint.rstrip("/") + "/api/v1"
        self.page_size = page_size
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_wait = max_wait
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
        return self._send("GET", url, params=params, **kwargs)

    def _post(self, path: str, payload: dict) -> dict:
        return self._send("POST", f"{self.api}/{path.lstrip('/')}", json=payload).json()

    def _send(self, method: str, url: str, **kwargs) -> requests.Response:
        """The response to a request, sent again after a 429 (which the portal answers without acting on the
        request) once its ``Retry-After`` has passed: at most ``max_retries`` times, and only where the wait is
        at most ``max_wait`` seconds; a refusal after that is a ``PortalError``."""
        for retry in itertools.count():
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
            if response.status_code != 429 or retry >= self.max_retries:
                break
            wait = _retry_after(response, default=2.0**retry)
            if wait > self.max_wait:
                break
            response.close()
            time.sleep(wait)
        _raise_for(response)
        return response

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
        hull_set: str = "dft",
        fields: Sequence[str] | None = None,
        num_entries: int | None = None,
        **criteria: Any,
    ) -> list[dict]:
        """Rows of the materials list as dicts. ``criteria``: the portal's filters by name or the mp-api names
        (see the module doc); anything else is a ``TypeError``."""
        rows: list[dict] = []
        seen: set[str] = set()
        for params in query_params(criteria, hull_set=hull_set):
            if fields:
                params["fields"] = ",".join(fields)
            for row in self.iterate("materials/", params):
                key = row.get("public_id")
                if key is not None and key in seen:  # matched by an earlier system or formula
                    continue
                seen.add(key)
                rows.append(row)
                if num_entries is not None and len(rows) >= num_entries:
                    return rows
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

    def export(
        self, *, compress: bool = True, structure: bool = False, hull_set: str = "dft", **criteria: Any
    ) -> Iterator[dict]:
        """Every entry of a query from the JSON Lines export, streamed row by row (``criteria`` as in
        :meth:`search_docs`; the keywords are checked when this is called, before the first row is asked for)."""
        queries = query_params(criteria, hull_set=hull_set)
        for params in queries:
            if compress:
                params["compress"] = "gzip"
            if structure:
                params["structure"] = "true"
        return self._export_rows(queries)

    def _export_rows(self, queries: list[dict]) -> Iterator[dict]:
        seen: set[str] = set()
        for params in queries:
            response = self._get("materials/export/", params, stream=True)
            with response:
                stream = gzip.GzipFile(fileobj=response.raw) if "compress" in params else response.raw
                for line in stream:
                    if line.strip():
                        row = json.loads(line)
                        if row.get("public_id") not in seen:
                            seen.add(row.get("public_id"))
                            yield row

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


def query_params(criteria: dict[str, Any], *, hull_set: str = "dft") -> list[dict[str, Any]]:
    """The list's query parameters for search keywords (see the module doc): one dict per query (a list of
    systems or formulas asks one query for each). A ``TypeError`` names every keyword that is refused."""
    unknown = sorted(set(criteria) - PORTAL_FILTERS - set(MP_API_RANGES) - set(MP_API_SAME))
    if unknown:
        raise TypeError("; ".join(_refusal(name) for name in unknown))
    params: dict[str, Any] = {"hull_set": hull_set}
    any_of: dict[str, list[str]] = {}
    for name, value in criteria.items():
        if value is None:
            continue
        if name in MP_API_RANGES:
            params.update(_range(name, value))
        elif name in ANY_OF and not isinstance(value, str):
            any_of[name] = list(value)
        elif isinstance(value, bool):
            params[name] = "true" if value else "false"
        elif isinstance(value, list | tuple | set | frozenset):
            params[name] = ",".join(str(item) for item in value)
        else:
            params[name] = value
    names = list(any_of)
    return [
        {**params, **dict(zip(names, chosen, strict=True))} for chosen in itertools.product(*any_of.values())
    ]


def _refusal(name: str) -> str:
    if name in MP_API_WITHOUT_FIELD:
        return f"{name!r}: the portal's catalogue has no such field to search (an mp-api keyword)"
    near = difflib.get_close_matches(name, KNOWN_KEYWORDS, n=3, cutoff=0.6)
    hint = f" (did you mean {' or '.join(map(repr, near))}?)" if near else ""
    return f"unknown search keyword {name!r}{hint}"


def _range(name: str, value: Any) -> dict[str, Any]:
    """``<field>_min`` / ``_max`` of an mp-api range keyword: (low, high), None for an open end, or one whole
    number for ``num_elements`` and ``num_sites``."""
    field = MP_API_RANGES[name]
    if name in WHOLE_NUMBER_RANGES and isinstance(value, int) and not isinstance(value, bool):
        value = (value, value)
    if not isinstance(value, list | tuple) or len(value) != 2:
        whole = " or one whole number" if name in WHOLE_NUMBER_RANGES else ""
        raise TypeError(f"{name!r} takes (low, high), None for an open end{whole}; got {value!r}")
    low, high = value
    return {key: bound for key, bound in ((f"{field}_min", low), (f"{field}_max", high)) if bound is not None}


def _retry_after(response: requests.Response, default: float) -> float:
    """Seconds a 429 asks to wait (``Retry-After``: seconds or an HTTP date); ``default`` where it says none."""
    text = response.headers.get("Retry-After", "").strip()
    if not text:
        return default
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:  # an HTTP date is in GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _raise_for(response: requests.Response) -> None:
    if response.ok:
        return
    try:
        body = response.json()
        message = body.get("detail") if isinstance(body, dict) and "detail" in body else json.dumps(body)
    except ValueError:
        message = response.text[:500]
    raise PortalError(response.status_code, message)
