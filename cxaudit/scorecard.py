"""The CX-metrics section: scorecard, cuts by segment with significance letters, monthly trends with
significant changes, CSI, retention and customer value, distributions, and the findings they give.

Built on :mod:`cxaudit.metrics` (formulas and sources there), :mod:`cxaudit.stats` (tests, Holm,
letters, reliability) and :mod:`cxaudit.weighting` (supplied or raking weights). Every function
uses the weighted responses when weighting applies (:func:`responses`). Customer value (churn per
period, revenue, LTV) is computed by :mod:`cxaudit.churn` and :mod:`cxaudit.economics` with the
audit's ``economics`` assumptions, so it agrees with the churn section. Findings that say
"significantly" rest on Holm-adjusted p-values (:func:`metric_findings`).

Per-segment tables lose no respondent: those with no value in the segment column are their own row,
"Not stated" (:data:`cxaudit.stats.NOT_STATED`, column ``not_stated``), placed last, with its n and
interval but without a letter and outside the tests, because it is not a segment. Functions that
name it take ``lang`` (default: the report language in ``audit.yaml``).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats as sp_stats

from . import churn as _churn
from . import economics
from .audit import Audit
from .economics import Assumptions
from .errors import MetricError
from .findings import Finding
from .i18n import fmt_date, fmt_num, fmt_pct, fmt_period, t, value_label
from .i18n import fmt_p as _fmt_p
from .metrics import (
    MetricResult,
    ces,
    csat,
    csi,
    csi_items,
    metric_cube,
    metric_table,
    nps,
)
from .stats import (
    ALPHA,
    NOT_STATED,
    Reliability,
    SegmentTest,
    cronbach_alpha,
    group_name,
    holm,
    letter_labels,
    not_stated_note,
    nps_difference,
    omnibus_test,
    period_changes,
    segment_keys,
    segment_tests,
    two_sample_test,
)
from .weighting import WeightingReport, weighted_responses

__all__ = [
    "SIGNIFICANCE",
    "ScorecardAnalysis",
    "analyse",
    "segment_frame",
    "name_groups",
    "name_segment_table",
    "scorecard_rows",
    "customer_value_frame",
    "distributions",
    "responses",
    "weighting",
    "overall",
    "csi_overall",
    "scorecard",
    "by_segment",
    "segment_tests_for",
    "segment_table",
    "letters_note",
    "Omnibus",
    "omnibus",
    "trends",
    "trend_table",
    "trend_note",
    "data_period",
    "customer_value",
    "money_assumptions",
    "reliability",
    "metric_findings",
    "format_p",
    "cube",
    "segment_columns",
    "outcome_segment_figure",
    "outcome_value",
    "outcome_info",
    "customer_columns",
    "customers_note",
    "data_period_text",
]

#: Level for the findings "significantly below the rest" and "fell significantly" (applied to
#: Holm-adjusted p-values) and for marking period-to-period changes in the trend table (raw p).
SIGNIFICANCE = ALPHA

_METRICS = ("nps", "csat", "ces")


# --- inputs --------------------------------------------------------------------------------------


def responses(audit: Audit) -> pd.DataFrame:
    """The responses the metrics use: with a ``weight`` column when the client supplied weights or
    ``weighting.targets`` is set in ``audit.yaml`` (raking, :mod:`cxaudit.weighting`)."""
    return weighted_responses(audit)[0]


def weighting(audit: Audit) -> WeightingReport | None:
    """The weighting report (Kish n_eff, efficiency, design effect), ``None`` when unweighted."""
    return weighted_responses(audit)[1]


def _wcol(r: pd.DataFrame) -> str | None:
    return "weight" if "weight" in r.columns else None


def _has(r: pd.DataFrame, metric: str) -> bool:
    return metric in r.columns and bool(r[metric].notna().any())


def _kw(audit: Audit, metric: str) -> dict[str, Any]:
    sc = audit.config.scales
    return {"csat": {"scale": sc.csat.max, "top_box": sc.csat.top_box, "scale_min": sc.csat.min},
            "ces": {"scale": sc.ces.max, "scale_min": sc.ces.min}}.get(metric, {})


# --- overall -------------------------------------------------------------------------------------


def overall(audit: Audit) -> dict[str, MetricResult]:
    """NPS, CSAT and CES of all kept responses (only those the client measured)."""
    r, sc = responses(audit), audit.config.scales
    weights = r["weight"] if "weight" in r.columns else None
    out: dict[str, MetricResult] = {}
    if _has(r, "nps"):
        out["nps"] = nps(r["nps"], weights)
    if _has(r, "csat"):
        out["csat"] = csat(r["csat"], scale=sc.csat.max, top_box=sc.csat.top_box, weights=weights,
                           scale_min=sc.csat.min)
    if _has(r, "ces"):
        out["ces"] = ces(r["ces"], scale=sc.ces.max, weights=weights)
    return out


def _csi_items(audit: Audit, r: pd.DataFrame) -> list[str] | None:
    tp = [c for c in audit.touchpoint_columns if r[c].notna().any()]
    return tp if len(tp) >= 2 and _has(r, "nps") else None


def csi_overall(audit: Audit, *, n_boot: int = 2000) -> tuple[MetricResult, pd.DataFrame] | None:
    """CSI over the touchpoint ratings, importance derived from each touchpoint's correlation with
    likelihood to recommend (re-estimated in every bootstrap resample; seed = ``audit.yaml`` seed).

    ``None`` when there are fewer than two touchpoint columns or no NPS answers.
    """
    r = responses(audit)
    tp = _csi_items(audit, r)
    if tp is None:
        return None
    scale = (audit.config.scales.touchpoint.min, audit.config.scales.touchpoint.max)
    w = r["weight"].fillna(0.0).to_numpy() if "weight" in r.columns else None
    res = csi(r[tp], "derived", outcome=r["nps"], scale=scale, weights=w, ci="bootstrap", n_boot=n_boot,
              seed=audit.config.seed)
    return res, csi_items(r[tp], "derived", outcome=r["nps"], scale=scale)


def scorecard(audit: Audit, lang: str, *, with_csi: bool = True) -> pd.DataFrame:
    """One row per metric: label, value, interval, n and a localised detail line (CSI last)."""
    return scorecard_rows(audit, lang, overall(audit), csi_overall(audit) if with_csi else None)


def scorecard_rows(audit: Audit, lang: str, results: dict[str, MetricResult],
                   csi_result: tuple[MetricResult, pd.DataFrame] | None) -> pd.DataFrame:
    """:func:`scorecard` of results already computed (:func:`overall`, :func:`csi_overall`; CSI
    row only when ``csi_result`` is given), so the section computes them once."""
    rows = []
    for key, res in results.items():
        d = res.details
        if key == "nps":
            detail = t("metrics.nps_detail", lang, p=fmt_pct(d["promoters"], lang),
                       pa=fmt_pct(d["passives"], lang), d=fmt_pct(d["detractors"], lang))
            value, lo, hi = res.value, res.ci_low, res.ci_high
        elif key == "csat":
            detail = t("metrics.csat_detail", lang, mean=fmt_num(d["mean"], lang, 2), max=int(d["scale_max"]))
            assert res.ci_low is not None and res.ci_high is not None  # metrics.csat always sets the Wilson interval
            value, lo, hi = 100 * res.value, 100 * res.ci_low, 100 * res.ci_high
        else:
            detail = t("metrics.ces_detail", lang, easy=fmt_pct(d["easy"], lang))
            value, lo, hi = res.value, res.ci_low, res.ci_high
        name = t(f"metrics.{key}", lang)
        if key == "csat":  # say the box the scale's top_box counts (top box, top-2 box, ...; issue 13)
            from .outcome import OutcomeInfo
            from .outcome import label as _olabel

            sc_ = audit.config.scales.csat
            name = _olabel(OutcomeInfo("csat", "scale", "csat", sc_.min, sc_.max, sc_.top_box), lang)
        rows.append({"metric": name, "key": key, "value": value, "ci_low": lo, "ci_high": hi,
                     "n": res.n, "detail": detail, "small_base": res.n < audit.config.min_base})
    rows += _outcome_rows(audit, lang)
    c = csi_result
    if c is not None:
        res = c[0]
        rows.append({"metric": t("metrics.csi", lang), "key": "csi", "value": res.value, "ci_low": res.ci_low,
                     "ci_high": res.ci_high, "n": res.n,
                     "detail": t("metrics.csi_detail", lang, k=int(res.details["items"])),
                     "small_base": res.n < audit.config.min_base})
    return pd.DataFrame(rows, columns=["metric", "key", "value", "ci_low", "ci_high", "n", "detail", "small_base"])


def _outcome_rows(audit: Audit, lang: str) -> list[dict[str, object]]:
    """The audit.yaml ``outcome`` as a scorecard row when it is not NPS, CSAT or CES (those have
    their own rows): the share of good answers in % with its Wilson interval (:func:`cxaudit.outcome.summary`)."""
    from . import outcome as _o

    o = _o.resolve_audit(audit)
    if o is None or o.column in ("nps", "csat", "ces"):
        return []
    value, n, lo, hi = _o.summary(o, audit.responses)
    if not n:
        return []
    return [{"metric": _o.label(o, lang), "key": "outcome", "value": value, "ci_low": lo, "ci_high": hi, "n": n,
             "detail": "", "small_base": n < audit.config.min_base}]


#: The good / not-good flag of a non-NPS outcome as a 0/1 column, so the top-box machinery (CSAT with
#: scale 0..1, top box 1: the share of 1s with its Wilson interval, two-proportion tests with Holm)
#: breaks it down by segment exactly as it does CSAT.
_OUTCOME_COL = "_outcome_good"
_OUTCOME_KW: dict[str, Any] = {"scale": 1, "top_box": 1, "scale_min": 0}


def outcome_info(audit: Audit) -> Any:
    """The audit's outcome (:func:`cxaudit.outcome.resolve_audit`) when it is *not* NPS, else None."""
    from . import outcome as _o

    o = _o.resolve_audit(audit)
    return o if o is not None and o.kind != "nps" else None


def _outcome_frame(audit: Audit, o: Any) -> pd.DataFrame:
    """The (weighted) responses with the outcome's good flag (1 good, 0 not, NaN unanswered)."""
    from . import outcome as _o

    r = responses(audit)
    return r.assign(**{_OUTCOME_COL: _o.good(o, r).to_numpy(dtype=float)})


def _outcome_segmented(audit: Audit) -> Any:
    """The non-NPS outcome when it gets its own columns in the segment tables (CSAT / CES have theirs)."""
    o = outcome_info(audit)
    return o if o is not None and o.column not in _METRICS else None


def cube(audit: Audit, period: str = "M") -> pd.DataFrame:
    """The full cube for the analyst: every measured metric × every segment column × period
    (:func:`cxaudit.metrics.metric_cube`, weighted when weighting applies). Respondents with no
    value in a segment column are its group :data:`~cxaudit.stats.NOT_STATED`."""
    r, sc = responses(audit), audit.config.scales
    segs = [s for s in audit.config.segments if s in r.columns]
    r = r.assign(**{s: segment_keys(r[s]) for s in segs})
    return metric_cube(r, [m for m in _METRICS if _has(r, m)], by=segs,
                       period=period, weight=_wcol(r), min_base=audit.config.min_base,  # type: ignore[arg-type]
                       scales={"csat": sc.csat.max, "ces": sc.ces.max}, scale_mins={"csat": sc.csat.min,
                                                                                    "ces": sc.ces.min},
                       top_box=sc.csat.top_box)


# --- segments ------------------------------------------------------------------------------------


def _keyed(frame: pd.DataFrame, segment: str) -> pd.DataFrame:
    """``frame`` with ``segment`` as group keys: a missing or blank cell is :data:`NOT_STATED`."""
    return frame.assign(**{segment: segment_keys(frame[segment])})


def _stated(frame: pd.DataFrame, segment: str) -> pd.DataFrame:
    """The rows of ``frame`` with a value in ``segment`` (blank cells count as missing): what the
    tests compare."""
    keyed = _keyed(frame, segment)
    return keyed[keyed[segment] != NOT_STATED]


def _named(tab: pd.DataFrame, segment: str, lang: str, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """``tab`` with a ``not_stated`` flag and the not-stated key replaced by its name in ``lang``."""
    out = tab.copy()
    out["not_stated"] = out[segment].eq(NOT_STATED).to_numpy(bool)
    out[segment] = [value_label(segment, group_name(g, lang), lang, labels=labels) for g in out[segment]]
    return out


def _not_stated_last(tab: pd.DataFrame, segment: str, by: str | None = None) -> pd.DataFrame:
    """``tab`` sorted by ``by`` (highest first; unsorted without it), the not-stated row last."""
    keys, ascending = ["_last", *([by] if by else [])], [True, *([False] if by else [])]
    return tab.assign(_last=tab[segment].eq(NOT_STATED).to_numpy(bool)) \
        .sort_values(keys, ascending=ascending, kind="stable").drop(columns="_last").reset_index(drop=True)


def _cut(audit: Audit, metric: str, segment: str) -> pd.DataFrame:
    r = _keyed(responses(audit), segment)
    tab = metric_table(r, metric, by=[segment], min_base=audit.config.min_base, weight=_wcol(r),  # type: ignore[arg-type]
                       **_kw(audit, metric))
    if metric == "csat":  # shown as percentages
        tab[["value", "ci_low", "ci_high"]] = tab[["value", "ci_low", "ci_high"]] * 100
    return _not_stated_last(tab, segment, "value")


def by_segment(audit: Audit, metric: str, segment: str, lang: str | None = None) -> pd.DataFrame:
    """``metric_table`` of one metric by one segment column, sorted by value (CSAT in %), with the
    respondents who did not state the segment as a last row named in ``lang`` ("Not stated";
    ``not_stated`` marks it), so that ``n`` adds up to the overall n."""
    return _named(_cut(audit, metric, segment), segment, lang or audit.language, audit.config.value_labels.get(segment))


def segment_tests_for(audit: Audit, segment: str, order: list[Any] | None = None) -> dict[str, SegmentTest]:
    """:func:`cxaudit.stats.segment_tests` of NPS, CSAT and CES by ``segment`` (letters in ``order``),
    over the respondents who stated the segment (the not-stated group is not a segment)."""
    r = _stated(responses(audit), segment)
    out = {m: segment_tests(r, m, segment, weight=_wcol(r), min_base=audit.config.min_base, order=order,  # type: ignore[arg-type]
                            **_kw(audit, m))
           for m in _METRICS if _has(r, m)}
    o = _outcome_segmented(audit)
    if o is not None:  # the non-NPS outcome: its good share, two-proportion tests with Holm (as CSAT)
        ro = _stated(_outcome_frame(audit, o), segment)
        if ro[_OUTCOME_COL].notna().any():
            out["outcome"] = segment_tests(ro, "csat", segment, column=_OUTCOME_COL, weight=_wcol(ro),
                                           min_base=audit.config.min_base, order=order, **_OUTCOME_KW)
    return out


def _outcome_cut(audit: Audit, o: Any, segment: str) -> pd.DataFrame:
    """The outcome's good share (%) per group of ``segment``, Wilson interval, not-stated last."""
    r = _keyed(_outcome_frame(audit, o), segment)
    tab = metric_table(r, "csat", by=[segment], column=_OUTCOME_COL, min_base=audit.config.min_base,
                       weight=_wcol(r), **_OUTCOME_KW)  # type: ignore[arg-type]
    tab[["value", "ci_low", "ci_high"]] = tab[["value", "ci_low", "ci_high"]] * 100
    return _not_stated_last(tab, segment, "value")


def segment_table(audit: Audit, segment: str, lang: str | None = None) -> pd.DataFrame:
    """:func:`segment_frame` with the groups named in ``lang`` (:func:`name_segment_table`).

    NPS, CSAT (%) and CES side by side for each group of ``segment``, each with its own n and
    interval (columns ``<metric>_value``, ``<metric>_ci_low``, ``<metric>_ci_high``, ``<metric>_n``),
    plus the significance letters: ``letter`` (the group's own) and ``<metric>_higher`` (letters of
    the groups it is significantly higher than; Holm for NPS / CSAT, Games–Howell for CES).

    Respondents with no value in ``segment`` are the last row, named "Not stated" in ``lang``
    (default: the report language) and marked ``not_stated``: shown with n and interval, so the
    groups add up to the total, but without a letter and left out of the tests
    (:func:`letters_note` says so)."""
    return name_segment_table(audit, segment_frame(audit, segment), segment, lang)


def segment_frame(audit: Audit, segment: str) -> pd.DataFrame:
    """The table of :func:`segment_table` without language: the not-stated group keeps its key
    :data:`~cxaudit.stats.NOT_STATED` and there is no ``not_stated`` column yet (:func:`name_segment_table`
    adds both). Empty when the responses measure none of the metrics."""
    parts = []
    for metric in _METRICS:
        if not _has(audit.responses, metric):
            continue
        tab = _cut(audit, metric, segment)[[segment, "n", "value", "ci_low", "ci_high", "small_base"]]
        parts.append(tab.rename(columns={c: f"{metric}_{c}" for c in tab.columns if c != segment}))
    o = _outcome_segmented(audit)
    if o is not None and _outcome_frame(audit, o)[_OUTCOME_COL].notna().any():
        tab = _outcome_cut(audit, o, segment)[[segment, "n", "value", "ci_low", "ci_high", "small_base"]]
        parts.append(tab.rename(columns={c: f"outcome_{c}" for c in tab.columns if c != segment}))
    if not parts:
        return pd.DataFrame()
    out = parts[0]
    for p in parts[1:]:
        out = out.merge(p, on=segment, how="outer")
    flags = [c for c in out.columns if c.endswith("_small_base")]
    out["small_base"] = out[flags].fillna(True).any(axis=1)
    first_value = next(c for c in out.columns if c.endswith("_value"))
    out = _not_stated_last(out, segment, first_value)
    declared = audit.config.level_order(segment)  # bands / categories of audit.yaml keep their order
    if declared:
        pos = {str(v): i for i, v in enumerate(declared)}
        key = [len(pos) + 1 if g == NOT_STATED else pos.get(str(g), len(pos)) for g in out[segment]]
        out = out.assign(_k=key).sort_values("_k", kind="stable").drop(columns="_k").reset_index(drop=True)
    stated = out.loc[out[segment].ne(NOT_STATED), segment].tolist()
    tests = segment_tests_for(audit, segment, order=stated)
    out["letter"] = letter_labels(len(stated)) + [None] * (len(out) - len(stated))
    for m, st in tests.items():
        out[f"{m}_higher"] = out[segment].map(dict(zip(st.table[segment], st.table["higher_than"], strict=True)))
    return out


def name_groups(audit: Audit, tab: pd.DataFrame, segment: str, lang: str | None = None) -> pd.DataFrame:
    """``tab`` (groups of ``segment`` as keys) with a ``not_stated`` flag and every group named in
    ``lang`` (the audit's value labels; the not-stated key as "Not stated"; default: the report language)."""
    return _named(tab, segment, lang or audit.language, audit.config.value_labels.get(segment))


def name_segment_table(audit: Audit, frame: pd.DataFrame, segment: str, lang: str | None = None) -> pd.DataFrame:
    """A :func:`segment_frame` for display: groups named (:func:`name_groups`) and, with a non-NPS
    outcome, ``attrs["outcome_label"]`` for its column header. An empty frame stays empty."""
    if frame.empty:
        return frame
    out = name_groups(audit, frame, segment, lang)
    o = _outcome_segmented(audit)
    if o is not None:  # the header names the outcome actually used ("Satisfied passengers, %")
        from .outcome import short_label

        out.attrs["outcome_label"] = short_label(o, lang or audit.language)
    return out


def outcome_segment_figure(audit: Audit, tab: pd.DataFrame, segment: str, lang: str) -> Figure | None:
    """The non-NPS outcome's good share by group of ``segment`` with 95% intervals (a
    :func:`segment_table` with outcome columns; the dashed line is the overall share), as the NPS dot
    plot; None when the table has no outcome column or the audit has NPS (which gets its own)."""
    if "outcome_value" not in tab.columns or "nps_value" in tab.columns:
        return None
    from .outcome import short_label, summary
    from .plots import ci_dotplot

    o = _outcome_segmented(audit)
    if o is None:
        return None
    sub = tab.rename(columns={"outcome_value": "value", "outcome_ci_low": "ci_low", "outcome_ci_high": "ci_high",
                              "outcome_n": "n", "small_base": "small_base_any"})
    sub["small_base"] = sub["outcome_small_base"].fillna(True).to_numpy(bool)
    sub = sub[sub["n"].fillna(0) > 0]
    name = short_label(o, lang)
    overall_value = summary(o, responses(audit))[0]
    return ci_dotplot(sub, segment, t("metrics.by_segment", lang, metric=name, segment=audit.segment_label(segment)),
                      lang, f"{name}, %", reference=overall_value)


def format_p(p: float, lang: str) -> str:
    """``p < 0.001`` or ``p = 0.012`` in the locale's number format (:func:`cxaudit.i18n.fmt_p`)."""
    return _fmt_p(p, lang, prefix=True)


@dataclass
class Omnibus:
    """The overall tests of one segment column (:func:`omnibus`): ``tests`` maps each metric
    (``nps``, ``csat``, ``ces``, ``outcome``) to :func:`cxaudit.stats.omnibus_test`'s result;
    ``testable`` is the largest number of groups with a base of at least ``min_base`` (and 2) in
    any metric, so ``testable·(testable − 1)/2`` pairs were compared; ``not_stated``: some
    respondents did not state the segment (their row is shown but not tested)."""

    tests: dict[str, dict[str, Any]]
    testable: int
    not_stated: bool


def omnibus(audit: Audit, segment: str) -> Omnibus:
    """The overall test of every metric across the groups of ``segment`` (respondents who stated it):
    :func:`cxaudit.stats.omnibus_test` (Welch ANOVA for CES, Pearson χ² for NPS / CSAT and the
    non-NPS outcome's good / not good), and how many groups the pairwise letters compared."""
    everyone = responses(audit)
    r = _stated(everyone, segment)
    omnis: dict[str, dict[str, Any]] = {}
    k = 0
    for m in _METRICS:
        if not _has(r, m):
            continue
        tab = metric_table(r, m, by=[segment], weight=_wcol(r), min_base=audit.config.min_base,  # type: ignore[arg-type]
                           **_kw(audit, m))
        k = max(k, int((tab["n"] >= max(audit.config.min_base, 2)).sum()))
        omnis[m] = omnibus_test(tab, segment, raw=r, column=m, weight=_wcol(r), min_base=audit.config.min_base)
    oc = _outcome_segmented(audit)
    if oc is not None:  # the non-NPS outcome: Pearson χ² on good / not good × group, as CSAT
        ro = _stated(_outcome_frame(audit, oc), segment)
        if ro[_OUTCOME_COL].notna().any():
            tab = metric_table(ro, "csat", by=[segment], column=_OUTCOME_COL, weight=_wcol(ro),  # type: ignore[arg-type]
                               min_base=audit.config.min_base, **_OUTCOME_KW)
            k = max(k, int((tab["n"] >= max(audit.config.min_base, 2)).sum()))
            omnis["outcome"] = omnibus_test(tab, segment, raw=ro, column=_OUTCOME_COL, weight=_wcol(ro),
                                            min_base=audit.config.min_base)
    return Omnibus(omnis, k, len(r) < len(everyone))


def letters_note(audit: Audit, segment: str, lang: str, omni: Omnibus | None = None) -> str:
    """The sentence under a segment table: the letter convention, the tests, the correction, the
    overall (omnibus) tests and the groups too small to test; when some respondents did not state
    the segment, that their row is shown but not tested. ``omni``: an :func:`omnibus` result to reuse."""
    om = omni if omni is not None else omnibus(audit, segment)
    names = {m: m.upper() for m in om.tests}
    if "outcome" in om.tests:
        from .outcome import short_label

        names["outcome"] = short_label(_outcome_segmented(audit), lang)
    parts = []
    for m, o in om.tests.items():
        df = o["df"]
        df_txt = (f"{fmt_num(df[0], lang, 0)}; {fmt_num(df[1], lang, 1)}" if isinstance(df, tuple)
                  else fmt_num(df, lang, 0))
        stat = "F" if isinstance(df, tuple) else "χ²"
        parts.append(f"{names[m]}: {stat}({df_txt}) = {fmt_num(o['statistic'], lang, 1)}, {format_p(o['p_value'], lang)}"
                     if np.isfinite(o["p_value"]) else f"{names[m]}: –")
    k = om.testable
    note = t("metrics.letters_note", lang, pairs=k * (k - 1) // 2, min=audit.config.min_base)
    note += " " + t("metrics.omnibus_note", lang, tests="; ".join(parts))
    return note + " " + not_stated_note(lang) if om.not_stated else note


# --- trends --------------------------------------------------------------------------------------


def trends(audit: Audit, period: str = "M") -> dict[str, pd.DataFrame]:
    """:func:`cxaudit.stats.period_changes` of NPS, CSAT and CES by month (or ISO week)."""
    r = responses(audit)
    return {m: period_changes(r, m, period, weight=_wcol(r), min_base=audit.config.min_base,  # type: ignore[arg-type]
                              alpha=SIGNIFICANCE, **_kw(audit, m))
            for m in _METRICS if _has(r, m)}


def trend_table(audit: Audit, lang: str, period: str = "M",
                trend: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """One row per period: each metric's value, interval and n, and the significant changes
    against the previous period as text (``NPS ▼ −19.4 (p = 0.003)``). CSAT in %.
    ``trend``: a :func:`trends` result to reuse."""
    tr = trend if trend is not None else trends(audit, period)
    out: pd.DataFrame | None = None
    for m, tab in tr.items():
        scale = 100 if m == "csat" else 1
        part = pd.DataFrame({"period": tab["period"], f"{m}_value": tab["value"] * scale,
                             f"{m}_ci_low": tab["ci_low"] * scale, f"{m}_ci_high": tab["ci_high"] * scale,
                             f"{m}_n": tab["n"], f"{m}_small_base": tab["small_base"],
                             f"{m}_change": tab["change"], f"{m}_diff": tab["diff"], f"{m}_p": tab["p_value"],
                             f"{m}_p_holm": tab["p_holm"]})
        out = part if out is None else out.merge(part, on="period", how="outer")
    if out is None:
        return pd.DataFrame()
    out = out.sort_values("period").reset_index(drop=True)
    marks = []
    for _, row in out.iterrows():
        bits = []
        for m in tr:
            ch = row.get(f"{m}_change")
            if ch in ("up", "down"):
                arrow = "▼" if ch == "down" else "▲"
                decimals = 2 if m == "ces" else 1
                bits.append(f"{m.upper()} {arrow} {fmt_num(row[f'{m}_diff'], lang, decimals, sign=True)} "
                            f"({format_p(row[f'{m}_p'], lang)})")
        marks.append("; ".join(bits))
    out["changes"] = marks
    out["small_base"] = out[[c for c in out.columns if c.endswith("_small_base")]].fillna(True).any(axis=1)
    return out


def trend_note(audit: Audit, lang: str, period: str = "M", trend: dict[str, pd.DataFrame] | None = None) -> str:
    """The sentence under the trend table: tests, level, Holm context, small bases."""
    tr = trend if trend is not None else trends(audit, period)
    k = max((int(tab["p_value"].notna().sum()) for tab in tr.values()), default=0)
    survive = sorted({p for tab in tr.values() for p in tab.loc[(tab["change"] != "") & (tab["p_holm"] < ALPHA),
                                                                "period"]})
    text = t("metrics.trend_note", lang, k=k, min=audit.config.min_base)
    if survive:
        text += " " + t("metrics.trend_holm_survive", lang, periods=", ".join(fmt_period(p, lang) for p in survive))
    return text


def distributions(audit: Audit) -> pd.DataFrame:
    """The answer distributions of NPS (0–10), CSAT and CES (their scales in ``audit.yaml``): one row
    per metric and scale point, ``share`` of the answering respondents (weighted when weighting
    applies; points nobody chose have 0), ``n`` the respondents who answered the metric (unweighted).
    Only the metrics measured; no language (:func:`cxaudit.scorecard_view.distribution_figure` draws it)."""
    r = responses(audit)
    sc = audit.config.scales
    parts = []
    for m, lo, hi in (("nps", 0, 10), ("csat", sc.csat.min, sc.csat.max), ("ces", sc.ces.min, sc.ces.max)):
        if not _has(r, m):
            continue
        x = pd.to_numeric(r[m], errors="coerce")
        w = r["weight"] if "weight" in r.columns else pd.Series(1.0, index=r.index)
        ok = x.notna() & w.notna()
        points = np.arange(lo, hi + 1)
        share = w[ok].groupby(x[ok]).sum().reindex(points, fill_value=0.0) / w[ok].sum()
        parts.append(pd.DataFrame({"metric": m, "point": points, "share": share.to_numpy(), "n": int(ok.sum())}))
    if not parts:
        return pd.DataFrame(columns=["metric", "point", "share", "n"])
    return pd.concat(parts, ignore_index=True)


# --- customers -----------------------------------------------------------------------------------


def data_period(audit: Audit) -> tuple[_dt.date, _dt.date, float]:
    """First and last response date and the span in years (the period churn is assumed observed)."""
    d = pd.to_datetime(audit.responses["date"]).dropna()
    start, end = d.min().date(), d.max().date()
    return start, end, max((end - start).days + 1, 1) / 365.25


def money_assumptions(audit: Audit) -> Assumptions:
    """The money assumptions of the audit (``economics`` in audit.yaml, labelled defaults
    otherwise): the same :class:`cxaudit.economics.Assumptions` the churn section uses."""
    return Assumptions.from_audit(audit)


def customer_value(audit: Audit, segment: str | None, *, lang: str | None = None,
                   assumptions: Assumptions | None = None) -> pd.DataFrame | None:
    """Churn, retention, revenue per customer and lifetime value by ``segment`` of the customers
    table, computed by the churn section's own functions with its assumptions, so that the report
    gives one churn rate per period and one LTV for the same customers.

    - ``n``, ``churned``, ``churn_rate`` (``ci_low``, ``ci_high``): churn over the data period,
      Wilson interval (:func:`cxaudit.churn.churn_rates`, as in the churn section's table by segment);
      ``retention_rate`` = 1 − churn_rate (mirrored interval).
    - ``period_churn`` (``period_churn_ci_low``, ``period_churn_ci_high``): churn per revenue period
      of P = ``economics.revenue_period_months`` months, 1 − exp(−P·D/T) with D churn events and T
      months at risk in the data period, exact Poisson interval (:func:`cxaudit.churn.exposure_rates`).
    - ``revenue_mean`` (``revenue_ci_low``, ``revenue_ci_high``): mean revenue per customer per
      revenue period, Student t interval; ``revenue_n`` customers with a revenue.
    - ``ltv`` (``ltv_ci_low``, ``ltv_ci_high``) and ``ltv_simple``: :func:`cxaudit.economics.ltv_by_group`
      with the audit's margin and discount rate (``assumptions``, default :func:`money_assumptions`).

    Without start dates or tenure the time at risk is unknown: ``period_churn`` and ``ltv`` are NaN
    (the churn section shows neither). ``None`` without a customers table, revenue or churn flag.
    Customers with no value in ``segment`` are a last row named "Not stated" in ``lang`` (flag
    ``not_stated``); groups are in the churn section's order (largest first).
    """
    out = customer_value_frame(audit, segment, assumptions=assumptions)
    if out is None or not segment:
        return out
    return name_groups(audit, out, segment, lang)


def customer_value_frame(audit: Audit, segment: str | None, *,
                         assumptions: Assumptions | None = None,
                         frame: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """The table of :func:`customer_value` without language: the customers with no value in
    ``segment`` keep the key :data:`~cxaudit.stats.NOT_STATED` (:func:`name_groups` names them).
    ``frame``: the churn section's customer frame (``cxaudit.churn.frame_from_audit(audit)``) when the
    caller already has it (:func:`analyse` builds it once for every cut; not modified)."""
    from .audit import in_memory

    if not in_memory(audit, "customers"):  # a table kept in the query engine: the churn section covers it
        return None
    cust = audit.table("customers")
    if "revenue" not in cust.columns or "churned" not in cust.columns:
        return None
    if segment and segment not in cust.columns:
        return None
    a = assumptions if assumptions is not None else Assumptions.from_audit(audit)
    key = segment or "_all"
    frame = _churn.frame_from_audit(audit) if frame is None else frame.copy(deep=False)
    frame[key] = segment_keys(frame[segment]) if segment else "_all"
    out = _value_by(audit, frame, key, a, grouped=bool(segment))
    return out if segment else out.drop(columns=key)


def _value_by(audit: Audit, frame: pd.DataFrame, key: str, a: Assumptions, *, grouped: bool = True) -> pd.DataFrame:
    """:func:`customer_value`'s table of the churn ``frame`` by its column ``key``."""
    mb = audit.config.min_base
    rates = (_churn.churn_rates(frame, key, min_base=mb) if grouped
             else _churn.churn_rates(frame, min_base=mb).assign(**{key: "_all"}))
    out = rates.rename(columns={"rate": "churn_rate"})
    out[key] = out[key].astype("string")
    out["retention_rate"] = 1 - out["churn_rate"]
    out["retention_ci_low"], out["retention_ci_high"] = 1 - out["ci_high"], 1 - out["ci_low"]
    rev = pd.to_numeric(frame["revenue"], errors="coerce")
    g = rev.groupby(frame[key].astype("string"))
    n_r, mean, sem = g.count(), g.mean(), g.sem()
    with np.errstate(invalid="ignore"):
        half = pd.Series(sp_stats.t.ppf(0.975, n_r - 1), index=n_r.index) * sem
    out["revenue_n"] = out[key].map(n_r).fillna(0).to_numpy(float)
    out["revenue_mean"] = out[key].map(mean).to_numpy(float)
    out["revenue_ci_low"] = out[key].map(mean - half).to_numpy(float)
    out["revenue_ci_high"] = out[key].map(mean + half).to_numpy(float)
    value_cols = {"period_churn": "period_churn", "churn_low": "period_churn_ci_low",
                  "churn_high": "period_churn_ci_high", "ltv": "ltv", "ci_low": "ltv_ci_low",
                  "ci_high": "ltv_ci_high", "ltv_simple": "ltv_simple"}
    try:
        per = _churn.exposure_rates(frame, key, period_months=a.revenue_period_months)
        ltv = economics.ltv_by_group(frame, per, key, a).set_index(key)
        for src, dst in value_cols.items():
            out[dst] = out[key].map(ltv[src]).to_numpy(float)
    except MetricError:  # no start date or tenure: no time at risk, no churn per period, no LTV
        for dst in value_cols.values():
            out[dst] = np.nan
    return out


def outcome_value(audit: Audit, *, assumptions: Assumptions | None = None) -> pd.DataFrame | None:
    """Churn and revenue per customer by group of a non-NPS outcome (issue 13: the revenue link).

    Each customer takes the group of their most recent answer on the outcome (``"good"``: top box /
    positive label, ``"low"``: the rest; as the churn section assigns NPS groups, ties by file row);
    customers who never answered are the not-stated row. The columns are :func:`customer_value`'s
    (churn over the data period with Wilson interval; churn per revenue period, revenue per customer
    with its t interval, LTV), by ``outcome_group``. ``None`` without a non-NPS outcome, a customers
    table with revenue and churn, or a ``customer_id`` in the survey.
    """
    from .audit import in_memory

    o = outcome_info(audit)
    if o is None or not in_memory(audit, "customers") or not audit.has("responses"):
        return None
    cust, r = audit.table("customers"), audit.responses
    if not {"revenue", "churned"} <= set(cust.columns) or "customer_id" not in r.columns:
        return None
    from .outcome import good

    ans = pd.DataFrame({"customer_id": r["customer_id"], "good": good(o, r)}, index=r.index)
    if "date" in r.columns:
        ans["date"] = r["date"]
        ans = ans.sort_values("date", kind="stable")
    last = ans.dropna(subset=["customer_id", "good"]).groupby("customer_id", sort=False)["good"].last()
    if last.empty:
        return None
    a = assumptions if assumptions is not None else Assumptions.from_audit(audit)
    frame = _churn.frame_from_audit(audit)
    group = frame["customer_id"].map(last).map({1.0: "good", 0.0: "low"})
    frame["outcome_group"] = segment_keys(group)
    return _value_by(audit, frame, "outcome_group", a)


def reliability(audit: Audit) -> Reliability | None:
    """Cronbach's alpha of the touchpoint ratings (pairwise), ``None`` with fewer than 2 of them."""
    r = audit.responses
    tp = [c for c in audit.touchpoint_columns if r[c].notna().sum() >= 3]
    if len(tp) < 2:
        return None
    return cronbach_alpha(r[tp])


# --- findings ------------------------------------------------------------------------------------


def metric_findings(audit: Audit, lang: str, trend: dict[str, pd.DataFrame] | None = None) -> list[Finding]:
    """Headline findings: overall NPS / CSAT / CES; each segment group whose NPS or CSAT is
    significantly below the rest of the sample; each month with a significant drop against the
    previous month (NPS, CSAT, CES).

    "Significantly" always means a Holm-adjusted p < :data:`SIGNIFICANCE` (:func:`cxaudit.stats.holm`),
    over the family of tests the finding was picked from: for a segment group, every group-vs-rest
    test of that metric across all segment columns (:func:`_group_vs_rest`); for a drop, every
    period-to-period change of that metric (:func:`_drops`). The evidence carries ``p_value``,
    ``p_holm`` and the family size ``holm_tests``."""
    res = overall(audit)
    out: list[Finding] = []
    if "nps" in res:
        r = res["nps"]
        out.append(Finding(
            id="cx_metrics.nps.overall", section="cx_metrics",
            title=t("metrics.finding_nps", lang, value=fmt_num(r.value, lang, 1, sign=True)),
            metric="nps", value=r.value, n=int(round(r.n)), ci_low=r.ci_low, ci_high=r.ci_high,
            severity=4 if r.value < 0 else 3 if r.value < 30 else 2, reach=r.details["detractors"], unit="pts",
            evidence={"promoters": r.details["promoters"], "detractors": r.details["detractors"],
                      "method": r.method, "table": "metrics.scorecard"},
        ))
    if "csat" in res:
        r = res["csat"]
        assert r.ci_low is not None and r.ci_high is not None  # metrics.csat always sets the Wilson interval
        out.append(Finding(
            id="cx_metrics.csat.overall", section="cx_metrics",
            title=t("metrics.finding_csat", lang, value=fmt_pct(r.value, lang)),
            metric="csat_top2", value=100 * r.value, n=int(round(r.n)), ci_low=100 * r.ci_low,
            ci_high=100 * r.ci_high, severity=3 if r.value < 0.7 else 2, reach=1 - r.value, unit="%",
            evidence={"mean": r.details["mean"], "method": r.method, "table": "metrics.scorecard"},
        ))
    if "ces" in res:
        r = res["ces"]
        out.append(Finding(
            id="cx_metrics.ces.overall", section="cx_metrics",
            title=t("metrics.finding_ces", lang, value=fmt_num(r.value, lang, 1)),
            metric="ces_mean", value=r.value, n=int(round(r.n)), ci_low=r.ci_low, ci_high=r.ci_high,
            severity=3 if r.value < 5 else 2, reach=r.details["difficult"],
            evidence={"easy": r.details["easy"], "difficult": r.details["difficult"], "table": "metrics.scorecard"},
        ))
    o = outcome_info(audit)
    out.extend(_outcome_overall(audit, lang, o))
    for metric in ("nps", "csat"):
        if metric in res and not (metric == "csat" and o is not None and o.column == "csat"):
            out.extend(_low_segments(audit, lang, metric))
    if o is not None:
        out.extend(_low_segments(audit, lang, "outcome"))
        out.extend(_outcome_value_finding(audit, lang))
    out.extend(_drops(audit, lang, trend if trend is not None else trends(audit)))
    return out


def _outcome_value_finding(audit: Audit, lang: str) -> list[Finding]:
    """``cx_metrics.outcome.value``: what customers of each outcome group are worth and how often they
    leave (:func:`outcome_value`), and the revenue kept per revenue period if the low group churned
    at the good group's rate: ``uplift`` = customers in the low group × their mean revenue per period ×
    (their churn per period − the good group's), the outcome's counterpart of the churn section's
    detractor-to-promoter uplift, on churn per revenue period (``horizon_months``; exact Poisson
    intervals). None when the customers have no time basis (no churn per period), when either group
    is below ``min_base`` customers or when the low group does not churn more: no revenue link is
    claimed then, and the TO-BE section says so. Value: the low group's churn per period (%)."""
    a = Assumptions.from_audit(audit)
    tab = outcome_value(audit, assumptions=a)
    if tab is None:
        return []
    by = tab.set_index("outcome_group")
    if not {"good", "low"} <= set(by.index):
        return []
    g, lo = by.loc["good"], by.loc["low"]
    mb = audit.config.min_base
    if min(g["n"], lo["n"]) < mb or not np.isfinite(lo["revenue_mean"]):
        return []
    if not (np.isfinite(g["period_churn"]) and np.isfinite(lo["period_churn"])):
        return []  # no time at risk: no churn per revenue period, so no revenue per period to link
    cg, cl = g["period_churn"], lo["period_churn"]
    if not cl > cg:
        return []
    uplift = float(lo["n"] * lo["revenue_mean"] * (cl - cg))
    o = outcome_info(audit)
    from .outcome import short_label

    currency = a.currency or ""
    months = float(a.revenue_period_months)
    return [Finding(
        id="cx_metrics.outcome.value", section="cx_metrics",
        title=t("metrics.finding_outcome_value", lang, outcome=short_label(o, lang),
                low=fmt_pct(cl, lang, 1), good=fmt_pct(cg, lang, 1)),
        metric="outcome_low_churn", value=100 * float(cl), n=int(lo["n"]), ci_low=100 * float(lo["period_churn_ci_low"]),
        ci_high=100 * float(lo["period_churn_ci_high"]), severity=3,
        reach=float(lo["n"] / (g["n"] + lo["n"])), unit="%",
        evidence={"churn_good": float(cg), "churn_low": float(cl), "customers_good": int(g["n"]),
                  "customers_low": int(lo["n"]),
                  "churn_good_ci": [float(g["period_churn_ci_low"]), float(g["period_churn_ci_high"])],
                  "churn_low_ci": [float(lo["period_churn_ci_low"]), float(lo["period_churn_ci_high"])],
                  "revenue_mean_low": float(lo["revenue_mean"]), "revenue_mean_good": float(g["revenue_mean"]),
                  "horizon_months": months,
                  "uplift_low_to_good_rate": uplift, "currency": currency, "table": "metrics.outcome_value"},
    )]


def _outcome_labels(o: Any) -> dict[str, dict[str, str]]:
    """The outcome's names in every report language: ``label`` (what the summary counts), ``short``
    and ``low`` (the group that is not good), for the TO-BE texts, which are rendered in all languages."""
    from .i18n import LANGUAGES
    from .outcome import label, short_label

    out: dict[str, dict[str, str]] = {"label": {}, "short": {}, "low": {}}
    for lg in LANGUAGES:
        name = short_label(o, lg)
        out["label"][lg] = label(o, lg)
        out["short"][lg] = name
        out["low"][lg] = t("metrics.outcome_low_binary" if o.kind == "binary" else "metrics.outcome_low_scale", lg,
                           name=name)
    return out


def _outcome_overall(audit: Audit, lang: str, o: Any) -> list[Finding]:
    """``cx_metrics.outcome.overall``: the share of good answers on a non-NPS outcome (top box of the
    scale, or the positive label; :func:`cxaudit.outcome.summary`, Wilson 1927 interval), weighted when
    weighting applies. Evidence: ``good`` / ``low`` shares of the answering respondents (the base of
    the TO-BE impacts in outcome points), the outcome's kind and its names in every language."""
    if o is None:
        return []
    from .outcome import summary

    r = responses(audit)
    w = r["weight"].fillna(0.0).to_numpy(float) if "weight" in r.columns else None
    value, n, lo, hi = summary(o, r, w)
    if not n or not np.isfinite(value):
        return []
    names = _outcome_labels(o)
    good = value / 100
    return [Finding(
        id="cx_metrics.outcome.overall", section="cx_metrics",
        title=t("metrics.finding_outcome", lang, outcome=names["label"][lang], value=fmt_pct(good, lang)),
        metric="outcome_good_share", value=float(value), n=int(n), ci_low=float(lo), ci_high=float(hi),
        severity=3 if good < 0.7 else 2, reach=float(1 - good), unit="%",
        evidence={"good": good, "low": 1 - good, "outcome": o.column, "outcome_kind": o.kind,
                  "top_box": o.top_box, "outcome_label": names["label"][lang], "labels": names,
                  "method": "share of good answers, Wilson interval", "table": "metrics.scorecard"},
    )]


def _group_vs_rest(audit: Audit, metric: str) -> list[dict[str, Any]]:
    """Every group of every segment column (``segments`` in audit.yaml) tested against the rest of
    the respondents who stated that column, for ``metric`` (``"nps"``: z-test of the R package NPS;
    ``"csat"``: pooled two-proportion z-test), with Holm-adjusted p-values (``p_holm``) over this
    whole family: all the group-vs-rest tests of the metric across all segment columns. Groups or
    rests with a base below ``min_base`` are not tested and are not part of the family.

    Each row: ``segment, group, a, b`` (the group's and the rest's result: :class:`MetricResult`
    for NPS, a :func:`metric_table` row for CSAT), ``diff, z, p_value, p_holm, reach, family``.
    """
    r = responses(audit)
    column, kw = metric, _kw(audit, metric)
    if metric == "outcome":  # the non-NPS outcome's good flag, tested as a top-box share (as CSAT)
        o = outcome_info(audit)
        if o is None:
            return []
        r, column, kw = _outcome_frame(audit, o), _OUTCOME_COL, _OUTCOME_KW
    mb = audit.config.min_base
    rows: list[dict[str, Any]] = []
    for seg in audit.config.segments:
        if seg not in r.columns:
            continue
        used = list(dict.fromkeys(c for c in (seg, column, "weight") if c in r.columns))
        valid = _stated(r[used], seg)  # the columns the tests read, not a copy of every response column
        valid = valid[valid[column].notna()]
        groups = valid[seg].drop_duplicates().sort_values()
        codes = pd.Index(groups).get_indexer(valid[seg])  # each row's group, found once (not one == per group)
        score, wts = valid[column], (valid["weight"] if "weight" in valid.columns else None)
        for gi, group in enumerate(groups):
            inside = codes == gi
            if metric == "nps":
                if int(inside.sum()) < mb or int((~inside).sum()) < mb:
                    continue
                a = nps(score[inside], wts[inside] if wts is not None else None)
                b = nps(score[~inside], wts[~inside] if wts is not None else None)
                test = nps_difference(a, b)
                diff, z, p = test.diff, test.z, test.p_value
            else:  # the two sides as a categorical: metric_table groups by codes, no text to factorize
                side = pd.Series(pd.Categorical.from_codes(np.where(inside, 0, 1), categories=["in", "rest"]),
                                 index=valid.index)
                tab = metric_table(valid.assign(_side=side), "csat" if metric == "outcome" else metric,  # type: ignore[arg-type]
                                   by=["_side"], column=column, weight=_wcol(valid), **kw).set_index("_side")
                if set(tab.index) != {"in", "rest"} or (tab["n"] < mb).any():
                    continue
                a, b = tab.loc["in"], tab.loc["rest"]
                diff, _se, z, p = two_sample_test("csat" if metric == "outcome" else metric, a, b)
            rows.append({"segment": seg, "group": group, "a": a, "b": b, "diff": float(diff), "z": float(z),
                         "p_value": float(p), "reach": float(inside.mean())})
    adjusted = holm([row["p_value"] for row in rows])
    family = int(np.isfinite([row["p_value"] for row in rows]).sum())
    for row, ph in zip(rows, adjusted, strict=True):
        row["p_holm"], row["family"] = float(ph), family
    return rows


def _below(row: dict[str, Any]) -> bool:
    """Significantly below the rest: lower, and Holm-adjusted p < :data:`SIGNIFICANCE`."""
    return row["diff"] < 0 and np.isfinite(row["p_holm"]) and row["p_holm"] < SIGNIFICANCE


def _low_segments(audit: Audit, lang: str, metric: str) -> list[Finding]:
    """NPS or CSAT (top box) of a segment group significantly below the rest, Holm over every group
    of every segment column (:func:`_group_vs_rest`)."""
    out: list[Finding] = []
    for row in _group_vs_rest(audit, metric):
        if not _below(row):
            continue
        seg, group, a, b = row["segment"], row["group"], row["a"], row["b"]
        names = {"segment": audit.segment_label(seg), "group": audit.config.value_label(seg, group, lang)}
        if metric == "nps":
            title = t("metrics.finding_nps_low_segment", lang, **names, value=fmt_num(a.value, lang, 1, sign=True),
                      rest=fmt_num(b.value, lang, 1, sign=True))
            shown = {"metric": "nps", "value": a.value, "n": int(round(a.n)), "ci_low": a.ci_low,
                     "ci_high": a.ci_high, "unit": "pts"}
            rest = {"rest_nps": b.value, "rest_n": b.n, "diff": row["diff"]}
            test = "two-sample NPS z-test (R NPS::nps.test) vs the rest"
        elif metric == "outcome":  # the non-NPS outcome: good share of the group vs the rest, in %
            from .outcome import short_label

            o = outcome_info(audit)
            title = t("metrics.finding_outcome_low_segment", lang, **names, outcome=short_label(o, lang),
                      value=fmt_pct(a["value"], lang), rest=fmt_pct(b["value"], lang))
            shown = {"metric": "outcome_good_share", "value": 100 * float(a["value"]), "n": int(round(a["n"])),
                     "ci_low": 100 * float(a["ci_low"]), "ci_high": 100 * float(a["ci_high"]), "unit": "%"}
            rest = {"rest_value": 100 * float(b["value"]), "rest_n": float(b["n"]), "diff_pp": row["diff"],
                    "basis": "outcome", "outcome_label": short_label(o, lang), "outcome_kind": o.kind}
            test = "two-proportion z-test (pooled) of the good share vs the rest"
        else:
            title = t("metrics.finding_csat_low_segment", lang, **names, value=fmt_pct(a["value"], lang),
                      rest=fmt_pct(b["value"], lang))
            shown = {"metric": "csat_top2", "value": 100 * float(a["value"]), "n": int(round(a["n"])),
                     "ci_low": 100 * float(a["ci_low"]), "ci_high": 100 * float(a["ci_high"]), "unit": "%"}
            rest = {"rest_csat": 100 * float(b["value"]), "rest_n": float(b["n"]), "diff_pp": row["diff"]}
            test = "two-proportion z-test (pooled) vs the rest"
        out.append(Finding(
            id=f"cx_metrics.{metric}.low_segment.{seg}.{group}", section="cx_metrics", title=title,
            severity=3, reach=row["reach"], **shown,
            evidence={**rest, "z": row["z"], "p_value": row["p_value"], "p_holm": row["p_holm"],
                      "holm_tests": row["family"],
                      "test": f"{test}; Holm over every group vs rest test of {metric.upper()} across all "
                              "segment columns"},
            tags={"segments": [f"{seg}={group}"]},
        ))
    return out


def _drops(audit: Audit, lang: str, trend: dict[str, pd.DataFrame]) -> list[Finding]:
    """Periods whose metric is significantly below the previous period's: Holm-adjusted p <
    :data:`SIGNIFICANCE`, Holm over all the period-to-period changes of that metric (the family of
    :func:`cxaudit.stats.period_changes`; recomputed here with :func:`cxaudit.stats.holm`, so that
    a trend table without ``p_holm`` is judged the same way). The raw ``change`` marks of the trend
    table (p < 0.05 per comparison, the tracker convention its note explains) are not findings."""
    out: list[Finding] = []
    r = responses(audit)
    for m, tab in trend.items():
        total = float(tab["n"].sum())
        p = tab["p_value"].to_numpy(float)
        p_holm = holm(p)
        family = int(np.isfinite(p).sum())
        down = (tab["diff"].to_numpy(float) < 0) & (np.nan_to_num(p_holm, nan=1.0) < SIGNIFICANCE)
        for i in np.flatnonzero(down):
            row, prev = tab.iloc[i], tab.iloc[i - 1]
            scale = 100 if m == "csat" else 1
            value, prev_value = float(row["value"]) * scale, float(prev["value"]) * scale
            if m == "nps":
                fmt = lambda v: fmt_num(v, lang, 1, sign=True)  # noqa: E731
            elif m == "csat":
                fmt = lambda v: fmt_pct(v / 100, lang, 1)  # noqa: E731
            else:
                fmt = lambda v: fmt_num(v, lang, 2)  # noqa: E731
            out.append(Finding(
                id=f"cx_metrics.{m}.drop.{row['period']}", section="cx_metrics",
                title=t("metrics.finding_drop", lang, metric=m.upper(), period=fmt_period(row["period"], lang), value=fmt(value),
                        prev=fmt(prev_value), prev_period=fmt_period(prev["period"], lang)),
                metric={"nps": "nps", "csat": "csat_top2", "ces": "ces_mean"}[m], value=value,
                n=int(round(row["n"])), ci_low=float(row["ci_low"]) * scale, ci_high=float(row["ci_high"]) * scale,
                severity=3, reach=float(row["n"]) / total if total else 0.0,
                unit={"nps": "pts", "csat": "%", "ces": ""}[m],
                evidence={"previous_period": prev["period"], "previous_value": prev_value, "diff": float(row["diff"]),
                          "p_value": float(p[i]), "p_holm": float(p_holm[i]), "holm_tests": family,
                          "test": {"nps": "NPS z-test (R NPS::nps.test)", "csat": "two-proportion z-test",
                                   "ces": "Welch t-test"}[m] + "; Holm over all period-to-period changes",
                          "weighted": "weight" in r.columns, "table": "metrics.trends"},
                tags={"periods": [str(row["period"])]},
            ))
    return out


def data_period_text(audit: Audit, lang: str) -> str:
    """``1 January 2025 – 30 June 2026 (1.5 years)`` in the report language."""
    start, end, years = data_period(audit)
    return f"{fmt_date(start, lang)} – {fmt_date(end, lang)} ({fmt_num(years, lang, 1)})"


# --- text and table layouts for the notebook -------------------------------------------------------


def segment_columns(tab: pd.DataFrame, segment: str, lang: str) -> list[Any]:
    """The :class:`cxaudit.show.Col` list of a :func:`segment_table` (only the metrics present)."""
    from .show import Col, Kind

    cols = [Col(segment, "quality.col_group")]
    spec: dict[str, tuple[str, Kind]] = {"nps": ("NPS", "signed1"), "csat": ("CSAT, %", "num1"), "ces": ("CES", "num2")}
    if "outcome_value" in tab.columns:  # the non-NPS outcome (issue 13): its good share in %
        spec["outcome"] = (f"{tab.attrs.get('outcome_label', '')}, %", "num1")
    for m, (head, kind) in spec.items():
        if f"{m}_value" in tab.columns:
            cols += [Col(f"{m}_value", head, kind, lo=f"{m}_ci_low", hi=f"{m}_ci_high"),
                     Col(f"{m}_n", "metrics.col_n", "int")]
    cols.append(Col("letter", "metrics.col_letter"))
    cols += [Col(f"{m}_higher", t("metrics.col_higher", lang, metric=spec[m][0].split(",")[0]))
             for m in spec if f"{m}_higher" in tab.columns]
    return cols


def customer_columns(segment: str | None, audit: Audit, lang: str) -> list[Any]:
    """The :class:`cxaudit.show.Col` list of a :func:`customer_value` table. The churn per period,
    revenue and lifetime value columns carry the churn section's headers (revenue period, currency),
    as they are the same figures."""
    from .show import Col

    a = money_assumptions(audit)

    def money(key: str) -> str:
        return t("churn.money_unit", lang, label=t(key, lang), currency=a.currency) if a.currency else t(key, lang)

    cols = [Col(segment, "quality.col_group")] if segment else []
    return cols + [
        Col("n", "metrics.col_customers", "int"),
        Col("churn_rate", "metrics.col_churn", "pct1", lo="ci_low", hi="ci_high"),
        Col("retention_rate", "metrics.col_retention", "pct1", lo="retention_ci_low", hi="retention_ci_high"),
        Col("period_churn", t("churn.col_period_churn", lang, months=fmt_num(a.revenue_period_months, lang, 0)),
            "pct1", lo="period_churn_ci_low", hi="period_churn_ci_high"),
        Col("revenue_mean", money("churn.col_mean_revenue"), "num0", lo="revenue_ci_low", hi="revenue_ci_high"),
        Col("ltv", money("churn.col_ltv"), "num0", lo="ltv_ci_low", hi="ltv_ci_high"),
    ]


def customers_note(audit: Audit, lang: str, *, survival_times: bool | None = None) -> str:
    """How the customer table's churn, revenue and lifetime value are computed: the churn section's
    method and assumptions (margin, discount rate, revenue period), and the interval methods.
    ``survival_times``: whether any customer has a survival time (``t_exit``), when the caller knows
    it (:attr:`ScorecardAnalysis.survival_times`); else read from the churn frame."""
    a = money_assumptions(audit)
    settings = getattr(audit.config, "churn", None)
    if getattr(audit, "is_engine", lambda _t: False)("customers"):  # kept in the query engine (issue 19)
        basis = _churn.engine_time_basis(audit.engine_table("customers"), settings)
    else:
        basis = _churn.time_basis(audit.table("customers"), settings)  # the customers' own time
    window = basis.window
    period = fmt_num(a.revenue_period_months, lang, 0)
    kw = {"period": period, "margin": fmt_pct(a.margin, lang, 1), "discount": fmt_pct(a.discount_rate, lang, 1)}
    if window is None:
        return t("metrics.customers_no_time", lang, **kw)
    text = t("metrics.customers_note", lang, start=fmt_date(window.start.date(), lang),
             end=fmt_date(window.end.date(), lang), months=fmt_num(window.months, lang, 0), **kw)
    if survival_times is None:
        survival_times = bool(_churn.frame_from_audit(audit)["t_exit"].notna().any())
    if not survival_times:
        text += " " + t("metrics.customers_no_time", lang, **kw)
    return text


# --- the section in one call ---------------------------------------------------------------------


@dataclass
class ScorecardAnalysis:
    """Everything the CX-metrics section (notebook 02) shows, computed once and without language.

    ``survey``: the audit has responses (without them only the customer tables are computed).
    ``survival_times``: whether any customer of the churn frame has a survival time (``None`` when no
    customer table was computed), for :func:`customers_note`.
    ``weights``: :func:`weighting`; ``overall``: :func:`overall`; ``csi``: :func:`csi_overall`;
    ``segments``: :func:`segment_frame` of each segment column of ``audit.yaml`` present in the
    responses, in that order, empty tables left out; ``trends``: :func:`trends` by month;
    ``customers``: :func:`customer_value_frame` by each segment column of the customers table (or the
    whole table, key ``None``, when it has none of them), ``None`` without a customers table;
    ``reliability``: :func:`reliability`; ``distributions``: :func:`distributions`; ``omnibus``:
    :func:`omnibus` of each segment in ``segments``. Presentation:
    :mod:`cxaudit.scorecard_view`.
    """

    audit: Audit
    survey: bool
    weights: WeightingReport | None = None
    overall: dict[str, MetricResult] = field(default_factory=dict)
    csi: tuple[MetricResult, pd.DataFrame] | None = None
    segments: dict[str, pd.DataFrame] = field(default_factory=dict)
    trends: dict[str, pd.DataFrame] = field(default_factory=dict)
    customers: dict[str | None, pd.DataFrame] | None = None
    reliability: Reliability | None = None
    distributions: pd.DataFrame | None = None
    omnibus: dict[str, Omnibus] = field(default_factory=dict)
    survival_times: bool | None = None

    def cube(self) -> pd.DataFrame | None:
        """:func:`cube` for the analyst, ``None`` without NPS / CSAT / CES or without dates."""
        if not self.overall or not self.audit.responses["date"].notna().any():
            return None
        return cube(self.audit)


def analyse(audit: Audit) -> ScorecardAnalysis:
    """The CX-metrics section of ``audit`` (:class:`ScorecardAnalysis`); methods and sources in the
    functions it calls."""
    from .audit import in_memory

    customers: dict[str | None, pd.DataFrame] | None = None
    survival_times: bool | None = None
    if in_memory(audit, "customers"):  # not for a table kept in the query engine (issue 19)
        cust = audit.table("customers")
        cuts: list[str | None] = [s for s in audit.config.segments if s in cust.columns] or [None]
        frame = _churn.frame_from_audit(audit) if {"revenue", "churned"} <= set(cust.columns) else None
        customers = {s: v for s in cuts if (v := customer_value_frame(audit, s, frame=frame)) is not None}
        survival_times = None if frame is None else bool(frame["t_exit"].notna().any())
        del frame
    if not audit.has("responses"):
        return ScorecardAnalysis(audit, survey=False, customers=customers, survival_times=survival_times)
    segments = {s: tab for s in audit.config.segments if s in audit.responses.columns
                and not (tab := segment_frame(audit, s)).empty}
    return ScorecardAnalysis(audit, survey=True, weights=weighting(audit), overall=overall(audit),
                             csi=csi_overall(audit), segments=segments, trends=trends(audit),
                             customers=customers, reliability=reliability(audit),
                             distributions=distributions(audit), omnibus={s: omnibus(audit, s) for s in segments},
                             survival_times=survival_times)
