"""The benchmark copy of the catalogue, read from the database once and kept in memory: DFT entries with their
ground truth on the full DFT hull. The benchmark never writes to the catalogue."""

from discovery.benchmark.holdout import CatalogueRow
from hull.models import Stability


def dft_catalogue_rows() -> list[CatalogueRow]:
    """Every DFT entry with its formation energy and stability in the ``dft`` hull set, in public id order."""
    rows = (
        Stability.objects.filter(hull_set="dft", entry__method_family="dft")
        .order_by("entry__public_id")
        .values_list(
            "entry__public_id",
            "entry__reduced_formula",
            "entry__composition",
            "entry__energy_per_atom",
            "entry__structure",
            "entry__nsites",
            "formation_energy_per_atom",
            "is_stable",
        )
    )
    return [
        CatalogueRow(pid, formula, composition, energy, structure, nsites, formation, bool(stable))
        for pid, formula, composition, energy, structure, nsites, formation, stable in rows.iterator()
    ]
