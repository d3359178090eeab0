"""Weights: Kish's efficiency and design effect, raking to population targets, and how the metrics use them.

References: Kish (1965) n_eff = (Σw)²/Σw²; deff_w = n·Σw²/(Σw)² = 1 + CV² (Kish 1992); raking =
iterative proportional fitting of the margins (Deming & Stephan 1940) — checked against a plain
numpy implementation of that algorithm written out below, independent of weightipy.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from cxaudit.errors import MetricError
from cxaudit.metrics import nps
from cxaudit.weighting import rake, survey_weights, weighted_responses, weighting_report


def _ipf_reference(df: pd.DataFrame, targets: dict[str, dict[str, float]], sweeps: int = 500) -> np.ndarray:
    """Deming–Stephan raking: scale each margin in turn to its target, repeat (mean weight 1)."""
    w = np.ones(len(df))
    for _ in range(sweeps):
        for col, shares in targets.items():
            for cat, share in shares.items():
                m = (df[col] == cat).to_numpy()
                w[m] *= share * w.sum() / w[m].sum()
    return w / w.mean()


SAMPLE = pd.DataFrame({
    "seg": ["A"] * 50 + ["B"] * 30 + ["C"] * 20,
    "region": (["N"] * 35 + ["S"] * 15) + (["N"] * 10 + ["S"] * 20) + (["N"] * 5 + ["S"] * 15),
})
TARGETS = {"seg": {"A": 0.4, "B": 0.35, "C": 0.25}, "region": {"N": 0.5, "S": 0.5}}


def test_weighting_report_by_hand():
    # w = 2, 1, 1: n_eff = 16/6 = 2.667, efficiency = 2.667/3 = .889, deff = 3·6/16 = 1.125
    # CV² = var/mean² with the population variance: mean 4/3, var = (4/9 + 1/9 + 1/9)/3 = 2/9 -> CV² = .125
    r = weighting_report(np.array([2.0, 1.0, 1.0]))
    assert (r.n, r.n_eff, r.efficiency, r.deff) == pytest.approx((3, 16 / 6, 16 / 18, 1.125))
    assert r.deff == pytest.approx(1 + r.cv**2)
    assert (r.min_weight, r.max_weight, r.method) == (1.0, 2.0, "supplied")
    equal = weighting_report(np.full(10, 0.7))
    assert (equal.efficiency, equal.deff) == pytest.approx((1.0, 1.0))


def test_weighting_report_bad_weights():
    with pytest.raises(MetricError, match="weights sum to zero"):
        weighting_report(np.zeros(3))
    with pytest.raises(MetricError, match=">= 0"):
        weighting_report(np.array([1.0, -1.0]))
    with pytest.raises(MetricError, match=r"n = 0"):
        weighting_report(np.array([np.nan]))


def test_rake_one_variable_is_post_stratification():
    # one margin: w = target share / sample share, exactly.  A: .4/.5 = .8, B: .35/.3, C: .25/.2
    w, rep = rake(SAMPLE, {"seg": TARGETS["seg"]})
    expected = SAMPLE["seg"].map({"A": 0.8, "B": 0.35 / 0.3, "C": 1.25})
    np.testing.assert_allclose(w.to_numpy(), expected.to_numpy(), rtol=1e-9)
    assert rep.method == "raking" and rep.converged and rep.max_margin_error < 1e-9


def test_rake_two_variables_matches_reference_ipf():
    w, rep = rake(SAMPLE, TARGETS)
    np.testing.assert_allclose(w.to_numpy(), _ipf_reference(SAMPLE, TARGETS), rtol=1e-6)
    m = rep.margins.set_index(["variable", "category"])
    assert m.loc[("seg", "A"), "sample_share"] == 0.5
    np.testing.assert_allclose(m["weighted_share"], m["target_share"], atol=1e-9)
    assert w.mean() == pytest.approx(1.0)
    assert rep.efficiency == pytest.approx(w.sum() ** 2 / (w**2).sum() / len(w))
    assert rep.iterations is not None and rep.iterations >= 2
    assert w.index.equals(SAMPLE.index)


def test_rake_trim_caps_weights():
    # untrimmed the largest weight is 1.44; capped at 1.2 × the mean (weightipy adds 1e-4) no weight
    # exceeds the cap, and the margins can no longer all be met: the report says by how much
    w0, _ = rake(SAMPLE, TARGETS)
    assert w0.max() > 1.4
    w, rep = rake(SAMPLE, TARGETS, trim=1.2)
    assert w.max() <= 1.2 * w.mean() + 2e-4 and rep.trim == 1.2
    m = rep.margins
    assert rep.max_margin_error == pytest.approx((m["weighted_share"] - m["target_share"]).abs().max())
    assert 1e-3 < rep.max_margin_error < 0.05 and rep.converged is False
    with pytest.raises(MetricError, match="trim must be > 1"):
        rake(SAMPLE, TARGETS, trim=1.0)


@pytest.mark.parametrize(("targets", "frame", "msg"), [
    ({"tier": {"x": 1.0}}, SAMPLE, "target column 'tier' not found"),
    ({"seg": {"A": 0.5, "B": 0.3, "C": 0.1}}, SAMPLE, "sum to 0.9; expected 1"),
    ({"seg": {"A": 0.5, "B": 0.5}}, SAMPLE, r"categories without a target: \['C'\]"),
    ({"seg": {"A": 0.4, "B": 0.3, "C": 0.2, "D": 0.1}}, SAMPLE, "no responses in seg='D'"),
    ({"seg": {"A": 0.4, "B": 0.35, "C": 0.25}}, SAMPLE.assign(seg=SAMPLE["seg"].where(SAMPLE.index > 2)),
     "column 'seg' has 3 missing values"),
    ({"seg": {"A": -0.1, "B": 0.85, "C": 0.25}}, SAMPLE, "must be a number >= 0"),
    ({}, SAMPLE, "no targets given"),
])
def test_rake_bad_targets_name_the_problem(targets, frame, msg):
    with pytest.raises(MetricError, match=msg):
        rake(frame, targets)


def test_rake_matches_categories_as_text():
    df = pd.DataFrame({"size": [1, 1, 1, 2]})
    w, rep = rake(df, {"size": {"1": 0.5, 2: 0.5}})
    assert w.tolist() == pytest.approx([2 / 3, 2 / 3, 2 / 3, 2.0])


# --- survey_weights: what the metrics use --------------------------------------------------------


def _audit(responses: pd.DataFrame, targets: dict | None = None, trim: float | None = None) -> SimpleNamespace:
    weighting = SimpleNamespace(targets=targets or {}, trim=trim)  # the proposed audit.yaml `weighting:` block
    return SimpleNamespace(responses=responses, config=SimpleNamespace(weighting=weighting))


def test_survey_weights_unweighted_without_column_or_targets():
    assert survey_weights(_audit(SAMPLE)) == (None, None)
    legacy = SimpleNamespace(responses=SAMPLE, config=SimpleNamespace())  # config without a weighting block
    assert survey_weights(legacy) == (None, None)


def test_survey_weights_uses_a_supplied_column():
    df = SAMPLE.assign(weight=np.r_[np.full(50, 2.0), np.ones(50)])
    w, rep = survey_weights(_audit(df))
    assert w is df["weight"] or w.equals(df["weight"])
    assert rep.method == "supplied" and rep.n_eff == pytest.approx(150**2 / 250)


def test_survey_weights_rakes_to_config_targets_and_refuses_both():
    w, rep = survey_weights(_audit(SAMPLE, TARGETS))
    assert rep.method == "raking"
    np.testing.assert_allclose(w.to_numpy(), _ipf_reference(SAMPLE, TARGETS), rtol=1e-6)
    # explicit targets override the config
    w2, _ = survey_weights(_audit(SAMPLE), targets={"seg": TARGETS["seg"]})
    assert w2.groupby(SAMPLE["seg"]).sum().div(w2.sum()).to_dict() == pytest.approx(TARGETS["seg"])
    with pytest.raises(MetricError, match="use one or the other"):
        survey_weights(_audit(SAMPLE.assign(weight=1.0), TARGETS))


def test_weighted_metrics_follow_the_raked_weights():
    # NPS after raking = Σ_g target_g · NPS_g when raking on one variable (post-stratification)
    rng = np.random.default_rng(2)
    df = SAMPLE.assign(nps=rng.integers(0, 11, len(SAMPLE)).astype(float))
    frame, rep = weighted_responses(_audit(df, {"seg": TARGETS["seg"]}))
    got = nps(frame["nps"], frame["weight"])
    by_group = {g: nps(df.loc[df["seg"] == g, "nps"]).value for g in ("A", "B", "C")}
    assert got.value == pytest.approx(sum(TARGETS["seg"][g] * by_group[g] for g in by_group))
    assert got.n == pytest.approx(rep.n_eff)  # the base is Kish's n_eff
    assert weighted_responses(_audit(df))[1] is None
    empty, rep = weighted_responses(_audit(df.assign(weight=np.nan)))  # an empty weight column: unweighted
    assert rep is None and "weight" not in empty.columns
