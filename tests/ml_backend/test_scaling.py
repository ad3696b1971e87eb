import json

import numpy as np
import pytest

from ml_backend.scaling import ScalingResult, fit_power_law, run_scaling_experiment, scaling_figure
from tests.ml_backend.test_train import toy_samples


def test_power_law_fit_recovers_exponent():
    sizes = np.array([100, 200, 400, 800, 1600])
    fit = fit_power_law(sizes, 3.0 * sizes**-0.35)
    assert fit.exponent == pytest.approx(-0.35) and fit.prefactor == pytest.approx(3.0)
    assert fit.r_squared == pytest.approx(1.0)


def test_scaling_experiment_and_figure(tiny_compositional):
    samples = toy_samples(16)
    result = run_scaling_experiment(
        tiny_compositional.with_train(num_epochs=2), samples[:12], samples[12:], fractions=(0.5, 1.0)
    )
    assert result.sizes == [6, 12] and len(result.test_mae) == 2
    assert isinstance(result, ScalingResult)
    json.dumps(result.to_dict())
    figure = scaling_figure(result)
    assert len(figure.data) == 2 and "MAE" in figure.to_json()
