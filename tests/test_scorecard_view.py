"""The CX-metrics section (notebook 02): one analysis call without language
(:func:`cxaudit.scorecard.analyse`), then display blocks (:mod:`cxaudit.scorecard_view`).

Two small clients, numbers by hand:

* NPS client (the one of tests/test_missing_segments.py): 25 responses, segment A (10 detractors:
  NPS −100), B (5 promoters, 5 passives: +50), not stated (3 P, 1 passive, 1 D: +40); overall 8
  promoters, 11 detractors: NPS = (8 − 11) / 25 = −12; CSAT 5 for a 9–10, else 2: top-2 box 8 / 25 = 32%.
  Customers: churned A 3/10, B 1/10, not stated 4/5.
* Outcome client (no NPS): a binary outcome "happy", class A 8 of 10 happy (80%), B 2 of 10 (20%),
  overall 50%; A vs B pooled z = 0.6 / √(0.5·0.5·(1/10 + 1/10)) = 2.683, two-sided p = 0.0073.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy import stats

from cxaudit import load_audit, scorecard, scorecard_view, show
from cxaudit.audit import Audit
from cxaudit.i18n import t
from cxaudit.stats import NOT_STATED

NOTEBOOKS = Path(__file__).resolve().parents[1] / "cxaudit" / "notebooks"

A_NPS = [0, 1, 2, 3, 4, 5, 6, 0, 1, 2]
B_NPS = [9, 10, 9, 10, 9, 7, 8, 7, 8, 8]
NS_NPS = [10, 9, 9, 7, 3]
SEGMENTS = ["A"] * 10 + ["B"] * 10 + ["", "", " ", "", ""]
CHURNED = [1, 1, 1] + [0] * 7 + [1] + [0] * 9 + [1, 1, 1, 1, 0]


def _logic_lines(nb: Path) -> int:
    """Non-blank, non-comment code lines outside the parameters and analyst cells."""
    cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
    return sum(1 for c in cells if c["cell_type"] == "code"
               and not {"parameters", "analyst"} & set(c.get("metadata", {}).get("tags", []))
               for line in "".join(c["source"]).splitlines() if line.strip() and not line.strip().startswith("#"))


def _html(blocks: list[object]) -> str:
    return "".join(b.data for b in blocks if hasattr(b, "data"))  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def nps_audit(tmp_path_factory: pytest.TempPathFactory) -> Audit:
    folder = tmp_path_factory.mktemp("scorecard-nps")
    responses = ["response_id,customer_id,date,nps,csat,segment"] + [
        f"r{i:02d},c{i:02d},2025-03-{i:02d},{score},{5 if score >= 9 else 2},{seg}"
        for i, (score, seg) in enumerate(zip(A_NPS + B_NPS + NS_NPS, SEGMENTS, strict=True), start=1)]
    customers = ["customer_id,segment,start_date,revenue,churned,churn_date"] + [
        f"c{i:02d},{seg},2024-01-01,100,{ch},{'2025-03-20' if ch else ''}"
        for i, (seg, ch) in enumerate(zip(SEGMENTS, CHURNED, strict=True), start=1)]
    (folder / "responses.csv").write_text("\n".join(responses) + "\n", encoding="utf-8")
    (folder / "customers.csv").write_text("\n".join(customers) + "\n", encoding="utf-8")
    (folder / "audit.yaml").write_text(
        "client: {name: Acme, language: en}\nmin_base: 3\nsegments: [segment]\n"
        "inputs:\n  responses: {file: responses.csv}\n  customers: {file: customers.csv}\n", encoding="utf-8")
    return load_audit(folder)


@pytest.fixture(scope="module")
def outcome_audit(tmp_path_factory: pytest.TempPathFactory) -> Audit:
    folder = tmp_path_factory.mktemp("scorecard-outcome")
    happy = ["happy"] * 8 + ["unhappy"] * 2 + ["happy"] * 2 + ["unhappy"] * 8
    rows = ["response_id,date,happy,cls"] + [
        f"r{i:02d},2025-03-{i:02d},{h},{'A' if i <= 10 else 'B'}" for i, h in enumerate(happy, start=1)]
    (folder / "responses.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (folder / "audit.yaml").write_text(
        "client: {name: Acme, language: en}\nmin_base: 3\nsegments: [cls]\n"
        "outcome: {column: happy, positive: [happy], label: Happy customers}\n"
        "inputs:\n  responses: {file: responses.csv}\n", encoding="utf-8")
    return load_audit(folder)


@pytest.fixture(scope="module")
def nps_an(nps_audit: Audit) -> scorecard.ScorecardAnalysis:
    return scorecard.analyse(nps_audit)


def test_notebook_02_keeps_only_calls() -> None:
    # before (HEAD 47e7209): 95 logic lines outside the parameters and analyst cells (97 with the analyst cell)
    assert _logic_lines(NOTEBOOKS / "02_cx_metrics.ipynb") <= 20


def test_analyse_numbers_by_hand(nps_an: scorecard.ScorecardAnalysis) -> None:
    an = nps_an
    assert an.survey and an.weights is None and an.csi is None and an.reliability is None  # no touchpoints
    assert an.overall["nps"].value == pytest.approx(-12.0) and an.overall["nps"].n == 25
    assert an.overall["csat"].value == pytest.approx(8 / 25)
    seg = an.segments["segment"]
    # B (+50) first, A (−100), the not-stated group last whatever its value (+40), still keyed (no language)
    assert seg["segment"].tolist() == ["B", "A", NOT_STATED] and "not_stated" not in seg
    assert seg["nps_value"].tolist() == pytest.approx([50.0, -100.0, 40.0])
    assert seg["nps_n"].tolist() == [10, 10, 5] and seg["nps_n"].sum() == 25
    assert seg["csat_value"].tolist() == pytest.approx([50.0, 0.0, 60.0])  # 5 of 10, 0 of 10, 3 of 5 in %
    assert seg["letter"].tolist()[:2] == ["A", "B"] and pd.isna(seg["letter"].iloc[2])
    assert seg["nps_higher"].iloc[0] == "B" and not seg["nps_higher"].iloc[1]  # B above A, A above nobody
    assert list(an.trends) == ["nps", "csat"] and an.trends["nps"]["period"].tolist() == ["2025-03"]
    assert an.customers is not None and list(an.customers) == ["segment"]
    cust = an.customers["segment"].set_index("segment")
    assert cust.loc[["A", "B", NOT_STATED], "churned"].tolist() == [3, 1, 4]
    assert cust.loc[["A", "B", NOT_STATED], "churn_rate"].tolist() == pytest.approx([0.3, 0.1, 0.8])
    assert cust["n"].sum() == 25


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_split_functions_give_the_old_tables(nps_audit: Audit, nps_an: scorecard.ScorecardAnalysis,
                                                 lang: str) -> None:
    named = scorecard.name_segment_table(nps_audit, nps_an.segments["segment"], "segment", lang)
    pd.testing.assert_frame_equal(named, scorecard.segment_table(nps_audit, "segment", lang))
    assert named["segment"].iloc[-1] == {"en": "Not stated", "ru": "Не указано"}[lang]
    assert named["not_stated"].tolist() == [False, False, True]
    assert nps_an.customers is not None
    pd.testing.assert_frame_equal(scorecard.name_groups(nps_audit, nps_an.customers["segment"], "segment", lang),
                                  scorecard.customer_value(nps_audit, "segment", lang=lang))
    card = scorecard.scorecard_rows(nps_audit, lang, nps_an.overall, nps_an.csi)
    pd.testing.assert_frame_equal(card, scorecard.scorecard(nps_audit, lang))
    assert card["value"].tolist() == pytest.approx([-12.0, 32.0]) and card["n"].tolist() == [25, 25]


def test_blocks_show_the_analysis(nps_an: scorecard.ScorecardAnalysis) -> None:
    intro = scorecard_view.blocks_intro(nps_an, "en")
    assert len(intro) == 2 and "<table" not in _html(intro)  # heading and introduction: no weighting
    card = scorecard_view.blocks_scorecard(nps_an, "en")
    assert _html(card).count("<table") == 1 and isinstance(card[-1], Figure)  # the distributions
    assert "−12.0" in _html(card) or "-12.0" in _html(card)
    assert "Results are unweighted" in _html(card)  # the weighting note under an unweighted scorecard
    seg = scorecard_view.blocks_segments(nps_an, "en")
    html = _html(seg)
    assert html.count("<table") == 1 and "Not stated" in html and "+50.0" in html
    assert isinstance(seg[-1], Figure)  # the NPS dot plot
    trend = scorecard_view.blocks_trends(nps_an, "en")
    assert _html(trend).count("<table") == 1 and isinstance(trend[1], Figure)
    cust = _html(scorecard_view.blocks_customers(nps_an, "en"))
    assert cust.count("<table") == 1 and "Not stated" in cust and "80.0" in cust  # 4 of 5 not stated churned
    assert scorecard_view.blocks_reliability(nps_an, "en") == []  # no touchpoint ratings
    ids = [f.id for f in scorecard_view.findings(nps_an, "en")]
    assert ids == [f.id for f in scorecard.metric_findings(nps_an.audit, "en")]
    assert "cx_metrics.nps.overall" in ids and "cx_metrics.nps.low_segment.segment.A" in ids


def test_nps_segment_frame() -> None:
    tab = pd.DataFrame({"g": ["x", "y"], "nps_value": [10.0, -5.0], "nps_ci_low": [1.0, -9.0],
                        "nps_ci_high": [19.0, -1.0], "nps_n": [40, 2], "nps_small_base": [False, True],
                        "small_base": [True, True]})
    out = scorecard_view.nps_segment_frame(tab)
    assert out[["value", "ci_low", "ci_high", "n"]].values.tolist() == [[10.0, 1.0, 19.0, 40], [-5.0, -9.0, -1.0, 2]]
    assert out["small_base"].tolist() == [False, True] and out["small_base_any"].tolist() == [True, True]


def test_a_non_nps_outcome(outcome_audit: Audit) -> None:
    an = scorecard.analyse(outcome_audit)
    assert an.overall == {} and an.trends == {}
    seg = an.segments["cls"]
    assert seg["cls"].tolist() == ["A", "B"]
    assert seg["outcome_value"].tolist() == pytest.approx([80.0, 20.0]) and seg["outcome_n"].tolist() == [10, 10]
    assert seg["outcome_higher"].tolist()[0] == "b"  # above B at p = 0.0073: lower case (0.001 <= p < 0.05)
    blocks = scorecard_view.blocks_segments(an, "en")
    html = _html(blocks)
    assert "Happy customers, %" in html and "80.0" in html  # the outcome column with its letters
    assert isinstance(blocks[-1], Figure)  # the outcome's good share by group (dot plot)
    card = scorecard_view.blocks_scorecard(an, "en")
    assert "50.0" in _html(card) and not any(isinstance(b, Figure) for b in card)  # no NPS/CSAT/CES to plot
    assert an.cube() is None
    found = {f.id: f for f in scorecard_view.findings(an, "en")}
    low = found["cx_metrics.outcome.low_segment.cls.B"]
    z = 0.6 / math.sqrt(0.25 * 0.2)
    assert low.evidence["z"] == pytest.approx(-z, rel=1e-9)
    assert low.evidence["p_value"] == pytest.approx(2 * stats.norm.sf(z), rel=1e-9)
    assert low.evidence["p_holm"] == pytest.approx(2 * 2 * stats.norm.sf(z), rel=1e-9)  # Holm over A and B vs rest


def test_a_client_without_a_survey(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text(
        "customer_id,start_date,revenue,churned\n" + "".join(f"c{i},2024-01-01,50,{int(i < 2)}\n" for i in range(8)),
        encoding="utf-8")
    (tmp_path / "audit.yaml").write_text(
        "client: {name: Acme, language: en}\nmin_base: 3\ninputs:\n  customers: {file: customers.csv}\n",
        encoding="utf-8")
    an = scorecard.analyse(load_audit(tmp_path))
    assert not an.survey and an.customers is not None and list(an.customers) == [None]
    assert an.customers[None]["churn_rate"].tolist() == pytest.approx([2 / 8])
    intro = scorecard_view.blocks_intro(an, "en")
    assert [b.data for b in intro] == [show.section("cx_metrics", "en").data,
                                       show.missing_input(t("table.responses", "en"), "en").data]
    for blocks in (scorecard_view.blocks_scorecard, scorecard_view.blocks_segments, scorecard_view.blocks_trends,
                   scorecard_view.blocks_reliability):
        assert blocks(an, "en") == []
    assert _html(scorecard_view.blocks_customers(an, "en")).count("<table") == 1
    assert scorecard_view.findings(an, "en") == []


def test_distributions_count_every_answer(nps_an: scorecard.ScorecardAnalysis) -> None:
    dist = nps_an.distributions
    assert dist is not None and list(dict.fromkeys(dist["metric"])) == ["nps", "csat"]
    nps = dist[dist["metric"] == "nps"]
    # answers 0..10 of the 25 respondents, counted by hand from A_NPS + B_NPS + NS_NPS
    assert nps["point"].tolist() == list(range(11))
    assert (nps["share"] * 25).round(9).tolist() == [2, 2, 2, 2, 1, 1, 1, 3, 3, 5, 3]
    csat = dist[dist["metric"] == "csat"].set_index("point")["share"]
    assert csat.loc[2] == pytest.approx(17 / 25) and csat.loc[5] == pytest.approx(8 / 25) and csat.sum() == pytest.approx(1)
    assert set(dist["n"]) == {25}
    fig = scorecard_view.distribution_figure(nps_an, "en")
    assert [ax.get_title() for ax in fig.axes] == ["NPS (n = 25)", "CSAT (n = 25)"]


def test_supplied_weights(tmp_path: Path) -> None:
    # NPS 10, 0, 10, 5 with weights 2, 1, 1, 1: promoters 3/5, detractors 2/5 -> NPS +20;
    # Kish n_eff = (Σw)² / Σw² = 25 / 7
    (tmp_path / "responses.csv").write_text(
        "response_id,date,nps,weight\nr1,2025-03-01,10,2\nr2,2025-03-02,0,1\nr3,2025-03-03,10,1\nr4,2025-03-04,5,1\n",
        encoding="utf-8")
    (tmp_path / "audit.yaml").write_text(
        "client: {name: Acme, language: en}\nmin_base: 2\ninputs:\n  responses: {file: responses.csv}\n",
        encoding="utf-8")
    an = scorecard.analyse(load_audit(tmp_path))
    assert an.weights is not None and an.weights.n_eff == pytest.approx(25 / 7)
    assert an.overall["nps"].value == pytest.approx(20.0)
    assert an.distributions is not None
    share = an.distributions.set_index("point")["share"]
    assert share.loc[[0, 5, 10]].tolist() == pytest.approx([0.2, 0.2, 0.6]) and share.sum() == pytest.approx(1)
    text = scorecard_view.weighting_text(an, "en")
    # efficiency n_eff / n = 25 / 28 = 89%, design effect 28 / 25 = 1.12
    assert "n = 4, effective base n_eff = 4, weighting efficiency 89%, design effect 1.12" in text
    assert "from 1.00 to 2.00" in text
    intro = scorecard_view.blocks_intro(an, "en")
    assert len(intro) == 4 and intro[-1].data == show.paragraph(text).data  # heading, intro, weighting heading, text
    assert scorecard_view.csi_note(an, "en") is None  # no touchpoint ratings, no CSI
    card = _html(scorecard_view.blocks_scorecard(an, "en"))
    assert "20.0" in card and "unweighted" not in card  # no "Results are unweighted" note under the table


def test_omnibus_by_hand(nps_audit: Audit, nps_an: scorecard.ScorecardAnalysis) -> None:
    om = nps_an.omnibus["segment"]
    # CSAT top-2 box × segment (stated only): A 0 of 10, B 5 of 10; expected 2.5 / 7.5 per row:
    # χ² = 2·2.5²/2.5 + 2·2.5²/7.5 = 5 + 5/3 on 1 df
    chi2 = 5 + 5 / 3
    assert om.tests["csat"]["statistic"] == pytest.approx(chi2) and om.tests["csat"]["df"] == 1
    assert om.tests["csat"]["p_value"] == pytest.approx(stats.chi2.sf(chi2, 1))
    # NPS (Cochran's Q) needs a variance in every group: A (all detractors) has none, so no test
    assert math.isnan(om.tests["nps"]["p_value"])
    assert om.testable == 2 and om.not_stated  # A and B compared (1 pair); 5 respondents did not state it
    note = scorecard.letters_note(nps_audit, "segment", "en", om)
    assert note == scorecard.letters_note(nps_audit, "segment", "en")  # reusing the analysis changes nothing
    assert "NPS: –; CSAT: χ²(1) = 6.7, p\xa0=\xa00.010" in note and "Not stated" in note  # p: no-break spaces
