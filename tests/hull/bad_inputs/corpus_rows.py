"""The rows of the bad-input corpus: real small Materials Project structures (good rows) and the shapes a bad row
takes, with the constants every part of the generator shares (see ``make_corpus.py``)."""

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hull.plausibility import reference_energies  # pure, no Django

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
FORMATS = ("cse-json", "wbm-json", "gnome-csv", "cif", "poscar", "extxyz")
NAN, INF = float("nan"), float("inf")
ZIP_TIME = (2020, 1, 1, 0, 0, 0)


@dataclass
class Row:
    """One row before it is written: a structure (lattice rows, species, fractional coordinates) and an energy
    per cell. ``bad`` is the fragment of the error the row must get (None: a good row); ``extra`` holds values for
    one format (``method``, ``formula``, ``band_gap``, ``composition``...)."""

    id: object
    lattice: list
    species: list
    frac: list
    energy: object
    bad: str | None = None
    extra: dict = field(default_factory=dict)

    def copy(self, **changes) -> "Row":
        values = {
            "id": self.id,
            "lattice": [list(r) if isinstance(r, list) else r for r in self.lattice],
            "species": list(self.species),
            "frac": [list(c) for c in self.frac],
            "energy": self.energy,
            "bad": self.bad,
            "extra": dict(self.extra),
        }
        values.update(changes)
        return Row(**values)

    @property
    def nsites(self) -> int:
        return len(self.species)


@dataclass
class Case:
    name: str
    fmt: str
    rows: list[Row]
    file_error: str | None = None
    # a function that writes the case itself (for file-level attacks), given the case's path
    write: Callable[[Path], None] | None = None


# --- the good rows: small real structures -------------------------------------------------------------------


def pool() -> list[Row]:
    """Real entries of ``../shared/data/mp_entries.json.gz`` with at most 4 sites, two elements at most, in a few
    small chemical spaces (with their elemental references, so that hulls are meaningful)."""
    data = ROOT.parent / "shared" / "data" / "mp_entries.json.gz"
    with gzip.open(data, "rt") as handle:
        items = json.load(handle)
    chosen = []
    for item in sorted(items, key=lambda x: x["entry_id"]):
        elements = set(item["composition"])
        sites = item["structure"]["sites"]
        if len(sites) <= 4 and elements <= {"Li", "O", "Na", "Cl", "Mg"} and len(elements) <= 2:
            if any(s["species"][0].get("occu", 1) != 1 for s in sites):
                continue
            chosen.append(
                Row(
                    id=item["entry_id"],
                    lattice=[[round(x, 8) for x in r] for r in item["structure"]["lattice"]["matrix"]],
                    species=[s["species"][0]["element"] for s in sites],
                    frac=[[round(x, 8) for x in s["abc"]] for s in sites],
                    energy=round(item["energy"] + item["correction"], 6),
                )
            )
    if len(chosen) < 9:
        raise SystemExit(f"only {len(chosen)} small entries found in {data}")
    return chosen[:12]


POOL: list[Row] = []


def good(k: int, n: int = 3) -> list[Row]:
    """``n`` good rows, a different choice for each case number ``k``."""
    return [POOL[(k + i) % len(POOL)].copy() for i in range(n)]


def ref_energy(species: list[str]) -> float:
    table = reference_energies()
    return sum(table[s] for s in species)


def many_sites(n_side: int = 8) -> Row:
    """A simple cubic grid of Li, ``n_side``^3 sites 2.5 Å apart, at the elemental reference energy."""
    frac = [
        [i / n_side, j / n_side, k / n_side]
        for i in range(n_side)
        for j in range(n_side)
        for k in range(n_side)
    ]
    a = 2.5 * n_side
    species = ["Li"] * len(frac)
    return Row("big-cell", [[a, 0, 0], [0, a, 0], [0, 0, a]], species, frac, round(ref_energy(species), 4))


def many_elements(n: int) -> Row:
    """``n`` distinct elements in a 10 Å cube, each at its reference energy (a plausible energy)."""
    symbols = [s for s in reference_energies() if s not in ("H", "He", "Ne", "Ar", "Kr", "Xe")][:n]
    frac = [[(i % 3) / 3, ((i // 3) % 3) / 3, (i // 9) / 3] for i in range(n)]
    return Row(
        f"elements-{n}",
        [[10.0, 0, 0], [0, 10.0, 0], [0, 0, 10.0]],
        symbols,
        frac,
        round(ref_energy(symbols), 4),
    )


# --- rendering of each format -------------------------------------------------------------------------------


def num(value: object) -> str:
    return (
        value
        if isinstance(value, str)
        else repr(float(value))
        if isinstance(value, int | float)
        else str(value)
    )


def structure_dict(row: Row) -> dict:
    return {
        "@module": "pymatgen.core.structure",
        "@class": "Structure",
        "charge": 0,
        "lattice": {"matrix": row.lattice, "pbc": [True, True, True]},
        "sites": [
            {"species": [{"element": el, "occu": 1}], "abc": xyz, "properties": {}, "label": el}
            for el, xyz in zip(row.species, row.frac, strict=True)
        ],
        "properties": {},
    }


def counts(species: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for el in species:
        out[el] = out.get(el, 0.0) + 1.0
    return out
