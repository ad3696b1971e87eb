"""Page benchmark: server-side time of every page on the demo catalogue, and in headless Chromium the time to
first content and to interactive figures of the main pages, optionally side by side with an earlier commit.

    .venv/bin/python bench/pages_bench.py [--repeats 7] [--skip-browser] [--keep DIR] [--before REF]

Ingests ../shared/data/mp_entries.json.gz (3,176 Materials Project entries) into a fresh SQLite database under
a temporary folder, computes the structure prototypes (the prototype screen reads them), then times each page
with Django's test client (median over repeats; targets: under 500 ms each). In the browser, each page of
BROWSER_PAGES is loaded ``repeats`` times from a live ``runserver`` on the same database: time to first content
(first-contentful-paint; target under 1 s) and to every figure drawn and clickable (``portalFiguresReadyAt``),
both from navigation start, medians. ``--before REF`` runs a second server from a worktree of commit REF on the
same database and loads the two in turn, so that before and after are measured in one run.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 500
FIRST_CONTENT_TARGET_S = 1.0


def setup(folder: Path) -> None:
    os.environ["PORTAL_VAR_DIR"] = str(folder)
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.local")
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    # one client asks for every page many times: the page throttles would refuse it
    os.environ["PORTAL_PAGE_THROTTLE"] = os.environ["PORTAL_PAGE_USER_THROTTLE"] = "10000000/min"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def load(folder: Path) -> None:
    from django.conf import settings
    from django.core.management import call_command

    from hull.models import Entry
    from hull.services.features import features_compute
    from hull.services.ingest import ingest_file

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    report = ingest_file(path=Path(settings.PORTAL_SHARED_DATA) / "mp_entries.json.gz")
    print(f"ingest: {report.loaded} entries in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    ids = list(Entry.objects.filter(structure__isnull=False).values_list("id", flat=True))
    result = features_compute(entry_ids=ids, dimensionality=False)
    print(
        f"prototypes: {result.new_prototypes} among {result.computed} entries in {time.perf_counter() - started:.1f} s"
    )


def pages() -> list[tuple[str, str]]:
    from hull.models import Entry

    entry = Entry.objects.filter(reduced_formula="LiFePO4").order_by("id").first()
    return [
        ("home", "/"),
        ("search (default)", "/search/"),
        ("search (elements, sorted)", "/search/?elements=Li,O&exclude_elements=Co&sort=-nsites&per_page=100"),
        ("search (wildcard system)", "/search/?chemsys=Li-*-O&is_stable=true"),
        ("material LiFePO4", f"/materials/{entry.public_id}/"),
        ("download CIF (primitive)", f"/materials/{entry.public_id}/download/cif/?cell=primitive"),
        ("phase diagram Li-O (2)", "/phase-diagram/?chemsys=Li-O"),
        ("phase diagram Li-Fe-O (3)", "/phase-diagram/?chemsys=Li-Fe-O"),
        ("phase diagram Li-Fe-P-O (4)", "/phase-diagram/?chemsys=Li-Fe-P-O"),
        ("phase diagram Li-Mn-Co-Ni-O (5)", "/phase-diagram/?chemsys=Li-Mn-Co-Ni-O"),
        ("families index", "/families/"),
        ("layered", "/families/layered/"),
        ("Li-ion conductors", "/families/li-conductors/"),
        ("Li/Mn oxides", "/families/li-mn-oxides/"),
        ("prototypes", "/families/prototypes/"),
        ("discovery dashboard", "/discovery/"),
    ]


def time_pages(repeats: int) -> bool:
    from django.test import Client

    client = Client()
    ok = True
    print(f"\n{'page':36s} {'median ms':>10s} {'min ms':>8s} {'kB':>6s}  target < {TARGET_MS} ms")
    for name, url in pages():
        client.get(url)  # warm caches (templates, imports)
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        median = statistics.median(times)
        ok &= median < TARGET_MS
        flag = "" if median < TARGET_MS else "  OVER"
        print(f"{name:36s} {median:10.0f} {min(times):8.0f} {len(response.content) / 1024:6.0f}{flag}")
    return ok


BROWSER_PAGES = [
    ("home", "/"),
    ("search (default)", "/search/"),
    ("material LiFePO4", "/materials/{lifepo4}/"),
    ("phase diagram Li-Fe-O (3)", "/phase-diagram/?chemsys=Li-Fe-O"),
    ("phase diagram Li-Fe-P-O (4)", "/phase-diagram/?chemsys=Li-Fe-P-O&cutoff=2"),
    ("phase diagram Li-Mn-Co-Ni-O (5)", "/phase-diagram/?chemsys=Li-Mn-Co-Ni-O"),
    ("stability check LiFePO4", "/stability/?formula=LiFePO4&energy=-6.9&energy_basis=per_atom&hull_set=dft"),
    ("Li-ion conductors", "/families/li-conductors/"),
    ("discovery dashboard", "/discovery/"),
]
# Time to first content (the browser's first-contentful-paint) and to interactive figures (every plotly
# figure drawn and clickable), both from navigation start.
TIMES_JS = """
var paint = performance.getEntriesByName('first-contentful-paint')[0];
return [paint ? paint.startTime : null,
        document.querySelector('[data-figure]') ? (window.portalFiguresReadyAt || null) : null];
"""


def _server(port: str, cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--nothreading"],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _chromium(folder: Path):
    from tests.headless_chromium import chromium_driver

    return chromium_driver(folder / "chromium")


def _load(driver, url: str) -> tuple[float | None, float | None]:
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get("about:blank")
    driver.get(url)
    WebDriverWait(driver, 60).until(lambda d: d.execute_script("return window.portalReady === true"))
    # a page without figures may be ready before its first paint: wait for the paint to be recorded
    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script("return performance.getEntriesByName('first-contentful-paint').length > 0")
    )
    first, figures = driver.execute_script(TIMES_JS)
    return (first / 1000 if first is not None else None, figures / 1000 if figures is not None else None)


def _median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def time_browser(folder: Path, repeats: int, before: Path | None) -> bool:
    """Every page of BROWSER_PAGES in headless Chromium: time to first content and to interactive figures
    (median of ``repeats`` loads, browser cache warm as for a returning visitor). With ``before`` (a checkout of
    an earlier commit) a second server runs that code on the same database and the two are loaded in turn."""
    from hull.models import Entry

    lifepo4 = Entry.objects.filter(reduced_formula="LiFePO4").order_by("id").first().public_id
    servers = {"after": ("8791", ROOT)}
    if before is not None:
        servers["before"] = ("8792", before)
    processes = [_server(port, cwd) for port, cwd in servers.values()]
    driver = _chromium(folder)
    ok = True
    try:
        for port, _ in servers.values():  # wait for each server
            for _ in range(100):
                try:
                    driver.get(f"http://127.0.0.1:{port}/")
                    break
                except Exception:
                    time.sleep(0.2)
        header = f"{'page':34s} {'first content s':>16s} {'figures s':>10s}"
        if before is not None:
            header = f"{'page':34s} {'first content s (before -> after)':>34s} {'figures s (before -> after)':>28s}"
        print(f"\n{header}   target: first content < {FIRST_CONTENT_TARGET_S} s")
        for name, path in BROWSER_PAGES:
            path = path.format(lifepo4=lifepo4)
            runs = {label: [] for label in servers}
            for port, _ in servers.values():  # one warm-up load each
                _load(driver, f"http://127.0.0.1:{port}{path}")
            for _ in range(repeats):  # alternate, so that the machine's noise falls on both alike
                for label, (port, _) in servers.items():
                    runs[label].append(_load(driver, f"http://127.0.0.1:{port}{path}"))
            first = {label: _median([r[0] for r in runs[label]]) for label in servers}
            figures = {label: _median([r[1] for r in runs[label]]) for label in servers}
            over = first["after"] is None or first["after"] >= FIRST_CONTENT_TARGET_S
            ok &= not over
            flag = "  OVER" if over else ""
            if before is None:
                print(f"{name:34s} {_seconds(first['after']):>16s} {_seconds(figures['after']):>10s}{flag}")
            else:
                firsts = f"{_seconds(first['before'])} -> {_seconds(first['after'])}"
                figs = f"{_seconds(figures['before'])} -> {_seconds(figures['after'])}"
                print(f"{name:34s} {firsts:>34s} {figs:>28s}{flag}")
    finally:
        driver.quit()
        for process in processes:
            process.terminate()
            process.wait()
    print(f"(medians of {repeats} loads per page and server)")
    return ok


def checkout(ref: str, folder: Path) -> Path:
    """A worktree of ``ref`` (the 'before' code) beside the benchmark's database; removed at the end."""
    target = folder / f"before-{ref}"
    if not target.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(target), ref], cwd=ROOT, check=True)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument(
        "--before",
        metavar="REF",
        help="also time the pages of this git commit (a worktree of it, same database), side by side",
    )
    parser.add_argument("--keep", help="use (and keep) this folder instead of a temporary one")
    args = parser.parse_args()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="pages-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    fresh = not (folder / "bench.sqlite3").exists()
    setup(folder)
    try:
        if fresh:
            load(folder)
        ok = time_pages(args.repeats)
        if not args.skip_browser:
            before = checkout(args.before, folder) if args.before else None
            ok &= time_browser(folder, args.repeats, before)
    finally:
        if args.before:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(folder / f"before-{args.before}")], cwd=ROOT
            )
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print("\nall within target" if ok else "\nSOME FIGURES OVER TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
