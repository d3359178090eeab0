"""One LTV and one churn rate per period for the same customers (issue 4, review point 2).

The CX-metrics section's customer table (:func:`cxaudit.scorecard.customer_value`) uses the churn
section's functions (``churn.churn_rates``, ``churn.exposure_rates``, ``economics.ltv_by_group``)
and the audit's ``economics`` assumptions, so its churn per period and lifetime value are the churn
section's. Expected values are worked out by hand below.

Planted client: data period 1 January – 31 December 2025 (audit.yaml ``churn: {as_of: 2025-12-31,
observation_months: 12}``; survey dates never set it since issue 13); every customer
started on 1 January 2024, so each one's time at risk runs from 1 January 2025 to the churn date or
to 31 December 2025 (364 days). Months are 365.25 / 12 = 30.4375 days. audit.yaml sets margin
m = 0.5 and discount rate i = 0.2 a year (revenue per 12 months), not the defaults 0.3 / 0.1.

=====  =========================  ==================  =====================================
group  churn dates                revenue             days at risk
=====  =========================  ==================  =====================================
A      1 Apr, 1 Jul (2 of 4)      100 200 300 400     90 + 181 + 364 + 364 = 999
B      1 Oct (1 of 4)             800 1000 1000 1200  273 + 3 × 364 = 1365
=====  =========================  ==================  =====================================

A: T = 999 / 30.4375 = 32.821355 months, λ = 2 / T = 0.0609359, churn per 12 months
   c = 1 − exp(−12λ) = 0.518684; exact Poisson interval 1 − exp(−12·χ²(.025; 4)/2T) = 0.084748 to
   1 − exp(−12·χ²(.975; 6)/2T) = 0.928743. R̄ = 250. LTV = 0.5 · 250 · 1.2 / (0.2 + 0.518684) = 208.7148.
B: T = 1365 / 30.4375 = 44.845996, λ = 0.0222985, c = 0.234773 [0.006752; 0.774824]; R̄ = 1000;
   LTV = 0.5 · 1000 · 1.2 / (0.2 + 0.234773) = 1380.0313.
The old section-2 table gave c = 1 − (1 − 2/4)^(1/T years) and LTV = 1.0 · 250 / c, no discounting.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats

from cxaudit import churn, economics, load_audit, scorecard
from cxaudit.audit import Audit

MONTH = 365.25 / 12

CUSTOMERS = """customer_id,segment,start_date,revenue,churned,churn_date
c1,A,2024-01-01,100,1,2025-04-01
c2,A,2024-01-01,200,1,2025-07-01
c3,A,2024-01-01,300,0,
c4,A,2024-01-01,400,0,
c5,B,2024-01-01,800,1,2025-10-01
c6,B,2024-01-01,1000,0,
c7,B,2024-01-01,1000,0,
c8,B,2024-01-01,1200,0,
"""
RESPONSES = "response_id,customer_id,date,nps,segment\nr1,c1,2025-01-01,3,A\nr2,c5,2025-12-31,9,B\n"
YAML = ("client: {name: Planted, language: en, currency: EUR}\nmin_base: 1\nsegments: [segment]\n"
        "economics: {margin: 0.5, discount_rate: 0.2}\nchurn: {as_of: 2025-12-31, observation_months: 12}\n"
        "inputs:\n  responses: {file: responses.csv}\n  customers: {file: customers.csv}\n")


def _audit(folder: Path, customers: str = CUSTOMERS) -> Audit:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "customers.csv").write_text(customers, encoding="utf-8")
    (folder / "responses.csv").write_text(RESPONSES, encoding="utf-8")
    (folder / "audit.yaml").write_text(YAML, encoding="utf-8")
    return load_audit(folder)


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> Audit:
    return _audit(tmp_path_factory.mktemp("value") / "client")


def _hand(events: int, days: float, revenue: list[float], m: float = 0.5, i: float = 0.2) -> dict[str, float]:
    T = days / MONTH
    lam = events / T
    c = 1 - math.exp(-12 * lam)
    rbar = sum(revenue) / len(revenue)
    return {"exposure": T, "period_churn": c,
            "period_churn_ci_low": 1 - math.exp(-12 * stats.chi2.ppf(0.025, 2 * events) / (2 * T)),
            "period_churn_ci_high": 1 - math.exp(-12 * stats.chi2.ppf(0.975, 2 * events + 2) / (2 * T)),
            "revenue_mean": rbar, "ltv": m * rbar * (1 + i) / (i + c)}


def test_hand_values_quoted_in_the_docstring() -> None:
    a, b = _hand(2, 999, [100, 200, 300, 400]), _hand(1, 1365, [800, 1000, 1000, 1200])
    assert a["exposure"] == pytest.approx(32.821355, abs=1e-6) and b["exposure"] == pytest.approx(44.845996, abs=1e-6)
    assert (a["period_churn"], a["period_churn_ci_low"], a["period_churn_ci_high"]) == pytest.approx(
        (0.518684, 0.084748, 0.928743), abs=1e-6)
    assert (b["period_churn"], b["period_churn_ci_low"], b["period_churn_ci_high"]) == pytest.approx(
        (0.234773, 0.006752, 0.774824), abs=1e-6)
    assert a["ltv"] == pytest.approx(208.7148, abs=1e-4) and b["ltv"] == pytest.approx(1380.0313, abs=1e-4)


def test_customer_value_by_segment_by_hand(audit: Audit) -> None:
    cv = scorecard.customer_value(audit, "segment", lang="en").set_index("segment")
    assert cv.index.tolist() == ["A", "B"] and not cv["not_stated"].any()
    for g, (events, days, revenue, churned) in {"A": (2, 999, [100, 200, 300, 400], 2),
                                                 "B": (1, 1365, [800, 1000, 1000, 1200], 1)}.items():
        hand, row = _hand(events, days, revenue), cv.loc[g]
        for col in ("period_churn", "period_churn_ci_low", "period_churn_ci_high", "revenue_mean", "ltv"):
            assert row[col] == pytest.approx(hand[col], rel=1e-9), (g, col)
        # churn over the data period: churned / n with the Wilson interval
        lo, hi = stats.binomtest(churned, 4).proportion_ci(method="wilson")
        assert (row["n"], row["churned"], row["churn_rate"]) == (4, churned, churned / 4)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((lo, hi), rel=1e-9)
        assert row["retention_rate"] == pytest.approx(1 - churned / 4)
        # revenue: Student t interval, s/√n with s the sample SD
        sd = pd.Series(revenue, dtype=float).std(ddof=1)
        half = stats.t.ppf(0.975, 3) * sd / 2
        assert (row["revenue_ci_low"], row["revenue_ci_high"]) == pytest.approx((hand["revenue_mean"] - half,
                                                                                hand["revenue_mean"] + half))
        assert row["ltv_ci_low"] < row["ltv"] < row["ltv_ci_high"]


def test_customer_value_total_by_hand(audit: Audit) -> None:
    total = scorecard.customer_value(audit, None)
    assert len(total) == 1
    hand = _hand(3, 999 + 1365, [100, 200, 300, 400, 800, 1000, 1000, 1200])
    for col in ("period_churn", "revenue_mean", "ltv"):
        assert total[col].item() == pytest.approx(hand[col], rel=1e-9), col


@pytest.mark.filterwarnings("ignore:overflow encountered in exp")  # the driver model on 8 customers
def test_same_figures_and_labels_as_the_churn_section(audit: Audit) -> None:
    an = churn.analyse_audit(audit, touchpoint_models=False)
    assert an.assumptions.margin == 0.5 and an.assumptions.discount_rate == 0.2
    assert scorecard.money_assumptions(audit) == an.assumptions
    total = scorecard.customer_value(audit, None)
    assert total["period_churn"].item() == pytest.approx(float(an.period["period_churn"].iloc[0]), rel=1e-12)
    cv = scorecard.customer_value(audit, "segment", lang="en").set_index("segment")
    by = an.by_segment["segment"].set_index("segment")
    assert cv["churn_rate"].to_dict() == pytest.approx(by["rate"].to_dict())
    ltv = economics.ltv_by_group(an.frame, churn.exposure_rates(an.frame, "segment", period_months=12.0),
                                 "segment", an.assumptions).set_index("segment")
    assert cv["ltv"].to_dict() == pytest.approx(ltv["ltv"].to_dict(), rel=1e-12)
    headers = [c.header for c in scorecard.customer_columns("segment", audit, "en")]
    assert headers[-3:] == ["Churn per 12 months", "Mean revenue per period, EUR", "Lifetime value, EUR"]
    note = scorecard.customers_note(audit, "en")
    assert "gross margin 50.0%" in note and "discount rate 20.0% a year" in note
    assert "1 January 2025 – 31 December 2025" in note


def test_without_start_dates_no_churn_per_period_and_no_ltv(tmp_path: Path) -> None:
    # no start_date / tenure: time at risk unknown; the churn section shows neither, nor does this one
    text = "\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != 2)
                     for line in CUSTOMERS.splitlines()) + "\n"
    audit = _audit(tmp_path / "client", text)
    cv = scorecard.customer_value(audit, "segment", lang="en")
    assert cv["churn_rate"].tolist() == [0.5, 0.25]
    assert cv["period_churn"].isna().all() and cv["ltv"].isna().all()
    assert cv["revenue_mean"].tolist() == [250.0, 1000.0]
    assert "need the customers' start dates or tenure" in scorecard.customers_note(audit, "en")
