"""Churn presentation (cxaudit.churn_view) and the p-value column kind of cxaudit.show.

Unit tests on small hand-made frames: the p kind prints through i18n.fmt_p only; the rate and Pareto
charts draw the 95% interval over light bars; the trend's month labels are thinned and slanted;
"no difference" results collapse to one sentence, their tables kept for tables.xlsx only.
"""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")
from matplotlib.colors import to_rgba  # noqa: E402

from cxaudit import churn, churn_view, economics, show  # noqa: E402
from cxaudit.i18n import fmt_period  # noqa: E402
from cxaudit.plots import PALETTE  # noqa: E402
from cxaudit.show import Col, table_html  # noqa: E402


def _html(blocks: list) -> str:
    return "".join(b.data for b in blocks if isinstance(getattr(b, "data", None), str))


# --- the p-value column kind ------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "cells"), [
    ("en", ["0.012", "&lt;\u00a00.001", "1.000", "–"]),
    ("pl", ["0,012", "&lt;\u00a00,001", "1,000", "–"]),
])
def test_p_kind_prints_through_the_one_formatter(lang: str, cells: list[str]) -> None:
    df = pd.DataFrame({"p": [0.0123, 0.0004, 1.0, np.nan]})
    html = table_html(df, [Col("p", "churn.col_p", "p")], lang)
    # hand-written expectations: three decimals in the locale, "< 0.001" below, a dash when missing
    assert [f'<td class="cx-num">{c}</td>' in html for c in cells] == [True] * 4
    assert html.count('<td class="cx-num">') == 4  # a number column: right-aligned


def test_p_kind_is_a_number_in_tables_xlsx(tmp_path) -> None:
    show.record_tables(tmp_path)
    try:
        show.table(pd.DataFrame({"p": [0.0123, 0.0004]}), [Col("p", "churn.col_p", "p")], "en")
    finally:
        show.record_tables(None)
    rec = pd.read_parquet(tmp_path / "001.parquet")
    assert rec.iloc[:, 0].tolist() == [0.0123, 0.0004]


# --- charts -------------------------------------------------------------------------------------------


def _rate_table() -> pd.DataFrame:
    f = pd.DataFrame({"churned": [1] * 30 + [0] * 70 + [1] * 10 + [0] * 90,
                      "channel": ["web"] * 100 + ["shop"] * 100})
    return churn.churn_rates(f, by="channel", min_base=30)


def test_rate_bars_are_light_and_the_interval_is_drawn_over_them() -> None:
    tab = _rate_table()
    fig = churn_view.plot_rates(tab, "channel", list(tab["channel"]), "t", "en")
    ax = fig.axes[0]
    bars = [p for p in ax.patches]
    assert len(bars) == 2 and all(b.get_facecolor()[3] == pytest.approx(churn_view.BAR_ALPHA) for b in bars)
    err = ax.containers[-1]
    assert isinstance(err, matplotlib.container.ErrorbarContainer)
    line, _caps, (whiskers,) = err.lines
    assert line.get_zorder() > bars[0].get_zorder() and whiskers.get_zorder() > bars[0].get_zorder()
    assert tuple(whiskers.get_colors()[0]) == to_rgba(PALETTE["main"])
    # each whisker spans the Wilson interval of its group, on both sides of the bar's end
    spans = sorted((round(s[0][0], 6), round(s[1][0], 6)) for s in whiskers.get_segments())
    want = sorted((round(lo * 100, 6), round(hi * 100, 6)) for lo, hi in zip(tab["ci_low"], tab["ci_high"], strict=True))
    assert spans == want


def test_pareto_bars_are_light_with_whiskers_over_them() -> None:
    reasons = churn.Reasons(pd.DataFrame({"reason": ["Price", "Service"], "slug": ["price", "service"], "n": [30, 10],
                                          "share": [0.75, 0.25], "ci_low": [0.6, 0.14], "ci_high": [0.86, 0.4],
                                          "cum_share": [0.75, 1.0]}), 45, 40)
    ax = churn_view.plot_pareto(reasons, "en").axes[0]
    assert all(b.get_facecolor()[3] == pytest.approx(churn_view.BAR_ALPHA) for b in ax.patches)
    _line, _caps, (whiskers,) = ax.containers[-1].lines
    assert sorted((round(s[0][1], 6), round(s[1][1], 6)) for s in whiskers.get_segments()) == [(14.0, 40.0),
                                                                                           (60.0, 86.0)]


def test_trend_month_labels_are_thinned_and_slanted() -> None:
    months = pd.period_range("2024-01", periods=30, freq="M").strftime("%Y-%m")
    tab = pd.DataFrame({"period": months, "at_risk": 100, "churned": 2, "rate": 0.02, "ci_low": 0.01,
                        "ci_high": 0.03, "change": 0.0, "p_value": 1.0, "p_holm": 1.0, "significant": False})
    fig = churn_view.plot_trend(churn.Trend(tab, 1.0, 29, 1.0), "ru")
    fig.canvas.draw()
    ax = fig.axes[0]
    ticks = ax.get_xticks()
    labels = [lab.get_text() for lab in ax.get_xticklabels()]
    assert len(ticks) <= churn_view.MAX_MONTH_LABELS  # 30 months: every 4th → 8 labels
    assert labels == [fmt_period(months[int(i)], "ru") for i in ticks]
    assert labels[0] == "янв\u00a02024"
    assert all(lab.get_rotation() == 30 for lab in ax.get_xticklabels())
    ylabels = [lab.get_text() for lab in ax.get_yticklabels()]
    assert "0,5" in ylabels and not any("." in y for y in ylabels)  # percent ticks with the ru decimal comma


# --- "no difference" collapses to one sentence ---------------------------------------------------------------


def _analysis(**parts) -> churn.ChurnAnalysis:
    return churn.ChurnAnalysis(frame=pd.DataFrame({"churned": [0, 1]}), window=None, segments=[], min_base=30,
                               assumptions=economics.Assumptions(), **parts)


def test_segments_without_a_difference_are_one_sentence_and_kept_for_xlsx(tmp_path) -> None:
    # planted: channel web 40% vs shop 10% (n = 200 each: z ≈ 6.9); region A = B = 20%
    f = pd.DataFrame({"churned": ([1] * 80 + [0] * 120 + [1] * 20 + [0] * 180),
                      "channel": ["web"] * 200 + ["shop"] * 200,
                      "region": ["A", "B"] * 200, "plan": ["x", "x", "y", "y"] * 100})
    # region (A, B, A, …) and plan (x, x, y, y, …) split both channels evenly: 50 churners of 200 in each group
    by_segment = {s: churn.churn_rates(f, by=s, min_base=30) for s in ("channel", "region", "plan")}
    assert not by_segment["region"]["direction"].any() and not by_segment["plan"]["direction"].any()
    assert by_segment["channel"]["direction"].abs().sum() == 2
    an = _analysis(overall=churn.churn_rates(f), by_segment=by_segment, segment_labels={"channel": "Channel", "region": "Region", "plan": "Plan"})
    show.record_tables(tmp_path)
    try:
        html = _html(churn_view.blocks_rates(an, "en"))
    finally:
        show.record_tables(None)
    assert "No difference in churn by Region or Plan (95% confidence)." in html
    assert "Churn by Channel" in html and "Churn by Region" not in html and "Churn by Plan" not in html
    titles = sorted(json.loads(p.read_text())["title"] for p in tmp_path.glob("*.json"))
    assert "Churn by Region" in titles and "Churn by Plan" in titles  # the collapsed tables stay in tables.xlsx


def test_or_list_in_three_languages() -> None:
    assert churn_view.or_list(["Region"], "en") == "Region"
    assert churn_view.or_list(["Region", "Channel", "Plan"], "en") == "Region, Channel or Plan"
    assert churn_view.or_list(["Регион", "Канал"], "ru") == "Регион или Канал"


def _trend(p_holm: list[float], p_all: float) -> churn.Trend:
    n = len(p_holm)
    tab = pd.DataFrame({"period": pd.period_range("2025-01", periods=n, freq="M").strftime("%Y-%m"),
                        "at_risk": 100, "churned": 2, "rate": 0.02, "ci_low": 0.01, "ci_high": 0.05, "change": 0.0,
                        "p_value": p_holm, "p_holm": p_holm, "significant": [p < 0.05 for p in p_holm]})
    return churn.Trend(tab, 3.0, n - 1, p_all)


def test_a_trend_without_change_is_one_sentence_not_a_table_of_p_1() -> None:
    html = _html(churn_view.blocks_trend(_analysis(trend=_trend([np.nan, 1.0, 1.0], 0.6)), "pl"))
    assert "<table" not in html and "1,000" not in html
    assert "Odsetek odejść nie zmieniał się istotnie z miesiąca na miesiąc (95% ufności)." in html


def test_a_trend_with_a_change_keeps_its_table_with_p_values() -> None:
    html = _html(churn_view.blocks_trend(_analysis(trend=_trend([np.nan, 0.003, 1.0], 0.01)), "en"))
    assert "<table" in html and '<td class="cx-num">0.003</td>' in html


def test_without_customers_the_section_is_its_heading_and_one_line() -> None:
    html = _html(churn_view.blocks_rates(None, "en"))
    assert html.count("<h1") == 1 and html.count('class="cx-note"') == 1 and "<table" not in html
    assert all(f(None, "en") == [] for f in (churn_view.blocks_trend, churn_view.blocks_reasons,
                                             churn_view.blocks_drivers, churn_view.blocks_survival,
                                             churn_view.blocks_economics))
    assert churn_view.analyst_summary(None) == "no customers table: churn not analysed"


@pytest.mark.parametrize("significant", [False, True])
def test_touchpoints_with_no_link_are_one_sentence(significant: bool) -> None:
    rng = np.random.default_rng(3)
    f = pd.DataFrame({"x": rng.normal(size=200)})
    f["churned"] = (rng.random(200) < 0.2).astype(int)
    tp = pd.DataFrame({"touchpoint": ["tp_a", "tp_b"], "n": [150, 120], "n_events": [30, 25], "ratio": [1.8, 1.1],
                       "ci_low": [1.07, 0.8], "ci_high": [3.05, 1.5], "p_value": [0.2, 0.9], "p_holm": [0.4, 0.9],
                       "significant": [significant, False], "notes": ["", ""]})
    html = _html(churn_view.blocks_drivers(_analysis(logit=churn.fit_logit(f, ["x"]), touchpoints=tp), "en"))
    sentence = "No touchpoint rating is significantly linked to leaving"
    assert (sentence in html) is not significant
    assert ('<td class="cx-num">0.400</td>' in html) is significant  # the table of p-values only when one is
