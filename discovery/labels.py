"""How a round's settings read to people: the names of generators, selections and evaluators, and a round's
configuration as labelled lines. The launch form, the dashboard and the admin all take their words from here."""

from discovery.config import EVALUATORS, GENERATORS, SELECTIONS, RoundConfig
from discovery.models import Round, TrainedModel
from hull.hull_sets import HULL_SETS

GENERATOR_LABELS = {
    "substitution": "Ionic substitution (swap ions in known structures)",
    "saps": "Partial substitution by symmetry (SAPS: some sites of one Wyckoff orbit)",
    "composition": "New compositions with random structures (AIRSS-style)",
}
SELECTION_LABELS = {
    "per_composition": "Lowest predicted energy of each composition",
    "clusters": "Lowest predicted energy of each structure cluster",
}
EVALUATOR_LABELS = {
    "chgnet": "CHGNet relaxation (machine-learned potential, minutes)",
    "vasp": "VASP DFT relaxation (needs PORTAL_VASP_COMMAND, hours)",
}
MODEL_KIND_LABELS = {
    "structural": "Structural (predicts from the crystal structure; filters every round)",
    "compositional": "Compositional (predicts from the formula; ranks new compositions)",
}
HULL_SET_LABELS = {
    "all": "DFT and evaluated entries (CHGNet, other potentials) on the MP2020 scale",
    "dft": "DFT entries only (GGA/GGA+U, MP2020 scale)",
    "r2scan": "r2SCAN DFT entries (their own energy scale)",
}
SHORT_NAMES = {"substitution": "substitution", "saps": "SAPS", "composition": "compositions + AIRSS"}
SHORT_NAMES.update({"chgnet": "CHGNet", "vasp": "VASP (DFT)", "per_composition": "one per composition"})
SHORT_NAMES.update({"clusters": "one per structure cluster"})

LABELLED = (
    (GENERATOR_LABELS, GENERATORS),
    (SELECTION_LABELS, SELECTIONS),
    (EVALUATOR_LABELS, EVALUATORS),
    (MODEL_KIND_LABELS, TrainedModel.Kind.values),
    (HULL_SET_LABELS, HULL_SETS),
)
"""Each table beside the values it names (a test checks that every value has its label)."""


def choices(labels: dict[str, str]) -> list[tuple[str, str]]:
    """Form choices: the stored value and its label."""
    return list(labels.items())


def short_name(value: str) -> str:
    return SHORT_NAMES.get(value, value)


def round_settings(round: Round) -> list[tuple[str, str]]:
    """A round's stored configuration as (label, value) lines, in the order a scientist reads them."""
    plan = RoundConfig.of(round)
    scope = ", ".join([*plan.elements, *plan.chemsys]) or "—"
    evaluated = f"{plan.eval_budget} kept by the filter"
    if plan.baseline_size:
        evaluated += f" + {plan.baseline_size} random (baseline)"
    return [
        ("Scope", scope),
        ("Generators", ", ".join(short_name(g) for g in plan.generators)),
        ("Candidates generated", str(plan.budget)),
        (
            "Filter",
            f"{'median' if not plan.iqr_weight else f'median {plan.iqr_weight:+g} × IQR'} predicted within "
            f"{plan.threshold * 1000:g} meV/atom of the hull, {short_name(plan.selection)}",
        ),
        ("Ensemble size", f"{plan.ensemble_size} models"),
        (
            "Test-time volumes",
            f"{plan.volumes}, from 80% to 120%" if plan.volumes > 1 else "1 (as generated)",
        ),
        ("Evaluated", evaluated),
        ("Evaluator", f"{short_name(plan.evaluator)}, at most {plan.relax_steps} relaxation steps"),
        ("Retrain afterwards", f"yes, {plan.retrain_epochs} epochs" if plan.retrain else "no"),
        ("Hull set", HULL_SET_LABELS.get(plan.hull_set, plan.hull_set)),
    ]
