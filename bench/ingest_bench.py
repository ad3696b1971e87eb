"""Ingest benchmark.

1. The 3,176 shared Materials Project entries (structures, symmetry, hull update) into a fresh SQLite
   database; target under 60 s. pymatgen's per-chemical-system ``PhaseDiagram`` over the same entries is
   timed in the same run as the reference for the hull part.
2. A synthetic 100,000-entry catalogue (composition-only ComputedEntry JSON over ~80 elements) into a fresh
   PostgreSQL database with the hull update; target at least 2,000 entries/s.

    .venv/bin/python bench/ingest_bench.py [--synthetic 100000] [--repeats 3] [--pg postgres://postgres@127.0.0.1:5432]
"""

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def child(database_url: str, path: str, source: str) -> None:
    """Runs in a subprocess: migrate a fresh database, ingest ``path``, print the report as JSON."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings.local"
    import django

    django.setup()
    from django.core.management import call_command

    from hull.services.ingest import ingest_file

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    report = ingest_file(path=path, source=source)
    seconds = time.perf_counter() - started
    print(json.dumps({"loaded": report.loaded, "seconds": seconds, "hull_seconds": report.hull.seconds}))


def run_child(database_url: str, path: Path, source: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", database_url, str(path), source],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def pymatgen_reference_seconds(path: Path) -> float:
    from pymatgen.analysis.phase_diagram import PhaseDiagram
    from pymatgen.entries.computed_entries import ComputedStructureEntry

    with gzip.open(path, "rt") as handle:
        entries = [ComputedStructureEntry.from_dict(d) for d in json.load(handle)]
    started = time.perf_counter()
    systems: dict[str, list] = {}
    for entry in entries:
        systems.setdefault(entry.composition.chemical_system, []).append(entry)
    for chemsys, own in systems.items():
        elements = set(chemsys.split("-"))
        pool = [e for e in entries if set(e.composition.chemical_system.split("-")) <= elements]
        diagram = PhaseDiagram(pool)
        for entry in own:
            diagram.get_e_above_hull(entry)
            diagram.get_form_energy_per_atom(entry)
    return time.perf_counter() - started


def fresh_pg_database(server: str, name: str) -> str:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--synthetic", type=int, default=100_000)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--repeats", type=int, default=3, help="synthetic ingests, each into a fresh database"
    )
    parser.add_argument(
        "--shared", default=os.environ.get("PORTAL_SHARED_DATA", str(ROOT.parent / "shared" / "data"))
    )
    args = parser.parse_args()
    mp_path = Path(args.shared) / "mp_entries.json.gz"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if mp_path.exists():
            result = run_child(f"sqlite:///{tmp / 'bench.sqlite3'}", mp_path, "mp")
            reference = pymatgen_reference_seconds(mp_path)
            print(
                f"MP entries -> SQLite: {result['loaded']} entries in {result['seconds']:.1f} s "
                f"({result['loaded'] / result['seconds']:.0f} entries/s; target < 60 s) ; "
                f"hull update {result['hull_seconds']:.2f} s vs pymatgen PhaseDiagram per system "
                f"{reference:.2f} s (ratio {reference / result['hull_seconds']:.1f}x)"
            )
        else:
            print(f"MP entries: {mp_path} is absent, part 1 skipped")
        sys.path.insert(0, str(ROOT / "bench"))
        from synthetic import as_computed_entry_dicts, synthetic_compositions

        path = tmp / "synthetic.json.gz"
        with gzip.open(path, "wt") as handle:
            json.dump(as_computed_entry_dicts(synthetic_compositions(args.synthetic, seed=1)), handle)
        rates = []
        for _ in range(args.repeats):
            url = fresh_pg_database(args.pg, "portal_ingest_bench")
            result = run_child(url, path, "synthetic")
            rates.append(result["loaded"] / result["seconds"])
            print(
                f"synthetic -> PostgreSQL: {result['loaded']} entries in {result['seconds']:.1f} s "
                f"({rates[-1]:.0f} entries/s), of which hull update {result['hull_seconds']:.1f} s",
                flush=True,
            )
        print(
            f"synthetic -> PostgreSQL: median {statistics.median(rates):.0f} entries/s over {len(rates)} fresh "
            f"databases (target >= 2000); load average {os.getloadavg()[0]:.1f}"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:5])
    else:
        main()
