"""Where the demo catalogue comes from: the shared MP entries where present, else real entries that ship
inside pymatgen (its ``calc_compounds.json.gz``: 423 Materials Project GGA/GGA+U computed entries, 89 of
them elemental, without structures and without MP2020 corrections)."""

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings


@dataclass(frozen=True)
class DemoSource:
    path: Path
    source: str
    method: str | None
    description: str


def demo_source() -> DemoSource:
    shared = Path(settings.PORTAL_SHARED_DATA) / "mp_entries.json.gz"
    if shared.exists():
        return DemoSource(shared, "mp", None, f"the shared Materials Project entries ({shared})")
    import pymatgen.analysis.compatibility as compatibility

    packaged = Path(compatibility.__file__).parent / "calc_compounds.json.gz"
    return DemoSource(
        packaged,
        "mp-pymatgen-package",
        "GGA/GGA+U (uncorrected)",
        f"{shared} is absent, so the demo uses the 423 Materials Project entries that ship inside pymatgen "
        f"({packaged}; compositions and uncorrected GGA/GGA+U energies, no structures)",
    )
