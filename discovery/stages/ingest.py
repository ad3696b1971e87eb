"""Ingest: the evaluated candidates join the catalogue as one ingest batch of the round."""

from django.db import transaction
from pymatgen.core import Structure

from discovery.models import Candidate, Round, RoundStage
from discovery.stages.bookkeeping import round_state_update, stage_finish, stage_start, stage_succeeded
from hull.ingest.records import EntryRecord
from hull.models import ChemicalSystem, Entry, Stability
from hull.services.chemsys import supersystems_among
from hull.services.ingest import ingest_records

DISCOVERY_SOURCE = "discovery"


def run(round: Round) -> RoundStage:
    """Evaluated candidates join the catalogue (source ``discovery``, their evaluator's method, so ML results
    enter the ``all`` hull set only) in one batch with the hull update; the stable set before is kept in the
    round's state to count the entries the round pushes off the hull (``discovery.stages.hull``)."""
    if (succeeded := stage_succeeded(round, RoundStage.Name.INGEST)) is not None:
        return succeeded
    evaluated = list(round.candidates.filter(status=Candidate.Status.EVALUATED).order_by("id"))
    stage = stage_start(round, RoundStage.Name.INGEST, total=len(evaluated))
    if round.batch_id is not None and not evaluated:
        stage_finish(stage, "already ingested")
        return stage
    systems = {c.chemsys for c in evaluated}
    all_systems = list(ChemicalSystem.objects.values_list("name", flat=True))
    watched = supersystems_among(touched=systems, systems=all_systems)
    stable_before = list(
        Stability.objects.filter(
            hull_set=round.hull_set, is_stable=True, entry__chemsys_id__in=sorted(watched)
        ).values_list("entry_id", flat=True)
    )
    records = [_record_of(round, c) for c in evaluated]
    with transaction.atomic():
        report = ingest_records(
            rows=records,
            source=DISCOVERY_SOURCE,
            fmt="discovery",
            label=f"discovery round {round.number}",
            skip_invalid=True,
        )
        ids = dict(
            Entry.objects.filter(
                source=DISCOVERY_SOURCE, source_id__in=[c.candidate_id for c in evaluated]
            ).values_list("source_id", "id")
        )
        for candidate in evaluated:
            if candidate.candidate_id in ids:
                Candidate.objects.filter(pk=candidate.pk).update(
                    status=Candidate.Status.INGESTED, entry_id=ids[candidate.candidate_id]
                )
        rejected = {p.location: p.message for p in report.rejected}
        for candidate in evaluated:
            if candidate.candidate_id not in ids:
                reason = next(
                    (m for loc, m in rejected.items() if candidate.candidate_id in loc), "rejected at ingest"
                )
                Candidate.objects.filter(pk=candidate.pk).update(
                    status=Candidate.Status.FAILED, evaluation={**candidate.evaluation, "reason": reason}
                )
        Round.objects.filter(pk=round.pk).update(batch_id=report.batch_id)
        round_state_update(round, stable_before=stable_before)
    round.refresh_from_db()
    stage_finish(stage, report.summary())
    return stage


def _record_of(round: Round, candidate: Candidate) -> EntryRecord:
    structure = Structure.from_dict(candidate.relaxed_structure)
    energy = candidate.energy_per_atom * len(structure)
    return EntryRecord(
        location=f"round {round.number} candidate {candidate.candidate_id}",
        source_id=candidate.candidate_id,
        composition=structure.composition,
        structure=structure,
        energy=energy,
        uncorrected_energy=energy,
        correction=0.0,
        method=candidate.evaluation.get("method", "unspecified"),
        method_family=candidate.evaluation.get("method_family", "ml"),
        data={
            "round": round.number,
            "generator": candidate.generator,
            "parent": candidate.parent_id,
            "operation": candidate.operation,
            "trajectory": candidate.evaluation.get("trajectory", {}),
        },
    )
