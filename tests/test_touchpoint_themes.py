"""Complaint themes among a touchpoint's low raters (``cxaudit.text.touchpoint_theme_table``):
hand-computed shares, lift, z / Fisher choice, Holm, the NPS-group (Mantel–Haenszel) check, the
findings, and the default demo."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cxaudit.audit import load_audit
from cxaudit.demo import PLANTED, generate_demo
from cxaudit.text import (
    _severity,
    analyse_comments,
    load_codeframe,
    touchpoint_theme_findings,
    touchpoint_theme_table,
    touchpoint_themes,
)

CF = load_codeframe({"themes": {
    "late": {"label": {"en": "Late"}, "polarity": "complaint", "keywords": {"en": ["late"]}},
    "nice": {"label": {"en": "Nice"}, "polarity": "praise", "keywords": {"en": ["nice"]}},
}})


def _tiny() -> tuple[pd.DataFrame, pd.DataFrame]:
    """62 respondents. Rows 0-11 and 20-27 write "late" (20 complaints), rows 12-19 and 28-59
    "nice"; row 60 writes an uncoded comment, row 61 none (both rated low: outside every base)."""
    comment = ["the parcel was late"] * 12 + ["nice people"] * 8 + ["the parcel was late"] * 8 + ["nice people"] * 32
    comment += ["ok", ""]
    n = len(comment)
    # tp_x: rows 0-19 low (2), the rest 4 -> low n=20 k=12; other n=40 k=8
    tp_x = np.r_[np.full(20, 2.0), np.full(n - 20, 4.0)]
    tp_x[60:] = 1.0
    # tp_y: rows 0-5 and 12-15 low (n=10, k=6), rows 6-11 not rated, rows 16-59 rated 5 (n=44, k=8)
    tp_y = np.full(n, 5.0)
    tp_y[[0, 1, 2, 3, 4, 5, 12, 13, 14, 15]] = 2.0
    tp_y[6:12] = np.nan
    tp_y[60:] = 1.0
    # tp_z: row 0 (late) and rows 28-33 (nice) low -> k_low = 1 < 5 mentions: not tested
    tp_z = np.full(n, 3.0)
    tp_z[[0, 28, 29, 30, 31, 32, 33]] = 1.0
    responses = pd.DataFrame({"response_id": [f"r{i}" for i in range(n)], "nps": 3.0, "comment": comment,
                              "tp_x": tp_x, "tp_y": tp_y, "tp_z": tp_z})
    tps = pd.DataFrame({"touchpoint": ["tp_x", "tp_y", "tp_z"], "column": ["tp_x", "tp_y", "tp_z"],
                        "label": ["X", "Y", "Z"], "stage": ["purchase", "post-purchase", "retention"],
                        "channel": ["site", "phone", "store"]})
    return responses, tps


def test_touchpoint_themes_against_hand_computation() -> None:
    responses, tps = _tiny()
    voc = analyse_comments(responses, CF, lang="en", channel_column=None)
    tab = touchpoint_theme_table(voc, responses, tps, low_cut=2, lang="en", min_base=5, min_mentions=5)
    assert set(tab["theme"]) == {"late"}  # praise themes stay out of the complaints view
    assert tab.attrs["n_coded"] == 60 and tab.attrs["n_tested"] == 2
    x = tab.set_index("touchpoint").loc["tp_x"]
    # low raters: 12 of 20 = 0.60; others: 8 of 40 = 0.20; lift = 0.60 / 0.20 = 3.0
    assert (x["n_low"], x["k_low"], x["n_other"], x["k_other"]) == (20, 12, 40, 8)
    assert x["share_low"] == pytest.approx(0.6) and x["share_other"] == pytest.approx(0.2)
    assert x["lift"] == pytest.approx(3.0)
    # expected counts 20·20/60 = 6.67, 20·40/60 = 13.3, 40·20/60 = 13.3, 40·40/60 = 26.7 (all >= 5): z-test.
    # pooled p = 20/60 = 1/3; se = √(1/3 · 2/3 · (1/20 + 1/40)) = √(0.2222 · 0.075) = 0.129099;
    # z = (0.6 − 0.2) / 0.129099 = 3.0984; p = 2·(1 − Φ(3.0984)) = 0.001946
    assert x["test"] == "z"
    assert x["p_value"] == pytest.approx(0.001946, abs=2e-6)
    # Wilson 95% for 12/20: centre (0.6 + 1.9208/20) / (1 + 3.8415/20) = 0.58389, half-width 0.20493
    assert (x["share_low_lo"], x["share_low_hi"]) == (pytest.approx(0.38660, abs=1e-4), pytest.approx(0.78119, abs=1e-4))
    # one NPS group only (all detractors): the Mantel–Haenszel RR is the crude one, and the CMH χ²
    # equals z² · (N − 1) / N = 3.0984² · 59/60 = 9.4400 -> p = 0.002124
    assert x["lift_mh"] == pytest.approx(3.0)
    assert x["p_cmh"] == pytest.approx(stats.chi2.sf(3.098387 ** 2 * 59 / 60, 1), rel=1e-5)
    assert x["p_cmh"] == pytest.approx(0.002124, abs=2e-6)

    y = tab.set_index("touchpoint").loc["tp_y"]
    # rows 6-11 did not rate Y: low 6 of 10 = 0.60, others 8 of 44 = 0.1818; lift = 0.6 / 0.1818 = 3.3
    assert (y["n_low"], y["k_low"], y["n_other"], y["k_other"]) == (10, 6, 44, 8)
    assert y["lift"] == pytest.approx(3.3)
    # expected low & late = 10 · 14 / 54 = 2.59 < 5: Fisher's exact test on [[6, 4], [8, 36]]
    assert y["test"] == "fisher"
    assert y["p_value"] == pytest.approx(stats.fisher_exact([[6, 4], [8, 36]])[1])
    # hypergeometric check of the most extreme table's probability: P(a = 10) = C(14,10)·C(40,0)/C(54,10)
    assert stats.hypergeom.pmf(10, 54, 14, 10) == pytest.approx(math.comb(14, 10) / math.comb(54, 10))

    z = tab.set_index("touchpoint").loc["tp_z"]
    assert z["k_low"] == 1 and not z["tested"] and np.isnan(z["p_value"]) and np.isnan(z["p_holm"])
    # Holm over the 2 tested pairs: the smaller p × 2, the larger × 1 (never below the previous one)
    p1, p2 = sorted([x["p_value"], y["p_value"]])
    assert sorted([x["p_holm"], y["p_holm"]]) == [pytest.approx(2 * p1), pytest.approx(max(2 * p1, p2))]
    assert x["over"] and y["over"] and not z["over"]
    assert list(tab["touchpoint"][:2]) == ["tp_x", "tp_y"] or list(tab["touchpoint"][:2]) == ["tp_y", "tp_x"]

    found = {f.id: f for f in touchpoint_theme_findings(tab, "en", n_respondents=len(responses))}
    assert set(found) == {"voc.touchpoint_theme.tp_x.late", "voc.touchpoint_theme.tp_y.late"}
    f = found["voc.touchpoint_theme.tp_x.late"]
    assert f.value == pytest.approx(60.0) and f.n == 20 and f.unit == "%"
    assert f.tags == {"touchpoints": ["tp_x"], "themes": ["late"], "stages": ["purchase"], "channels": ["site"]}
    assert f.evidence["lift"] == pytest.approx(3.0) and f.evidence["p_holm"] == pytest.approx(x["p_holm"])
    assert f.reach == pytest.approx(12 / 62)


def test_min_base_keeps_small_touchpoints_untested() -> None:
    responses, tps = _tiny()
    voc = analyse_comments(responses, CF, lang="en", channel_column=None)
    tab = touchpoint_theme_table(voc, responses, tps, low_cut=2, lang="en", min_base=30)
    assert not tab["tested"].any() and not tab["over"].any()
    assert touchpoint_theme_findings(tab, "en", n_respondents=62) == []


@pytest.fixture(scope="module")
def demo_en(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("home")
    mp = pytest.MonkeyPatch()
    mp.setenv("CXAUDIT_HOME", str(home))
    generate_demo(Path(home) / "data" / "demo", size="default", lang="en")
    audit = load_audit("demo")
    voc = analyse_comments(audit.responses, lang="en", touchpoints=audit.table("touchpoints"),
                           min_base=audit.config.min_base)
    yield audit, voc, touchpoint_themes(audit, voc, "en")
    mp.undo()


def test_demo_late_delivery_among_delivery_low_raters(demo_en) -> None:
    audit, voc, tab = demo_en
    assert tab.attrs["low_cut"] == 2.0  # bottom two boxes of the 1-5 touchpoint scale
    assert set(tab["theme"]) <= {th.key for th in voc.codeframe.themes if th.polarity == "complaint"}
    row = tab[(tab["touchpoint"] == "tp_delivery") & (tab["theme"] == "late_delivery")].iloc[0]
    # What the generator plants (cxaudit/demo.py, PLANTED["themes"]["low_rater_links"]): half of the
    # detractors who rated tp_delivery 1-2 complain about late delivery. So the excess among its low
    # raters holds within NPS groups too (Mantel-Haenszel), not only through NPS.
    assert row["over"] and row["lift"] > 1.5 and row["p_holm"] < 0.001
    assert row["stage"] == "post-purchase" and row["label"] == "Home delivery"
    assert row["p_cmh_holm"] < 0.01 and row["lift_mh"] > 1.3
    links = PLANTED["themes"]["low_rater_links"]
    assert links["tp_delivery"] == "late_delivery" and links["tp_support_call"] == "phone_wait"
    call = tab[(tab["touchpoint"] == "tp_support_call") & (tab["theme"] == "phone_wait")].iloc[0]
    assert call["p_cmh_holm"] < 0.01 and call["lift_mh"] > 1.3
    # no link is planted for checkout: late delivery among its low raters only follows NPS
    other = tab[(tab["touchpoint"] == "tp_checkout") & (tab["theme"] == "late_delivery")].iloc[0]
    assert other["p_cmh_holm"] > 0.05
    found = {f.id: f for f in touchpoint_theme_findings(tab, "en", voc.n_respondents)}
    f = found["voc.touchpoint_theme.tp_delivery.late_delivery"]
    assert f.tags["touchpoints"] == ["tp_delivery"] and f.tags["themes"] == ["late_delivery"]
    assert f.tags["stages"] == ["post-purchase"]
    assert f.severity == _severity(float(row["lift_mh"]), True) >= 3  # specific to the touchpoint
    assert f.ci_low < f.value < f.ci_high
