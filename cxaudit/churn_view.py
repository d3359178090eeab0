"""Churn section, presentation: figures, tables and report blocks of a :class:`~cxaudit.churn.ChurnAnalysis`.

The analysis (customer frame, rates, trend, reasons, logistic and Cox models, survival, economics,
findings) is in :mod:`cxaudit.churn` and takes no language; this module turns its results into what a
notebook displays, in ``lang``: ``blocks_*(an, lang)`` return display blocks (escaped HTML from
:mod:`cxaudit.show`, matplotlib figures in the :mod:`cxaudit.plots` house style), ``plot_*`` the
figures, :func:`labels` the client-facing names of predictors, levels and touchpoints. p-values are
printed by the one formatter, :func:`cxaudit.i18n.fmt_p` (``Col(..., kind="p")`` in tables).

Examples
--------
>>> fmt_ratio(2.2468, 1.03, 4.914, "pl")
'2,25 [1,03; 4,91]'
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from . import economics, show
from .churn import GROUPS, ChurnAnalysis, ModelResult, Reasons, Survival, Trend, touchpoint_label
from .i18n import fmt_ci, fmt_date, fmt_int, fmt_num, fmt_p, fmt_pct, fmt_period, t
from .plots import MAX_STEPS, PALETTE, SERIES, step_points
from .show import Col
from .stats import NOT_STATED, group_name, not_stated_note

__all__ = [
    "plot_rates",
    "plot_trend",
    "plot_pareto",
    "plot_forest",
    "plot_km",
    "fmt_ratio",
    "labels",
    "blocks_rates",
    "blocks_trend",
    "blocks_reasons",
    "blocks_drivers",
    "blocks_survival",
    "blocks_economics",
    "analyst_summary",
    "or_list",
]


# --- figures ---------------------------------------------------------------------------------------


#: Bars are drawn in a light tint of their colour so that the 95% interval (a dark dot and whisker
#: over the bar) stays visible on both sides of the bar's end (issue 14: whiskers hidden inside bars).
BAR_ALPHA: float = 0.35
#: Months on the trend's axis: at most this many labels, every k-th month (labels never run together).
MAX_MONTH_LABELS: int = 8


def _group_colour(g: str) -> str:
    return {"promoter": PALETTE["promoter"], "passive": PALETTE["passive"], "detractor": PALETTE["detractor"],
            "no_response": SERIES[3], NOT_STATED: SERIES[3]}.get(g, PALETTE["main"])


def _decimal_ticks(lang: str) -> FuncFormatter:
    """Tick labels in the report language's decimal mark ("0,5" in ru / pl)."""
    decimal = "." if lang == "en" else ","
    return FuncFormatter(lambda v, _pos: f"{v:g}".replace(".", decimal))


def _interval_marks(ax: Any, pos: np.ndarray, value: np.ndarray, low: np.ndarray, high: np.ndarray, *,
                    horizontal: bool) -> None:
    """The estimate as a dark dot and its 95% interval as a whisker, drawn over light bars."""
    err = np.maximum(np.vstack([value - low, high - value]), 0)
    kw: dict[str, Any] = {"fmt": "o", "color": PALETTE["main"], "ecolor": PALETTE["main"], "markersize": 4,
                          "capsize": 3, "elinewidth": 1.2, "zorder": 3}
    if horizontal:
        ax.errorbar(value, pos, xerr=err, **kw)
    else:
        ax.errorbar(pos, value, yerr=err, **kw)


def plot_rates(tab: pd.DataFrame, label: str, labels: Sequence[str], title: str, lang: str) -> Figure:
    """Churn rate per group as light bars with the rate as a dot and its Wilson 95% interval as a
    whisker over the bar; n beside each label."""
    fig, ax = plt.subplots(figsize=(7.5, 0.5 * len(tab) + 1.4))
    y = np.arange(len(tab))[::-1]
    rate = tab["rate"].to_numpy(float) * 100
    colours = [_group_colour(str(g)) for g in tab[label]]
    ax.barh(y, rate, color=colours, alpha=BAR_ALPHA, edgecolor=colours, linewidth=1)
    _interval_marks(ax, y, rate, tab["ci_low"].to_numpy(float) * 100, tab["ci_high"].to_numpy(float) * 100,
                    horizontal=True)
    ax.set_yticks(y, [f"{lb} (n = {fmt_int(n, lang)})" for lb, n in zip(labels, tab["n"], strict=True)])
    ax.set_xlabel(t("churn.axis_rate", lang) + ", %")
    ax.set_title(title)
    fig.tight_layout()
    plt.close(fig)
    return fig


def plot_trend(trend: Trend, lang: str) -> Figure:
    """Monthly churn rate with its 95% band; months significantly different from the previous one
    (Holm) are ringed. Month labels (:func:`cxaudit.i18n.fmt_period`) on every k-th month, at most
    :data:`MAX_MONTH_LABELS`, slanted so that they never run together."""
    tab = trend.table
    x = np.arange(len(tab))
    fig, ax = plt.subplots()
    ax.fill_between(x, tab["ci_low"] * 100, tab["ci_high"] * 100, color=PALETTE["main"], alpha=0.15, linewidth=0)
    ax.plot(x, tab["rate"] * 100, color=PALETTE["main"], marker="o", markersize=3)
    sig = tab["significant"].to_numpy(bool)
    ax.scatter(x[sig], tab["rate"].to_numpy(float)[sig] * 100, s=120, facecolors="none",
               edgecolors=PALETTE["detractor"], linewidths=1.6, zorder=3, label=t("churn.trend_significant", lang))
    periods = tab["period"].to_numpy()
    step = max(1, math.ceil(len(tab) / MAX_MONTH_LABELS))
    ax.xaxis.set_major_locator(FixedLocator(x[::step].tolist()))
    ax.xaxis.set_major_formatter(FuncFormatter(
        lambda v, _pos: fmt_period(periods[int(round(v))], lang) if 0 <= round(v) < len(periods) else ""))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.tick_params(axis="x", labelrotation=30)
    for lab in ax.get_xticklabels():
        lab.set_horizontalalignment("right")
    ax.set_ylabel(t("churn.axis_rate_month", lang) + ", %")
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(_decimal_ticks(lang))
    ax.set_title(t("churn.trend_title", lang))
    if sig.any():
        ax.legend(loc="upper left", frameon=False)
    fig.tight_layout()
    plt.close(fig)
    return fig


def plot_pareto(reasons: Reasons, lang: str, top: int = 10) -> Figure:
    """Pareto chart of stated reasons: shares as light bars with a dot and Wilson 95% whisker over each,
    cumulative share line."""
    tab = reasons.table.head(top)
    x = np.arange(len(tab))
    share = tab["share"].to_numpy(float) * 100
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    ax.bar(x, share, color=PALETTE["main"], alpha=BAR_ALPHA, edgecolor=PALETTE["main"], linewidth=1)
    _interval_marks(ax, x, share, tab["ci_low"].to_numpy(float) * 100, tab["ci_high"].to_numpy(float) * 100,
                    horizontal=False)
    ax2 = ax.twinx()
    ax2.plot(x, tab["cum_share"].to_numpy(float) * 100, color=PALETTE["detractor"], marker="o", markersize=3)
    ax2.set_ylim(0, 105)
    ax2.set_ylabel(t("churn.axis_cumulative", lang) + ", %")
    ax2.grid(False)
    ax.set_xticks(x, [_wrap(str(r)) for r in tab["reason"]], fontsize=8)
    ax.set_ylabel(t("churn.axis_share_reasons", lang) + ", %")
    ax.set_title(t("churn.pareto_title", lang, n=fmt_int(reasons.n_stated, lang)))
    fig.tight_layout()
    plt.close(fig)
    return fig


def _wrap(text: str, width: int = 14) -> str:
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return "\n".join(lines)


def plot_forest(table: pd.DataFrame, labels: Sequence[str], title: str, xlabel: str, lang: str = "en") -> Figure:
    """Ratios (odds or hazard) with 95% intervals on a log axis; 1 = no effect. Reference rows
    (ratio 1, no interval) are drawn as hollow markers."""
    tab = table.reset_index(drop=True)
    y = np.arange(len(tab))[::-1]
    fig, ax = plt.subplots(figsize=(7.5, 0.38 * len(tab) + 1.3))
    ref = tab["reference"].to_numpy(bool) if "reference" in tab.columns else np.zeros(len(tab), bool)
    est = tab["ratio"].to_numpy(float)
    lo, hi = tab["ci_low"].to_numpy(float), tab["ci_high"].to_numpy(float)
    ok = ~ref & np.isfinite(lo) & np.isfinite(hi)
    ax.errorbar(est[ok], y[ok], xerr=np.vstack([est[ok] - lo[ok], hi[ok] - est[ok]]), fmt="o",
                color=PALETTE["main"], ecolor=SERIES[3], capsize=3)
    ax.scatter(est[ref], y[ref], facecolors="white", edgecolors=PALETTE["main"], zorder=3)
    ax.axvline(1.0, color=PALETTE["passive"], linestyle="--", linewidth=1)
    ax.set_xscale("log")
    left, right = ax.get_xlim()
    ticks = [v for v in (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 7, 10, 20, 50) if left <= v <= right]
    while len(ticks) > 7:  # keep 1 and every other tick
        ticks = [v for i, v in enumerate(ticks) if v == 1 or (i - ticks.index(1)) % 2 == 0]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(_decimal_ticks(lang))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_yticks(y, list(labels))
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    fig.tight_layout()
    plt.close(fig)
    return fig


def thin_steps(curve: pd.DataFrame, max_steps: int = MAX_STEPS) -> pd.DataFrame:
    """The steps of a survival curve (rows sorted by ``time``) to draw (:func:`cxaudit.plots.step_points`)."""
    return curve if len(curve) <= max_steps else curve.iloc[step_points(curve["time"].to_numpy(float), max_steps)]


def plot_km(surv: Survival, labels: Mapping[str, str], lang: str, max_time: float | None = None) -> Figure:
    """Kaplan–Meier curves with their 95% bands, one colour per group (at most :data:`~cxaudit.plots.MAX_STEPS`
    steps each)."""
    fig, ax = plt.subplots(figsize=(7.5, 4.0))
    for g, curve in surv.curves.items():
        c = thin_steps(curve if max_time is None else curve[curve["time"] <= max_time])
        tt = np.r_[0.0, c["time"].to_numpy(float)]
        ss = np.r_[1.0, c["surv"].to_numpy(float)]
        colour = _group_colour(g)
        ax.step(tt, ss * 100, where="post", color=colour, label=labels.get(g, g))
        ax.fill_between(tt, np.r_[1.0, c["ci_low"].to_numpy(float)] * 100, np.r_[1.0, c["ci_high"].to_numpy(float)] * 100,
                        step="post", color=colour, alpha=0.12, linewidth=0)
    ax.set_xlabel(t("churn.axis_tenure", lang))
    ax.set_ylabel(t("churn.axis_retained", lang) + ", %")
    ax.set_title(t("churn.km_title", lang))
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    plt.close(fig)
    return fig


def fmt_ratio(value: float, low: float, high: float, lang: str) -> str:
    """"2.25 [1.03; 4.91]" in the locale's number format (2 decimals)."""
    if value is None or not np.isfinite(value):
        return "–"
    if low is None or not np.isfinite(low):
        return fmt_num(value, lang, 2)
    return f"{fmt_num(value, lang, 2)} {fmt_ci(low, high, lang, 2)}"


# --- report blocks ----------------------------------------------------------------------------------


def labels(an: ChurnAnalysis, lang: str) -> dict[str, str]:
    """Client-facing names of predictors, terms (``col=level``) and touchpoints."""
    out = {c: t(f"churn.pred.{c}", lang) for c in ("nps_group", "tenure_years", "n_tickets", "n_slow", "churned")}
    out |= {f"nps_group={g}": t(f"churn.group.{g}", lang) for g in GROUPS}
    out |= {g: t(f"churn.group.{g}", lang) for g in GROUPS}
    out |= {s: an.segment_label(s) for s in an.segments}
    # the client's value labels (audit.yaml value_labels): model levels and numeric covariates
    for col, names in an.value_labels.items():
        out |= {f"{col}={v}": str(name) for v, name in names.items()}
    out |= {c: name for c, name in an.segment_labels.items() if c not in out}  # covariates' report names
    for c in an.frame.columns:
        if str(c).startswith("tp_"):
            out[c] = touchpoint_label(an, str(c))
    return out


def _value_name(an: ChurnAnalysis, column: str, value: Any, lang: str) -> str:
    """A group of ``column`` as the report names it: the client's value label, else :func:`group_name`."""
    names = an.value_labels.get(column, {})
    key = str(value)
    if key not in names and isinstance(value, float) and value.is_integer():
        key = str(int(value))
    return str(names[key]) if key in names else str(group_name(value, lang))


def _money_header(key: str, an: ChurnAnalysis, lang: str, **kw: Any) -> str:
    label = t(key, lang, **kw)
    cur = getattr(an.assumptions, "currency", None)
    return t("churn.money_unit", lang, label=label, currency=cur) if cur else label


def _money(x: float | None, lang: str) -> str:
    return fmt_num(None if x is None or not np.isfinite(x) else float(x), lang, 0)


def _money_ci(lo: float | None, hi: float | None, lang: str) -> str:
    return fmt_ci(lo, hi, lang, 0)


def _cur(an: ChurnAnalysis) -> str:
    cur = getattr(an.assumptions, "currency", None)
    return f"\u00a0{cur}" if cur else ""


def blocks_rates(an: ChurnAnalysis | None, lang: str) -> list[Any]:
    """Section heading, overall churn, churn by NPS group (+ the ratio) and by segment.

    ``an`` None (no customers table, nothing analysed): the heading and the one missing-input line;
    every other ``blocks_*`` function then returns nothing.
    """
    if an is None:
        return [show.section("churn", lang), show.missing_input(t("table.customers", lang), lang)]
    out: list[Any] = [show.section("churn", lang), show.paragraph(t("churn.intro", lang))]
    out.append(show.heading(t("churn.overall", lang), "churn"))
    ov = an.overall.copy() if an.overall is not None else pd.DataFrame()
    ov.insert(0, "group", t("churn.all_customers", lang))
    cols = [Col("group", "churn.col_group"), Col("n", "churn.col_n", "int"), Col("churned", "churn.col_churned", "int"),
            Col("rate", "churn.col_rate", "pct1", lo="ci_low", hi="ci_high")]
    months = getattr(an.assumptions, "revenue_period_months", 12.0)
    if an.period is not None:
        ov["period_churn"] = an.period["period_churn"].to_numpy()
        ov["p_low"], ov["p_high"] = an.period["ci_low"].to_numpy(), an.period["ci_high"].to_numpy()
        cols.append(Col("period_churn", t("churn.col_period_churn", lang, months=fmt_num(months, lang, 0)), "pct1",
                        lo="p_low", hi="p_high"))
    out.append(show.table(ov, cols, lang))
    if an.window is not None:
        out.append(show.note(t("churn.overall_note", lang, start=fmt_date(an.window.start, lang),
                               end=fmt_date(an.window.end, lang), months=fmt_num(an.window.months, lang, 0),
                               period=fmt_num(months, lang, 0))))
    elif an.basis is not None and an.basis.ok:
        out.append(show.note(t("churn.overall_note_months", lang, months=fmt_num(an.basis.months, lang, 0),
                               period=fmt_num(months, lang, 0))))
    elif an.basis is not None:
        out.append(show.note(t("churn.no_time_basis", lang)))
    lab = labels(an, lang)
    if an.by_group is not None:
        out.append(show.heading(t("churn.by_group", lang), "churn"))
        out += _rate_blocks(an.by_group, "nps_group", [lab.get(g, g) for g in an.by_group["nps_group"]], lang, an,
                            t("churn.by_group", lang))
        if an.ratio is not None:
            r = an.ratio
            out.append(show.paragraph(t("churn.ratio_text", lang, ratio=fmt_num(r.ratio, lang, 1),
                                        ci=fmt_ci(r.ci_low, r.ci_high, lang, 1), d=fmt_pct(r.rate, lang, 1),
                                        p=fmt_pct(r.reference_rate, lang, 1), pval=fmt_p(r.p_value, lang))))
    else:
        out.append(show.note(t("churn.no_groups", lang)))
    same: list[str] = []
    for s, tab in an.by_segment.items():
        title = t("churn.by_segment", lang, segment=an.segment_label(s))
        names = [_value_name(an, s, g, lang) for g in tab[s]]
        if not tab["direction"].astype(bool).any():  # no group differs from the rest: one sentence for all such
            same.append(an.segment_label(s))
            show.export_table(_rate_table(tab, names, lang), _RATE_COLS, lang, caption=title)
            continue
        out.append(show.heading(title, "churn"))
        out += _rate_blocks(tab, s, names, lang, an, title)
    if same:
        out.append(show.paragraph(t("churn.no_difference_segments", lang, segments=or_list(same, lang))))
    return out


def or_list(names: Sequence[str], lang: str) -> str:
    """"A", "A or B", "A, B or C" in the report language.

    >>> or_list(["region", "channel", "plan"], "pl")
    'region, channel lub plan'
    """
    if len(names) < 2:
        return "".join(names)
    return t("churn.list_or", lang, first=", ".join(names[:-1]), last=names[-1])


#: The columns of a churn-rate table by group (:func:`_rate_table`).
_RATE_COLS = [Col("label", "churn.col_group"), Col("n", "churn.col_n", "int"), Col("churned", "churn.col_churned", "int"),
              Col("rate", "churn.col_rate", "pct1", lo="ci_low", hi="ci_high"), Col("vs_rest", "churn.col_sig", "flag")]


def _rate_table(tab: pd.DataFrame, names: list[str], lang: str) -> pd.DataFrame:
    d = tab.copy()
    d["label"] = names
    d["vs_rest"] = [t("churn.sig_higher", lang) if x > 0 else t("churn.sig_lower", lang) if x < 0 else ""
                    for x in d["direction"]]
    return d


def _rate_blocks(tab: pd.DataFrame, by: str, names: list[str], lang: str, an: ChurnAnalysis, title: str) -> list[Any]:
    d = _rate_table(tab, names, lang)
    out: list[Any] = [show.table(d, _RATE_COLS, lang), plot_rates(d, by, names, title, lang),
                      show.note(t("churn.holm_note", lang))]
    if "not_stated" in d.columns and d["not_stated"].any():
        out.append(show.note(not_stated_note(lang)))
    if d["small_base"].any():
        out.append(show.note(t("report.small_base", lang, min=an.min_base)))
    return out


def blocks_trend(an: ChurnAnalysis | None, lang: str) -> list[Any]:
    """Monthly churn with significant changes marked."""
    if an is None:
        return []
    out: list[Any] = [show.heading(t("churn.trend", lang), "churn")]
    tr = an.trend
    if tr is None:
        return out + [show.note(t("churn.trend_missing", lang))]
    tab = tr.table.copy()
    tab["change_pts"] = tab["change"] * 100
    tab["mark"] = np.where(tab["significant"], "●", "")
    sig = tab.loc[tab["significant"], "period"].tolist()
    sig_txt = t("churn.trend_sig_some", lang, months=", ".join(fmt_period(p, lang) for p in sig)) if sig else t("churn.trend_sig_none", lang)
    out.append(plot_trend(tr, lang))
    cols = [
        Col("period", "churn.col_month", "period"), Col("at_risk", "churn.col_at_risk", "int"),
        Col("churned", "churn.col_churned", "int"), Col("rate", "churn.col_rate", "pct1", lo="ci_low", hi="ci_high"),
        Col("change_pts", "churn.col_change", "signed1"), Col("p_holm", "churn.col_p_holm", "p"),
        Col("mark", "churn.col_sig_short", "flag"),
    ]
    if not sig and not tr.p_value < 0.05:  # no month differs (pairwise or together): one sentence, no table of p = 1
        show.export_table(tab, cols, lang, caption=t("churn.trend", lang))
        return out + [show.paragraph(t("churn.trend_no_change", lang))]
    out.append(show.table(tab, cols, lang))
    out.append(show.note(t("churn.trend_note", lang, k=fmt_int(len(tab) - 1, lang), sig=sig_txt,
                           chi2=fmt_num(tr.chi2, lang, 1), dof=fmt_int(tr.dof, lang), p=fmt_p(tr.p_value, lang))))
    return out


def blocks_reasons(an: ChurnAnalysis | None, lang: str) -> list[Any]:
    """Pareto chart and table of stated reasons; reasons by segment."""
    if an is None:
        return []
    out: list[Any] = [show.heading(t("churn.reasons", lang), "churn")]
    rs = an.reasons
    if rs is None or not rs.n_stated:
        return out + [show.note(t("churn.reasons_missing", lang))]
    out.append(plot_pareto(rs, lang))
    out.append(show.table(rs.table, [
        Col("reason", "churn.col_reason"), Col("n", "churn.col_churned", "int"),
        Col("share", "churn.col_share", "pct1", lo="ci_low", hi="ci_high"), Col("cum_share", "churn.col_cum", "pct"),
    ], lang))
    out.append(show.note(t("churn.reasons_note", lang, n=fmt_int(rs.n_stated, lang),
                           missing=fmt_int(rs.n_not_stated, lang))))
    same: list[str] = []
    for s, (long, p) in an.reasons_by.items():
        if long.empty:
            continue
        title = t("churn.reasons_by", lang, segment=an.segment_label(s))
        wide = long.pivot(index="reason", columns=s, values="share")
        lo = long.pivot(index="reason", columns=s, values="ci_low")
        hi = long.pivot(index="reason", columns=s, values="ci_high")
        base = long.groupby(s)["base"].first()
        order = [r for r in rs.table["reason"] if r in wide.index]
        wide, lo, hi = wide.loc[order], lo.loc[order], hi.loc[order]
        d = pd.DataFrame({"reason": order})
        cols = [Col("reason", "churn.col_reason")]
        for j, g in enumerate(wide.columns):
            d[f"v{j}"], d[f"l{j}"], d[f"h{j}"] = wide[g].to_numpy(), lo[g].to_numpy(), hi[g].to_numpy()
            cols.append(Col(f"v{j}", f"{_value_name(an, s, g, lang)} (n = {fmt_int(base[g], lang)})", "pct", lo=f"l{j}",
                            hi=f"h{j}"))
        if not p < 0.05:  # reasons independent of the group (or untestable): one sentence for all such segments
            same.append(an.segment_label(s))
            show.export_table(d, cols, lang, caption=title)
            continue
        out.append(show.heading(title, "churn"))
        out.append(show.table(d, cols, lang, small_base=None))
        out.append(show.note(t("churn.reasons_by_note", lang, p=fmt_p(p, lang))))
    if same:
        out.append(show.paragraph(t("churn.reasons_no_difference", lang, segments=or_list(same, lang))))
    return out


def _model_table(m: ModelResult, an: ChurnAnalysis, lang: str) -> pd.DataFrame:
    lab = labels(an, lang)
    d = m.table.copy()
    d["factor"] = [lab.get(p, p) for p in d["predictor"]]
    d["level_label"] = [("" if lv is None or (isinstance(lv, float) and np.isnan(lv)) else
                         lab.get(f"{p}={lv}", str(lv))) + (f" ({t('churn.reference', lang)})" if ref else "")
                        for p, lv, ref in zip(d["predictor"], d["level"], d["reference"], strict=True)]
    d["ratio_txt"] = [fmt_ratio(v, lo, hi, lang) for v, lo, hi in zip(d["ratio"], d["ci_low"], d["ci_high"], strict=True)]
    d["forest_label"] = [f"{f}: {lv}" if lv else f for f, lv in zip(d["factor"], d["level_label"], strict=True)]
    return d


def _messages(m: ModelResult, an: ChurnAnalysis, lang: str) -> list[Any]:
    lab = labels(an, lang)
    return [show.note(msg.text(lang, lab)) for msg in m.messages]


def blocks_drivers(an: ChurnAnalysis | None, lang: str) -> list[Any]:
    """The logistic model (odds ratios, forest plot, check messages) and touchpoint odds ratios."""
    if an is None:
        return []
    out: list[Any] = [show.heading(t("churn.drivers", lang), "churn"), show.paragraph(t("churn.drivers_intro", lang))]
    m = an.logit
    if m is None:
        return out + [show.note(t("churn.model_failed", lang))]
    d = _model_table(m, an, lang)
    out.append(show.table(d, [Col("factor", "churn.col_factor"), Col("level_label", "churn.col_level"),
                              Col("ratio_txt", "churn.col_or"), Col("p_value", "churn.col_p", "p")], lang))
    out.append(plot_forest(d, d["forest_label"].tolist(), t("churn.forest_or", lang), t("churn.axis_or", lang),
                           lang))
    out.append(show.note(t("churn.model_note", lang, n=fmt_int(m.n, lang), events=fmt_int(m.n_events, lang),
                           hours=fmt_num(an.slow_hours, lang, 0))))
    out.append(show.note(fit_rows_text(m, lang)))
    out += _messages(m, an, lang)
    tp = an.touchpoints
    if tp is not None and len(tp):
        lab = labels(an, lang)
        out.append(show.heading(t("churn.touchpoints", lang), "churn"))
        d = tp.copy()
        d["label"] = [lab.get(x, x) for x in d["touchpoint"]]
        d["ratio_txt"] = [fmt_ratio(v, lo, hi, lang) for v, lo, hi in zip(d["ratio"], d["ci_low"], d["ci_high"],
                                                                           strict=True)]
        d["mark"] = np.where(d["significant"], "●", "")
        cols = [Col("label", "churn.col_touchpoint"), Col("n", "churn.col_n", "int"),
                Col("ratio_txt", "churn.col_or_lower"), Col("p_holm", "churn.col_p_holm", "p"),
                Col("mark", "churn.col_sig_short", "flag")]
        if not d["significant"].any():  # nothing linked: one sentence, the table of p = 1 for tables.xlsx only
            show.export_table(d, cols, lang, caption=t("churn.touchpoints", lang))
            out.append(show.paragraph(t("churn.touchpoints_no_link", lang, k=fmt_int(len(tp), lang))))
            return out
        out.append(show.paragraph(t("churn.touchpoints_intro", lang, k=fmt_int(len(tp), lang))))
        out.append(show.table(d, cols, lang))
    return out


def fit_rows_text(m: ModelResult, lang: str) -> str:
    """Which customers a model was fitted on (``ModelResult.fit_rows``): all of them, or a stated
    stratified sample with its size, the population it was drawn from and each row's weight (issue 19)."""
    fr = m.fit_rows
    if fr.get("method") == "stratified_sample":
        return t("churn.fit_rows_sample", lang, used=fmt_int(int(fr["rows_used"]), lang),
                 available=fmt_int(int(fr["rows_available"]), lang), share=fmt_pct(float(fr["fraction"]), lang, 1),
                 weight=fmt_num(float(fr["weight"]), lang, 1))
    return t("churn.fit_rows_all", lang, n=fmt_int(m.n, lang))


def blocks_survival(an: ChurnAnalysis | None, lang: str) -> list[Any]:
    """Kaplan–Meier curves by NPS group with retention at 12/24/36 months; the Cox model."""
    if an is None:
        return []
    # "by NPS group" only when there are NPS groups (issue 13: a customers-only audit has none)
    out: list[Any] = [show.heading(t("churn.survival" if an.has_groups else "churn.survival_all", lang), "churn")]
    lab = labels(an, lang)
    sv = an.survival
    if sv is not None:
        out.append(plot_km(sv, lab, lang, max_time=max(sv.horizons) * 2))
        d = sv.table.copy()
        d["label"] = [lab.get(g, g) for g in d["nps_group"]]
        cols = [Col("label", "churn.col_group"), Col("n", "churn.col_n", "int"), Col("events", "churn.col_churned", "int")]
        for h in sv.horizons:
            d[f"s{h}"] = [f"{fmt_pct(s, lang)} {fmt_ci(lo, hi, lang, 0, scale=100)} · "
                          + t("churn.at_risk", lang, n=fmt_int(n, lang))
                          for s, lo, hi, n in zip(d[f"surv_{h}"], d[f"ci_low_{h}"], d[f"ci_high_{h}"], d[f"n_risk_{h}"],
                                                  strict=True)]
            cols.append(Col(f"s{h}", t("churn.col_surv", lang, months=h)))
        out.append(show.table(d, cols, lang, small_base=None))
        out.append(show.note(t("churn.km_note", lang, chi2=fmt_num(sv.chi2, lang, 1), p=fmt_p(sv.p_value, lang))))
    m = an.cox
    if m is None and an.basis is not None and not an.basis.ok:
        return out + [show.note(t("churn.no_time_basis", lang))]
    if m is None:
        return out + [show.note(t("churn.model_failed", lang))]
    out.append(show.paragraph(t("churn.cox_intro", lang)))
    d = _model_table(m, an, lang)
    out.append(show.table(d, [Col("factor", "churn.col_factor"), Col("level_label", "churn.col_level"),
                              Col("ratio_txt", "churn.col_hr"), Col("p_value", "churn.col_p", "p")], lang))
    out.append(plot_forest(d, d["forest_label"].tolist(), t("churn.forest_hr", lang), t("churn.axis_hr", lang),
                           lang))
    out.append(show.note(t("churn.cox_note", lang, n=fmt_int(m.n, lang), events=fmt_int(m.n_events, lang))))
    out.append(show.note(fit_rows_text(m, lang)))
    out += _messages(m, an, lang)
    return out


def blocks_economics(an: ChurnAnalysis | None, lang: str) -> list[Any]:
    """Assumptions, LTV by NPS group, revenue at risk (+ uplift), retention vs acquisition, moves."""
    if an is None:
        return []
    out: list[Any] = [show.heading(t("churn.economics", lang), "churn"), show.paragraph(t("churn.economics_intro", lang))]
    if an.rar is None and an.ltv is None and an.basis is not None and not an.basis.ok:
        return out + [show.note(t("churn.no_time_basis", lang))]
    if an.rar is None and an.ltv is None:
        key = "churn.economics_missing" if "revenue" not in an.frame.columns else "churn.economics_failed"
        return out + [show.note(t(key, lang))]
    a = an.assumptions
    default = economics.Assumptions()
    rows = []
    for r in economics.assumption_rows(a, an.value_frame()):
        key, v = r["key"], r["value"]
        if key in ("margin", "discount_rate"):
            txt = fmt_pct(v, lang, 1)
        elif key == "acquisition_cost":
            txt = _money(v, lang) + _cur(an)
        elif key == "acquisition_multiple":
            txt = fmt_num(v, lang, 0) + "×"
        else:
            txt = fmt_num(v, lang, 0)
        if r.get("derived"):
            src = t("churn.source.derived", lang)
        elif getattr(default, key) != getattr(a, key):
            src = t("churn.source.client", lang)
        elif key == "acquisition_multiple":
            src = t("churn.source.seeds", lang)
        else:
            src = t("churn.source.default", lang)
        rows.append({"name": t(f"churn.assume.{key}", lang), "value": txt, "source": src})
    out.append(show.heading(t("churn.assumptions", lang), "churn"))
    out.append(show.table(pd.DataFrame(rows), [Col("name", "churn.col_assumption"), Col("value", "churn.col_value"),
                                               Col("source", "churn.col_source")], lang))
    months = fmt_num(a.revenue_period_months, lang, 0)
    lab = labels(an, lang)
    if an.ltv is not None:
        out.append(show.heading(t("churn.ltv", lang), "churn"))
        d = an.ltv.copy()
        d["label"] = [lab.get(g, g) for g in d["nps_group"]]
        out.append(show.table(d, [
            Col("label", "churn.col_group"), Col("n", "churn.col_n", "int"),
            Col("mean_revenue", _money_header("churn.col_mean_revenue", an, lang), "num0"),
            Col("period_churn", t("churn.col_period_churn", lang, months=months), "pct1", lo="churn_low", hi="churn_high"),
            Col("ltv", _money_header("churn.col_ltv", an, lang), "num0", lo="ci_low", hi="ci_high"),
            Col("ltv_simple", _money_header("churn.col_ltv_simple", an, lang), "num0"),
        ], lang, small_base=None))
        out.append(show.note(t("churn.ltv_note", lang)))
    rar = an.rar
    if rar is not None:
        out.append(show.heading(t("churn.rar", lang), "churn"))
        out.append(show.paragraph(t("churn.rar_text", lang, amount=_money(rar.value, lang) + _cur(an), months=months,
                                    ci=_money_ci(rar.ci_low, rar.ci_high, lang), share=fmt_pct(rar.share, lang, 1),
                                    n=fmt_int(rar.n_active, lang), churners=fmt_int(rar.expected_churners, lang))))
        if rar.uplift is not None:
            out.append(show.paragraph(t("churn.uplift_text", lang, amount=_money(rar.uplift, lang) + _cur(an),
                                        ci=_money_ci(rar.uplift_ci_low, rar.uplift_ci_high, lang),
                                        saved=fmt_int(rar.saved_customers, lang), n=fmt_int(rar.n_detractors, lang))))
        out.append(show.note(t("churn.rar_note", lang, months=months, model=fmt_num(rar.model_months, lang, 0))))
        if rar.n_unscored:
            out.append(show.note(t("churn.rar_unscored", lang, n=fmt_int(rar.n_unscored, lang))))
        parts = ([("nps_group", rar.by_group)] if len(rar.by_group) else []) + list(rar.by_segment.items())
        for by, tab in parts:
            d = tab.copy()
            d["label"] = [lab.get(g, g) if by == "nps_group" else _value_name(an, by, g, lang) for g in d[by]]
            title = t("churn.pred.nps_group", lang) if by == "nps_group" else an.segment_label(by)
            out.append(show.heading(t("churn.rar_by", lang, segment=title), "churn"))
            out.append(show.table(d, [
                Col("label", "churn.col_group"), Col("n", "churn.col_n", "int"),
                Col("revenue", _money_header("churn.col_revenue", an, lang), "num0"),
                Col("expected_churners", "churn.col_expected", "num0"),
                Col("revenue_at_risk", _money_header("churn.col_rar", an, lang), "num0"),
                Col("share_at_risk", "churn.col_rar_share", "pct1"),
            ], lang, small_base=None))
    if an.retention is not None and len(an.retention):
        out.append(show.heading(t("churn.retention", lang), "churn"))
        d = an.retention.copy()
        d["mult"] = [fmt_num(k, lang, 0) + "×" for k in d["multiple"]]
        d["mark"] = np.where(d["chosen"], t("churn.chosen", lang), "")
        out.append(show.table(d, [
            Col("mult", "churn.col_multiple"), Col("mark", "churn.col_assumed", "flag"),
            Col("retention_cost", _money_header("churn.col_retention_cost", an, lang), "num0"),
            Col("replace_cost", _money_header("churn.col_replace", an, lang), "num0"),
            Col("retain_cost", _money_header("churn.col_retain", an, lang), "num0"),
            Col("saving", _money_header("churn.col_saving", an, lang), "num0"),
        ], lang, small_base=None))
        cac = float(d["acquisition_cost"].iloc[0])
        out.append(show.note(t("churn.retention_note", lang, n=fmt_int(float(d["customers"].iloc[0]), lang),
                               cac=_money(cac, lang) + _cur(an))))
    if an.moves is not None and len(an.moves):
        out.append(show.heading(t("churn.moves", lang), "churn"))
        d = an.moves.copy()
        d["share_txt"] = [fmt_pct(x, lang) for x in d["share"]]
        d["target_label"] = [lab.get(g, g) for g in d["target"]]
        out.append(show.table(d, [
            Col("share_txt", "churn.col_share_moved"), Col("target_label", "churn.col_target"),
            Col("customers", "churn.col_moved", "num0"),
            Col("rar_reduction", _money_header("churn.col_rar_reduction", an, lang, months=months), "num0",
                lo="ci_low", hi="ci_high"),
            Col("ltv_gain", _money_header("churn.col_ltv_gain", an, lang), "num0"),
        ], lang, small_base=None))
        out.append(show.note(t("churn.moves_note", lang)))
    return out


def analyst_summary(an: ChurnAnalysis | None) -> str:
    """For the analyst (not the report): what could not be computed, seconds per step, and the full
    logistic fit (statsmodels' summary)."""
    if an is None:
        return "no customers table: churn not analysed"
    parts = [f"{an.errors or 'every part computed'} {({k: round(v, 2) for k, v in an.timings.items()})}"]
    if an.engine is not None:  # the customers table is kept in the query engine (issue 19)
        parts.append(f"customers in the query engine: {an.engine}")
    if an.logit is not None:
        parts.append(str(an.logit.fit.summary()))
    return "\n".join(parts)
