"""Kaplan–Meier curves are drawn with at most KM_MAX_STEPS steps (issue 19: 1.3 MB figure at the XL size)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxaudit.churn_view import thin_steps
from cxaudit.plots import MAX_STEPS as KM_MAX_STEPS


def _value_at(curve: pd.DataFrame, x: np.ndarray) -> np.ndarray:
    """The step function (right-continuous, 1.0 before the first step) at ``x``."""
    i = np.searchsorted(curve["time"].to_numpy(float), x, side="right") - 1
    return np.where(i >= 0, curve["surv"].to_numpy(float)[np.maximum(i, 0)], 1.0)


def test_a_long_curve_keeps_its_value_at_every_slice_end_and_its_last_point() -> None:
    rng = np.random.default_rng(5)
    t = np.sort(rng.uniform(0, 730, 20_000))
    curve = pd.DataFrame({"time": t, "surv": np.cumprod(1 - rng.uniform(0, 1e-4, len(t)))})
    thin = thin_steps(curve)
    assert len(thin) <= KM_MAX_STEPS
    assert thin.iloc[-1].equals(curve.iloc[-1])
    ends = np.linspace(t[0], t[-1], KM_MAX_STEPS + 1)[1:]
    np.testing.assert_array_equal(_value_at(thin, ends), _value_at(curve, ends))
    # between slice ends the drawn curve is off by at most the drop within one slice
    x = rng.uniform(t[0], t[-1], 5_000)
    assert np.max(np.abs(_value_at(thin, x) - _value_at(curve, x))) < 0.01


def test_a_short_curve_is_drawn_whole() -> None:
    curve = pd.DataFrame({"time": [1.0, 2.0, 5.0], "surv": [0.9, 0.8, 0.5]})
    assert thin_steps(curve) is curve


def test_an_ecdf_on_a_log_axis_keeps_its_value_at_every_slice_end_with_ties() -> None:
    """The ticket-time ECDF (2M tickets at XL): drawn points are ECDF values at the last of tied times."""
    from cxaudit.plots import step_points

    rng = np.random.default_rng(9)
    x = np.sort(np.round(rng.lognormal(0, 2, 50_000), 2) + 0.01)  # many ties
    at = step_points(x, log=True)
    assert len(at) <= KM_MAX_STEPS
    full = pd.DataFrame({"time": x, "surv": np.arange(1, len(x) + 1) / len(x)})
    thin = pd.DataFrame({"time": x[at], "surv": (at + 1) / len(x)})
    assert (np.diff(x[at]) > 0).all()  # each drawn point is the last of its ties
    ends = 10 ** np.linspace(np.log10(x[0]), np.log10(x[-1]), KM_MAX_STEPS + 1)[1:]
    np.testing.assert_allclose(_value_at(thin, ends), _value_at(full, ends))
