"""Issue 12 / 14 for the journey, VoC and employee sections: analysis apart from presentation, results with
no difference collapse to one line, takeaway titles and readable chart axes.

Everything runs on small planted frames (no notebook, no demo run)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
import pytest

from cxaudit import employees, journey, journey_view, text, tickets, voc_view

NOTEBOOKS = Path(__file__).resolve().parents[1] / "cxaudit" / "notebooks"


def _stub_audit(min_base: int = 30) -> SimpleNamespace:
    """The two things the display blocks read from an audit: value labels and the minimum base."""
    from cxaudit.i18n import value_label

    config = SimpleNamespace(min_base=min_base, value_labels={},
                             value_label=lambda col, v, lang, inline=False: value_label(col, v, lang, inline=inline))
    return SimpleNamespace(config=config, tables={})


def _html(blocks: list) -> str:
    return "".join(getattr(b, "data", "") or "" for b in blocks)


def _logic_lines(nb: Path) -> int:
    cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
    return sum(1 for c in cells if c["cell_type"] == "code"
               and not {"parameters", "analyst"} & set(c.get("metadata", {}).get("tags", []))
               for line in "".join(c["source"]).splitlines() if line.strip() and not line.strip().startswith("#"))


def test_notebooks_03_and_05_keep_only_calls() -> None:
    # before (commit 52120b7): 171 and 308 logic lines outside the parameters cell
    assert _logic_lines(NOTEBOOKS / "03_journey.ipynb") <= 25
    assert _logic_lines(NOTEBOOKS / "05_voc.ipynb") <= 30


# --- omnichannel consistency per stage: one line unless a stage differs -------------------------------------


def _journey_result(consistent: list[bool]) -> journey_view.JourneyResult:
    stages = ["awareness", "purchase", "delivery"][: len(consistent)]
    omni = pd.DataFrame({"stage": stages, "channels": 3, "best_channel": "web", "best": 0.8,
                         "worst_channel": "phone", "worst": [0.78 if c else 0.4 for c in consistent],
                         "spread": [2.0 if c else 40.0 for c in consistent], "n": 120,
                         "p_value": [0.6 if c else 0.001 for c in consistent], "consistent": consistent})
    by_channel = pd.DataFrame({"channel": ["web", "phone"], "n": [200, 150], "n_ratings": [400, 300],
                               "top2": [0.7, 0.6], "top2_low": [0.65, 0.54], "top2_high": [0.75, 0.66],
                               "mean": [4.0, 3.7], "mean_low": [3.9, 3.6], "mean_high": [4.1, 3.8],
                               "small_base": [False, False]})
    return journey_view.JourneyResult(_stub_audit(), "ready", by_channel=by_channel, omni=omni)  # type: ignore[arg-type]


@pytest.mark.parametrize("lang", ["en", "ru", "pl"])
def test_omnichannel_without_difference_is_one_line(lang: str) -> None:
    html = _html(journey_view.blocks_channels(_journey_result([True, True, True]), lang))
    assert html.count("<table") == 1  # the channel table only; the per-stage test table collapsed
    from cxaudit.i18n import t

    assert t("journey.omnichannel_no_difference", lang, stages=3) in html.replace("&#x27;", "'")


def test_omnichannel_with_a_planted_difference_shows_the_table() -> None:
    html = _html(journey_view.blocks_channels(_journey_result([True, False, True]), "en"))
    assert html.count("<table") == 2 and "does not differ" not in html


# --- complaint themes by channel: planted on real comments, coded and tested by cxaudit.text ----------------


def _comments(planted: bool, n: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    channel = np.array(["web", "phone"] * (n // 2))
    # late delivery in 60 % of web comments and 5 % of phone comments (planted), or 30 % in both
    p = np.where(channel == "web", 0.6, 0.05) if planted else np.full(n, 0.3)
    late = rng.random(n) < p
    fees = rng.random(n) < 0.3
    comment = [" ".join(w for w, on in (("the late delivery annoyed me", a), ("hidden fees again", b)) if on)
               or "fine overall" for a, b in zip(late, fees, strict=True)]
    return pd.DataFrame({"response_id": np.arange(n), "comment": comment,
                         "nps": rng.integers(0, 11, n).astype(float), "channel": channel})


def _voc_section(planted: bool) -> voc_view.VocSection:
    voc = text.analyse_comments(_comments(planted), lang="en", min_base=10, seed=1)
    res = voc_view.VocSection(_stub_audit(min_base=10), SimpleNamespace(codeframe=voc.codeframe), voc=voc)  # type: ignore[arg-type]
    res.channel_themes = text.channel_wide(voc, "complaint")
    return res


def test_channel_themes_collapse_without_difference_and_show_the_table_with_one() -> None:
    same = _voc_section(planted=False)
    assert same.voc is not None and same.voc.by_channel is not None
    assert not voc_view.differs(same.voc.by_channel.drop_duplicates("theme")["p_holm"])
    html = _html(voc_view.blocks_channel_themes(same, "en"))
    assert "<table" not in html and "No complaint theme differs between contact channels (95% confidence" in html

    planted = _voc_section(planted=True)
    assert planted.voc is not None and planted.voc.by_channel is not None
    p = planted.voc.by_channel.drop_duplicates("theme").set_index("theme")["p_holm"]
    assert p["late_delivery"] < 0.05 and voc_view.differs(p)
    html = _html(voc_view.blocks_channel_themes(planted, "ru"))
    assert "<table" in html and "Ни одна тема жалоб" not in html


def test_differs_and_rises_read_the_holm_and_trend_columns() -> None:
    assert voc_view.differs(pd.Series([0.2, 0.049])) and not voc_view.differs(pd.Series([0.05, np.nan]))
    flat = pd.DataFrame({"rising": [False, False], "rising_share": [False, False]})
    assert not voc_view.rises(flat) and not voc_view.rises(None) and not voc_view.rises(flat.iloc[:0])
    assert voc_view.rises(flat.assign(rising_share=[False, True]))


# --- employees: EX-CX correlations --------------------------------------------------------------------------


def _corr(p: float) -> pd.DataFrame:
    return pd.DataFrame({"ex": ["enps"], "cx": ["cx_mean"], "n": [6], "rho": [0.3 if p > 0.05 else 0.94],
                         "p_value": [p], "p_exact": [p], "ci_low": [-0.6], "ci_high": [0.9], "critical_rho": [0.886]})


def test_employee_correlations_collapse_to_one_line_unless_one_is_significant() -> None:
    none = _html(employees.blocks_correlations(SimpleNamespace(correlations=_corr(0.56)), "pl"))  # type: ignore[arg-type]
    assert "<table" not in none and "Żaden wskaźnik pracowników" in none
    some = _html(employees.blocks_correlations(SimpleNamespace(correlations=_corr(0.0028)), "en"))  # type: ignore[arg-type]
    assert "<table" in some and "No employee measure" not in some


# --- charts: takeaway titles from the data, plain time ticks, no overlapping labels --------------------------


def _ipa(n: int = 18) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    importance = np.r_[34.0, 28.0, rng.uniform(0.4, 5.0, n - 2)]  # two big drivers and a crowd near zero
    performance = np.r_[0.23, 0.39, rng.uniform(0.48, 0.76, n - 2)]
    ipa = pd.DataFrame({"importance": importance, "performance": performance,
                        "label": ["Home delivery", "Call to the support line"] + [f"Touchpoint number {i}" for i in range(3, n + 1)],
                        "rank": np.arange(1, n + 1)}, index=[f"tp{i}" for i in range(n)])
    ic, pc = importance.mean(), performance.mean()
    ipa["quadrant"] = np.where(importance >= ic, np.where(performance < pc, "concentrate_here", "keep_up"),
                               np.where(performance < pc, "low_priority", "possible_overkill"))
    ipa.attrs = {"importance_cut": ic, "performance_cut": pc}
    return ipa


def test_ipa_takeaway_states_the_finding_in_three_languages() -> None:
    ipa = _ipa()
    assert journey.ipa_takeaway(ipa, "en", "NPS") == "Home delivery drives 34% of NPS and is rated worst"
    assert journey.ipa_takeaway(ipa, "ru", "NPS").startswith("«Home delivery»: 34")
    assert "najniższa ocena" in journey.ipa_takeaway(ipa, "pl", "NPS")
    better = ipa.assign(performance=ipa["performance"].where(ipa.index != "tp0", 0.3))
    better.loc["tp1", "performance"] = 0.2  # the biggest driver is no longer the worst rated
    better.attrs = ipa.attrs
    assert journey.ipa_takeaway(better, "en", "NPS").endswith("is rated below average")


@pytest.mark.parametrize("lang", ["en", "ru", "pl"])
def test_ipa_labels_never_overlap(lang: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = journey.ipa_figure(_ipa(), lang, "Satisfaction", "NPS")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    ax = fig.axes[0]
    r = canvas.get_renderer()
    labels = [tx for tx in ax.texts if tx.get_text()[:1].isdigit()]
    assert len(labels) == 18
    boxes = [tx.get_window_extent(r) for tx in labels]
    overlaps = [(a.get_text(), b.get_text()) for i, (a, ba) in enumerate(zip(labels, boxes, strict=True))
                for b, bb in zip(labels[i + 1:], boxes[i + 1:], strict=True) if ba.overlaps(bb)]
    assert overlaps == []
    corners = [tx.get_window_extent(r) for tx in ax.texts if not tx.get_text()[:1].isdigit()]
    assert len(corners) == 4 and not any(b.overlaps(c) for b in boxes for c in corners)  # nor a quadrant name
    assert ax.get_yscale() == "log"  # importances from 0.4 to 34: the crowd near zero is spread out
    assert fig._suptitle is not None and "Home delivery" in fig._suptitle.get_text()


def test_ticket_time_axis_reads_in_hours_and_days() -> None:
    rng = np.random.default_rng(1)
    tk = pd.DataFrame({"channel": ["chat"] * 50 + ["email"] * 50,
                       "first_response_h": np.r_[rng.uniform(0.05, 2, 50), rng.uniform(3, 70, 50)]})
    cfg = tickets.settings(None)
    fig = tickets.times_figure(tk, cfg, "en")
    labels = [tx.get_text() for tx in fig.axes[0].get_xticklabels()]
    assert {"1 h", "4 h", "1 day"} <= set(labels) and not any("10^" in s or "$" in s for s in labels)
    assert fig._suptitle is not None and fig._suptitle.get_text().startswith("Chat answers fastest")
    ru = [tx.get_text() for tx in tickets.times_figure(tk, cfg, "ru").axes[0].get_xticklabels()]
    assert "1 день" in ru and "4 ч" in ru


def test_heatmap_takeaway_names_the_lowest_cell_with_an_adequate_base() -> None:
    value = pd.DataFrame([[0.6, 0.10], [0.23, 0.7]], index=["web", "phone"], columns=["purchase", "delivery"])
    small = pd.DataFrame([[False, True], [False, False]], index=value.index, columns=value.columns)
    mats = {"value": value, "n": value * 0 + 100, "small_base": small}
    # 10 % sits on a small base: the takeaway is the 23 % cell, not it
    assert (journey.heatmap_takeaway(mats, "en", ["Website", "Phone"], ["Purchase", "Delivery"], "x")
            == "Satisfaction is lowest for Phone at the Purchase stage (23%)")
    assert journey.heatmap_takeaway({**mats, "small_base": small | True}, "ru", ["a", "b"], ["c", "d"], "fallback") == "fallback"


def test_monthly_takeaway_counts_the_channel_share_and_busiest_month() -> None:
    tab = pd.DataFrame({"phone": [10, 30, 20], "chat": [5, 5, 30]}, index=["2025-01", "2025-02", "2025-03"])
    # phone 60 of 100 tickets; March has 50
    assert (tickets.monthly_takeaway(tab, "en").replace("\xa0", " ")
            == "phone carries 60% of 100 tickets; the busiest month is Mar 2025 (50)")
    fig = tickets.monthly_figure(tab, "en")  # in the chart the sentence opens with a capital
    assert fig._suptitle is not None and fig._suptitle.get_text().startswith("Phone carries 60%")
    assert tickets.monthly_takeaway(tab, "pl").startswith("Kanał „telefon”: 60")


def test_enps_chart_title_names_the_lowest_department() -> None:
    tab = pd.DataFrame({"group": ["Sales", "Logistics", "__total__"], "value": [22.0, -14.0, 13.0],
                        "ci_low": [-20.0, -43.0, 0.0], "ci_high": [54.0, 19.0, 25.0], "n": [9, 14, 60],
                        "is_total": [False, False, True], "suppressed": [False, False, False]})
    fig = employees.enps_plot(tab, "en")
    assert fig._suptitle is not None
    assert fig._suptitle.get_text().replace("\n", " ").startswith("eNPS is lowest in Logistics (−14; the company +13)")
