"""The CX-metrics section: overall scorecard, cuts by segment, and the findings they give.

Built on :mod:`cxaudit.metrics` (formulas and sources there) and :mod:`cxaudit.stats`.
"""

from __future__ import annotations

import pandas as pd

from .audit import Audit
from .findings import Finding
from .i18n import fmt_num, fmt_pct, t
from .metrics import MetricResult, ces, csat, metric_table, nps
from .stats import nps_difference

__all__ = ["scorecard", "overall", "by_segment", "segment_table", "metric_findings", "SIGNIFICANCE"]

#: Level for "significantly below the rest" findings.
SIGNIFICANCE = 0.05


def overall(audit: Audit) -> dict[str, MetricResult]:
    """NPS, CSAT and CES of all kept responses (only those the client measured)."""
    r, sc = audit.responses, audit.config.scales
    weights = r["weight"] if "weight" in r.columns else None
    out: dict[str, MetricResult] = {}
    if "nps" in r.columns and r["nps"].notna().any():
        out["nps"] = nps(r["nps"], weights)
    if "csat" in r.columns and r["csat"].notna().any():
        out["csat"] = csat(r["csat"], scale=sc.csat.max, top_box=sc.csat.top_box, weights=weights,
                           scale_min=sc.csat.min)
    if "ces" in r.columns and r["ces"].notna().any():
        out["ces"] = ces(r["ces"], scale=sc.ces.max, weights=weights)
    return out


def scorecard(audit: Audit, lang: str) -> pd.DataFrame:
    """One row per metric: label, value, interval, n and a localised detail line."""
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
    return pd.DataFrame(rows)


def by_segment(audit: Audit, metric: str, segment: str) -> pd.DataFrame:
    """``metric_table`` of one metric by one segment column, sorted by value."""
    sc = audit.config.scales
    kw = {"csat": {"scale": sc.csat.max, "top_box": sc.csat.top_box}, "ces": {"scale": sc.ces.max}}.get(metric, {})
    r = audit.responses
    tab = metric_table(r, metric, by=[segment], min_base=audit.config.min_base,
                       weight="weight" if "weight" in r.columns else None, **kw)
    if metric == "csat":  # shown as percentages
        tab[["value", "ci_low", "ci_high"]] = tab[["value", "ci_low", "ci_high"]] * 100
    return tab.sort_values("value", ascending=False).reset_index(drop=True)


def metric_findings(audit: Audit, lang: str) -> list[Finding]:
    """Headline findings: overall NPS / CSAT / CES, and each segment group whose NPS is
    significantly below the rest of the sample (z-test, p < :data:`SIGNIFICANCE`)."""
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
    return out


def _low_segments(audit: Audit, lang: str) -> list[Finding]:
    r = audit.responses
    out: list[Finding] = []
    for seg in audit.config.segments:
        if seg not in r.columns:
            continue
        valid = r[r["nps"].notna() & r[seg].notna()]
        for group, part in valid.groupby(seg, observed=True):
            rest = valid[valid[seg] != group]
            if len(part) < audit.config.min_base or len(rest) < audit.config.min_base:
                continue
            a, b = nps(part["nps"]), nps(rest["nps"])
            test = nps_difference(a, b)
            if test.diff < 0 and test.p_value < SIGNIFICANCE:
                out.append(Finding(
                    id=f"cx_metrics.nps.low_segment.{seg}.{group}", section="cx_metrics",
                    title=t("metrics.finding_nps_low_segment", lang, segment=audit.segment_label(seg), group=group,
                            value=fmt_num(a.value, lang, 1, sign=True),
                            rest=fmt_num(b.value, lang, 1, sign=True)),
                    metric="nps", value=a.value, n=a.n, ci_low=a.ci_low, ci_high=a.ci_high,
                    severity=3, reach=len(part) / len(valid), unit="pts",
                    evidence={"rest_nps": b.value, "rest_n": b.n, "diff": test.diff, "z": test.z,
                              "p_value": test.p_value, "test": "two-sample NPS z-test (R NPS::nps.test)"},
                    tags={"segments": [f"{seg}={group}"]},
                ))
    return out


def segment_table(audit: Audit, segment: str) -> pd.DataFrame:
    """NPS, CSAT (%) and CES side by side for each group of ``segment``, each with its own n and
    interval (columns ``<metric>_value``, ``<metric>_ci_low``, ``<metric>_ci_high``, ``<metric>_n``)."""
    parts = []
    for metric in ("nps", "csat", "ces"):
        if metric not in audit.responses.columns:
            continue
        tab = by_segment(audit, metric, segment)[[segment, "n", "value", "ci_low", "ci_high", "small_base"]]
        parts.append(tab.rename(columns={c: f"{metric}_{c}" for c in tab.columns if c != segment}))
    out = parts[0]
    for p in parts[1:]:
        out = out.merge(p, on=segment, how="outer")
    flags = [c for c in out.columns if c.endswith("_small_base")]
    out["small_base"] = out[flags].fillna(True).any(axis=1)
    first_value = next(c for c in out.columns if c.endswith("_value"))
    return out.sort_values(first_value, ascending=False).reset_index(drop=True)
