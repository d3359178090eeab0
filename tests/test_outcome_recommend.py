"""Issue 13: a non-NPS outcome (here a binary satisfied / not satisfied answer) carries through the
CX-metrics findings, the segment table and the TO-BE engine: impacts, targets and texts in outcome
points, with planted effects checked against hand computations (Wilson intervals and two-proportion
tests from statsmodels as the independent reference)."""

from __future__ import annotations

from pathlib import Path

import pytest
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from cxaudit import load_audit, scorecard
from cxaudit.audit import Audit


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
