"""NPS, CSAT, CES, the metric cube and the NPS difference test.

Every expected number is independent of the code under test: either counted by hand (the counts are
written in the comment) and pushed through the reference formula quoted beside it, or taken from
another library (scipy, statsmodels). References are those of METHODS.md:

- R package ``NPS`` (brendan-r/NPS, R/nps.R)::

      npvar  <- function(x) { props <- prop.table(x); (props[3] + props[1]) - (props[3] - props[1])^2 }
      nps.se <- function(x) sqrt(nps.var(x) / sum(!is.na(npc(x))))
      nps.test(x, y): se.hat <- sqrt(var.x/n.x + var.y/n.y); p.value <- 1 - (pnorm(delta/se.hat)*2 - 1)

- Adjusted Wald, Rocks (2016), The American Statistician 70(4): P + 3/4, D + 3/4, n + 3, then Wald.
- Wilson (1927) score interval; ``statsmodels.stats.proportion.proportion_confint(method="wilson")``.
- Student t: mean ± qt(.975, n - 1) · s / √n (R: ``t.test(x)$conf.int``).
- Kish (1965): n_eff = (Σw)² / Σw².
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from cxaudit.errors import MetricError
from cxaudit.metrics import Z95, ces, ces_cuts, csat, kish_n_eff, metric_table, nps, nps_category
from cxaudit.stats import nps_difference

#: R: qnorm(0.975)
Z = 1.959963984540054

# The vector of the docstring example, counted by hand:
#   promoters (9-10): 10, 9, 10, 9, 9   -> P = 5
#   passives  (7-8) : 8, 7              -> 2
#   detractors(0-6) : 6, 0, 3           -> D = 3          n = 10
SCORES_A = [10, 9, 8, 7, 6, 0, 10, 9, 9, 3]


def _wald_ref(P: float, D: float, n: float) -> tuple[float, float, float]:
    """The R NPS package formulas, on the −100..100 scale, clamped to [−100, 100].

    p = P/n, d = D/n;  v = npvar = (p + d) − (p − d)²;  se = nps.se = √(v/n);  NPS ± qnorm(.975)·se.
    """
    p, d = P / n, D / n
    se = math.sqrt(((p + d) - (p - d) ** 2) / n)
    return 100 * (p - d), max(-100.0, 100 * (p - d - Z * se)), min(100.0, 100 * (p - d + Z * se))


# --- NPS -----------------------------------------------------------------------------------------


def test_z95_is_the_normal_quantile():
    # R: qnorm(0.975) = 1.959963984540054
    assert Z95 == pytest.approx(Z, abs=1e-15)


def test_nps_category_boundaries():
    # Reichheld (2003): 0-6 detractor, 7-8 passive, 9-10 promoter; NA stays NA.
    s = pd.Series([0, 6, 7, 8, 9, 10, np.nan])
    got = nps_category(s).tolist()
    assert got[:6] == ["detractor", "detractor", "passive", "passive", "promoter", "promoter"]
    assert pd.isna(got[6])


def test_nps_hand_counts():
    # P = 5, D = 3, n = 10 (see SCORES_A): NPS = 100 × (5 − 3)/10 = 20
    r = nps(SCORES_A)
    assert r.value == pytest.approx(20.0)
    assert r.n == 10 and isinstance(r.n, int)
    assert r.n_missing == 0 and r.weighted is False
    assert r.details["promoters"] == pytest.approx(0.5)
    assert r.details["passives"] == pytest.approx(0.2)
    assert r.details["detractors"] == pytest.approx(0.3)


def test_nps_equals_mean_of_plus_minus_one_coding():
    # R NPS: nps(x) = mean(as.numeric(npc(x)) - 2), i.e. the mean of −1 / 0 / +1 codes (× 100 here).
    x = np.random.default_rng(7).integers(0, 11, 250)
    coded = np.select([x >= 9, x <= 6], [1, -1], 0)
    assert nps(x).value == pytest.approx(100 * coded.mean(), abs=1e-12)


def test_nps_wald_interval_hand():
    # p = .5, d = .3: v = (.5 + .3) − (.5 − .3)² = .8 − .04 = .76
    # se = √(.76/10) = 0.2756809750   (R: NPS::nps.se(x))
    # 20 ± 100 × 1.959964 × 0.2756810 = 20 ± 54.0325  ->  [−34.0325, 74.0325]
    r = nps(SCORES_A, ci="wald")
    assert r.method == "wald"
    assert r.ci_low == pytest.approx(-34.032478230, abs=1e-8)
    assert r.ci_high == pytest.approx(74.032478230, abs=1e-8)
    _, lo, hi = _wald_ref(5, 3, 10)
    assert (r.ci_low, r.ci_high) == pytest.approx((lo, hi), abs=1e-10)


def test_nps_adjusted_wald_interval_hand():
    # Rocks (2016): P' = 5.75, D' = 3.75, n' = 13
    # p' = .442308, d' = .288462, centre p' − d' = .153846
    # v' = (.730769) − (.153846)² = .707101;  se' = √(.707101/13) = 0.2332217
    # 15.3846 ± 100 × 1.959964 × 0.2332217 = 15.3846 ± 45.7106 -> [−30.3260, 61.0952]
    r = nps(SCORES_A)  # the default interval
    assert r.method == "adjusted-wald"
    assert r.value == pytest.approx(20.0)  # the point estimate is NOT adjusted
    assert r.ci_low == pytest.approx(-30.325994436, abs=1e-8)
    assert r.ci_high == pytest.approx(61.095225205, abs=1e-8)
    # the interval is centred on the adjusted p' − d', not on the NPS
    assert (r.ci_low + r.ci_high) / 2 == pytest.approx(100 * (5.75 - 3.75) / 13, abs=1e-10)


def test_nps_wald_interval_is_clamped_to_scale():
    # [10, 7]: p = .5, d = 0, v = .5 − .25 = .25, se = √(.25/2) = .353553
    # 50 ± 69.2952 -> [−19.2952, 119.2952] -> upper clamped to 100
    r = nps([10, 7], ci="wald")
    assert r.ci_low == pytest.approx(-19.295191217, abs=1e-8)
    assert r.ci_high == 100.0
    # mirror image [0, 7]: [−119.2952, 19.2952] -> lower clamped to −100
    r = nps([0, 7], ci="wald")
    assert r.ci_low == -100.0
    assert r.ci_high == pytest.approx(19.295191217, abs=1e-8)


def test_nps_unknown_interval_method():
    with pytest.raises(MetricError, match="unknown NPS interval 'exact'"):
        nps(SCORES_A, ci="exact")  # type: ignore[arg-type]


# --- NPS edge cases ------------------------------------------------------------------------------


def test_nps_empty_raises_clear_error():
    with pytest.raises(MetricError, match=r"NPS: no valid answers \(n = 0, 0 missing\)"):
        nps([])


def test_nps_all_missing_raises_and_counts_missing():
    with pytest.raises(MetricError, match=r"n = 0, 3 missing"):
        nps([np.nan, None, np.nan])


def test_nps_single_answer():
    # n = 1, one promoter.  Wald: v = 1 − 1² = 0 -> degenerate [100, 100].
    r = nps([9], ci="wald")
    assert (r.value, r.n, r.ci_low, r.ci_high) == (100.0, 1, 100.0, 100.0)
    # Adjusted Wald: P' = 1.75, D' = .75, n' = 4; p' − d' = .25; v' = .625 − .0625 = .5625;
    # se' = √(.5625/4) = .375; 25 ± 100 × 1.959964 × .375 = 25 ± 73.4986 -> [−48.4986, 98.4986]
    r = nps([9])
    assert r.ci_low == pytest.approx(-48.498649420, abs=1e-8)
    assert r.ci_high == pytest.approx(98.498649420, abs=1e-8)


def test_nps_all_promoters():
    # n = 5 promoters: NPS 100.  Wald: v = 1 − 1 = 0 -> [100, 100] (a degenerate interval).
    r = nps([10, 9, 10, 10, 9], ci="wald")
    assert (r.value, r.ci_low, r.ci_high) == (100.0, 100.0, 100.0)
    # Adjusted Wald: P' = 5.75, D' = .75, n' = 8; p' − d' = .625; v' = .8125 − .390625 = .421875
    # se' = √(.421875/8) = .2296397; 62.5 ± 45.0085 -> [17.4915, 107.5085] -> upper clamped to 100
    r = nps([10, 9, 10, 10, 9])
    assert r.value == 100.0
    assert r.ci_low == pytest.approx(17.491453034, abs=1e-8)
    assert r.ci_low < 100.0
    assert r.ci_high == 100.0


def test_nps_all_detractors_mirror():
    # By symmetry of the formulas in P <-> D: all detractors gives the mirrored interval.
    r = nps([0, 3, 6, 1, 2])
    assert r.value == -100.0
    assert r.ci_low == -100.0
    assert r.ci_high == pytest.approx(-17.491453034, abs=1e-8)


def test_nps_missing_are_excluded_and_counted():
    # SCORES_A plus 3 missing answers: same P = 5, D = 3, n = 10; n_missing = 3
    r = nps([*SCORES_A, np.nan, None, float("nan")])
    ref = nps(SCORES_A)
    assert r.n == 10 and r.n_missing == 3
    assert (r.value, r.ci_low, r.ci_high) == pytest.approx((ref.value, ref.ci_low, ref.ci_high))


@pytest.mark.parametrize("bad", [11, -1, 10.5])
def test_nps_out_of_range_names_value(bad):
    with pytest.raises(MetricError, match=rf"NPS: value {bad:g} outside the scale 0–10"):
        nps([9, 8, bad, 3])


def test_nps_non_integer_score_rejected():
    with pytest.raises(MetricError, match="8.5"):
        nps([9, 8.5, 3])


# --- NPS with weights ----------------------------------------------------------------------------


def test_kish_n_eff_hand():
    # (Σw)²/Σw²: w = [2, 1, 1] -> 16 / 6 = 2.6667;  equal weights -> n
    assert kish_n_eff(np.array([2.0, 1.0, 1.0])) == pytest.approx(16 / 6)
    assert kish_n_eff(np.full(7, 0.3)) == pytest.approx(7.0)
    assert kish_n_eff(np.zeros(3)) == 0.0


def test_nps_weighted_shares_and_kish_n():
    # scores [10, 0, 8], w = [2, 1, 1], Σw = 4:
    #   p = 2/4 = .5 (the 10), d = 1/4 = .25 (the 0)  -> NPS = 25
    #   n_eff = 4² / (4 + 1 + 1) = 2.6667
    # Wald on n_eff: v = .75 − .0625 = .6875, se = √(.6875/2.6667) = .5077524
    #   25 ± 99.518 -> [−74.5176, 124.5176] -> upper clamped to 100
    r = nps([10, 0, 8], weights=[2, 1, 1], ci="wald")
    assert r.weighted is True
    assert r.value == pytest.approx(25.0)
    assert r.n == pytest.approx(16 / 6)
    assert r.details["promoters"] == pytest.approx(0.5)
    assert r.details["detractors"] == pytest.approx(0.25)
    assert r.ci_low == pytest.approx(-74.517641763, abs=1e-8)
    assert r.ci_high == 100.0
    # Adjusted Wald on effective counts: P = .5·n_eff, D = .25·n_eff
    ne = 16 / 6
    _, lo, hi = _wald_ref(0.5 * ne + 0.75, 0.25 * ne + 0.75, ne + 3)
    r = nps([10, 0, 8], weights=[2, 1, 1])
    assert (r.ci_low, r.ci_high) == pytest.approx((lo, hi), abs=1e-10)


def test_nps_integer_weights_equal_duplication():
    # w = [3, 1, 2, 1] on [10, 0, 8, 9] is the same sample as [10, 10, 10, 0, 8, 8, 9]:
    #   P = 4, D = 1, n = 7 -> NPS = 100 × 3/7 = 42.857
    weighted = nps([10, 0, 8, 9], weights=[3, 1, 2, 1])
    dup = nps([10, 10, 10, 0, 8, 8, 9])
    assert weighted.value == pytest.approx(dup.value) == pytest.approx(300 / 7)
    for k in ("promoters", "passives", "detractors"):
        assert weighted.details[k] == pytest.approx(dup.details[k])
    # The base differs: Kish n_eff = 49 / 15, not 7 (weights are not frequency weights).
    assert weighted.n == pytest.approx(49 / 15)


def test_nps_unit_weights_equal_unweighted():
    w = nps(SCORES_A, weights=np.ones(10))
    u = nps(SCORES_A)
    assert (w.value, w.n, w.ci_low, w.ci_high) == pytest.approx((u.value, u.n, u.ci_low, u.ci_high))


def test_nps_weights_summing_to_zero():
    with pytest.raises(MetricError, match="NPS: weights of the valid answers sum to zero"):
        nps([10, 9, 0], weights=[0, 0, 0])


def test_nps_negative_weight():
    with pytest.raises(MetricError, match="weights must be >= 0"):
        nps([10, 9, 0], weights=[1, -1, 1])


def test_nps_weight_length_mismatch():
    with pytest.raises(MetricError, match="weights have length 2, scores 3"):
        nps([10, 9, 0], weights=[1, 1])


def test_nps_missing_weight_drops_the_answer():
    # the NaN weight removes the "0": left [10, 9] with w [1, 1] -> NPS 100, 1 missing
    r = nps([10, 9, 0], weights=[1, 1, np.nan])
    assert r.value == pytest.approx(100.0)
    assert r.n == pytest.approx(2.0) and r.n_missing == 1


def test_nps_all_missing_with_weights_reports_n0():
    with pytest.raises(MetricError, match=r"n = 0"):
        nps([np.nan, np.nan], weights=[1.0, 1.0])


# --- CSAT ----------------------------------------------------------------------------------------


def _wilson_ref(k: float, n: float) -> tuple[float, float]:
    """Wilson (1927): (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n)."""
    p = k / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2)) / (1 + Z**2 / n)
    return centre - half, centre + half


def test_csat_top2_on_1_to_5():
    # [5, 4, 4, 3, 2, 5, 1, 4]: 4–5 are 5, 4, 4, 5, 4 -> k = 5 of n = 8 -> .625
    # mean = (5+4+4+3+2+5+1+4)/8 = 28/8 = 3.5
    x = [5, 4, 4, 3, 2, 5, 1, 4]
    r = csat(x)
    assert r.value == pytest.approx(0.625)
    assert r.n == 8
    assert r.details["mean"] == pytest.approx(3.5)
    # Wilson, k = 5, n = 8: centre = (.625 + 1.92073/8)/(1 + 3.84146/8) = .584442
    #   half = 1.959964·√(.234375/8 + 3.84146/256)/1.480183 = .278857 -> [.305742, .863156]
    assert (r.ci_low, r.ci_high) == pytest.approx((0.305742394603, 0.863155714176), abs=1e-10)
    assert (r.ci_low, r.ci_high) == pytest.approx(_wilson_ref(5, 8), abs=1e-12)
    # statsmodels: proportion_confint(5, 8, alpha=0.05, method="wilson")
    assert (r.ci_low, r.ci_high) == pytest.approx(proportion_confint(5, 8, method="wilson"), abs=1e-12)


def test_csat_top2_on_1_to_7():
    # [7, 6, 5, 1, 6, 7, 3, 2, 6]: 6–7 are 7, 6, 6, 7, 6 -> k = 5 of n = 9; mean = 43/9
    x = [7, 6, 5, 1, 6, 7, 3, 2, 6]
    r = csat(x, scale=7)
    assert r.value == pytest.approx(5 / 9)
    assert r.n == 9
    assert r.details["mean"] == pytest.approx(43 / 9)
    assert r.details["scale_max"] == 7.0
    assert (r.ci_low, r.ci_high) == pytest.approx(_wilson_ref(5, 9), abs=1e-12)
    assert (r.ci_low, r.ci_high) == pytest.approx(proportion_confint(5, 9, method="wilson"), abs=1e-12)


def test_csat_top1_box():
    # top-1 on 1–5: only the 5s -> [5, 4, 4, 3, 2, 5, 1, 4] has k = 2 of 8
    r = csat([5, 4, 4, 3, 2, 5, 1, 4], top_box=1)
    assert r.value == pytest.approx(0.25)
    assert (r.ci_low, r.ci_high) == pytest.approx(proportion_confint(2, 8, method="wilson"), abs=1e-12)


def test_csat_all_satisfied_interval_below_one():
    # k = n = 4: Wilson upper = 1, lower = n/(n + z²) = 4/7.84146 = .510109
    r = csat([5, 5, 4, 4])
    assert r.value == 1.0
    assert r.ci_high == pytest.approx(1.0)
    assert r.ci_low == pytest.approx(4 / (4 + Z**2), abs=1e-12)


def test_csat_missing_and_out_of_range():
    r = csat([5, np.nan, 4, 1])
    assert r.n == 3 and r.n_missing == 1
    assert r.value == pytest.approx(2 / 3)
    with pytest.raises(MetricError, match="CSAT: value 0 outside the scale 1–5"):
        csat([5, 0, 4])
    with pytest.raises(MetricError, match="CSAT: value 6 outside the scale 1–5"):
        csat([5, 6, 4])


def test_csat_weighted():
    # [5, 2, 4], w = [1, 3, 2]: satisfied weight 1 + 2 = 3 of 6 -> .5
    # n_eff = 36 / (1 + 9 + 4) = 2.571429; Wilson on k = .5·n_eff, n = n_eff
    # weighted mean = (5 + 6 + 8)/6 = 19/6
    r = csat([5, 2, 4], weights=[1, 3, 2])
    assert r.weighted is True
    assert r.value == pytest.approx(0.5)
    assert r.n == pytest.approx(36 / 14)
    assert r.details["mean"] == pytest.approx(19 / 6)
    assert (r.ci_low, r.ci_high) == pytest.approx(_wilson_ref(0.5 * 36 / 14, 36 / 14), abs=1e-12)


# --- CES -----------------------------------------------------------------------------------------


def test_ces_mean_t_interval_and_shares():
    # [7, 6, 5, 5, 3, 2]: mean = 28/6 = 4.6667
    # deviations² = 5.4444 + 1.7778 + .1111 + .1111 + 2.7778 + 7.1111 = 17.3333; s² = 17.3333/5 = 3.4667
    # s = 1.861899; t(.975, 5) = 2.570582; half = 2.570582 × 1.861899/√6 = 1.953943
    # -> [2.712724, 6.620609]            (R: t.test(c(7,6,5,5,3,2))$conf.int)
    # easy 5–7: 7, 6, 5, 5 -> 4/6; difficult 1–3: 3, 2 -> 2/6
    x = [7, 6, 5, 5, 3, 2]
    r = ces(x)
    assert r.value == pytest.approx(28 / 6)
    assert r.n == 6
    s = math.sqrt(sum((v - 28 / 6) ** 2 for v in x) / 5)
    half = stats.t.ppf(0.975, 5) * s / math.sqrt(6)
    assert (r.ci_low, r.ci_high) == pytest.approx((28 / 6 - half, 28 / 6 + half), abs=1e-12)
    assert (r.ci_low, r.ci_high) == pytest.approx((2.712724, 6.620609), abs=1e-6)
    lo, hi = stats.t.interval(0.95, 5, loc=np.mean(x), scale=stats.sem(x))
    assert (r.ci_low, r.ci_high) == pytest.approx((lo, hi), abs=1e-12)
    assert r.details["easy"] == pytest.approx(4 / 6)
    assert r.details["difficult"] == pytest.approx(2 / 6)
    assert r.details["sd"] == pytest.approx(s)


def test_ces_single_answer_has_no_interval():
    r = ces([5])
    assert r.value == 5.0 and r.n == 1
    assert r.ci_low is None and r.ci_high is None


def test_ces_unit_weights_equal_unweighted():
    # weights all 1: n_eff = n, weighted sd·√(n/(n−1)) = sample sd -> same t interval
    x = [7, 6, 5, 5, 3, 2]
    w, u = ces(x, weights=[1.0] * 6), ces(x)
    assert (w.value, w.n, w.ci_low, w.ci_high) == pytest.approx((u.value, u.n, u.ci_low, u.ci_high))


def test_ces_shares_on_a_five_point_scale_do_not_overlap():
    # 1–5 effort scale, midpoint 3: easy = 4–5, difficult = 1–2, the 3 is neither.
    # [1, 2, 3, 4, 5]: easy {4, 5} = 2/5, difficult {1, 2} = 2/5 (the old cut "≤ 3" gave 3/5 and
    # "≥ scale − 2" gave 3/5, counting the 3 as both easy and difficult).
    r = ces([1, 2, 3, 4, 5], scale=5)
    assert (r.details["easy"], r.details["difficult"]) == pytest.approx((2 / 5, 2 / 5))
    # metric_table uses the same cut: easy share of the single group = 2/5
    tab = metric_table(pd.DataFrame({"ces": [1, 2, 3, 4, 5]}), "ces", scale=5)
    assert tab["easy"].iloc[0] == pytest.approx(2 / 5)
    assert ces_cuts(1, 7) == (5, 3) and ces_cuts(1, 5) == (4, 2) and ces_cuts(1, 10) == (6, 5)


def test_ces_out_of_range():
    with pytest.raises(MetricError, match="CES: value 8 outside the scale 1–7"):
        ces([7, 8])


# --- metric_table --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    rng = np.random.default_rng(2026)
    n = 240
    df = pd.DataFrame(
        {
            "nps": rng.integers(0, 11, n).astype(float),
            "csat": rng.integers(1, 6, n).astype(float),
            "ces": rng.integers(1, 8, n).astype(float),
            "region": rng.choice(["North", "South"], n),
            "channel": rng.choice(["web", "app", "shop"], n),
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 90, n), unit="D"),
            "w": rng.uniform(0.3, 3.0, n),
        }
    )
    df.loc[rng.choice(n, 12, replace=False), "nps"] = np.nan  # missing answers are excluded
    return df


SCALAR = {"nps": nps, "csat": csat, "ces": ces}


def _group_rows(df: pd.DataFrame, row: pd.Series, by: list[str], period: str | None) -> pd.DataFrame:
    mask = pd.Series(True, index=df.index)
    for k in by:
        mask &= df[k] == row[k]
    if period:
        mask &= df["date"].dt.to_period(period).astype(str) == row["period"]
    return df[mask]


def _assert_rows_match(table: pd.DataFrame, df: pd.DataFrame, metric: str, by, period, weight=None):
    assert len(table) > 0
    for _, row in table.iterrows():
        part = _group_rows(df, row, list(by), period)
        ref = SCALAR[metric](part[metric], weights=part[weight] if weight else None)
        assert row["n"] == pytest.approx(ref.n, rel=1e-12)
        assert row["value"] == pytest.approx(ref.value, rel=1e-12, abs=1e-12)
        if ref.ci_low is None:
            assert np.isnan(row["ci_low"]) and np.isnan(row["ci_high"])
        else:
            assert row["ci_low"] == pytest.approx(ref.ci_low, rel=1e-10, abs=1e-10)
            assert row["ci_high"] == pytest.approx(ref.ci_high, rel=1e-10, abs=1e-10)


@pytest.mark.parametrize("metric", ["nps", "csat", "ces"])
@pytest.mark.parametrize(
    ("by", "period"),
    [((), None), (("region",), None), (("region", "channel"), None), (("region",), "M"), ((), "M")],
    ids=["total", "by1", "by2", "by1-month", "month"],
)
def test_metric_table_rows_equal_scalar(survey, metric, by, period):
    t = metric_table(survey, metric, by=by, period=period)
    _assert_rows_match(t, survey, metric, by, period)
    assert (t["metric"] == metric).all()
    # every valid answer is in exactly one cell
    assert t["n"].sum() == survey[metric].notna().sum()


@pytest.mark.parametrize("metric", ["nps", "csat", "ces"])
def test_metric_table_weighted_equals_scalar_weighted(survey, metric):
    t = metric_table(survey, metric, by=["region", "channel"], weight="w")
    _assert_rows_match(t, survey, metric, ("region", "channel"), None, weight="w")


def test_metric_table_groups_are_the_observed_combinations(survey):
    t = metric_table(survey, "nps", by=["region"], period="M")
    expected = {(r, p) for r in ("North", "South") for p in ("2024-01", "2024-02", "2024-03")}
    assert set(zip(t["region"], t["period"], strict=True)) == expected


def test_metric_table_small_base_flag_at_min_base():
    # group A has n = 30 (not small at min_base = 30), group B n = 29 (small); nothing is dropped
    df = pd.DataFrame({"nps": [10.0] * 30 + [0.0] * 29, "seg": ["A"] * 30 + ["B"] * 29})
    t = metric_table(df, "nps", by=["seg"], min_base=30).set_index("seg")
    assert t.loc["A", "n"] == 30 and not t.loc["A", "small_base"]
    assert t.loc["B", "n"] == 29 and t.loc["B", "small_base"]
    t = metric_table(df, "nps", by=["seg"], min_base=31).set_index("seg")
    assert t["small_base"].all()


def test_metric_table_csat_1_to_7_and_wald(survey):
    df = survey.assign(csat7=np.random.default_rng(3).integers(1, 8, len(survey)).astype(float))
    t = metric_table(df, "csat", by=["channel"], column="csat7", scale=7)
    for _, row in t.iterrows():
        ref = csat(df.loc[df["channel"] == row["channel"], "csat7"], scale=7)
        assert (row["value"], row["ci_low"], row["ci_high"]) == pytest.approx((ref.value, ref.ci_low, ref.ci_high))
    t = metric_table(survey, "nps", by=["channel"], nps_ci="wald")
    for _, row in t.iterrows():
        ref = nps(survey.loc[survey["channel"] == row["channel"], "nps"], ci="wald")
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((ref.ci_low, ref.ci_high))


def test_metric_table_single_answer_ces_group():
    # a CES group with n = 1 has no t interval (scalar: None; cube: NaN), and is flagged small
    df = pd.DataFrame({"ces": [7.0, 6.0, 2.0], "seg": ["A", "A", "B"]})
    t = metric_table(df, "ces", by=["seg"], min_base=2).set_index("seg")
    assert t.loc["B", "value"] == 2.0 and t.loc["B", "n"] == 1
    assert np.isnan(t.loc["B", "ci_low"]) and np.isnan(t.loc["B", "ci_high"])
    assert t.loc["B", "small_base"] and not t.loc["A", "small_base"]
    # A: mean 6.5, s = √0.5, t(.975, 1) = 12.706205 -> 6.5 ± 12.706205·√0.5/√2 = 6.5 ± 6.353102
    assert (t.loc["A", "ci_low"], t.loc["A", "ci_high"]) == pytest.approx((0.146898, 12.853102), abs=1e-6)


def test_metric_table_unknown_metric(survey):
    with pytest.raises(MetricError, match="unknown metric 'csi'"):
        metric_table(survey, "csi", column="nps")  # type: ignore[arg-type]


# --- NPS difference ------------------------------------------------------------------------------


def test_nps_difference_hand():
    # a: 6 promoters, 4 detractors, n = 10 -> NPS 20,  v = (.6 + .4) − (.2)² = .96
    # b: 3 promoters, 7 detractors, n = 10 -> NPS −40, v = 1 − (−.4)² = .84
    # se = √(.96/10 + .84/10) = √.18 = .4242641; z = .6/.4242641 = 1.4142136
    # p = 2·(1 − Φ(1.4142136)) = 0.1572992   (R: NPS::nps.test(a, b)$p.value)
    t = nps_difference(nps([10] * 6 + [5] * 4), nps([10] * 3 + [5] * 7))
    assert t.diff == pytest.approx(60.0)
    assert t.se == pytest.approx(100 * math.sqrt(0.18))
    assert t.z == pytest.approx(0.6 / math.sqrt(0.18))
    assert t.p_value == pytest.approx(2 * stats.norm.sf(0.6 / math.sqrt(0.18)))
    assert t.p_value == pytest.approx(0.157299207, abs=1e-9)


def test_nps_difference_with_passives_and_sign():
    # a = SCORES_A: p = .5, d = .3, n = 10, v = .76
    # b: [9, 8, 8, 7, 2, 1]: P = 1, D = 2, n = 6 -> p = 1/6, d = 1/3, NPS = −16.667,
    #    v = (1/2) − (−1/6)² = .5 − .027778 = .472222
    # diff = 20 − (−16.667) = 36.667; se = √(.76/10 + .472222/6) = √(.076 + .078704) = .393324
    a, b = nps(SCORES_A), nps([9, 8, 8, 7, 2, 1])
    se = math.sqrt(0.76 / 10 + (0.5 - (1 / 6) ** 2) / 6)
    t = nps_difference(a, b)
    assert t.diff == pytest.approx(20 + 100 / 6)
    assert t.se == pytest.approx(100 * se)
    assert t.z == pytest.approx((0.2 + 1 / 6) / se)
    assert t.p_value == pytest.approx(2 * stats.norm.sf((0.2 + 1 / 6) / se))
    back = nps_difference(b, a)  # antisymmetric in a, b; same p
    assert back.diff == pytest.approx(-t.diff) and back.z == pytest.approx(-t.z)
    assert back.p_value == pytest.approx(t.p_value)


def test_nps_difference_zero_variance():
    # all promoters vs all detractors: v = 0 in both groups, se = 0, diff = 200 -> z = +inf, p = 0
    t = nps_difference(nps([10, 10]), nps([0, 0]))
    assert t.diff == pytest.approx(200.0) and t.se == 0.0
    assert t.z == float("inf") and t.p_value == 0.0


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_nps_difference_identical_degenerate_groups_not_significant():
    # both all promoters: diff = 0, se = 0. No evidence of a difference: p must not be 0.
    t = nps_difference(nps([10, 10]), nps([10, 10]))
    assert t.diff == 0.0
    assert t.p_value == 1.0
