"""The employee section: eNPS, motivation, reliability, KPI alignment, the EX–CX link and anonymity.

Every expected number is independent of the code under test: counted by hand (counts in the comment)
and pushed through the reference formula written out beside it, taken from a published table (quoted),
or an effect planted in the demo client (``cxaudit.demo.PLANTED``).

- eNPS is NPS on the eNPS item. Adjusted Wald, Rocks (2016), *The American Statistician* 70(4):
  P' = P + 3/4, D' = D + 3/4, n' = n + 3; p = P'/n', d = D'/n'; v = (p + d) − (p − d)²;
  (p − d) ± qnorm(.975)·√(v/n'), times 100.
- Cronbach (1951): α = k/(k − 1)·(1 − Σ s²ᵢ / s²ₜ); Feldt (1965) interval
  1 − (1 − α)·F(.975 | .025; n − 1, (n − 1)(k − 1)).
- Spearman critical values: Zar (1972), *JASA* 67, table 1 (two-sided α = 0.05): n = 5 → 1.000,
  n = 6 → 0.886, n = 7 → 0.786.
"""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cxaudit import employees as emp
from cxaudit import load_audit
from cxaudit.demo import PLANTED, generate_demo
from cxaudit.employees import OTHER, TOTAL
from cxaudit.errors import DataError
from cxaudit.i18n import t

#: R: qnorm(0.975)
Z = 1.959963984540054
ITEMS = list(emp.MOTIVATION_ITEMS)


def _adjusted_wald(P: int, D: int, n: int) -> tuple[float, float, float]:
    """The hand formula of Rocks (2016), on −100..100: (NPS, low, high)."""
    Pa, Da, na = P + 0.75, D + 0.75, n + 3
    p, d = Pa / na, Da / na
    se = math.sqrt(((p + d) - (p - d) ** 2) / na)
    return 100 * (P - D) / n, 100 * max(-1.0, p - d - Z * se), 100 * min(1.0, p - d + Z * se)


def _employees(sizes: dict[str, int], seed: int = 3, roles: bool = False) -> pd.DataFrame:
    """A synthetic employee table: ``sizes`` respondents per department, eNPS 0–10, items 1–5."""
    rng = np.random.default_rng(seed)
    dept = np.repeat(list(sizes), list(sizes.values()))
    n = len(dept)
    df = pd.DataFrame({"employee_id": [f"E{i:03d}" for i in range(n)], "department": dept,
                       "enps": rng.integers(0, 11, n).astype(float)})
    base = rng.normal(0, 0.8, n)
    for item in ITEMS:
        df[item] = np.clip(np.rint(3.3 + base + rng.normal(0, 0.7, n)), 1, 5)
    if roles:
        df["role"] = rng.choice(["Agent", "Lead"], n)
    return df


def _shown_n(tab: pd.DataFrame, n: str = "n") -> tuple[float, float]:
    """(company n, sum of the n of the groups shown) of a table with an ``is_total`` row."""
    total = float(tab.loc[tab["is_total"], n].iloc[0])
    return total, float(tab.loc[~tab["is_total"], n].fillna(0).sum())


# --- eNPS against the hand computation -------------------------------------------------------------


def test_enps_intervals_match_hand_adjusted_wald():
    # Alpha: 10 9 9 8 7 6 5 3 10 0 -> promoters 10,9,9,10 (P=4), passives 8,7, detractors 6,5,3,0 (D=4), n=10
    # Beta : 10 10 10 9 9 8 7 6     -> P=5, passives 8,7, D=1 (the 6), n=8
    df = pd.DataFrame({"department": ["Alpha"] * 10 + ["Beta"] * 8,
                       "enps": [10, 9, 9, 8, 7, 6, 5, 3, 10, 0, 10, 10, 10, 9, 9, 8, 7, 6]})
    tab = emp.enps_table(df, min_size=5).set_index("group")
    for group, (P, D, n) in {"Alpha": (4, 4, 10), "Beta": (5, 1, 8), TOTAL: (9, 5, 18)}.items():
        value, lo, hi = _adjusted_wald(P, D, n)
        assert tab.loc[group, "n"] == n
        assert tab.loc[group, "value"] == pytest.approx(value, abs=1e-9)
        assert tab.loc[group, "ci_low"] == pytest.approx(lo, abs=1e-9)
        assert tab.loc[group, "ci_high"] == pytest.approx(hi, abs=1e-9)
        assert tab.loc[group, "promoters"] == pytest.approx(P / n)
        assert tab.loc[group, "detractors"] == pytest.approx(D / n)
    # Alpha written out: P' = D' = 4.75, n' = 13, p = d = 0.36538; v = 0.73077; se = √(0.73077/13) = 0.23709
    assert tab.loc["Alpha", "ci_high"] == pytest.approx(100 * Z * math.sqrt((9.5 / 13) / 13), abs=1e-9)
    assert tab.loc["Alpha", "ci_high"] == pytest.approx(46.469, abs=1e-3)


def test_enps_wald_option_and_difference_from_rest():
    df = pd.DataFrame({"department": ["Alpha"] * 10 + ["Beta"] * 8,
                       "enps": [10, 9, 9, 8, 7, 6, 5, 3, 10, 0, 10, 10, 10, 9, 9, 8, 7, 6]})
    tab = emp.enps_table(df, min_size=5, ci="wald").set_index("group")
    # plain Wald on Beta: p = 5/8, d = 1/8; v = 0.75 − 0.25 = 0.5; se = √(0.5/8) = 0.25
    assert tab.loc["Beta", "ci_low"] == pytest.approx(100 * (0.5 - Z * 0.25))
    assert tab.loc["Beta", "ci_high"] == pytest.approx(100 * min(1.0, 0.5 + Z * 0.25))
    # Alpha vs the rest (= Beta): diff = 0 − 50 = −50; se = √(0.8/10 + 0.5/8) (R NPS::nps.test)
    se = math.sqrt(0.8 / 10 + 0.5 / 8)
    p = 2 * stats.norm.sf(0.5 / se)
    assert tab.loc["Alpha", "diff_rest"] == pytest.approx(-50.0)
    assert tab.loc["Alpha", "p_value"] == pytest.approx(p)
    # Holm over two equal p-values: both become min(1, 2p)
    assert tab.loc["Alpha", "p_holm"] == pytest.approx(min(1.0, 2 * p))


# --- anonymity -----------------------------------------------------------------------------------


def test_anonymous_groups_pools_with_complementary_suppression():
    g = emp.anonymous_groups(pd.Series(["Alpha"] * 20 + ["Beta"] * 12 + ["Tiny"] * 4), min_size=5)
    # Tiny alone (4) would be revealed as company − Alpha − Beta: Beta (the smallest other) joins it
    assert g.shown == ["Alpha", OTHER]
    assert g.merged == ["Beta", "Tiny"]
    assert g.shown_sizes() == {"Alpha": 20, OTHER: 16}
    # two small groups that together reach the minimum need no donor
    g2 = emp.anonymous_groups(pd.Series(["Alpha"] * 20 + ["Beta"] * 12 + ["C"] * 3 + ["D"] * 2), min_size=5)
    assert g2.shown == ["Alpha", "Beta", OTHER] and g2.shown_sizes()[OTHER] == 5
    # nothing small: nothing pooled
    assert emp.anonymous_groups(pd.Series(["A"] * 5 + ["B"] * 6)).merged == []
    # the whole population below the minimum: nothing at all is shown
    assert emp.anonymous_groups(pd.Series(["A"] * 4)).suppressed
    assert emp.anonymous_groups(pd.Series(["A"] * 4)).shown == []


def test_missing_values_form_a_group_subject_to_the_rule():
    values = pd.Series(["Agent"] * 30 + [None] * 3)
    g = emp.anonymous_groups(values, 5)
    # 3 who skipped the question would be company − Agent: both are pooled
    assert g.shown == [OTHER] and sorted(g.merged) == sorted([emp.MISSING, "Agent"])
    assert g.shown_sizes() == {OTHER: 33}


def test_suppress_cells_is_complementary():
    assert emp.suppress_cells([20, 12, 4], 5).tolist() == [False, True, True]
    assert emp.suppress_cells([20, 3, 12, 3], 5).tolist() == [False, True, False, True]  # 3 + 3 = 6 ≥ 5
    assert emp.suppress_cells([20, 12, 0], 5).tolist() == [False, False, False]  # an empty cell reveals nothing
    assert emp.suppress_cells([2, 2], 5).tolist() == [True, True]


def test_department_of_four_is_never_shown_nor_derivable():
    df = _employees({"Alpha": 20, "Beta": 12, "Tiny": 4})
    enps = emp.enps_table(df, min_size=5)
    profile = emp.motivation_profile(df, ITEMS, min_size=5)
    index = emp.motivation_index_table(df, ITEMS, min_size=5)
    rel = emp.reliability(df, ITEMS, min_size=5)
    for tab in (enps, profile, index, rel):
        assert not set(tab["group"]) & {"Tiny", "Beta"}
        assert set(tab["group"]) <= {"Alpha", OTHER, TOTAL}
    # subtraction: company − every group shown leaves nobody, or at least 5 people
    for tab in (enps, index):
        total, shown = _shown_n(tab)
        assert total - shown == 0 or total - shown >= 5
    # what subtraction of counts *can* give is "Other" = Beta ∪ Tiny (16 people), never Tiny
    e = enps.set_index("group")
    P = e.loc[TOTAL, "promoters"] * e.loc[TOTAL, "n"] - e.loc["Alpha", "promoters"] * e.loc["Alpha", "n"]
    D = e.loc[TOTAL, "detractors"] * e.loc[TOTAL, "n"] - e.loc["Alpha", "detractors"] * e.loc["Alpha", "n"]
    assert e.loc[TOTAL, "n"] - e.loc["Alpha", "n"] == 16
    other = df[df["department"].isin(["Beta", "Tiny"])]["enps"]
    assert (round(P), round(D)) == (int((other >= 9).sum()), int((other <= 6).sum()))
    # nor does any rendered table carry the name
    for html in (emp.enps_view(enps, "en"), emp.motivation_view(profile, "en"), emp.index_view(index, "en"),
                 emp.reliability_view(rel, "en")):
        assert "Tiny" not in html.data and "Beta" not in html.data
        assert "Other" in html.data


def test_item_cells_below_the_minimum_are_blanked_with_a_complement():
    df = _employees({"Alpha": 20, "Beta": 12})
    beta = df.index[df["department"] == "Beta"]
    df.loc[beta[3:], "mot_pay"] = np.nan  # only 3 of Beta answered "pay"
    prof = emp.motivation_profile(df, ITEMS, min_size=5).set_index(["group", "measure"])
    # Beta/pay (3 answers) is blanked, and so is Alpha/pay: otherwise company − Alpha = Beta's three
    assert prof.loc[("Beta", "mot_pay"), "suppressed"] and math.isnan(prof.loc[("Beta", "mot_pay"), "mean"])
    assert prof.loc[("Alpha", "mot_pay"), "suppressed"] and math.isnan(prof.loc[("Alpha", "mot_pay"), "mean"])
    assert prof.loc[(TOTAL, "mot_pay"), "n"] == 23
    # other items are untouched
    assert not prof.loc[("Beta", "mot_team"), "suppressed"] and prof.loc[("Beta", "mot_team"), "n"] == 12


def test_population_below_the_minimum_shows_nothing():
    df = _employees({"Alpha": 4})
    assert emp.enps_table(df, min_size=5).empty
    prof = emp.motivation_profile(df, ITEMS, min_size=5)
    assert prof.empty or prof["mean"].isna().all()


def test_anonymity_min_reads_the_config_with_default_5():
    assert emp.anonymity_min(SimpleNamespace(config=SimpleNamespace())) == 5  # type: ignore[arg-type]
    assert emp.anonymity_min(SimpleNamespace(config=SimpleNamespace(anonymity_min=8))) == 8  # type: ignore[arg-type]
    df = _employees({"Alpha": 20, "Beta": 7})
    assert set(emp.enps_table(df, min_size=8)["group"]) == {OTHER, TOTAL}  # Beta (7) < 8 pools everyone


# --- motivation, reliability ------------------------------------------------------------------------


def test_motivation_profile_means_intervals_and_welch_by_hand():
    # Alpha pay: 2, 3, 3, 4, 5 (n = 5, mean 3.4, s² = 1.3); Beta pay: 4, 4, 5, 5, 5 (mean 4.6, s² = 0.3)
    df = pd.DataFrame({"department": ["Alpha"] * 5 + ["Beta"] * 5,
                       "mot_pay": [2, 3, 3, 4, 5, 4, 4, 5, 5, 5], "mot_team": [3, 3, 4, 4, 4, 4, 4, 3, 3, 4]})
    prof = emp.motivation_profile(df, ["mot_pay", "mot_team"], min_size=5).set_index(["group", "measure"])
    row = prof.loc[("Alpha", "mot_pay")]
    half = stats.t.ppf(0.975, 4) * math.sqrt(1.3) / math.sqrt(5)  # qt(.975, 4) = 2.776445
    assert row["mean"] == pytest.approx(3.4) and row["ci_low"] == pytest.approx(3.4 - half)
    assert row["ci_high"] == pytest.approx(3.4 + half)
    # Welch: t = (3.4 − 4.6)/√(1.3/5 + 0.3/5) = −1.2/√0.32; df = 0.32²/((0.26²+0.06²)/4)
    t = -1.2 / math.sqrt(0.32)
    dof = 0.32**2 / ((0.26**2 + 0.06**2) / 4)
    assert row["t"] == pytest.approx(t)
    assert row["p_value"] == pytest.approx(2 * stats.t.sf(abs(t), dof))
    # Holm across the 4 tests of the table: p(1) × 4, p(2) × 3, ... made monotone
    p = prof.loc[~prof["is_total"], "p_value"].to_numpy()
    order = np.argsort(p)
    adj = np.maximum.accumulate([min(1.0, p[i] * (len(p) - r)) for r, i in enumerate(order)])
    expected = np.empty_like(p)
    expected[order] = adj
    assert prof.loc[~prof["is_total"], "p_holm"].to_numpy() == pytest.approx(expected)
    assert prof.loc[(TOTAL, "mot_pay"), "mean"] == pytest.approx(4.0)


def test_motivation_index_half_rule():
    df = pd.DataFrame({"mot_a": [4, 2, np.nan, 1], "mot_b": [2, np.nan, np.nan, 5], "mot_c": [3, np.nan, 5, 3]})
    # row 1: (4+2+3)/3 = 3; row 2: 1 of 3 answered (< 2 = ceil(3/2)) -> missing; row 4: 3
    out = emp.motivation_index(df).tolist()
    assert out[0] == pytest.approx(3.0) and math.isnan(out[1]) and math.isnan(out[2]) and out[3] == pytest.approx(3.0)


def test_cronbach_alpha_and_feldt_interval_by_hand():
    data = pd.DataFrame({"department": ["A"] * 8,
                         "mot_a": [3, 4, 5, 2, 4, 3, 5, 1], "mot_b": [2, 4, 5, 2, 3, 3, 4, 2],
                         "mot_c": [3, 5, 4, 1, 4, 2, 5, 2]})
    items = ["mot_a", "mot_b", "mot_c"]
    x = data[items].to_numpy(float)
    k, n = 3, 8
    alpha = k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1))
    lo = 1 - (1 - alpha) * stats.f.ppf(0.975, n - 1, (n - 1) * (k - 1))
    hi = 1 - (1 - alpha) * stats.f.ppf(0.025, n - 1, (n - 1) * (k - 1))
    rel = emp.reliability(data, items, by=None, min_size=5).iloc[0]
    assert rel["group"] == TOTAL and rel["n"] == 8
    assert rel["alpha"] == pytest.approx(alpha, abs=1e-9)
    assert rel["ci_low"] == pytest.approx(lo, abs=1e-3) and rel["ci_high"] == pytest.approx(hi, abs=1e-3)


# --- KPI alignment ---------------------------------------------------------------------------------


def test_kpi_alignment_shares_by_hand_and_bad_weights():
    k = pd.DataFrame({"department": ["A", "A", "A", "B", "B"], "kpi": ["CSAT", "Cost", "NPS", "Speed", "Cost"],
                      "weight": [20.0, 50.0, 30.0, 0.6, 0.4],
                      "is_customer_metric": pd.array([True, False, True, False, False], dtype="boolean")})
    out = emp.kpi_alignment(k).set_index("department")
    assert out.loc["A", "customer_share"] == pytest.approx((20 + 30) / 100)  # weights in % normalise
    assert out.loc["A", "customer_kpis"] == "CSAT, NPS"
    assert out.loc["B", "customer_share"] == 0.0 and out.loc["B", "no_customer_metric"]
    bad = k.assign(weight=[20.0, -5.0, 30.0, 0.6, 0.4])
    with pytest.raises(DataError, match="weight"):
        emp.kpi_alignment(bad)
    with pytest.raises(DataError, match="sum to 0"):
        emp.kpi_alignment(k.assign(weight=[20.0, 50.0, 30.0, 0.0, 0.0]))


# --- CX of owned touchpoints and the EX–CX link -------------------------------------------------------


def test_department_cx_by_hand():
    responses = pd.DataFrame({"tp_a": [5, 4, np.nan, 2], "tp_b": [3, np.nan, np.nan, 2], "tp_c": [2, 1, 4, np.nan]})
    tps = pd.DataFrame({"touchpoint": ["a", "b", "tp_c"], "owner_department": ["D1", "D1", "D2"],
                        "label": ["A", "B", "C"]})
    tp = emp.touchpoint_cx(responses, tps).set_index("touchpoint")
    # means: a (5+4+2)/3 = 3.667, b (3+2)/2 = 2.5, c (2+1+4)/3 = 2.333 -> c is the weakest (rank 1)
    assert tp.loc["tp_c", "rank"] == 1 and tp.loc["b", "rank"] == 2
    assert tp.loc["a", "top2"] == pytest.approx(2 / 3)  # 5 and 4 of 5, 4, 2
    cx = emp.department_cx(responses, tps).set_index("department")
    # D1 per respondent: mean(5,3) = 4, 4, –, 2 -> [4, 4, 2]; top-2 shares [0.5, 1, 0]
    half = stats.t.ppf(0.975, 2) * np.std([4, 4, 2], ddof=1) / math.sqrt(3)
    assert cx.loc["D1", "n"] == 3 and cx.loc["D1", "cx_mean"] == pytest.approx(10 / 3)
    assert cx.loc["D1", "cx_ci_low"] == pytest.approx(10 / 3 - half)
    assert cx.loc["D1", "cx_top2"] == pytest.approx(0.5) and cx.loc["D1", "reach"] == pytest.approx(0.75)
    # D2: [2, 1, 4]
    assert cx.loc["D2", "cx_mean"] == pytest.approx(7 / 3) and cx.loc["D2", "owns_weakest"]
    assert not cx.loc["D1", "owns_weakest"]


def test_spearman_exact_p_and_interval_by_hand():
    x, y = [1, 2, 3, 4, 5, 6], [2, 1, 4, 3, 6, 5]
    # Σd² = 1+1+1+1+1+1 = 6 -> ρ = 1 − 6·6/(6·35) = 0.828571
    rho = 1 - 6 * 6 / (6 * 35)
    # the exact p by brute force over the 720 orderings of y
    perms = [1 - 6 * sum((a - b) ** 2 for a, b in zip(x, p, strict=True)) / 210 for p in itertools.permutations(y)]
    p_exact = sum(abs(r) >= rho - 1e-12 for r in perms) / 720
    res = emp.spearman(x, y)
    assert res["rho"] == pytest.approx(rho) and res["n"] == 6
    assert res["p_exact"] == pytest.approx(p_exact)
    # Fisher z with the Bonett & Wright (2000) variance (1 + ρ²/2)/(n − 3)
    se = math.sqrt((1 + rho**2 / 2) / 3)
    assert res["ci_low"] == pytest.approx(math.tanh(math.atanh(rho) - Z * se))
    assert res["ci_high"] == pytest.approx(math.tanh(math.atanh(rho) + Z * se))
    assert math.isnan(emp.spearman([1, 2], [2, 1])["rho"])  # too few departments


def test_critical_rho_matches_published_table():
    # Zar (1972), table 1, two-sided alpha = 0.05
    assert emp.critical_rho(5) == pytest.approx(1.0)
    assert emp.critical_rho(6) == pytest.approx(0.886, abs=6e-4)
    assert emp.critical_rho(7) == pytest.approx(0.786, abs=6e-4)


def test_small_n_caveat_is_stated():
    corr = pd.DataFrame({"n": [6.0]})
    text = emp.small_n_caveat(corr, "en")
    assert "6 departments" in text and "0.89" in text
    assert emp.small_n_caveat(None, "ru") == t("employees.too_few_departments", "ru")


# --- drivers -------------------------------------------------------------------------------------------


def test_enps_drivers_two_items_match_closed_form_lmg():
    pytest.importorskip("cxaudit.drivers", reason="cxaudit.drivers (relative_importance) is not in this checkout")
    rng = np.random.default_rng(11)
    n = 200
    a, b = rng.normal(size=n), rng.normal(size=n)
    df = pd.DataFrame({"mot_a": np.clip(np.rint(3 + a), 1, 5), "mot_b": np.clip(np.rint(3 + 0.5 * a + b), 1, 5)})
    df["enps"] = np.clip(np.rint(5 + 1.2 * df["mot_a"] + 0.6 * df["mot_b"] - 4 + rng.normal(size=n)), 0, 10)
    res = emp.enps_drivers(df, ["mot_a", "mot_b"], bootstrap=0)
    # LMG with two drivers: φ_a = ½[r_a² + (R² − r_b²)], R² from least squares
    X = np.column_stack([np.ones(n), df["mot_a"], df["mot_b"]])
    y = df["enps"].to_numpy()
    fit = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    r2 = 1 - fit.var() / y.var()
    ra, rb = np.corrcoef(df["mot_a"], y)[0, 1], np.corrcoef(df["mot_b"], y)[0, 1]
    assert res.loc["mot_a", "importance"] == pytest.approx(0.5 * (ra**2 + r2 - rb**2), abs=1e-9)
    assert res.loc["mot_b", "importance"] == pytest.approx(0.5 * (rb**2 + r2 - ra**2), abs=1e-9)


# --- input handling ------------------------------------------------------------------------------------


def test_bad_motivation_value_names_column_and_row(tmp_path, make_client):
    files = {"r.csv": "response_id,date,nps\nr1,2025-01-01,9\n",
             "e.csv": "employee_id,department,enps,mot_pay\nE1,A,9,4\nE2,A,8,7\n"}  # line 3: pay = 7
    yaml = "client: {name: Acme}\ninputs:\n  responses: {file: r.csv}\n  employees: {file: e.csv}\n"
    audit = load_audit(make_client(tmp_path, files, yaml))
    with pytest.raises(DataError, match=r"e\.csv.*mot_pay.*row 3.*1–5.*'7'"):
        emp.employee_frame(audit)


def _synthetic_client(tmp_path: Path, make_client) -> Path:
    """Alpha 20, Beta 12, Tiny 4 employees; Tiny owns the weakest touchpoint and has no customer KPI."""
    df = _employees({"Alpha": 20, "Beta": 12, "Tiny": 4})
    df.loc[df["department"] == "Tiny", "enps"] = 0.0  # a very unhappy small team: must stay invisible
    rng = np.random.default_rng(5)
    n = 60
    resp = pd.DataFrame({"response_id": [f"r{i}" for i in range(n)], "date": "2025-03-01",
                         "nps": rng.integers(0, 11, n), "tp_web": rng.integers(3, 6, n),
                         "tp_call": rng.integers(2, 6, n), "tp_van": rng.integers(1, 3, n)})
    # "alpha " in the touchpoint table: department names match across tables ignoring case and spaces
    tps = "touchpoint,stage,channel,owner_department,label\nweb,purchase,site,alpha ,Web\n" \
          "call,retention,phone,Beta,Call\nvan,post-purchase,site,Tiny,Van\n"
    kpis = "department,kpi,weight,is_customer_metric\nAlpha,CSAT,1,true\nBeta,NPS,0.5,true\nBeta,AHT,0.5,false\n" \
           "Tiny,Cost,1,false\n"
    files = {"r.csv": resp.to_csv(index=False), "e.csv": df.to_csv(index=False), "tp.csv": tps, "k.csv": kpis}
    yaml = ("client: {name: Acme}\ninputs:\n  responses: {file: r.csv}\n  employees: {file: e.csv}\n"
            "  touchpoints: {file: tp.csv}\n  kpis: {file: k.csv}\n")
    return make_client(tmp_path, files, yaml)


def test_full_analysis_keeps_the_small_department_out(tmp_path, make_client):
    audit = load_audit(_synthetic_client(tmp_path, make_client))
    res = emp.analyse(audit, drivers=False)
    assert res.grouping is not None and res.grouping.shown == ["Alpha", OTHER]
    assert res.ex_cx is not None and len(res.ex_cx) == 1  # only Alpha: Tiny and Beta are not shown alone
    alpha = res.enps.set_index("group").loc["Alpha"]
    assert res.ex_cx.iloc[0]["enps"] == alpha["value"] and res.ex_cx.iloc[0]["customer_share"] == 1.0
    findings = emp.employees_findings(audit, "en", res)
    ids = {f.id for f in findings}
    assert not any(i.startswith(("employees.enps.Tiny", "employees.motivation.Tiny", "employees.enps.Beta"))
                   for i in ids)
    # the KPI table is not personal data: Tiny's KPIs carry no customer metric and it owns the weakest touchpoint
    kpi = next(f for f in findings if f.id == "employees.kpi_no_cx.Tiny")
    assert kpi.severity == 4 and kpi.tags == {"departments": ["Tiny"], "touchpoints": ["van"]}
    assert "enps" not in str(kpi.evidence) and "motivation" not in str(kpi.evidence)


def test_no_employee_input_gives_no_findings(tmp_path, make_client):
    audit = load_audit(make_client(tmp_path, {"r.csv": "response_id,date,nps\nr1,2025-01-01,9\n"},
                                   "client: {name: Acme}\ninputs:\n  responses: {file: r.csv}\n"))
    res = emp.analyse(audit)
    assert res.employees is None and res.enps is None and res.kpi is None and res.cx is None
    assert emp.employees_findings(audit, "pl", res) == []


# --- the planted demo effects --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    folder = generate_demo(tmp_path_factory.mktemp("demo") / "demo", size="default", lang="en", seed=7)
    audit = load_audit(folder)
    return audit, emp.analyse(audit, drivers=False)


def test_demo_logistics_enps_is_negative_and_lowest(demo):
    _, res = demo
    planted = PLANTED["low_motivation_department"]["department"]
    tab = res.enps[~res.enps["is_total"]].set_index("group")
    assert tab["value"].idxmin() == planted
    assert tab.loc[planted, "ci_high"] < 0  # clearly negative: the whole interval
    assert tab.loc[planted, "below_rest"]
    # its interval recomputed by hand from the raw counts
    e = res.employees[res.employees["department"] == planted]["enps"]
    value, lo, hi = _adjusted_wald(int((e >= 9).sum()), int((e <= 6).sum()), len(e))
    assert (tab.loc[planted, "value"], tab.loc[planted, "ci_low"], tab.loc[planted, "ci_high"]) == \
        pytest.approx((value, lo, hi))


def test_demo_logistics_motivation_about_one_point_lower(demo):
    _, res = demo
    planted = PLANTED["low_motivation_department"]
    idx = res.index.set_index("group")
    assert idx["mean"].drop(TOTAL).idxmin() == planted["department"]
    assert idx.loc[planted["department"], "diff_rest"] == pytest.approx(planted["motivation_gap"], abs=0.25)
    assert idx.loc[planted["department"], "below_rest"]
    prof = res.motivation[res.motivation["group"] == planted["department"]]
    assert prof["below_rest"].all()
    lowest = list(prof.sort_values("diff_rest")["measure"].iloc[:2])
    assert sorted(lowest) == sorted(planted["lowest_items"])


def test_demo_kpi_shares_and_weakest_touchpoint(demo):
    _, res = demo
    planted = PLANTED["kpis"]
    kpi = res.kpi.set_index("department")
    assert kpi.loc[planted["no_customer_metric_department"], "customer_share"] == 0.0
    assert kpi.loc[planted["customer_focused_department"], "customer_share"] >= planted["min_customer_weight"]
    for dept, share in planted["customer_weight"].items():
        assert kpi.loc[dept, "customer_share"] == pytest.approx(share)
    assert res.touchpoints.iloc[0]["touchpoint"] == PLANTED["lowest_rated_touchpoint"]
    cx = res.cx.set_index("department")
    assert cx.loc["Logistics", "owns_weakest"] and cx["owns_weakest"].sum() == 1
    assert PLANTED["low_motivation_department"]["owns"] in cx.loc["Logistics", "touchpoints"]


def test_demo_findings(demo):
    audit, res = demo
    findings = {f.id: f for f in emp.employees_findings(audit, "ru", res)}
    kpi = findings["employees.kpi_no_cx.Logistics"]
    assert kpi.severity == 4 and kpi.value == 0.0 and kpi.unit == "%"
    assert kpi.tags["departments"] == ["Logistics"] and "tp_delivery" in kpi.tags["touchpoints"]
    assert "самые слабые" in kpi.title
    assert not [i for i in findings if i.startswith("employees.kpi_no_cx.") and i != "employees.kpi_no_cx.Logistics"]
    enps = findings["employees.enps.Logistics"]
    assert enps.severity == 4 and enps.ci_high is not None and enps.ci_high < 0 and enps.n == 60
    assert "employees.motivation.Logistics" in findings
    assert all(0 <= f.reach <= 1 and "{" not in f.title for f in findings.values())


def test_demo_ex_cx_link_has_caveat_and_exact_p(demo):
    _, res = demo
    corr = res.correlations.set_index(["ex", "cx"])
    row = corr.loc[("enps", "cx_mean")]
    assert row["n"] == 6
    # recompute ρ by hand from the two columns: 1 − 6Σd²/(n(n²−1)) on the ranks (no ties here)
    t = res.ex_cx
    d = t["enps"].rank().to_numpy() - t["cx_mean"].rank().to_numpy()
    assert row["rho"] == pytest.approx(1 - 6 * (d**2).sum() / (6 * 35))
    assert row["critical_rho"] == pytest.approx(0.886, abs=6e-4)
    assert "6" in emp.small_n_caveat(res.correlations, "pl")


@pytest.mark.slow
def test_notebook_runs_without_employee_data(tmp_path, make_client):
    """The notebook shows the missing-input line and emits no findings (papermill, ~5 s)."""
    folder = make_client(tmp_path, {"r.csv": "response_id,date,nps\nr1,2025-01-01,9\n"},
                         "client: {name: Acme}\ninputs:\n  responses: {file: r.csv}\n")
    nb = Path(emp.__file__).resolve().parents[1] / "notebooks" / "06_employees.ipynb"
    code = ("import papermill as pm, sys; pm.execute_notebook(sys.argv[1], sys.argv[2], "
            "parameters={'client': sys.argv[3], 'run_dir': sys.argv[4], 'lang': 'pl'}, kernel_name='python3', "
            "progress_bar=False, execution_timeout=120)")
    out = tmp_path / "out.ipynb"
    subprocess.run([sys.executable, "-c", code, str(nb), str(out), str(folder), str(tmp_path / "run")], check=True,
                   capture_output=True)
    text = out.read_text(encoding="utf-8")
    assert "Nie oceniono" in text or "nie dostarczył" in text
    assert (tmp_path / "run" / "findings" / "06_employees.json").read_text(encoding="utf-8").strip() == "[]"
