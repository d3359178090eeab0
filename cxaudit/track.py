"""Tracking across waves: every headline metric per wave, wave-over-wave tests, driver shifts, the
status of each baseline recommendation and the revenue realised against the business case.

Analysis functions take :class:`~cxaudit.audit.Audit` objects (one per wave) and return DataFrames /
dataclasses; :mod:`cxaudit.track_report` turns them into the tracking report.

Tests (two-sided, later wave − earlier wave; Holm over the family of one comparison):

- NPS: the difference of two independent NPS with the NPS variance v = (p + d) − (p − d)²,
  SE = √(v₁/n₁ + v₂/n₂), z-test (R package ``NPS``, ``nps.test``; :func:`cxaudit.stats.two_sample_test`);
- CSAT: pooled two-proportion z-test of the top-box shares;
- CES and touchpoint ratings: Welch's t-test on the means (Welch 1947);
- churn and reason shares: pooled two-proportion z-test; ticket first-response times: Mann–Whitney U
  (scipy); employee scores: Welch's t-test;
- multiple comparisons: Holm (1979) over every tested cell of one comparison (overall, each segment,
  each touchpoint, NPS / CSAT / CES), :func:`cxaudit.stats.holm`.

A cell that exists in one wave only (a question not asked, a segment value absent) is reported as not
comparable, never tested; so is a cell whose base is below ``min_base`` in either wave.

Recommendation status (each recommendation of the baseline's TO-BE plan, its measured metric in the
latest wave against the baseline; Holm over the recommendations' tests):

- ``achieved``: a significant change in the intended direction and the target reached (the point
  estimate at or beyond it; for a recommendation without a numeric target, a significant improvement);
- ``on_track``: a significant change in the intended direction, the target not yet reached;
- ``not_yet``: no significant change;
- ``worse``: a significant change against the intended direction;
- ``not_measured``: the waves hold no data that measures it.

Revenue realised: the business case of the TO-BE plan (:func:`cxaudit.recommend.targets`) keeps
uplift × M × g, M the planned share of detractors moved to passive; the realised value puts the
observed relative fall of the detractor share, M_obs = (d₀ − d₁) / d₀, in M's place (the same uplift
and g), with the interval of d₀ − d₁ carried through (Wald).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from .audit import Audit
from .metrics import Z95, metric_table
from .stats import ALPHA, NOT_STATED, holm, segment_keys, two_sample_test, welch_t_test

__all__ = [
    "HEADLINE",
    "STATUSES",
    "wave_cells",
    "compare_cells",
    "comparisons",
    "driver_shifts",
    "RecStatus",
    "method_appendix",
    "recommendation_status",
    "revenue_realised",
    "TrackResult",
    "analyse",
]

HEADLINE: tuple[str, ...] = ("nps", "csat", "ces")
STATUSES: tuple[str, ...] = ("achieved", "on_track", "not_yet", "worse", "not_measured")
_CELL_COLUMNS = ["metric", "cut", "group", "n", "value", "ci_low", "ci_high", "promoters", "detractors", "sd"]


def _responses(audit: Audit) -> pd.DataFrame:
    from .scorecard import responses

    return responses(audit)


def _kw(audit: Audit, metric: str) -> dict[str, Any]:
    sc = audit.config.scales
    if metric == "csat":
        return {"scale": sc.csat.max, "top_box": sc.csat.top_box, "scale_min": sc.csat.min}
    if metric == "ces":
        return {"scale": sc.ces.max, "scale_min": sc.ces.min}
    return {}


def _rows(tab: pd.DataFrame, metric: str, cut: str, group_col: str | None) -> list[dict[str, Any]]:
    out = []
    for _, r in tab.iterrows():
        out.append({"metric": metric, "cut": cut, "group": "all" if group_col is None else str(r[group_col]),
                    "n": float(r["n"]), "value": float(r["value"]), "ci_low": float(r["ci_low"]),
                    "ci_high": float(r["ci_high"]), "promoters": float(r.get("promoters", np.nan)),
                    "detractors": float(r.get("detractors", np.nan)), "sd": float(r.get("sd", np.nan))})
    return out


def wave_cells(audit: Audit) -> pd.DataFrame:
    """Every tracked cell of one wave: NPS / CSAT / CES overall and per value of each configured
    segment column, and the mean rating of each touchpoint (metric ``touchpoint``, cut
    ``touchpoint``, group = its column).

    Columns ``metric, cut, group, n, value, ci_low, ci_high, promoters, detractors, sd``; CSAT is a
    share 0..1 (Wilson interval), NPS −100..100 (adjusted Wald), means with a Student t interval.
    Respondents without a segment value are left out of that segment's cells (they form no group).
    """
    r = _responses(audit)
    w = "weight" if "weight" in r.columns else None
    mb = audit.config.min_base
    rows: list[dict[str, Any]] = []
    for m in HEADLINE:
        if m not in r.columns or not r[m].notna().any():
            continue
        rows += _rows(metric_table(r, m, weight=w, min_base=mb, **_kw(audit, m)), m, "overall", None)  # type: ignore[arg-type]
        for seg in audit.config.segments:
            if seg not in r.columns:
                continue
            keyed = r.assign(**{seg: segment_keys(r[seg])})
            keyed = keyed[keyed[seg] != NOT_STATED]
            if len(keyed):
                rows += _rows(metric_table(keyed, m, by=[seg], weight=w, min_base=mb,  # type: ignore[arg-type]
                                           **_kw(audit, m)), m, seg, seg)
    sc = audit.config.scales.touchpoint
    for tp in audit.touchpoint_columns:
        if not r[tp].notna().any():
            continue
        tab = metric_table(r, "ces", column=tp, weight=w, min_base=mb, scale=sc.max, scale_min=sc.min)
        rows += _rows(tab, "touchpoint", "touchpoint", None)
        rows[-1]["group"] = tp
    return pd.DataFrame(rows, columns=_CELL_COLUMNS)


def _test(metric: str, a: Mapping[str, Any], b: Mapping[str, Any]) -> tuple[float, float, float, float]:
    """(diff a − b, se, statistic, p) for two cells of :func:`wave_cells`."""
    if metric in ("nps", "csat"):
        return two_sample_test(metric, a, b)
    diff, se, t_, _, p = welch_t_test(a["value"], a["sd"], a["n"], b["value"], b["sd"], b["n"])
    return float(diff), float(se), float(t_), float(p)


def compare_cells(later: pd.DataFrame, earlier: pd.DataFrame, *, min_base: int = 30,
                  alpha: float = ALPHA) -> pd.DataFrame:
    """Test every cell present in both waves (later − earlier), Holm over all tested cells.

    Returns one row per cell of either wave: ``metric, cut, group, n_a, value_a, …, n_b, value_b, …,
    diff, se, stat, p_value, p_holm, significant, direction`` (``up`` / ``down`` / ``""``) and
    ``comparable``: ``"yes"``, ``"only_earlier"`` / ``"only_later"`` (not asked or no such group in
    the other wave) or ``"small_base"`` (a base below ``min_base``: shown, not tested). CSAT
    differences are in percentage points, NPS in points, means on their scale.
    """
    key = ["metric", "cut", "group"]
    m = later.merge(earlier, on=key, how="outer", suffixes=("_a", "_b"), indicator=True)
    m["comparable"] = m["_merge"].astype(str).map({"both": "yes", "left_only": "only_later",
                                                    "right_only": "only_earlier"}).astype(object)
    m = m.drop(columns="_merge")
    small = (m["comparable"] == "yes") & ((m["n_a"] < max(min_base, 2)) | (m["n_b"] < max(min_base, 2)))
    m.loc[small, "comparable"] = "small_base"
    for c in ("diff", "se", "stat", "p_value"):
        m[c] = np.nan
    for i in np.flatnonzero((m["comparable"] == "yes").to_numpy()):
        row = m.iloc[i]
        a = {k: row[f"{k}_a"] for k in ("n", "value", "promoters", "detractors", "sd")}
        b = {k: row[f"{k}_b"] for k in ("n", "value", "promoters", "detractors", "sd")}
        m.iloc[i, m.columns.get_indexer(["diff", "se", "stat", "p_value"])] = _test(row["metric"], a, b)
    m["p_holm"] = holm(m["p_value"].to_numpy(float))
    m["significant"] = (m["p_holm"] < alpha).fillna(False).astype(bool)
    m["direction"] = np.where(m["significant"] & (m["diff"] > 0), "up",
                              np.where(m["significant"] & (m["diff"] < 0), "down", ""))
    order = {"nps": 0, "csat": 1, "ces": 2, "touchpoint": 3}
    m["_o"] = m["metric"].map(order)
    m["_c"] = (m["cut"] != "overall").astype(int)
    return m.sort_values(["_o", "_c", "cut", "group"]).drop(columns=["_o", "_c"]).reset_index(drop=True)


def comparisons(cells: Mapping[str, pd.DataFrame], *, min_base: int = 30) -> dict[tuple[str, str], pd.DataFrame]:
    """Wave-over-wave comparisons (each wave against the one before) and each later wave against the
    baseline (the first): ``{(later, earlier): compare_cells(...)}``."""
    names = list(cells)
    out: dict[tuple[str, str], pd.DataFrame] = {}
    for i in range(1, len(names)):
        out[(names[i], names[i - 1])] = compare_cells(cells[names[i]], cells[names[i - 1]], min_base=min_base)
        if i > 1:
            out[(names[i], names[0])] = compare_cells(cells[names[i]], cells[names[0]], min_base=min_base)
    return out


# --- key drivers -------------------------------------------------------------------------------------


def driver_shifts(audits: Mapping[str, Audit], *, outcome: str = "nps", method: str = "relative_weights",
                  top: int = 3) -> pd.DataFrame:
    """Relative importance of the touchpoints for ``outcome`` in each wave (Johnson's relative weights
    by default, :func:`cxaudit.drivers.relative_importance`) on the touchpoints rated in every wave.

    Returns ``touchpoint, <wave>_share, <wave>_rank`` for each wave, ``shift`` (share in the last wave −
    the first, in points of the explained variance) and ``key_in`` (the waves in which it is among the
    ``top`` drivers). The share itself is descriptive (its sampling error is not tested); whether each
    touchpoint's correlation with the outcome changed between the first and last wave is tested
    (:func:`correlation_shifts`: ``r_first, r_last, p_value, p_holm, significant``).
    """
    from .drivers import relative_importance

    resp = {w: _responses(a) for w, a in audits.items()}
    common = sorted(set.intersection(*[set(a.touchpoint_columns) for a in audits.values()]))
    if not common or any(outcome not in r.columns for r in resp.values()):
        return pd.DataFrame(columns=["touchpoint"])
    out = pd.DataFrame({"touchpoint": common})
    for w, r in resp.items():
        res = relative_importance(r, outcome, common, method=method)  # type: ignore[arg-type]
        s = res["share"].reindex(common).astype(float)
        out[f"{w}_share"] = s.to_numpy()
        out[f"{w}_rank"] = s.rank(ascending=False, method="min").astype(int).to_numpy()
    names = list(resp)
    out["shift"] = out[f"{names[-1]}_share"] - out[f"{names[0]}_share"]
    out["key_in"] = [", ".join(w for w in names if row[f"{w}_rank"] <= top) for _, row in out.iterrows()]
    out = out.merge(correlation_shifts(resp[names[0]], resp[names[-1]], outcome, common), on="touchpoint")
    return out.sort_values(f"{names[-1]}_share", ascending=False).reset_index(drop=True)


def correlation_shifts(first: pd.DataFrame, last: pd.DataFrame, outcome: str,
                       touchpoints: Sequence[str]) -> pd.DataFrame:
    """Has each touchpoint's link with the outcome changed? Pearson's r of the touchpoint rating with
    ``outcome`` in each of two independent waves (pairwise complete answers), compared with Fisher's z:
    z = (atanh r₁ − atanh r₀) / √(1/(n₁ − 3) + 1/(n₀ − 3)), two-sided, Holm over the touchpoints
    (Fisher 1921; Cohen, Cohen, West & Aiken 2003, §2.8.2; Holm 1979).

    This tests the bivariate correlation, not the relative-weight share (whose sampling error has no
    closed form); a shift of the share without a significant change of r is descriptive.

    Returns ``touchpoint, r_first, n_first, r_last, n_last, z, p_value, p_holm, significant``
    (r NaN and no test when either wave has fewer than 4 answers or no variation).
    """
    rows = []
    for tp in touchpoints:
        rec: dict[str, Any] = {"touchpoint": tp}
        for tag, frame in (("first", first), ("last", last)):
            xy = frame[[tp, outcome]].apply(pd.to_numeric, errors="coerce").dropna()
            ok = len(xy) >= 4 and xy[tp].nunique() > 1 and xy[outcome].nunique() > 1
            rec[f"r_{tag}"] = float(np.corrcoef(xy[tp], xy[outcome])[0, 1]) if ok else np.nan
            rec[f"n_{tag}"] = len(xy)
        if np.isfinite(rec["r_first"]) and np.isfinite(rec["r_last"]):
            se = math.sqrt(1 / (rec["n_last"] - 3) + 1 / (rec["n_first"] - 3))
            rec["z"] = (math.atanh(min(rec["r_last"], 0.999999)) - math.atanh(min(rec["r_first"], 0.999999))) / se
            rec["p_value"] = float(2 * sps.norm.sf(abs(rec["z"])))
        else:
            rec["z"] = rec["p_value"] = np.nan
        rows.append(rec)
    out = pd.DataFrame(rows, columns=["touchpoint", "r_first", "n_first", "r_last", "n_last", "z", "p_value"])
    tested = out["p_value"].notna()
    out["p_holm"] = np.nan
    if tested.any():
        out.loc[tested, "p_holm"] = holm(out.loc[tested, "p_value"].to_numpy())
    out["significant"] = out["p_holm"].fillna(1.0) < ALPHA
    return out


# --- recommendations ---------------------------------------------------------------------------------

#: Metrics of the measurement plan the waves measure (others get the status ``not_measured``).
MEASURED_METRICS = frozenset({"touchpoint_rating", "nps", "csat", "ces", "segment_nps", "churn_rate", "detractor_churn",
                              "churn_reason_share", "theme_share", "theme_share_low_raters", "enps",
                              "motivation_index", "cx_kpi_weight", "first_response"})

#: Metrics of the measurement plan for which lower is better.
LOWER_IS_BETTER = frozenset({"detractor_churn", "churn_rate", "theme_share", "first_response", "churn_reason_share",
                             "ticket_trend", "data_quality", "theme_share_low_raters", "step_wait", "rework_share",
                             "segment_revenue_at_risk"})


@dataclass
class RecStatus:
    """One baseline recommendation measured in a later wave."""

    rec_id: str
    rank: int
    metric: str
    where: str
    status: str
    baseline: float | None = None
    baseline_n: float | None = None
    baseline_ci: tuple[float, float] | None = None
    latest: float | None = None
    latest_n: float | None = None
    latest_ci: tuple[float, float] | None = None
    target: float | None = None
    diff: float | None = None
    p_value: float | None = None
    p_holm: float | None = None
    test: str = ""
    unit: str = ""
    reason: str = ""
    texts: dict[str, dict[str, str]] = field(default_factory=dict)


def _mean_cell(x: pd.Series) -> dict[str, float] | None:
    x = pd.to_numeric(x, errors="coerce").dropna().astype(float)
    if len(x) < 2:
        return None
    m, sd, n = float(x.mean()), float(x.std(ddof=1)), float(len(x))
    half = float(sps.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return {"value": m, "sd": sd, "n": n, "ci_low": m - half, "ci_high": m + half}


def _share_cell(k: float, n: float) -> dict[str, float] | None:
    if n <= 0:
        return None
    p = k / n
    z = Z95
    den = 1 + z * z / n
    c = (p + z * z / (2 * n)) / den
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return {"value": p, "n": n, "k": k, "ci_low": c - h, "ci_high": c + h}


def _two_prop(a: Mapping[str, float], b: Mapping[str, float]) -> tuple[float, float]:
    from statsmodels.stats.proportion import proportions_ztest

    if a["k"] + b["k"] == 0 or a["k"] + b["k"] == a["n"] + b["n"]:
        return 0.0, 1.0
    z, p = proportions_ztest([a["k"], b["k"]], [a["n"], b["n"]])
    return float(z), float(p)


def _cell_of(cells: pd.DataFrame, metric: str, cut: str, group: str) -> dict[str, float] | None:
    hit = cells[(cells["metric"] == metric) & (cells["cut"] == cut) & (cells["group"] == group)]
    return None if hit.empty else hit.iloc[0].to_dict()


def _measure(rec: Any, audit: Audit, cells: pd.DataFrame) -> tuple[dict[str, float] | None, str, str]:
    """(cell, test kind, where) of a recommendation's metric in one wave; cell None = not measurable."""
    m = rec.measure.get("metric", "")
    tags = rec.tags or {}
    if m == "touchpoint_rating":
        tp = (tags.get("touchpoints") or [""])[0]
        return _cell_of(cells, "touchpoint", "touchpoint", tp), "welch", tp
    if m in ("nps", "csat", "ces"):
        return _cell_of(cells, m, "overall", "all"), {"nps": "nps_z", "csat": "two_prop", "ces": "welch"}[m], ""
    if m == "segment_nps":
        for s in tags.get("segments") or []:
            if "=" in s:
                col, val = s.split("=", 1)
                if col in audit.config.segments:
                    return _cell_of(cells, "nps", col, val), "nps_z", s
        return None, "", ""
    from .audit import in_memory

    if m in ("churn_rate", "detractor_churn", "churn_reason_share") and in_memory(audit, "customers"):
        c = audit.table("customers")
        churned = pd.to_numeric(c.get("churned"), errors="coerce").fillna(0).astype(bool)
        if m == "churn_rate":
            return _share_cell(float(churned.sum()), float(len(c))), "two_prop", ""
        if m == "churn_reason_share" and "churn_reason" in c.columns:
            where = (tags.get("reasons") or [""])[0]
            reasons = c.loc[churned, "churn_reason"].astype(str)
            hit = reasons.map(lambda x: _slug(x) == _slug(where))
            return _share_cell(float(hit.sum()), float(len(reasons))), "two_prop", where
        if m == "detractor_churn" and audit.has("responses") and "customer_id" in c.columns:
            from .tickets import customer_nps_groups

            groups = customer_nps_groups(audit.responses)
            g = c["customer_id"].map(groups)
            det = g.eq("detractor").fillna(False).to_numpy(bool)
            return _share_cell(float(churned[det].sum()), float(det.sum())), "two_prop", ""
    if m == "theme_share" and audit.has("responses") and "comment" in audit.responses.columns:
        theme = (tags.get("themes") or [""])[0]
        coded = _theme_matrix(audit)
        if coded is not None and theme in coded.columns:
            return _share_cell(float(coded[theme].sum()), float(len(coded))), "two_prop", theme
        return None, "", ""
    if m == "theme_share_low_raters" and audit.has("responses") and "comment" in audit.responses.columns:
        theme = (tags.get("themes") or [""])[0]
        tp = (tags.get("touchpoints") or [""])[0]
        coded = _theme_matrix(audit)
        r = audit.responses
        if coded is not None and theme in coded.columns and tp in r.columns:
            sc = audit.config.scales.touchpoint
            low = pd.to_numeric(r.loc[coded.index, tp], errors="coerce") <= sc.min + 1  # the bottom two boxes
            sub = coded.loc[low.fillna(False).to_numpy(bool), theme]
            return _share_cell(float(sub.sum()), float(len(sub))), "two_prop", f"{tp}:{theme}"
        return None, "", ""
    if m in ("enps", "motivation_index") and audit.has("employees"):
        e = audit.table("employees")
        dep = (tags.get("departments") or [""])[0]
        sub = e[e["department"].astype(str) == dep] if dep else e
        if m == "enps" and "enps" in sub.columns:
            return _mean_cell(sub["enps"]), "welch", dep
        items = [c for c in sub.columns if str(c).startswith("mot_")]
        if items:
            return _mean_cell(sub[items].apply(pd.to_numeric, errors="coerce").mean(axis=1)), "welch", dep
    if m == "cx_kpi_weight" and audit.has("kpis"):
        k = audit.table("kpis")
        dep = (tags.get("departments") or [""])[0]
        sub = k[k["department"].astype(str) == dep]
        if len(sub):
            cm = sub["is_customer_metric"].astype(str).str.lower().isin(["true", "1", "yes"])
            val = 100 * float(pd.to_numeric(sub.loc[cm, "weight"], errors="coerce").sum())
            return {"value": val, "n": float(len(sub)), "ci_low": val, "ci_high": val}, "exact", dep
    if m == "first_response" and audit.has("tickets"):
        from .tickets import _canonical_channel, prepare

        tk = prepare(audit.table("tickets"))
        ch = (tags.get("channels") or [""])[0]
        x = tk.loc[tk["channel"].map(lambda v: _canonical_channel(str(v))) == _canonical_channel(ch),
                   "first_response_h"].dropna()
        if len(x) >= 2:
            return {"value": float(x.median()), "n": float(len(x)), "ci_low": float("nan"), "ci_high": float("nan"),
                    "sample": x.to_numpy(float)}, "mann_whitney", ch
    return None, "", ""


def _slug(x: str) -> str:
    """A reason as the churn section tags it: lower case, runs of other characters as ``_``."""
    import re

    return re.sub(r"[^0-9a-zа-яёąćęłńóśźż]+", "_", str(x).strip().lower()).strip("_")


_THEME_CACHE: dict[int, pd.DataFrame | None] = {}


def _theme_matrix(audit: Audit) -> pd.DataFrame | None:
    """Themes of the non-empty comments of a wave (the client's codeframe.yaml, else the built-in one), one
    bool column per theme; computed once per Audit object."""
    key = id(audit)
    if key not in _THEME_CACHE:
        from .text import code_comments, default_codeframe, load_codeframe

        c = audit.responses["comment"]
        c = c[c.notna() & c.astype(str).str.strip().ne("")].astype(str)
        if c.empty:
            _THEME_CACHE[key] = None
        else:
            f = Path(audit.dir) / "codeframe.yaml"
            cf = load_codeframe(f) if f.is_file() else default_codeframe()
            _THEME_CACHE[key] = code_comments(c, cf).matrix
    return _THEME_CACHE[key]


def _compare(kind: str, a: Mapping[str, Any], b: Mapping[str, Any]) -> tuple[float, float]:
    """(difference a − b, p) for a recommendation's test kind."""
    if kind == "nps_z":
        diff, _, _, p = two_sample_test("nps", a, b)
        return diff, p
    if kind == "two_prop":
        if "k" not in a:  # a CSAT cell of wave_cells
            diff, _, _, p = two_sample_test("csat", a, b)
            return diff / 100, p
        return float(a["value"] - b["value"]), _two_prop(a, b)[1]
    if kind == "welch":
        d_, _, _, _, p_ = welch_t_test(a["value"], a["sd"], a["n"], b["value"], b["sd"], b["n"])
        return float(d_), float(p_)
    if kind == "mann_whitney":
        p = float(sps.mannwhitneyu(a["sample"], b["sample"], alternative="two-sided").pvalue)
        return a["value"] - b["value"], p
    if kind == "exact":
        return a["value"] - b["value"], 0.0 if a["value"] != b["value"] else 1.0
    raise ValueError(f"unknown test {kind!r}")


_TEST_NAMES = {"nps_z": "nps_z", "two_prop": "two_prop", "welch": "welch", "mann_whitney": "mann_whitney",
               "exact": "exact"}


def _target(rec: Any, journey: pd.DataFrame | None, tg: Any) -> float | None:
    m = rec.measure.get("metric", "")
    if m == "touchpoint_rating" and journey is not None and len(journey):
        tp = (rec.tags.get("touchpoints") or [""])[0]
        hit = journey[journey["touchpoint"] == tp]
        return float(hit["target"].iloc[0]) if len(hit) and pd.notna(hit["target"].iloc[0]) else None
    if m == "nps" and tg is not None and tg.nps_to_be is not None:
        return float(tg.nps_to_be)
    if m == "csat" and tg is not None and tg.csat_to_be is not None:
        return float(tg.csat_to_be) / 100
    t_ = rec.measure.get("target")
    if t_ is None:
        return None
    if m == "cx_kpi_weight":
        return float(t_)
    if m in ("theme_share", "churn_reason_share"):  # % of comments / of churned customers: the same definition
        return float(t_) / 100
    if m == "ces":
        return float(t_)
    return None  # other targets are on the AS-IS section's own definition; judged on the test alone


def recommendation_status(recs: Sequence[Any], audits: Mapping[str, Audit], cells: Mapping[str, pd.DataFrame], *,
                          journey: pd.DataFrame | None = None, targets: Any = None,
                          alpha: float = ALPHA) -> list[RecStatus]:
    """Each baseline recommendation's status in the latest wave against the baseline (first wave).

    See the module docstring for the rules; Holm over the recommendations that could be tested.
    """
    names = list(audits)
    base_w, last_w = names[0], names[-1]
    _THEME_CACHE.clear()
    out: list[RecStatus] = []
    pairs: list[tuple[RecStatus, str, dict[str, Any], dict[str, Any]]] = []
    for rec in recs:
        m = rec.measure.get("metric", "")
        b, kind, where = _measure(rec, audits[base_w], cells[base_w])
        a, _, _ = _measure(rec, audits[last_w], cells[last_w])
        st = RecStatus(rec.id, rec.rank, m, where, "not_measured", unit=rec.measure.get("unit") or "",
                       texts={lang: {"title": v.get("title", "")} for lang, v in (rec.texts or {}).items()})
        if b is None or a is None:
            st.reason = "no_data" if b is None else "not_in_latest"
            out.append(st)
            continue
        st.baseline, st.baseline_n = float(b["value"]), float(b["n"])
        st.latest, st.latest_n = float(a["value"]), float(a["n"])
        if np.isfinite(b.get("ci_low", np.nan)):
            st.baseline_ci = (float(b["ci_low"]), float(b["ci_high"]))
        if np.isfinite(a.get("ci_low", np.nan)):
            st.latest_ci = (float(a["ci_low"]), float(a["ci_high"]))
        st.target = _target(rec, journey, targets)
        st.diff, st.p_value = _compare(kind, a, b)
        st.test = _TEST_NAMES[kind]
        pairs.append((st, kind, a, b))
        out.append(st)
    _THEME_CACHE.clear()
    ph = holm([float(st.p_value) for st, _, _, _ in pairs if st.test != "exact" and st.p_value is not None]) \
        if pairs else np.array([])
    i = 0
    for st, kind, _, _ in pairs:
        if kind == "exact":
            st.p_holm = st.p_value
        else:
            st.p_holm = float(ph[i])
            i += 1
        better = -1.0 if st.metric in LOWER_IS_BETTER else 1.0
        sig = st.p_holm is not None and st.p_holm < alpha
        improved = sig and (st.diff or 0) * better > 0
        if sig and not improved:
            st.status = "worse"
        elif not sig:
            st.status = "not_yet"
        elif st.target is None or (st.latest - st.target) * better >= 0:  # type: ignore[operator]
            st.status = "achieved"
        else:
            st.status = "on_track"
    return out


# --- revenue -----------------------------------------------------------------------------------------


def revenue_realised(targets: Any, first: Mapping[str, Any] | None, last: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The business case against what the detractor share did (module docstring).

    ``first`` / ``last``: the overall NPS cells (:func:`wave_cells`) of the baseline and the latest wave.
    Returns ``planned, planned_ci, realised, realised_ci, move_planned, move_observed, d_first, d_last,
    currency`` or None when the plan has no revenue case or either wave has no NPS.
    """
    if targets is None or targets.uplift is None or first is None or last is None:
        return None
    d0, d1, n0, n1 = first["detractors"], last["detractors"], first["n"], last["n"]
    if not d0 or d0 <= 0:
        return None
    move = (d0 - d1) / d0
    se = math.sqrt(d0 * (1 - d0) / n0 + d1 * (1 - d1) / n1) / d0
    g = targets.gap_share
    real = targets.uplift * move * g
    return {"planned": targets.revenue_kept, "planned_ci": targets.revenue_kept_ci,
            "realised": real, "realised_ci": (targets.uplift * (move - Z95 * se) * g,
                                              targets.uplift * (move + Z95 * se) * g),
            "move_planned": targets.detractor_move, "move_observed": move, "move_ci": (move - Z95 * se, move + Z95 * se),
            "d_first": d0, "d_last": d1, "currency": targets.currency, "months": targets.revenue_months}


# --- everything --------------------------------------------------------------------------------------


@dataclass
class TrackResult:
    """The whole tracking analysis of a client's waves (baseline first)."""

    waves: list[str]
    cells: dict[str, pd.DataFrame]
    comparisons: dict[tuple[str, str], pd.DataFrame]
    drivers: pd.DataFrame
    statuses: list[RecStatus]
    revenue: dict[str, Any] | None
    not_comparable: pd.DataFrame
    periods: dict[str, tuple[str, str] | None]
    loop: pd.DataFrame | None = None


def _period(audit: Audit) -> tuple[str, str] | None:
    if not audit.has("responses") or "date" not in audit.responses.columns:
        return None
    d = pd.to_datetime(audit.responses["date"], errors="coerce").dropna()
    return (d.min().date().isoformat(), d.max().date().isoformat()) if len(d) else None


def analyse(audits: Mapping[str, Audit], *, tobe: Mapping[str, Any] | None = None,
            findings: Sequence[Any] = (), with_drivers: bool = True) -> TrackResult:
    """Run every tracking analysis on ``audits`` ({wave: Audit}, baseline first).

    ``tobe`` is the baseline run's :func:`cxaudit.recommend.read_tobe` (recommendations and targets),
    ``findings`` its findings (for the TO-BE journey map's touchpoint targets).
    """
    if len(audits) < 2:
        from .errors import CxauditError

        raise CxauditError(f"tracking needs at least two waves; found {len(audits)} ({', '.join(audits) or 'none'})")
    names = list(audits)
    first = audits[names[0]]
    cells = {w: wave_cells(a) for w, a in audits.items()}
    comps = comparisons(cells, min_base=first.config.min_base)
    drivers = driver_shifts(audits) if with_drivers else pd.DataFrame(columns=["touchpoint"])
    statuses: list[RecStatus] = []
    revenue = None
    if tobe:
        from .recommend import journey_map, rulebook

        recs = tobe.get("recommendations") or []
        jm = None
        if first.has("responses"):
            book = rulebook(first.dir, first.config)
            jm = journey_map(recs, list(findings), touchpoints=first.tables.get("touchpoints"),
                             ratings=first.responses, lang=first.language, assumptions=book.assumptions)
        statuses = recommendation_status(recs, audits, cells, journey=jm, targets=tobe.get("targets"))
        revenue = revenue_realised(tobe.get("targets"), _cell_of(cells[names[0]], "nps", "overall", "all"),
                                   _cell_of(cells[names[-1]], "nps", "overall", "all"))
    nc = []
    for (a, b), tab in comps.items():
        if not _consecutive(names, a, b):
            continue
        bad = tab[tab["comparable"].isin(["only_later", "only_earlier"])]
        for _, r in bad.iterrows():
            nc.append({"later": a, "earlier": b, "metric": r["metric"], "cut": r["cut"], "group": r["group"],
                       "reason": r["comparable"]})
    return TrackResult(names, cells, comps, drivers, statuses, revenue,
                       pd.DataFrame(nc, columns=["later", "earlier", "metric", "cut", "group", "reason"]),
                       {w: _period(a) for w, a in audits.items()})


def _consecutive(names: list[str], a: str, b: str) -> bool:
    return names.index(a) == names.index(b) + 1


# --- presentation: display blocks (HTML strings and PNG figures) ---------------------------------------

_METRIC_KEYS = {"nps": "track.metric_nps", "csat": "track.metric_csat", "ces": "track.metric_ces",
                "touchpoint": "track.metric_touchpoint"}
_STATUS_KEYS = {"achieved": "track.status_achieved", "on_track": "track.status_on_track",
                "not_yet": "track.status_not_yet", "worse": "track.status_worse",
                "not_measured": "track.status_not_measured"}
_TEST_KEYS = {"nps_z": "track.test_nps_z", "two_prop": "track.test_two_prop", "welch": "track.test_welch",
              "mann_whitney": "track.test_mann_whitney", "exact": "track.test_exact"}
_REASON_KEYS = {"only_later": "track.nc_only_later", "only_earlier": "track.nc_only_earlier"}


@dataclass
class Labels:
    """Client-facing names: touchpoint labels, segment column names, value labels."""

    touchpoints: dict[str, str] = field(default_factory=dict)
    segments: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_audit(cls, audit: Audit) -> Labels:
        tps: dict[str, str] = {}
        if audit.has("touchpoints"):
            tp = audit.table("touchpoints")
            for _, r in tp.iterrows():
                key = str(r["touchpoint"])
                lab = r.get("label")
                name = str(lab) if isinstance(lab, str) and lab.strip() else key
                tps[key] = name
                tps.setdefault(key if key.startswith("tp_") else f"tp_{key}", name)
        return cls(tps, {s: audit.segment_label(s) for s in audit.config.segments})


def _fmt_value(metric: str, x: float | None, lang: str) -> str:
    from .i18n import fmt_num, fmt_pct

    if x is None or not np.isfinite(x):
        return "–"
    if metric == "nps":
        return fmt_num(x, lang, 1, sign=True)
    if metric == "csat":
        return fmt_pct(x, lang, 1)
    return fmt_num(x, lang, 2)


def _fmt_ci(metric: str, lo: float | None, hi: float | None, lang: str) -> str:
    from .i18n import fmt_ci

    if lo is None or hi is None or not (np.isfinite(lo) and np.isfinite(hi)):
        return ""
    if metric == "csat":
        return fmt_ci(lo, hi, lang, 1, scale=100)
    return fmt_ci(lo, hi, lang, 1 if metric == "nps" else 2)


def _fmt_diff(metric: str, d: float | None, lang: str) -> str:
    from .i18n import fmt_num, t

    if d is None or not np.isfinite(d):
        return "–"
    if metric == "nps":
        return fmt_num(d, lang, 1, sign=True)
    if metric == "csat":
        return fmt_num(d, lang, 1, sign=True) + " " + t("track.unit_pp", lang)
    return fmt_num(d, lang, 2, sign=True)


def _fmt_p(p: float | None, lang: str) -> str:
    from .i18n import fmt_p

    return fmt_p(p, lang)


def _group_name(cut: str, group: str, labels: Labels, lang: str) -> tuple[str, str]:
    from .i18n import t

    if cut == "overall":
        return t("track.cut_overall", lang), ""
    if cut == "touchpoint":
        return t("track.cut_touchpoint", lang), labels.touchpoints.get(group, group)
    return labels.segments.get(cut, cut), group


def _cell_html(c: str | tuple[str, str]) -> str:
    """A table cell: text, or (value, interval line) shown as the value with the interval under it."""
    from .show import escape

    if isinstance(c, tuple):
        return f'{escape(c[0])}<br><span class="cx-ci">{escape(c[1])}</span>' if c[1] else escape(c[0])
    return escape(c)


def _table(head: Sequence[str], rows: Sequence[Sequence[Any]], num: Sequence[bool], *,
           row_class: Sequence[str] | None = None) -> str:
    from .show import escape

    th = "".join(f'<th class="{"cx-num" if n else "cx-txt"}">{escape(h)}</th>' for h, n in zip(head, num, strict=True))
    body = []
    for i, r in enumerate(rows):
        cls = ' style="font-weight: bold"' if row_class and row_class[i] == "cx-sig" else ""
        tds = "".join(f'<td class="{"cx-num" if n else "cx-txt"}">{_cell_html(c)}</td>' for c, n in zip(r, num, strict=True))
        body.append(f"<tr{cls}>{tds}</tr>")
    return f'<table class="cx-table"><thead><tr>{th}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _cell_text(metric: str, row: Mapping[str, Any], sfx: str, lang: str) -> str | tuple[str, str]:
    from .i18n import fmt_int

    if not np.isfinite(row.get(f"n{sfx}", np.nan)):
        return "–"
    ci = _fmt_ci(metric, row.get(f"ci_low{sfx}"), row.get(f"ci_high{sfx}"), lang)
    return (_fmt_value(metric, row[f"value{sfx}"], lang), f"{ci} n = {fmt_int(row[f'n{sfx}'], lang)}".strip())


def figure_headline(res: TrackResult, lang: str) -> Any:
    """One panel per headline metric: the value of each wave with its 95% interval."""
    import matplotlib.pyplot as plt

    from .i18n import t
    from .plots import PALETTE

    metrics = [m for m in HEADLINE if any(((c["metric"] == m) & (c["cut"] == "overall")).any() for c in res.cells.values())]
    fig, axes = plt.subplots(1, max(len(metrics), 1), figsize=(7.5, 2.8), squeeze=False)
    for ax, m in zip(axes[0], metrics, strict=False):
        xs, ys, lo, hi = [], [], [], []
        for i, w in enumerate(res.waves):
            c = _cell_of(res.cells[w], m, "overall", "all")
            if c is None:
                continue
            k = 100 if m == "csat" else 1
            xs.append(i)
            ys.append(c["value"] * k)
            lo.append((c["value"] - c["ci_low"]) * k)
            hi.append((c["ci_high"] - c["value"]) * k)
        ax.errorbar(xs, ys, yerr=[lo, hi], fmt="o-", color=PALETTE["main"], capsize=4, lw=1.5)
        ax.set_xticks(range(len(res.waves)), res.waves, fontsize=8)
        ax.set_title(t(_METRIC_KEYS[m], lang) + (", %" if m == "csat" else ""), fontsize=10)
        ax.margins(x=0.2)
    fig.tight_layout()
    return fig


def _png(fig: Any) -> str:
    import base64
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def blocks_track(res: TrackResult, lang: str, labels: Labels, *, has_baseline_run: bool = True,
                 loop: Mapping[str, Any] | None = None) -> list[dict[str, str]]:
    """The tracking report's outputs in order: ``{"text/html": ...}`` or ``{"image/png": base64}``.

    Every label comes from the ``track`` catalog; every value from the data is escaped.
    """
    from .i18n import fmt_date, fmt_int, fmt_num, fmt_pct, t
    from .show import escape

    out: list[dict[str, str]] = []

    def html(s: str) -> None:
        out.append({"text/html": s})

    def h2(key: str) -> None:
        from .show import heading

        html(heading(t(key, lang), "track").data)

    def para(s: str, cls: str = "cx-text") -> None:
        html(f'<p class="{cls}">{escape(s)}</p>')

    html(f'<h1 class="cx-section" id="sec-track">{escape(t("section.track", lang))}</h1>')
    para(t("track.intro", lang, n=len(res.waves), baseline=res.waves[0], latest=res.waves[-1]))

    # waves
    h2("track.h_waves")
    rows: list[list[Any]] = []
    for w in res.waves:
        c = res.cells[w]
        nrow = c[(c["cut"] == "overall") & (c["metric"] == "nps")]
        p = res.periods.get(w)
        rows.append([w, f"{fmt_date(p[0], lang)} – {fmt_date(p[1], lang)}" if p else "–",
                     fmt_int(float(nrow["n"].iloc[0]), lang) if len(nrow) else "–"])
    html(_table([t("track.col_wave", lang), t("track.col_period", lang), t("track.col_n_nps", lang)], rows,
                [False, False, True]))

    # headline metrics
    h2("track.h_headline")
    head = [t("track.col_metric", lang)] + list(res.waves)
    rows = []
    for m in HEADLINE:
        hl: list[Any] = [t(_METRIC_KEYS[m], lang)]
        any_ = False
        for w in res.waves:
            c = _cell_of(res.cells[w], m, "overall", "all")
            if c is None:
                hl.append(t("track.not_asked", lang))
                continue
            any_ = True
            hl.append((_fmt_value(m, c["value"], lang),
                      f"{_fmt_ci(m, c['ci_low'], c['ci_high'], lang)} n = {fmt_int(c['n'], lang)}"))
        if any_:
            rows.append(hl)
    html(_table(head, rows, [False] + [True] * len(res.waves)))
    out.append({"image/png": _png(figure_headline(res, lang))})
    para(t("track.headline_note", lang), "cx-note")

    # wave-over-wave tests
    h2("track.h_changes")
    para(t("track.changes_intro", lang))
    for (a, b), tab in res.comparisons.items():
        tested = tab[tab["comparable"] == "yes"]
        sig = tested[tested["significant"]]
        html(f'<h3 class="cx-sub3">{escape(t("track.pair", lang, later=a, earlier=b))}</h3>')
        show = tab[(tab["cut"] == "overall") | tab["significant"]]
        rows, cls = [], []
        for _, r in show.iterrows():
            cut, grp = _group_name(r["cut"], r["group"], labels, lang)
            mk = r["metric"]
            arrow = {"up": t("track.dir_up", lang), "down": t("track.dir_down", lang)}.get(r["direction"], "")
            rows.append([t(_METRIC_KEYS[mk], lang), f"{cut}: {grp}" if grp else cut, _cell_text(mk, r, "_b", lang),
                         _cell_text(mk, r, "_a", lang), _fmt_diff(mk, r["diff"], lang), _fmt_p(r["p_holm"], lang),
                         arrow if r["comparable"] == "yes" else t(_REASON_KEYS.get(r["comparable"],
                                                                                  "track.nc_small_base"), lang)])
            cls.append("cx-sig" if r["significant"] else "")
        html(_table([t("track.col_metric", lang), t("track.col_cut", lang), b, a,
                     t("track.col_diff", lang), t("track.col_p_holm", lang), t("track.col_change", lang)], rows,
                    [False, False, True, True, True, True, False], row_class=cls))
        para(t("track.family_note", lang, tested=len(tested), sig=len(sig),
               untested=int((tab["comparable"] != "yes").sum())), "cx-note")

    # not comparable
    h2("track.h_not_comparable")
    if len(res.not_comparable):
        rows = []
        for _, r in res.not_comparable.iterrows():
            cut, grp = _group_name(r["cut"], r["group"], labels, lang)
            rows.append([f"{r['earlier']} → {r['later']}", t(_METRIC_KEYS[r["metric"]], lang), cut, grp,
                         t(_REASON_KEYS[r["reason"]], lang)])
        html(_table([t("track.col_pair", lang), t("track.col_metric", lang), t("track.col_cut", lang),
                     t("track.col_group", lang), t("track.col_reason", lang)], rows, [False] * 5))
    else:
        para(t("track.all_comparable", lang))

    # drivers
    h2("track.h_drivers")
    if len(res.drivers) and f"{res.waves[0]}_share" in res.drivers.columns:
        rows = []
        for _, r in res.drivers.head(8).iterrows():
            rows.append([labels.touchpoints.get(r["touchpoint"], r["touchpoint"])]
                        + [f"{fmt_num(r[f'{w}_share'], lang, 1)} % (#{int(r[f'{w}_rank'])})" for w in res.waves]
                        + [fmt_num(r["shift"], lang, 1, sign=True)]
                        + ([f"{fmt_num(r['r_first'], lang, 2)} → {fmt_num(r['r_last'], lang, 2)}"
                            if np.isfinite(r["r_first"]) and np.isfinite(r["r_last"]) else "–",
                            _fmt_p(r["p_holm"], lang)] if "r_first" in r else []))
        extra = "r_first" in res.drivers.columns
        html(_table([t("track.col_touchpoint", lang)] + list(res.waves) + [t("track.col_shift", lang)]
                    + ([t("track.col_r_shift", lang, first=res.waves[0], last=res.waves[-1]),
                        t("track.col_p_holm", lang)] if extra else []), rows,
                    [False] + [True] * (len(res.waves) + 1 + (2 if extra else 0))))
        para(t("track.drivers_note", lang), "cx-note")
    else:
        para(t("track.no_drivers", lang))

    # recommendations
    h2("track.h_recs")
    if not has_baseline_run:
        para(t("track.no_baseline_run", lang))
    elif res.statuses:
        rows, cls = [], []
        for s in sorted(res.statuses, key=lambda s: s.rank):
            title = (s.texts.get(lang) or next(iter(s.texts.values()), {})).get("title", s.rec_id)
            mk = {"touchpoint_rating": "touchpoint", "nps": "nps", "segment_nps": "nps", "csat": "csat",
                  "ces": "ces"}.get(s.metric, "share" if s.metric in ("detractor_churn", "churn_rate",
                                                                         "churn_reason_share") else "num")
            def fv(x: float, mk: str = mk) -> str:
                return fmt_pct(x, lang, 1) if mk == "share" else _fmt_value(mk, x, lang)

            rows.append([f"{t('tobe.rec_prefix', lang)}{s.rank}", title,
                         fv(s.baseline) if s.baseline is not None else "–",
                         fv(s.latest) if s.latest is not None else "–",
                         fv(s.target) if s.target is not None else "–",
                         t(_TEST_KEYS[s.test], lang) if s.test else "–", _fmt_p(s.p_holm, lang),
                         t(_STATUS_KEYS[s.status], lang)])
            cls.append(f"cx-status-{s.status}")
        html(_table([t("track.col_rec", lang), t("track.col_title", lang), res.waves[0], res.waves[-1],
                     t("track.col_target", lang), t("track.col_test", lang), t("track.col_p_holm", lang),
                     t("track.col_status", lang)], rows, [False, False, True, True, True, False, True, False],
                    row_class=cls))
        counts = {k: sum(s.status == k for s in res.statuses) for k in STATUSES}
        para(t("track.status_rules", lang), "cx-note")
        para(t("track.status_counts", lang, achieved=counts["achieved"], on_track=counts["on_track"],
               not_yet=counts["not_yet"], worse=counts["worse"], not_measured=counts["not_measured"]))
    else:
        para(t("track.no_recs", lang))

    # revenue
    h2("track.h_revenue")
    rv = res.revenue
    if rv:
        money = lambda x: fmt_num(x, lang, 0) + " " + rv["currency"]  # noqa: E731
        rows = [[t("track.rev_planned", lang), fmt_pct(rv["move_planned"], lang, 0), money(rv["planned"]),
                 f"[{money(rv['planned_ci'][0])}; {money(rv['planned_ci'][1])}]" if rv["planned_ci"] else ""],
                [t("track.rev_realised", lang), fmt_pct(rv["move_observed"], lang, 0), money(rv["realised"]),
                 f"[{money(rv['realised_ci'][0])}; {money(rv['realised_ci'][1])}]"]]
        html(_table(["", t("track.col_move", lang), t("track.col_revenue", lang), t("track.col_ci", lang)], rows,
                    [False, True, True, True]))
        para(t("track.revenue_note", lang, d0=fmt_pct(rv["d_first"], lang, 1), d1=fmt_pct(rv["d_last"], lang, 1),
               w0=res.waves[0], w1=res.waves[-1]), "cx-note")
    else:
        para(t("track.no_revenue", lang))

    # loop closure
    h2("track.h_loop")
    if loop:
        rows = [[t(k, lang), v] for k, v in loop["rows"]]
        html(_table([t("track.col_kpi", lang), t("track.col_value", lang)], rows, [False, True]))
        para(t("track.loop_note", lang), "cx-note")
    else:
        para(t("track.no_loop", lang))

    # method
    h2("track.h_method")
    para(t("track.method", lang), "cx-note")
    return out


def track_findings(res: TrackResult, lang: str, labels: Labels) -> list[Any]:
    """Findings of the tracking report (the executive summary lists the top ones): every significant
    change of the latest wave against the baseline, overall and in the segments and touchpoints."""
    from .findings import Finding
    from .i18n import t

    base, last = res.waves[0], res.waves[-1]
    tab = res.comparisons.get((last, base))
    if tab is None:
        return []
    total = float(tab.loc[(tab["metric"] == "nps") & (tab["cut"] == "overall"), "n_a"].max() or 0) or None
    out = []
    for _, r in tab[tab["significant"]].iterrows():
        cut, grp = _group_name(r["cut"], r["group"], labels, lang)
        m = r["metric"]
        where = cut if r["cut"] == "overall" else f"{cut}: {grp}" if r["cut"] != "touchpoint" else grp
        a, b = _fmt_value(m, r["value_a"], lang), _fmt_value(m, r["value_b"], lang)
        key = "track.f_up" if r["direction"] == "up" else "track.f_down"
        title = t(key, lang, metric=t(_METRIC_KEYS[m], lang), where=where, earlier=base, later=last, a=a, b=b)
        reach = 1.0 if r["cut"] == "overall" or not total else min(float(r["n_a"]) / total, 1.0)
        k = 100 if m == "csat" and abs(r["diff"]) <= 1 else 1
        out.append(Finding(id=f"track.change.{m}.{r['cut']}.{r['group']}", section="track", title=title, metric=m,
                           value=float(r["diff"]) * k, n=int(r["n_a"]),
                           ci_low=float(r["diff"] - Z95 * r["se"]), ci_high=float(r["diff"] + Z95 * r["se"]),
                           severity=4 if r["direction"] == "down" else 2, reach=reach,
                           unit="pts" if m == "nps" else "",
                           evidence={"p_holm": float(r["p_holm"]), "earlier": base, "later": last,
                                     "value_a": float(r["value_a"]), "value_b": float(r["value_b"])},
                           tags={"segments": [f"{r['cut']}={r['group']}"]} if r["cut"] not in ("overall", "touchpoint")
                           else {"touchpoints": [r["group"]]} if r["cut"] == "touchpoint" else {}))
    return out


# --- the tracking deck ---------------------------------------------------------------------------------


def _rec_value(s: RecStatus, x: float | None, lang: str) -> str:
    from .i18n import fmt_pct

    if x is None:
        return "–"
    mk = {"touchpoint_rating": "touchpoint", "nps": "nps", "segment_nps": "nps", "csat": "csat",
          "ces": "ces"}.get(s.metric, "share" if s.metric in ("detractor_churn", "churn_rate",
                                                                 "churn_reason_share") else "num")
    return fmt_pct(x, lang, 1) if mk == "share" else _fmt_value(mk, x, lang)


def _fit_rows(rows: list[list[str]], head: Sequence[str], widths: Sequence[float], prs: Any) -> list[list[str]]:
    """The rows that fit one slide (the first piece of :func:`cxaudit.deck.split_rows`)."""
    from .deck import split_rows

    return split_rows(rows, head, widths, prs, 12, 10)[0] if rows else []


def build_track_deck(res: TrackResult, out: str | Path, lang: str, labels: Labels, *, client_name: str,
                     report_date: Any = None, template: str | Path | None = None,
                     has_baseline_run: bool = True) -> Path:
    """Write the tracking deck (``track.pptx``) with python-pptx through :mod:`cxaudit.deck`'s fitted
    text boxes and tables.

    Slides: a title slide; every headline metric per wave (value, 95 % interval, n); the significant
    wave-over-wave changes (consecutive waves, Holm); the baseline recommendations' statuses; revenue
    realised against the business case. Each content slide has a takeaway title. A table longer than
    a slide keeps its first rows (changes by Holm p, recommendations by rank) and the title says how many
    are shown.
    """
    from .deck import MARGIN, TITLE_H, content_slide, open_deck, table, text_box
    from .i18n import fmt_date, fmt_int, fmt_num, fmt_pct, t

    prs = open_deck(Path(template) if template else None)
    W = prs.slide_width
    base, last = res.waves[0], res.waves[-1]

    # 1 title
    slide = content_slide(prs, t("track.deck_title", lang))
    sub = [client_name, t("track.deck_subtitle", lang, n=len(res.waves), baseline=base, latest=last)]
    if report_date is not None:
        sub.append(fmt_date(report_date, lang))
    text_box(slide, MARGIN, MARGIN + TITLE_H + MARGIN, W - 2 * MARGIN, prs.slide_height // 3, sub, 32, 14,
             bold_first=True)

    # 2 headline metrics per wave
    head = [t("track.col_metric", lang), t("track.col_wave", lang), t("track.col_value", lang),
            t("track.col_ci", lang), "n"]
    rows: list[list[str]] = []
    for m in HEADLINE:
        for w in res.waves:
            c = _cell_of(res.cells[w], m, "overall", "all")
            if c is None:
                continue
            rows.append([t(_METRIC_KEYS[m], lang), w, _fmt_value(m, c["value"], lang),
                         _fmt_ci(m, c["ci_low"], c["ci_high"], lang), fmt_int(c["n"], lang)])
    n0, n1 = _cell_of(res.cells[base], "nps", "overall", "all"), _cell_of(res.cells[last], "nps", "overall", "all")
    title = (t("track.deck_headline_title", lang, a=_fmt_value("nps", n0["value"], lang), earlier=base,
               b=_fmt_value("nps", n1["value"], lang), later=last)
             if n0 is not None and n1 is not None else t("track.h_headline", lang))
    slide = content_slide(prs, title)
    widths = [2.0, 1.4, 1.2, 2.0, 1.0]
    table(slide, prs, head, rows, widths, max_pt=16, min_pt=9)

    # 3 significant wave-over-wave changes (consecutive waves; Holm within each pair)
    head = [t("track.col_pair", lang), t("track.col_metric", lang), t("track.col_cut", lang),
            t("track.col_diff", lang), t("track.col_p_holm", lang)]
    sig = []
    for (a, b), tab in res.comparisons.items():
        if not _consecutive(res.waves, a, b):
            continue
        for _, r in tab[tab["significant"]].iterrows():
            cut, grp = _group_name(r["cut"], r["group"], labels, lang)
            sig.append((float(r["p_holm"]), [f"{b} → {a}", t(_METRIC_KEYS[r["metric"]], lang),
                                             f"{cut}: {grp}" if grp else cut,
                                             _fmt_diff(r["metric"], r["diff"], lang), _fmt_p(r["p_holm"], lang)]))
    sig.sort(key=lambda x: x[0])
    widths = [1.6, 1.6, 3.2, 1.3, 1.2]
    shown = _fit_rows([r for _, r in sig], head, widths, prs)
    title = (t("track.deck_changes_none", lang) if not sig else
             t("track.deck_changes_title", lang, n=len(sig)) if len(shown) == len(sig) else
             t("track.deck_changes_title_some", lang, n=len(sig), shown=len(shown)))
    slide = content_slide(prs, title)
    if shown:
        table(slide, prs, head, shown, widths, min_pt=9)
    else:
        text_box(slide, MARGIN, MARGIN + TITLE_H, W - 2 * MARGIN, _inches(2.0), [t("track.changes_intro", lang)], 16, 10)

    # 4 recommendations of the baseline plan
    counts = {k: sum(s.status == k for s in res.statuses) for k in STATUSES}
    slide_title = (t("track.deck_recs_title", lang, achieved=counts["achieved"], on_track=counts["on_track"],
                     total=len(res.statuses), worse=counts["worse"])
                   if res.statuses else t("track.h_recs", lang))
    head = [t("track.col_rec", lang), t("track.col_title", lang), base, last, t("track.col_target", lang),
            t("track.col_status", lang)]
    rows = []
    for s in sorted(res.statuses, key=lambda s: s.rank):
        rt = (s.texts.get(lang) or next(iter(s.texts.values()), {})).get("title", s.rec_id)
        rows.append([f"{t('tobe.rec_prefix', lang)}{s.rank}", rt, _rec_value(s, s.baseline, lang),
                     _rec_value(s, s.latest, lang), _rec_value(s, s.target, lang), t(_STATUS_KEYS[s.status], lang)])
    widths = [0.8, 5.0, 1.1, 1.1, 1.1, 1.5]
    shown = _fit_rows(rows, head, widths, prs)
    if rows and len(shown) < len(rows):
        slide_title += " " + t("track.deck_shown", lang, shown=len(shown), n=len(rows))
    slide = content_slide(prs, slide_title)
    if shown:
        table(slide, prs, head, shown, widths, min_pt=9)
    else:
        text_box(slide, MARGIN, MARGIN + TITLE_H, W - 2 * MARGIN, _inches(2.0), [t("track.no_recs" if has_baseline_run else "track.no_baseline_run", lang)], 16, 10)

    # 5 revenue realised against the business case
    rv = res.revenue
    if rv:
        def money(x: float) -> str:
            return fmt_num(x, lang, 0) + "\u00a0" + rv["currency"]

        slide = content_slide(prs, t("track.deck_revenue_title", lang, realised=money(rv["realised"]),
                                     planned=money(rv["planned"])))
        rows = [[t("track.rev_planned", lang), fmt_pct(rv["move_planned"], lang, 0), money(rv["planned"]),
                 f"[{money(rv['planned_ci'][0])}; {money(rv['planned_ci'][1])}]" if rv["planned_ci"] else ""],
                [t("track.rev_realised", lang), fmt_pct(rv["move_observed"], lang, 0), money(rv["realised"]),
                 f"[{money(rv['realised_ci'][0])}; {money(rv['realised_ci'][1])}]"]]
        table(slide, prs, ["", t("track.col_move", lang), t("track.col_revenue", lang), t("track.col_ci", lang)],
              rows, [2.5, 2.4, 2.2, 3.0], max_pt=16, min_pt=9)
        text_box(slide, MARGIN, prs.slide_height - MARGIN - _inches(1.6), W - 2 * MARGIN, _inches(1.5),
                 [t("track.revenue_note", lang, d0=fmt_pct(rv["d_first"], lang, 1), d1=fmt_pct(rv["d_last"], lang, 1),
                    w0=base, w1=last)], 14, 9)
    else:
        slide = content_slide(prs, t("track.h_revenue", lang))
        text_box(slide, MARGIN, MARGIN + TITLE_H, W - 2 * MARGIN, _inches(2.0), [t("track.no_revenue", lang)], 16, 10)
    out = Path(out)
    prs.save(str(out))
    return out


def _deck_template(audit: Audit) -> Path | None:
    """The client's ``client.branding.pptx_template`` inside the client folder, as the audit deck uses it."""
    from .errors import ConfigError
    from .paths import client_file

    name = getattr(audit.config.client.branding, "pptx_template", None)
    if not name:
        return None
    path = client_file(audit.dir, name, file=str(audit.dir / "audit.yaml"), key="client.branding.pptx_template")
    if not path.is_file():
        raise ConfigError(str(audit.dir / "audit.yaml"), "client.branding.pptx_template",
                          f"file {name!r} not found in {audit.dir}")
    return path


def _inches(x: float) -> int:
    from pptx.util import Inches

    return int(Inches(x))


# --- the tracking report -------------------------------------------------------------------------------


@dataclass
class TrackRun:
    """A rendered tracking report: its folder, outputs and manifest."""

    client: str
    track_dir: Path
    outputs: dict[str, Path]
    manifest: dict[str, Any]
    result: TrackResult


def load_waves(client: str, waves: Sequence[str] | None = None) -> dict[str, Audit]:
    """``{wave: Audit}`` of every wave of ``client`` (or of ``waves``), baseline first."""
    from . import paths
    from .audit import load_audit
    from .errors import CxauditError
    from .waves import wave_names

    folder = paths.client_dir(client)
    names = list(waves) if waves else wave_names(folder)
    if len(names) < 2:
        raise CxauditError(f"{folder / 'waves'}: tracking needs at least two waves (folders with the input files), "
                           f"found {len(names)}{': ' + ', '.join(names) if names else ''}")
    return {w: load_audit(client, wave=w) for w in names}


def method_appendix(lang: str) -> Any:
    """The tracking report's own methodology appendix (not the audit's formulas and TO-BE assumptions):
    how each wave is measured, how changes are tested (see the module docstring for the sources), how a
    recommendation's status and the revenue realised are found. Plain text from the ``track.*`` catalog."""
    from .i18n import t
    from .report import AppendixMethod

    return AppendixMethod(
        title=t("track.appendix", lang), intro=t("track.appendix_intro", lang),
        sections=[(t("track.method_measures_heading", lang),
                   [t("track.method_measures", lang), t("track.method_comparable", lang)]),
                  (t("track.method_tests_heading", lang),
                   [t("track.method_tests", lang), t("track.method_holm", lang), t("track.method_drivers", lang)]),
                  (t("track.method_plan_heading", lang),
                   [t("track.method_status", lang), t("track.method_revenue", lang)])])


def track_client(client: str, *, lang: str | None = None, formats: Sequence[str] = ("html", "pdf"),
                 waves: Sequence[str] | None = None) -> TrackRun:
    """Analyse every wave of ``client`` and render ``reports/<client>/tracking/<utc>/track.html`` / ``.pdf``.

    The baseline's recommendations and targets come from the latest finished run of the baseline wave
    (``cxaudit run CLIENT --wave <baseline>``); without one the report says so and shows the rest.
    The report goes through the audit report's template (:func:`cxaudit.report.build_report`) from a
    notebook of display outputs (``notebooks/track.ipynb`` in the folder), so it has the same cover,
    styles and PDF printing.
    """
    import datetime as dt
    import json
    import time

    import nbformat

    from . import paths
    from .findings import read_findings
    from .i18n import t
    from .recommend import read_tobe
    from .report import build_report
    from .waves import CACHE_STATS, wave_runs

    t0 = time.perf_counter()
    cache0 = dict(CACHE_STATS)
    audits = load_waves(client, waves)
    t_load = time.perf_counter() - t0
    names = list(audits)
    first = audits[names[0]]
    lang = lang or first.language
    runs = wave_runs(client)
    base_run = runs.get(names[0])
    tobe = read_tobe(base_run.run_dir) if base_run else None
    findings = read_findings(base_run.run_dir) if base_run else []
    t1 = time.perf_counter()
    res = analyse(audits, tobe=tobe, findings=findings)
    loop = None
    try:
        from .closed_loop import loop_kpis

        loop = loop_kpis(audits, lang)
    except ImportError:  # closed_loop not installed in this build
        loop = None
    t_an = time.perf_counter() - t1
    blocks = blocks_track(res, lang, Labels.from_audit(audits[names[-1]]), has_baseline_run=base_run is not None,
                          loop=loop)
    started = dt.datetime.now(dt.UTC)
    out_dir = paths.client_reports_dir(client) / "tracking" / f"{started:%Y%m%dT%H%M%S%fZ}"
    (out_dir / "notebooks").mkdir(parents=True, exist_ok=False)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for i, b in enumerate(blocks):
        cell = nbformat.v4.new_code_cell(source="", outputs=[nbformat.v4.new_output("display_data", data=b)])
        cell.id = f"track-{i}"
        nb.cells.append(cell)
    from .findings import write_findings

    write_findings(out_dir, "track", track_findings(res, lang, Labels.from_audit(audits[names[-1]])))
    nb_path = out_dir / "notebooks" / "track.ipynb"
    nbformat.write(nb, nb_path)
    periods = [p for p in res.periods.values() if p]
    period = (dt.date.fromisoformat(periods[0][0]), dt.date.fromisoformat(periods[-1][1])) if periods else None
    t2 = time.perf_counter()
    page_formats = [f for f in formats if f in ("html", "pdf")]
    written = build_report(out_dir, client_name=first.name, lang=lang, branding=first.config.client.branding,
                           period=period, run_id=out_dir.name, report_date=started.date(), formats=page_formats,
                           notebooks=[nb_path], client_dir=None, title=t("track.deck_title", lang),
                           subtitle=t("track.cover_subtitle", lang),
                           method=method_appendix(lang)) if page_formats else {}
    outputs = {}
    for k, p in written.items():
        target = p.with_name("track" + p.suffix)
        p.rename(target)
        outputs[k] = target
    if "pptx" in formats:
        outputs["pptx"] = build_track_deck(res, out_dir / "track.pptx", lang, Labels.from_audit(audits[names[-1]]),
                                           client_name=first.name, report_date=started.date(),
                                           template=_deck_template(audits[names[0]]),
                                           has_baseline_run=base_run is not None)
    manifest = {
        "client": client, "kind": "track", "started_utc": started.isoformat(), "lang": lang, "waves": names,
        "baseline_run": str(base_run.run_dir) if base_run else None,
        "wave_runs": {w: str(r.run_dir) for w, r in runs.items() if w in audits},
        "inputs_sha256": {w: a.input_hashes() for w, a in audits.items()},
        "seconds": {"load": round(t_load, 3), "analyse": round(t_an, 3), "render": round(time.perf_counter() - t2, 3)},
        "cache": {k: CACHE_STATS[k] - cache0.get(k, 0) for k in CACHE_STATS},
        "statuses": {s.rec_id: s.status for s in res.statuses},
        "outputs": {k: v.name for k, v in outputs.items()},
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return TrackRun(client, out_dir, outputs, manifest, res)
