"""What a round will cost, estimated from the rounds this portal has run: each stage's measured seconds per unit
of work (candidates generated, candidates x ensemble members filtered, evaluations x relaxation steps, ...),
summed over the recorded stages of recent succeeded rounds, times the units of the round to launch.

Retraining, where no finished round has timed it, is estimated from the training rates the dashboard's training
form uses (``discovery.training.training_rate``: the active structural model's config on today's catalogue).
Time waiting in a queue is not included; a stage with neither has no estimate and is named."""

from dataclasses import dataclass, field

from discovery.config import RoundConfig
from discovery.models import Round, RoundStage

RECENT_ROUNDS = 10

# The work of each stage, in its unit, for a round's settings (retrain: epochs, and none when not asked for).
UNITS = {
    RoundStage.Name.GENERATE: ("candidates", lambda p: p.budget),
    RoundStage.Name.FILTER: (
        "candidate x member x volume predictions",
        lambda p: p.budget * p.ensemble_size * p.volumes,
    ),
    RoundStage.Name.EVALUATE: (
        "relaxation steps",
        lambda p: (p.eval_budget + p.baseline_size) * p.relax_steps,
    ),
    RoundStage.Name.INGEST: ("evaluations", lambda p: p.eval_budget + p.baseline_size),
    RoundStage.Name.HULL: ("evaluations", lambda p: p.eval_budget + p.baseline_size),
    RoundStage.Name.RETRAIN: ("epochs", lambda p: p.retrain_epochs if p.retrain else 0),
    RoundStage.Name.METRICS: ("evaluations", lambda p: p.eval_budget + p.baseline_size),
}


@dataclass
class RoundEstimate:
    """Seconds per stage (those with a measured rate), the stages without one, and how many rounds were read."""

    seconds: dict[str, float] = field(default_factory=dict)
    unmeasured: list[str] = field(default_factory=list)
    rounds_read: int = 0
    from_training_rates: list[str] = field(default_factory=list)  # stages estimated from training rates

    @property
    def total(self) -> float | None:
        return sum(self.seconds.values()) if self.seconds else None

    def as_dict(self) -> dict:
        return {
            "seconds": None if self.total is None else round(self.total, 1),
            "stages": {name: round(s, 1) for name, s in self.seconds.items()},
            "unmeasured": self.unmeasured,
            "rounds_read": self.rounds_read,
            "from_training_rates": self.from_training_rates,
            "text": self.text(),
        }

    def text(self) -> str:
        if not self.rounds_read:
            return "no estimate yet: no round has finished on this portal, so no stage has been timed"
        basis = (
            f"from the stage times of the last {self.rounds_read} finished round{'s' if self.rounds_read > 1 else ''}"
            " on this portal, scaled by this round's candidates, ensemble size, evaluations and relaxation steps;"
            " time waiting in a queue not included"
        )
        if self.from_training_rates:
            basis += f"; {', '.join(self.from_training_rates)} from the measured training rates"
        missing = f" (not timed yet: {', '.join(self.unmeasured)})" if self.unmeasured else ""
        return f"about {duration_text(self.total or 0.0)}{missing}, {basis}"


def duration_text(seconds: float) -> str:
    if seconds < 120:
        return f"{max(1, round(seconds))} s"
    if seconds < 2 * 3600:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def stage_rates(*, recent: int = RECENT_ROUNDS) -> tuple[dict[str, float], int]:
    """Seconds per unit of each stage over the last ``recent`` succeeded rounds, and how many rounds were read."""
    rounds = list(
        Round.objects.filter(status=Round.Status.SUCCEEDED)
        .prefetch_related("stages")
        .order_by("-number")[:recent]
    )
    spent: dict[str, float] = {}
    work: dict[str, float] = {}
    for done in rounds:
        plan = RoundConfig.of(done)
        for stage in done.stages.all():
            if stage.status != RoundStage.Status.SUCCEEDED or not (stage.started_at and stage.finished_at):
                continue
            units = UNITS[stage.name][1](plan)
            if units > 0:
                spent[stage.name] = (
                    spent.get(stage.name, 0.0) + (stage.finished_at - stage.started_at).total_seconds()
                )
                work[stage.name] = work.get(stage.name, 0.0) + units
    return {name: spent[name] / work[name] for name in spent}, len(rounds)


def round_estimate(*, plan: RoundConfig) -> RoundEstimate:
    """The estimated duration of a round with settings ``plan``."""
    rates, read = stage_rates()
    estimate = RoundEstimate(rounds_read=read)
    for name, (_unit, units_of) in UNITS.items():
        units = units_of(plan)
        if not units:
            continue
        if name in rates:
            estimate.seconds[name] = rates[name] * units
        elif name == RoundStage.Name.RETRAIN and (seconds := retrain_seconds(plan=plan)) is not None:
            estimate.seconds[name] = seconds
            estimate.from_training_rates.append(name)
        else:
            estimate.unmeasured.append(name)
    return estimate


def retrain_seconds(*, plan: RoundConfig) -> float | None:
    """A retrain stage from the training rates: the active structural ensemble (its members, the config its
    training job ran) trained again for ``retrain_epochs`` on the round's hull set. None without such a model."""
    from discovery.models import TrainedModel
    from discovery.training import training_rate, training_samples_count

    model = TrainedModel.objects.filter(kind="structural", is_active=True).first()
    job = getattr(model, "training_job", None)
    if job is None:
        return None
    samples = training_samples_count(hull_set=plan.hull_set)
    rate = training_rate(config_name=job.config_name, kind="structural", samples=samples)
    return rate.seconds(n_models=model.n_models, epochs=plan.retrain_epochs)
