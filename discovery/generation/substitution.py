"""Ionic substitution with data-mined substitution probabilities, modified as GNoME did.

Hautier et al. (Inorg. Chem. 50, 656 (2011)) fitted a pair weight ``lambda(s1, s2)`` for every pair of
ions seen substituting for each other in the ICSD; pymatgen ships the table
(``pymatgen/core/structure_prediction/data/lambda.json``) and turns it into probabilities in
``SubstitutionProbability``: ``p(s1, s2) = exp(lambda) / Z`` with ``Z`` the sum over all ordered pairs and
``alpha = -5`` for pairs never seen.

Merchant et al., Nature 624, 80 (2023), Methods, changed the model "to favour discovery":

* **negative lambdas raised to 0.** We read pymatgen's lambda table (the same file its class reads),
  replace every negative lambda by ``max(lambda, 0)`` and hand the edited rows to
  ``SubstitutionProbability(lambda_table=...)``, which then rebuilds ``Z`` and the marginals from them
  (:func:`discovery_probability_model`). Pairs absent from the table keep ``alpha`` (they were never
  observed, which is different from a negative fitted weight);
* **probabilities only between differing compositions.** The conditional probability of replacing
  ``s`` by ``t`` is normalised over ``t != s`` only (the identity, which gives back the parent's
  composition, is taken out of the sum and never proposed; :meth:`SubstitutionModel.replacements`);
  replacements that keep the element (``Fe2+ -> Fe3+``) are skipped for the same reason;
* **a threshold of 0.001** on the product of the conditional probabilities of the replaced ions;
* **only compositions not already in the catalogue**: the caller passes the set of known reduced
  formulas.

A substitution replaces one or more (``max_replaced``, default 2) of the parent's ions at once, each by a
different element not already in the parent, on all of that ion's sites; the cell is scaled by the ratio
of the atomic volumes (from pymatgen's atomic radii) so that the relaxation starts near the right density.
Charge balance of the result is optional (``charge_balance``, default off as in the paper).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from pymatgen.analysis.bond_valence import BVAnalyzer
from pymatgen.core import Composition, Species, Structure
from pymatgen.core import structure_prediction as _structure_prediction
from pymatgen.core.structure_prediction.substitution_probability import SubstitutionProbability

from discovery.generation.airss import atomic_volume
from discovery.generation.candidates import Candidate, Proposal, is_charge_balanced, unique_candidates

GENERATOR = "substitution"
THRESHOLD = 1e-3
LAMBDA_TABLE = Path(_structure_prediction.__file__).parent / "data" / "lambda.json"


def discovery_lambda_table() -> list[list]:
    """pymatgen's lambda table with every negative lambda raised to 0 (rows ``[s1, s2, lambda]``)."""
    rows = orjson.loads(LAMBDA_TABLE.read_bytes())
    return [[row[0], row[1], max(float(row[2]), 0.0)] for row in rows if "D1+" not in row]


@cache
def discovery_probability_model() -> SubstitutionProbability:
    """pymatgen's substitution probability model built from :func:`discovery_lambda_table` (cached)."""
    return SubstitutionProbability(lambda_table=discovery_lambda_table())


@dataclass(frozen=True)
class Replacement:
    old: Species
    new: Species
    probability: float  # conditional probability of new given old, over new != old


class SubstitutionModel:
    """Conditional substitution probabilities normalised over differing species only."""

    def __init__(self, probability: SubstitutionProbability | None = None) -> None:
        self.p = probability or discovery_probability_model()
        self.species = sorted(self.p.species, key=str)
        self._cache: dict[Species, list[Replacement]] = {}

    def replacements(self, old: Species, threshold: float = THRESHOLD) -> list[Replacement]:
        """Ions that may replace ``old`` with conditional probability at least ``threshold``, highest first.

        ``P(t | old) = exp(lambda(t, old)) / sum_{u != old} exp(lambda(u, old))`` over the table's species,
        and only ``t`` of a different element than ``old``.
        """
        if old not in self.p.species:
            return []
        if old not in self._cache:
            weights = {t: math.exp(self.p.get_lambda(t, old)) for t in self.species if t != old}
            total = sum(weights.values())
            out = [
                Replacement(old, t, w / total)
                for t, w in weights.items()
                if t.symbol != old.symbol and w / total >= 1e-6
            ]
            out.sort(key=lambda r: (-r.probability, str(r.new)))
            self._cache[old] = out
        return [r for r in self._cache[old] if r.probability >= threshold]


@cache
def _oxidation_states(formula: str) -> tuple[tuple[str, float], ...] | None:
    """The first oxidation-state guess of the reduced formula; ``None`` when there is none or the formula has
    more than 20 atoms (pymatgen refuses those: the bond-valence analyser takes over)."""
    try:
        guesses = Composition(formula).oxi_state_guesses(max_sites=-20)
    except ValueError:
        return None
    if not guesses:
        return None
    return tuple(sorted(guesses[0].items()))


def decorate(structure: Structure) -> Structure | None:
    """The structure with oxidation states: the composition's first guess (fast, cached per formula),
    else the bond-valence analyser; ``None`` when neither finds integer states known to the model."""
    states = _oxidation_states(structure.composition.reduced_formula)
    decorated = structure.copy()
    if states is not None and all(float(v).is_integer() for _, v in states):
        decorated.add_oxidation_state_by_element({el: int(v) for el, v in states})
        return decorated
    try:
        valences = BVAnalyzer().get_valences(structure)
    except ValueError:
        return None
    decorated.add_oxidation_state_by_site(valences)
    return decorated


def substitute(structure: Structure, mapping: dict[str, str]) -> Structure:
    """A copy of ``structure`` (oxidation states removed) with elements replaced by ``mapping`` and the
    volume scaled by the ratio of the summed atomic volumes."""
    plain = structure.copy()
    plain.remove_oxidation_states()
    old_volume = sum(atomic_volume(site.specie.symbol) for site in plain)
    plain.replace_species(mapping)
    new_volume = sum(atomic_volume(site.specie.symbol) for site in plain)
    plain.scale_lattice(plain.volume * new_volume / old_volume)
    return plain


def substitution_proposals(
    parents: Iterable[tuple[str, Structure]],
    *,
    known_formulas: set[str] | frozenset[str] = frozenset(),
    threshold: float = THRESHOLD,
    max_replaced: int = 2,
    allowed_elements: Sequence[str] | None = None,
    charge_balance: bool = False,
    model: SubstitutionModel | None = None,
) -> Iterator[Proposal]:
    """Every substituted structure of every parent, in a deterministic order (parents in the given
    order; for each parent, substitutions by decreasing probability)."""
    model = model or SubstitutionModel()
    allowed = set(allowed_elements) if allowed_elements is not None else None
    for parent_id, parent in parents:
        decorated = decorate(parent)
        if decorated is None:
            continue
        ions = sorted({site.specie for site in decorated}, key=str)
        elements = {ion.symbol for ion in ions}
        if len(elements) != len(ions):  # mixed valence on one element: substitute per element only
            ions = [ion for ion in ions if sum(1 for i in ions if i.symbol == ion.symbol) == 1]
        options = {
            ion: [
                r
                for r in model.replacements(ion, threshold)
                if r.new.symbol not in elements and (allowed is None or r.new.symbol in allowed)
            ]
            for ion in ions
        }
        proposals: list[tuple[float, str, dict[str, str]]] = []
        for n_replaced in range(1, max_replaced + 1):
            for chosen in itertools.combinations(ions, n_replaced):
                for combo in itertools.product(*(options[ion] for ion in chosen)):
                    targets = [r.new.symbol for r in combo]
                    if len(set(targets)) != len(targets):
                        continue
                    probability = math.prod(r.probability for r in combo)
                    if probability < threshold:
                        continue
                    mapping = {r.old.symbol: r.new.symbol for r in combo}
                    label = ", ".join(f"{r.old}->{r.new}" for r in combo) + f" (p={probability:.3g})"
                    proposals.append((probability, label, mapping))
        proposals.sort(key=lambda item: (-item[0], item[1]))
        for _, label, mapping in proposals:
            new_composition = Composition(
                {mapping.get(el.symbol, el.symbol): amt for el, amt in parent.composition.items()}
            )
            if new_composition.reduced_formula in known_formulas:
                continue
            if charge_balance and not is_charge_balanced(new_composition):
                continue
            yield Proposal(substitute(parent, mapping), parent_id, label)


def substitution_candidates(
    parents: Iterable[tuple[str, Structure]], *, budget: int, **options: Any
) -> Iterator[Candidate]:
    """At most ``budget`` unique substitution candidates of ``parents`` (``(entry id, structure)``).

    ``options`` are those of :func:`substitution_proposals`: ``known_formulas`` (reduced formulas already
    in the catalogue, skipped), ``threshold``, ``max_replaced``, ``allowed_elements`` (restrict the new
    elements, e.g. to the round's scope), ``charge_balance``.
    """
    return unique_candidates(substitution_proposals(parents, **options), generator=GENERATOR, budget=budget)
