"""Evaluate: relax the selected candidates with the configured evaluator, in chunks that the Celery workers
share (``begin``, then ``chunk`` for each of ``chunks``, then ``finish``); ``run`` does it all in turn here."""

from django.conf import settings
from django.db import transaction
from django.db.models import F
from pymatgen.core import Structure

from discovery.config import RoundConfig
from discovery.models import Candidate, Round, RoundStage
from discovery.stages.bookkeeping import check_not_cancelled, stage_finish, stage_of, stage_start
from hull.errors import CatalogueError


def run(round: Round) -> RoundStage | None:
    begin(round)
    for candidate_pks in chunks(round):
        chunk(round, candidate_pks)
    return finish(round)


def begin(round: Round) -> RoundStage:
    total = round.candidates.filter(
        status__in=[
            Candidate.Status.SELECTED,
            Candidate.Status.EVALUATED,
            Candidate.Status.FAILED,
            Candidate.Status.INGESTED,
        ]
    ).count()
    return stage_start(round, RoundStage.Name.EVALUATE, total=total)


def chunks(round: Round) -> list[list[int]]:
    """Selected candidates not evaluated yet, in chunks for the workers."""
    plan = RoundConfig.of(round)
    ids = list(
        round.candidates.filter(status=Candidate.Status.SELECTED).order_by("id").values_list("id", flat=True)
    )
    return [ids[i : i + plan.chunk_size] for i in range(0, len(ids), plan.chunk_size)]


def chunk(round: Round, candidate_pks: list[int]) -> int:
    """Evaluate the still-selected candidates of one chunk; failures are recorded, never raised."""
    plan = RoundConfig.of(round)
    evaluator = evaluator_for(plan)
    stage = stage_of(round, RoundStage.Name.EVALUATE)
    done = 0
    for candidate in Candidate.objects.filter(
        pk__in=candidate_pks, status=Candidate.Status.SELECTED
    ).order_by("id"):
        check_not_cancelled(round)
        (result,) = evaluator.evaluate([Structure.from_dict(candidate.structure)])
        candidate.evaluation = {
            "method": result.method,
            "method_family": result.method_family,
            "status": result.status,
            "reason": result.reason,
            "trajectory": result.as_dict()["trajectory"],
        }
        if result.ok:
            candidate.status = Candidate.Status.EVALUATED
            candidate.energy_per_atom = result.energy_per_atom
            candidate.relaxed_structure = result.structure.as_dict()
        else:
            candidate.status = Candidate.Status.FAILED
        with transaction.atomic():
            updated = Candidate.objects.filter(pk=candidate.pk, status=Candidate.Status.SELECTED).update(
                status=candidate.status,
                energy_per_atom=candidate.energy_per_atom,
                relaxed_structure=candidate.relaxed_structure,
                evaluation=candidate.evaluation,
            )
            if updated:
                RoundStage.objects.filter(pk=stage.pk).update(done=F("done") + 1)
        done += updated
    return done


def finish(round: Round) -> RoundStage | None:
    """Close the stage once no selected candidate is left (returns None while some are)."""
    if round.candidates.filter(status=Candidate.Status.SELECTED).exists():
        return None
    stage = stage_of(round, RoundStage.Name.EVALUATE)
    ok = round.candidates.filter(status=Candidate.Status.EVALUATED).count()
    failed = round.candidates.filter(status=Candidate.Status.FAILED).count()
    stage_finish(stage, f"{ok} evaluated, {failed} failed")
    return stage


_evaluators: dict[tuple, object] = {}


def evaluator_for(plan: RoundConfig):
    """The configured evaluator, built once per worker process (CHGNet loads its weights once)."""
    key = (plan.evaluator, plan.relax_steps)
    if key not in _evaluators:
        if plan.evaluator == "chgnet":
            from discovery.evaluation.chgnet_evaluator import CHGNetEvaluator

            _evaluators[key] = CHGNetEvaluator(
                steps=plan.relax_steps, threads=getattr(settings, "PORTAL_EVALUATOR_THREADS", None)
            )
        elif plan.evaluator == "vasp":
            from discovery.evaluation.vasp_evaluator import VaspEvaluator

            command = getattr(settings, "PORTAL_VASP_COMMAND", "")
            if not command:
                raise CatalogueError("the VASP evaluator needs PORTAL_VASP_COMMAND (e.g. 'mpirun vasp_std')")
            _evaluators[key] = VaspEvaluator(run_command=command, work_dir=settings.VAR_DIR / "vasp")
        else:
            raise CatalogueError(f"unknown evaluator {plan.evaluator!r}")
    return _evaluators[key]


def evaluator_label(key: str) -> str:
    """The method label (with version) the evaluator ``key`` of a round config writes on its results."""
    if key == "chgnet":
        from discovery.evaluation.chgnet_evaluator import CHGNetEvaluator

        return CHGNetEvaluator.method
    if key == "vasp":
        from discovery.evaluation.vasp_evaluator import VaspEvaluator

        return VaspEvaluator.method
    return key
