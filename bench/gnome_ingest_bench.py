"""GNoME release ingest benchmark: a synthetic ``stable_materials_summary.csv`` (the release's published columns, its
unnamed index column, no structures) streamed into a fresh PostgreSQL database with the hull update; target at least
2,000 rows/s.

The rows are made from the real Materials Project entries of ``../shared/data/mp_entries.json.gz``: each takes a real
entry's composition (its cell, or a multiple of it) and formation energy per atom (moved by a few meV/atom), with its
elements mapped by a random substitution onto the 89 elements of ``mp_elemental_refs.json.gz``; the energy is that
formation energy plus the MP reference energies of the new elements. So compositions, formation energies and the
share of stable phases follow MP's, spread over thousands of chemical systems as in the release.

Prints rows/s end to end (reading, checks, storing, hull update, commit) beside the target, the rows/s of each phase
(streaming, hull update, the commit's deferred foreign-key checks), the peak resident memory of the ingest process and
the largest resident memory seen while the rows streamed (before the hull update), and the CPU seconds of each process.

    .venv/bin/python bench/gnome_ingest_bench.py [--rows 400000] [--pg postgres://postgres@127.0.0.1:5432]
"""

import argparse
import csv
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("PORTAL_SHARED_DATA", ROOT.parent / "shared" / "data"))

from tests.hull.gnome_release_files import STABLE_COLUMNS  # noqa: E402

COLUMNS = STABLE_COLUMNS  # the published columns of stable_materials_summary.csv, listed once
TARGET_ROWS_PER_S = 2_000  # issue 26: end to end, hull update included


def write_synthetic_release(path: Path, rows: int, seed: int = 7) -> None:
    """``rows`` rows of a release-like summary CSV from the real MP entries (see the module's docstring)."""
    from pymatgen.core import Composition

    with gzip.open(SHARED / "mp_entries.json.gz", "rt") as handle:
        mp = json.load(handle)
    with gzip.open(SHARED / "mp_elemental_refs.json.gz", "rt") as handle:
        refs_raw = json.load(handle)
    refs_raw = refs_raw.values() if isinstance(refs_raw, dict) else refs_raw
    refs = {}
    for item in refs_raw:
        (symbol,) = item["composition"]
        refs[symbol] = (item["energy"] + item.get("correction", 0.0)) / sum(item["composition"].values())
    mp_refs: dict[str, float] = {}
    for item in mp:
        if len(item["composition"]) == 1:
            (symbol,) = item["composition"]
            per_atom = (item["energy"] + item.get("correction", 0.0)) / sum(item["composition"].values())
            mp_refs[symbol] = min(per_atom, mp_refs.get(symbol, per_atom))
    base = []
    for item in mp:
        amounts = item["composition"]
        if len(amounts) < 2:
            continue
        total = sum(amounts.values())
        per_atom = (item["energy"] + item.get("correction", 0.0)) / total
        formation = per_atom - sum(mp_refs[s] * a for s, a in amounts.items()) / total
        base.append((amounts, formation))
    symbols = sorted(refs)
    rng = np.random.default_rng(seed)
    space_groups = [(225, "Fm-3m", "cubic"), (62, "Pnma", "orthorhombic"), (166, "R-3m", "trigonal")]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["", *COLUMNS])
        for i in range(rows):
            amounts, formation = base[int(rng.integers(len(base)))]
            mapping = dict(
                zip(sorted(amounts), rng.choice(symbols, size=len(amounts), replace=False), strict=True)
            )
            units = int(rng.integers(1, 3)) if sum(amounts.values()) <= 100 else 1
            cell = {mapping[s]: a * units for s, a in amounts.items()}
            natoms = sum(cell.values())
            e_form = formation + float(rng.normal(0.0, 0.02))
            energy = (e_form + sum(refs[s] * a for s, a in cell.items()) / natoms) * natoms
            composition = Composition(cell)
            sg = space_groups[i % 3]
            decomposition = float(rng.normal(-0.02, 0.02))
            writer.writerow(
                [
                    i,
                    composition.formula.replace(" ", ""),
                    f"{i + 0x2A0000:010x}",
                    composition.reduced_formula,
                    str(sorted(cell)),
                    round(natoms),
                    f"{natoms * 15.0:.4f}",
                    "5.0",
                    "m-3m",
                    sg[1],
                    sg[0],
                    sg[2],
                    repr(energy - 0.1 * natoms),
                    repr(energy),
                    repr(e_form),
                    repr(decomposition),
                    3,
                    f"{abs(float(rng.normal(1.0, 1.0))):.4f}",
                    "False",
                    repr(decomposition),
                    repr(decomposition),
                    repr(decomposition),
                    repr(decomposition),
                ]
            )


def child(database_url: str, path: str) -> None:
    """Runs in a subprocess: migrate a fresh database, ingest ``path``, print the figures as JSON."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings.local"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from hull.services.ingest import ingest_file

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    cpu_before = _cpu_seconds(backend)
    streaming_rss = [0]
    streamed = [0.0]  # seconds to the end of the streaming phase (the hull update starts then)

    def progress(rows: int, message: str) -> None:
        streaming_rss[0] = max(streaming_rss[0], _rss_mib())
        streamed[0] = time.perf_counter() - started
        print(f"  {message} ({streamed[0]:.0f} s, {_rss_mib():.0f} MiB)", file=sys.stderr)

    started = time.perf_counter()
    report = ingest_file(path=path, progress=progress)
    seconds = time.perf_counter() - started
    cpu = {key: value - cpu_before[key] for key, value in _cpu_seconds(backend).items()}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {
        "loaded": report.loaded,
        "rejected": len(report.rejected),
        "seconds": seconds,
        "streaming_seconds": streamed[0],
        "hull_seconds": report.hull.seconds,
        "commit_seconds": seconds - report.seconds,
        "peak_mib": peak,
        "streaming_mib": streaming_rss[0],
        "cpu": cpu,
    }
    print(json.dumps(figures))


def _cpu_seconds(backend: int) -> dict[str, float]:
    """CPU seconds used so far by this process, its finished worker processes and the PostgreSQL backend (same
    machine): the work of the ingest, whatever else the machine's cores were doing meanwhile."""
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(f"/proc/{backend}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return {
        "ingest": own.ru_utime + own.ru_stime,
        "workers": workers.ru_utime + workers.ru_stime,
        "postgres": (int(fields[11]) + int(fields[12])) / ticks,
    }


def _rss_mib() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    from ingest_bench import fresh_pg_database

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--csv", help="write the synthetic CSV here, or reuse it where it exists already")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.csv) if args.csv else Path(tmp) / "stable_materials_summary.csv"
        if not path.exists():
            started = time.perf_counter()
            write_synthetic_release(path, args.rows)
            print(f"synthetic CSV written in {time.perf_counter() - started:.0f} s", flush=True)
        with open(path) as handle:
            rows = sum(1 for _ in handle) - 1
        print(
            f"synthetic release CSV {path.name}: {rows:,} rows, {path.stat().st_size / 2**20:.0f} MiB",
            flush=True,
        )
        url = fresh_pg_database(args.pg, "portal_gnome_bench")
        out = subprocess.run(
            [sys.executable, __file__, "--child", url, str(path)],
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
    rows = result["loaded"]
    cpu = result["cpu"]
    cpu_total = sum(cpu.values())
    print(
        f"GNoME CSV -> PostgreSQL: {rows:,} rows ({result['rejected']} rejected) in {result['seconds']:.1f} s = "
        f"{rows / result['seconds']:,.0f} rows/s end to end (target >= {TARGET_ROWS_PER_S:,} rows/s: "
        f"{'met' if rows / result['seconds'] >= TARGET_ROWS_PER_S else 'NOT met'}); load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    for phase, key in (
        ("streaming (read, check, store)", "streaming_seconds"),
        ("hull update", "hull_seconds"),
        ("commit (deferred foreign-key checks)", "commit_seconds"),
    ):
        print(f"  {phase}: {result[key]:.1f} s = {rows / max(result[key], 1e-9):,.0f} rows/s")
    print(
        f"memory: peak {result['peak_mib']:.0f} MiB resident, at most {result['streaming_mib']:.0f} MiB while "
        "streaming the rows"
    )
    print(
        f"CPU: ingest process {cpu['ingest']:.0f} s, its check-and-prepare workers {cpu['workers']:.0f} s, PostgreSQL "
        f"backend {cpu['postgres']:.0f} s: {rows / cpu_total:,.0f} rows per CPU-second "
        f"({rows / (cpu_total / 2):,.0f} rows/s on 2 otherwise idle cores, if spread evenly; target "
        f"{TARGET_ROWS_PER_S:,})"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:4])
    else:
        sys.path.insert(0, str(ROOT / "bench"))
        main()
