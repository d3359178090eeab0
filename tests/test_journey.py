"""The journey section (cxaudit.journey): hand-computed cells, pain points, findings, the demo's planted
effects, figures, the catalog and the notebook without a touchpoints table.

References are computed here independently: top-box shares and Wilson intervals with
``cxaudit.metrics.csat`` (its own Wilson code), t intervals with ``scipy.stats.t.interval``, the
respondent-clustered ratio and its linearised variance written out per respondent, NPS as
100 × (P − D)/n, the NPS z-test of R's ``NPS::nps.test`` (SE = √(v₁/n₁ + v₂/n₂), v = (p + d) − (p − d)²).
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cxaudit import journey, load_audit
from cxaudit.demo import PLANTED, generate_demo
from cxaudit.findings import format_value
from cxaudit.i18n import catalog, t, value_label
from cxaudit.metrics import Z95, csat

MakeClient = Callable[[Path, dict[str, str], str], Path]

TOUCHPOINTS = """touchpoint,stage,channel,owner_department,label
tp_c,retention,phone,Support,Support call
tp_a,purchase,site,E-commerce,Checkout
b,purchase,app,E-commerce,<b>App</b> order
tp_d,retention,phone,Support,Callback
tp_z,loyalty,app,Marketing,Never rated
"""

YAML = """client: {name: Test}
min_base: 5
inputs:
  responses: {file: responses.csv}
  touchpoints: {file: touchpoints.csv}
"""

YAML_NO_TP = """client: {name: Test}
min_base: 5
inputs:
  responses: {file: responses.csv}
"""


def _responses(weighted: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(42)
    n = 120
    out = pd.DataFrame({"response_id": [f"R{i:03d}" for i in range(n)], "date": "2025-03-01"})
    for col, p_missing in (("tp_a", 0.3), ("tp_b", 0.4), ("tp_c", 0.35), ("tp_d", 0.5)):
        x = rng.integers(1, 6, n).astype(float)
        x[rng.random(n) < p_missing] = np.nan
        out[col] = x
    out["tp_extra"] = np.nan  # a rating column without a touchpoint row
    out.loc[:4, "tp_extra"], out.loc[:4, "tp_a"] = 3.0, 1.0
    c = out["tp_c"].fillna(3.5).to_numpy()
    nps = np.clip(np.rint(2.0 + 1.6 * c + rng.normal(0, 1.6, n)), 0, 10)
    nps[rng.random(n) < 0.05] = np.nan
    out["nps"] = nps
    out["ces"] = np.clip(np.rint(4 + rng.normal(0, 1.5, n)), 1, 7)
    if weighted:
        out["weight"] = np.round(0.5 + rng.random(n), 2)
    return out


def _csv(df: pd.DataFrame) -> str:
    return df.to_csv(index=False, float_format="%g", lineterminator="\n")


@pytest.fixture
def audit(tmp_path: Path, make_client: MakeClient):
    folder = make_client(tmp_path, {"responses.csv": _csv(_responses()), "touchpoints.csv": TOUCHPOINTS}, YAML)
    return load_audit(folder)


@pytest.fixture(scope="module")
def demo():
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        yield load_audit(generate_demo(Path(d) / "demo", size="default"))


# --- the journey model ------------------------------------------------------------------------------


def test_touchpoint_table_maps_ids_to_columns_in_journey_order(audit) -> None:
    tps = journey.touchpoint_table(audit)
    assert tps["touchpoint"].tolist() == ["tp_a", "b", "tp_c", "tp_d", "tp_z"]  # purchase, retention, loyalty
    assert tps["column"].tolist()[:4] == ["tp_a", "tp_b", "tp_c", "tp_d"]  # "b" is rated in tp_b
    assert pd.isna(tps["column"].iloc[4])  # tp_z has no rating column
    assert tps["stage_order"].tolist() == [4, 4, 6, 6, 8]  # positions in the nine default stages
    assert tps.attrs["unmapped_columns"] == ["tp_extra"]
    assert tps.loc[1, "label"] == "<b>App</b> order"  # escaped by cxaudit.show when displayed
    assert journey.rating_scale(audit) == (1.0, 5.0, 4.0, 2.0)


def test_single_touchpoint_cell_is_csat_with_a_wilson_and_a_t_interval(audit) -> None:
    r = audit.responses
    m = journey.touchpoint_metrics(audit)
    x = r["tp_a"].dropna()
    ref = csat(x)  # top-2 box of 1..5 with its Wilson interval (cxaudit.metrics)
    row = m.loc["tp_a"]
    assert row["n"] == len(x) == row["n_ratings"]
    assert row["top2"] == pytest.approx(ref.value, abs=1e-12)
    assert (row["top2_low"], row["top2_high"]) == pytest.approx((ref.ci_low, ref.ci_high), abs=1e-12)
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=x.std(ddof=1) / np.sqrt(len(x)))
    assert (row["mean"], row["mean_low"], row["mean_high"]) == pytest.approx((x.mean(), lo, hi), abs=1e-12)
    assert row["usage"] == pytest.approx(len(x) / len(r))
    assert row["low_share"] == pytest.approx((x <= 2).mean())
    ces = r.loc[r["tp_a"].notna(), "ces"].dropna()
    assert row["effort"] == pytest.approx(ces.mean()) and row["effort_n"] == len(ces)
    assert not row["small_base"]
    assert "tp_z" not in m.index  # never rated: on the journey map, not in the metrics


def test_pooled_cell_is_a_ratio_with_respondent_clustered_variance(audit) -> None:
    r = audit.responses
    cells = journey.journey_cells(audit, ("stage", "channel"))
    cell = cells[(cells["stage"] == "retention") & (cells["channel"] == "phone")].iloc[0]
    y = m = 0
    ys, ms = [], []
    for c, d in zip(r["tp_c"], r["tp_d"], strict=True):  # per respondent: top-box ratings and ratings
        yi = sum(1 for v in (c, d) if not np.isnan(v) and v >= 4)
        mi = sum(1 for v in (c, d) if not np.isnan(v))
        if mi:
            ys.append(yi)
            ms.append(mi)
            y, m = y + yi, m + mi
    ys_a, ms_a = np.array(ys, float), np.array(ms, float)
    p = y / m
    v = float(np.sum((ys_a - p * ms_a) ** 2)) / m**2
    n_eff = p * (1 - p) / v
    centre = (p + Z95**2 / (2 * n_eff)) / (1 + Z95**2 / n_eff)
    half = Z95 * np.sqrt(p * (1 - p) / n_eff + Z95**2 / (4 * n_eff**2)) / (1 + Z95**2 / n_eff)
    assert cell["n"] == len(ys) and cell["n_ratings"] == m and cell["touchpoints"] == 2
    assert cell["top2"] == pytest.approx(p, abs=1e-12)
    assert cell["n_eff"] == pytest.approx(n_eff, rel=1e-12)
    assert (cell["top2_low"], cell["top2_high"]) == pytest.approx((centre - half, centre + half), abs=1e-12)
    assert n_eff < m  # two correlated ratings of one respondent count less than two respondents


def test_weighted_cells_and_reach_use_the_weights(tmp_path: Path, make_client: MakeClient) -> None:
    df = _responses(weighted=True)
    folder = make_client(tmp_path, {"responses.csv": _csv(df), "touchpoints.csv": TOUCHPOINTS}, YAML)
    a = load_audit(folder)
    r = a.responses
    m = journey.touchpoint_metrics(a)
    used = r["tp_b"].notna()
    w = r["weight"]
    assert m.loc["b", "top2"] == pytest.approx(w[used & (r["tp_b"] >= 4)].sum() / w[used].sum(), abs=1e-12)
    assert m.loc["b", "usage"] == pytest.approx(w[used].sum() / w.sum(), abs=1e-12)
    pains = journey.pain_points(a)
    base = r[r["nps"].notna()]
    low = base["tp_c"] <= 2
    assert pains.loc["tp_c", "reach"] == pytest.approx(base["weight"][low].sum() / base["weight"].sum(), abs=1e-12)
    assert pains.attrs["weighted"]


def test_omnichannel_consistency_is_cochrans_q(audit) -> None:
    cells = journey.journey_cells(audit, ("stage", "channel"))
    omni = journey.omnichannel_consistency(audit, cells).set_index("stage")
    assert list(omni.index) == ["purchase", "retention"] or list(omni.index) == ["purchase"]
    purchase = cells[cells["stage"] == "purchase"].set_index("channel")
    p = purchase["top2"].to_numpy()
    n = purchase["n"].to_numpy(float)  # one touchpoint per channel: n_eff = n
    pt = (p * n + 1) / (n + 2)
    v = pt * (1 - pt) / n
    pbar = np.sum(p / v) / np.sum(1 / v)
    q = float(np.sum((p - pbar) ** 2 / v))
    row = omni.loc["purchase"]
    assert row["q"] == pytest.approx(q, rel=1e-12)
    assert row["p_value"] == pytest.approx(stats.chi2.sf(q, 1), rel=1e-12)
    assert row["spread"] == pytest.approx(100 * (p.max() - p.min()))
    assert row["best_channel"] == purchase["top2"].idxmax() and row["channels"] == 2
    assert row["consistent"] == (row["p_value"] >= 0.05)


# --- pain points and findings ---------------------------------------------------------------------------


def _nps(x: pd.Series) -> tuple[float, float, float, int]:
    n = len(x)
    p, d = (x >= 9).sum() / n, (x <= 6).sum() / n
    return 100 * (p - d), p, d, n


def test_pain_points_reach_times_gap_with_the_numbers_behind(audit) -> None:
    r = audit.responses
    pains = journey.pain_points(audit)
    base = r[r["nps"].notna()]
    low = (base["tp_c"] <= 2).to_numpy()
    reach = low.mean()
    v_low, p1, d1, n1 = _nps(base["nps"][low])
    v_rest, p2, d2, n2 = _nps(base["nps"][~low])
    se = np.sqrt(((p1 + d1) - (p1 - d1) ** 2) / n1 + ((p2 + d2) - (p2 - d2) ** 2) / n2) * 100
    row = pains.loc["tp_c"]
    assert row["n_low"] == n1 and row["n_base"] == len(base) and row["reach"] == pytest.approx(reach)
    assert (row["nps_low"], row["nps_rest"]) == pytest.approx((v_low, v_rest), abs=1e-12)
    assert row["gap"] == pytest.approx(v_rest - v_low, abs=1e-12)
    assert (row["gap_low"], row["gap_high"]) == pytest.approx((row["gap"] - Z95 * se, row["gap"] + Z95 * se))
    assert row["p_value"] == pytest.approx(2 * stats.norm.sf(row["gap"] / se), rel=1e-9)
    assert row["points"] == pytest.approx(reach * row["gap"])
    # the score is exactly what the whole base gains if the low raters answered like the rest
    overall = _nps(base["nps"])[0]
    assert overall == pytest.approx(reach * v_low + (1 - reach) * v_rest, abs=1e-9)
    assert v_rest - overall == pytest.approx(row["points"], abs=1e-9)
    assert pains["points"].is_monotonic_decreasing and pains["rank"].tolist() == list(range(1, len(pains) + 1))
    assert pains.index[0] == "tp_c"  # NPS was generated from tp_c


def test_findings_for_the_top_pain_points(audit) -> None:
    pains = journey.pain_points(audit)
    found = journey.journey_findings(audit, "en", pains)
    ok = pains[(pains["n_low"] >= 5) & (pains["gap"] > 0) & (pains["p_value"] < 0.05)]
    assert [f.id for f in found] == [f"journey.pain_point.{tp}" for tp in ok.index[:3]]
    f = found[0]
    row = pains.loc["tp_c"]
    # value = points *below* the rest (positive), printed unsigned: "pts" would print "+…" ("above")
    assert f.id == "journey.pain_point.tp_c" and f.section == "journey" and f.unit == ""
    assert f.value == pytest.approx(row["gap"]) and f.n == row["n_low"] and f.reach == pytest.approx(row["reach"])
    assert (f.ci_low, f.ci_high) == pytest.approx((row["gap_low"], row["gap_high"]))
    expected_severity = 5 if row["gap"] >= 40 else 4 if row["gap"] >= 30 else 3 if row["gap"] >= 20 else 2
    assert f.severity == expected_severity
    assert f.tags == {"touchpoints": ["tp_c"], "stages": ["retention"], "channels": ["phone"],
                      "departments": ["Support"]}
    assert f.evidence["points"] == pytest.approx(row["points"]) and f.evidence["table"] == "journey.pain_points"
    assert f.title.startswith("Support call: ") and "points below the rest" in f.title
    assert f.evidence["n_rest"] == row["n_base"] - row["n_low"]
    assert not format_value(f, "en")[0].startswith("+")
    json.dumps(f.to_dict())  # plain data
    assert journey.journey_findings(audit, "en", None) == []


# A tiny frame whose numbers are worked out by hand below. tp_x: rows 0-7 rate it low (1-2), rows 8-15
# rate it 3-5, rows 16-19 did not use it. tp_y: used by rows 12-19, never rated low.
TINY_TOUCHPOINTS = """touchpoint,stage,channel,owner_department,label
tp_x,purchase,site,E-commerce,Checkout
tp_y,retention,phone,Support,Support call
"""
TINY = pd.DataFrame({
    "response_id": [f"T{i:02d}" for i in range(20)], "date": "2025-03-01",
    "tp_x": [1, 2, 1, 2, 1, 2, 1, 2, 5, 4, 5, 3, 4, 5, 4, 3] + [np.nan] * 4,
    "tp_y": [np.nan] * 12 + [4, 5, 4, 5, 3, 4, 5, 4],
    # low raters of tp_x: 1 promoter (10), 1 passive (7), 6 detractors; the rest: 6 P, 4 passives, 2 D
    "nps": [10, 7, 0, 3, 5, 6, 2, 4] + [9, 10, 9, 10, 9, 10, 7, 8, 7, 8, 5, 6],
    "ces": [2, 3, 2, 3, 2, 3, 2, 3, 6, 6, 5, 7, 6, 5, 7, 6, 4, 4, np.nan, 7],
})


@pytest.fixture
def tiny(tmp_path: Path, make_client: MakeClient):
    folder = make_client(tmp_path, {"responses.csv": _csv(TINY), "touchpoints.csv": TINY_TOUCHPOINTS}, YAML)
    return load_audit(folder)


def test_pain_point_finding_reads_like_its_title_on_a_hand_computed_frame(tiny) -> None:
    pains = journey.pain_points(tiny)
    assert pains.index.tolist() == ["tp_x"]  # tp_y has no low rater
    row = pains.loc["tp_x"]
    # NPS_low = 100 × (1 − 6) / 8 = −62.5; NPS_rest = 100 × (6 − 2) / 12 = +33.333…
    # gap = NPS_rest − NPS_low = 33.333… + 62.5 = 95.833…; reach = 8 / 20 = 0.4; points = 0.4 × 95.833… = 38.333…
    assert (row["nps_low"], row["nps_rest"]) == pytest.approx((-62.5, 100 / 3), abs=1e-9)
    assert row["gap"] == pytest.approx(95.833333, abs=1e-6) and row["reach"] == pytest.approx(0.4)
    assert row["points"] == pytest.approx(38.333333, abs=1e-6)
    # overall NPS = 100 × (7 − 8) / 20 = −5 = 0.4 × (−62.5) + 0.6 × 33.333…; the rest minus it = 38.333… = points
    # v_low = (1/8 + 6/8) − (1/8 − 6/8)² = 0.875 − 0.390625 = 0.484375; v_rest = 8/12 − (4/12)² = 5/9
    # se = 100 × √(0.484375 / 8 + (5/9) / 12) = 100 × √0.1068432 = 32.68687; z = 95.8333 / 32.68687 = 2.93186
    # 95% interval of the gap: 95.8333 ∓ 1.959964 × 32.68687 = [31.7682; 159.8984]; p = 2 × Φ(−2.93186) = 0.00337
    assert (row["gap_low"], row["gap_high"]) == pytest.approx((31.768238, 159.898429), abs=1e-5)
    assert row["p_value"] == pytest.approx(0.0033694, abs=1e-6)

    (f,) = journey.journey_findings(tiny, "en", pains)
    assert f.id == "journey.pain_point.tp_x" and f.metric == "nps_gap_low_raters"
    # value, interval and n are those of the title's number: 95.8 points below the rest, base = the 8 low raters
    assert f.value == pytest.approx(95.833333, abs=1e-6) and f.value == pytest.approx(row["nps_rest"] - row["nps_low"])
    assert (f.ci_low, f.ci_high) == pytest.approx((31.768238, 159.898429), abs=1e-5)
    assert f.n == 8 and f.evidence["n_rest"] == 12 and f.evidence["n_base"] == 20
    assert f.severity == 5 and f.reach == pytest.approx(0.4)  # gap ≥ 40 → 5
    assert f.title == ("Checkout: 40% of customers rated it low, and their NPS is 95.8 points below the rest "
                       "(−62.5 vs +33.3)")
    # the report's value column: unsigned like the title ("+95.8" read as "above the rest" before)
    assert format_value(f, "en") == ("95.8", "[31.8; 159.9]")
    assert format_value(f, "ru")[0] == "95,8"


def test_effort_is_the_overall_ces_of_the_touchpoints_users_on_a_hand_computed_frame(tiny) -> None:
    m = journey.touchpoint_metrics(tiny)
    # tp_x users = rows 0-15, all answered CES: (2+3)×4 + (6+6+5+7+6+5+7+6) = 20 + 48 = 68; 68 / 16 = 4.25
    assert m.loc["tp_x", "effort"] == pytest.approx(4.25) and m.loc["tp_x", "effort_n"] == 16 == m.loc["tp_x", "n"]
    # tp_y users = rows 12-19 (n = 8); row 18 has no CES answer, so its base is 7:
    # 6 + 5 + 7 + 6 + 4 + 4 + 7 = 39; 39 / 7 = 5.5714…
    ces_y = np.array([6, 5, 7, 6, 4, 4, 7], float)
    assert m.loc["tp_y", "n"] == 8 and m.loc["tp_y", "effort_n"] == 7
    assert m.loc["tp_y", "effort"] == pytest.approx(39 / 7)
    lo, hi = stats.t.interval(0.95, 6, loc=39 / 7, scale=ces_y.std(ddof=1) / np.sqrt(7))
    assert (m.loc["tp_y", "effort_low"], m.loc["tp_y", "effort_high"]) == pytest.approx((lo, hi), abs=1e-12)
    # the survey's one CES question, not a question about the touchpoint: both touchpoints' values come from
    # the same answers, e.g. rows 12-15 count towards both
    assert t("journey.col_effort", "en", max=7) == "CES of this touchpoint's users (1–7)"


def test_bad_severity_is_refused(audit) -> None:
    from cxaudit.errors import MetricError

    with pytest.raises(MetricError, match="severity must be 'nps_gap' or 'importance'"):
        journey.pain_points(audit, severity="pain")  # type: ignore[arg-type]
    with pytest.raises(MetricError, match="needs the key-driver table"):
        journey.pain_points(audit, severity="importance")


def test_no_touchpoints_table_means_no_journey(tmp_path: Path, make_client: MakeClient) -> None:
    folder = make_client(tmp_path, {"responses.csv": _csv(_responses())}, YAML_NO_TP)
    a = load_audit(folder)
    assert journey.touchpoint_table(a) is None
    assert journey.key_drivers(a) is None and journey.pain_points(a) is None


def test_touchpoints_defined_in_audit_yaml_are_read_when_there_is_no_table(tmp_path: Path,
                                                                        make_client: MakeClient) -> None:
    """``touchpoints:`` in audit.yaml (config patch proposed with this section): read through the config
    object, so a stand-in config with that attribute is enough here."""

    class WithTouchpoints:
        def __init__(self, base: object, touchpoints: dict) -> None:
            self._base, self.touchpoints = base, touchpoints

        def __getattr__(self, name: str) -> object:
            return getattr(self._base, name)

    folder = make_client(tmp_path, {"responses.csv": _csv(_responses())}, YAML_NO_TP)
    a = load_audit(folder)
    a.config = WithTouchpoints(a.config, {  # type: ignore[assignment]
        "c": {"stage": "Retention", "channel": "phone", "owner_department": "Support"},
        "tp_a": {"stage": "purchase", "channel": "site", "label": "Checkout"},
    })
    tps = journey.touchpoint_table(a)
    assert tps["touchpoint"].tolist() == ["tp_a", "c"] and tps["column"].tolist() == ["tp_a", "tp_c"]
    assert tps["label"].tolist() == ["Checkout", "c"] and tps["stage"].tolist() == ["purchase", "retention"]
    assert set(tps.attrs["unmapped_columns"]) == {"tp_b", "tp_d", "tp_extra"}
    assert journey.pain_points(a).index.tolist()[0] == "c"


# --- the demo's planted effects ---------------------------------------------------------------------------


def test_demo_planted_key_drivers_rank_first_and_beat_noise(demo) -> None:
    kda = journey.key_drivers(demo, bootstrap=25)
    planted = PLANTED["key_drivers"]["touchpoints"]  # tp_delivery, tp_support_call
    assert set(kda.index[:2]) == set(planted)
    assert kda.loc[planted, "rank"].tolist() == [1, 2]
    assert kda.loc[planted, "significant"].all()
    third = kda["share"].iloc[2]
    assert (kda.loc[planted, "share"] > 4 * third).all()  # planted weight ratio ≥ 4.3
    assert kda.attrs["missing"] == "pairwise" and kda.attrs["method"] == "shapley" and kda.attrs["n_boot_used"] == 25
    assert kda.loc["tp_delivery", "owner_department"] == "Logistics"
    rw = journey.key_drivers(demo, method="relative_weights", bootstrap=0)
    assert rw.index[:2].tolist() == kda.index[:2].tolist()


def test_demo_lowest_rated_touchpoint_is_the_top_pain_point(demo) -> None:
    m = journey.touchpoint_metrics(demo)
    assert m["mean"].idxmin() == PLANTED["lowest_rated_touchpoint"] == "tp_delivery"
    assert m.loc["tp_delivery", "owner_department"] == PLANTED["low_motivation_department"]["department"]
    kda = journey.key_drivers(demo, bootstrap=0)
    ipa = journey.importance_performance(kda, m)
    assert set(ipa.index[ipa["quadrant"] == "concentrate_here"]) == {"tp_delivery", "tp_support_call"}
    pains = journey.pain_points(demo, drivers=kda)
    assert pains.index[:2].tolist() == ["tp_delivery", "tp_support_call"]
    by_importance = journey.pain_points(demo, drivers=kda, severity="importance")
    assert by_importance.index[:2].tolist() == ["tp_delivery", "tp_support_call"]
    found = journey.journey_findings(demo, "ru", pains)
    assert found[0].id == "journey.pain_point.tp_delivery"
    assert found[0].tags["departments"] == ["Logistics"] and found[0].severity == 5
    # the post-purchase stage is served inconsistently: site (delivery) far below app (tracking)
    omni = journey.omnichannel_consistency(demo).set_index("stage")
    assert omni.loc["post-purchase", "worst_channel"] == "site" and not omni.loc["post-purchase", "consistent"]


# --- figures, labels, catalog ----------------------------------------------------------------------------


def test_figures_mark_small_bases_and_draw_every_driver(audit) -> None:
    import matplotlib.pyplot as plt

    cells = journey.journey_cells(audit, ("stage", "channel"))
    cells.loc[0, "small_base"] = True
    mats = journey.heatmap_matrix(cells, "channel", "stage")
    fig = journey.heatmap_figure(mats, "en", "T", list(mats["value"].index), list(mats["value"].columns), 5)
    ax = fig.axes[0]
    assert sum(1 for p in ax.patches if p.get_hatch() == "///") == 1
    texts = [x.get_text() for x in ax.texts]
    assert len(texts) == int(np.isfinite(mats["value"].to_numpy(float)).sum())
    assert sum("*" in x for x in texts) == 1 and all("n = " in x for x in texts)
    assert any(x.get_text().startswith("* Base below 5") for x in fig.texts)
    kda = journey.key_drivers(audit, bootstrap=20)
    dfig = journey.drivers_figure(kda, "en")
    assert len(dfig.axes[0].patches) == len(kda)
    m = journey.touchpoint_metrics(audit)
    ifig = journey.ipa_figure(journey.importance_performance(kda, m), "en", "Satisfied")
    assert len(ifig.axes[0].collections[0].get_offsets()) == len(kda)
    assert not plt.get_fignums()  # every figure closed


def test_labels_and_p_values_per_language() -> None:
    # stage names: the one catalog of coded values (i18n.value_label, value.stage.<id>)
    assert value_label("stage", "post-purchase", "ru") == "После покупки"
    assert value_label("stage", "Post-purchase ", "pl") == "Po zakupie"
    assert value_label("stage", "unboxing", "pl") == "unboxing"  # a custom stage keeps its id
    assert value_label("channel", "email", "pl") == "E-mail" and value_label("channel", "kiosk", "en") == "kiosk"
    assert journey.fmt_p_value(0.0004, "ru") == "<\u00a00,001" and journey.fmt_p_value(0.0456, "en") == "0.046"


def test_catalog_has_the_same_journey_keys_and_placeholders_in_every_language() -> None:
    def keys(lang: str) -> dict[str, set[str]]:
        return {k: {f for _, f, _, _ in string.Formatter().parse(v) if f} for k, v in catalog(lang).items()
                if k.startswith("journey.") or k == "section.journey"}

    en = keys("en")
    assert len(en) > 50 and "section.journey" in en
    for lang in ("ru", "pl"):
        assert keys(lang) == en
        assert "{" not in t("journey.finding_pain_point", lang, touchpoint="X", reach="5 %", gap="40,1",
                            nps_low="−10,0", nps_rest="+30,1")
        assert "{" not in t("journey.effort_note", lang, max=7) + t("journey.col_effort", lang, max=7)
    assert not any(k.startswith("journey.stage.") for k in en)  # stage names live in values.yaml


# --- the notebook without its input ------------------------------------------------------------------


@pytest.mark.slow
def test_notebook_without_touchpoints_says_so_and_emits_no_findings(tmp_path: Path, make_client: MakeClient) -> None:
    import papermill as pm

    folder = make_client(tmp_path, {"responses.csv": _csv(_responses())}, YAML_NO_TP)
    nb = Path(__file__).resolve().parent.parent / "notebooks" / "03_journey.ipynb"
    run = tmp_path / "run"
    out = pm.execute_notebook(str(nb), str(tmp_path / "out.ipynb"), parameters={
        "client": str(folder), "run_dir": str(run), "lang": "pl"}, kernel_name="python3", progress_bar=False,
        execution_timeout=120)
    html = "".join(o.get("data", {}).get("text/html", "") for c in out.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))
    assert t("report.section_missing", "pl", what=t("journey.what_touchpoints", "pl")) in html
    assert json.loads((run / "findings" / "03_journey.json").read_text(encoding="utf-8")) == []
