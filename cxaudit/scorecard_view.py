"""The CX-metrics section (notebook 02), presentation: display blocks of a :class:`~cxaudit.scorecard.ScorecardAnalysis`.

The analysis (:func:`cxaudit.scorecard.analyse`: overall metrics, CSI, segment tables with letters,
monthly trends, customer value, reliability) takes no language; the ``blocks_*(an, lang)`` functions
here turn it into what the notebook displays, in ``lang``: escaped HTML of :mod:`cxaudit.show` and the
figures of :mod:`cxaudit.scorecard` and :mod:`cxaudit.plots`, one function per group of the report.
Methods and sources are in :mod:`cxaudit.scorecard`, :mod:`cxaudit.metrics` and :mod:`cxaudit.stats`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from . import plots, show
from . import scorecard as sc
from .findings import Finding
from .i18n import t
from .scorecard import ScorecardAnalysis, analyse
from .show import Col

__all__ = ["ScorecardAnalysis", "analyse", "blocks_intro", "blocks_scorecard", "blocks_segments", "blocks_trends",
           "blocks_customers", "blocks_reliability", "nps_segment_frame", "findings"]


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
            show.paragraph(sc.weighting_text(an.audit, lang))]
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
        out.append(show.note(sc.weighting_text(audit, lang)))
    if (csi_note := sc.csi_note(audit, lang)):
        out.append(show.note(csi_note))
    if len(card) and card["small_base"].any():
        out.append(_small_base(an, lang))
    if len(card) and card["key"].isin(["nps", "csat", "ces"]).any():
        out.append(sc.distribution_figure(audit, lang))
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
                show.note(sc.letters_note(audit, segment, lang))]
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
    out: list[Any] = [show.heading(t("metrics.trends", lang), "cx_metrics"), sc.trend_figure(an.trends, lang),
                      show.table(trend, sc.trend_columns(trend, lang), lang),
                      show.note(sc.trend_note(an.audit, lang, trend=an.trends))]
    if trend["small_base"].any():
        out.append(_small_base(an, lang))
    return out


def blocks_customers(an: ScorecardAnalysis, lang: str) -> list[Any]:
    """Churn, retention, revenue and lifetime value of the customers by segment (or in total), and
    the note on how they are computed; the missing-input line without a customers table."""
    audit = an.audit
    if an.customers is None:
        return [show.missing_input(t("table.customers", lang), lang)]
    out: list[Any] = []
    for segment, frame in an.customers.items():
        value = sc.name_groups(audit, frame, segment, lang) if segment else frame
        title = (t("metrics.customers_title", lang, segment=audit.segment_label(segment)) if segment
                 else t("metrics.customers_total", lang))
        out += [show.heading(title, "cx_metrics"), show.table(value, sc.customer_columns(segment, audit, lang), lang)]
    return out + [show.note(sc.customers_note(audit, lang))]


def blocks_reliability(an: ScorecardAnalysis, lang: str) -> list[Any]:
    """Cronbach's alpha of the touchpoint ratings in one sentence (nothing without two ratings)."""
    text = sc.reliability_sentence(an.reliability, lang) if an.survey else None
    if not text:
        return []
    return [show.heading(t("metrics.reliability_title", lang), "cx_metrics"), show.paragraph(text)]


def findings(an: ScorecardAnalysis, lang: str) -> list[Finding]:
    """The section's findings (:func:`cxaudit.scorecard.metric_findings`); none without a survey."""
    return sc.metric_findings(an.audit, lang, trend=an.trends) if an.survey else []
