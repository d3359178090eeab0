"""CSI, churn / retention / LTV, and more of the metric cube (weeks, categoricals, cubes, bad input).

Extends tests/test_metrics.py (NPS / CSAT / CES scalars and the basic cube) without repeating it.
Expected numbers are worked out by hand in the comments, or come from another library (pandas
groupby, numpy, statsmodels).

References: TLF / UKCSI weighting w_i = I_i / ΣI_j, CSI = 10·Σ w_i S_i on 1–10 (METHODS.md);
delta method for a linear combination of means, Var = c²·wᵀCw; Wilson (1927); Gupta, Lehmann &
Stuart (2004) CLV = m(1 + i)/(1 + i − r).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from cxaudit.errors import MetricError
from cxaudit.metrics import (
    ces,
    churn_table,
    csi,
    csi_items,
    customer_value_table,
    derived_importance,
    metric_cube,
    metric_table,
    nps,
)

Z = 1.959963984540054  # R: qnorm(0.975)

# --- CSI -----------------------------------------------------------------------------------------

# item a: 8, 10, 9   -> mean 9      item b: 6, 7, (missing) -> mean 6.5
# importance a: 3, b: 1  -> w = (.75, .25)
RATINGS = pd.DataFrame({"a": [8.0, 10.0, 9.0], "b": [6.0, 7.0, np.nan]})
IMPORTANCE = {"a": 3.0, "b": 1.0}


def test_csi_tlf_value_on_1_to_10():
    # CSI = 10 · (.75 · 9 + .25 · 6.5) = 10 · 8.375 = 83.75
    r = csi(RATINGS, IMPORTANCE)
    assert r.metric == "csi"
    assert r.value == pytest.approx(83.75)
    assert r.n == 3 and r.n_missing == 0
    assert "10·Σw·S on 1–10" in r.method


def test_csi_delta_interval_hand():
    # C_aa = s_a²/n_a = 1/3 (s_a² = (1 + 1 + 0)/2 = 1);  C_bb = s_b²/n_b = .5/2 = .25
    # C_ab: respondents 1–2 rated both: a = 8, 10 (mean 9), b = 6, 7 (mean 6.5);
    #   cov = ((−1)(−.5) + (1)(.5)) / (2 − 1) = 1;  C_ab = m·cov/(n_a n_b) = 2·1/(3·2) = 1/3
    # Var(CSI) = 10² · (.75²/3 + .25²·.25 + 2·.75·.25/3) = 100 · .328125 = 32.8125
    se = math.sqrt(32.8125)  # 5.728263
    r = csi(RATINGS, IMPORTANCE, ci="delta")
    assert r.details["se"] == pytest.approx(se, rel=1e-12)
    assert (r.ci_low, r.ci_high) == pytest.approx((83.75 - Z * se, min(100.0, 83.75 + Z * se)), rel=1e-12)
    assert "delta" in r.method


def test_csi_rescales_other_scales_to_0_100():
    # 1–5 ratings: x = 5, 4, –, 2 -> mean 11/3; y = 3, 3, 4, – -> mean 10/3
    # rescaled: x 100·(11/3 − 1)/4 = 66.667, y 100·(10/3 − 1)/4 = 58.333; equal importance -> 62.5
    df = pd.DataFrame({"x": [5, 4, np.nan, 2], "y": [3, 3, 4, np.nan]})
    r = csi(df, {"x": 1, "y": 1}, scale=(1, 5))
    assert r.value == pytest.approx(62.5)
    assert "rescaled from 1–5 to 0–100" in r.method
    items = csi_items(df, {"x": 1, "y": 1}, scale=(1, 5)).set_index("item")
    assert items.loc["x", "score"] == pytest.approx(200 / 3)
    assert items["contribution"].sum() == pytest.approx(62.5)
    assert items["n"].tolist() == [3, 3]


def _random_grid(n: int = 400, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=n)
    out = {}
    for j in range(4):
        x = np.clip(np.rint(6 + 1.5 * latent + rng.normal(scale=1.5, size=n)), 1, 10)
        x[rng.random(n) < 0.3] = np.nan
        out[f"i{j}"] = x
    return pd.DataFrame(out)


def test_csi_bootstrap_is_seeded_and_agrees_with_delta():
    grid = _random_grid()
    imp = {"i0": 4, "i1": 3, "i2": 2, "i3": 1}
    delta = csi(grid, imp)
    boot = csi(grid, imp, ci="bootstrap", n_boot=1000, seed=3)
    assert boot.value == delta.value
    assert boot == csi(grid, imp, ci="bootstrap", n_boot=1000, seed=3)  # same seed, same interval
    assert boot.ci_low < boot.value < boot.ci_high
    # two independent ways to the same standard error: within 15 %
    assert boot.details["se"] / delta.details["se"] == pytest.approx(1.0, abs=0.15)


def test_csi_stated_importance_uses_mean_importance():
    # per-respondent importance ratings: a -> 10, 8, 9 (mean 9); b -> 3, 3, 3 (mean 3): w = (.75, .25)
    stated = pd.DataFrame({"a": [10, 8, 9], "b": [3, 3, 3]})
    r = csi(RATINGS, stated, n_boot=200)
    assert r.value == pytest.approx(83.75)
    assert "stated importance" in r.method and "bootstrap" in r.method
    with pytest.raises(MetricError, match="delta interval needs fixed importance"):
        csi(RATINGS, stated, ci="delta")


def test_derived_importance_is_clipped_correlation():
    grid = _random_grid()
    y = grid.mean(axis=1) + np.random.default_rng(1).normal(size=len(grid))
    grid["neg"] = 11 - grid["i0"]  # reversed item: negative correlation
    imp = derived_importance(grid, y)
    ok = grid["i1"].notna() & y.notna()
    assert imp["i1"] == pytest.approx(np.corrcoef(grid.loc[ok, "i1"], y[ok])[0, 1])
    assert imp["neg"] == 0.0  # negative correlation -> no importance
    # csi(..., "derived") uses exactly these weights for its value
    a = csi(grid, "derived", outcome=y, n_boot=100)
    b = csi(grid, imp)
    assert a.value == pytest.approx(b.value, rel=1e-12)


def test_csi_integer_weights_equal_duplication():
    # weights (2, 1, 1) on RATINGS == respondent 1 twice: a = 8, 8, 10, 9; b = 6, 6, 7
    w = csi(RATINGS, IMPORTANCE, weights=[2, 1, 1], n_boot=100)
    dup = csi(pd.concat([RATINGS.iloc[[0]], RATINGS]), IMPORTANCE)
    assert w.value == pytest.approx(dup.value)
    assert w.weighted and "bootstrap" in w.method
    assert w.n == pytest.approx(16 / 6)  # Kish n_eff of (2, 1, 1)


def test_csi_bad_input():
    with pytest.raises(MetricError, match="no importance given for item 'b'"):
        csi(RATINGS, {"a": 1})
    with pytest.raises(MetricError, match="rating 11 outside the scale 1–10"):
        csi(pd.DataFrame({"a": [11.0]}), {"a": 1})
    with pytest.raises(MetricError, match=r"n = 0"):
        csi(pd.DataFrame({"a": [np.nan, np.nan]}), {"a": 1})
    with pytest.raises(MetricError, match="item 'b' has no ratings"):
        csi(pd.DataFrame({"a": [5.0], "b": [np.nan]}), {"a": 1, "b": 1})
    with pytest.raises(MetricError, match="importance values sum to zero"):
        csi(RATINGS, {"a": 0, "b": 0})
    with pytest.raises(MetricError, match="weights have length 2"):
        csi(RATINGS, IMPORTANCE, weights=[1, 1])
    with pytest.raises(MetricError, match="needs the outcome"):
        csi(RATINGS, "derived")


def test_csi_respondents_without_ratings_are_counted_missing():
    df = pd.concat([RATINGS, pd.DataFrame({"a": [np.nan], "b": [np.nan]})], ignore_index=True)
    r = csi(df, IMPORTANCE)
    assert (r.n, r.n_missing) == (3, 1)
    assert r.value == pytest.approx(83.75)


# --- metric_table: more cases --------------------------------------------------------------------


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    rng = np.random.default_rng(99)
    n = 600
    return pd.DataFrame({
        "nps": rng.integers(0, 11, n).astype(float),
        "csat": rng.integers(1, 6, n).astype(float),
        "ces": rng.integers(1, 8, n).astype(float),
        "tier": pd.Categorical(rng.choice(["gold", "silver", "bronze"], n), categories=["gold", "silver", "bronze"]),
        "region": rng.choice(["N", "S", "E"], n),
        "date": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 120, n), unit="D"),
        "w": rng.uniform(0.5, 2.0, n),
    })


def test_metric_table_weeks_match_pandas_periods(survey):
    t = metric_table(survey, "nps", period="W")
    labels = survey["date"].dt.to_period("W").astype(str)
    assert t["period"].tolist() == sorted(labels.unique())  # ISO weeks, Monday–Sunday, in order
    for _, row in t.iterrows():
        ref = nps(survey.loc[labels == row["period"], "nps"])
        assert (row["n"], row["value"], row["ci_low"]) == pytest.approx((ref.n, ref.value, ref.ci_low))


def test_metric_table_categorical_keys_keep_category_order(survey):
    t = metric_table(survey, "csat", by=["tier"])
    assert t["tier"].tolist() == ["gold", "silver", "bronze"]
    assert isinstance(t["tier"].dtype, pd.CategoricalDtype)
    counts = survey.groupby("tier", observed=True)["csat"].count()
    assert t["n"].tolist() == counts.tolist()


def test_metric_table_missing_keys_and_scores_are_left_out(survey):
    df = survey.copy()
    df.loc[:49, "region"] = None
    df.loc[50:79, "ces"] = np.nan
    t = metric_table(df, "ces", by=["region"])
    assert t["n"].sum() == (df["region"].notna() & df["ces"].notna()).sum() == 520


def test_metric_table_all_missing_gives_no_rows():
    t = metric_table(pd.DataFrame({"nps": [np.nan, np.nan], "seg": ["a", "b"]}), "nps", by=["seg"])
    assert len(t) == 0


def test_metric_table_degenerate_groups_match_scalars():
    # all promoters in "p" (adjusted Wald lower bound 17.4915, test_metrics), one answer in "one"
    df = pd.DataFrame({"nps": [10, 9, 10, 10, 9, 7], "seg": ["p"] * 5 + ["one"]})
    t = metric_table(df, "nps", by=["seg"], min_base=2).set_index("seg")
    assert t.loc["p", "ci_low"] == pytest.approx(17.491453034, abs=1e-8) and t.loc["p", "ci_high"] == 100.0
    one = nps([7])
    assert (t.loc["one", "value"], t.loc["one", "ci_low"], t.loc["one", "ci_high"]) == pytest.approx(
        (one.value, one.ci_low, one.ci_high))
    assert t.loc["one", "small_base"] and not t.loc["p", "small_base"]


def test_metric_table_fractional_scores_use_the_general_path():
    # CES averaged over two questions can be 5.5: same numbers as the scalar function
    df = pd.DataFrame({"ces": [5.5, 6.0, 2.5, 7.0, 4.25], "seg": ["a", "a", "b", "b", "b"]})
    t = metric_table(df, "ces", by=["seg"], min_base=1).set_index("seg")
    for g in ("a", "b"):
        ref = ces(df.loc[df["seg"] == g, "ces"])
        assert (t.loc[g, "value"], t.loc[g, "ci_low"], t.loc[g, "sd"]) == pytest.approx(
            (ref.value, ref.ci_low, ref.details["sd"]), rel=1e-12)


def test_metric_table_many_combinations_sparse_path():
    # 3 keys × 100 levels = 1,000,000 combinations > the dense limit: only observed ones are coded
    rng = np.random.default_rng(5)
    n = 3000
    df = pd.DataFrame({"nps": rng.integers(0, 11, n).astype(float),
                       **{k: rng.integers(0, 100, n) for k in ("k1", "k2", "k3")}})
    t = metric_table(df, "nps", by=["k1", "k2", "k3"], min_base=1)
    ref = df.groupby(["k1", "k2", "k3"])["nps"].agg(["count", lambda s: 100 * ((s >= 9).mean() - (s <= 6).mean())])
    assert len(t) == len(ref)
    assert t["n"].tolist() == ref["count"].tolist()
    np.testing.assert_allclose(t["value"].to_numpy(), ref.iloc[:, 1].to_numpy(), atol=1e-9)
    assert t["k1"].dtype == df["k1"].dtype


@pytest.mark.parametrize(("col", "bad", "metric", "msg"), [
    ("nps", 11, "nps", "NPS column 'nps': value 11 outside the scale 0–10"),
    ("csat", 0, "csat", "CSAT column 'csat': value 0 outside the scale 1–5"),
    ("ces", 8, "ces", "CES column 'ces': value 8 outside the scale 1–7"),
])
def test_metric_table_out_of_range_names_the_column(survey, col, bad, metric, msg):
    df = survey.copy()
    df.loc[3, col] = bad
    with pytest.raises(MetricError, match=msg):
        metric_table(df, metric)


def test_metric_table_bad_columns_and_weights(survey):
    with pytest.raises(MetricError, match="column 'segment' not found"):
        metric_table(survey, "nps", by=["segment"])
    with pytest.raises(MetricError, match="column 'when' not found"):
        metric_table(survey, "nps", period="M", date_column="when")
    with pytest.raises(MetricError, match="unknown period 'Q'"):
        metric_table(survey, "nps", period="Q")  # type: ignore[arg-type]
    df = survey.assign(w=survey["w"].where(survey.index != 7, -1.0))
    with pytest.raises(MetricError, match="column 'w' has negative weights"):
        metric_table(df, "nps", weight="w")


def test_metric_cube_equals_metric_table(survey):
    cube = metric_cube(survey, by=["tier", "region"], period="M", weight="w")
    assert set(cube["dimension"]) == {"total", "tier", "region"}
    for metric in ("nps", "csat", "ces"):
        for dim in ("tier", "region"):
            ref = metric_table(survey, metric, by=[dim], period="M", weight="w")  # type: ignore[arg-type]
            got = cube[(cube["metric"] == metric) & (cube["dimension"] == dim)]
            assert got["group"].tolist() == ref[dim].astype(str).tolist()
            np.testing.assert_allclose(got[["n", "value", "ci_low", "ci_high"]].to_numpy(float),
                                       ref[["n", "value", "ci_low", "ci_high"]].to_numpy(float), rtol=1e-12)
        total = cube[(cube["metric"] == metric) & (cube["dimension"] == "total")]
        ref = metric_table(survey, metric, period="M", weight="w")  # type: ignore[arg-type]
        np.testing.assert_allclose(total["value"].to_numpy(float), ref["value"].to_numpy(float), rtol=1e-12)


# --- churn, retention, revenue, LTV --------------------------------------------------------------


CUSTOMERS = pd.DataFrame({
    "seg": ["A"] * 4 + ["B"] * 6,
    "churned": pd.array([True, False, False, False, True, True, False, False, False, None], dtype="boolean"),
    "revenue": [100.0, 200.0, 300.0, 400.0, 50.0, 50.0, 60.0, 70.0, 80.0, 90.0],
})


def test_churn_table_wilson_by_hand():
    # A: 1 of 4 churned -> .25;  B: 2 of 5 (one missing flag is left out) -> .4
    t = churn_table(CUSTOMERS, ["seg"], min_base=5).set_index("seg")
    assert t.loc["A", ["n", "churned", "churn_rate"]].tolist() == [4, 1, 0.25]
    assert t.loc["B", ["n", "churned", "churn_rate"]].tolist() == [5, 2, 0.4]
    lo, hi = proportion_confint(1, 4, method="wilson")
    assert (t.loc["A", "ci_low"], t.loc["A", "ci_high"]) == pytest.approx((lo, hi), abs=1e-12)
    assert t.loc["A", "retention_rate"] == 0.75
    assert (t.loc["A", "retention_ci_low"], t.loc["A", "retention_ci_high"]) == pytest.approx((1 - hi, 1 - lo))
    assert t.loc["A", "small_base"] and not t.loc["B", "small_base"]
    total = churn_table(CUSTOMERS)
    assert total["n"].item() == 9 and total["churn_rate"].item() == pytest.approx(3 / 9)


def test_churn_flag_must_be_binary():
    with pytest.raises(MetricError, match="column 'churned' must be true/false"):
        churn_table(pd.DataFrame({"churned": [0, 2, 1]}))


def test_customer_value_hand():
    # A: c = 1/4 over T = 2 years -> a = 1 − .75^(1/2) = .1339746
    #    revenue 100..400: mean 250, s² = 16666.67
    #    LTV (m = 1, i = 0) = 250 / .1339746 = 1866.03
    t = customer_value_table(CUSTOMERS, ["seg"], period_years=2.0, min_base=1).set_index("seg")
    a = 1 - 0.75 ** 0.5
    assert t.loc["A", "annual_churn"] == pytest.approx(a)
    assert t.loc["A", "revenue_mean"] == 250.0 and t.loc["A", "revenue_total"] == 1000.0
    assert t.loc["A", "ltv"] == pytest.approx(250 / a)
    # revenue interval: 250 ± t(.975, 3)·s/2
    half = 3.182446305284263 * math.sqrt(50000 / 3) / 2
    assert (t.loc["A", "revenue_ci_low"], t.loc["A", "revenue_ci_high"]) == pytest.approx((250 - half, 250 + half))
    # delta method on log LTV: s²/(n R̄²) + (a'(c)/a)² · c(1 − c)/n, a'(c) = ½ · .75^(−½)
    da = 0.5 * 0.75 ** -0.5
    se = math.sqrt((50000 / 3) / (4 * 250**2) + (da / a) ** 2 * 0.25 * 0.75 / 4)
    assert t.loc["A", "ltv_ci_low"] == pytest.approx(250 / a * math.exp(-Z * se))
    assert t.loc["A", "ltv_ci_high"] == pytest.approx(250 / a * math.exp(Z * se))
    # annual churn interval = the Wilson bounds of c, annualised
    lo, hi = proportion_confint(1, 4, method="wilson")
    assert t.loc["A", "annual_churn_ci_low"] == pytest.approx(1 - (1 - lo) ** 0.5)
    assert t.loc["A", "annual_churn_ci_high"] == pytest.approx(1 - (1 - hi) ** 0.5)


def test_customer_value_discount_and_margin():
    # Gupta, Lehmann & Stuart: m·R̄·(1 + i)/(i + a) with m = .3, i = .1 on group A
    a = 1 - 0.75 ** 0.5
    t = customer_value_table(CUSTOMERS, ["seg"], period_years=2.0, margin=0.3, discount_rate=0.1).set_index("seg")
    assert t.loc["A", "ltv"] == pytest.approx(0.3 * 250 * 1.1 / (0.1 + a))


def test_customer_value_without_churn_is_unbounded():
    df = pd.DataFrame({"churned": [0, 0, 0], "revenue": [1.0, 2.0, 3.0]})
    t = customer_value_table(df, period_years=1.0)
    assert np.isnan(t["ltv"].item())
    assert customer_value_table(df, period_years=1.0, discount_rate=0.1)["ltv"].item() == pytest.approx(2 * 1.1 / 0.1)


def test_customer_value_bad_parameters():
    with pytest.raises(MetricError, match="period_years must be > 0"):
        customer_value_table(CUSTOMERS, period_years=0)
    with pytest.raises(MetricError, match="margin must be in"):
        customer_value_table(CUSTOMERS, period_years=1, margin=1.5)
    with pytest.raises(MetricError, match="column 'revenue' not found"):
        customer_value_table(CUSTOMERS.drop(columns="revenue"), period_years=1)


def test_metric_table_rows_without_a_date_are_left_out_of_period_cubes(survey):
    df = survey.copy()
    df.loc[:9, "date"] = pd.NaT
    t = metric_table(df, "nps", period="M")
    assert t["n"].sum() == df["nps"].notna().sum() - df.loc[:9, "nps"].notna().sum()
    assert t["period"].tolist() == sorted(df["date"].dropna().dt.to_period("M").astype(str).unique())
