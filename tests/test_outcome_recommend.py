"""Issue 13: a non-NPS outcome (here a binary satisfied / not satisfied answer) carries through the
CX-metrics findings, the segment table and the TO-BE engine: impacts, targets and texts in outcome
points, with planted effects checked against hand computations (Wilson intervals and two-proportion
tests from statsmodels as the independent reference)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_confint, proportion_effectsize, proportions_ztest

from cxaudit import business_case as bc
from cxaudit import load_audit, scorecard
from cxaudit import recommend as rc
from cxaudit.audit import Audit
from cxaudit.findings import Finding


def _airline(folder: Path) -> Audit:
    """200 passengers: class Eco 100 (40 satisfied), Business 100 (70 satisfied); 10 did not answer
    the class (5 satisfied) and are the not-stated row. One month, no NPS."""
    rows = ["id,date,cls,sat"]
    i = 0
    for cls, n, k in (("Eco", 100, 40), ("Business", 100, 70), ("", 10, 5)):
        for j in range(n):
            i += 1
            rows.append(f"{i},2025-03-{1 + i % 28:02d},{cls},{'satisfied' if j < k else 'neutral or dissatisfied'}")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "responses.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (folder / "audit.yaml").write_text(
        "client: {name: Planted, language: en}\nmin_base: 30\nsegments: [cls]\n"
        "outcome: {column: sat, positive: [satisfied], label: Satisfied passengers}\n"
        "inputs:\n  responses: {file: responses.csv}\n", encoding="utf-8")
    return load_audit(folder)


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> Audit:
    return _airline(tmp_path_factory.mktemp("airline") / "client")


def test_outcome_overall_finding(audit: Audit) -> None:
    fs = {f.id: f for f in scorecard.metric_findings(audit, "en")}
    f = fs["cx_metrics.outcome.overall"]
    lo, hi = proportion_confint(115, 210, method="wilson")
    assert f.n == 210 and f.value == pytest.approx(100 * 115 / 210)
    assert (f.ci_low, f.ci_high) == pytest.approx((100 * lo, 100 * hi))
    assert f.evidence["low"] == pytest.approx(95 / 210)
    assert f.evidence["labels"]["short"]["ru"] == "Satisfied passengers"
    assert "Satisfied passengers" in f.title


def test_outcome_low_segment_finding(audit: Audit) -> None:
    fs = {f.id: f for f in scorecard.metric_findings(audit, "en")}
    f = fs["cx_metrics.outcome.low_segment.cls.Eco"]
    _, p = proportions_ztest([40, 70], [100, 100])  # pooled two-proportion z-test, Eco vs Business
    assert f.value == pytest.approx(40.0) and f.evidence["rest_value"] == pytest.approx(70.0)
    assert f.evidence["diff_pp"] == pytest.approx(-30.0)
    assert f.evidence["p_value"] == pytest.approx(p)
    assert f.reach == pytest.approx(0.5)
    assert "cx_metrics.outcome.low_segment.cls.Business" not in fs


def test_outcome_by_segment_letters(audit: Audit) -> None:
    tab = scorecard.segment_table(audit, "cls", "en").set_index("cls")
    assert tab.loc["Eco", "outcome_value"] == pytest.approx(40.0)
    assert tab.loc["Business", "outcome_value"] == pytest.approx(70.0)
    lo, hi = proportion_confint(40, 100, method="wilson")
    assert (tab.loc["Eco", "outcome_ci_low"], tab.loc["Eco", "outcome_ci_high"]) == pytest.approx((100 * lo, 100 * hi))
    assert tab.loc["Business", "outcome_higher"] == tab.loc["Eco", "letter"]
    assert not tab.loc["Eco", "outcome_higher"]
    assert tab["outcome_n"].sum() == 210  # the not-stated row keeps the 10 without a class
    heads = [c.header for c in scorecard.segment_columns(tab.reset_index(), "cls", "en")]
    assert "Satisfied passengers, %" in heads
    assert "Satisfied passengers: χ²(1)" in scorecard.letters_note(audit, "cls", "en")


# --- TO-BE on a non-NPS outcome -------------------------------------------------------------------


_LABELS = {"label": {lg: "Satisfied passengers (share of answers)" for lg in ("en", "ru", "pl")},
           "short": {lg: "Satisfied passengers" for lg in ("en", "ru", "pl")},
           "low": {"en": "respondents with a negative answer on “Satisfied passengers”",
                   "ru": "респондентов с отрицательным ответом", "pl": "respondentów z negatywną odpowiedzią"}}


def _outcome_findings() -> list[Finding]:
    """40% satisfied of 500 (low share 0.6); a pain point 20 pp below the rest among 30% low raters;
    a complaint theme in 10% of respondents, 80% of its mentions from the not satisfied."""
    lo, hi = proportion_confint(200, 500, method="wilson")
    return [
        Finding(id="cx_metrics.outcome.overall", section="cx_metrics", title="Satisfied passengers: 40%",
                metric="outcome_good_share", value=40.0, n=500, ci_low=100 * lo, ci_high=100 * hi, severity=3,
                reach=0.6, unit="%", evidence={"good": 0.4, "low": 0.6, "outcome": "sat", "outcome_kind": "binary",
                                               "labels": _LABELS}),
        Finding(id="journey.pain_point_outcome.wifi", section="journey", title="Wifi", metric="outcome_gap_low_raters",
                value=20.0, n=150, ci_low=12.0, ci_high=28.0, severity=4, reach=0.3, unit="",
                evidence={"gap": 20.0, "outcome_label": "Satisfied passengers"},
                tags={"touchpoints": ["wifi"], "stages": ["flight"], "channels": ["inflight"]}),
        Finding(id="voc.theme.late_delivery", section="voc", title="Late", metric="theme_share", value=12.0,
                n=400, ci_low=9.0, ci_high=15.0, severity=3, reach=0.1, unit="%",
                evidence={"basis": "outcome", "low_share_of_mentions": 0.8, "mentions": 48},
                tags={"themes": ["late_delivery"]}),
    ]


def test_impacts_in_outcome_points() -> None:
    recs = {r.rule: r for r in rc.recommend(_outcome_findings())}
    pain = recs["journey_pain_point_outcome"]
    assert pain.impact_nps == pytest.approx(0.3 * 20.0 * 0.3)  # reach × gap × closure (segment_gap model)
    assert pain.impact_model == "low_raters" and pain.quadrant == "strategic"
    theme = recs["voc_late_delivery"]
    assert theme.impact_nps == pytest.approx(100 * 0.1 * 0.8 * 0.3)  # reach × low share among mentions × shift
    assert rc.impact_text(pain, "en") == "+1.8 pts Satisfied passengers"
    assert rc.impact_text(pain, "ru") == "+1,8 п. п. «Satisfied passengers»"
    assert "80%" in theme.action("en") and "negative answer on “Satisfied passengers”" in theme.action("en")
    assert "detractor" not in theme.action("en")
    assert "“Satisfied passengers” is 20.0 percentage points lower" in pain.action("en")
    assert "Satisfied passengers" in pain.texts["en"]["impact_note"] and "NPS" not in pain.texts["en"]["impact_note"]
    assert recs["cx_outcome_programme"].impact_model == "none"
    assert rc.impact_text(recs["cx_outcome_programme"], "en") == "enabler"
    assert rc.revenue_text(pain, "en") == "not available"  # no money linked to the outcome: said, not "0"


def test_targets_in_outcome_points_with_sample_size() -> None:
    fs = _outcome_findings()
    recs = rc.recommend(fs)
    tg, case = bc.finalise(recs, fs)
    ms = [r.impact_nps / 60 for r in recs if r.on_plan]
    move = 1 - np.prod([1 - m for m in ms])
    assert tg.basis == "outcome" and tg.detractor_move == pytest.approx(move)
    assert tg.outcome_as_is == 40.0 and tg.outcome_to_be == pytest.approx(40 + 100 * 0.6 * move)
    assert tg.nps_as_is is None
    c = tg.checks["outcome"]
    lo, hi = proportion_confint(200, 500, method="wilson")
    assert c["estimate"] == pytest.approx(tg.outcome_to_be)
    if lo * 100 <= tg.outcome_to_be <= hi * 100:  # inside today's interval: re-set just outside it
        assert c["reset"] and c["target"] == pytest.approx(np.ceil(round((100 * hi + 0.1) / 0.1, 9)) * 0.1)
    h = proportion_effectsize(c["target"] / 100, 0.40)
    n = NormalIndPower().solve_power(effect_size=abs(h), alpha=0.05, power=0.8, ratio=1.0)
    assert c["n_needed"] == int(np.ceil(n))
    tab = rc.targets_table(tg, "en")
    row = tab.iloc[0]
    assert row["metric"] == "Satisfied passengers (share of answers)" and row["as_is"] == "40.0%"
    assert row["n_needed"] == f"{int(np.ceil(n)):,}"
    assert case.total_nps == pytest.approx(round(100 * 0.6 * move, 1))
    notes = " ".join(rc.targets_notes(tg, "en"))
    assert "“Satisfied passengers”" in notes and "not estimated" in notes
    assert any("Satisfied passengers" in p for p in rc.targets_summary(tg, "en"))


def test_planted_audit_to_roadmap(audit: Audit) -> None:
    """The planted survey end to end: scorecard findings -> recommendations on the plan with a target."""
    fs = scorecard.metric_findings(audit, "en")
    recs = rc.recommend(fs)
    seg = next(r for r in recs if r.rule == "cx_low_segment_outcome")
    assert seg.impact_nps == pytest.approx(0.5 * (70 - 40) * 0.3)  # Eco: half the stated, 30 pp below, 30% closed
    tg, _ = bc.finalise(recs, fs)
    assert seg.on_plan and seg.quadrant == "strategic"
    assert seg.kpi["baseline"] == pytest.approx(40.0) and seg.kpi["estimate"] == pytest.approx(40 + 0.3 * 30)
    hi = 100 * proportion_confint(40, 100, method="wilson")[1]  # 49.0 lies inside Eco's interval: re-set above it
    assert seg.kpi["reset"] and seg.kpi["target"] == pytest.approx(np.ceil(round((hi + 0.1) / 0.1, 9)) * 0.1)
    assert seg.kpi["n_needed"] is not None
    assert tg.outcome_as_is == pytest.approx(100 * 115 / 210)
    assert not rc.roadmap([r for r in recs if r.on_plan], "en").empty


def test_nps_run_unchanged_by_outcome_fields() -> None:
    """An NPS run ignores an outcome-compared theme (no effect invented) and keeps NPS units."""
    fs = [Finding(id="cx_metrics.nps.overall", section="cx_metrics", title="NPS", metric="nps", value=12.0, n=500,
                  severity=3, reach=0.25, unit="pts", evidence={"promoters": 0.37, "detractors": 0.25}),
          _outcome_findings()[2]]
    recs = {r.rule: r for r in rc.recommend(fs)}
    assert recs["voc_late_delivery"].impact_model == "none"
    assert rc.impact_text(recs["cx_nps_programme"], "en") == "enabler"
    assert recs["voc_late_delivery"].impact_unit == {}


def _with_customers(folder: Path) -> Audit:
    """200 customers of 36 months' tenure watched for 12 months (no dates: churners left mid-period), revenue 50 per
    12-month period; each answered once: 100 satisfied (10 churned), 100 not (30 churned)."""
    folder.mkdir(parents=True, exist_ok=True)
    cust, resp = ["customer_id,churned,revenue,tenure_months"], ["id,customer_id,sat"]
    for i in range(200):
        good = i < 100
        churned = (i < 10) if good else (i < 130)
        cust.append(f"C{i},{int(churned)},50,36")
        resp.append(f"{i + 1},C{i},{'satisfied' if good else 'dissatisfied'}")
    (folder / "customers.csv").write_text("\n".join(cust) + "\n", encoding="utf-8")
    (folder / "responses.csv").write_text("\n".join(resp) + "\n", encoding="utf-8")
    (folder / "audit.yaml").write_text(
        "client: {name: Planted, language: en, currency: EUR}\nmin_base: 30\nfieldwork: {start: 2025-03-01, end: 2025-03-31}\n"
        "outcome: {column: sat, positive: [satisfied], label: Satisfied}\nchurn: {observation_months: 12}\n"
        "inputs:\n  responses: {file: responses.csv}\n  customers: {file: customers.csv}\n", encoding="utf-8")
    return load_audit(folder)


def test_revenue_link_by_outcome_group(tmp_path: Path) -> None:
    audit = _with_customers(tmp_path / "client")
    tab = scorecard.outcome_value(audit).set_index("outcome_group")
    # exposure: non-churners 12 months at risk, churners 6 (mid-period); churn per 12 months = 1 − exp(−12 D / T)
    r_good = 1 - np.exp(-12 * 10 / (90 * 12 + 10 * 6))
    r_low = 1 - np.exp(-12 * 30 / (70 * 12 + 30 * 6))
    assert tab.loc["good", "period_churn"] == pytest.approx(r_good)
    assert tab.loc["low", "period_churn"] == pytest.approx(r_low)
    fs = scorecard.metric_findings(audit, "en")
    f = next(f for f in fs if f.id == "cx_metrics.outcome.value")
    assert f.evidence["uplift_low_to_good_rate"] == pytest.approx(100 * 50 * (r_low - r_good))
    recs = rc.recommend(fs)
    tg, case = bc.finalise(recs, fs)
    move = tg.detractor_move
    assert tg.revenue_kept == pytest.approx(100 * 50 * (r_low - r_good) * move)  # the whole gap: g = 1
    for r in recs:
        if r.impact_model != "none":
            assert r.revenue == pytest.approx(100 * 50 * (r_low - r_good) * r.detractor_move)
    assert "association" in " ".join(rc.targets_notes(tg, "en"))


def test_section_blocks_name_the_outcome(audit: Audit) -> None:
    """Notebook 07's blocks on the planted survey: the business case's effect column and the matrix's
    axis name the outcome, and no block says NPS points."""
    fs = scorecard.metric_findings(audit, "en")
    p = rc.plan(audit, fs, "en")
    html = " ".join(getattr(b, "data", "") or "" for b in
                    rc.blocks_recommendations(p, "en") + rc.blocks_targets(p, "en") + rc.blocks_roadmap(p, "en"))
    assert "Effect, pts Satisfied passengers" in html and "NPS" not in html
    assert "+4.5 pts Satisfied passengers" in html  # Eco: 0.5 × 30 pp × 0.3
    assert "Overlap: the same respondents without a good answer" in html and "detractor" not in html
    fig = rc.blocks_matrix(p, "en")[-1]
    assert fig.axes[0].get_ylabel() == "Impact, pts Satisfied passengers"


def test_outcome_dotplot_by_segment(audit: Audit) -> None:
    tab = scorecard.segment_table(audit, "cls", "en")
    fig = scorecard.outcome_segment_figure(audit, tab, "cls", "en")
    ax = fig.axes[0]
    from matplotlib.collections import PathCollection

    xs = sorted(round(float(x), 6) for c in ax.collections if isinstance(c, PathCollection) for x, _ in c.get_offsets())
    assert xs == [40.0, 50.0, 70.0]  # Eco, not stated (5 of 10), Business
    assert ax.get_xlabel() == "Satisfied passengers, %"
    assert ax.lines[-1].get_xdata()[0] == pytest.approx(100 * 115 / 210)  # the overall share


def test_scale_outcome_names_its_box() -> None:
    """A rated outcome says which box it counts: "pts CSAT (top-2 box)" (top_box 2), "top box" for 1."""
    fs = _outcome_findings()
    for box, want in ((2, "+1.8 pts CSAT (top-2 box)"), (1, "+1.8 pts CSAT (top box)")):
        ev = {**fs[0].evidence, "outcome_kind": "scale", "top_box": box, "outcome": "csat",
              "labels": {"short": {lg: "CSAT" for lg in ("en", "ru", "pl")}}}
        f0 = Finding(**{**fs[0].__dict__, "evidence": ev})
        pain = next(r for r in rc.recommend([f0, *fs[1:]]) if r.rule == "journey_pain_point_outcome")
        assert rc.impact_text(pain, "en") == want
