"""Queues by kind of work: every task of the portal has a kind in the one routing table, Celery's router sends
each to its kind's queue (the setting of that kind), the call sites name no queue, and the embedded default
starts a worker for every queue, the background one alone on its own."""

import ast
from pathlib import Path

import pytest
from django.core.management import call_command

from discovery.models import RoundStage
from portal.celery import app
from portal.workers import routing
from portal.workers.layout import EMBEDDED

ROOT = Path(__file__).resolve().parents[2]


def sent_to(name: str, args=(), kwargs=None, **options) -> str:
    """The queue Celery's router gives a task sent as ``name(*args, **kwargs)`` with ``options``."""
    return app.amqp.router.route(options, name, args, kwargs or {})["queue"].name


def test_every_task_of_the_portal_has_a_kind():
    app.loader.import_default_modules()
    ours = sorted(name for name in app.tasks if not name.startswith("celery."))
    assert len(ours) >= 9
    assert [name for name in ours if routing.kind_of_task(name, (1, "generate")) is None] == []
    assert set(routing.STAGE_KINDS) == set(RoundStage.Name.values)
    assert set(routing.TASK_KINDS.values()) | set(routing.STAGE_KINDS.values()) == set(routing.KINDS)


@pytest.mark.parametrize(
    ("name", "args", "kind"),
    [
        ("discovery.advance", (1,), "rounds"),
        ("discovery.run_stage", (1, "generate"), "rounds"),
        ("discovery.run_stage", (1, "filter"), "rounds"),
        ("discovery.run_stage", (1, "ingest"), "rounds"),
        ("discovery.run_stage", (1, "metrics"), "rounds"),
        ("discovery.run_stage", (1, "hull"), "interactive"),
        ("discovery.run_stage", (1, "retrain"), "heavy"),
        ("discovery.evaluate_chunk", (1, [4, 5]), "heavy"),
        ("discovery.evaluated", (1,), "rounds"),
        ("discovery.train_models", (3,), "heavy"),
        ("discovery.benchmark_run", ({}, "b", ""), "heavy"),
        ("hull.features_compute", ([1, 2],), "background"),
        ("hull.rebuild", (), "interactive"),
        ("hull.ingest_file", ("x.json",), "rounds"),
        ("portal.recover_lost_work", (), "interactive"),
    ],
)
def test_the_router_sends_each_task_to_its_kinds_queue(settings, name, args, kind):
    settings.PORTAL_INTERACTIVE_QUEUE, settings.PORTAL_ROUNDS_QUEUE = "quick", "loop"
    settings.PORTAL_HEAVY_QUEUE, settings.PORTAL_BACKGROUND_QUEUE = "gpu", "later"
    expected = {"interactive": "quick", "rounds": "loop", "heavy": "gpu", "background": "later"}[kind]
    assert sent_to(name, args) == expected
    if name == "discovery.run_stage":  # the stage named by keyword routes the same
        assert sent_to(name, (1,), {"name": args[1], "dispatch": 2}) == expected


def test_a_queue_given_at_the_call_wins_and_unknown_names_go_to_the_default_queue():
    assert sent_to("hull.features_compute", ([1],), queue="elsewhere") == "elsewhere"
    assert sent_to("celery.backend_cleanup") == app.conf.task_default_queue == "rounds"
    with pytest.raises(ValueError, match="no kind of work 'gpu'"):
        routing.queue_of("gpu")


def test_a_worker_without_queues_takes_every_kind():
    assert [queue.name for queue in app.conf.task_queues] == ["interactive", "rounds", "heavy", "background"]


def test_no_call_site_names_a_queue():
    """Queues are chosen by the routing table alone: no task is sent with a queue of its own, and no module but
    the settings and the routing table reads a queue setting."""
    sending = {"apply_async", "signature", "send_task", "set", "s", "si", "delay"}
    offenders = []
    for package in ("discovery", "hull", "portal"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text()
            where = str(path.relative_to(ROOT))
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.Call) and any(k.arg == "queue" for k in node.keywords):
                    name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                    if name in sending:
                        offenders.append(f"{where}:{node.lineno}")
            if "_QUEUE" in text and where not in ("portal/settings/base.py", "portal/workers/routing.py"):
                offenders.append(where)
    assert offenders == []


def test_the_embedded_default_starts_a_worker_per_queue(capsys):
    assert [plan.kind for plan in EMBEDDED] == list(routing.KINDS)
    assert sum(plan.beat for plan in EMBEDDED) == 1  # one beat per deployment
    background = next(plan for plan in EMBEDDED if plan.kind == "background")
    assert background.pool == "prefork" and background.nice > 0  # a process per core, below the rounds
    call_command("embedded_workers")
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "rounds 0 worker --pool=solo -Q rounds -n rounds@%h"
    assert lines[3] == "background 10 worker --pool=prefork -Q background -n background@%h"
    script = (ROOT / "scripts" / "start.sh").read_text()
    assert "manage.py embedded_workers" in script and "-Q" not in script


def test_the_compose_file_runs_a_worker_per_queue_sharing_database_broker_and_models():
    import yaml

    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    assert {"postgres", "redis", "web"} <= set(services)
    for plan in EMBEDDED:
        worker = services[f"worker-{plan.kind}"]
        assert worker["command"] == " ".join(["celery", "-A", "portal", *plan.arguments(), "--loglevel=INFO"])
    portal_services = [services["web"], *(s for name, s in services.items() if name.startswith("worker-"))]
    assert len(portal_services) == len(EMBEDDED) + 1
    for service in portal_services:
        env = service["environment"]
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
        assert env["DJANGO_SETTINGS_MODULE"] == "portal.settings.production"
        assert f"model-store:{env['PORTAL_MODEL_STORAGE']}" in service["volumes"]  # one store for every host
