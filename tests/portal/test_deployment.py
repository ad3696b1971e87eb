"""The deployment: the WSGI module loads every view before the first request without touching the database
(portal/wsgi.py, portal/warmup.py), and gunicorn with the deployment's settings (portal/gunicorn_conf.py) serves
the same documents as Django's own handler, to concurrent clients, from sync worker processes."""

import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from django.test import Client

from hull.models import Entry
from tests.api.conftest import ingest_items
from tests.celery_workers import worker_database_url
from tests.conftest import subset

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
UNREACHABLE = "postgres://nobody@127.0.0.1:1/none"


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.local", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_wsgi_module_loads_every_view_without_a_database():
    code = (
        "import gc, json, sys\n"
        "import portal.wsgi\n"
        "print(json.dumps({'modules': sorted(sys.modules), 'frozen': gc.get_freeze_count()}))\n"
    )
    out = _python(code, DATABASE_URL=UNREACHABLE)  # a query would fail: nothing listens on port 1
    assert out.returncode == 0, out.stderr[-3000:]
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    modules = set(loaded["modules"])
    for name in (
        "portal.api.views",
        "portal.optimade.views",
        "portal.pages.views",
        "pymatgen.core",
        "optimade",
    ):
        assert name in modules, name
    # what is loaded is out of the collector's reach: a full collection no longer scans it
    assert loaded["frozen"] > 50_000


def test_gunicorn_settings_come_from_the_environment():
    code = (
        "import json, os\n"
        "import portal.gunicorn_conf as c\n"
        "print(json.dumps([c.bind, c.workers, c.worker_class, c.threads, c.preload_app, os.cpu_count()]))\n"
    )
    bind, workers, worker_class, threads, preload, cpus = json.loads(_python(code).stdout)
    assert (bind, workers, worker_class, threads, preload) == (
        "127.0.0.1:8000",
        2 * cpus + 1,
        "sync",
        1,
        True,
    )
    env = {"GUNICORN_BIND": "0.0.0.0:9000", "WEB_CONCURRENCY": "3", "GUNICORN_WORKER_CLASS": "gthread"}
    bind, workers, worker_class, threads, *_ = json.loads(_python(code, GUNICORN_THREADS="4", **env).stdout)
    assert (bind, workers, worker_class, threads) == ("0.0.0.0:9000", 3, "gthread", 4)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_gunicorn_serves_what_django_serves(tmp_path, mp_entry_dicts):
    ingest_items(tmp_path, subset(mp_entry_dicts, {"Li", "O"}))
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.local",
        "DATABASE_URL": worker_database_url(),
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,testserver",
        "PORTAL_RESPONSE_CACHE_SECONDS": "0",
        "PORTAL_ANON_THROTTLE": "100000/min",
        "PORTAL_USER_THROTTLE": "100000/min",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
    }
    log = open(tmp_path / "gunicorn.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [str(GUNICORN), "-c", "python:portal.gunicorn_conf", "portal.wsgi:application"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                requests.get(f"{base}/optimade/v1/info", timeout=10)
                break
            except requests.ConnectionError:
                assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()[-3000:]
                time.sleep(0.25)
        for _ in range(100):  # the first worker can answer before the master has forked the second
            if len(_worker_pids(server.pid)) == 2:
                break
            time.sleep(0.1)
        assert len(_worker_pids(server.pid)) == 2

        ids = list(Entry.objects.order_by("id").values_list("public_id", flat=True)[:6])
        paths = [
            "/api/v1/materials/?elements=Li,O&e_above_hull_max=0.05&page_size=5",
            "/api/v1/materials/?elements=O&sort=-e_above_hull&page_size=7",
            '/optimade/v1/structures?filter=elements HAS ALL "Li","O" AND _mdp_energy_above_hull<0.05&page_limit=5',
            "/api/v1/phase-diagrams/Li-O/",
            *(f"/api/v1/materials/{public_id}/" for public_id in ids),
            *(f"/optimade/v1/structures/{public_id}" for public_id in ids),
        ]
        with ThreadPoolExecutor(8) as pool:  # more clients than workers: requests queue and all are answered
            served = list(pool.map(lambda path: requests.get(base + path, timeout=60), paths * 3))
        client = Client()
        for path, response in zip(paths * 3, served, strict=True):
            assert response.status_code == 200, (path, response.text[:500])
            assert _comparable(response.json()) == _comparable(
                client.get(path, HTTP_HOST=f"127.0.0.1:{port}").json()
            ), path
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _comparable(document: dict) -> dict:
    """The document without the time it was made (OPTIMADE's ``meta.time_stamp``)."""
    if "meta" in document:
        document["meta"].pop("time_stamp", None)
    return document
