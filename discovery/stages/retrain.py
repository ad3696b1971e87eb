"""Retrain: the structural ensemble trained again on the grown catalogue, warm-started from the active one."""

from discovery.config import RoundConfig
from discovery.models import Round, RoundStage
from discovery.stages.bookkeeping import stage_finish, stage_start


def run(round: Round) -> RoundStage:
    from discovery.ml_adapter import models_retrain

    plan = RoundConfig.of(round)
    stage = stage_start(round, RoundStage.Name.RETRAIN)
    if not plan.retrain:
        stage_finish(stage, "retraining not requested", RoundStage.Status.SKIPPED)
        return stage
    report = models_retrain(discovery_round=round, epochs=plan.retrain_epochs)
    stage_finish(stage, f"{report.model.name}: test MAE {report.test_mae:.3f} eV/atom")
    return stage
