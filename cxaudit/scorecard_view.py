"""The CX-metrics section (notebook 02), presentation: display blocks of a :class:`~cxaudit.scorecard.ScorecardAnalysis`.

The analysis (:func:`cxaudit.scorecard.analyse`: overall metrics, CSI, segment tables with letters,
monthly trends, customer value, reliability) takes no language; the ``blocks_*(an, lang)`` functions
here turn it into what the notebook displays, in ``lang``: escaped HTML of :mod:`cxaudit.show` and the
figures of :mod:`cxaudit.scorecard` and :mod:`cxaudit.plots`, one function per group of the report.
Methods and sources are in :mod:`cxaudit.scorecard`, :mod:`cxaudit.metrics` and :mod:`cxaudit.stats`.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from . import plots, show
from . import scorecard as sc
from .findings import Finding
from .i18n import fmt_int, fmt_num, fmt_pct, fmt_period, t
from .plots import PALETTE
from .scorecard import ScorecardAnalysis, analyse
from .show import Col, Kind
from .stats import Reliability

__all__ = ["ScorecardAnalysis", "analyse", "blocks_intro", "blocks_scorecard", "blocks_segments", "blocks_trends",
           "blocks_customers", "blocks_reliability", "nps_segment_frame", "findings", "weighting_text", "csi_note",
           "trend_columns", "reliability_sentence", "trend_figure", "distribution_figure"]


# --- texts, columns and figures ------------------------------------------------------------------


def weighting_text(an: ScorecardAnalysis, lang: str) -> str:
    """One paragraph on how the results are weighted and what it costs (Kish efficiency and design
    effect, :mod:`cxaudit.weighting`)."""
    rep = an.weights
    if rep is None:
        return t("metrics.weighting_none", lang)
    kw = {"n": fmt_num(rep.n, lang, 0), "n_eff": fmt_num(rep.n_eff, lang, 0), "eff": fmt_pct(rep.efficiency, lang),
          "deff": fmt_num(rep.deff, lang, 2), "min": fmt_num(rep.min_weight, lang, 2),
          "max": fmt_num(rep.max_weight, lang, 2)}
    if rep.method == "raking":
        names = ", ".join(an.audit.segment_label(v) for v in rep.margins["variable"].drop_duplicates())
        text = t("metrics.weighting_raked", lang, vars=names, **kw)
        if rep.trim:
            text += " " + t("metrics.weighting_trim", lang, trim=fmt_num(rep.trim, lang, 1),
                            err=fmt_num(100 * (rep.max_margin_error or 0.0), lang, 2))
        return text
    return t("metrics.weighting_supplied", lang, **kw)


def csi_note(an: ScorecardAnalysis, lang: str) -> str | None:
    """How the CSI of the scorecard is built and what its interval is (``None`` without a CSI)."""
    if an.csi is None:
        return None
    audit = an.audit
    scale = audit.config.scales.touchpoint
    return t("metrics.csi_note", lang, min=scale.min, max=scale.max, b=fmt_num(2000, lang, 0), seed=audit.config.seed)


def trend_columns(tab: pd.DataFrame, lang: str) -> list[Col]:
    """The :class:`cxaudit.show.Col` list of a :func:`cxaudit.scorecard.trend_table`."""
    cols = [Col("period", "metrics.col_period", "period")]
    spec: dict[str, tuple[str, Kind]] = {"nps": ("NPS", "signed1"), "csat": ("CSAT, %", "num1"), "ces": ("CES", "num2")}
    for m, (head, kind) in spec.items():
        if f"{m}_value" in tab.columns:
            cols += [Col(f"{m}_value", head, kind, lo=f"{m}_ci_low", hi=f"{m}_ci_high"),
                     Col(f"{m}_n", "metrics.col_n", "int")]
    cols.append(Col("changes", "metrics.col_changes"))
    return cols


def reliability_sentence(rel: Reliability | None, lang: str) -> str | None:
    """Cronbach's alpha of the touchpoint ratings (:func:`cxaudit.scorecard.reliability`) as one
    sentence with its interval and n (``None`` for ``None``)."""
    if rel is None:
        return None
    return t("metrics.reliability_text", lang, k=rel.k, alpha=fmt_num(rel.alpha, lang, 2),
             lo=fmt_num(rel.ci_low, lang, 2), hi=fmt_num(rel.ci_high, lang, 2), n=fmt_num(rel.n, lang, 0))


def trend_figure(trend: dict[str, pd.DataFrame], lang: str) -> Figure:
    """One panel per metric of :func:`cxaudit.scorecard.trends`: the value by period with its 95% band;
    significant drops ▼ (red) and rises ▲ (green) against the previous period; small bases drawn hollow."""
    metrics = list(trend)
    fig, axes = plt.subplots(len(metrics), 1, figsize=(7.5, 2.3 * len(metrics) + 0.6), sharex=True, squeeze=False)
    for ax, m in zip(axes[:, 0], metrics, strict=True):
        tab = trend[m]
        scale = 100 if m == "csat" else 1
        x = np.arange(len(tab))
        y, lo, hi = (tab[c].to_numpy(float) * scale for c in ("value", "ci_low", "ci_high"))
        ax.fill_between(x, lo, hi, color=PALETTE["main"], alpha=0.15, linewidth=0)
        ax.plot(x, y, color=PALETTE["main"], linewidth=1.5)
        small = tab["small_base"].to_numpy(bool)
        ax.scatter(x[~small], y[~small], color=PALETTE["main"], s=14, zorder=3)
        ax.scatter(x[small], y[small], facecolors="white", edgecolors=PALETTE["main"], s=14, zorder=3)
        for change, marker, colour in (("down", "v", PALETTE["detractor"]), ("up", "^", PALETTE["promoter"])):
            sel = (tab["change"] == change).to_numpy()
            ax.scatter(x[sel], y[sel], marker=marker, s=90, color=colour, zorder=4)
        unit = ", %" if m == "csat" else ""
        ax.set_ylabel(f"{m.upper()}{unit}")
    labels = trend[metrics[0]]["period"].tolist()
    bottom = axes[-1, 0]
    bottom.set_xticks(np.arange(len(labels)), [fmt_period(p, lang) for p in labels], rotation=90 if len(labels) > 12 else 0)
    axes[0, 0].set_title(t("metrics.trend_title", lang))
    fig.tight_layout()
    plt.close(fig)
    return fig


def distribution_figure(an: ScorecardAnalysis, lang: str) -> Figure:
    """The answer distributions (:func:`cxaudit.scorecard.distributions`) as seaborn bars, one panel per
    metric (no error bars, so the figure is deterministic). Colours: NPS detractor / passive /
    promoter; CSAT top box vs the rest; CES difficult (1–3) / neutral / easy (5–7)."""
    dist = an.distributions if an.distributions is not None else sc.distributions(an.audit)
    top_box = an.audit.config.scales.csat.top_box
    panels = list(dict.fromkeys(dist["metric"]))
    sizes = [int((dist["metric"] == m).sum()) for m in panels]
    fig, axes = plt.subplots(1, len(panels), figsize=(7.5, 3.0), squeeze=False, gridspec_kw={"width_ratios": sizes})
    for ax, m in zip(axes[0], panels, strict=True):
        sub = dist[dist["metric"] == m]
        points = sub["point"].to_numpy()
        hi = int(points.max())
        if m == "nps":
            colours = [PALETTE["detractor"] if p <= 6 else PALETTE["passive"] if p <= 8 else PALETTE["promoter"]
                       for p in points]
            xlabel = t("metrics.nps_axis", lang)
        elif m == "csat":
            top = hi - top_box + 1
            colours = [PALETTE["promoter"] if p >= top else PALETTE["passive"] for p in points]
            xlabel = t("metrics.csat_axis", lang, max=hi)
        else:
            colours = [PALETTE["detractor"] if p <= 3 else PALETTE["passive"] if p < hi - 2 else PALETTE["promoter"]
                       for p in points]
            xlabel = t("metrics.ces_axis", lang, max=hi)
        frame = pd.DataFrame({"point": points.astype(str), "share": 100 * sub["share"].to_numpy()})
        sns.barplot(data=frame, x="point", y="share", hue="point", palette=colours, legend=False, errorbar=None,
                    ax=ax)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel(t("metrics.share_axis", lang) + ", %" if ax is axes[0, 0] else "", fontsize=9)
        ax.set_title(f"{m.upper()} (n = {fmt_num(int(sub['n'].iloc[0]), lang, 0)})", fontsize=10)
        ax.tick_params(labelsize=8)
    fig.suptitle(t("metrics.distributions", lang), fontsize=12, fontweight="bold")
    fig.tight_layout()
    plt.close(fig)
    return fig


# --- display blocks ------------------------------------------------------------------------------


def _small_base(an: ScorecardAnalysis, lang: str) -> Any:
    return show.note(t("report.small_base", lang, min=an.audit.config.min_base))


def blocks_intro(an: ScorecardAnalysis, lang: str) -> list[Any]:
    """The section heading; without a survey the missing-input line, else the introduction and, when
    the results are weighted, how (Kish efficiency) and the raking margins: sample, target, weighted."""
    out: list[Any] = [show.section("cx_metrics", lang)]
    if not an.survey:
        return out + [show.missing_input(t("table.responses", lang), lang)]
    out.append(show.paragraph(t("metrics.intro", lang)))
    w = an.weights
    if w is None:
        return out
    out += [show.heading(t("metrics.weighting_title", lang), "cx_metrics"),
            show.paragraph(weighting_text(an, lang))]
    if len(w.margins):
        margins = w.margins.assign(variable=w.margins["variable"].map(an.audit.segment_label))
        out.append(show.table(margins, [
            Col("variable", "metrics.col_variable"), Col("category", "metrics.col_category"),
            Col("sample_share", "metrics.col_sample_share", "pct1"),
            Col("target_share", "metrics.col_target_share", "pct1"),
            Col("weighted_share", "metrics.col_weighted_share", "pct1"),
        ], lang, small_base=None))
    return out


def blocks_scorecard(an: ScorecardAnalysis, lang: str) -> list[Any]:
    """The scorecard (every metric with its interval and n, CSI last), the weighting, CSI and small-base
    notes, and the answer distributions of NPS / CSAT / CES."""
    if not an.survey:
        return []
    audit = an.audit
    card = sc.scorecard_rows(audit, lang, an.overall, an.csi)
    out: list[Any] = [show.heading(t("metrics.scorecard", lang), "cx_metrics"), show.table(card, [
        Col("metric", "metrics.col_metric"), Col("value", "metrics.col_value", "num1"),
        Col("ci_low", "metrics.col_ci", "ci1", hi="ci_high"), Col("n", "metrics.col_n", "int"),
        Col("detail", "metrics.col_detail"),
    ], lang)]
    if an.weights is None:
        out.append(show.note(weighting_text(an, lang)))
    if (csi := csi_note(an, lang)):
        out.append(show.note(csi))
    if len(card) and card["small_base"].any():
        out.append(_small_base(an, lang))
    if len(card) and card["key"].isin(["nps", "csat", "ces"]).any():
        out.append(distribution_figure(an, lang))
    return out


def nps_segment_frame(tab: pd.DataFrame) -> pd.DataFrame:
    """The NPS columns of a named segment table as the ``value, ci_low, ci_high, n, small_base``
    frame of :func:`cxaudit.plots.ci_dotplot` (the row's any-metric small-base flag kept as
    ``small_base_any``)."""
    out = tab.rename(columns={"nps_value": "value", "nps_ci_low": "ci_low", "nps_ci_high": "ci_high",
                              "nps_n": "n", "small_base": "small_base_any"})
    out["small_base"] = out["nps_small_base"]
    return out


def blocks_segments(an: ScorecardAnalysis, lang: str) -> list[Any]:
    """Per segment column: the table of every metric by group with significance letters, its note
    (tests, Holm, omnibus tests, groups not stated), the small-base note, and the NPS dot plot (or,
    on a non-NPS outcome, the outcome's good share by group)."""
    audit = an.audit
    out: list[Any] = []
    for segment, frame in an.segments.items():
        tab = sc.name_segment_table(audit, frame, segment, lang)
        label = audit.segment_label(segment)
        out += [show.heading(t("metrics.segment_table", lang, segment=label), "cx_metrics"),
                show.table(tab, sc.segment_columns(tab, segment, lang), lang),
                show.note(sc.letters_note(audit, segment, lang, an.omnibus.get(segment)))]
        if tab["small_base"].any():
            out.append(_small_base(an, lang))
        if "nps_value" in tab.columns and "nps" in an.overall:
            out.append(plots.ci_dotplot(nps_segment_frame(tab), segment,
                                        t("metrics.by_segment", lang, metric="NPS", segment=label),
                                        lang, "NPS", reference=an.overall["nps"].value))
        elif (fig := sc.outcome_segment_figure(audit, tab, segment, lang)) is not None:  # a non-NPS outcome
            out.append(fig)
    return out


def blocks_trends(an: ScorecardAnalysis, lang: str) -> list[Any]:
    """NPS, CSAT and CES by month: the chart, the table with each significant change against the
    previous month, the note on the tests (and which changes survive Holm) and the small-base note."""
    if not an.trends:
        return []
    trend = sc.trend_table(an.audit, lang, trend=an.trends)
    out: list[Any] = [show.heading(t("metrics.trends", lang), "cx_metrics"), trend_figure(an.trends, lang),
                      show.table(trend, trend_columns(trend, lang), lang),
                      show.note(sc.trend_note(an.audit, lang, trend=an.trends))]
    if trend["small_base"].any():
        out.append(_small_base(an, lang))
    return out


def blocks_customers(an: ScorecardAnalysis, lang: str) -> list[Any]:
    """Churn, retention, revenue and lifetime value of the customers by segment (or in total), and
    the note on how they are computed; the missing-input line without a customers table."""
    audit = an.audit
    if an.customers is None and getattr(audit, "is_engine", lambda _t: False)("customers"):
        # kept in the query engine (issue 19): the churn section analyses it, not this one
        return [show.heading(t("metrics.customers_total", lang), "cx_metrics"),
                show.note(t("metrics.customers_in_engine", lang, n=fmt_int(audit.kept["customers"], lang),
                            section=t("section.churn", lang)))]
    if an.customers is None:
        return [show.missing_input(t("table.customers", lang), lang)]
    out: list[Any] = []
    for segment, frame in an.customers.items():
        value = sc.name_groups(audit, frame, segment, lang) if segment else frame
        title = (t("metrics.customers_title", lang, segment=audit.segment_label(segment)) if segment
                 else t("metrics.customers_total", lang))
        out += [show.heading(title, "cx_metrics"), show.table(value, sc.customer_columns(segment, audit, lang), lang)]
    return out + [show.note(sc.customers_note(audit, lang, survival_times=an.survival_times))]


def blocks_reliability(an: ScorecardAnalysis, lang: str) -> list[Any]:
    """Cronbach's alpha of the touchpoint ratings in one sentence (nothing without two ratings)."""
    text = reliability_sentence(an.reliability, lang) if an.survey else None
    if not text:
        return []
    return [show.heading(t("metrics.reliability_title", lang), "cx_metrics"), show.paragraph(text)]


def findings(an: ScorecardAnalysis, lang: str) -> list[Finding]:
    """The section's findings (:func:`cxaudit.scorecard.metric_findings`); none without a survey."""
    return sc.metric_findings(an.audit, lang, trend=an.trends) if an.survey else []
