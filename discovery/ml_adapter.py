"""The thin adapter between the portal and ``ml_backend``: catalogue entries become training samples,
trained ensembles become registry rows, and the active ensemble answers predictions."""

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.db import transaction
from pymatgen.core import Structure

from discovery.artefacts import checkpoint_local, checkpoint_publish, training_dir
from discovery.models import TrainedModel, TrainingJob
from hull.errors import CatalogueError
from hull.selectors import check_hull_set
from ml_backend.baselines import LinearElementBaseline
from ml_backend.configs.base import Config, config_to_dict
from ml_backend.data import Sample, fingerprint, training_split
from ml_backend.ensemble import NO_AUGMENTATION, PAPER_MEMBERS, Ensemble, train_ensemble

CONFIGS = {"structural": "cpu_structural", "compositional": "cpu_compositional"}


def load_config(name: str, kind: str) -> Config:
    """A config by module name under ``ml_backend.configs`` (``cpu_structural``, ``tiny``, ``gnome_paper``)."""
    try:
        module = importlib.import_module(f"ml_backend.configs.{name}")
    except ModuleNotFoundError as exc:
        raise CatalogueError(f"no model config {name!r} in ml_backend/configs") from exc
    getter = module.get_config
    try:
        config = getter(kind)
    except TypeError:
        config = getter()
    if config.model.kind != kind:
        config = config.with_model(kind=kind)
    return config


def catalogue_samples(*, hull_set: str = "dft", limit: int | None = None) -> list[Sample]:
    """Entries with a structure and a formation energy in ``hull_set``: the training data."""
    from hull.models import Stability

    check_hull_set(hull_set)
    rows = (
        Stability.objects.filter(
            hull_set=hull_set, formation_energy_per_atom__isnull=False, entry__structure__isnull=False
        )
        .order_by("entry_id")
        .values_list("entry__public_id", "entry__structure", "formation_energy_per_atom")
    )
    if limit:
        rows = rows[:limit]
    return [
        Sample(Structure.from_dict(structure), float(target), public_id)
        for public_id, structure, target in rows
    ]


@dataclass
class TrainingReport:
    model: TrainedModel
    test_mae: float
    baseline_mae: float
    seconds: float


def models_train(
    *,
    kind: str = "structural",
    hull_set: str = "dft",
    n_models: int = PAPER_MEMBERS,
    config_name: str | None = None,
    name: str | None = None,
    activate: bool = True,
    limit: int | None = None,
    epochs: int | None = None,
    progress: Callable[[int, object], None] | None = None,
    samples: list[Sample] | None = None,
) -> TrainingReport:
    """Train an ensemble on the catalogue with the paper's composition-hash split and register it."""
    if kind not in CONFIGS:
        raise CatalogueError(f"unknown model kind {kind!r}: choose structural or compositional")
    if not 1 <= n_models <= 32:
        raise CatalogueError("n_models must be between 1 and 32")
    config = load_config(config_name or CONFIGS[kind], kind)
    if epochs is not None:
        config = config.with_train(num_epochs=epochs)
    samples = samples if samples is not None else catalogue_samples(hull_set=hull_set, limit=limit)
    train, test = training_split(samples, kind)
    if len(train) < 4 or not test:
        raise CatalogueError(
            f"too few entries to train on ({len(train)} train, {len(test)} test) in hull set {hull_set}"
        )
    name = name or f"{kind}-{hull_set}-{time.strftime('%Y%m%d-%H%M%S')}"
    directory = training_dir(name)
    started = time.perf_counter()
    ensemble = train_ensemble(
        config, train, test, num_models=n_models, progress=progress, checkpoint_dir=directory
    )
    test_mae = ensemble_mae(ensemble, test)
    baseline_mae = LinearElementBaseline().fit(train).mae(test)
    seconds = time.perf_counter() - started
    model = _register(
        name=name,
        kind=kind,
        hull_set=hull_set,
        config=config,
        samples=samples,
        split=(train, test),
        metrics={"test_mae": test_mae, "baseline_mae": baseline_mae, "train_seconds": round(seconds, 1)},
        directory=directory,
        activate=activate,
    )
    return TrainingReport(model, test_mae, baseline_mae, seconds)


def _register(
    *,
    name: str,
    kind: str,
    hull_set: str,
    config: Config,
    samples: list[Sample],
    split: tuple[list[Sample], list[Sample]],
    metrics: dict,
    directory: Path,
    activate: bool,
    warm_start: str | None = None,
    discovery_round=None,
) -> TrainedModel:
    """A registry row for a trained ensemble, once its checkpoints are in the model storage (so that any worker
    can load it); activating it retires the active model of its kind."""
    train, test = split
    n_models = _members(directory)
    checkpoint = checkpoint_publish(directory=directory, name=name)
    description = {"method": "md5(reduced formula) % 100 < 85", "train": len(train), "test": len(test)}
    if kind == "compositional":
        description["labels"] = "the lowest-energy phase of each composition"
    if warm_start:
        description["warm_start"] = warm_start
    with transaction.atomic():
        if activate:
            TrainedModel.objects.filter(kind=kind, is_active=True).update(is_active=False)
        return TrainedModel.objects.create(
            name=name,
            kind=kind,
            hull_set=hull_set,
            n_models=n_models,
            config=config_to_dict(config),
            split=description,
            n_train=len(train),
            n_test=len(test),
            metrics=metrics,
            checkpoint_path=checkpoint,
            data_fingerprint=fingerprint(samples),
            is_active=activate,
            trained_in_round=discovery_round,
        )


def _members(directory: Path) -> int:
    return len(list(Path(directory).glob("member_*.msgpack")))


def ensemble_mae(ensemble: Ensemble, samples: list[Sample]) -> float:
    """Mean absolute error of the ensemble median on ``samples``. Their structures are relaxed, so they are
    predicted as they are: the volume scan of the filter (minimum over strained copies) would bias low."""
    targets = np.array([s.target for s in samples])
    if ensemble.kind == "structural":
        predicted = ensemble.predict_structures([s.structure for s in samples], NO_AUGMENTATION).median
    else:
        predicted = ensemble.predict_compositions([s.structure.composition for s in samples]).median
    return float(np.mean(np.abs(predicted - targets)))


def train_command(*, kind: str, members: int) -> str:
    """The command that trains (and activates) an ensemble of ``members`` models of ``kind``."""
    return f"manage.py train_models --kind {kind} --models {members}"


def model_missing_message(*, kind: str, members: int = PAPER_MEMBERS) -> str:
    job = TrainingJob.objects.filter(kind=kind, status__in=TrainingJob.UNFINISHED).first()
    if job is not None:
        return (
            f"No active {kind} model yet: one of {job.n_models} members is being trained ({job.status}, "
            f"{job.done}/{job.total} epochs; see the discovery dashboard)."
        )
    return (
        f"No active {kind} model: train one of {members} members from the discovery dashboard or with "
        f"{train_command(kind=kind, members=members)}."
    )


def ensemble_short_message(*, model: TrainedModel, members: int) -> str:
    """Why a round that asks for ``members`` models cannot use the active ``model``, and how to train them."""
    return (
        f"The round asks for an ensemble of {members} {model.kind} models, and the active one ({model.name}) has "
        f"{model.n_models}: train {members} with {train_command(kind=model.kind, members=members)} (or from the "
        f"discovery dashboard), or ask for at most {model.n_models}."
    )


class EnsembleTooSmall(CatalogueError):
    """The active model of a kind has fewer members than a round asks for."""


_loaded: dict[tuple, Ensemble] = {}


def active_ensemble(kind: str) -> tuple[TrainedModel, Ensemble]:
    """The active model of ``kind`` and its loaded ensemble (cached per process; its checkpoints fetched from
    the model storage where this host lacks them)."""
    model = TrainedModel.objects.filter(kind=kind, is_active=True).first()
    if model is None:
        raise CatalogueError(model_missing_message(kind=kind))
    key = (model.pk, model.name, model.checkpoint_path, model.created_at)
    if key not in _loaded:
        _loaded[key] = Ensemble.load(checkpoint_local(model.checkpoint_path))
    return model, _loaded[key]


def round_ensemble(kind: str, members: int) -> tuple[TrainedModel, Ensemble]:
    """Exactly ``members`` members of the active model of ``kind`` (its first ones), as a round asks for:
    :class:`EnsembleTooSmall` when it has fewer, never fewer used in silence."""
    model, ensemble = active_ensemble(kind)
    model.n_models = len(ensemble.members)  # what was loaded, whatever the row says
    if model.n_models < members:
        raise EnsembleTooSmall(ensemble_short_message(model=model, members=members))
    return model, ensemble.first(members)


def models_retrain(*, discovery_round, epochs: int = 5) -> TrainingReport:
    """Retrain the active structural ensemble on the grown catalogue (the round's hull set), warm-started
    from the active members' weights, and make it the active one."""
    model, ensemble = active_ensemble("structural")
    config = ensemble.members[0].config.with_train(num_epochs=epochs)
    samples = catalogue_samples(hull_set=discovery_round.hull_set)
    train, test = training_split(samples, "structural")
    name = f"{model.name.split('+r')[0]}+r{discovery_round.number}"
    directory = training_dir(name)
    started = time.perf_counter()
    retrained = train_ensemble(
        config,
        train,
        test,
        num_models=len(ensemble.members),
        checkpoint_dir=directory,
        warm_start=ensemble.members,
    )
    test_mae = ensemble_mae(retrained, test)
    baseline_mae = LinearElementBaseline().fit(train).mae(test)
    seconds = time.perf_counter() - started
    registered = _register(
        name=name,
        kind="structural",
        hull_set=discovery_round.hull_set,
        config=config,
        samples=samples,
        split=(train, test),
        metrics={"test_mae": test_mae, "baseline_mae": baseline_mae, "train_seconds": round(seconds, 1)},
        directory=directory,
        activate=True,
        warm_start=model.name,
        discovery_round=discovery_round,
    )
    return TrainingReport(registered, test_mae, baseline_mae, seconds)


def models_scaling(
    *,
    kind: str = "compositional",
    hull_set: str = "dft",
    config_name: str | None = None,
    epochs: int | None = None,
    fractions=(0.125, 0.25, 0.5, 1.0),
) -> dict:
    """The paper's data-scaling experiment (Fig. 1e) on the catalogue: one model per nested subset of the
    training split, test MAE against training size, power-law fit; stored on the active model of ``kind``
    so the dashboard shows it."""
    from ml_backend.scaling import run_scaling_experiment

    model, _ = active_ensemble(kind)
    config = load_config(config_name or CONFIGS[kind], kind)
    if epochs is not None:
        config = config.with_train(num_epochs=epochs)
    train, test = training_split(catalogue_samples(hull_set=hull_set), kind)
    result = run_scaling_experiment(config, train, test, fractions=fractions).to_dict()
    model.metrics = {**model.metrics, "scaling": result}
    model.save(update_fields=["metrics"])
    return result
