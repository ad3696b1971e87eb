"""The metrics on a small hand-checked case: every evaluation in the denominator, the hit tolerance, the
acceleration factor."""

import pytest

from discovery.metrics import HIT_TOLERANCE, Outcome, acceleration, arm_metrics, is_hit


def test_a_hit_lies_strictly_below_the_hull_beyond_the_tolerance():
    assert HIT_TOLERANCE == 0.001
    assert is_hit(-0.0011)
    assert not is_hit(-0.0009)  # on the hull within the tolerance
    assert not is_hit(0.0)  # a copy of a known phase, exactly on the hull
    assert not is_hit(0.02)
    assert not is_hit(None)


def test_failed_and_unconverged_stay_in_the_denominator():
    outcomes = [
        Outcome(failed=False, converged=True, distance=-0.05),  # hit
        Outcome(failed=False, converged=True, distance=-0.0005),  # on the hull: not a hit
        Outcome(failed=False, converged=False, distance=-0.2),  # unconverged: counted apart, never a hit
        Outcome(failed=True, converged=False),  # failed: counted apart, never a hit
        Outcome(failed=False, converged=True, distance=-0.01, dft=True, rediscovered="mp-1"),  # DFT-confirmed
        Outcome(failed=False, converged=True, distance=0.03, dft=True),  # a hidden phase, but above the hull
    ]
    metrics = arm_metrics(outcomes)
    assert metrics["evaluations"] == 6
    assert metrics["failed"] == 1
    assert metrics["unconverged"] == 1
    assert metrics["hits"] == 2
    assert metrics["hit_rate"] == pytest.approx(2 / 6)
    assert metrics["dft_answers"] == 2
    assert metrics["dft_hits"] == 1
    assert metrics["dft_precision"] == pytest.approx(1 / 6)
    assert metrics["rediscovered"] == ["mp-1"]


def test_empty_arm_and_acceleration():
    assert arm_metrics([])["hit_rate"] is None
    # filtered: 2 rediscoveries in 10 evaluations; baseline: 1 in 20 -> 0.2 / 0.05 = 4x
    assert acceleration(2, 10, 1, 20) == pytest.approx(4.0)
    assert acceleration(2, 10, 0, 20) is None  # the baseline found nothing: undefined, not infinite
    assert acceleration(0, 0, 1, 20) is None
