"""What a round explores and how: :class:`RoundConfig`, validated once here for the launch form, the REST API,
``run_discovery`` and the stages that read it back from the round."""

import math
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from discovery.generation import PER_COMPOSITION
from discovery.models import Round
from hull.errors import CatalogueError
from hull.formulas import parse_chemsys, parse_elements
from hull.hull_sets import HULL_SETS
from ml_backend.ensemble import PAPER_VOLUMES

GENERATORS = ("substitution", "saps", "composition")
EVALUATORS = ("chgnet", "vasp")
SELECTIONS = ("per_composition", "clusters")
MAX_BUDGET = 1_000_000
MAX_IQR_WEIGHT = 5.0

# (field, lowest, highest) of the integer settings
INTEGER_RANGES = (
    ("budget", 1, MAX_BUDGET),
    ("eval_budget", 1, MAX_BUDGET),
    ("baseline_size", 0, MAX_BUDGET),
    ("ensemble_size", 1, 32),
    ("volumes", 1, 100),
    ("relax_steps", 1, 10_000),
    ("random_structures", 1, 10_000),
    ("retrain_epochs", 1, 10_000),
    ("chunk_size", 1, 1_000),
    ("seed", 0, 2**31 - 1),
)


@dataclass
class RoundConfig:
    """What a round explores and how. ``elements`` or ``chemsys`` (or both) give the scope.

    ``budget`` candidates are generated (an equal share per generator), the filter keeps at most
    ``eval_budget`` predicted within ``threshold`` eV/atom of the hull (the paper's 50 meV/atom), one per
    composition or per structure cluster (``selection``), and ``baseline_size`` random unfiltered candidates
    are evaluated beside them for the baseline hit rate. The composition pipeline builds
    ``random_structures`` symmetric random structures per composition (the paper's 100), in turns over the
    ranked compositions until its share of the budget is spent.
    """

    elements: list[str] = field(default_factory=list)
    chemsys: list[str] = field(default_factory=list)
    generators: list[str] = field(default_factory=lambda: ["substitution", "saps"])
    budget: int = 1000
    eval_budget: int = 100
    baseline_size: int = 30
    threshold: float = 0.05
    selection: str = "per_composition"
    evaluator: str = "chgnet"
    ensemble_size: int = field(default_factory=lambda: settings.PORTAL_ROUND_ENSEMBLE_SIZE)
    volumes: int = PAPER_VOLUMES
    iqr_weight: float = 0.0
    relax_steps: int = 300
    random_structures: int = PER_COMPOSITION
    retrain: bool = False
    retrain_epochs: int = 5
    chunk_size: int = 10
    seed: int = 0
    hull_set: str = "all"

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> "RoundConfig":
        if not isinstance(data, dict):
            raise CatalogueError("config must be an object")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise CatalogueError(
                f"unknown config key(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        config = cls(**data)
        config.validate()
        return config

    @classmethod
    def of(cls, round: Round) -> "RoundConfig":
        """The stored configuration of a round (keys it does not know are ignored)."""
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in (round.config or {}).items() if k in known})

    def scope_elements(self) -> list[str]:
        elements = set(self.elements)
        for chemsys in self.chemsys:
            elements.update(chemsys.split("-"))
        return sorted(elements)

    def validate(self) -> None:
        if not isinstance(self.elements, list) or not isinstance(self.chemsys, list):
            raise CatalogueError("elements and chemsys must be lists")
        if not all(isinstance(x, str) for x in self.elements + self.chemsys):
            raise CatalogueError("elements and chemsys must be lists of strings")
        self.elements = parse_elements(self.elements)
        self.chemsys = sorted({parse_chemsys(text) for text in self.chemsys})
        if not self.elements and not self.chemsys:
            raise CatalogueError("a round needs a scope: elements or chemsys")
        if not isinstance(self.generators, list) or not self.generators:
            raise CatalogueError(f"generators must be a non-empty list of {', '.join(GENERATORS)}")
        bad = [g for g in self.generators if g not in GENERATORS]
        if bad:
            raise CatalogueError(f"unknown generator(s) {bad}: choose from {', '.join(GENERATORS)}")
        for name, low, high in INTEGER_RANGES:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise CatalogueError(f"{name} must be an integer between {low} and {high}")
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, int | float):
            raise CatalogueError("threshold must be a number (eV/atom)")
        if not math.isfinite(self.threshold) or not -1.0 <= self.threshold <= 1.0:
            raise CatalogueError("threshold must lie between -1 and 1 eV/atom")
        if isinstance(self.iqr_weight, bool) or not isinstance(self.iqr_weight, int | float):
            raise CatalogueError("iqr_weight must be a number (k in median + k x IQR)")
        if not math.isfinite(self.iqr_weight) or not -MAX_IQR_WEIGHT <= self.iqr_weight <= MAX_IQR_WEIGHT:
            raise CatalogueError(f"iqr_weight must lie between {-MAX_IQR_WEIGHT:g} and {MAX_IQR_WEIGHT:g}")
        if self.selection not in SELECTIONS:
            raise CatalogueError(f"unknown selection {self.selection!r}: choose from {', '.join(SELECTIONS)}")
        if self.evaluator not in EVALUATORS:
            raise CatalogueError(f"unknown evaluator {self.evaluator!r}: choose from {', '.join(EVALUATORS)}")
        if not isinstance(self.retrain, bool):
            raise CatalogueError("retrain must be true or false")
        if self.hull_set not in HULL_SETS:
            raise CatalogueError(f"unknown hull set {self.hull_set!r}: choose one of {', '.join(HULL_SETS)}")
