"""What the dashboard says about unfinished work while it polls: for each round, training and benchmark job,
its status and progress and, while it waits, why; and each queue's length and the workers that take it — from
what the portal records (the task heartbeats and the workers' signs of life of ``portal.workers``, the broker's
queue lengths, the stages' states), never from a broadcast to the workers.

The dashboard page renders the same values, and ``/discovery/status.json`` serves them to ``dashboard.js``."""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from discovery.benchmark.store import benchmark_latest
from discovery.control import round_actions
from discovery.enqueue import BENCHMARK_RUN
from discovery.estimate import duration_text
from discovery.labels import round_settings
from discovery.models import Round, TrainingJob
from discovery.recovery import round_of_task
from discovery.services import RESUMABLE
from discovery.stages.bookkeeping import next_stage
from portal.workers import routing
from portal.workers.models import TaskHeartbeat, WorkerNode
from portal.workers.nodes import nodes_live
from portal.workers.queues import queue_depths

TRAIN_TASK = "discovery.train_models"


@dataclass
class Workers:
    """The tasks running now (live heartbeats), those whose worker was lost, the queues' lengths and the workers
    alive."""

    running: list[TaskHeartbeat]
    lost: list[TaskHeartbeat]
    depths: dict[str, int | None] = field(default_factory=dict)
    named: bool = False  # the workers' node names (host names) are shown to staff only
    nodes: list[WorkerNode] = field(default_factory=list)

    @classmethod
    def now(cls, *, queues: list[str], named: bool = False) -> "Workers":
        rows = list(TaskHeartbeat.objects.order_by("started_at"))
        return cls(
            running=[r for r in rows if r.lost_at is None],
            lost=[r for r in rows if r.lost_at is not None],
            depths=queue_depths(names=sorted(set(queues))) if queues else {},
            named=named,
            nodes=nodes_live(),
        )

    def name(self, row: TaskHeartbeat) -> str:
        return self.node_name(row.worker)

    def node_name(self, name: str) -> str:
        return name if self.named else "a worker"

    def busy_text(self, *, queue: str, mine: set[str] = frozenset()) -> str:
        others = [r for r in self.running if r.task_id not in mine]
        if not others:
            return f"no worker is running a task now: waiting for a worker that takes tasks from '{queue}'"
        busy = "; ".join(
            f"{self.name(r)} runs {task_text(r)} (for {since(r.started_at)})" for r in others[:3]
        )
        more = f" and {len(others) - 3} more" if len(others) > 3 else ""
        return f"workers busy now: {busy}{more}"

    def queued_text(self, *, queue: str) -> str:
        depth = self.depths.get(queue)
        if depth is None:
            return f"waiting on queue '{queue}' (the broker could not be asked how many tasks wait there)"
        if depth == 0:
            return (
                f"nothing waits on queue '{queue}' and no worker runs it: a worker may be about to start it "
                "(if this lasts, its task was lost)"
            )
        if depth == 1:
            return f"next in line on queue '{queue}'"
        return f"queued on '{queue}' behind {depth - 1} other task{'s' if depth > 2 else ''}"


def since(moment: datetime) -> str:
    return duration_text((timezone.now() - moment).total_seconds())


def task_text(row: TaskHeartbeat) -> str:
    """A running task in words: a round's stage, a training, or the task's name."""
    args = row.args if isinstance(row.args, list) else []
    number = (
        Round.objects.filter(pk=round_of_task(row.task_name, args)).values_list("number", flat=True).first()
    )
    if row.task_name == "discovery.run_stage" and len(args) > 1:
        return f"the {args[1]} stage of round {number}"
    if row.task_name == "discovery.evaluate_chunk" and len(args) > 1:
        return f"an evaluation chunk of round {number} ({len(args[1])} candidates)"
    if number is not None:
        return f"round {number} ({row.task_name})"
    if row.task_name == TRAIN_TASK:
        return "a model training"
    return row.task_name


def round_waiting(round: Round, workers: Workers) -> tuple[str, bool]:
    """Why an open round is where it is, and whether its work is in hand (a task of it runs, or its queue holds
    tasks: resuming it would only start a second copy); ("", False) for a finished round."""
    if round.status not in RESUMABLE:
        return "", False
    mine = [r for r in workers.running if round_of_task(r.task_name, r.args) == round.pk]
    if mine:
        row = mine[0]
        return f"Running on {workers.name(row)}: {task_text(row)}, for {since(row.started_at)}.", True
    lost = [r for r in workers.lost if round_of_task(r.task_name, r.args) == round.pk]
    if lost:
        return (
            f"Stalled: its task lost its worker {workers.name(lost[0])} at {lost[0].lost_at:%H:%M:%S} UTC; the recovery "
            "sweep resumes it once nothing of it runs, or press Resume.",
            False,
        )
    stage = next_stage(round) or "last"
    queue, rounds = routing.queue_for_stage(stage), routing.queue_of(routing.ROUNDS)
    if workers.depths.get(queue) == 0 and workers.depths.get(rounds):
        queue = rounds  # the task that sends the stage waits on the rounds queue first
    depth = workers.depths.get(queue)
    text = f"Waiting: its {stage} stage is next, {workers.queued_text(queue=queue)}; {workers.busy_text(queue=queue)}."
    return text, depth != 0


def training_waiting(job: TrainingJob, workers: Workers) -> str:
    if job.status not in TrainingJob.UNFINISHED:
        return ""
    mine = [r for r in workers.running if r.task_name == TRAIN_TASK and r.args[:1] == [job.pk]]
    if mine:
        return f"Running on {workers.name(mine[0])}, for {since(mine[0].started_at)}."
    queue = routing.queue_for_task(TRAIN_TASK)
    return f"Waiting: {workers.queued_text(queue=queue)}; {workers.busy_text(queue=queue)}."


def round_live(round: Round, workers: Workers) -> dict:
    """A round as the dashboard polls it."""
    waiting, busy = round_waiting(round, workers)
    return {
        "number": round.number,
        "status": round.status,
        "error": round.error,
        "waiting": waiting,
        "actions": [a.name for a in round_actions(round=round, busy=busy)],
        "stages": [
            {"name": s.name, "status": s.status, "done": s.done, "total": s.total, "message": s.message}
            for s in round.stages.all()
        ],
    }


def training_live(job: TrainingJob, workers: Workers) -> dict:
    return {
        "id": job.pk,
        "status": job.status,
        "done": job.done,
        "total": job.total,
        "error": job.error,
        "waiting": training_waiting(job, workers),
    }


BENCHMARK_OPEN = ("queued", "running")


def benchmark_queue() -> str:
    return routing.queue_for_task(BENCHMARK_RUN)


def benchmark_live(report: dict | None, workers: Workers) -> dict | None:
    """The latest benchmark job as the dashboard polls it (``None`` when none was run)."""
    if report is None:
        return None
    waiting = ""
    if report.get("status") == "queued":
        running = [r for r in workers.running if r.task_name == BENCHMARK_RUN]
        queue = benchmark_queue()
        waiting = (
            f"Running on {workers.name(running[0])}."
            if running
            else f"Waiting: {workers.queued_text(queue=queue)}; {workers.busy_text(queue=queue)}."
        )
    return {
        "name": report.get("name", ""),
        "status": report.get("status", ""),
        "stage": report.get("stage", "") if report.get("status") == "running" else "",
        "error": report.get("error", ""),
        "waiting": waiting,
    }


def workers_for_dashboard(*, named: bool = False) -> Workers:
    """Heartbeats, the workers alive and the length of every queue; ``named``: with the workers' node names (for
    staff)."""
    return Workers.now(queues=list(routing.queues().values()), named=named)


def length_text(length: int | None) -> str:
    if length is None:
        return "unknown (the broker could not be asked)"
    return "none" if length == 0 else f"{length} task{'s' if length > 1 else ''}"


def queues_live(workers: Workers) -> list[dict]:
    """Each kind of work: its queue, how many tasks wait there, and the workers that take it with what each runs;
    the texts the page shows (``length_text``, ``workers_text``) beside the values."""
    rows = []
    for kind, queue in routing.queues().items():
        takers = []
        for node in workers.nodes:
            if queue not in node.queues:
                continue
            tasks = [r for r in workers.running if r.worker == node.name]
            running = "; ".join(f"{task_text(r)} (for {since(r.started_at)})" for r in tasks)
            takers.append({"name": workers.node_name(node.name), "running": running})
        described = [f"{w['name']}: {'runs ' + w['running'] if w['running'] else 'idle'}" for w in takers]
        length = workers.depths.get(queue)
        rows.append(
            {
                "kind": kind,
                "queue": queue,
                "length": length,
                "length_text": length_text(length),
                "workers": takers,
                "workers_text": "; ".join(described)
                or "none: its tasks wait until a worker that takes this queue starts",
            }
        )
    return rows


def status_get(*, rounds: list[int], training: list[int], named: bool = False) -> dict:
    """The state of the rounds numbered ``rounds`` and the training jobs ``training`` (those the page shows as
    unfinished) and of every other unfinished one; ``unfinished`` says whether polling should go on."""
    workers = workers_for_dashboard(named=named)
    open_rounds = Round.objects.filter(status__in=RESUMABLE).values_list("number", flat=True)
    shown = Round.objects.filter(number__in={*rounds, *open_rounds}).prefetch_related("stages")
    jobs = TrainingJob.objects.filter(pk__in=training) | TrainingJob.objects.filter(
        status__in=TrainingJob.UNFINISHED
    )
    round_rows = [round_live(r, workers) for r in shown.order_by("-number")]
    job_rows = [training_live(j, workers) for j in jobs.order_by("-created_at")]
    benchmark = benchmark_live(benchmark_latest(), workers)
    return {
        "rounds": round_rows,
        "training": job_rows,
        "benchmark": benchmark,
        "queues": queues_live(workers),
        "unfinished": any(r["status"] in RESUMABLE for r in round_rows)
        or any(j["status"] in TrainingJob.UNFINISHED for j in job_rows)
        or bool(benchmark and benchmark["status"] in BENCHMARK_OPEN),
    }


def round_comparison(round: Round) -> str | None:
    """The chemical system in which the phase diagram can compare today's hull with the hull after ``round``:
    only for a succeeded round that added entries, in its scope (its first chemical system, or its elements)."""
    if round.status != Round.Status.SUCCEEDED or round.batch_id is None:
        return None
    config = round.config or {}
    chemsys = config.get("chemsys") or []
    if chemsys:
        return chemsys[0]
    elements = config.get("elements") or []
    return "-".join(elements) if len(elements) >= 2 else None


@dataclass
class RoundView:
    """A round section of the dashboard: the round, its live state, its settings and its hull comparison."""

    round: Round
    live: dict
    settings: list[tuple[str, str]]
    compare_chemsys: str | None


def rounds_view(rounds: list[Round], workers: Workers) -> list[RoundView]:
    return [RoundView(r, round_live(r, workers), round_settings(r), round_comparison(r)) for r in rounds]
