"""Facts of the GNoME release (Merchant et al., "Scaling deep learning for materials discovery", Nature 624, 80-85
(2023); data at ``gs://gdm_materials_discovery``, described in the release's ``DATASET.md``): its CSV files and
their published columns, its structure archives, and the pseudopotential shift its documentation prescribes for
Materials Project energies. Pure: no Django import; the reader and the ingest service call these.

Files (each CSV is written by pandas, with or without a leading unnamed index column):

- ``gnome_data/stable_materials_summary.csv``: the ~381,000 new stable materials (GGA/GGA+U, MP2020-compatible);
- ``gnome_data/stable_materials_r2scan.csv``: r2SCAN energies of a subset (their own energy scale);
- ``external_data/external_materials_summary.csv``: MP, OQMD and WBM entries that complete the release's hull;
- ``external_data/mp_snapshot_summary.csv``: the Materials Project snapshot GNoME compared against;
- ``gnome_data/by_id.zip``, ``by_composition.zip``, ``by_reduced_formula.zip``: the CIFs, one per material, named
  ``<MaterialId>.CIF``, ``<Composition>.CIF`` or ``<Reduced Formula>.CIF``.
"""

import re
from collections.abc import Mapping
from typing import Final

# Per atom of the element, eV: added to a Materials Project energy so that it matches GNoME's pseudopotentials
# (the release documentation: MP used other PAW potentials for these five elements). Applied to MP entries that
# share a hull set with GNoME entries (``hull.services.pseudopotential``), switchable by
# ``PORTAL_GNOME_PSEUDOPOTENTIAL_SHIFT``.
PSEUDOPOTENTIAL_SHIFT: Final[Mapping[str, float]] = {
    "Ga": -0.0028805,
    "Ge": 0.10417085,
    "Li": -0.00301278,
    "Mg": 0.0924014,
    "Na": -0.00447437,
}
SHIFT_ADJUSTMENT: Final = "GNoME pseudopotential shift"
"""The name of the shift among an entry's energy adjustments (``data["energy_adjustments"]``)."""

MP_ID = re.compile(r"^(mp|mvc)-\d+$")

# Which CSV of the release a file is, by its name; ``summary`` for any other name.
STABLE, R2SCAN_FILE, EXTERNAL, MP_SNAPSHOT = "stable", "r2scan", "external", "mp_snapshot"
CSV_KINDS: Final = {
    "stable_materials_summary": STABLE,
    "stable_materials_r2scan": R2SCAN_FILE,
    "external_materials_summary": EXTERNAL,
    "mp_snapshot_summary": MP_SNAPSHOT,
}

# The published hull columns (energies per atom against the release's own hulls), stored beside ours under these
# keys in ``Entry.data["published_hull"]`` and compared with ours by ``manage.py compare_hull``. Each maps to the
# quantity of ours it is comparable with.
PUBLISHED_HULL_COLUMNS: Final[Mapping[str, str]] = {
    "formation_energy_per_atom": "formation_energy_per_atom",
    "decomposition_energy_per_atom": "decomposition_energy",
    "decomposition_energy_per_atom_all": "decomposition_energy",
    "decomposition_energy_per_atom_relative": "decomposition_energy",
    "decomposition_energy_per_atom_mp": "decomposition_energy",
    "decomposition_energy_per_atom_mp_oqmd": "decomposition_energy",
}


def column_key(header: str) -> str:
    """A published column's key: its header lower-cased, words joined by ``_`` ("Decomposition Energy Per Atom
    All" -> ``decomposition_energy_per_atom_all``)."""
    return "_".join(re.findall(r"[a-z0-9]+", header.lower()))


def csv_kind(file_name: str) -> str:
    """Which CSV of the release ``file_name`` is (``stable`` for an unknown name)."""
    stem = file_name.lower().split(".")[0]
    return next((kind for prefix, kind in CSV_KINDS.items() if stem.startswith(prefix)), STABLE)


def is_mp_id(source_id: str) -> bool:
    """A Materials Project id (``mp-1234``, ``mvc-12``)."""
    return bool(MP_ID.match(source_id))


def pseudopotential_shift(composition: Mapping[str, float]) -> dict[str, float]:
    """The shift (eV per cell of ``composition``, symbol -> amount) of each shifted element it holds."""
    return {
        symbol: PSEUDOPOTENTIAL_SHIFT[symbol] * float(amount)
        for symbol, amount in sorted(composition.items())
        if symbol in PSEUDOPOTENTIAL_SHIFT
    }
