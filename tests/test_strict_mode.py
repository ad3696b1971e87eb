"""The suite's strict mode (PORTAL_TESTS_STRICT=1, set by scripts/test.sh and so by CI): a test whose real data is
absent fails, and a run with any skipped test fails, where a developer's run without the data skips saying why."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NEEDS_SHARED_DATA = "tests/hull/test_hull_lookup.py::test_lookup_matches_pymatgen"


def _pytest(tmp_path: Path, strict: bool) -> subprocess.CompletedProcess:
    env = {**os.environ, "PORTAL_SHARED_DATA": str(tmp_path), "PORTAL_TESTS_STRICT": "1" if strict else ""}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", NEEDS_SHARED_DATA],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_missing_shared_data_skips_in_a_developers_run(tmp_path):
    run = _pytest(tmp_path, strict=False)
    assert run.returncode == 0, run.stdout[-2000:]
    assert "1 skipped" in run.stdout and "is absent" in run.stdout


def test_missing_shared_data_fails_in_strict_mode(tmp_path):
    run = _pytest(tmp_path, strict=True)
    assert run.returncode != 0
    assert ("1 failed" in run.stdout or "1 error" in run.stdout) and "PORTAL_TESTS_STRICT=1" in run.stdout
