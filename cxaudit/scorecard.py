"""The CX-metrics section: scorecard, cuts by segment with significance letters, monthly trends with
significant changes, CSI, retention and customer value, distributions, and the findings they give.

Built on :mod:`cxaudit.metrics` (formulas and sources there), :mod:`cxaudit.stats` (tests, Holm,
letters, reliability) and :mod:`cxaudit.weighting` (supplied or raking weights). Every function
uses the weighted responses when weighting applies (:func:`responses`).

Per-segment tables lose no respondent: those with no value in the segment column are their own row,
"Not stated" (:data:`cxaudit.stats.NOT_STATED`, column ``not_stated``), placed last, with its n and
interval but without a letter and outside the tests, because it is not a segment. Functions that
name it take ``lang`` (default: the report language in ``audit.yaml``).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from .audit import Audit
from .findings import Finding
from .i18n import fmt_date, fmt_num, fmt_pct, t
from .metrics import (
    MetricResult,
    ces,
    csat,
    csi,
    csi_items,
    customer_value_table,
    metric_cube,
    metric_table,
    nps,
)
from .plots import PALETTE
from .stats import (
    ALPHA,
    NOT_STATED,
    Reliability,
    SegmentTest,
    cronbach_alpha,
    group_name,
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
    "responses",
    "weighting",
    "overall",
    "csi_overall",
    "scorecard",
    "by_segment",
    "segment_tests_for",
    "segment_table",
    "letters_note",
    "trends",
    "trend_table",
    "trend_note",
    "trend_figure",
    "distribution_figure",
    "data_period",
    "customer_value",
    "reliability",
    "metric_findings",
    "format_p",
    "cube",
    "weighting_text",
    "csi_note",
    "segment_columns",
    "trend_columns",
    "customer_columns",
    "customers_note",
    "reliability_text",
    "data_period_text",
]

#: Level for "significantly below the rest" findings and for marking period-to-period changes.
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
    rows = []
    for key, res in overall(audit).items():
        d = res.details
        if key == "nps":
            detail = t("metrics.nps_detail", lang, p=fmt_pct(d["promoters"], lang),
                       pa=fmt_pct(d["passives"], lang), d=fmt_pct(d["detractors"], lang))
            value, lo, hi = res.value, res.ci_low, res.ci_high
        elif key == "csat":
            detail = t("metrics.csat_detail", lang, mean=fmt_num(d["mean"], lang, 2), max=int(d["scale_max"]))
            value, lo, hi = 100 * res.value, 100 * res.ci_low, 100 * res.ci_high
        else:
            detail = t("metrics.ces_detail", lang, easy=fmt_pct(d["easy"], lang))
            value, lo, hi = res.value, res.ci_low, res.ci_high
        rows.append({"metric": t(f"metrics.{key}", lang), "key": key, "value": value, "ci_low": lo, "ci_high": hi,
                     "n": res.n, "detail": detail, "small_base": res.n < audit.config.min_base})
    c = csi_overall(audit) if with_csi else None
    if c is not None:
        res = c[0]
        rows.append({"metric": t("metrics.csi", lang), "key": "csi", "value": res.value, "ci_low": res.ci_low,
                     "ci_high": res.ci_high, "n": res.n,
                     "detail": t("metrics.csi_detail", lang, k=int(res.details["items"])),
                     "small_base": res.n < audit.config.min_base})
    return pd.DataFrame(rows)


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


def _named(tab: pd.DataFrame, segment: str, lang: str) -> pd.DataFrame:
    """``tab`` with a ``not_stated`` flag and the not-stated key replaced by its name in ``lang``."""
    out = tab.copy()
    out["not_stated"] = out[segment].eq(NOT_STATED).to_numpy(bool)
    out[segment] = [group_name(g, lang) for g in out[segment]]
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
    return _named(_cut(audit, metric, segment), segment, lang or audit.language)


def segment_tests_for(audit: Audit, segment: str, order: list[Any] | None = None) -> dict[str, SegmentTest]:
    """:func:`cxaudit.stats.segment_tests` of NPS, CSAT and CES by ``segment`` (letters in ``order``),
    over the respondents who stated the segment (the not-stated group is not a segment)."""
    r = _stated(responses(audit), segment)
    return {m: segment_tests(r, m, segment, weight=_wcol(r), min_base=audit.config.min_base, order=order,  # type: ignore[arg-type]
                             **_kw(audit, m))
            for m in _METRICS if _has(r, m)}


def segment_table(audit: Audit, segment: str, lang: str | None = None) -> pd.DataFrame:
    """NPS, CSAT (%) and CES side by side for each group of ``segment``, each with its own n and
    interval (columns ``<metric>_value``, ``<metric>_ci_low``, ``<metric>_ci_high``, ``<metric>_n``),
    plus the significance letters: ``letter`` (the group's own) and ``<metric>_higher`` (letters of
    the groups it is significantly higher than; Holm for NPS / CSAT, Games–Howell for CES).

    Respondents with no value in ``segment`` are the last row, named "Not stated" in ``lang``
    (default: the report language) and marked ``not_stated``: shown with n and interval, so the
    groups add up to the total, but without a letter and left out of the tests
    (:func:`letters_note` says so)."""
    parts = []
    for metric in _METRICS:
        if not _has(audit.responses, metric):
            continue
        tab = _cut(audit, metric, segment)[[segment, "n", "value", "ci_low", "ci_high", "small_base"]]
        parts.append(tab.rename(columns={c: f"{metric}_{c}" for c in tab.columns if c != segment}))
    if not parts:
        return pd.DataFrame()
    out = parts[0]
    for p in parts[1:]:
        out = out.merge(p, on=segment, how="outer")
    flags = [c for c in out.columns if c.endswith("_small_base")]
    out["small_base"] = out[flags].fillna(True).any(axis=1)
    first_value = next(c for c in out.columns if c.endswith("_value"))
    out = _not_stated_last(out, segment, first_value)
    stated = out.loc[out[segment].ne(NOT_STATED), segment].tolist()
    tests = segment_tests_for(audit, segment, order=stated)
    out["letter"] = letter_labels(len(stated)) + [None] * (len(out) - len(stated))
    for m, st in tests.items():
        out[f"{m}_higher"] = out[segment].map(dict(zip(st.table[segment], st.table["higher_than"], strict=True)))
    return _named(out, segment, lang or audit.language)


def format_p(p: float, lang: str) -> str:
    """``p < 0.001`` or ``p = 0.012`` in the locale's number format."""
    if p is None or not np.isfinite(p):
        return "–"
    return f"p < {fmt_num(0.001, lang, 3)}" if p < 0.001 else f"p = {fmt_num(p, lang, 3)}"


def letters_note(audit: Audit, segment: str, lang: str) -> str:
    """The sentence under a segment table: the letter convention, the tests, the correction, the
    overall (omnibus) tests and the groups too small to test; when some respondents did not state
    the segment, that their row is shown but not tested."""
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
    omni = []
    for m, o in omnis.items():
        df = o["df"]
        df_txt = (f"{fmt_num(df[0], lang, 0)}; {fmt_num(df[1], lang, 1)}" if isinstance(df, tuple)
                  else fmt_num(df, lang, 0))
        stat = "F" if isinstance(df, tuple) else "χ²"
        omni.append(f"{m.upper()}: {stat}({df_txt}) = {fmt_num(o['statistic'], lang, 1)}, {format_p(o['p_value'], lang)}"
                    if np.isfinite(o["p_value"]) else f"{m.upper()}: –")
    note = t("metrics.letters_note", lang, pairs=k * (k - 1) // 2, min=audit.config.min_base)
    note += " " + t("metrics.omnibus_note", lang, tests="; ".join(omni))
    return note + " " + not_stated_note(lang) if len(r) < len(everyone) else note


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
        text += " " + t("metrics.trend_holm_survive", lang, periods=", ".join(survive))
    return text


def trend_figure(trend: dict[str, pd.DataFrame], lang: str) -> Figure:
    """One panel per metric: the value by period with its 95% band; significant drops ▼ (red) and
    rises ▲ (green) against the previous period; small bases drawn hollow."""
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
    bottom.set_xticks(np.arange(len(labels)), labels, rotation=90 if len(labels) > 12 else 0)
    axes[0, 0].set_title(t("metrics.trend_title", lang))
    fig.tight_layout()
    plt.close(fig)
    return fig


def distribution_figure(audit: Audit, lang: str) -> Figure:
    """Answer distributions of NPS (0–10), CSAT and CES (seaborn bars, weighted shares when
    weighted; no error bars, so the figure is deterministic). Colours: NPS detractor / passive /
    promoter; CSAT top box vs the rest; CES difficult (1–3) / neutral / easy (5–7)."""
    r = responses(audit)
    sc = audit.config.scales
    panels = [(m, lo, hi) for m, lo, hi in (("nps", 0, 10), ("csat", sc.csat.min, sc.csat.max),
                                            ("ces", sc.ces.min, sc.ces.max)) if _has(r, m)]
    fig, axes = plt.subplots(1, len(panels), figsize=(7.5, 3.0), squeeze=False,
                             gridspec_kw={"width_ratios": [hi - lo + 1 for _, lo, hi in panels]})
    for ax, (m, lo, hi) in zip(axes[0], panels, strict=True):
        x = pd.to_numeric(r[m], errors="coerce")
        w = r["weight"] if "weight" in r.columns else pd.Series(1.0, index=r.index)
        ok = x.notna() & w.notna()
        points = np.arange(lo, hi + 1)
        share = w[ok].groupby(x[ok]).sum().reindex(points, fill_value=0.0) / w[ok].sum()
        if m == "nps":
            colours = [PALETTE["detractor"] if p <= 6 else PALETTE["passive"] if p <= 8 else PALETTE["promoter"]
                       for p in points]
            xlabel = t("metrics.nps_axis", lang)
        elif m == "csat":
            top = hi - sc.csat.top_box + 1
            colours = [PALETTE["promoter"] if p >= top else PALETTE["passive"] for p in points]
            xlabel = t("metrics.csat_axis", lang, max=hi)
        else:
            colours = [PALETTE["detractor"] if p <= 3 else PALETTE["passive"] if p < hi - 2 else PALETTE["promoter"]
                       for p in points]
            xlabel = t("metrics.ces_axis", lang, max=hi)
        frame = pd.DataFrame({"point": points.astype(str), "share": 100 * share.to_numpy()})
        sns.barplot(data=frame, x="point", y="share", hue="point", palette=colours, legend=False, errorbar=None,
                    ax=ax)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel(t("metrics.share_axis", lang) + ", %" if ax is axes[0, 0] else "", fontsize=9)
        ax.set_title(f"{m.upper()} (n = {fmt_num(int(ok.sum()), lang, 0)})", fontsize=10)
        ax.tick_params(labelsize=8)
    fig.suptitle(t("metrics.distributions", lang), fontsize=12, fontweight="bold")
    fig.tight_layout()
    plt.close(fig)
    return fig


# --- customers -----------------------------------------------------------------------------------


def data_period(audit: Audit) -> tuple[_dt.date, _dt.date, float]:
    """First and last response date and the span in years (the period churn is assumed observed)."""
    d = pd.to_datetime(audit.responses["date"]).dropna()
    start, end = d.min().date(), d.max().date()
    return start, end, max((end - start).days + 1, 1) / 365.25


def customer_value(audit: Audit, segment: str | None, *, margin: float = 1.0,
                   discount_rate: float = 0.0, lang: str | None = None) -> pd.DataFrame | None:
    """Churn, retention, revenue per customer and simple LTV by ``segment`` of the customers table
    (:func:`cxaudit.metrics.customer_value_table`); ``None`` without a customers table or revenue.
    Customers with no value in ``segment`` are a last row named "Not stated" in ``lang`` (flag
    ``not_stated``)."""
    if not audit.has("customers"):
        return None
    cust = audit.table("customers")
    if "revenue" not in cust.columns or "churned" not in cust.columns:
        return None
    by = [segment] if segment else []
    if segment and segment not in cust.columns:
        return None
    _, _, years = data_period(audit)
    tab = customer_value_table(_keyed(cust, segment) if segment else cust, by, period_years=years, margin=margin,
                               discount_rate=discount_rate, min_base=audit.config.min_base)
    if not segment:
        return tab
    return _named(_not_stated_last(tab, segment), segment, lang or audit.language)


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
    significantly below the rest of the sample (z-tests, p < :data:`SIGNIFICANCE`); each month
    with a significant drop against the previous month (NPS, CSAT, CES)."""
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
    if "nps" in res:
        out.extend(_low_segments(audit, lang))
    if "csat" in res:
        out.extend(_low_csat_segments(audit, lang))
    out.extend(_drops(audit, lang, trend if trend is not None else trends(audit)))
    return out


def _low_segments(audit: Audit, lang: str) -> list[Finding]:
    r = responses(audit)
    out: list[Finding] = []
    for seg in audit.config.segments:
        if seg not in r.columns:
            continue
        valid = _stated(r, seg)
        valid = valid[valid["nps"].notna()]
        for group, part in valid.groupby(seg, observed=True):
            rest = valid[valid[seg] != group]
            if len(part) < audit.config.min_base or len(rest) < audit.config.min_base:
                continue
            wa = part["weight"] if "weight" in part.columns else None
            wb = rest["weight"] if "weight" in rest.columns else None
            a, b = nps(part["nps"], wa), nps(rest["nps"], wb)
            test = nps_difference(a, b)
            if test.diff < 0 and test.p_value < SIGNIFICANCE:
                out.append(Finding(
                    id=f"cx_metrics.nps.low_segment.{seg}.{group}", section="cx_metrics",
                    title=t("metrics.finding_nps_low_segment", lang, segment=audit.segment_label(seg), group=group,
                            value=fmt_num(a.value, lang, 1, sign=True),
                            rest=fmt_num(b.value, lang, 1, sign=True)),
                    metric="nps", value=a.value, n=int(round(a.n)), ci_low=a.ci_low, ci_high=a.ci_high,
                    severity=3, reach=len(part) / len(valid), unit="pts",
                    evidence={"rest_nps": b.value, "rest_n": b.n, "diff": test.diff, "z": test.z,
                              "p_value": test.p_value, "test": "two-sample NPS z-test (R NPS::nps.test)"},
                    tags={"segments": [f"{seg}={group}"]},
                ))
    return out


def _low_csat_segments(audit: Audit, lang: str) -> list[Finding]:
    r = responses(audit)
    out: list[Finding] = []
    kw = _kw(audit, "csat")
    for seg in audit.config.segments:
        if seg not in r.columns:
            continue
        valid = _stated(r, seg)
        valid = valid[valid["csat"].notna()]
        for group in valid[seg].drop_duplicates().sort_values():
            side = pd.Series(np.where(valid[seg] == group, "in", "rest"), index=valid.index)
            tab = metric_table(valid.assign(_side=side), "csat", by=["_side"], weight=_wcol(valid), **kw)
            tab = tab.set_index("_side")
            if set(tab.index) != {"in", "rest"} or (tab["n"] < audit.config.min_base).any():
                continue
            diff, se, z, p = two_sample_test("csat", tab.loc["in"], tab.loc["rest"])
            if diff < 0 and p < SIGNIFICANCE:
                a = tab.loc["in"]
                out.append(Finding(
                    id=f"cx_metrics.csat.low_segment.{seg}.{group}", section="cx_metrics",
                    title=t("metrics.finding_csat_low_segment", lang, segment=audit.segment_label(seg), group=group,
                            value=fmt_pct(a["value"], lang), rest=fmt_pct(tab.loc["rest", "value"], lang)),
                    metric="csat_top2", value=100 * float(a["value"]), n=int(round(a["n"])),
                    ci_low=100 * float(a["ci_low"]), ci_high=100 * float(a["ci_high"]), severity=3,
                    reach=float((valid[seg] == group).mean()), unit="%",
                    evidence={"rest_csat": 100 * float(tab.loc["rest", "value"]), "rest_n": float(tab.loc["rest", "n"]),
                              "diff_pp": diff, "z": z, "p_value": p, "test": "two-proportion z-test (pooled)"},
                    tags={"segments": [f"{seg}={group}"]},
                ))
    return out


def _drops(audit: Audit, lang: str, trend: dict[str, pd.DataFrame]) -> list[Finding]:
    out: list[Finding] = []
    r = responses(audit)
    for m, tab in trend.items():
        total = float(tab["n"].sum())
        for i in np.flatnonzero((tab["change"] == "down").to_numpy()):
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
                title=t("metrics.finding_drop", lang, metric=m.upper(), period=row["period"], value=fmt(value),
                        prev=fmt(prev_value), prev_period=prev["period"]),
                metric={"nps": "nps", "csat": "csat_top2", "ces": "ces_mean"}[m], value=value,
                n=int(round(row["n"])), ci_low=float(row["ci_low"]) * scale, ci_high=float(row["ci_high"]) * scale,
                severity=3, reach=float(row["n"]) / total if total else 0.0,
                unit={"nps": "pts", "csat": "%", "ces": ""}[m],
                evidence={"previous_period": prev["period"], "previous_value": prev_value, "diff": float(row["diff"]),
                          "p_value": float(row["p_value"]), "p_holm": float(row["p_holm"]),
                          "test": {"nps": "NPS z-test (R NPS::nps.test)", "csat": "two-proportion z-test",
                                   "ces": "Welch t-test"}[m], "weighted": "weight" in r.columns,
                          "table": "metrics.trends"},
                tags={"periods": [str(row["period"])]},
            ))
    return out


def data_period_text(audit: Audit, lang: str) -> str:
    """``1 January 2025 – 30 June 2026 (1.5 years)`` in the report language."""
    start, end, years = data_period(audit)
    return f"{fmt_date(start, lang)} – {fmt_date(end, lang)} ({fmt_num(years, lang, 1)})"


# --- text and table layouts for the notebook -------------------------------------------------------


def weighting_text(audit: Audit, lang: str) -> str:
    """One paragraph on how the results are weighted and what it costs (Kish)."""
    rep = weighting(audit)
    if rep is None:
        return t("metrics.weighting_none", lang)
    kw = {"n": fmt_num(rep.n, lang, 0), "n_eff": fmt_num(rep.n_eff, lang, 0), "eff": fmt_pct(rep.efficiency, lang),
          "deff": fmt_num(rep.deff, lang, 2), "min": fmt_num(rep.min_weight, lang, 2),
          "max": fmt_num(rep.max_weight, lang, 2)}
    if rep.method == "raking":
        names = ", ".join(audit.segment_label(v) for v in rep.margins["variable"].drop_duplicates())
        text = t("metrics.weighting_raked", lang, vars=names, **kw)
        if rep.trim:
            text += " " + t("metrics.weighting_trim", lang, trim=fmt_num(rep.trim, lang, 1),
                            err=fmt_num(100 * (rep.max_margin_error or 0.0), lang, 2))
        return text
    return t("metrics.weighting_supplied", lang, **kw)


def csi_note(audit: Audit, lang: str) -> str | None:
    """How the CSI of the scorecard is built and what its interval is."""
    if _csi_items(audit, responses(audit)) is None:
        return None
    sc = audit.config.scales.touchpoint
    return t("metrics.csi_note", lang, min=sc.min, max=sc.max, b=fmt_num(2000, lang, 0), seed=audit.config.seed)


def segment_columns(tab: pd.DataFrame, segment: str, lang: str) -> list[Any]:
    """The :class:`cxaudit.show.Col` list of a :func:`segment_table` (only the metrics present)."""
    from .show import Col

    cols = [Col(segment, "quality.col_group")]
    spec = {"nps": ("NPS", "signed1"), "csat": ("CSAT, %", "num1"), "ces": ("CES", "num2")}
    for m, (head, kind) in spec.items():
        if f"{m}_value" in tab.columns:
            cols += [Col(f"{m}_value", head, kind, lo=f"{m}_ci_low", hi=f"{m}_ci_high"),
                     Col(f"{m}_n", "metrics.col_n", "int")]
    cols.append(Col("letter", "metrics.col_letter"))
    cols += [Col(f"{m}_higher", t("metrics.col_higher", lang, metric=spec[m][0].split(",")[0]))
             for m in spec if f"{m}_higher" in tab.columns]
    return cols


def trend_columns(tab: pd.DataFrame, lang: str) -> list[Any]:
    """The :class:`cxaudit.show.Col` list of a :func:`trend_table`."""
    from .show import Col

    cols = [Col("period", "metrics.col_period")]
    spec = {"nps": ("NPS", "signed1"), "csat": ("CSAT, %", "num1"), "ces": ("CES", "num2")}
    for m, (head, kind) in spec.items():
        if f"{m}_value" in tab.columns:
            cols += [Col(f"{m}_value", head, kind, lo=f"{m}_ci_low", hi=f"{m}_ci_high"),
                     Col(f"{m}_n", "metrics.col_n", "int")]
    cols.append(Col("changes", "metrics.col_changes"))
    return cols


def customer_columns(segment: str | None) -> list[Any]:
    """The :class:`cxaudit.show.Col` list of a :func:`customer_value` table."""
    from .show import Col

    cols = [Col(segment, "quality.col_group")] if segment else []
    return cols + [
        Col("n", "metrics.col_customers", "int"),
        Col("churn_rate", "metrics.col_churn", "pct1", lo="ci_low", hi="ci_high"),
        Col("annual_churn", "metrics.col_annual_churn", "pct1", lo="annual_churn_ci_low", hi="annual_churn_ci_high"),
        Col("retention_rate", "metrics.col_retention", "pct1", lo="retention_ci_low", hi="retention_ci_high"),
        Col("revenue_mean", "metrics.col_revenue", "num0", lo="revenue_ci_low", hi="revenue_ci_high"),
        Col("ltv", "metrics.col_ltv", "num0", lo="ltv_ci_low", hi="ltv_ci_high"),
    ]


def customers_note(audit: Audit, lang: str, *, margin: float = 1.0) -> str:
    """Assumptions behind the churn annualisation and the LTV, and the interval methods."""
    start, end, years = data_period(audit)
    return t("metrics.customers_note", lang, start=fmt_date(start, lang), end=fmt_date(end, lang),
             years=fmt_num(years, lang, 1), margin=fmt_pct(margin, lang))


def reliability_text(audit: Audit, lang: str) -> str | None:
    """Cronbach's alpha of the touchpoint ratings as one sentence (``None`` without ratings)."""
    rel = reliability(audit)
    if rel is None:
        return None
    return t("metrics.reliability_text", lang, k=rel.k, alpha=fmt_num(rel.alpha, lang, 2),
             lo=fmt_num(rel.ci_low, lang, 2), hi=fmt_num(rel.ci_high, lang, 2), n=fmt_num(rel.n, lang, 0))
