"""Churn models at scale (issue 19): all rows up to MODEL_MAX_ROWS, above it a stated stratified sample."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxaudit import churn


def _frame(n: int, seed: int = 3) -> pd.DataFrame:
    """Planted: detractors' odds of churn 3× promoters' (logit), hazard ratio 2 (exponential times)."""
    rng = np.random.default_rng(seed)
    det = rng.random(n) < 0.4
    p = np.where(det, 0.3, 0.3 / (0.3 + 3 * 0.7))  # odds 0.4286 vs 0.1429 -> OR 3
    churned = (rng.random(n) < p).astype(int)
    t = rng.exponential(np.where(det, 12.0, 24.0))
    return pd.DataFrame({"churned": churned, "nps_group": np.where(det, "detractor", "promoter"),
                         "t_exit": t, "t_entry": 0.0})


def test_all_rows_below_the_limit_and_it_says_so() -> None:
    f = _frame(3000)
    m = churn.fit_logit(f, categorical={"nps_group": "promoter"})
    assert m.fit_rows == {"method": "all", "rows_used": 3000, "rows_available": 3000, "fraction": 1.0}
    assert churn.MODEL_MAX_ROWS >= 500_000  # the XL demo's customers are all used (measured fast)


def test_stratified_sample_above_the_limit_keeps_the_churn_rate_and_the_odds_ratio() -> None:
    f = _frame(40_000)
    full = churn.fit_logit(f, categorical={"nps_group": "promoter"})
    part = churn.fit_logit(f, categorical={"nps_group": "promoter"}, max_rows=10_000, seed=5)
    fr = part.fit_rows
    assert fr["method"] == "stratified_sample" and fr["rows_available"] == 40_000
    assert abs(fr["rows_used"] - 10_000) <= 1 and part.n == fr["rows_used"]
    assert fr["fraction"] == 0.25 and fr["weight"] == 4.0
    # the churn rate of the sample is the population's, to one customer per stratum
    assert abs(part.n_events - 0.25 * full.n_events) <= 1
    # the planted odds ratio (3) is inside both intervals; the sample's interval is wider
    r_full, r_part = full.ratio("nps_group=detractor"), part.ratio("nps_group=detractor")
    assert r_full["ci_low"] < 3 < r_full["ci_high"] and r_part["ci_low"] < 3 < r_part["ci_high"]
    assert r_part["ci_high"] - r_part["ci_low"] > 1.5 * (r_full["ci_high"] - r_full["ci_low"])
    again = churn.fit_logit(f, categorical={"nps_group": "promoter"}, max_rows=10_000, seed=5)
    assert again.ratio("nps_group=detractor")["ratio"] == r_part["ratio"]  # seeded


def test_cox_sample_is_stated_and_keeps_the_hazard_ratio() -> None:
    """Planted: exponential churn times, hazard 2× for detractors, censored uniformly over 36 months."""
    rng = np.random.default_rng(8)
    det = rng.random(20_000) < 0.4
    t_event = rng.exponential(np.where(det, 12.0, 24.0))
    t_cens = rng.uniform(0, 36, 20_000)
    f = pd.DataFrame({"churned": (t_event <= t_cens).astype(int), "t_exit": np.minimum(t_event, t_cens),
                      "t_entry": 0.0, "nps_group": np.where(det, "detractor", "promoter")})
    full = churn.fit_cox(f, categorical={"nps_group": "promoter"})
    assert full.fit_rows["method"] == "all"
    part = churn.fit_cox(f, categorical={"nps_group": "promoter"}, max_rows=5_000, seed=1)
    assert part.fit_rows["method"] == "stratified_sample" and part.n == part.fit_rows["rows_used"]
    hr = part.ratio("nps_group=detractor")
    assert hr["ci_low"] < 2 < hr["ci_high"]
    assert abs(part.n_events - 0.25 * full.n_events) <= 1
