"""Survey metrics with their base and 95% interval: NPS, CSAT, CES.

Every function returns a :class:`MetricResult` carrying ``value``, ``n`` (the base: valid answers;
the Kish effective n when weighted), ``ci_low`` / ``ci_high`` and the method used. Missing answers
are excluded explicitly and counted in ``n_missing``. The interval formulas are vectorised over
counts, so :func:`metric_table` computes whole segment × period cubes with the same code.

References
----------
- NPS: Reichheld (2003); variance v = (p + d) − (p − d)², Wald SE = √(v/n): R package ``NPS``
  (brendan-r/NPS, ``npvar``, ``nps.se``). Adjusted Wald (default): add ¾ to promoter and detractor
  counts and 3 to n — Rocks, B. (2016), *The American Statistician* 70(4).
- CSAT: top-2-box share with the Wilson (1927) score interval.
- CES 2.0: Dixon, Toman & DeLisi (2013), *The Effortless Experience*; mean with a Student t interval.
- Weights: Kish (1965) effective sample size n_eff = (Σw)² / Σw².
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from .errors import MetricError

__all__ = [
    "MetricResult",
    "Z95",
    "nps",
    "csat",
    "ces",
    "kish_n_eff",
    "nps_category",
    "metric_table",
]

#: Two-sided 95% normal quantile, 1.959964...
Z95: float = float(stats.norm.ppf(0.975))


@dataclass(frozen=True)
class MetricResult:
    """A metric with its base and interval.

    ``value`` is on the metric's own scale: NPS −100..100, CSAT a share 0..1, CES the mean 1..7.
    ``details`` holds the components (shares, mean, ...).
    """

    metric: str
    value: float
    n: float
    ci_low: float | None
    ci_high: float | None
    method: str
    n_missing: int = 0
    weighted: bool = False
    details: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- shared helpers ------------------------------------------------------------------------------


def kish_n_eff(weights: np.ndarray) -> float:
    """Kish effective sample size (Σw)² / Σw²."""
    w = np.asarray(weights, dtype=float)
    s2 = float(np.sum(w**2))
    return float(np.sum(w) ** 2 / s2) if s2 > 0 else 0.0


def _clean(
    scores: Sequence[float] | pd.Series | np.ndarray, weights: Sequence[float] | pd.Series | np.ndarray | None, what: str
) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Drop missing scores (and their weights); validate weights."""
    x = pd.to_numeric(pd.Series(np.asarray(scores, dtype=object)), errors="coerce").to_numpy(dtype=float)
    keep = ~np.isnan(x)
    w = None
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        if w.shape != x.shape:
            raise MetricError(f"{what}: weights have length {len(w)}, scores {len(x)}")
        if np.any(w[keep & ~np.isnan(w)] < 0):
            raise MetricError(f"{what}: weights must be >= 0")
        keep &= ~np.isnan(w)
        w = w[keep]
        if w.sum() <= 0:
            raise MetricError(f"{what}: weights of the valid answers sum to zero; expected a positive total")
    n_missing = int((~keep).sum())
    x = x[keep]
    if x.size == 0:
        raise MetricError(f"{what}: no valid answers (n = 0, {n_missing} missing); a metric needs n >= 1")
    return x, w, n_missing


def _check_range(x: np.ndarray, lo: float, hi: float, what: str) -> None:
    bad = x[(x < lo) | (x > hi)]
    if bad.size:
        raise MetricError(f"{what}: value {bad[0]:g} outside the scale {lo:g}–{hi:g}")


def _wilson(k: np.ndarray, n: np.ndarray, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for k successes in n (vectorised; k, n may be fractional)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return centre - half, centre + half


def _nps_interval(
    promoters: np.ndarray, detractors: np.ndarray, n: np.ndarray, method: str, z: float = Z95
) -> tuple[np.ndarray, np.ndarray]:
    """NPS interval on −100..100 from (possibly effective) counts; vectorised.

    Wald: v = (p + d) − (p − d)², SE = √(v/n).  Adjusted Wald (Rocks 2016): the same with
    P + ¾, D + ¾ and n + 3.
    """
    if method == "adjusted-wald":
        promoters, detractors, n = promoters + 0.75, detractors + 0.75, n + 3.0
    elif method != "wald":
        raise MetricError(f"unknown NPS interval {method!r}; expected 'adjusted-wald' or 'wald'")
    with np.errstate(invalid="ignore", divide="ignore"):
        p, d = promoters / n, detractors / n
        centre = p - d
        se = np.sqrt(np.maximum((p + d) - centre**2, 0.0) / n)
    lo = np.clip(centre - z * se, -1.0, 1.0) * 100
    hi = np.clip(centre + z * se, -1.0, 1.0) * 100
    return lo, hi


# --- NPS -----------------------------------------------------------------------------------------


def nps_category(scores: pd.Series) -> pd.Series:
    """'promoter' (9–10), 'passive' (7–8), 'detractor' (0–6); missing stays missing."""
    s = pd.to_numeric(scores, errors="coerce")
    out = pd.Series(pd.NA, index=s.index, dtype="string")
    out[s >= 9] = "promoter"
    out[(s >= 7) & (s <= 8)] = "passive"
    out[s <= 6] = "detractor"
    return out


def nps(
    scores: Sequence[float] | pd.Series | np.ndarray,
    weights: Sequence[float] | pd.Series | np.ndarray | None = None,
    ci: Literal["adjusted-wald", "wald"] = "adjusted-wald",
) -> MetricResult:
    """Net Promoter Score with its 95% interval.

    NPS = 100 × (p − d), promoters 9–10, detractors 0–6 (Reichheld 2003). The default interval is
    the adjusted Wald of Rocks (2016); ``ci="wald"`` gives the plain Wald interval of the R package
    ``NPS`` (``nps.se``). With ``weights`` the shares are weighted and n is Kish's effective n.

    Examples
    --------
    >>> r = nps([10, 9, 8, 7, 6, 0, 10, 9, 9, 3], ci="wald")
    >>> round(r.value, 6), r.n
    (20.0, 10)
    >>> round(r.ci_low, 2), round(r.ci_high, 2)
    (-34.03, 74.03)
    """
    x, w, n_missing = _clean(scores, weights, "NPS")
    _check_range(x, 0, 10, "NPS")
    if w is None:
        n = float(x.size)
        P, D = float(np.sum(x >= 9)), float(np.sum(x <= 6))
        p, d = P / n, D / n
    else:
        n = kish_n_eff(w)
        p, d = float(w[x >= 9].sum() / w.sum()), float(w[x <= 6].sum() / w.sum())
        P, D = p * n, d * n
    lo, hi = _nps_interval(np.array([P]), np.array([D]), np.array([n]), ci)
    return MetricResult(
        "nps",
        100 * (p - d),
        int(n) if w is None else n,
        float(lo[0]),
        float(hi[0]),
        ci,
        n_missing,
        w is not None,
        {"promoters": p, "passives": 1 - p - d, "detractors": d},
    )


# --- CSAT ----------------------------------------------------------------------------------------


def csat(
    scores: Sequence[float] | pd.Series | np.ndarray,
    scale: int = 5,
    top_box: int = 2,
    weights: Sequence[float] | pd.Series | np.ndarray | None = None,
    scale_min: int = 1,
) -> MetricResult:
    """CSAT: the top-``top_box`` share on a ``scale_min``..``scale`` scale, Wilson 95% interval.

    On 1–5 the top-2 box is 4–5; on 1–7 it is 6–7. The mean is reported in ``details`` but CSAT is
    the share, not the mean (METHODS.md).

    Examples
    --------
    >>> r = csat([5, 4, 4, 3, 2, 5, 1, 4])
    >>> r.value, r.n
    (0.625, 8)
    >>> round(r.ci_low, 4), round(r.ci_high, 4)
    (0.3057, 0.8632)
    """
    x, w, n_missing = _clean(scores, weights, "CSAT")
    _check_range(x, scale_min, scale, "CSAT")
    sat = x >= scale - top_box + 1
    if w is None:
        n = float(x.size)
        share, mean = float(sat.mean()), float(x.mean())
    else:
        n = kish_n_eff(w)
        share, mean = float(w[sat].sum() / w.sum()), float(np.average(x, weights=w))
    lo, hi = _wilson(np.array([share * n]), np.array([n]))
    return MetricResult(
        "csat",
        share,
        int(n) if w is None else n,
        float(lo[0]),
        float(hi[0]),
        f"top-{top_box}-box, Wilson",
        n_missing,
        w is not None,
        {"mean": mean, "scale_max": float(scale)},
    )


# --- CES -----------------------------------------------------------------------------------------


def ces(
    scores: Sequence[float] | pd.Series | np.ndarray,
    scale: int = 7,
    weights: Sequence[float] | pd.Series | np.ndarray | None = None,
) -> MetricResult:
    """Customer Effort Score 2.0: mean agreement on 1–7 with a Student t 95% interval.

    ``details`` has ``easy`` (share 5–7) and ``difficult`` (share 1–3), per Dixon et al. (2013).
    With n = 1 the interval is undefined (``None``).

    Examples
    --------
    >>> r = ces([7, 6, 5, 5, 3, 2])
    >>> round(r.value, 4), r.n
    (4.6667, 6)
    >>> round(r.ci_low, 4), round(r.ci_high, 4)
    (2.7127, 6.6206)
    """
    x, w, n_missing = _clean(scores, weights, "CES")
    _check_range(x, 1, scale, "CES")
    easy_cut, hard_cut = scale - 2, 3  # 5–7 and 1–3 on the 7-point scale
    if w is None:
        n = float(x.size)
        mean = float(x.mean())
        sd = float(x.std(ddof=1)) if x.size > 1 else float("nan")
        easy, hard = float((x >= easy_cut).mean()), float((x <= hard_cut).mean())
    else:
        n = kish_n_eff(w)
        mean = float(np.average(x, weights=w))
        sd = float(np.sqrt(np.average((x - mean) ** 2, weights=w) * n / (n - 1))) if n > 1 else float("nan")
        easy, hard = float(w[x >= easy_cut].sum() / w.sum()), float(w[x <= hard_cut].sum() / w.sum())
    if n > 1:
        half = float(stats.t.ppf(0.975, n - 1)) * sd / np.sqrt(n)
        lo, hi = float(mean - half), float(mean + half)
    else:
        lo = hi = None
    return MetricResult(
        "ces",
        mean,
        int(n) if w is None else n,
        lo,
        hi,
        "mean, Student t",
        n_missing,
        w is not None,
        {"easy": easy, "difficult": hard, "sd": sd},
    )


# --- cubes ---------------------------------------------------------------------------------------


def metric_table(
    df: pd.DataFrame,
    metric: Literal["nps", "csat", "ces"],
    by: Sequence[str] = (),
    period: Literal["M", "W"] | None = None,
    *,
    column: str | None = None,
    date_column: str = "date",
    weight: str | None = None,
    min_base: int = 30,
    scale: int | None = None,
    top_box: int = 2,
    nps_ci: Literal["adjusted-wald", "wald"] = "adjusted-wald",
) -> pd.DataFrame:
    """A tidy metric cube: one row per group with ``n, value, ci_low, ci_high, small_base``.

    Groups are the combinations of ``by`` (and the calendar ``period`` of ``date_column``: month
    "M" or ISO week "W"). The formulas are those of :func:`nps`, :func:`csat` and :func:`ces`,
    applied to group counts, so a group's row equals the scalar function on that group's rows.
    A base below ``min_base`` is kept and flagged (``small_base``), never dropped.
    """
    column = column or metric
    keys = list(by)
    work = pd.DataFrame({"x": pd.to_numeric(df[column], errors="coerce")}, index=df.index)
    for k in keys:
        work[k] = df[k]
    if period is not None:
        freq = {"M": "M", "W": "W"}[period]
        work["period"] = pd.to_datetime(df[date_column]).dt.to_period(freq).astype(str)
        keys = [*keys, "period"]
    work["w"] = pd.to_numeric(df[weight], errors="coerce") if weight else 1.0
    work = work[work["x"].notna() & work["w"].notna()]
    if metric == "nps":
        work["pos"], work["neg"] = (work["x"] >= 9).astype(float), (work["x"] <= 6).astype(float)
    elif metric == "csat":
        k = scale or 5
        work["pos"], work["neg"] = (work["x"] >= k - top_box + 1).astype(float), 0.0
    elif metric == "ces":
        work["pos"], work["neg"] = (work["x"] >= (scale or 7) - 2).astype(float), 0.0
    else:
        raise MetricError(f"unknown metric {metric!r}; expected nps, csat or ces")
    work["wx"], work["wx2"] = work["w"] * work["x"], work["w"] * work["x"] ** 2
    work["wpos"], work["wneg"], work["w2"] = work["w"] * work["pos"], work["w"] * work["neg"], work["w"] ** 2
    agg_cols = ["w", "w2", "wx", "wx2", "wpos", "wneg"]
    if keys:
        g = work.groupby(keys, observed=True, sort=True)[agg_cols].sum()
        g["count"] = work.groupby(keys, observed=True, sort=True).size()
        g = g.reset_index()
    else:
        g = work[agg_cols].sum().to_frame().T
        g["count"] = len(work)
    sw, sw2 = g["w"].to_numpy(float), g["w2"].to_numpy(float)
    n = np.where(sw2 > 0, sw**2 / np.where(sw2 > 0, sw2, 1), 0.0)
    p, d = g["wpos"].to_numpy(float) / sw, g["wneg"].to_numpy(float) / sw
    out = g[[k for k in keys]].copy() if keys else pd.DataFrame(index=g.index)
    out["n"] = n if weight else g["count"].to_numpy(float)
    nn = out["n"].to_numpy(float)
    if metric == "nps":
        out["value"] = 100 * (p - d)
        lo, hi = _nps_interval(p * nn, d * nn, nn, nps_ci)
        out["promoters"], out["detractors"] = p, d
    elif metric == "csat":
        out["value"] = p
        lo, hi = _wilson(p * nn, nn)
        out["mean"] = g["wx"].to_numpy(float) / sw
    else:
        mean = g["wx"].to_numpy(float) / sw
        with np.errstate(invalid="ignore", divide="ignore"):
            var_pop = g["wx2"].to_numpy(float) / sw - mean**2
            sd = np.sqrt(np.maximum(var_pop, 0) * nn / (nn - 1))
            half = stats.t.ppf(0.975, nn - 1) * sd / np.sqrt(nn)
        out["value"] = mean
        lo, hi = mean - half, mean + half
        out["easy"] = p
    out["ci_low"], out["ci_high"] = lo, hi
    out["small_base"] = out["n"] < min_base
    out.insert(0, "metric", metric)
    return out.reset_index(drop=True)
