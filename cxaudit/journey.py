"""The customer journey: stages, touchpoints, heat maps, omnichannel consistency and pain points.

The journey model is the ``touchpoints`` table (``touchpoint, stage, channel, owner_department,
label``; one of the configured stages each, by default the nine of :data:`cxaudit.config.STAGES`) or,
when the config has one, a ``touchpoints:`` mapping in ``audit.yaml``. Each touchpoint is rated in
the ``responses`` table in the column named like the touchpoint (``tp_delivery``) or ``tp_<id>``;
an empty rating means the customer did not use it.

Estimators
----------
- A cell (a touchpoint, a channel, a stage × channel cell) pools the ratings of its touchpoints.
  Its satisfaction is the top-box share of the ratings (top ``scales.touchpoint.top_box`` categories,
  like CSAT, METHODS.md), its base ``n`` the respondents who rated at least one of its touchpoints.
  A respondent who rates two touchpoints of one cell gives two correlated ratings, so the share is a
  ratio estimator p = Σ wᵢyᵢ / Σ wᵢmᵢ (yᵢ top-box ratings, mᵢ ratings of respondent i, wᵢ the
  survey weight) with the linearised (respondent-clustered) variance
  v = Σ wᵢ²(yᵢ − p·mᵢ)² / (Σ wᵢmᵢ)² (Cochran 1977, §6.4; Kish 1965). Its Wilson (1927) interval uses
  the effective base n_eff = p(1 − p) / v, which is exactly n for one touchpoint without weights.
  The mean rating uses the same linearisation (× n/(n − 1)) and a Student t interval, which is
  exactly the usual t interval for one touchpoint without weights.
- Effort: the survey asks the CES question (1–7, Dixon et al. 2013) once, about the whole
  experience, not per touchpoint, and audit.yaml has no per-touchpoint effort columns. A cell's
  ``effort`` is therefore the mean *overall* CES of the customers who used its touchpoints (base
  ``effort_n``: those of them who answered CES; t interval): it describes the touchpoint's users,
  not the effort of the touchpoint itself, and the report labels it that way.
- Omnichannel consistency of a stage: the spread of satisfaction across its channels (best − worst,
  in points) and Cochran's Q test of heterogeneity, Q = Σ (p_c − p̄)² / v_c with p̄ the
  inverse-variance weighted mean and k − 1 degrees of freedom (Cochran 1954). v_c is computed on
  (y + 1) / (n + 2) so that a channel at 0 % or 100 % keeps a positive variance.
- Key drivers: :func:`cxaudit.drivers.relative_importance` (exact Shapley / LMG) of the touchpoint
  ratings for NPS, pairwise deletion (a customer rates only what they used), with bootstrap
  intervals and the random-noise significance test.
- Pain points: reach = share of customers who used the touchpoint *and* rated it low (bottom box,
  the mirror of the top box); severity = the NPS gap between the rest of the customers and those low
  raters (z-test of R package ``NPS``, ``nps.test``), or its driver importance. The score
  reach × gap is the number of NPS points the whole base would gain if the low raters answered like
  the rest, since NPS = reach · NPS_low + (1 − reach) · NPS_rest exactly.

Examples
--------
>>> from cxaudit import load_audit                         # doctest: +SKIP
>>> audit = load_audit("demo")                             # doctest: +SKIP
>>> pain_points(audit).head(2).index.tolist()              # doctest: +SKIP
['tp_delivery', 'tp_support_call']
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from scipy import stats

from . import drivers as _drivers
from . import outcome as _outcome
from .audit import Audit
from .errors import MetricError
from .findings import Finding
from .i18n import fmt_num, fmt_pct, t
from .i18n import fmt_p as _fmt_p
from .metrics import Z95, nps, wilson
from .plots import PALETTE, takeaway_title
from .stats import nps_difference

__all__ = [
    "SECTION",
    "touchpoint_table",
    "rating_scale",
    "journey_cells",
    "touchpoint_metrics",
    "heatmap_matrix",
    "omnichannel_consistency",
    "outcome_column",
    "key_drivers",
    "importance_performance",
    "pain_points",
    "journey_findings",
    "fmt_p_value",
    "heatmap_figure",
    "drivers_figure",
    "ipa_figure",
]

SECTION = "journey"
#: How many pain points become findings (at most).
TOP_PAIN_POINTS: int = 3
#: Significance level of the NPS gap behind a pain-point finding.
SIGNIFICANCE: float = 0.05
#: Bootstrap replicates of the key-driver analysis in the notebook.
DRIVER_BOOTSTRAP: int = 200
# Finding severity from the NPS gap of the low raters (points): >= 40 -> 5, >= 30 -> 4, ...
_SEVERITY_BANDS: tuple[tuple[float, int], ...] = ((40.0, 5), (30.0, 4), (20.0, 3), (10.0, 2))

_TP_COLUMNS = ["touchpoint", "column", "stage", "stage_order", "channel", "owner_department", "label"]


# --- the journey model -----------------------------------------------------------------------------


def _config_touchpoints(audit: Audit) -> pd.DataFrame | None:
    """Touchpoints defined in audit.yaml (``touchpoints: {id: {stage, channel, ...}}``), if the config has them."""
    spec = getattr(audit.config, "touchpoints", None)
    if not spec:
        return None
    rows = []
    for tp, item in dict(spec).items():
        d = item.model_dump() if hasattr(item, "model_dump") else dict(item)
        rows.append({"touchpoint": str(tp), **{k: d.get(k) for k in ("stage", "channel", "owner_department", "label")}})
    return pd.DataFrame(rows)


def touchpoint_table(audit: Audit) -> pd.DataFrame | None:
    """The journey model: one row per touchpoint, in journey order, with its rating column.

    Columns: ``touchpoint, column, stage, stage_order, channel, owner_department, label``. ``column``
    is the responses column holding its ratings (the id itself or ``tp_<id>``), missing when the
    survey did not rate it. ``attrs["unmapped_columns"]`` lists ``tp_`` rating columns without a
    touchpoint row (they have no stage, so they stay out of the journey). ``None`` when the client
    has neither a touchpoints table nor touchpoints in audit.yaml.
    """
    if audit.has("touchpoints"):
        raw = audit.table("touchpoints").drop(columns=["_row"], errors="ignore")
    else:
        raw = _config_touchpoints(audit)
        if raw is None:
            return None
    stages = list(audit.config.stages)
    resp_cols = set(audit.responses.columns)
    out = pd.DataFrame({"touchpoint": raw["touchpoint"].astype(str).str.strip()})

    def col_for(tp: str) -> str | None:
        if tp in resp_cols:
            return tp
        return f"tp_{tp}" if f"tp_{tp}" in resp_cols else None

    out["column"] = [col_for(tp) for tp in out["touchpoint"]]
    out["stage"] = raw["stage"].astype(str).str.strip().str.lower().to_numpy()
    out["stage_order"] = [stages.index(s) if s in stages else len(stages) for s in out["stage"]]
    out["channel"] = raw["channel"].astype(str).str.strip().to_numpy()
    owner = raw["owner_department"] if "owner_department" in raw.columns else pd.Series([None] * len(raw))
    out["owner_department"] = [None if pd.isna(o) or str(o).strip() == "" else str(o).strip() for o in owner]
    label = raw["label"] if "label" in raw.columns else pd.Series([None] * len(raw))
    out["label"] = [
        str(lb).strip() if not pd.isna(lb) and str(lb).strip() else tp.removeprefix("tp_")
        for lb, tp in zip(label, out["touchpoint"], strict=True)
    ]
    out = out[out["stage_order"] < len(stages)]  # the schema already logged rows with an unknown stage
    out = out.reset_index(drop=True).sort_values("stage_order", kind="stable").reset_index(drop=True)
    mapped = set(out["column"].dropna())
    out.attrs["unmapped_columns"] = [c for c in audit.touchpoint_columns if c not in mapped]
    return out[_TP_COLUMNS]


def rating_scale(audit: Audit) -> tuple[float, float, float, float]:
    """(min, max, top cut, low cut) of the touchpoint scale: top box ≥ cut, low box ≤ low cut."""
    sc = audit.config.scales.touchpoint
    return float(sc.min), float(sc.max), float(sc.max - sc.top_box + 1), float(sc.min + sc.top_box - 1)


def _weights(audit: Audit) -> np.ndarray | None:
    r = audit.responses
    if "weight" not in r.columns:
        return None
    w = pd.to_numeric(r["weight"], errors="coerce").to_numpy(dtype=float)
    return np.where(np.isnan(w), 0.0, w)


# --- pooled cell estimators -------------------------------------------------------------------------


def _pooled(x: np.ndarray, w: np.ndarray | None, top_cut: float, low_cut: float) -> dict[str, float]:
    """Ratio estimators of one cell from an (n, k) block of ratings (NaN = not used); see module doc."""
    used = ~np.isnan(x)
    m = used.sum(axis=1)
    rows = m > 0
    nan = float("nan")
    if not rows.any():
        return {"n": 0, "n_ratings": 0, "n_eff": nan, "top2": nan, "top2_low": nan, "top2_high": nan, "mean": nan,
                "mean_low": nan, "mean_high": nan, "low_share": nan}
    x, used, m = x[rows], used[rows], m[rows].astype(float)
    ww = np.ones(len(x)) if w is None else w[rows]
    n = int(rows.sum())
    top = np.where(used, x >= top_cut, False).sum(axis=1)
    low = np.where(used, x <= low_cut, False).sum(axis=1)
    xs = np.where(used, x, 0.0).sum(axis=1)
    tot = float(np.sum(ww * m))
    p = float(np.sum(ww * top) / tot)
    var_p = float(np.sum(ww**2 * (top - p * m) ** 2) / tot**2)
    kish = tot**2 / float(np.sum((ww * m) ** 2))
    n_eff = p * (1 - p) / var_p if var_p > 0 else kish
    lo_a, hi_a = wilson(np.array([p * n_eff]), np.array([n_eff]))
    lo, hi = float(lo_a[0]), float(hi_a[0])
    mean = float(np.sum(ww * xs) / tot)
    if n > 1:
        var_m = float(np.sum(ww**2 * (xs - mean * m) ** 2) / tot**2) * n / (n - 1)
        half = float(stats.t.ppf(0.975, n - 1)) * np.sqrt(var_m)
        m_lo, m_hi = mean - half, mean + half
    else:
        m_lo = m_hi = nan
    return {"n": n, "n_ratings": int(m.sum()), "n_eff": n_eff, "top2": p, "top2_low": lo, "top2_high": hi,
            "mean": mean, "mean_low": m_lo, "mean_high": m_hi, "low_share": float(np.sum(ww * low) / tot)}


def _ces(audit: Audit) -> np.ndarray | None:
    """The CES answers as floats (NaN where missing), ``None`` without a CES column."""
    r = audit.responses
    return pd.to_numeric(r["ces"], errors="coerce").to_numpy(dtype=float) if "ces" in r.columns else None


def _effort(ces: np.ndarray | None, used_any: np.ndarray, w: np.ndarray | None) -> tuple[float, float, float, int]:
    """Mean CES (and t interval, n) of the respondents flagged in ``used_any``; ``ces``: :func:`_ces`."""
    if ces is None:
        return float("nan"), float("nan"), float("nan"), 0
    x = np.where(used_any, ces, np.nan)[:, None]
    res = _pooled(x, w, np.inf, -np.inf)
    return res["mean"], res["mean_low"], res["mean_high"], int(res["n"])


def journey_cells(audit: Audit, by: Sequence[str] = ("stage", "channel"), tps: pd.DataFrame | None = None) -> pd.DataFrame:
    """Satisfaction, mean rating, effort, volume and base of every group of touchpoints.

    Groups are the combinations of ``by`` (columns of :func:`touchpoint_table`: ``stage``,
    ``channel``, ``touchpoint``, ``owner_department``) over the touchpoints that have ratings.

    Columns: the ``by`` keys, ``n`` (respondents who rated any touchpoint of the group),
    ``n_ratings``, ``usage`` (their weighted share of all respondents), ``top2`` (satisfied share of
    ratings) with ``top2_low``/``top2_high`` (Wilson 95%, clustered by respondent), ``mean`` with
    ``mean_low``/``mean_high`` (t 95%), ``low_share`` (bottom-box share), ``effort`` (mean overall CES
    of the group's users, not an effort question about the group — see the module doc) with
    ``effort_low``/``effort_high`` and ``effort_n``, ``touchpoints`` (how many),
    ``small_base`` (n < ``min_base``).
    """
    tps = touchpoint_table(audit) if tps is None else tps
    if tps is None:
        raise MetricError("journey_cells: this client has no touchpoints table")
    rated = tps[tps["column"].notna()]
    r = audit.responses
    w = _weights(audit)
    total_w = float(len(r)) if w is None else float(w.sum())
    _, _, top_cut, low_cut = rating_scale(audit)
    rows: list[dict[str, Any]] = []
    keys = list(by)
    # every rated column and the CES converted once, each group's block sliced from them (issue 19)
    columns = list(dict.fromkeys(rated["column"]))
    at = {c: i for i, c in enumerate(columns)}
    ratings = r[columns].to_numpy(dtype=float)
    ces = _ces(audit)
    for key, grp in rated.groupby(keys, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        x = ratings[:, [at[c] for c in grp["column"]]]
        res = _pooled(x, w, top_cut, low_cut)
        used_any = (~np.isnan(x)).any(axis=1)
        usage = float(used_any.sum() if w is None else w[used_any].sum()) / total_w if total_w else float("nan")
        e, e_lo, e_hi, e_n = _effort(ces, used_any, w)
        rows.append({**dict(zip(keys, key, strict=True)), **res, "usage": usage, "effort": e, "effort_low": e_lo,
                     "effort_high": e_hi, "effort_n": e_n, "touchpoints": len(grp)})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["small_base"] = out["n"] < audit.config.min_base
    if "stage" in keys:
        order = {s: i for i, s in enumerate(audit.config.stages)}
        out = out.sort_values(by=["stage"], key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
    return out


def touchpoint_metrics(audit: Audit, tps: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per rated touchpoint, in journey order: the journey model joined with its cell metrics
    (:func:`journey_cells` by touchpoint), indexed by touchpoint id."""
    tps = touchpoint_table(audit) if tps is None else tps
    if tps is None:
        raise MetricError("touchpoint_metrics: this client has no touchpoints table")
    cells = journey_cells(audit, ["touchpoint"], tps)
    if cells.empty:
        return cells
    out = tps.merge(cells, on="touchpoint", how="inner")
    return out.set_index("touchpoint")


def heatmap_matrix(cells: pd.DataFrame, rows: str, cols: str, value: str = "top2",
                   row_order: Sequence[str] | None = None, col_order: Sequence[str] | None = None) -> dict[str, pd.DataFrame]:
    """Pivot :func:`journey_cells` output into ``{"value", "n", "small_base"}`` matrices (rows × cols)."""
    out = {}
    for name, col in (("value", value), ("n", "n"), ("small_base", "small_base")):
        mat = cells.pivot_table(index=rows, columns=cols, values=col, aggfunc="first", sort=False)
        if row_order is not None:
            mat = mat.reindex([r for r in row_order if r in mat.index])
        if col_order is not None:
            mat = mat.reindex(columns=[c for c in col_order if c in mat.columns])
        out[name] = mat
    return out


def omnichannel_consistency(audit: Audit, cells: pd.DataFrame | None = None) -> pd.DataFrame:
    """How much satisfaction with one stage varies across its channels.

    One row per stage served by two or more channels: ``channels`` (k), ``best_channel``,
    ``best``, ``worst_channel``, ``worst`` (top-box shares), ``spread`` (best − worst, points),
    ``q`` and ``p_value`` (Cochran's Q heterogeneity test, k − 1 df; see module doc), ``n`` (the
    smallest channel base) and ``consistent`` (p ≥ 0.05).
    """
    cells = journey_cells(audit, ("stage", "channel")) if cells is None else cells
    rows = []
    for stage, grp in cells[cells["n"] > 0].groupby("stage", sort=False):
        if len(grp) < 2:
            continue
        p = grp["top2"].to_numpy(float)
        neff = grp["n_eff"].to_numpy(float)
        pt = (p * neff + 1) / (neff + 2)
        v = pt * (1 - pt) / neff
        pbar = float(np.sum(p / v) / np.sum(1 / v))
        q = float(np.sum((p - pbar) ** 2 / v))
        k = len(grp)
        best, worst = grp.iloc[int(np.argmax(p))], grp.iloc[int(np.argmin(p))]
        pv = float(stats.chi2.sf(q, k - 1))
        rows.append({"stage": stage, "channels": k, "best_channel": best["channel"], "best": float(best["top2"]),
                     "worst_channel": worst["channel"], "worst": float(worst["top2"]),
                     "spread": 100 * float(best["top2"] - worst["top2"]), "q": q, "p_value": pv,
                     "n": int(grp["n"].min()), "consistent": pv >= SIGNIFICANCE,
                     "small_base": bool(grp["small_base"].any())})
    return pd.DataFrame(rows)


# --- drivers, importance–performance, pain points -----------------------------------------------------


def outcome_column(audit: Audit) -> str | None:
    """The outcome the drivers explain (:func:`cxaudit.outcome.resolve`): audit.yaml ``outcome``, else
    ``nps``, else ``csat``, when answered at least ``min_base`` times; None without one."""
    o = _outcome.resolve_audit(audit)
    if o is None or _outcome.score(o, audit.responses).notna().sum() < audit.config.min_base:
        return None
    return o.column


def outcome_label(audit: Audit, lang: str, *, short: bool = True) -> str:
    """The name of the outcome actually used, for headings and column headers ("NPS", "CSAT", the
    client's label); ``short=False`` says what its summary counts (top box / top-2 box / share)."""
    o = _outcome.resolve_audit(audit)
    if o is None:
        return ""
    return _outcome.short_label(o, lang) if short else _outcome.label(o, lang)


def key_drivers(audit: Audit, tps: pd.DataFrame | None = None, *, outcome: str | None = None,
                method: Literal["shapley", "relative_weights"] = "shapley", bootstrap: int = DRIVER_BOOTSTRAP,
                missing: Literal["pairwise", "listwise"] = "pairwise") -> pd.DataFrame | None:
    """Key-driver analysis of the touchpoint ratings for NPS (else CSAT).

    :func:`cxaudit.drivers.relative_importance` on every rated touchpoint whose ratings co-occur
    with the outcome at least ``min_base`` times (the others are listed in
    ``attrs["excluded_drivers"]``), with survey weights when the responses have a ``weight``
    column, pairwise deletion, and ``bootstrap`` replicates seeded by ``audit.config.seed``.
    More than :data:`cxaudit.drivers.MAX_SHAPLEY_DRIVERS` touchpoints switch to relative weights
    (``attrs["method"]`` says which ran). Indexed by touchpoint id with the journey columns joined;
    ``None`` without an outcome or with fewer than two usable touchpoints.
    """
    tps = touchpoint_table(audit) if tps is None else tps
    r = audit.responses
    o = None
    if outcome is None:
        outcome = outcome_column(audit)
        o = _outcome.resolve_audit(audit) if outcome is not None else None
    if tps is None or outcome is None:
        return None
    if o is not None and o.kind == "binary":  # a satisfied / not satisfied answer: explained as 1 / 0
        r = r.assign(_outcome=_outcome.score(o, r))
        outcome_used = "_outcome"
    else:
        outcome_used = outcome
    y_ok = r[outcome_used].notna()
    rated = tps[tps["column"].notna()]
    usable: list[tuple[str, str]] = []
    excluded: list[tuple[str, str]] = []
    for tp, col in zip(rated["touchpoint"], rated["column"], strict=True):
        (usable if int((r[col].notna() & y_ok).sum()) >= audit.config.min_base else excluded).append((tp, col))
    if len(usable) < 2:
        return None
    if method == "shapley" and len(usable) > _drivers.MAX_SHAPLEY_DRIVERS:
        method = "relative_weights"
    res = _drivers.relative_importance(r, outcome_used, [c for _, c in usable], method=method,
                                       weights="weight" if "weight" in r.columns else None,
                                       bootstrap=bootstrap, missing=missing, seed=audit.config.seed)
    by_col = {c: tp for tp, c in usable}
    attrs = dict(res.attrs)
    res.index = pd.Index([by_col[c] for c in res.index], name="touchpoint")
    info = tps.set_index("touchpoint")[["column", "stage", "channel", "owner_department", "label"]]
    out = res.join(info)
    out.attrs = {**attrs, "outcome": outcome, "outcome_kind": o.kind if o is not None else None,
                 "excluded_drivers": [tp for tp, _ in excluded]}
    return out


def importance_performance(drivers: pd.DataFrame, metrics: pd.DataFrame, performance: str = "top2") -> pd.DataFrame:
    """Importance–performance quadrants (Martilla & James 1977) of the touchpoints.

    Importance is derived (``share`` of R² from :func:`key_drivers`), performance the touchpoint's
    ``top2`` share (or ``mean``); cross-hairs at the means (:func:`cxaudit.drivers.importance_performance`).
    The journey columns and the base ``n`` are joined.
    """
    ipa = _drivers.importance_performance(drivers["share"], metrics[performance])
    attrs = dict(ipa.attrs)
    out = ipa.join(drivers[["rank"]]).join(metrics[["label", "stage", "channel", "owner_department", "n"]])
    out.attrs = attrs
    return out


def pain_points(audit: Audit, tps: pd.DataFrame | None = None, drivers: pd.DataFrame | None = None,
                severity: Literal["nps_gap", "importance"] = "nps_gap") -> pd.DataFrame | None:
    """Touchpoints ranked by reach × severity, with the numbers behind the ranking.

    For each rated touchpoint, on the respondents with a valid NPS (weighted when the responses have
    weights): ``reach`` = share who used it and rated it in the bottom box; ``n_low`` of them;
    ``nps_low`` and ``nps_rest`` (everybody else) with ``gap`` = NPS_rest − NPS_low, its 95% interval
    (``gap_low``, ``gap_high``) and ``p_value`` (``nps.test`` of the R package NPS); ``points`` =
    reach × gap, the NPS points the whole base would gain if the low raters answered like the rest;
    ``importance`` = the touchpoint's % of R² from ``drivers`` (when given) and
    ``impact`` = reach × importance. ``severity`` picks the ranking: ``"nps_gap"`` sorts by
    ``points``, ``"importance"`` by ``impact``. Indexed by touchpoint, with ``rank``; ``None``
    without NPS or touchpoints.
    """
    if severity not in ("nps_gap", "importance"):
        raise MetricError(f"pain_points: severity must be 'nps_gap' or 'importance', got {severity!r}")
    tps = touchpoint_table(audit) if tps is None else tps
    r = audit.responses
    o = _outcome.resolve_audit(audit) if outcome_column(audit) is not None else None
    if tps is not None and o is not None and o.kind != "nps":
        return _outcome_pain_points(audit, tps, o, drivers, severity)
    if tps is None or "nps" not in r.columns or r["nps"].notna().sum() == 0:
        return None
    if severity == "importance" and drivers is None:
        raise MetricError("pain_points: severity='importance' needs the key-driver table (drivers=...)")
    valid = r["nps"].notna().to_numpy()
    base = r[valid]
    w_all = _weights(audit)
    w = None if w_all is None else w_all[valid]
    total = float(len(base)) if w is None else float(w.sum())
    _, _, _, low_cut = rating_scale(audit)
    rows = []
    for _, tp in tps[tps["column"].notna()].iterrows():
        x = base[tp["column"]].to_numpy(dtype=float)
        used = ~np.isnan(x)
        low = used & (x <= low_cut)
        n_low = int(low.sum())
        if n_low == 0 or n_low == len(base):
            continue
        reach = float(low.sum() if w is None else w[low].sum()) / total
        a = nps(base["nps"][low], None if w is None else w[low])
        b = nps(base["nps"][~low], None if w is None else w[~low])
        test = nps_difference(b, a)
        rows.append({"touchpoint": tp["touchpoint"], "label": tp["label"], "stage": tp["stage"],
                     "channel": tp["channel"], "owner_department": tp["owner_department"],
                     "n_used": int(used.sum()), "n_low": n_low, "n_base": int(len(base)), "reach": reach,
                     "low_share_of_users": float(n_low / used.sum()), "nps_low": a.value, "nps_rest": b.value,
                     "gap": test.diff, "gap_low": test.diff - Z95 * test.se, "gap_high": test.diff + Z95 * test.se,
                     "p_value": test.p_value, "points": reach * test.diff,
                     "small_base": n_low < audit.config.min_base})
    return _ranked_pain_points(rows, drivers, severity,
                               {"low_cut": low_cut, "n_base": int(len(base)), "weighted": w is not None})


def _ranked_pain_points(rows: list[dict[str, Any]], drivers: pd.DataFrame | None, severity: str,
                        attrs: dict[str, Any]) -> pd.DataFrame | None:
    """The pain-point table from its rows: indexed by touchpoint, with the driver importance and
    impact = reach × importance when drivers are known, ranked by ``points`` (severity ``nps_gap``) or
    by ``impact``; ``attrs`` describe how it was computed. None without rows."""
    out = pd.DataFrame(rows)
    if out.empty:
        return None
    out = out.set_index("touchpoint")
    if drivers is not None:
        out["importance"] = drivers["share"].reindex(out.index)
        out["driver_rank"] = drivers["rank"].reindex(out.index)
        out["impact"] = out["reach"] * out["importance"]
    key = "points" if severity == "nps_gap" else "impact"
    out = out.sort_values(key, ascending=False, kind="stable")
    out["rank"] = np.arange(1, len(out) + 1)
    out.attrs.update({"severity": severity, **attrs})
    return out


def _outcome_pain_points(audit: Audit, tps: pd.DataFrame, o: _outcome.OutcomeInfo, drivers: pd.DataFrame | None,
                         severity: str) -> pd.DataFrame | None:
    """:func:`pain_points` for an outcome other than NPS: the share of *good* answers on the outcome
    (top box of a rating, the positive label of a binary answer; :func:`cxaudit.outcome.good`) among a
    touchpoint's low raters against the rest, in percentage points. ``gap`` = good%_rest − good%_low
    with the unpooled two-proportion Wald interval ±1.96·√(p₁q₁/n₁ + p₂q₂/n₂) and the pooled
    two-proportion z-test's p (Agresti 2013, *Categorical Data Analysis*, 3rd ed., §1.4 and §3.1);
    ``points`` = reach × gap. The columns keep the NPS version's names (``nps_low``, ``nps_rest``)
    so the tables and rules read one layout; ``attrs["outcome_kind"]`` says which it is.
    """
    from scipy.stats import norm

    r = audit.responses
    g = _outcome.good(o, r)
    valid = g.notna().to_numpy()
    base, gv = r[valid], g[valid].to_numpy(float)
    w_all = _weights(audit)
    w = np.ones(len(base)) if w_all is None else w_all[valid]
    total = float(w.sum())
    _, _, _, low_cut = rating_scale(audit)
    rows = []
    for _, tp in tps[tps["column"].notna()].iterrows():
        x = base[tp["column"]].to_numpy(dtype=float)
        used = ~np.isnan(x)
        low = used & (x <= low_cut)
        n_low, n_rest = int(low.sum()), int((~low).sum())
        if n_low == 0 or n_rest == 0:
            continue
        p1 = float(np.sum(w[low] * gv[low]) / np.sum(w[low]))
        p2 = float(np.sum(w[~low] * gv[~low]) / np.sum(w[~low]))
        se = math.sqrt(p1 * (1 - p1) / n_low + p2 * (1 - p2) / n_rest)
        pool = (p1 * n_low + p2 * n_rest) / (n_low + n_rest)
        se0 = math.sqrt(pool * (1 - pool) * (1 / n_low + 1 / n_rest))
        p_value = float(2 * norm.sf(abs(p2 - p1) / se0)) if se0 > 0 else 1.0
        gap = 100 * (p2 - p1)
        reach = float(w[low].sum()) / total
        rows.append({"touchpoint": tp["touchpoint"], "label": tp["label"], "stage": tp["stage"],
                     "channel": tp["channel"], "owner_department": tp["owner_department"],
                     "n_used": int(used.sum()), "n_low": n_low, "n_base": int(len(base)), "reach": reach,
                     "low_share_of_users": float(n_low / used.sum()), "nps_low": 100 * p1, "nps_rest": 100 * p2,
                     "gap": gap, "gap_low": gap - Z95 * 100 * se, "gap_high": gap + Z95 * 100 * se,
                     "p_value": p_value, "points": reach * gap, "small_base": n_low < audit.config.min_base})
    return _ranked_pain_points(rows, drivers, severity,
                               {"low_cut": low_cut, "n_base": int(len(base)), "weighted": w_all is not None,
                                "outcome": o.column, "outcome_kind": o.kind})


def _severity(gap: float) -> int:
    for cut, level in _SEVERITY_BANDS:
        if gap >= cut:
            return level
    return 1


def journey_findings(audit: Audit, lang: str, pains: pd.DataFrame | None, top: int = TOP_PAIN_POINTS) -> list[Finding]:
    """Findings ``journey.pain_point.<touchpoint>`` for the top pain points.

    A pain point qualifies when its low raters are at least ``min_base`` respondents, their NPS is
    significantly below the rest (p < :data:`SIGNIFICANCE`) and the gap is positive. Severity comes
    from the gap: ≥ 40 points → 5, ≥ 30 → 4, ≥ 20 → 3, ≥ 10 → 2, else 1; reach is the share of
    customers who rated the touchpoint low. Tags link the touchpoint, its stage, channel and owner.

    ``value`` is what the title says: how many NPS points the low raters lie *below* the rest,
    NPS_rest − NPS_low (> 0 for every finding), with the 95% interval of that difference and ``n``
    the low raters (the rest, ``n_base − n_low``, and both NPS values are in the evidence). It is a
    distance, not a score, so its unit is ``""`` (printed "61.8", not the signed "+61.8" of ``"pts"``,
    which would read as "above"). The TO-BE rules quote it as "{value|num1} points below the rest"
    and the ``segment_gap`` impact model reads ``evidence["gap"]``, the same number.
    """
    if pains is None or pains.empty:
        return []
    ok = pains[(pains["n_low"] >= audit.config.min_base) & (pains["gap"] > 0) & (pains["p_value"] < SIGNIFICANCE)]
    if pains.attrs.get("outcome_kind") not in (None, "nps"):
        return _outcome_findings(audit, lang, pains, ok.head(top))
    out = []
    for tp, row in ok.head(top).iterrows():
        evidence = {k: row[k] for k in ("reach", "n_used", "n_low", "n_base", "nps_low", "nps_rest", "gap",
                                        "gap_low", "gap_high", "p_value", "points", "rank")}
        if "importance" in row.index:
            evidence |= {"importance_share": row["importance"], "driver_rank": row.get("driver_rank")}
        evidence |= {"n_rest": int(row["n_base"] - row["n_low"]), "gap_definition": "nps_rest - nps_low",
                     "table": "journey.pain_points", "test": "two-sample NPS z-test (R NPS::nps.test)",
                     "low_box": f"<= {pains.attrs.get('low_cut')}",
                     # the channel's name in the report language for the TO-BE texts (cxaudit.recommend.tag_label)
                     "channel_label": audit.config.value_label("channel", row["channel"], lang, inline=True)}
        tags = {"touchpoints": [str(tp)], "stages": [str(row["stage"])], "channels": [str(row["channel"])]}
        if row["owner_department"]:
            tags["departments"] = [str(row["owner_department"])]
        out.append(Finding(
            id=f"journey.pain_point.{tp}", section=SECTION,
            title=t("journey.finding_pain_point", lang, touchpoint=row["label"], reach=fmt_pct(row["reach"], lang),
                    gap=fmt_num(row["gap"], lang, 1), nps_low=fmt_num(row["nps_low"], lang, 1, sign=True),
                    nps_rest=fmt_num(row["nps_rest"], lang, 1, sign=True)),
            metric="nps_gap_low_raters", value=float(row["gap"]), n=int(row["n_low"]),
            ci_low=float(row["gap_low"]), ci_high=float(row["gap_high"]), severity=_severity(float(row["gap"])),
            reach=float(min(max(row["reach"], 0.0), 1.0)), unit="", evidence=evidence, tags=tags,
        ))
    return out


def _outcome_findings(audit: Audit, lang: str, pains: pd.DataFrame, ok: pd.DataFrame) -> list[Finding]:
    """Pain-point findings on an outcome other than NPS: ``journey.pain_point_outcome.<touchpoint>``,
    value = the gap in percentage points of good answers (low raters vs the rest), severity from the
    same bands as the NPS gap, evidence naming the outcome (``outcome_label``)."""
    o = _outcome.resolve_audit(audit)
    name = _outcome.short_label(o, lang) if o is not None else ""
    out = []
    for tp, row in ok.iterrows():
        evidence = {k: row[k] for k in ("reach", "n_used", "n_low", "n_base", "gap", "gap_low", "gap_high",
                                        "p_value", "points", "rank")}
        evidence |= {"good_low": row["nps_low"], "good_rest": row["nps_rest"], "n_rest": int(row["n_base"] - row["n_low"]),
                     "gap_definition": "good share of the rest - good share of low raters (percentage points)",
                     "outcome": pains.attrs.get("outcome"), "outcome_kind": pains.attrs.get("outcome_kind"),
                     "outcome_label": name, "table": "journey.pain_points",
                     "test": "two-proportion z-test", "low_box": f"<= {pains.attrs.get('low_cut')}",
                     "channel_label": audit.config.value_label("channel", row["channel"], lang, inline=True)}
        if "importance" in row.index:
            evidence |= {"importance_share": row["importance"], "driver_rank": row.get("driver_rank")}
        tags = {"touchpoints": [str(tp)], "stages": [str(row["stage"])], "channels": [str(row["channel"])]}
        if row["owner_department"]:
            tags["departments"] = [str(row["owner_department"])]
        out.append(Finding(
            id=f"journey.pain_point_outcome.{tp}", section=SECTION,
            title=t("outcome.finding_pain_point", lang, touchpoint=row["label"], reach=fmt_pct(row["reach"], lang),
                    gap=fmt_num(row["gap"], lang, 1), outcome=name, low=fmt_pct(row["nps_low"] / 100, lang),
                    rest=fmt_pct(row["nps_rest"] / 100, lang)),
            metric="outcome_gap_low_raters", value=float(row["gap"]), n=int(row["n_low"]),
            ci_low=float(row["gap_low"]), ci_high=float(row["gap_high"]), severity=_severity(float(row["gap"])),
            reach=float(min(max(row["reach"], 0.0), 1.0)), unit="", evidence=evidence, tags=tags,
        ))
    return out


# --- labels ----------------------------------------------------------------------------------------
# A stage's name: cxaudit.i18n.value_label("stage", stage, lang) (AuditConfig.value_label with the
# client's own value_labels), as for every coded value.


def fmt_p_value(p: float, lang: str) -> str:
    """A p-value as the report prints it (:func:`cxaudit.i18n.fmt_p`)."""
    return _fmt_p(p, lang)


# --- figures ---------------------------------------------------------------------------------------


def _cmap() -> LinearSegmentedColormap:
    return LinearSegmentedColormap.from_list("cx_sat", [PALETTE["detractor"], "#f3e3b5", PALETTE["promoter"]])


def heatmap_takeaway(mats: dict[str, pd.DataFrame], lang: str, row_labels: Sequence[str],
                     col_labels: Sequence[str], fallback: str) -> str:
    """A heat map's takeaway headline: the cell with the lowest satisfaction among those with an adequate
    base ("Satisfaction is lowest for Home delivery at the Delivery stage (24%)"); ``fallback`` (the map's
    name) when no cell has one."""
    val = mats["value"].to_numpy(dtype=float)
    small = mats["small_base"].fillna(False).to_numpy(dtype=bool)
    ok = np.where(~small & np.isfinite(val), val, np.nan)
    if not np.isfinite(ok).any():
        return fallback
    i, j = (int(v) for v in np.unravel_index(int(np.nanargmin(ok)), ok.shape))
    return t("journey.heatmap_takeaway", lang, row=str(row_labels[i]), stage=str(col_labels[j]),
             value=fmt_pct(float(ok[i, j]), lang))


def heatmap_figure(mats: dict[str, pd.DataFrame], lang: str, title: str, row_labels: Sequence[str],
                   col_labels: Sequence[str], min_base: int, value_kind: Literal["share", "mean"] = "share",
                   scale: tuple[float, float] = (1.0, 5.0)) -> Figure:
    """A satisfaction heat map: cells coloured by the top-box share (or the mean rating), each cell
    printing its value and base n; cells with a base below ``min_base`` are hatched and their value
    starred; empty cells stay blank."""
    val = mats["value"].to_numpy(dtype=float)
    n = mats["n"].to_numpy(dtype=float)
    small = mats["small_base"].fillna(False).to_numpy(dtype=bool)
    nr, nc = val.shape
    fig, ax = plt.subplots(figsize=(min(max(6.5, 0.85 * nc + 3.2), 9.5), max(2.8, 0.5 * nr + 1.7)))
    vmin, vmax = (0.0, 1.0) if value_kind == "share" else scale
    im = ax.imshow(np.ma.masked_invalid(val), cmap=_cmap(), vmin=vmin, vmax=vmax, aspect="auto")
    for i in range(nr):
        for j in range(nc):
            if np.isnan(val[i, j]):
                continue
            txt = fmt_pct(val[i, j], lang) if value_kind == "share" else fmt_num(val[i, j], lang, 2)
            star = "*" if small[i, j] else ""
            ax.text(j, i, f"{txt}{star}\nn = {fmt_num(n[i, j], lang, 0)}", ha="center", va="center", fontsize=8,
                    color="#1b1b1b", style="italic" if small[i, j] else "normal")
            if small[i, j]:
                ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///", edgecolor="#7f8c8d",
                                           linewidth=0))
    ax.set_xticks(range(nc), list(col_labels), rotation=30, ha="right", fontsize=8.5)
    ax.set_yticks(range(nr), list(row_labels), fontsize=8.5)
    ax.grid(False)
    takeaway_title(ax, title)
    cb = fig.colorbar(im, ax=ax, fraction=0.035, pad=0.02)
    if value_kind == "share":
        cb.ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: fmt_pct(v, lang)))
    if small.any():
        fig.text(0.01, 0.005, "* " + t("report.small_base", lang, min=min_base), fontsize=7.5, color="#555555")
    fig.tight_layout()
    plt.close(fig)
    return fig


def drivers_figure(kda: pd.DataFrame, lang: str) -> Figure:
    """Key drivers: each touchpoint's % of R² with its bootstrap 95% interval (when bootstrapped) and
    its base n; bars of drivers that do not beat the random-noise predictor are grey."""
    tab = kda.iloc[::-1]
    y = np.arange(len(tab))
    fig, ax = plt.subplots(figsize=(7.5, 0.34 * len(tab) + 1.5))
    sig = tab["significant"].to_numpy(bool) if "significant" in tab.columns else np.ones(len(tab), bool)
    colours = [PALETTE["main"] if g else PALETTE["passive"] for g in sig]
    ax.barh(y, tab["share"], color=colours, alpha=0.5)  # light bars: the interval stays visible inside them
    if "share_ci_low" in tab.columns:
        err = np.maximum(np.vstack([tab["share"] - tab["share_ci_low"], tab["share_ci_high"] - tab["share"]]), 0)
        ax.errorbar(tab["share"], y, xerr=err, fmt="none", ecolor="#1b1b1b", capsize=2.5, linewidth=1.1, zorder=3)
    ax.set_yticks(y, [f"{lb} (n = {fmt_num(n, lang, 0)})" for lb, n in zip(tab["label"], tab["n"], strict=True)],
                  fontsize=8)
    ax.set_xlabel(t("journey.drivers_axis", lang))
    a = kda.attrs
    top = kda.sort_values("share", ascending=False).iloc[0] if len(kda) else None
    takeaway_title(ax, t("journey.drivers_title", lang, outcome=str(a.get("outcome", "")).upper(),
                         touchpoint=str(top["label"]) if top is not None else "–",
                         share=fmt_pct(float(top["share"]) / 100, lang) if top is not None else "–",
                         r2=fmt_num(100 * a.get("r2", float("nan")), lang, 1), n=fmt_num(a.get("n", 0), lang, 0)))
    fig.tight_layout()
    plt.close(fig)
    return fig


def _overlapping(fig: Figure, texts: Sequence[Any]) -> bool:
    """Whether any two of ``texts`` overlap as drawn."""
    from adjustText import get_renderer

    r = get_renderer(fig)
    boxes = [tx.get_window_extent(r) for tx in texts]
    return any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def ipa_takeaway(ipa: pd.DataFrame, lang: str, outcome: str = "") -> str:
    """The map's takeaway headline from the data: the most important touchpoint of the "concentrate here"
    quadrant, its share of the explained outcome and whether it is rated worst of all or below average
    ("Home delivery drives 38% of NPS and is rated worst"); a line saying none is, when none is."""
    focus = ipa[ipa["quadrant"] == "concentrate_here"]
    if focus.empty:
        return t("journey.ipa_takeaway_none", lang)
    top = focus.sort_values("importance", ascending=False).iloc[0]
    worst = float(top["performance"]) <= float(ipa["performance"].min())
    return t("journey.ipa_takeaway_worst" if worst else "journey.ipa_takeaway_below", lang,
             touchpoint=str(top["label"]), share=fmt_pct(float(top["importance"]) / 100, lang),
             outcome=outcome or "NPS")


def ipa_figure(ipa: pd.DataFrame, lang: str, performance_label: str, outcome: str = "") -> Figure:
    """The importance–performance map: performance (x) against derived importance (y), the axes zoomed
    to the data with cross-hairs at the means, the four quadrants named in the corners. Every point is
    labelled "rank. touchpoint" (the driver rank, as in the table beside it); labels are moved apart
    by adjustText (Flyamer, https://github.com/Phlya/adjustText) so that none overlaps another, a point
    or a quadrant name. The title is the takeaway (:func:`ipa_takeaway`)."""
    from adjustText import adjust_text

    fig, ax = plt.subplots(figsize=(7.5, 6.0))
    colour = {"concentrate_here": PALETTE["detractor"], "keep_up": PALETTE["promoter"],
              "low_priority": PALETTE["passive"], "possible_overkill": PALETTE["main"]}
    x, yv = ipa["performance"].to_numpy(float), ipa["importance"].to_numpy(float)
    ic, pc = ipa.attrs["importance_cut"], ipa.attrs["performance_cut"]
    ax.axhline(ic, color="#7f8c8d", linestyle="--", linewidth=1)
    ax.axvline(pc, color="#7f8c8d", linestyle="--", linewidth=1)
    # zoom to the data (and the cross-hairs), with room for the labels and the quadrant names; when the
    # importances span more than a factor of 8 (two drivers and a crowd near zero), a log axis spreads them
    xlo, xhi = min(np.nanmin(x), pc), max(np.nanmax(x), pc)
    xpad = 0.12 * (xhi - xlo or 1.0)
    ax.set_xlim(xlo - xpad, xhi + xpad)
    positive = yv[np.isfinite(yv) & (yv > 0)]
    if len(positive) and positive.max() / positive.min() > 8:
        ax.set_yscale("log")
        floor = positive.min() / 1.6
        yv = np.maximum(yv, floor)
        ax.set_ylim(floor / 1.3, max(positive.max(), ic) * 1.6)
        ax.yaxis.set_major_locator(mticker.FixedLocator([v for v in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)
                                                         if floor / 1.3 <= v <= positive.max() * 1.6]))
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: fmt_num(v, lang, 1 if v < 1 else 0)))
        ax.yaxis.set_minor_formatter(mticker.NullFormatter())
    else:
        ylo, yhi = min(np.nanmin(yv), ic), max(np.nanmax(yv), ic)
        ypad = 0.14 * (yhi - ylo or 1.0)
        ax.set_ylim(max(0.0, ylo - ypad), yhi + ypad)
    ax.scatter(x, yv, c=[colour.get(q, PALETTE["main"]) for q in ipa["quadrant"]], s=36, zorder=3)
    corners = {"concentrate_here": (0.01, 0.99, "left", "top"), "keep_up": (0.99, 0.99, "right", "top"),
               "low_priority": (0.01, 0.01, "left", "bottom"), "possible_overkill": (0.99, 0.01, "right", "bottom")}
    quadrant_names = [ax.text(cx, cy, t(f"journey.quadrant.{q}", lang), transform=ax.transAxes, ha=ha, va=va,
                              fontsize=8, color=colour[q], fontweight="bold",
                              bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0, "alpha": 0.85})
                      for q, (cx, cy, ha, va) in corners.items()]
    ranks = ipa["rank"] if "rank" in ipa.columns else pd.Series(np.arange(1, len(ipa) + 1), index=ipa.index)
    texts = [ax.text(xi, yi, f"{int(rk)}. {lb}", fontsize=7.5, zorder=4)
             for xi, yi, lb, rk in zip(x, yv, ipa["label"], ranks, strict=True)]
    if ipa["performance"].max() <= 1.0:
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: fmt_pct(v, lang)))
    ax.set_xlabel(performance_label)
    ax.set_ylabel(t("journey.drivers_axis", lang))
    takeaway_title(ax, ipa_takeaway(ipa, lang, outcome))
    fig.tight_layout()
    if texts:
        # more room around each label until no two labels overlap (checked on the drawn boxes); the leader
        # lines of an earlier pass are removed, so each label keeps exactly one, to where it ended up
        leaders: list[Any] = []
        for expand in ((1.2, 1.6), (1.35, 1.9), (1.5, 2.3)):
            for patch in leaders:
                patch.remove()
            result = adjust_text(texts, x=x, y=yv, target_x=x, target_y=yv, objects=quadrant_names, ax=ax, expand=expand,
                                 force_text=(0.4, 0.7), iter_lim=2000,
                                 arrowprops={"arrowstyle": "-", "color": "#9aa3ab", "lw": 0.6})
            leaders = list(result[1]) if isinstance(result, tuple) and len(result) > 1 else []
            if not _overlapping(fig, texts):
                break
    plt.close(fig)
    return fig
