"""Loaders for the shared real data and the generic ``Sample`` API.

- ``mp_entries.json.gz``: Materials Project ``ComputedStructureEntry`` dicts. The dict's
  ``energy`` is the *uncorrected* energy; the MP2020-corrected energy (the hull's scale) is
  ``energy + correction`` (what ``ComputedStructureEntry.energy`` returns), used everywhere here.
  Target = formation energy per atom against the lowest corrected energy per atom of a unary
  entry of each element *in the same file* (or a dict of elemental reference energies per atom).
- ``wbm_972.json.gz``: WBM structures. Its ``corrected_formation_energy_per_atom`` uses
  references that differ from the MP file's unaries by up to ~0.06 eV/atom, so the target is
  recomputed from ``corrected_energy`` with the *same* references as the MP training data
  (MP unary minima for the 12 elements of ``mp_entries``; ``mp_elemental_refs.json.gz`` for the
  other elements).

The data directory comes from ``PORTAL_SHARED_DATA`` (default ``<repo>/../shared/data``).
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pymatgen.core import Composition, Structure

MP_ENTRIES = "mp_entries.json.gz"
WBM = "wbm_972.json.gz"
ELEMENTAL_REFS = "mp_elemental_refs.json.gz"


@dataclasses.dataclass(frozen=True)
class Sample:
    """One training or evaluation example: a structure, its target (eV/atom) and a key."""

    structure: Structure
    target: float
    key: str

    @property
    def reduced_formula(self) -> str:
        return self.structure.composition.reduced_formula


def shared_data_dir() -> Path:
    """``$PORTAL_SHARED_DATA`` or ``<repo>/../shared/data``."""
    env = os.environ.get("PORTAL_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def _load_json_gz(path: Path) -> Any:
    with gzip.open(path, "rt") as handle:
        return json.load(handle)


def corrected_energy(entry: Mapping[str, Any]) -> float:
    """MP2020-corrected total energy of a ``ComputedEntry`` dict (``energy`` + ``correction``)."""
    return float(entry["energy"]) + float(entry.get("correction") or 0.0)


def unary_references(entries: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Lowest corrected energy per atom of each element among the unary entries."""
    refs: dict[str, float] = {}
    for entry in entries:
        comp = Composition(entry["composition"])
        if len(comp.elements) == 1:
            symbol = comp.elements[0].symbol
            refs[symbol] = min(refs.get(symbol, float("inf")), corrected_energy(entry) / comp.num_atoms)
    return refs


def formation_energy_per_atom(energy: float, composition: Composition, refs: Mapping[str, float]) -> float:
    """``(E - sum_el n_el * mu_el) / N`` with ``mu_el`` the elemental energy per atom."""
    missing = [el.symbol for el in composition.elements if el.symbol not in refs]
    if missing:
        raise KeyError(f"no elemental reference for {missing}")
    reference = sum(amount * refs[el.symbol] for el, amount in composition.items())
    return (energy - reference) / composition.num_atoms


def load_mp_entries(
    path: Path | None = None, refs: Mapping[str, float] | None = None, max_sites: int | None = None
) -> list[Sample]:
    """Samples from ``mp_entries.json.gz`` with formation energy per atom as target."""
    raw = _load_json_gz(path or shared_data_dir() / MP_ENTRIES)
    refs = dict(refs) if refs is not None else unary_references(raw)
    samples = []
    for entry in raw:
        structure = Structure.from_dict(entry["structure"])
        if max_sites is not None and len(structure) > max_sites:
            continue
        target = formation_energy_per_atom(corrected_energy(entry), structure.composition, refs)
        samples.append(Sample(structure=structure, target=float(target), key=entry["entry_id"]))
    return samples


def load_elemental_refs(path: Path | None = None) -> dict[str, float]:
    """Energies per atom from ``mp_elemental_refs.json.gz`` (MP GGA ground states)."""
    raw = _load_json_gz(path or shared_data_dir() / ELEMENTAL_REFS)
    return {el: corrected_energy(e) / sum(e["composition"].values()) for el, e in raw.items()}


def consistent_references(data_dir: Path | None = None) -> dict[str, float]:
    """MP-file unary minima, completed with ``mp_elemental_refs`` for elements not in the file."""
    data_dir = data_dir or shared_data_dir()
    refs = load_elemental_refs(data_dir / ELEMENTAL_REFS)
    refs.update(unary_references(_load_json_gz(data_dir / MP_ENTRIES)))
    return refs


def load_wbm(path: Path | None = None, refs: Mapping[str, float] | None = None) -> list[Sample]:
    """WBM samples; target recomputed from ``corrected_energy`` with ``refs`` (see module doc)."""
    data_dir = shared_data_dir()
    raw = _load_json_gz(path or data_dir / WBM)
    refs = refs if refs is not None else consistent_references(data_dir)
    samples = []
    for item in raw:
        structure = Structure.from_dict(item["structure"])
        target = formation_energy_per_atom(item["corrected_energy"], structure.composition, refs)
        samples.append(Sample(structure=structure, target=float(target), key=item["material_id"]))
    return samples


def composition_hash_bucket(formula: str | Composition) -> int:
    """The paper's split key: MD5 of the reduced formula as an integer, modulo 100."""
    reduced = Composition(formula).reduced_formula
    return int(hashlib.md5(reduced.encode()).hexdigest(), 16) % 100


def hash_split(samples: Sequence[Sample], train_below: int = 85) -> tuple[list[Sample], list[Sample]]:
    """Composition-hash split (Merchant et al. 2023): bucket < ``train_below`` -> training.

    All polymorphs of one reduced formula land on the same side.
    """
    train, test = [], []
    for sample in samples:
        (train if composition_hash_bucket(sample.reduced_formula) < train_below else test).append(sample)
    return train, test


def lowest_energy_phases(samples: Sequence[Sample]) -> list[Sample]:
    """One sample per reduced formula: its lowest target (ties: the smallest key), in first-seen order. A
    compositional model sees only the formula, so the paper trains it on the lowest-energy phase of each
    composition rather than on every polymorph as a separate, contradictory label."""
    lowest: dict[str, Sample] = {}
    for sample in samples:
        kept = lowest.get(sample.reduced_formula)
        if kept is None or (sample.target, sample.key) < (kept.target, kept.key):
            lowest[sample.reduced_formula] = sample
    return list(lowest.values())


def training_split(samples: Sequence[Sample], kind: str) -> tuple[list[Sample], list[Sample]]:
    """The training and test sets of a model of ``kind``: the composition-hash split, of the lowest-energy phase
    of each composition for a compositional model and of every sample for a structural one."""
    return hash_split(lowest_energy_phases(samples) if kind == "compositional" else samples)


def fingerprint(samples: Sequence[Sample]) -> str:
    """SHA-256 over keys, targets and formulas: identifies the training data in a checkpoint."""
    digest = hashlib.sha256()
    for sample in samples:
        digest.update(f"{sample.key}|{sample.reduced_formula}|{sample.target:.8f}\n".encode())
    return digest.hexdigest()
