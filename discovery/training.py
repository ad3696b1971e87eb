"""Training jobs: ensembles trained on the Celery workers with their progress, the demo ensemble a fresh portal
trains on its first start, which models a round needs, and how long a training takes.

The training itself is :func:`discovery.ml_adapter.models_train`; a job records what was asked, its progress
(epochs done over all members) and the registered model."""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from discovery.enqueue import training_enqueue
from discovery.ml_adapter import (
    CONFIGS,
    ensemble_short_message,
    load_config,
    model_missing_message,
    models_train,
)
from discovery.models import TrainedModel, TrainingJob
from hull.errors import CatalogueError
from hull.hull_sets import HULL_SETS
from ml_backend.ensemble import PAPER_MEMBERS

logger = logging.getLogger(__name__)

PRESETS = ("demo", "full")
MAX_EPOCHS = 10_000
# Seconds on this project's 2-core reference machine (`docs/discovery.md`), per 1,000 catalogue entries: once
# (reading them, building their graphs, compiling, the test MAE) and per epoch of one member. Config modules
# not listed count as the full preset. The estimate scales them by how the last finished job of the same
# config and kind compared with its own estimate, so it learns the machine it runs on.
SECONDS_PER_1000 = {
    "cpu_demo": (9.0, 1.9),
    "tiny": (6.0, 0.4),
    "cpu_structural": (12.0, 3.3),
    "cpu_compositional": (3.0, 0.3),
}


def models_required(*, generators: list[str]) -> list[str]:
    """The kinds of model a round with these generators needs: the structural one filters every candidate,
    the compositional one ranks the compositions of the ``composition`` generator."""
    return ["structural", *(["compositional"] if "composition" in generators else [])]


def models_missing(*, generators: list[str], members: int = 1) -> list[str]:
    """The kinds a round with these generators needs that have no active model of at least ``members``."""
    active = dict(TrainedModel.objects.filter(is_active=True).values_list("kind", "n_models"))
    return [kind for kind in models_required(generators=generators) if active.get(kind, 0) < members]


class ModelsMissing(CatalogueError):
    """A round needs models that are not active, or ensembles with more members than the active ones have;
    ``kinds`` names them and ``members`` is the ensemble size asked for."""

    def __init__(self, kinds: list[str], members: int):
        self.kinds = kinds
        self.members = members
        active = {m.kind: m for m in TrainedModel.objects.filter(is_active=True, kind__in=kinds)}
        super().__init__(
            " ".join(
                ensemble_short_message(model=active[kind], members=members)
                if kind in active
                else model_missing_message(kind=kind, members=members)
                for kind in kinds
            )
        )


def models_check(*, generators: list[str], ensemble_size: int) -> None:
    """Refuse a round whose models are missing or have fewer than ``ensemble_size`` members, saying which, how
    to train them, and where they are being trained (if they are): a round uses exactly the ensemble it asks
    for."""
    missing = models_missing(generators=generators, members=ensemble_size)
    if missing:
        raise ModelsMissing(missing, ensemble_size)


def preset_config(*, preset: str, kind: str) -> str:
    """The config module of a preset: ``demo`` (minutes; ``PORTAL_DEMO_MODEL_CONFIG``) or ``full`` (the CPU
    default of the kind)."""
    if preset not in PRESETS:
        raise CatalogueError(f"unknown preset {preset!r}: choose {' or '.join(PRESETS)}")
    if kind not in CONFIGS:
        raise CatalogueError(f"unknown model kind {kind!r}: choose {' or '.join(sorted(CONFIGS))}")
    return settings.PORTAL_DEMO_MODEL_CONFIG if preset == "demo" else CONFIGS[kind]


def training_samples_count(*, hull_set: str = "dft", limit: int | None = None) -> int:
    """How many catalogue entries a training would read (see ``ml_adapter.catalogue_samples``)."""
    from hull.models import Stability

    count = Stability.objects.filter(
        hull_set=hull_set, formation_energy_per_atom__isnull=False, entry__structure__isnull=False
    ).count()
    return min(count, limit) if limit else count


@dataclass(frozen=True)
class TrainingRate:
    """Seconds a training of one config and kind takes: ``fixed`` + ``per_member_epoch`` x members x epochs."""

    fixed: float
    per_member_epoch: float
    default_epochs: int

    def seconds(self, *, n_models: int, epochs: int) -> float:
        return self.fixed + self.per_member_epoch * n_models * epochs


def training_rate(*, config_name: str, kind: str, samples: int) -> TrainingRate:
    config = load_config(config_name, kind)
    fixed, per_epoch = SECONDS_PER_1000.get(config_name, SECONDS_PER_1000[CONFIGS[kind]])
    rate = TrainingRate(samples / 1000 * fixed, samples / 1000 * per_epoch, config.train.num_epochs)
    last = (
        TrainingJob.objects.filter(
            config_name=config_name,
            kind=kind,
            status=TrainingJob.Status.SUCCEEDED,
            started_at__isnull=False,
            estimate_seconds__gt=0,
        )
        .order_by("-finished_at")
        .first()
    )
    if last is not None:
        factor = (last.finished_at - last.started_at).total_seconds() / last.estimate_seconds
        rate = TrainingRate(rate.fixed * factor, rate.per_member_epoch * factor, rate.default_epochs)
    return rate


def training_rates(*, hull_set: str = "dft") -> dict[str, dict]:
    """The rates of every preset and kind on today's catalogue, for the dashboard's estimate."""
    samples = training_samples_count(hull_set=hull_set)
    rates = {}
    for kind in sorted(CONFIGS):
        for preset in PRESETS:
            rate = training_rate(
                config_name=preset_config(preset=preset, kind=kind), kind=kind, samples=samples
            )
            if preset == "demo" and settings.PORTAL_DEMO_MODEL_EPOCHS:
                rate = TrainingRate(rate.fixed, rate.per_member_epoch, settings.PORTAL_DEMO_MODEL_EPOCHS)
            rates[f"{kind}/{preset}"] = {
                "fixed": round(rate.fixed, 1),
                "per_member_epoch": round(rate.per_member_epoch, 2),
                "epochs": rate.default_epochs,
            }
    return rates


def training_start(
    *,
    kind: str,
    preset: str = "demo",
    n_models: int | None = None,
    epochs: int | None = None,
    hull_set: str = "dft",
    limit: int | None = None,
    reason: str = "",
    user=None,
) -> TrainingJob:
    """Queue the training of an ensemble of ``kind`` (on the models' queue, once the transaction commits).
    Refused while another of the same kind is unfinished."""
    config_name = preset_config(preset=preset, kind=kind)
    config = load_config(config_name, kind)
    if n_models is None:
        n_models = settings.PORTAL_DEMO_MODEL_MEMBERS if preset == "demo" else PAPER_MEMBERS
    if epochs is None:
        epochs = (settings.PORTAL_DEMO_MODEL_EPOCHS if preset == "demo" else 0) or config.train.num_epochs
    if isinstance(n_models, bool) or not isinstance(n_models, int) or not 1 <= n_models <= 32:
        raise CatalogueError("members must be an integer between 1 and 32")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or not 1 <= epochs <= MAX_EPOCHS:
        raise CatalogueError(f"epochs must be an integer between 1 and {MAX_EPOCHS}")
    if hull_set not in HULL_SETS:
        raise CatalogueError(f"unknown hull set {hull_set!r}: choose one of {', '.join(HULL_SETS)}")
    samples = training_samples_count(hull_set=hull_set, limit=limit)
    rate = training_rate(config_name=config_name, kind=kind, samples=samples)
    try:
        with transaction.atomic():
            job = TrainingJob.objects.create(
                kind=kind,
                config_name=config_name,
                hull_set=hull_set,
                n_models=n_models,
                epochs=epochs,
                limit=limit,
                total=n_models * epochs,
                estimate_seconds=round(rate.seconds(n_models=n_models, epochs=epochs), 1),
                reason=reason[:100],
                created_by=user if user is not None and user.is_authenticated else None,
            )
    except IntegrityError as exc:
        raise CatalogueError(
            f"a {kind} model is already being trained: wait for it to finish (see the discovery dashboard)"
        ) from exc
    transaction.on_commit(lambda: training_enqueue(job.pk))
    return job


def training_run(*, job_id: int) -> TrainingJob | None:
    """Train the job's ensemble and register it as the active model of its kind. A job that is not pending
    (finished, failed, or claimed by another delivery of its task) is left alone: returns None."""
    claimed = TrainingJob.objects.filter(pk=job_id, status=TrainingJob.Status.PENDING).update(
        status=TrainingJob.Status.RUNNING, started_at=timezone.now(), updated_at=timezone.now()
    )
    if not claimed:
        return None
    job = TrainingJob.objects.get(pk=job_id)

    def progress(member: int, p) -> None:
        TrainingJob.objects.filter(pk=job.pk).update(
            done=min(member * job.epochs + p.epoch, job.total), updated_at=timezone.now()
        )

    try:
        report = models_train(
            kind=job.kind,
            hull_set=job.hull_set,
            n_models=job.n_models,
            config_name=job.config_name,
            epochs=job.epochs,
            limit=job.limit,
            progress=progress,
        )
    except Exception as exc:
        logger.exception("training job %s failed", job.pk)
        TrainingJob.objects.filter(pk=job.pk).update(
            status=TrainingJob.Status.FAILED, error=f"{type(exc).__name__}: {exc}", finished_at=timezone.now()
        )
        raise
    TrainingJob.objects.filter(pk=job.pk).update(
        status=TrainingJob.Status.SUCCEEDED, model=report.model, done=job.total, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job


def models_bootstrap(*, interrupted: bool = False) -> TrainingJob | None:
    """The first start of a fresh portal: queue the demo structural ensemble unless one is active or being
    trained, or the catalogue is empty. With ``interrupted`` (no worker runs yet: ``scripts/start.sh`` calls
    this before it starts its worker), unfinished jobs were cut off by the last stop: they are marked failed,
    and the demo ensemble is queued again if no structural model is active."""
    if interrupted:
        TrainingJob.objects.filter(status__in=TrainingJob.UNFINISHED).update(
            status=TrainingJob.Status.FAILED,
            error="interrupted: the portal stopped before the training finished",
            finished_at=timezone.now(),
        )
    if TrainedModel.objects.filter(kind="structural", is_active=True).exists():
        return None
    if TrainingJob.objects.filter(kind="structural", status__in=TrainingJob.UNFINISHED).exists():
        return None
    if not training_samples_count():
        return None
    return training_start(kind="structural", preset="demo", reason="first start: the demo ensemble")


def training_jobs_recent(*, limit: int = 10) -> list[TrainingJob]:
    return list(TrainingJob.objects.select_related("model").order_by("-created_at")[:limit])
