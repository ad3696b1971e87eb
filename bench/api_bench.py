"""API benchmark: p50/p95 latency from concurrent clients on loopback against a real server process.

1. Loads ``--entries`` synthetic entries (bench/synthetic.py compositions, each with a small placeholder cubic
   structure so that it is served under OPTIMADE /structures) into a fresh PostgreSQL database with COPY
   (hull/services/bulk.py), then computes every hull with the hull service (full rebuild) and VACUUM ANALYZEs.
2. Starts gunicorn with the deployment's settings (``portal/gunicorn_conf.py``: sync workers, 2 x CPUs + 1 of
   them, the application loaded before the fork), or one server per worker class of ``--servers`` (``sync
   gthread`` compares them: each scenario is measured on each in turn), on 127.0.0.1, and times, from
   ``--clients`` concurrent clients and from one:
   - OPTIMADE list: ``elements HAS ALL "Li","O" AND _mdp_energy_above_hull<0.05`` (page_limit 20),
   - the same through /api/v1/materials/ (page_size 20),
   - the REST list of stable entries sorted by energy above hull (the search page's sort; every one ties at 0),
   - the REST list of entries with oxygen sorted by energy above hull, descending, with no stability condition
     (read in two parts, hull/selectors/search.py ``sorted_parts``),
   - the OPTIMADE list of ``elements HAS ALL "Li","O"`` sorted by ``_mdp_energy_above_hull`` (two parts too),
   - both lists again with a random element pair and threshold per request (distinct URLs: nothing that is
     kept per filter text or URL, such as the parsed OPTIMADE filter, its cached count or the kept response,
     is reused),
   - a material's detail through both APIs (random ids, each sent once: distinct URLs too),
   - the phase diagram of a 4-element system.

   The server keeps catalogue reads per URL and catalogue state (portal/response_cache.py): the repeated
   scenarios (the fixed lists, the phase diagram) measure kept responses after their first request, the
   distinct ones measure reads computed afresh. ``--cache-seconds 0`` turns the cache off to time every
   scenario afresh.

Two load generators, printed side by side (``--client both``, the default):

- ``python``: the original one, ``--clients`` threads of Python ``requests`` sessions (``--requests`` URLs
  each scenario). On a small machine the client threads take a large share of the CPU from the server and
  every measured request waits on the client's GIL too.
- ``wrk``: Debian's ``wrk`` (``apt-get install -y wrk``) with ``bench/wrk_paths.lua``, one thread holding
  ``--clients`` connections for ``--seconds`` per scenario, cycling through the same URLs (a gthread server
  keeps them alive; sync workers close each after its response and wrk opens it again).

    .venv/bin/python bench/api_bench.py --entries 1000000 [--pg postgres://postgres@127.0.0.1:5432] \\
        [--database portal_api_bench] [--reuse] [--clients 20] [--requests 400] [--servers sync gthread] \\
        [--workers N] [--threads N] [--client both|python|wrk] [--seconds 8] [--cache-seconds 600]
"""

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHUNK = 50_000


def django_setup(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings.local"
    import django

    django.setup()


def fresh_database(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def placeholder_structure(composition: dict[str, float]) -> dict:
    """A cubic cell with one site per atom on a simple grid: enough for a valid OPTIMADE structure."""
    symbols = [el for el, amount in composition.items() for _ in range(int(amount))]
    n = len(symbols)
    side = max(1, round(n ** (1 / 3) + 0.4999))
    a = 2.5 * side
    sites = []
    for i, el in enumerate(symbols):
        x, y, z = i % side, (i // side) % side, i // (side * side)
        sites.append({"species": [{"element": el, "occu": 1}], "xyz": [2.5 * x, 2.5 * y, 2.5 * z]})
    return {"lattice": {"matrix": [[a, 0.0, 0.0], [0.0, a, 0.0], [0.0, 0.0, a]]}, "sites": sites}


def load(database_url: str, n: int) -> dict:
    """Runs in a child process: migrate, COPY the entries in, rebuild every hull."""
    django_setup(database_url)
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone
    from pymatgen.core import Composition

    from bench.synthetic import synthetic_compositions
    from hull.formulas import anonymous_formula, chemsys_from_elements
    from hull.ingest.prepare import public_id_for
    from hull.models import Entry, IngestBatch
    from hull.services.bulk import bulk_upsert
    from hull.services.chemsys import chemsys_ensure
    from hull.services.stability import hull_update

    timings = {}
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    pairs = synthetic_compositions(n, seed=0, max_elements=4)
    timings["generate_s"] = time.perf_counter() - started
    fields = [
        "public_id",
        "source",
        "source_id",
        "method",
        "method_family",
        "formula",
        "reduced_formula",
        "anonymous_formula",
        "chemsys",
        "nelements",
        "nsites",
        "composition",
        "structure",
        "volume",
        "spacegroup_symbol",
        "crystal_system",
        "energy",
        "uncorrected_energy",
        "correction",
        "energy_per_atom",
        "data",
        "content_hash",
        "batch",
        "created_at",
        "updated_at",
    ]
    started = time.perf_counter()
    formulas: dict[tuple, tuple[str, str, str]] = {}
    with transaction.atomic():
        batch = IngestBatch.objects.create(source="synthetic", fmt="bench", path="bench/api_bench.py")
        chemsys_ensure(names={chemsys_from_elements(comp) for comp, _ in pairs})
        now = timezone.now()
        for start in range(0, n, CHUNK):
            rows = []
            for i in range(start, min(n, start + CHUNK)):
                comp, energy_per_atom = pairs[i]
                key = tuple(sorted(comp.items()))
                if key not in formulas:
                    pmg = Composition(comp)
                    formulas[key] = (pmg.formula, pmg.reduced_formula, anonymous_formula(pmg))
                formula, reduced, anonymous = formulas[key]
                natoms = int(sum(comp.values()))
                structure = placeholder_structure(comp)
                source_id = f"syn-{i}"
                rows.append(
                    [
                        public_id_for("mdp", "synthetic", source_id),
                        "synthetic",
                        source_id,
                        "synthetic",
                        "dft",
                        formula,
                        reduced,
                        anonymous,
                        chemsys_from_elements(comp),
                        len(comp),
                        natoms,
                        comp,
                        structure,
                        structure["lattice"]["matrix"][0][0] ** 3,
                        "",
                        "",
                        energy_per_atom * natoms,
                        energy_per_atom * natoms,
                        0.0,
                        energy_per_atom,
                        {},
                        f"{i:064x}",
                        batch.pk,
                        now,
                        now,
                    ]
                )
            bulk_upsert(model=Entry, fields=fields, rows=rows)
    timings["copy_s"] = time.perf_counter() - started
    started = time.perf_counter()
    summary = hull_update(touched=None)
    timings["hull_s"] = time.perf_counter() - started
    with connection.cursor() as cursor:
        # VACUUM too, as autovacuum soon would on a live catalogue: it sets the visibility map that lets the
        # element queries answer from their index alone (index-only scans) instead of reading the heap.
        cursor.execute("VACUUM ANALYZE")
    timings["entries"] = Entry.objects.count()
    timings["hull"] = str(summary)
    return timings


def pick_targets(database_url: str) -> dict:
    """Random entry ids and the most populated 4-element system (with its entry count)."""
    django_setup(database_url)
    from django.db.models import Count

    from hull.models import Entry

    rng = random.Random(1)
    top = Entry.objects.order_by("-id").values_list("id", flat=True).first()
    picks = [rng.randint(1, top) for _ in range(30_000)]
    ids = list(Entry.objects.filter(id__in=picks).values_list("public_id", flat=True))
    systems = Entry.objects.filter(nelements=4).values("chemsys").annotate(n=Count("id")).order_by("-n")[:1]
    system = systems[0]
    return {"ids": ids, "chemsys": system["chemsys"], "chemsys_entries": system["n"]}


def start_server(
    database_url: str,
    port: int,
    worker_class: str,
    workers: int,
    threads: int,
    cache_seconds: int | None = None,
) -> subprocess.Popen:
    """gunicorn with the deployment's settings (portal/gunicorn_conf.py), on ``port``, with this worker class,
    number of workers and threads."""
    env = dict(
        os.environ,
        PORTAL_RESPONSE_CACHE_SECONDS=str(600 if cache_seconds is None else cache_seconds),
        # persistent connections, as a production deployment would configure them (see the report)
        DATABASE_URL=f"{database_url}?conn_max_age=600",
        DJANGO_SETTINGS_MODULE="portal.settings.local",
        DJANGO_DEBUG="false",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        PORTAL_ANON_THROTTLE="10000000/min",
        # DRF applies the user rate to anonymous clients too (by address): all clients here share 127.0.0.1
        PORTAL_USER_THROTTLE="10000000/min",
    )
    process = subprocess.Popen(
        [
            # the gunicorn next to this interpreter: a git worktree has no .venv of its own
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "python:portal.gunicorn_conf",
            "portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            worker_class,
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    import requests

    for _ in range(600):  # up to 5 minutes: a loaded machine starts the workers slowly
        try:
            requests.get(f"http://127.0.0.1:{port}/optimade/v1/info", timeout=30)
            return process
        except requests.RequestException:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError("the server did not start")


def measure(urls: list[str], clients: int) -> dict:
    """Latency of every URL fetched by ``clients`` threads (each with its own connection)."""
    import requests

    latencies: list[float] = []
    errors = []
    lock = threading.Lock()
    queue = list(reversed(urls))

    def worker() -> None:
        session = requests.Session()
        while True:
            with lock:
                if not queue:
                    return
                url = queue.pop()
            started = time.perf_counter()
            try:
                response = session.get(url, timeout=60)
            except requests.RequestException as exc:
                with lock:
                    latencies.append(time.perf_counter() - started)
                    errors.append((type(exc).__name__, url, str(exc)[:200]))
                continue
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if response.status_code != 200:
                    errors.append((response.status_code, url, response.text[:200]))

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
        "max_ms": 1000 * latencies[-1],
        "req_per_s": len(latencies) / wall,
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
    }


def measure_wrk(base: str, paths: list[str], clients: int, seconds: float) -> dict:
    """Latency of ``paths`` fetched in turn over ``clients`` connections by one wrk thread."""
    with tempfile.NamedTemporaryFile("w", suffix=".paths", delete=False) as handle:
        handle.write("\n".join(paths) + "\n")
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--timeout", "60s"]
            + ["-s", str(ROOT / "bench" / "wrk_paths.lua"), base, "--", handle.name],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(handle.name)
    result = json.loads([line for line in out.stdout.splitlines() if line.startswith("{")][-1])
    result["req_per_s"] = result["requests"] / result["duration_s"]
    result["errors"] = result["non_2xx_3xx"] + result["socket_errors"]
    result["first_error"] = None
    return result


def cpu_seconds(server_pid: int) -> tuple[float, float]:
    """CPU seconds used so far by the server (gunicorn and its workers) and by this machine's PostgreSQL
    processes, from /proc (zeros elsewhere). Per request, they show where a scenario's CPU goes."""
    if not os.path.isdir("/proc"):
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    server = database = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()  # state, ppid, ..., utime (12th), stime (13th)
        used = (int(fields[11]) + int(fields[12])) / tick
        if server_pid in (int(entry), int(fields[1])):
            server += used
        elif name.startswith("postgres"):
            database += used
    return server, database


def distinct_lists(rng: random.Random, n: int) -> tuple[list[str], list[str]]:
    """``n`` OPTIMADE and ``n`` REST list paths, each with a random element pair and hull-distance threshold."""
    from bench.synthetic import ELEMENTS

    optimade, rest = [], []
    for _ in range(n):
        a, b = sorted(rng.sample(ELEMENTS[:40], 2))
        limit = round(rng.uniform(0.0, 0.1), 5)
        text = quote(f'elements HAS ALL "{a}","{b}" AND _mdp_energy_above_hull<{limit}')
        optimade.append(f"/optimade/v1/structures?filter={text}&page_limit=20")
        rest.append(f"/api/v1/materials/?elements={a},{b}&e_above_hull_max={limit}&page_size=20")
    return optimade, rest


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default=None)
    parser.add_argument("--reuse", action="store_true", help="keep an already loaded database")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument(
        "--servers",
        nargs="+",
        choices=["sync", "gthread"],
        default=["sync"],
        help="gunicorn worker classes, one server each, measured in turn on every scenario (default: sync, "
        "the deployment's; 'sync gthread' compares the two in one run)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes per server (default: sync 2 x CPUs + 1, gthread 4)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads per gthread worker (default 4; sync workers have 1)",
    )
    parser.add_argument(
        "--port", type=int, default=8811, help="the first server's port (the next one +1, ...)"
    )
    parser.add_argument(
        "--cache-seconds",
        type=int,
        default=None,
        help="the server's PORTAL_RESPONSE_CACHE_SECONDS (default 600; 0 serves every request afresh)",
    )
    parser.add_argument("--client", choices=["both", "python", "wrk"], default="both")
    parser.add_argument("--seconds", type=int, default=8, help="wrk: seconds per scenario (half at 1 client)")
    parser.add_argument(
        "--only",
        nargs="*",
        default=None,
        help="run only the scenarios whose label contains one of these words",
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        action, url = args.child
        result = load(url, args.entries) if action == "load" else pick_targets(url)
        print(json.dumps(result))
        return

    name = args.database or f"portal_api_bench_{args.entries}"
    url = f"{args.pg}/{name}"
    if not args.reuse:
        fresh_database(args.pg, name)
        print(f"loading {args.entries:,} synthetic entries into {url} ...", flush=True)
        started = time.perf_counter()
        print(json.dumps(_child("load", url, args.entries)), flush=True)
        print(f"loaded in {time.perf_counter() - started:.0f} s", flush=True)
    targets = _child("pick", url, args.entries)
    from portal import gunicorn_conf  # the deployment's number of sync workers

    shapes = {
        worker_class: (
            args.workers or (gunicorn_conf.workers if worker_class == "sync" else 4),
            1 if worker_class == "sync" else (args.threads or 4),
        )
        for worker_class in args.servers
    }
    servers = {}
    try:
        for number, (worker_class, (workers, threads)) in enumerate(shapes.items()):
            port = args.port + number
            servers[worker_class] = (
                start_server(url, port, worker_class, workers, threads, args.cache_seconds),
                f"http://127.0.0.1:{port}",
            )
        run(args, targets, servers, shapes)
    finally:
        for server, _ in servers.values():
            server.terminate()
            server.wait(timeout=30)


def run(args, targets: dict, servers: dict, shapes: dict) -> None:
    """Every scenario, measured on each server in turn (so that the servers share the machine's state)."""
    print(
        f"targets: {targets['chemsys']} with {targets['chemsys_entries']} entries, {len(targets['ids'])} ids"
    )
    rng = random.Random(2)
    optimade_filter = quote('elements HAS ALL "Li","O" AND _mdp_energy_above_hull<0.05')
    li_o = quote('elements HAS ALL "Li","O"')
    # more distinct URLs than any run sends (wrk cycles through its list); the warm-up takes the last ones
    optimade_distinct, rest_distinct = distinct_lists(random.Random(3), 40_000)
    detail_ids = list(targets["ids"])
    rng.shuffle(detail_ids)
    scenarios = {
        "OPTIMADE list HAS ALL Li,O AND ehull<0.05": [
            f"/optimade/v1/structures?filter={optimade_filter}&page_limit=20"
        ]
        * args.requests,
        "REST list elements=Li,O&e_above_hull_max=0.05": [
            "/api/v1/materials/?elements=Li,O&e_above_hull_max=0.05&page_size=20"
        ]
        * args.requests,
        "REST list is_stable=true, sort=e_above_hull": [
            "/api/v1/materials/?is_stable=true&sort=e_above_hull&page_size=20"
        ]
        * args.requests,
        "REST list elements=O, sort=-e_above_hull": [
            "/api/v1/materials/?elements=O&sort=-e_above_hull&page_size=20"
        ]
        * args.requests,
        "OPTIMADE list HAS ALL Li,O, sort=ehull": [
            f"/optimade/v1/structures?filter={li_o}&sort=_mdp_energy_above_hull&page_limit=20"
        ]
        * args.requests,
        "OPTIMADE list, random pair and threshold": optimade_distinct,
        "REST list, random pair and threshold": rest_distinct,
        "REST detail (random ids)": [f"/api/v1/materials/{public_id}/" for public_id in detail_ids],
        "OPTIMADE detail (random ids)": [f"/optimade/v1/structures/{public_id}" for public_id in detail_ids],
        f"phase diagram {targets['chemsys']} ({targets['chemsys_entries']} own entries)": [
            f"/api/v1/phase-diagrams/{targets['chemsys']}/"
        ]
        * max(40, args.requests // 10),
    }
    distinct = {
        "OPTIMADE list, random pair and threshold",
        "REST list, random pair and threshold",
        "REST detail (random ids)",
        "OPTIMADE detail (random ids)",
    }
    kinds = ["python", "wrk"] if args.client == "both" else [args.client]
    if "wrk" in kinds and shutil.which("wrk") is None:
        if args.client == "wrk":
            raise SystemExit("wrk is not installed (apt-get install -y wrk)")
        print("wrk is not installed (apt-get install -y wrk): measuring with the Python client only")
        kinds = ["python"]
    described = "; ".join(
        f"{name} {workers} workers x {threads} threads" for name, (workers, threads) in shapes.items()
    )
    print(
        f"\n{args.entries:,} entries; gunicorn {described}; {os.cpu_count()} CPUs; "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    head = (
        f"{'scenario':46s} {'server':>7s} {'client':>6s} {'conns':>5s} {'n':>5s} {'p50 ms':>7s} {'p95 ms':>7s} "
        f"{'max ms':>7s} {'req/s':>6s} {'srv ms':>6s} {'db ms':>6s}"
    )
    print(head, "errors")  # srv ms, db ms: CPU per request of the server's processes and of PostgreSQL's
    for label, paths in scenarios.items():
        if args.only and not any(word.lower() in label.lower() for word in args.only):
            continue
        used = 0  # distinct lists: every run starts at URLs that no earlier run sent
        for name, (server, base) in servers.items():
            urls = [base + path for path in paths]
            # warm-up (connections, caches, first count); the distinct lists are warmed with URLs no run sends
            measure(urls[-args.clients * 2 :], args.clients)
            for kind in kinds:
                for clients in (1, args.clients):
                    start = used if label in distinct else 0
                    cpu_before = cpu_seconds(server.pid)
                    if kind == "python":
                        count = args.requests if clients > 1 else min(40, args.requests)
                        result = measure(urls[start : start + count], clients)
                    else:
                        seconds = args.seconds if clients > 1 else args.seconds / 2
                        sent = paths[start : -args.clients * 2] if label in distinct else paths
                        result = measure_wrk(base, sent, clients, seconds)
                    used += result["requests"]
                    srv, db = (
                        1000 * (after - before) / max(1, result["requests"])
                        for after, before in zip(cpu_seconds(server.pid), cpu_before, strict=True)
                    )
                    print(
                        f"{label:46s} {name:>7s} {kind:>6s} {clients:5d} {result['requests']:5d} {result['p50_ms']:7.1f} "
                        f"{result['p95_ms']:7.1f} {result['max_ms']:7.1f} {result['req_per_s']:6.1f} "
                        f"{srv:6.2f} {db:6.2f} {result['errors']}",
                        flush=True,
                    )
                    if result["first_error"]:
                        print("   first error:", result["first_error"])
    print(f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def _child(action: str, url: str, n: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--entries", str(n), "--child", action, url],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
