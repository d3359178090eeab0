"""CX-metrics findings rest on Holm-adjusted p-values (issue 4: "every higher or lower must be a
tested difference").

- "NPS / CSAT in <segment> = <group> is significantly below the rest": Holm over the family of all
  group-vs-rest tests of that metric across *all* segment columns of audit.yaml.
- "<metric> fell significantly in <month>": Holm over all month-to-month changes of that metric.

Planted data sets where a raw p < 0.05 does not survive Holm, and where it does. Expected p-values
are computed by hand below (NPS: R ``NPS::nps.test``, v = (p + d) − (p − d)², SE = √(v₁/n₁ + v₂/n₂);
CSAT: pooled two-proportion z-test), the Holm values with statsmodels, quoted in the comments::

    from statsmodels.stats.multitest import multipletests
    multipletests(p, method="holm")[1]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from cxaudit import load_audit, scorecard
from cxaudit.audit import Audit


def _nps_p(p1: int, d1: int, n1: int, p2: int, d2: int, n2: int) -> float:
    """Two-sided p of the NPS z-test (R NPS::nps.test), from counts."""
    a, b = (p1 - d1) / n1, (p2 - d2) / n2
    v1, v2 = (p1 + d1) / n1 - a**2, (p2 + d2) / n2 - b**2
    return float(2 * stats.norm.sf(abs(a - b) / np.sqrt(v1 / n1 + v2 / n2)))


def _prop_p(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided p of the pooled two-proportion z-test, from counts."""
    p = (k1 + k2) / (n1 + n2)
    return float(2 * stats.norm.sf(abs(k1 / n1 - k2 / n2) / np.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))))


def _write(folder: Path, lines: list[str], segments: str) -> Audit:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "responses.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "audit.yaml").write_text(
        f"client: {{name: Planted, language: en}}\nmin_base: 30\nsegments: {segments}\n"
        "inputs:\n  responses: {file: responses.csv}\n", encoding="utf-8")
    return load_audit(folder)


# --- segment groups ---------------------------------------------------------------------------------
#
# 120 respondents in March 2025 (one month: no trend findings), two segment columns:
#
#   seg     A: 14 promoters, 26 passives, 20 detractors (NPS −10.0); 29 of 60 CSAT top-2
#           B: 27 promoters, 20 passives, 13 detractors (NPS +23.3); 42 of 60 CSAT top-2
#   region  X / Y / Z, every third respondent (40 each): promoters 14 / 14 / 13, detractors
#           10 / 11 / 12, CSAT top-2 24 / 24 / 23 — no real difference
#
# NPS, A vs rest (= B): v_A = 34/60 − (−6/60)² = 0.556667, v_B = 40/60 − (14/60)² = 0.612222,
#   SE = √(0.556667/60 + 0.612222/60) = 0.139576, z = −0.333333/0.139576 = −2.38818, p = 0.016932
#   (B vs rest: the same test, p = 0.016932). Regions vs rest: p = 0.739057, 0.934441, 0.681367.
#   Holm over the 5 tests: multipletests([.016932, .016932, .739057, .934441, .681367], method="holm")
#   -> [0.084659, 0.084659, 1, 1, 1]: A is NOT significantly below the rest (raw p < 0.05 though).
#   With `segments: [seg]` only, the family is 2 tests: [0.033864, 0.033864] -> A IS below.
# CSAT, A vs rest: 29/60 vs 42/60, pooled 71/120, z = −2.41439, p = 0.015762; regions 0.895518,
#   0.895518, 0.792820. Holm (5) -> [0.078809, 0.078809, 1, 1, 1]; Holm (2) -> [0.031523, 0.031523].

NPS_P = [0.016932, 0.016932, 0.739057, 0.934441, 0.681367]
CSAT_P = [0.015762, 0.015762, 0.895518, 0.895518, 0.792820]


def _segment_lines() -> list[str]:
    def group(seg: str, promoters: int, passives: int, detractors: int, top2: int) -> list[tuple[str, int, int]]:
        nps = [10] * promoters + [8] * passives + [0] * detractors
        n = len(nps)
        csat = [5] * top2 + [2] * (n - top2)
        return [(seg, nps[i], csat[(7 * i) % n]) for i in range(n)]  # stride 7: CSAT spread over regions

    rows = group("A", 14, 26, 20, 29) + group("B", 27, 20, 13, 42)
    return ["response_id,date,nps,csat,seg,region"] + [
        f"r{i:03d},2025-03-{1 + i % 28:02d},{nps},{csat},{seg},{'XYZ'[i % 3]}"
        for i, (seg, nps, csat) in enumerate(rows)]


@pytest.fixture(scope="module")
def two_columns(tmp_path_factory: pytest.TempPathFactory) -> Audit:
    return _write(tmp_path_factory.mktemp("holm") / "two", _segment_lines(), "[seg, region]")


@pytest.fixture(scope="module")
def one_column(tmp_path_factory: pytest.TempPathFactory) -> Audit:
    return _write(tmp_path_factory.mktemp("holm") / "one", _segment_lines(), "[seg]")


def test_planted_segment_counts_and_hand_p_values(two_columns: Audit) -> None:
    r = two_columns.responses
    by_region = r.groupby("region").agg(p=("nps", lambda s: int((s >= 9).sum())),
                                         d=("nps", lambda s: int((s <= 6).sum())),
                                         top2=("csat", lambda s: int((s >= 4).sum())), n=("nps", "size"))
    assert by_region.to_dict("list") == {"p": [14, 14, 13], "d": [10, 11, 12], "top2": [24, 24, 23],
                                         "n": [40, 40, 40]}
    hand_nps = [_nps_p(14, 20, 60, 27, 13, 60)] * 2 + [_nps_p(p, d, 40, 41 - p, 33 - d, 80)
                                                       for p, d in ((14, 10), (14, 11), (13, 12))]
    hand_csat = [_prop_p(29, 60, 42, 60)] * 2 + [_prop_p(k, 40, 71 - k, 80) for k in (24, 24, 23)]
    assert hand_nps == pytest.approx(NPS_P, abs=1e-6)
    assert hand_csat == pytest.approx(CSAT_P, abs=1e-6)


@pytest.mark.parametrize(("metric", "raw", "holm5"), [
    ("nps", NPS_P, [0.084659, 0.084659, 1, 1, 1]),
    ("csat", CSAT_P, [0.078809, 0.078809, 1, 1, 1]),
])
def test_group_vs_rest_holm_over_all_segment_columns(two_columns: Audit, metric: str, raw: list[float],
                                                     holm5: list[float]) -> None:
    rows = scorecard._group_vs_rest(two_columns, metric)
    assert [(r["segment"], r["group"]) for r in rows] == [("seg", "A"), ("seg", "B"), ("region", "X"),
                                                          ("region", "Y"), ("region", "Z")]
    assert [r["p_value"] for r in rows] == pytest.approx(raw, abs=1e-6)
    assert [r["p_holm"] for r in rows] == pytest.approx(holm5, abs=1e-6)
    assert holm5 == pytest.approx(list(multipletests(raw, method="holm")[1]), abs=1e-5)
    assert {r["family"] for r in rows} == {5}


def test_raw_p_below_005_that_fails_holm_is_not_a_finding(two_columns: Audit) -> None:
    ids = {f.id for f in scorecard.metric_findings(two_columns, "en")}
    # raw p = 0.017 (NPS) and 0.016 (CSAT) for A, but Holm over 5 tests gives 0.085 / 0.079
    assert ids == {"cx_metrics.nps.overall", "cx_metrics.csat.overall"}


def test_raw_p_that_survives_holm_is_a_finding_with_both_p(one_column: Audit) -> None:
    found = {f.id: f for f in scorecard.metric_findings(one_column, "en")}
    nps_low, csat_low = found["cx_metrics.nps.low_segment.seg.A"], found["cx_metrics.csat.low_segment.seg.A"]
    # family of 2 (A vs rest, B vs rest): Holm = 2 × p
    assert nps_low.evidence["p_value"] == pytest.approx(0.016932, abs=1e-6)
    assert nps_low.evidence["p_holm"] == pytest.approx(0.033864, abs=1e-6)
    assert csat_low.evidence["p_value"] == pytest.approx(0.015762, abs=1e-6)
    assert csat_low.evidence["p_holm"] == pytest.approx(0.031523, abs=1e-6)
    assert nps_low.evidence["holm_tests"] == csat_low.evidence["holm_tests"] == 2
    # NPS −10.0 against +23.3 (hand: (14 − 20)/60, (27 − 13)/60); CSAT 48.3 % against 70 %
    assert nps_low.value == pytest.approx(-10.0) and nps_low.evidence["rest_nps"] == pytest.approx(70 / 3)
    assert csat_low.value == pytest.approx(100 * 29 / 60) and csat_low.evidence["rest_csat"] == pytest.approx(70.0)
    assert "cx_metrics.nps.low_segment.seg.B" not in found  # B is higher, not lower


# --- month-to-month drops ---------------------------------------------------------------------------
#
# Six months of 100 answers; every month 40 promoters, 30 passives, 30 detractors (NPS +10) except
# April 2025:
#   weak dip   26 P, 30 passive, 44 D (NPS −18): Mar→Apr and Apr→May p = 0.016257 each (hand:
#              v = 0.70 − 0.18² = 0.6676, v₀ = 0.70 − 0.01 = 0.69, SE = √(0.006676 + 0.0069) = 0.116516,
#              z = −0.28/0.116516 = −2.40310); the other 3 changes have diff 0, p = 1.
#              multipletests([1, 1, .016257, .016257, 1], method="holm") -> [1, 1, 0.081283, 0.081283, 1]
#   strong dip 20 P, 30 passive, 50 D (NPS −30): p = 0.000451 each ->
#              multipletests([1, 1, .000451, .000451, 1], method="holm") -> [1, 1, 0.002255, 0.002255, 1]


def _month_lines(promoters: int, detractors: int) -> list[str]:
    lines = ["response_id,date,nps"]
    for m in range(1, 7):
        p, d = (promoters, detractors) if m == 4 else (40, 30)
        scores = [10] * p + [8] * (100 - p - d) + [0] * d
        lines += [f"m{m}-{i:03d},2025-{m:02d}-{1 + i % 28:02d},{s}" for i, s in enumerate(scores)]
    return lines


@pytest.mark.parametrize(("promoters", "detractors", "p", "p_holm"), [
    (26, 44, 0.016257, 0.081283),
    (20, 50, 0.000451, 0.002255),
])
def test_drop_findings_need_holm_over_all_changes(tmp_path: Path, promoters: int, detractors: int, p: float,
                                                  p_holm: float) -> None:
    audit = _write(tmp_path / "months", _month_lines(promoters, detractors), "[]")
    assert _nps_p(promoters, detractors, 100, 40, 30, 100) == pytest.approx(p, abs=1e-6)
    assert multipletests([1, 1, p, p, 1], method="holm")[1][2] == pytest.approx(p_holm, abs=1e-5)
    trend = scorecard.trends(audit)
    tab = trend["nps"].set_index("period")
    # the trend table marks the change at the raw p (its note says so) in both cases ...
    assert tab.loc["2025-04", "change"] == "down" and tab.loc["2025-04", "p_value"] == pytest.approx(p, abs=1e-6)
    drops = {f.id: f for f in scorecard.metric_findings(audit, "en", trend=trend) if ".drop." in f.id}
    if p_holm >= 0.05:  # ... but only a change that survives Holm is a finding
        assert drops == {}
    else:
        f = drops.pop("cx_metrics.nps.drop.2025-04")
        assert drops == {}  # the rise in May is not a drop
        assert f.evidence["p_value"] == pytest.approx(p, abs=1e-6)
        assert f.evidence["p_holm"] == pytest.approx(p_holm, abs=1e-6)
        assert f.evidence["holm_tests"] == 5 and f.evidence["diff"] == pytest.approx(-40.0)


def test_drops_recompute_holm_when_the_trend_table_lacks_it(tmp_path: Path) -> None:
    # a caller's trend table without p_holm is judged the same way (weak dip: no finding)
    audit = _write(tmp_path / "months", _month_lines(26, 44), "[]")
    trend = {m: tab.drop(columns="p_holm") for m, tab in scorecard.trends(audit).items()}
    assert [f.id for f in scorecard._drops(audit, "en", trend)] == []
