"""Significance tests, Holm, letters, period changes, reliability — and the demo's planted effects.

References (each test quotes the formula it checks):
- R package NPS, ``nps.test``: se = sqrt(var.x/n.x + var.y/n.y), var = (p + d) − (p − d)².
- Holm (1979): sort p ascending, p_(i) · (m − i + 1), running maximum, capped at 1.
- Welch (1947) t and Welch–Satterthwaite df; Games & Howell (1976): p = P(q > |t|·√2) with the
  studentized range q(k, df); Welch (1951) ANOVA.
- Pearson χ² of homogeneity; Cochran (1954) Q = Σ w_g (x_g − x̄_w)², w_g = 1/var_g.
- Cronbach (1951) α = k/(k − 1)·(1 − Σ s_i²/s_total²); Feldt et al. (1987) F-interval.
- Displayr / Q letters: upper case p < .001, lower case p < .05, a letter marks a lower group.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportions_ztest

from cxaudit import scorecard
from cxaudit.audit import load_audit
from cxaudit.demo import generate_demo
from cxaudit.errors import MetricError
from cxaudit.metrics import metric_table, nps
from cxaudit.stats import (
    compare_periods,
    cronbach_alpha,
    holm,
    letter_labels,
    nps_difference,
    nps_z_test,
    omnibus_test,
    pairwise_tests,
    period_changes,
    segment_tests,
    significance_letters,
    welch_t_test,
)


def _norm_p(z: float) -> float:
    return 2 * (1 - stats.norm.cdf(abs(z)))


def _holm_by_hand(p: list[float]) -> list[float]:
    order = sorted(range(len(p)), key=lambda i: p[i])
    out, running = [0.0] * len(p), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        out[i] = running
    return out


# --- two-sample building blocks ------------------------------------------------------------------


def test_nps_z_test_vectorised_equals_nps_difference():
    rng = np.random.default_rng(4)
    for _ in range(20):
        a, b = rng.integers(0, 11, rng.integers(5, 60)), rng.integers(0, 11, rng.integers(5, 60))
        ra, rb = nps(a), nps(b)
        ref = nps_difference(ra, rb)
        diff, se, z, p = nps_z_test(ra.details["promoters"], ra.details["detractors"], ra.n,
                                    rb.details["promoters"], rb.details["detractors"], rb.n)
        assert (float(diff), float(se), float(z), float(p)) == pytest.approx((ref.diff, ref.se, ref.z, ref.p_value))


def test_nps_z_test_degenerate_groups():
    # se = 0: identical all-promoter groups are not different (p = 1); 100 vs −100 is (p = 0)
    _, se, z, p = nps_z_test(1.0, 0.0, 2, 1.0, 0.0, 2)
    assert (float(se), float(z), float(p)) == (0.0, 0.0, 1.0)
    diff, _, z, p = nps_z_test(1.0, 0.0, 2, 0.0, 1.0, 2)
    assert float(diff) == 200.0 and float(z) == np.inf and float(p) == 0.0


def test_welch_t_test_matches_scipy():
    m1, s1, n1, m2, s2, n2 = 5.2, 1.3, 40, 4.6, 1.9, 25
    diff, se, t, df, p = welch_t_test(m1, s1, n1, m2, s2, n2)
    ref = stats.ttest_ind_from_stats(m1, s1, n1, m2, s2, n2, equal_var=False)
    assert float(t) == pytest.approx(ref.statistic) and float(p) == pytest.approx(ref.pvalue)
    # Welch–Satterthwaite: (a + b)² / (a²/(n1−1) + b²/(n2−1)), a = s1²/n1, b = s2²/n2
    a, b = 1.3**2 / 40, 1.9**2 / 25
    assert float(df) == pytest.approx((a + b) ** 2 / (a**2 / 39 + b**2 / 24))
    assert float(diff) == pytest.approx(0.6) and float(se) == pytest.approx(math.sqrt(a + b))


def test_holm_by_hand():
    # sorted: .005·4 = .02, .01·3 = .03, .03·2 = .06, .04·1 = .04 -> running max .06
    p = [0.01, 0.04, 0.03, 0.005]
    assert holm(p).tolist() == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm(p).tolist() == pytest.approx(_holm_by_hand(p))
    # NaN (an untested pair) stays NaN and is not part of the family: m = 2
    got = holm([0.01, np.nan, 0.04])
    assert np.isnan(got[1]) and got[[0, 2]].tolist() == pytest.approx([0.02, 0.04])


# --- letters on a constructed crosstab -----------------------------------------------------------

# X: 120 promoters, 60 passives, 20 detractors (n 200): p .6, d .1 -> NPS 50, v = .7 − .25 = .45
# Y:  80 promoters, 80 passives, 40 detractors:          p .4, d .2 -> NPS 20, v = .6 − .04 = .56
# Z:  60 promoters, 70 passives, 70 detractors:          p .3, d .35 -> NPS −5, v = .65 − .0025 = .6475
CROSSTAB = pd.DataFrame({
    "seg": ["X"] * 200 + ["Y"] * 200 + ["Z"] * 200,
    "nps": [10] * 120 + [8] * 60 + [0] * 20 + [9] * 80 + [7] * 80 + [3] * 40 + [10] * 60 + [8] * 70 + [5] * 70,
})


def test_nps_letters_by_hand():
    v = {"X": 0.45, "Y": 0.56, "Z": 0.6475}
    score = {"X": 0.5, "Y": 0.2, "Z": -0.05}
    pairs = [("X", "Y"), ("X", "Z"), ("Y", "Z")]
    z = {pq: (score[pq[0]] - score[pq[1]]) / math.sqrt(v[pq[0]] / 200 + v[pq[1]] / 200) for pq in pairs}
    # z: X−Y = .3/.0710634 = 4.2216; X−Z = .55/.0740777 = 7.4246; Y−Z = .25/.0777014 = 3.2175
    assert z[("Y", "Z")] == pytest.approx(3.2175, abs=1e-4)
    p = [_norm_p(z[pq]) for pq in pairs]
    p_adj = _holm_by_hand(p)
    # Holm: X−Z ×3, X−Y ×2 (both < .001: upper case), Y−Z ×1 = .00129 (between .001 and .05: lower case)
    assert p_adj[0] < 0.001 and p_adj[1] < 0.001 and 0.001 < p_adj[2] < 0.05

    st = segment_tests(CROSSTAB, "nps", "seg", order=["X", "Y", "Z"], min_base=30)
    assert st.table["letter"].tolist() == ["A", "B", "C"]
    assert dict(zip(st.table["seg"], st.table["higher_than"], strict=True)) == {"X": "BC", "Y": "c", "Z": ""}
    assert st.pairs["p_value"].tolist() == pytest.approx(p, rel=1e-9)
    assert st.pairs["p_adj"].tolist() == pytest.approx(p_adj, rel=1e-9)
    assert st.correction == "holm" and "nps.test" in st.test
    # the default order is by value, so the letters follow the ranking
    assert segment_tests(CROSSTAB, "nps", "seg").table["seg"].tolist() == ["X", "Y", "Z"]


def test_nps_omnibus_is_cochran_q_by_hand():
    # inverse-variance weights w = n/v; x̄ = Σw·x/Σw; Q = Σ w (x − x̄)² on 2 df
    w = {"X": 200 / 0.45, "Y": 200 / 0.56, "Z": 200 / 0.6475}
    x = {"X": 0.5, "Y": 0.2, "Z": -0.05}
    xbar = sum(w[g] * x[g] for g in w) / sum(w.values())
    q = sum(w[g] * (x[g] - xbar) ** 2 for g in w)
    st = segment_tests(CROSSTAB, "nps", "seg")
    assert st.omnibus["statistic"] == pytest.approx(q)
    assert st.omnibus["df"] == 2 and st.omnibus["p_value"] == pytest.approx(stats.chi2.sf(q, 2))


def test_significance_letters_direction_and_case():
    pairs = pd.DataFrame({"a": ["p", "p", "q"], "b": ["q", "r", "r"], "diff": [-3.0, 2.0, 4.0],
                          "p_adj": [0.0004, 0.2, 0.049]})
    # q > p at p < .001 -> q gets "A"; q > r at .049 -> q gets "c"; p vs r not significant
    assert significance_letters(["p", "q", "r"], pairs) == {"p": "", "q": "Ac", "r": ""}


def test_letter_labels_past_z():
    labels = letter_labels(28)
    assert labels[:3] == ["A", "B", "C"] and labels[25:] == ["Z", "AA", "AB"]


def test_small_groups_are_not_tested():
    df = pd.concat([CROSSTAB, pd.DataFrame({"seg": ["W"] * 10, "nps": [0] * 10})], ignore_index=True)
    st = segment_tests(df, "nps", "seg", min_base=30)
    assert st.untested == ["W"]
    assert st.pairs.loc[(st.pairs["a"] == "W") | (st.pairs["b"] == "W"), "p_value"].isna().all()
    # W is far lower but untested: no letter points at it
    w_letter = st.table.set_index("seg").loc["W", "letter"]
    assert all(w_letter.lower() not in s.lower() for s in st.table["higher_than"])
    # the family is the three tested pairs: Holm factors as before
    assert st.pairs["p_adj"].notna().sum() == 3


# --- CSAT ----------------------------------------------------------------------------------------


def test_csat_pairwise_and_chi_square_by_hand():
    # top-2 box: A 60/100, B 45/100, C 40/80
    df = pd.DataFrame({"seg": ["A"] * 100 + ["B"] * 100 + ["C"] * 80,
                       "csat": [5] * 60 + [2] * 40 + [4] * 45 + [3] * 55 + [4] * 40 + [1] * 40})
    st = segment_tests(df, "csat", "seg", order=["A", "B", "C"])
    ab = st.pairs.iloc[0]
    # pooled z for A − B: p̂ = 105/200 = .525; se = √(.525·.475·(1/100 + 1/100)) = .070622; z = .15/.070622
    se = math.sqrt(0.525 * 0.475 * 0.02)
    assert ab["stat"] == pytest.approx(0.15 / se) and ab["diff"] == pytest.approx(15.0)
    assert ab["p_value"] == pytest.approx(proportions_ztest([60, 45], [100, 100])[1])
    # Pearson χ² on [[60, 45, 40], [40, 55, 40]]: Σ (O − E)²/E, E = row·col/N
    obs = np.array([[60, 45, 40], [40, 55, 40]], dtype=float)
    exp = obs.sum(1, keepdims=True) * obs.sum(0, keepdims=True) / obs.sum()
    chi2 = float(((obs - exp) ** 2 / exp).sum())
    assert st.omnibus["statistic"] == pytest.approx(chi2) and st.omnibus["df"] == 2
    # two groups: χ² = z²
    two = omnibus_test(st.table[st.table["seg"] != "C"], "seg")
    assert two["statistic"] == pytest.approx((0.15 / se) ** 2)
    # letters: A − B p = .0337 → Holm ×3 = .10 (n.s.); A − C .1807 n.s.; B − C n.s.
    assert st.table["higher_than"].tolist() == ["", "", ""]


def test_csat_identical_extreme_groups_are_not_different():
    df = pd.DataFrame({"seg": ["A"] * 40 + ["B"] * 40, "csat": [5] * 80})
    st = segment_tests(df, "csat", "seg")
    assert st.pairs["p_value"].tolist() == [1.0]


# --- CES: Games–Howell and Welch's ANOVA ---------------------------------------------------------


@pytest.fixture(scope="module")
def ces_data() -> pd.DataFrame:
    rng = np.random.default_rng(8)
    sizes, means = {"a": 60, "b": 45, "c": 80}, {"a": 5.4, "b": 4.6, "c": 5.0}
    rows = [(g, min(7, max(1, round(rng.normal(means[g], 1.3))))) for g in sizes for _ in range(sizes[g])]
    return pd.DataFrame(rows, columns=["seg", "ces"]).assign(ces=lambda d: d["ces"].astype(float))


def test_games_howell_by_hand(ces_data):
    st = segment_tests(ces_data, "ces", "seg", order=["a", "b", "c"])
    g = ces_data.groupby("seg")["ces"]
    m, v, n = g.mean(), g.var(ddof=1), g.count()
    for _, row in st.pairs.iterrows():
        a, b = row["a"], row["b"]
        se = math.sqrt(v[a] / n[a] + v[b] / n[b])
        t = (m[a] - m[b]) / se
        df = (v[a] / n[a] + v[b] / n[b]) ** 2 / ((v[a] / n[a]) ** 2 / (n[a] - 1) + (v[b] / n[b]) ** 2 / (n[b] - 1))
        p = stats.studentized_range.sf(abs(t) * math.sqrt(2), 3, df)
        assert row["stat"] == pytest.approx(t, rel=1e-6)
        assert row["p_value"] == pytest.approx(p, rel=1e-4, abs=1e-6)
    assert st.correction == "Games–Howell" and (st.pairs["p_adj"] == st.pairs["p_value"]).all()


def test_weighted_ces_paths_equal_pingouin_with_unit_weights(ces_data):
    plain = segment_tests(ces_data, "ces", "seg", order=["a", "b", "c"])
    unit = segment_tests(ces_data.assign(w=1.0), "ces", "seg", order=["a", "b", "c"], weight="w")
    assert unit.pairs["p_value"].to_numpy() == pytest.approx(plain.pairs["p_value"].to_numpy(), rel=1e-6)
    assert unit.pairs["stat"].to_numpy() == pytest.approx(plain.pairs["stat"].to_numpy(), rel=1e-9)
    assert unit.omnibus["statistic"] == pytest.approx(plain.omnibus["statistic"], rel=1e-9)
    assert unit.omnibus["p_value"] == pytest.approx(plain.omnibus["p_value"], rel=1e-6)
    assert unit.table["higher_than"].tolist() == plain.table["higher_than"].tolist()


def test_unweighted_ces_needs_answers(ces_data):
    tab = metric_table(ces_data, "ces", by=["seg"])
    with pytest.raises(MetricError, match="need the answers"):
        pairwise_tests(tab, "seg")


# --- period changes ------------------------------------------------------------------------------


def _months() -> pd.DataFrame:
    # Jan: 50 promoters, 30 passives, 20 detractors; Feb and Mar: 20 / 30 / 50; Apr: 10 answers
    jan = [10] * 50 + [8] * 30 + [0] * 20
    feb = [9] * 20 + [7] * 30 + [6] * 50
    rows = ([("2025-01-15", s) for s in jan] + [("2025-02-10", s) for s in feb] + [("2025-03-03", s) for s in feb]
            + [("2025-04-20", 10)] * 10)
    df = pd.DataFrame(rows, columns=["date", "nps"])
    df["date"] = pd.to_datetime(df["date"])
    df["csat"] = np.where(df["nps"] >= 8, 5.0, 2.0)
    df["ces"] = np.where(df["nps"] >= 9, 7.0, np.where(df["nps"] >= 7, 5.0, 2.0))
    return df


def test_period_changes_nps_by_hand():
    tab = period_changes(_months(), "nps", min_base=30).set_index("period")
    # Feb − Jan: −.3 − .3 = −.6; v = .7 − .09 = .61 both; se = √(.61/100 · 2) = .110454; z = −5.4321
    z = -0.6 / math.sqrt(2 * 0.61 / 100)
    assert tab.loc["2025-02", "diff"] == pytest.approx(-60.0)
    assert tab.loc["2025-02", "stat"] == pytest.approx(z)
    assert tab.loc["2025-02", "p_value"] == pytest.approx(_norm_p(z))
    assert tab.loc["2025-02", "change"] == "down"
    # Mar = Feb: no change; Apr has n = 10 < 30: not tested
    assert tab.loc["2025-03", "diff"] == 0.0 and tab.loc["2025-03", "change"] == ""
    assert np.isnan(tab.loc["2025-04", "p_value"]) and tab.loc["2025-04", "change"] == ""
    assert np.isnan(tab.loc["2025-01", "p_value"])
    # Holm over the two tested comparisons
    assert tab["p_holm"].dropna().tolist() == pytest.approx(_holm_by_hand(tab["p_value"].dropna().tolist()))


def test_period_changes_csat_and_ces_match_libraries():
    df = _months()
    jan, feb = df[df["date"].dt.month == 1], df[df["date"].dt.month == 2]
    c = period_changes(df, "csat").set_index("period")
    z, p = proportions_ztest([(jan["csat"] >= 4).sum(), (feb["csat"] >= 4).sum()], [len(feb), len(jan)][::-1])
    assert c.loc["2025-02", "stat"] == pytest.approx(-z) and c.loc["2025-02", "p_value"] == pytest.approx(p)
    e = period_changes(df, "ces").set_index("period")
    ref = stats.ttest_ind(feb["ces"], jan["ces"], equal_var=False)
    assert e.loc["2025-02", "stat"] == pytest.approx(ref.statistic) and e.loc["2025-02", "p_value"] == pytest.approx(
        ref.pvalue)
    assert e.loc["2025-02", "change"] == "down"


def test_compare_periods_window_against_the_rest():
    df = _months()
    got = compare_periods(df, "nps", ["2025-02", "2025-03"])
    inside, rest = nps(df.loc[df["date"].dt.month.isin([2, 3]), "nps"]), nps(df.loc[~df["date"].dt.month.isin([2, 3]),
                                                                                     "nps"])
    ref = nps_difference(inside, rest)
    assert (got["value"], got["rest_value"], got["n"], got["rest_n"]) == pytest.approx(
        (inside.value, rest.value, 200, 110))
    assert (got["diff"], got["p_value"]) == pytest.approx((ref.diff, ref.p_value))
    with pytest.raises(MetricError, match="need answers both in"):
        compare_periods(df, "nps", ["2030-01"])


# --- reliability ---------------------------------------------------------------------------------


def test_cronbach_alpha_by_hand():
    # variances 2.5, 2.3, 1.5; total score 4, 7, 9, 13, 14 has variance 17.3
    # α = 3/2 · (1 − 6.3/17.3) = .953757
    items = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 5], "c": [1, 3, 3, 4, 4]})
    r = cronbach_alpha(items)
    assert r.alpha == pytest.approx(1.5 * (1 - 6.3 / 17.3))
    assert (r.n, r.k) == (5, 3)
    # Feldt interval: 1 − (1 − α)·F(.975; 4, 8) and 1 − (1 − α)·F(.025; 4, 8) (pingouin rounds to 3)
    lo = 1 - (1 - r.alpha) * stats.f.ppf(0.975, 4, 8)
    hi = 1 - (1 - r.alpha) * stats.f.ppf(0.025, 4, 8)
    assert (r.ci_low, r.ci_high) == pytest.approx((lo, hi), abs=6e-4)


def test_cronbach_alpha_bad_input():
    with pytest.raises(MetricError, match="at least 2 item columns"):
        cronbach_alpha(pd.DataFrame({"a": [1, 2, 3]}))
    with pytest.raises(MetricError, match="at least 3 respondents"):
        cronbach_alpha(pd.DataFrame({"a": [1, np.nan, 3], "b": [np.nan, 2, 3]}), nan_policy="listwise")


# --- the demo's planted effects ------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    folder = generate_demo(tmp_path_factory.mktemp("demo") / "demo", size="default", lang="en", seed=7)
    return load_audit(Path(folder))


def test_demo_small_business_gap_is_detected(demo):
    # PLANTED: "Small business" is about 15 NPS points below Consumer and Corporate
    st = segment_tests(demo.responses, "nps", "segment", min_base=demo.config.min_base)
    tab = st.table.set_index("segment")
    gaps = tab.loc[["Consumer", "Corporate"], "value"] - tab.loc["Small business", "value"]
    assert ((gaps > 8) & (gaps < 25)).all(), gaps
    sb = tab.loc["Small business", "letter"]
    # both other segments are higher at p < .001 (upper-case letter), Small business is higher than none
    assert sb in tab.loc["Consumer", "higher_than"] and sb in tab.loc["Corporate", "higher_than"]
    assert tab.loc["Small business", "higher_than"] == ""
    assert st.omnibus["p_value"] < 0.001
    findings = {f.id: f for f in scorecard.metric_findings(demo, "en")}
    low = findings["cx_metrics.nps.low_segment.segment.Small business"]
    assert low.unit == "pts" and low.evidence["p_value"] < 0.001
    assert findings["cx_metrics.csat.low_segment.segment.Small business"].unit == "%"


def test_demo_seasonal_dip_is_detected(demo):
    # PLANTED: NPS in 2025-11 and 2025-12 is about 8 points lower
    tab = period_changes(demo.responses, "nps").set_index("period")
    assert tab.loc["2025-11", "change"] == "down" and tab.loc["2025-11", "diff"] < -8
    assert (tab["change"] == "down").sum() == 1  # no other month is flagged
    dip = compare_periods(demo.responses, "nps", ["2025-11", "2025-12"])
    assert -14 < dip["diff"] < -4 and dip["p_value"] < 0.05
    findings = {f.id: f for f in scorecard.metric_findings(demo, "en")}
    drop = findings["cx_metrics.nps.drop.2025-11"]
    assert drop.unit == "pts" and drop.evidence["previous_period"] == "2025-10"
    assert drop.tags == {"periods": ["2025-11"]}


def test_demo_segment_table_letters_and_trend_table(demo):
    tab = scorecard.segment_table(demo, "segment").set_index("segment")
    assert tab.loc["Small business", "letter"] == "C"  # lowest NPS: last
    assert "C" in tab.loc["Consumer", "nps_higher"] and "C" in tab.loc["Corporate", "nps_higher"]
    trend = scorecard.trend_table(demo, "en").set_index("period")
    assert trend.loc["2025-11", "changes"].startswith("NPS ▼ −19.4")
    assert trend.loc["2025-10", "changes"] == ""


def test_letters_follow_the_given_order_when_a_group_lacks_answers():
    # "V" has no NPS answers: its letter (B) is kept for the other metrics, and NPS letters skip it
    df = CROSSTAB.copy()
    st = segment_tests(df, "nps", "seg", order=["X", "V", "Y", "Z"])
    assert dict(zip(st.table["seg"], st.table["letter"], strict=True)) == {"X": "A", "Y": "C", "Z": "D"}
    assert dict(zip(st.table["seg"], st.table["higher_than"], strict=True)) == {"X": "CD", "Y": "d", "Z": ""}
