"""Churn rates, reasons, driver models, survival and the economics of churn.

Every expected number is independent of the code under test: counted and computed by hand with the
formula written out beside it, taken from a published reference (the R call is quoted), or planted in
the demo data (``cxaudit.demo.PLANTED["churn"]``). References:

- Woolf (1955): OR = ad/bc, 95% CI exp(ln OR ± 1.96·√(1/a + 1/b + 1/c + 1/d)); a logistic regression on a
  2×2 table reproduces both exactly.
- Katz et al. (1978): RR = (a/n₁)/(c/n₂), CI exp(ln RR ± 1.96·√(1/a − 1/n₁ + 1/c − 1/n₂))
  (R: ``epitools::riskratio(method = "wald")``).
- Wilson (1927) score interval; Holm (1979) step-down adjustment.
- Garwood (1936) exact Poisson interval, R: ``poisson.test(3, 100)$conf.int`` = 0.006186721 0.087672731.
- Kaplan–Meier with Greenwood's variance and the log–log interval; Cox's partial likelihood written out.
- Gupta & Lehmann (2003): LTV = m·R̄·(1 + i)/(i + c).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats
from statsmodels.stats.outliers_influence import variance_inflation_factor

from cxaudit import churn, churn_view, economics
from cxaudit.errors import MetricError
from cxaudit.findings import Finding

#: R: qnorm(0.975)
Z = 1.959963984540054


# --- fixtures ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_analysis(tmp_path_factory: pytest.TempPathFactory) -> churn.ChurnAnalysis:
    """The default-size demo (the size the planted 3× effect is specified for), analysed once."""
    from cxaudit.audit import load_audit
    from cxaudit.demo import generate_demo

    folder = generate_demo(tmp_path_factory.mktemp("demo"), size="default", lang="en")
    return churn.analyse_audit(load_audit(folder))


def _two_by_two(a: int = 20, b: int = 80, c: int = 10, d: int = 90) -> pd.DataFrame:
    """a churned / b retained detractors, c churned / d retained promoters."""
    return pd.DataFrame({
        "churned": [1] * a + [0] * b + [1] * c + [0] * d,
        "nps_group": ["detractor"] * (a + b) + ["promoter"] * (c + d),
    })


# --- the planted effect -----------------------------------------------------------------------------------


def test_detractors_churn_three_times_as_often_as_promoters(demo_analysis: churn.ChurnAnalysis) -> None:
    from cxaudit.demo import PLANTED

    planted = PLANTED["churn"]
    by = demo_analysis.by_group.set_index("nps_group")
    # exact counts were planted: round(rate × n) churners in each group
    for group, rate in planted["rates"].items():
        assert by.loc[group, "churned"] == round(rate * by.loc[group, "n"]), group
    r = demo_analysis.ratio
    assert r is not None
    assert r.ci_low < planted["detractor_to_promoter_ratio"] < r.ci_high
    assert r.ratio == pytest.approx(3.0, abs=0.15)
    # the model-adjusted odds ratio and the Cox hazard ratio point the same way, clearly above 1
    assert demo_analysis.logit.ratio("nps_group=detractor")["ci_low"] > 2
    assert demo_analysis.cox.ratio("nps_group=detractor")["ci_low"] > 1.5
    # churned customers open about twice as many tickets: the ticket odds ratio is clearly above 1
    assert demo_analysis.logit.ratio("n_tickets")["ci_low"] > 1.3


def test_demo_findings_carry_ids_units_and_money(demo_analysis: churn.ChurnAnalysis) -> None:
    findings = churn.churn_findings(demo_analysis, "en")
    ids = [f.id for f in findings]
    assert len(ids) == len(set(ids))
    by_id = {f.id: f for f in findings}
    overall = by_id["churn.rate.overall"]
    assert overall.unit == "%" and overall.n == 4000
    assert overall.value == pytest.approx(100 * 570 / 4000)  # 570 churned of 4,000 in the demo
    ratio = by_id["churn.detractor_ratio"]
    assert ratio.unit == "" and ratio.ci_low < 3 < ratio.ci_high
    # the Pareto "vital few": reasons until 80% cumulative share; every reason finding is a slug of its text
    reasons = [f for f in findings if f.id.startswith("churn.reason.")]
    assert 1 <= len(reasons) <= churn.MAX_REASON_FINDINGS
    top = demo_analysis.reasons.table
    assert reasons[0].id == f"churn.reason.{churn.slug(top['reason'].iloc[0])}"
    assert all(f.unit == "%" and f.tags["themes"] for f in reasons)
    rar = by_id["churn.revenue_at_risk"]
    for key in ("revenue_at_risk", "uplift_detractors_to_promoter_rate", "currency"):
        assert key in rar.evidence
    assert rar.evidence["revenue_at_risk"] == rar.value > 0
    assert 0 < rar.evidence["uplift_detractors_to_promoter_rate"] < rar.value
    assert rar.ci_low < rar.value < rar.ci_high
    # the lowest-rated touchpoint (planted: tp_delivery, owned by Logistics) is linked to churn, with its tags
    delivery = by_id["churn.touchpoint.tp_delivery"]
    assert delivery.ci_low > 1 and delivery.tags["departments"] == ["Logistics"]
    assert delivery.tags["stages"] == ["post-purchase"] and 0 < delivery.reach < 1
    # every finding survives the JSON round trip the TO-BE step reads
    for f in findings:
        assert Finding.from_dict(f.to_dict()).id == f.id


def test_demo_findings_and_blocks_render_in_every_language(demo_analysis: churn.ChurnAnalysis) -> None:
    for lang in ("ru", "pl"):
        titles = [f.title for f in churn.churn_findings(demo_analysis, lang)]
        assert titles and not any("{" in x or "}" in x for x in titles)
    html = "".join(b.data for b in churn_view.blocks_economics(demo_analysis, "pl") if hasattr(b, "data"))
    assert "{" not in html and "}" not in html
    assert "\u00a0%" in html  # Polish percentages: "30,0 %"


# --- odds ratio against a 2×2 table by hand -------------------------------------------------------------


def test_odds_ratio_equals_woolf_2x2_by_hand() -> None:
    # a = 20, b = 80 (detractors), c = 10, d = 90 (promoters)
    a, b, c, d = 20, 80, 10, 90
    or_hand = (a * d) / (b * c)  # = 1800 / 800 = 2.25
    se_hand = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)  # = √(25/144) = 5/12
    lo_hand = math.exp(math.log(or_hand) - Z * se_hand)  # ≈ 0.9944
    hi_hand = math.exp(math.log(or_hand) + Z * se_hand)  # ≈ 5.0913
    p_hand = 2 * stats.norm.sf(math.log(or_hand) / se_hand)  # ≈ 0.0516
    assert or_hand == 2.25 and se_hand == pytest.approx(5 / 12)

    m = churn.fit_logit(_two_by_two(a, b, c, d), categorical={"nps_group": "promoter"})
    row = m.ratio("nps_group=detractor")
    assert row["ratio"] == pytest.approx(or_hand, rel=1e-8)
    assert row["se"] == pytest.approx(se_hand, rel=1e-6)
    assert row["ci_low"] == pytest.approx(lo_hand, rel=1e-6)
    assert row["ci_high"] == pytest.approx(hi_hand, rel=1e-6)
    assert row["p_value"] == pytest.approx(p_hand, rel=1e-6)
    assert m.n == 200 and m.n_events == 30 and m.messages == []
    ref = m.ratio("nps_group=promoter")
    assert bool(ref["reference"]) and ref["ratio"] == 1.0


def test_rate_ratio_katz_interval_by_hand() -> None:
    # 6 of 20 detractors and 2 of 20 promoters churned: RR = 0.30 / 0.10 = 3
    f = _two_by_two(6, 14, 2, 18)
    se = math.sqrt(1 / 6 - 1 / 20 + 1 / 2 - 1 / 20)  # = √0.5667 = 0.75277
    r = churn.rate_ratio(f)
    assert r.ratio == pytest.approx(3.0)
    assert r.ci_low == pytest.approx(3 * math.exp(-Z * se), rel=1e-9)  # 0.686
    assert r.ci_high == pytest.approx(3 * math.exp(Z * se), rel=1e-9)  # 13.118
    # two-proportion z-test equals the uncorrected χ² test of the 2×2 table
    chi2 = stats.chi2_contingency([[6, 14], [2, 18]], correction=False)
    assert r.p_value == pytest.approx(chi2.pvalue, rel=1e-9)
    with pytest.raises(MetricError, match="both groups"):
        churn.rate_ratio(_two_by_two(5, 15, 0, 20))


def test_churn_rate_wilson_interval_by_hand() -> None:
    f = pd.DataFrame({"churned": [1, 1, 1] + [0] * 7 + [pd.NA]})  # unknown status: left out, n = 10
    k, n = 3, 10
    p = k / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2)) / (1 + Z**2 / n)
    row = churn.churn_rates(f.astype({"churned": "Int64"})).iloc[0]
    assert (row["n"], row["churned"], row["rate"]) == (10, 3, 0.3)
    assert row["ci_low"] == pytest.approx(centre - half, rel=1e-9)  # 0.1078
    assert row["ci_high"] == pytest.approx(centre + half, rel=1e-9)  # 0.6032
    assert bool(row["small_base"])


def test_group_vs_rest_tests_are_holm_corrected() -> None:
    f = pd.DataFrame({"churned": [1] * 30 + [0] * 70 + [1] * 10 + [0] * 90 + [1] * 12 + [0] * 88,
                      "seg": ["A"] * 100 + ["B"] * 100 + ["C"] * 100})
    tab = churn.churn_rates(f, "seg").set_index("seg")
    raw = {}
    for g, (k, n) in {"A": (30, 100), "B": (10, 100), "C": (12, 100)}.items():
        raw[g] = stats.chi2_contingency([[k, n - k], [52 - k, 200 - (52 - k)]], correction=False).pvalue
    order = sorted(raw, key=raw.get)  # Holm: (m − i + 1)·p₍ᵢ₎, made monotone
    adj, running = {}, 0.0
    for i, g in enumerate(order):
        running = max(running, min(1.0, (3 - i) * raw[g]))
        adj[g] = running
    for g in raw:
        assert tab.loc[g, "p_value"] == pytest.approx(raw[g], rel=1e-9)
        assert tab.loc[g, "p_holm"] == pytest.approx(adj[g], rel=1e-9)
    assert tab.loc["A", "direction"] == 1 and tab.loc["B", "direction"] in (-1, 0)


# --- the customer frame -----------------------------------------------------------------------------------


def test_customer_frame_links_latest_valid_answer_tickets_and_times() -> None:
    customers = pd.DataFrame({
        "customer_id": ["c1", "c2", "c3"],
        "churned": pd.array([True, False, False], dtype="boolean"),
        "start_date": pd.to_datetime(["2024-01-01", "2025-02-01", "2023-07-01"]),
        "churn_date": pd.to_datetime(["2025-03-01", None, None]),
        "revenue": [100.0, 200.0, 300.0],
    })
    responses = pd.DataFrame({
        "_row": [2, 3, 4, 5],
        "customer_id": ["c1", "c1", "c2", "c2"],
        "date": pd.to_datetime(["2025-01-05", "2025-02-05", "2025-01-10", "2025-03-10"]),
        "nps": [10.0, 3.0, 9.0, np.nan],  # c1: latest valid = 3 (detractor); c2: the later answer has no NPS
        "tp_delivery": [5.0, 2.0, 4.0, 1.0],
    })
    tickets = pd.DataFrame({
        "customer_id": ["c1", "c1", "c2"],
        "created_at": pd.to_datetime(["2025-01-02 10:00", "2025-01-03 10:00", "2025-06-28 10:00"]),
        "resolved_at": pd.to_datetime(["2025-01-04 12:00", "2025-01-03 11:00", None]),  # 50 h, 1 h, open
    })
    window = churn.Window(pd.Timestamp("2025-01-01"), pd.Timestamp("2025-06-30"))
    f = churn.customer_frame(customers, responses, tickets, window=window).set_index("customer_id")
    assert f["nps_group"].tolist() == ["detractor", "promoter", "no_response"]
    assert f.loc["c1", "tp_delivery"] == 2.0 and f.loc["c2", "tp_delivery"] == 4.0
    assert f["n_tickets"].tolist() == [2, 1, 0]
    # slow: c1's 50-hour ticket; c2's ticket open from 28 June 10:00 to the end of 30 June (62 h > 48 h)
    assert f["n_slow"].tolist() == [1, 1, 0]
    m = churn.MONTH_DAYS
    # c1 started 2024-01-01, churned 2025-03-01 (425 days), entered the data period after 366 days
    assert f.loc["c1", "t_exit"] == pytest.approx(425 / m)
    assert f.loc["c1", "t_entry"] == pytest.approx(366 / m)
    # c2 started inside the period: entry 0, exit at the period's end (2025-06-30, 149 days later)
    assert f.loc["c2", "t_entry"] == 0.0 and f.loc["c2", "t_exit"] == pytest.approx(149 / m)
    # c1 could be observed from the period start to its end (180 days) although it left in March
    assert f.loc["c1", "t_window"] == pytest.approx(180 / m)
    with pytest.raises(MetricError, match="'churned'"):
        churn.customer_frame(customers.assign(churned=["yes", "maybe", "no"]))


# --- trend, reasons, exposure -------------------------------------------------------------------------------


def test_monthly_trend_marks_the_significant_jump() -> None:
    # 100 customers from 2024; 2 leave in January, 2 in February, 20 in March 2025
    dates = ["2025-01-10"] * 2 + ["2025-02-10"] * 2 + ["2025-03-10"] * 20 + [None] * 76
    f = pd.DataFrame({"customer_id": range(100), "churned": [1] * 24 + [0] * 76,
                      "start_date": pd.Timestamp("2024-01-01"), "churn_date": pd.to_datetime(dates)})
    window = churn.Window(pd.Timestamp("2025-01-01"), pd.Timestamp("2025-03-31"))
    tr = churn.churn_trend(churn.customer_frame(f, window=window), window)
    tab = tr.table
    assert tab["period"].tolist() == ["2025-01", "2025-02", "2025-03"]
    assert tab["at_risk"].tolist() == [100, 98, 96] and tab["churned"].tolist() == [2, 2, 20]
    p_feb = stats.chi2_contingency([[2, 96], [2, 98]], correction=False).pvalue
    p_mar = stats.chi2_contingency([[20, 76], [2, 96]], correction=False).pvalue
    assert tab["p_value"].iloc[1] == pytest.approx(p_feb, rel=1e-9)
    assert tab["p_value"].iloc[2] == pytest.approx(p_mar, rel=1e-9)
    # Holm over the 2 comparisons: the smaller p doubled, the larger kept (monotone)
    assert tab["p_holm"].iloc[2] == pytest.approx(2 * p_mar, rel=1e-9)
    assert tab["p_holm"].iloc[1] == pytest.approx(max(p_feb, 2 * p_mar), rel=1e-9)
    assert tab["significant"].tolist() == [False, False, True]
    chi2 = stats.chi2_contingency([[2, 98], [2, 96], [20, 76]], correction=False)
    assert tr.p_value == pytest.approx(chi2.pvalue, rel=1e-9) and tr.dof == 2
    assert churn.churn_trend(f.drop(columns="churn_date").assign(t_exit=1.0), window) is None


def test_reason_pareto_by_hand_and_escaped_in_the_report() -> None:
    reasons = ["<b>Price</b>"] * 5 + ["Delivery problems"] * 3 + ["Billing"] + [""] + [None] * 5
    f = pd.DataFrame({"customer_id": range(15), "churned": [1] * 10 + [0] * 5, "churn_reason": reasons,
                      "t_exit": 1.0, "t_entry": 0.0})
    rs = churn.reason_pareto(f)
    assert (rs.n_churned, rs.n_stated, rs.n_not_stated) == (10, 9, 1)
    assert rs.table["n"].tolist() == [5, 3, 1]
    assert rs.table["share"].tolist() == pytest.approx([5 / 9, 3 / 9, 1 / 9])
    assert rs.table["cum_share"].iloc[-1] == pytest.approx(1.0)
    assert rs.table["slug"].tolist() == ["b_price_b", "delivery_problems", "billing"]
    an = churn.ChurnAnalysis(f, None, [], 30, economics.Assumptions(), reasons=rs)
    html = "".join(b.data for b in churn_view.blocks_reasons(an, "en") if hasattr(b, "data"))
    assert "&lt;b&gt;Price&lt;/b&gt;" in html and "<b>Price" not in html


def test_exposure_rate_and_garwood_interval() -> None:
    # 3 events in 100 months at risk: λ = 0.03 per month
    f = pd.DataFrame({"churned": [1, 1, 1, 0], "t_entry": 0.0, "t_exit": [10.0, 20.0, 30.0, 40.0]})
    row = churn.exposure_rates(f, period_months=12).iloc[0]
    assert row["hazard"] == pytest.approx(0.03)
    assert row["period_churn"] == pytest.approx(1 - math.exp(-12 * 0.03))  # 0.30232
    # R: poisson.test(3, 100)$conf.int -> 0.006186721 0.087672731
    assert row["ci_low"] == pytest.approx(1 - math.exp(-12 * 0.006186721), rel=1e-6)
    assert row["ci_high"] == pytest.approx(1 - math.exp(-12 * 0.087672731), rel=1e-6)


# --- model checks: messages, not crashes ----------------------------------------------------------------------


def test_constant_column_is_dropped_with_a_message() -> None:
    f = _two_by_two().assign(plan="basic", fee=5.0)
    m = churn.fit_logit(f, ["fee"], {"nps_group": "promoter", "plan": None})
    codes = {(msg.code, msg.column) for msg in m.messages}
    assert ("constant", "fee") in codes and ("constant", "plan") in codes
    assert m.ratio("nps_group=detractor")["ratio"] == pytest.approx(2.25, rel=1e-8)  # unaffected
    assert "plan" not in set(m.table["predictor"])
    text = {msg.column: msg.text("en") for msg in m.messages}
    assert "one value only (basic)" in text["plan"]
    for lang in ("ru", "pl"):
        assert all(msg.text(lang) for msg in m.messages)


def test_missing_values_are_dropped_listwise_and_counted() -> None:
    rng = np.random.default_rng(1)
    f = _two_by_two().assign(tenure_years=rng.uniform(0, 5, 200))
    f.loc[[3, 50, 120, 121, 199], "tenure_years"] = np.nan
    f.loc[[7, 50], "nps_group"] = None  # row 50 misses both: still one customer
    m = churn.fit_logit(f, ["tenure_years"], {"nps_group": "promoter"})
    msg = next(x for x in m.messages if x.code == "missing")
    assert m.n_missing == msg.detail["n"] == 6 and m.n == 194
    assert msg.detail["by_column"] == {"tenure_years": 5, "nps_group": 2}
    assert "6 customers (3.0%)" in msg.text("en")


def test_perfect_separation_by_a_category_is_detected_and_the_model_refitted() -> None:
    f = _two_by_two()
    f["channel"] = np.where(np.arange(200) % 2 == 0, "web", "store")
    f.loc[f.index[:10], "channel"] = "fax"  # the 10 rows of "fax" are all churned detractors: 100% churn
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing may leak from statsmodels
        m = churn.fit_logit(f, categorical={"nps_group": "promoter", "channel": None})
    msg = next(x for x in m.messages if x.code == "separation_level")
    assert msg.column == "channel" and msg.detail == {"level": "fax", "rate": 1.0, "n": 10}
    assert "channel" not in set(m.table["predictor"])
    assert m.ratio("nps_group=detractor")["ratio"] == pytest.approx(2.25, rel=1e-8)
    assert "100%" in msg.text("en")


def test_perfect_separation_by_a_number_is_detected() -> None:
    f = _two_by_two()
    f["score"] = f["churned"] * 10 + np.linspace(0, 1, 200)  # churners all above 10, the rest below 1
    m = churn.fit_logit(f, ["score"], {"nps_group": "promoter"})
    assert [x.code for x in m.messages] == ["separation_numeric"]
    assert "score" not in set(m.table["predictor"])


def test_separation_found_only_by_the_fit_is_reported_and_refitted() -> None:
    rng = np.random.default_rng(7)
    x1, x2 = rng.standard_normal(300), rng.standard_normal(300)
    f = pd.DataFrame({"churned": (x1 + x2 > 0).astype(int), "x1": x1, "x2": x2, "x3": rng.standard_normal(300)})
    # neither x1 nor x2 alone separates (their ranges overlap), together they do perfectly
    assert f.loc[f.churned == 1, "x1"].min() < f.loc[f.churned == 0, "x1"].max()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = churn.fit_logit(f, ["x1", "x2", "x3"])
    sep = [x for x in m.messages if x.code == "separation_fit"]
    assert len(sep) == 1 and sep[0].column in ("x1", "x2")
    assert sep[0].column not in set(m.table["predictor"]) and np.isfinite(m.table["ratio"]).all()


def test_aliased_and_collinear_predictors() -> None:
    rng = np.random.default_rng(3)
    n = 400
    x1, x2 = rng.standard_normal(n), rng.standard_normal(n)
    f = pd.DataFrame({"churned": (rng.random(n) < 0.3).astype(int), "x1": x1, "x2": x2, "x3": x1 + x2,
                      "x4": x1 + 0.1 * rng.standard_normal(n)})
    m = churn.fit_logit(f, ["x1", "x2", "x3", "x4"])
    assert ("aliased", "x3") in {(x.code, x.column) for x in m.messages}
    flagged = {x.column: x.detail["vif"] for x in m.messages if x.code == "vif"}
    assert set(flagged) == {"x1", "x4"}
    # VIF against statsmodels' regression-based definition (design with a constant)
    design = np.column_stack([np.ones(n), f[["x1", "x2", "x4"]].to_numpy()])
    for j, col in enumerate(["x1", "x2", "x4"], start=1):
        ref = variance_inflation_factor(design, j)
        assert m.vif.set_index("term").loc[col, "vif"] == pytest.approx(ref, rel=1e-8)
    assert flagged["x1"] > churn.VIF_THRESHOLD


def test_bad_model_input_raises_clear_errors() -> None:
    f = _two_by_two()
    with pytest.raises(MetricError, match="'tenure_years' not found"):
        churn.fit_logit(f, ["tenure_years"])
    with pytest.raises(MetricError, match="'churned' has a single value"):
        churn.fit_logit(f.assign(churned=0), categorical={"nps_group": None})
    with pytest.raises(MetricError, match="'nps_group' must be numeric"):
        churn.fit_logit(f, ["nps_group"])
    with pytest.raises(MetricError, match="no usable predictor"):
        churn.fit_logit(f.assign(flat=1.0), ["flat"])


def test_few_events_per_parameter_are_warned_about() -> None:
    m = churn.fit_logit(_two_by_two(4, 16, 2, 18), categorical={"nps_group": "promoter"})
    low = next(x for x in m.messages if x.code == "low_epv")
    assert low.detail["events"] == 6 and low.detail["params"] == 1 and low.detail["epv"] == 6.0


# --- survival ------------------------------------------------------------------------------------------------


def test_kaplan_meier_and_log_log_interval_by_hand() -> None:
    f = pd.DataFrame({"churned": [1, 1, 0, 1, 0], "t_exit": [1.0, 2.0, 2.0, 3.0, 4.0], "t_entry": 0.0,
                      "nps_group": "promoter"})
    sv = churn.survival(f, horizons=(1, 2, 3), delayed_entry=False)
    row = sv.table.iloc[0]
    # at risk 5, 4, 2 at t = 1, 2, 3 with one event each: S = 4/5, ·3/4, ·1/2
    s3 = 0.8 * 0.75 * 0.5
    assert [row["surv_1"], row["surv_2"], row["surv_3"]] == pytest.approx([0.8, 0.6, s3])
    greenwood = s3**2 * (1 / (5 * 4) + 1 / (4 * 3) + 1 / (2 * 1))
    half = Z * math.sqrt(greenwood) / (s3 * abs(math.log(s3)))
    assert row["ci_low_3"] == pytest.approx(math.exp(-math.exp(math.log(-math.log(s3)) + half)), rel=1e-6)
    assert row["ci_high_3"] == pytest.approx(math.exp(-math.exp(math.log(-math.log(s3)) - half)), rel=1e-6)
    assert row["n_risk_3"] == 2


def _cox_partial_loglik(beta: float, t: np.ndarray, e: np.ndarray, x: np.ndarray, entry: np.ndarray) -> float:
    """Cox (1972): Σ over events i of [β·xᵢ − ln Σ_{j at risk at tᵢ} exp(β·xⱼ)], at risk: entryⱼ < tᵢ ≤ tⱼ."""
    out = 0.0
    for i in np.flatnonzero(e):
        risk = (t >= t[i]) & (entry < t[i])
        out += beta * x[i] - math.log(np.exp(beta * x[risk]).sum())
    return out


@pytest.mark.parametrize("delayed", [False, True])
def test_cox_hazard_ratio_matches_the_partial_likelihood_by_hand(delayed: bool) -> None:
    t = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
    e = np.array([1, 1, 1, 0, 1, 1, 0, 1])
    x = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0])
    entry = np.array([0.0, 0.0, 0.0, 2.5, 0.0, 1.5, 0.0, 0.0]) if delayed else np.zeros(8)
    ref = optimize.minimize_scalar(lambda b: -_cox_partial_loglik(b, t, e, x, entry), bounds=(-10, 10),
                                   method="bounded", options={"xatol": 1e-10})
    h = 1e-4  # observed information by central differences
    info = -(_cox_partial_loglik(ref.x + h, t, e, x, entry) - 2 * _cox_partial_loglik(ref.x, t, e, x, entry)
             + _cox_partial_loglik(ref.x - h, t, e, x, entry)) / h**2
    f = pd.DataFrame({"churned": e, "t_exit": t, "t_entry": entry, "x": x})
    m = churn.fit_cox(f, ["x"], entry="t_entry")
    row = m.ratio("x")
    assert row["coef"] == pytest.approx(ref.x, abs=1e-5)
    assert row["ratio"] == pytest.approx(math.exp(ref.x), rel=1e-4)
    assert row["se"] == pytest.approx(1 / math.sqrt(info), rel=1e-4)


def test_cox_drops_a_category_without_events() -> None:
    f = pd.DataFrame({"churned": [1, 0, 1, 0, 1, 0, 0, 0, 1, 1], "t_exit": np.arange(1.0, 11.0), "t_entry": 0.0,
                      "grp": ["a", "a", "b", "b", "a", "b", "c", "c", "a", "b"],
                      "x": [0.3, 0.9, 0.1, 0.5, 0.7, 0.2, 0.8, 0.4, 0.6, 0.0]})
    m = churn.fit_cox(f, ["x"], {"grp": "a"})
    msg = next(x for x in m.messages if x.code == "separation_level")
    assert msg.column == "grp" and msg.detail["level"] == "c" and msg.detail["rate"] == 0.0
    assert list(m.table["term"]) == ["x"]


def test_cox_reports_monotone_likelihood_when_every_event_has_the_lowest_value() -> None:
    # x rises with time and every event has the smallest x of its risk set: β → −∞ (no finite MLE)
    f = pd.DataFrame({"churned": [1, 0, 1, 0, 1, 0, 0, 0, 1, 1], "t_exit": np.arange(1.0, 11.0), "t_entry": 0.0,
                      "x": np.linspace(0, 1, 10), "z": [0.3, 0.9, 0.1, 0.5, 0.7, 0.2, 0.8, 0.4, 0.6, 0.0]})
    m = churn.fit_cox(f, ["x", "z"])
    assert [(x.code, x.column) for x in m.messages if x.code == "separation_fit"] == [("separation_fit", "x")]
    assert list(m.table["term"]) == ["z"] and np.isfinite(m.table["ratio"]).all()


# --- economics -------------------------------------------------------------------------------------------------


def test_ltv_by_hand() -> None:
    a = economics.Assumptions(margin=0.3, discount_rate=0.10, revenue_period_months=12)
    f = pd.DataFrame({"churned": [1, 1, 1, 0], "t_entry": 0.0, "t_exit": [10.0, 20.0, 30.0, 40.0],
                      "revenue": [100.0, 200.0, 300.0, 400.0], "nps_group": "promoter"})
    rates = churn.exposure_rates(f, "nps_group", period_months=12)
    row = economics.ltv_by_group(f, rates, "nps_group", a).iloc[0]
    lam, c, i, rbar = 0.03, 1 - math.exp(-0.36), 0.10, 250.0
    ltv = 0.3 * rbar * (1 + i) / (i + c)  # Gupta & Lehmann (2003): ≈ 205.06
    assert row["ltv"] == pytest.approx(ltv, rel=1e-9)
    assert row["ltv_simple"] == pytest.approx(0.3 * rbar / c, rel=1e-9)  # margin ÷ churn: ≈ 248.08
    sd = np.std([100, 200, 300, 400], ddof=1)
    var = sd**2 / (4 * rbar**2) + (12 * lam * math.exp(-12 * lam) / (i + c)) ** 2 / 3
    assert row["ci_low"] == pytest.approx(ltv * math.exp(-Z * math.sqrt(var)), rel=1e-9)
    assert row["ci_high"] == pytest.approx(ltv * math.exp(Z * math.sqrt(var)), rel=1e-9)
    assert economics.ltv(1000.0, 0.2, economics.Assumptions(discount_rate=0.0)) == pytest.approx(1500.0)


@pytest.fixture
def saturated() -> tuple[pd.DataFrame, churn.ModelResult]:
    """100 promoters (10 churned, active ones earn 1,000) and 100 detractors (30 churned, active earn 500).

    With NPS group as the only predictor the model is saturated: P(churn) = 0.1 and 0.3 exactly, and
    Var(p̂) = p(1 − p)/n per group. t_window = 12 makes the model horizon one revenue period (k = 1).
    """
    f = pd.DataFrame({
        "churned": [1] * 10 + [0] * 90 + [1] * 30 + [0] * 70,
        "nps_group": ["promoter"] * 100 + ["detractor"] * 100,
        "revenue": [1000.0] * 100 + [500.0] * 100, "t_window": 12.0,
    })
    return f, churn.fit_logit(f, categorical={"nps_group": "promoter"})


def test_revenue_at_risk_and_uplift_by_hand(saturated: tuple[pd.DataFrame, churn.ModelResult]) -> None:
    f, m = saturated
    a = economics.Assumptions(margin=0.3, discount_rate=0.1)
    rar = economics.revenue_at_risk(f, m, a)
    # Σ revenue × P over active customers: 90 × 1000 × 0.1 + 70 × 500 × 0.3 = 9,000 + 10,500
    assert rar.value == pytest.approx(19_500.0, rel=1e-6)
    se = math.sqrt((90 * 1000) ** 2 * 0.1 * 0.9 / 100 + (70 * 500) ** 2 * 0.3 * 0.7 / 100)  # = 3,140.5
    assert rar.ci_high - rar.value == pytest.approx(Z * se, rel=1e-5)
    assert rar.expected_churners == pytest.approx(30.0) and rar.n_active == 160 and rar.model_months == 12
    # detractors at the promoter rate: 70 × 500 × (0.3 − 0.1) = 7,000; Var = 35,000² (Var p̂_d + Var p̂_p)
    assert rar.uplift == pytest.approx(7_000.0, rel=1e-6)
    up_se = 35_000 * math.sqrt(0.3 * 0.7 / 100 + 0.1 * 0.9 / 100)  # = 1,917.0
    assert rar.uplift_ci_high - rar.uplift == pytest.approx(Z * up_se, rel=1e-5)
    assert rar.saved_customers == pytest.approx(14.0) and rar.n_detractors == 70
    # acquisition cost defaults to one period's margin of an average active customer: 0.3 × 125,000 / 160
    ret = economics.retention_vs_acquisition(f, rar, a).set_index("multiple")
    assert ret.loc[5.0, "acquisition_cost"] == pytest.approx(234.375)
    assert ret.loc[5.0, "replace_cost"] == pytest.approx(30 * 234.375)
    assert ret.loc[25.0, "retain_cost"] == pytest.approx(30 * 234.375 / 25)
    assert ret["chosen"].tolist() == [True, False, False]
    # moving 10% of detractors to promoters: 0.1 × 7,000 less at risk; LTV gain with c = 0.3 → 0.1 per period
    ltv = pd.DataFrame({"nps_group": ["promoter", "detractor"], "period_churn": [0.1, 0.3]})
    mv = economics.move_detractors(f, m, ltv, a, shares=[0.1], targets=["promoter"]).iloc[0]
    assert mv["rar_reduction"] == pytest.approx(700.0, rel=1e-6)
    assert mv["ltv_gain"] == pytest.approx(0.1 * 70 * 0.3 * 500 * 1.1 * (1 / 0.2 - 1 / 0.4), rel=1e-9)
    assert mv["customers"] == pytest.approx(7.0)


def test_assumptions_are_validated_and_read_from_the_config() -> None:
    with pytest.raises(MetricError, match="economics.margin"):
        economics.Assumptions(margin=1.5)
    with pytest.raises(MetricError, match="economics.acquisition_multiple"):
        economics.Assumptions(acquisition_multiple=0.5)

    class _Cfg:
        economics = {"margin": 0.4, "acquisition_multiple": 10}
        client = type("C", (), {"currency": "PLN"})()

    a = economics.Assumptions.from_audit(type("A", (), {"config": _Cfg()})(), discount_rate=0.0)
    assert (a.margin, a.acquisition_multiple, a.currency, a.discount_rate) == (0.4, 10, "PLN", 0.0)
    assert a.period_discount == 0.0


def test_analysis_without_survey_tickets_or_dates_degrades_gracefully() -> None:
    rng = np.random.default_rng(5)
    n = 300
    f = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "churned": (rng.random(n) < 0.2).astype(int),
                      "segment": rng.choice(["a", "b"], n), "revenue": rng.uniform(10, 100, n)})
    an = churn.analyse(churn.customer_frame(f), segments=["segment"])
    assert an.by_group is None and an.trend is None and an.survival is None and an.cox is None
    assert an.logit is not None and set(an.logit.table["predictor"]) == {"segment"}
    assert {"trend", "survival", "cox", "economics"} <= set(an.errors)  # no dates: no horizon for the money
    html = "".join(b.data for b in churn_view.blocks_economics(an, "en") if hasattr(b, "data"))
    assert "dates to tell the period" in html
    ids = [x.id for x in churn.churn_findings(an, "en")]
    assert "churn.rate.overall" in ids and "churn.detractor_ratio" not in ids


def test_catalogs_have_the_same_churn_keys() -> None:
    import yaml

    root = Path(churn.__file__).parent / "i18n"
    keys = [set(yaml.safe_load((root / lang / "churn.yaml").read_text(encoding="utf-8"))) for lang in ("en", "ru", "pl")]
    assert keys[0] == keys[1] == keys[2]


def test_doctests_of_the_churn_modules() -> None:
    import doctest

    for mod in (churn, economics):
        assert doctest.testmod(mod).failed == 0


def test_vectorised_two_proportion_p_equals_statsmodels() -> None:
    # reference: statsmodels.stats.proportion.proportions_ztest([k1, k2], [n1, n2]) (pooled, two-sided)
    import numpy as np
    from statsmodels.stats.proportion import proportions_ztest

    from cxaudit.churn import _two_prop_p

    rng = np.random.default_rng(7)
    n1, n2 = rng.integers(20, 400, 300), rng.integers(20, 400, 300)
    k1, k2 = rng.binomial(n1, 0.1), rng.binomial(n2, 0.14)
    ref = [proportions_ztest([a, b], [c, d])[1] for a, b, c, d in zip(k1, k2, n1, n2, strict=True)]
    assert np.allclose(_two_prop_p(k1, n1, k2, n2), ref, rtol=0, atol=1e-12)
