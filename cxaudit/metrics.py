"""Survey metrics with their base and 95% interval: NPS, CSAT, CES, CSI; churn, retention and LTV.

Every survey metric returns a :class:`MetricResult` carrying ``value``, ``n`` (the base: valid
answers; the Kish effective n when weighted), ``ci_low`` / ``ci_high`` and the method used. Missing
answers are excluded explicitly and counted in ``n_missing``. The interval formulas are vectorised
over counts, so :func:`metric_table` / :func:`metric_cube` compute whole segment × period cubes
with the same code (one ``numpy.bincount`` pass per metric and grouping).

References
----------
- NPS: Reichheld (2003); variance v = (p + d) − (p − d)², Wald SE = √(v/n): R package ``NPS``
  (brendan-r/NPS, ``npvar``, ``nps.se``). Adjusted Wald (default): add ¾ to promoter and detractor
  counts and 3 to n — Rocks, B. (2016), *The American Statistician* 70(4).
- CSAT: top-2-box share with the Wilson (1927) score interval.
- CES 2.0: Dixon, Toman & DeLisi (2013), *The Effortless Experience*; mean with a Student t interval.
- CSI: The Leadership Factor / UKCSI importance weighting, w_i = I_i / Σ I_j, CSI = 10 · Σ w_i S_i
  on 1–10 (Hill, Roche & Allen 2007); delta-method or seeded bootstrap interval.
- Churn / retention: Wilson intervals; LTV: Gupta, Lehmann & Stuart (2004), simple form of METHODS.md.
- Weights: Kish (1965) effective sample size n_eff = (Σw)² / Σw².
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats import norm as _norm
from statsmodels.stats.proportion import proportion_confint
from threadpoolctl import threadpool_limits

from .errors import MetricError

__all__ = [
    "MetricResult",
    "period_churn_from_exposure",
    "Z95",
    "wilson",
    "nps",
    "csat",
    "ces",
    "ces_cuts",
    "kish_n_eff",
    "nps_category",
    "metric_table",
    "metric_cube",
    "CUBE_METRICS",
    "csi",
    "csi_items",
    "derived_importance",
    "churn_table",
    "customer_value_table",
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


def _as_float(values: Any) -> np.ndarray:
    """``values`` as floats, NaN where not a number (``pd.to_numeric(..., errors="coerce")`` of each
    value). Plain numpy integer or float data are converted directly: the same numbers, without a
    Python object per value (~0.1 s per million answers, issue 19)."""
    arr = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    if arr.dtype.kind in "fiu":
        return arr.astype(float)
    return pd.to_numeric(pd.Series(np.asarray(values, dtype=object)), errors="coerce").to_numpy(dtype=float)


def _clean(
    scores: Sequence[float] | pd.Series | np.ndarray, weights: Sequence[float] | pd.Series | np.ndarray | None, what: str
) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Drop missing scores (and their weights); validate weights."""
    x = _as_float(scores)
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
    n_missing = int((~keep).sum())
    x = x[keep]
    if x.size == 0:
        raise MetricError(f"{what}: no valid answers (n = 0, {n_missing} missing); a metric needs n >= 1")
    if w is not None and w.sum() <= 0:
        raise MetricError(f"{what}: weights of the valid answers sum to zero; expected a positive total")
    return x, w, n_missing


def _check_whole(x: np.ndarray, what: str) -> None:
    """NPS answers are whole points (R ``NPS::npc`` treats others as off-scale)."""
    bad = x[x != np.floor(x)]
    if bad.size:
        raise MetricError(f"{what}: value {bad[0]:g} is not a whole number on the 0–10 scale")


def _check_range(x: np.ndarray, lo: float, hi: float, what: str) -> None:
    bad = x[(x < lo) | (x > hi)]
    if bad.size:
        raise MetricError(f"{what}: value {bad[0]:g} outside the scale {lo:g}–{hi:g}")


def wilson(k: np.ndarray, n: np.ndarray, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson (1927) score interval for k successes in n, vectorised (k, n may be fractional: weighted
    counts with Kish's effective n); NaN where n = 0.

    statsmodels ``proportion_confint(k, n, alpha, method="wilson")``, with alpha from ``z``.

    >>> lo, hi = wilson(np.array([5.0]), np.array([10.0]))
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.2366, 0.7634)
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    alpha = 2.0 * float(_norm.sf(z))
    with np.errstate(invalid="ignore", divide="ignore"):
        lo, hi = proportion_confint(k, n, alpha=alpha, method="wilson")
    return np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)


#: The name five modules imported before it was public.
_wilson = wilson


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
    _check_whole(x, "NPS")
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


def ces_cuts(lo: int, hi: int) -> tuple[int, int]:
    """(easy from, difficult up to) on a ``lo``–``hi`` effort scale: the answers strictly above and
    strictly below its midpoint, so the two shares never overlap.

    Examples
    --------
    >>> ces_cuts(1, 7), ces_cuts(1, 5), ces_cuts(1, 10)
    ((5, 3), (4, 2), (6, 5))
    """
    mid = (lo + hi) / 2
    return math.floor(mid) + 1, math.ceil(mid) - 1


def ces(
    scores: Sequence[float] | pd.Series | np.ndarray,
    scale: int = 7,
    weights: Sequence[float] | pd.Series | np.ndarray | None = None,
) -> MetricResult:
    """Customer Effort Score 2.0: mean agreement on 1–``scale`` with a Student t 95% interval.

    ``details`` has ``easy`` (share above the scale midpoint: 5–7 on Dixon et al.'s (2013) 7-point
    scale, 4–5 on a 5-point one) and ``difficult`` (share below it: 1–3, resp. 1–2); the midpoint
    itself is neither (:func:`ces_cuts`). With n = 1 the interval is undefined (``None``).

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
    easy_cut, hard_cut = ces_cuts(1, scale)
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
    lo: float | None = None
    hi: float | None = None
    if n > 1:
        half = float(stats.t.ppf(0.975, n - 1)) * sd / np.sqrt(n)
        lo, hi = float(mean - half), float(mean + half)
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

#: The metrics :func:`metric_table` knows.
CUBE_METRICS: tuple[str, ...] = ("nps", "csat", "ces")

_Period = Literal["M", "W"]


def _require(df: pd.DataFrame, columns: Sequence[str | None], what: str) -> None:
    missing = [c for c in columns if c is not None and c not in df.columns]
    if missing:
        raise MetricError(f"{what}: column {missing[0]!r} not found (columns: {', '.join(map(str, df.columns))})")


@dataclass
class _Groups:
    """Row -> group code (−1: the row has a missing key) and the sorted key labels of each code."""

    codes: np.ndarray
    n_groups: int
    labels: pd.DataFrame  # one row per code 0..n_groups-1, columns = keys
    has_missing: bool = True  # some rows have code −1

    def discard_codes(self) -> np.ndarray:
        """Codes with the missing-key rows moved to an extra group ``n_groups`` (then dropped)."""
        return np.where(self.codes < 0, self.n_groups, self.codes) if self.has_missing else self.codes


def _factor(values: pd.Series) -> tuple[np.ndarray, Any]:
    """Codes (−1 for missing) and sorted uniques, like ``pd.factorize(sort=True)``.

    Categoricals keep their category order (unobserved categories get no rows and drop out later);
    Arrow-backed strings are dictionary-encoded by Arrow (about twice as fast as factorize).
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy().astype(np.int64), values.cat.categories
    pa_array = getattr(values.array, "_pa_array", None)
    if pa_array is not None and pd.api.types.is_string_dtype(values.dtype):
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = pa_array.combine_chunks() if isinstance(pa_array, pa.ChunkedArray) else pa_array
        enc = pc.dictionary_encode(arr)  # one dictionary for the whole column
        dictionary = enc.dictionary.to_numpy(zero_copy_only=False).astype(object)
        order = np.argsort(dictionary, kind="stable")  # sorted like factorize(sort=True)
        rank = np.empty(len(order) + 1, dtype=np.int64)
        rank[order] = np.arange(len(order))
        rank[-1] = -1  # missing values
        idx = enc.indices.fill_null(len(order)).to_numpy(zero_copy_only=False).astype(np.int64)
        return rank[idx], pd.Index(dictionary[order], dtype=values.dtype)
    codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
    return codes.astype(np.int64, copy=False), uniques


def _period_codes(dates: pd.Series, period: _Period) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Calendar month or ISO week (Monday–Sunday) of each date, as integer codes.

    Returns the codes (−1 for a missing date), the sorted unique period keys and their labels; the
    labels are those of ``Series.dt.to_period("M" | "W")`` (``2025-11``, ``2025-11-03/2025-11-09``).
    Dates are reduced to day numbers, and days to periods through a table of the (few) distinct
    days, so a million dates cost a few milliseconds.
    """
    if period not in ("M", "W"):
        raise MetricError(f"unknown period {period!r}; expected 'M' (month), 'W' (ISO week) or None")
    raw = pd.to_datetime(dates).to_numpy()
    nat = np.isnat(raw)
    days = raw.astype("datetime64[D]").astype(np.int64)
    any_nat = bool(nat.any())
    codes = np.full(len(days), -1, dtype=np.int64)
    if nat.all():
        return codes, np.array([], dtype=np.int64), []
    valid_days = days[~nat] if any_nat else days
    d0, d1 = int(valid_days.min()), int(valid_days.max())
    table = np.arange(d0, d1 + 1, dtype=np.int64)
    if period == "M":
        key_of_day = table.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    else:
        # days since 1970-01-01 (a Thursday); +3 makes weeks start on Monday
        key_of_day = np.floor_divide(table + 3, 7)
    k0 = int(key_of_day[0])
    key_idx = key_of_day[valid_days - d0] - k0
    seen = np.bincount(key_idx, minlength=int(key_of_day[-1]) - k0 + 1) > 0
    uniq = k0 + np.flatnonzero(seen)
    position = np.cumsum(seen) - 1
    if any_nat:
        codes[~nat] = position[key_idx]
    else:
        codes = position[key_idx]
    if period == "M":
        labels = [str(np.datetime64(int(u), "M")) for u in uniq]
    else:
        labels = [str(pd.Period(np.datetime64(int(u) * 7 - 3, "D"), "W")) for u in uniq]
    return codes, uniq, labels


def _groups(
    df: pd.DataFrame,
    by: Sequence[str],
    period: _Period | None,
    date_column: str,
    period_codes: tuple[np.ndarray, np.ndarray, list[str]] | None = None,
) -> _Groups:
    """Mixed-radix group codes over ``by`` (+ period); codes sort like ``groupby(sort=True)``."""
    parts: list[tuple[str, np.ndarray, Any]] = []
    for k in by:
        codes, uniques = _factor(df[k])
        parts.append((k, codes, uniques))
    if period is not None:
        pc = period_codes if period_codes is not None else _period_codes(df[date_column], period)
        parts.append(("period", pc[0], pd.Index(pc[2], dtype=object)))
    n = len(df)
    if not parts:
        return _Groups(np.zeros(n, dtype=np.int64), 1, pd.DataFrame(index=pd.RangeIndex(1)), False)
    sizes = [max(len(u), 1) for _, _, u in parts]
    total = int(np.prod(sizes, dtype=np.float64))
    codes = parts[0][1].copy()
    missing = [bool(c.size and c.min() < 0) for _, c, _ in parts]
    for (_, c, _), size in zip(parts[1:], sizes[1:], strict=True):
        codes *= size
        codes += c
    bad = np.zeros(n, dtype=bool)
    for (_, c, _), miss in zip(parts, missing, strict=True):
        if miss:
            bad |= c < 0
    has_missing = any(missing)
    if has_missing:
        codes[bad] = -1
    if total > 200_000:  # sparse combinations: renumber the observed ones only
        observed, inverse = np.unique(codes[~bad], return_inverse=True)
        codes[~bad] = inverse
    else:
        observed = np.arange(total, dtype=np.int64)
    labels = {}
    rest = observed.copy()
    for (name, _, uniques), size in zip(reversed(parts), reversed(sizes), strict=True):
        labels[name] = np.asarray(uniques, dtype=object)[rest % size] if len(uniques) else np.array([], object)
        rest //= size
    frame = pd.DataFrame({name: labels[name] for name, _, _ in parts})
    for name, _, _u in parts:  # keep the key's dtype (categorical, string, number)
        if name == "period":
            continue
        dtype = df[name].dtype
        try:
            frame[name] = frame[name].astype(dtype)
        except (TypeError, ValueError):
            pass  # mixed-type keys stay object
    return _Groups(codes, len(observed), frame, has_missing)


@dataclass
class _Sums:
    count: np.ndarray  # answers per group
    sw: np.ndarray  # Σw
    sw2: np.ndarray  # Σw²
    swx: np.ndarray  # Σw·x
    swx2: np.ndarray  # Σw·x²
    swpos: np.ndarray  # Σw over "positive" answers (promoters, top box, easy)
    swneg: np.ndarray  # Σw over detractors (NPS only)


@dataclass
class _Prepared:
    """One metric's answers, ready for :func:`_sums` under any grouping."""

    valid: np.ndarray  # answered (and weight present)
    x: np.ndarray
    w: np.ndarray | None
    w2: np.ndarray | None
    integer: bool  # integer scores: histogram path
    lo: float
    span: int  # score points lo..lo+span−1; column ``span`` of the histogram discards invalid rows
    xi: np.ndarray  # x − lo as int, ``span`` where not valid (integer path only)
    pos_at: float
    neg_at: float | None


def _prepare(x: np.ndarray, w: np.ndarray | None, pos_at: float, neg_at: float | None) -> _Prepared:
    valid = ~np.isnan(x)
    if w is not None:
        valid &= ~np.isnan(w)
    xv = x[valid]
    lo = float(xv.min()) if xv.size else 0.0
    span = int(float(xv.max()) - lo) + 1 if xv.size else 1
    integer, xi = False, np.empty(0, dtype=np.int64)
    if span <= 1000:
        xi_v = (xv - lo).astype(np.int64)
        integer = bool(np.array_equal(xi_v + lo, xv))
        if integer:
            xi = np.full(len(x), span, dtype=np.int64)
            xi[valid] = xi_v
    w2 = None if w is None else w * w
    return _Prepared(valid, x, w, w2, integer, lo, span, xi, pos_at, neg_at)


def _sums(prep: _Prepared, groups: _Groups) -> _Sums:
    """All per-group sums of a metric from ``np.bincount`` over integer group codes.

    Integer scores (the usual case) go through one (group × score) histogram — plus Σw and Σw² ones
    with weights — so every sum is exact. Rows with a missing score or weight fall in a discard
    score column, rows with a missing key in a discard group; both are dropped after counting, so
    no row is copied. Other (fractional) scores use one ``bincount`` per sum.
    """
    n_groups = groups.n_groups
    w, pos_at, neg_at = prep.w, prep.pos_at, prep.neg_at
    if prep.integer:
        width = prep.span + 1
        codes = groups.discard_codes()
        cell = codes * width
        cell += prep.xi
        size = (n_groups + 1) * width

        def hist(weights: np.ndarray | None) -> np.ndarray:
            h = np.bincount(cell, weights=weights, minlength=size).reshape(n_groups + 1, width)
            return h[:n_groups, : prep.span].astype(float, copy=False)

        hist_n = hist(None)
        hist_w = hist_n if w is None else hist(w)
        values = prep.lo + np.arange(prep.span, dtype=float)
        count: np.ndarray = hist_n.sum(axis=1)
        sw: np.ndarray = hist_w.sum(axis=1)
        sw2: np.ndarray = count if w is None else hist(prep.w2).sum(axis=1)
        swx: np.ndarray = hist_w @ values
        swx2: np.ndarray = hist_w @ (values * values)
        swpos: np.ndarray = hist_w[:, values >= pos_at].sum(axis=1)
        swneg = hist_w[:, values <= neg_at].sum(axis=1) if neg_at is not None else np.zeros(n_groups)
        return _Sums(count, sw, sw2, swx, swx2, swpos, swneg)
    keep = prep.valid & (groups.codes >= 0)
    xs, cs = prep.x[keep], groups.codes[keep]
    ww = np.ones_like(xs) if w is None else w[keep]
    count = np.bincount(cs, minlength=n_groups).astype(float)
    sw = count if w is None else np.bincount(cs, weights=ww, minlength=n_groups)
    sw2 = count if w is None else np.bincount(cs, weights=ww * ww, minlength=n_groups)
    swx = np.bincount(cs, weights=ww * xs, minlength=n_groups)
    swx2 = np.bincount(cs, weights=ww * xs * xs, minlength=n_groups)
    swpos = np.bincount(cs, weights=ww * (xs >= pos_at), minlength=n_groups)
    swneg = np.bincount(cs, weights=ww * (xs <= neg_at), minlength=n_groups) if neg_at is not None else \
        np.zeros(n_groups)
    return _Sums(count, sw, sw2, swx, swx2, swpos, swneg)


def _scale_of(metric: str, scale: int | None, scale_min: int | None, top_box: int) -> tuple[float, float, float,
                                                                                         float | None]:
    """(lo, hi, positive-from, negative-up-to) of a metric's scale."""
    if metric == "nps":
        return 0.0, 10.0, 9.0, 6.0
    if metric == "csat":
        hi = float(scale or 5)
        return float(1 if scale_min is None else scale_min), hi, hi - top_box + 1, None
    if metric == "ces":
        lo, hi = (1 if scale_min is None else scale_min), (scale or 7)
        return float(lo), float(hi), float(ces_cuts(lo, hi)[0]), None
    raise MetricError(f"unknown metric {metric!r}; expected nps, csat or ces")


def _numeric(df: pd.DataFrame, column: str) -> np.ndarray:
    s = df[column]
    if pd.api.types.is_float_dtype(s.dtype) and not isinstance(s.dtype, pd.ArrowDtype):
        return s.to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _table_from_sums(
    metric: str, labels: pd.DataFrame, s: _Sums, weighted: bool, min_base: int, nps_ci: str
) -> pd.DataFrame:
    observed = s.count > 0
    labels = labels.loc[observed].reset_index(drop=True)
    s = _Sums(*(getattr(s, f)[observed] for f in ("count", "sw", "sw2", "swx", "swx2", "swpos", "swneg")))
    with np.errstate(invalid="ignore", divide="ignore"):
        nn = np.where(s.sw2 > 0, s.sw**2 / np.where(s.sw2 > 0, s.sw2, 1), 0.0) if weighted else s.count
        p, d = s.swpos / s.sw, s.swneg / s.sw
        mean = s.swx / s.sw
    out = labels.copy()
    out["n"] = nn
    if metric == "nps":
        out["value"] = 100 * (p - d)
        lo, hi = _nps_interval(p * nn, d * nn, nn, nps_ci)
        out["promoters"], out["detractors"] = p, d
    elif metric == "csat":
        out["value"] = p
        lo, hi = _wilson(p * nn, nn)
        out["mean"] = mean
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            var_pop = np.maximum(s.swx2 / s.sw - mean**2, 0.0)
            sd = np.sqrt(var_pop * nn / (nn - 1))
            half = stats.t.ppf(0.975, nn - 1) * sd / np.sqrt(nn)
        out["value"] = mean
        lo, hi = mean - half, mean + half
        out["easy"] = p
        out["sd"] = sd
    out["ci_low"], out["ci_high"] = lo, hi
    out["small_base"] = out["n"] < min_base
    out.insert(0, "metric", metric)
    return out


def metric_table(
    df: pd.DataFrame,
    metric: Literal["nps", "csat", "ces"],
    by: Sequence[str] = (),
    period: _Period | None = None,
    *,
    column: str | None = None,
    date_column: str = "date",
    weight: str | None = None,
    min_base: int = 30,
    scale: int | None = None,
    top_box: int = 2,
    nps_ci: Literal["adjusted-wald", "wald"] = "adjusted-wald",
    scale_min: int | None = None,
) -> pd.DataFrame:
    """A tidy metric cube: one row per group with ``n, value, ci_low, ci_high, small_base``.

    Groups are the observed combinations of ``by`` (and the calendar ``period`` of
    ``date_column``: month ``"M"`` or ISO week ``"W"``), sorted like ``groupby(sort=True)``. The
    formulas are those of :func:`nps`, :func:`csat` and :func:`ces`, applied to group sums, so a
    group's row equals the scalar function on that group's rows. A base below ``min_base`` is kept
    and flagged (``small_base``), never dropped. Rows with a missing score, weight or key are left
    out of the cube (the scalar functions count them in ``n_missing``).

    Extra columns: NPS ``promoters, detractors`` (shares); CSAT ``mean``; CES ``easy`` (share above
    the scale midpoint, :func:`ces_cuts`) and ``sd`` (the sample standard deviation; weighted: rescaled to Kish's n_eff).

    All sums come from one pass of :func:`numpy.bincount` over integer group codes (a group ×
    score histogram for integer scales), which is what makes 1M-row cubes fast (``bench/``).

    Raises
    ------
    MetricError
        Unknown metric or period, a missing column, a score outside the scale, a negative weight.

    Examples
    --------
    >>> df = pd.DataFrame({"nps": [10, 9, 3, 8, 10, 0], "seg": ["a", "a", "a", "b", "b", "b"]})
    >>> metric_table(df, "nps", by=["seg"])[["seg", "n", "value"]]
      seg    n      value
    0   a  3.0  33.333333
    1   b  3.0   0.000000
    """
    if metric not in CUBE_METRICS:
        raise MetricError(f"unknown metric {metric!r}; expected nps, csat or ces")
    column = column or metric
    _require(df, [column, *by, date_column if period is not None else None, weight], f"{metric} table")
    lo, hi, pos_at, neg_at = _scale_of(metric, scale, scale_min, top_box)
    x = _numeric(df, column)
    _check_range(x[~np.isnan(x)], lo, hi, f"{metric.upper()} column {column!r}")
    if metric == "nps":
        _check_whole(x[~np.isnan(x)], f"NPS column {column!r}")
    w = None
    if weight:
        w = _numeric(df, weight)
        if np.any(w[~np.isnan(w)] < 0):
            raise MetricError(f"{metric} table: column {weight!r} has negative weights; expected weights >= 0")
    g = _groups(df, by, period, date_column)
    s = _sums(_prepare(x, w, pos_at, neg_at), g)
    return _table_from_sums(metric, g.labels, s, w is not None, min_base, nps_ci)


def metric_cube(
    df: pd.DataFrame,
    metrics: Sequence[str] = CUBE_METRICS,
    by: Sequence[str] = (),
    period: _Period | None = "M",
    *,
    columns: dict[str, str] | None = None,
    date_column: str = "date",
    weight: str | None = None,
    min_base: int = 30,
    scales: dict[str, int] | None = None,
    top_box: int = 2,
    nps_ci: Literal["adjusted-wald", "wald"] = "adjusted-wald",
    scale_mins: dict[str, int] | None = None,
) -> pd.DataFrame:
    """Every metric × every ``by`` column (each crossed with ``period``) in one long table.

    The same numbers as :func:`metric_table` called once per (metric, column), with the shared work
    done once: scores are read once per metric, the period once, each segment column is coded
    once. Columns: ``metric, dimension, group, period, n, value, ci_low, ci_high, small_base`` and
    the metric's extra columns. ``dimension`` is the segment column (``"total"`` for the
    period-only rows, ``group`` empty there). ``scales`` / ``scale_mins``: top / bottom of the CSAT
    and CES scales (default 1–5 and 1–7).
    """
    columns = columns or {}
    scales = scales or {}
    scale_mins = scale_mins or {}
    for m in metrics:
        if m not in CUBE_METRICS:
            raise MetricError(f"unknown metric {m!r}; expected nps, csat or ces")
    _require(df, [*(columns.get(m, m) for m in metrics), *by, date_column if period else None, weight], "metric cube")
    w = None
    if weight:
        w = _numeric(df, weight)
        if np.any(w[~np.isnan(w)] < 0):
            raise MetricError(f"metric cube: column {weight!r} has negative weights; expected weights >= 0")
    pc = _period_codes(df[date_column], period) if period else None
    xs = {}
    for m in metrics:
        lo, hi, pos_at, neg_at = _scale_of(m, scales.get(m), scale_mins.get(m), top_box)
        x = _numeric(df, columns.get(m, m))
        _check_range(x[~np.isnan(x)], lo, hi, f"{m.upper()} column {columns.get(m, m)!r}")
        if m == "nps":
            _check_whole(x[~np.isnan(x)], f"NPS column {columns.get(m, m)!r}")
        xs[m] = _prepare(x, w, pos_at, neg_at)
    parts = []
    for dim in [None, *by]:
        keys = [] if dim is None else [dim]
        g = _groups(df, keys, period, date_column, period_codes=pc)
        for m in metrics:
            t = _table_from_sums(m, g.labels, _sums(xs[m], g), w is not None, min_base, nps_ci)
            t.insert(1, "dimension", "total" if dim is None else dim)
            t.insert(2, "group", "" if dim is None else t.pop(dim).astype(str))
            parts.append(t)
    if not parts:  # no metric asked for
        return pd.DataFrame(columns=["metric", "dimension", "group", "n", "value", "ci_low", "ci_high", "small_base"])
    return pd.concat(parts, ignore_index=True)


# --- CSI -----------------------------------------------------------------------------------------


def derived_importance(ratings: pd.DataFrame, outcome: pd.Series | np.ndarray) -> pd.Series:
    """Derived importance of each item: its Pearson correlation with ``outcome`` (pairwise-complete
    answers), negative correlations set to 0.

    The "derived importance" of Hill & Alexander (2006), *The Handbook of Customer Satisfaction
    and Loyalty Measurement*, 3rd ed., ch. 5 — used when no stated importance was asked. Items with
    fewer than 3 paired answers get NaN.
    """
    y = pd.Series(np.asarray(outcome, dtype=float), index=ratings.index)
    out = {}
    for c in ratings.columns:
        x = pd.to_numeric(ratings[c], errors="coerce")
        ok = x.notna() & y.notna()
        out[c] = max(float(np.corrcoef(x[ok], y[ok])[0, 1]), 0.0) if ok.sum() >= 3 and x[ok].std() > 0 else np.nan
    return pd.Series(out, name="importance")


def _item_means(X0: np.ndarray, M: np.ndarray, wts: np.ndarray) -> np.ndarray:
    """Weighted item means, one row per row of ``wts`` (B × n respondent weights); ``X0`` holds 0
    where ``M`` (answered) is false."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (wts @ X0) / (wts @ M)


def _item_correlations(X0: np.ndarray, M: np.ndarray, y: np.ndarray, wts: np.ndarray) -> np.ndarray:
    """Weighted Pearson correlation of each item with ``y`` over pairwise-complete answers, one row
    per row of ``wts``; negative correlations set to 0 (derived importance)."""
    s1, sx, sy, sxx, syy, sxy = (np.zeros((wts.shape[0], X0.shape[1])) for _ in range(6))
    for start in range(0, len(y), 1 << 16):  # blocks of rows: temporaries of one block only
        rows = slice(start, start + (1 << 16))
        ok_y = ~np.isnan(y[rows])
        Mi = M[rows] * ok_y[:, None]
        y0 = np.where(ok_y, y[rows], 0.0)[:, None]
        w = wts[:, rows]
        xi = X0[rows] * Mi
        s1 += w @ Mi
        sx += w @ xi
        sy += w @ (Mi * y0)
        sxx += w @ (xi * X0[rows])
        syy += w @ (Mi * y0**2)
        sxy += w @ (xi * y0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sy / s1
        r = cov / np.sqrt((sxx - sx**2 / s1) * (syy - sy**2 / s1))
    return np.clip(r, 0.0, None)


# --- resampling through weights (Poisson bootstrap) ----------------------------------------------------

#: Rows per block of a resampling pass at 200 replicates (fewer rows per block with more replicates, so a
#: block's weights stay about 2 M numbers). Fixed constants: the random draws depend on them.
_RESAMPLE_BLOCK_ROWS: int = 8192
_RESAMPLE_BLOCK_CELLS: int = 1 << 21


def _poisson1_table() -> np.ndarray:
    u = (np.arange(1 << 16) + 0.5) / (1 << 16)
    table = stats.poisson.ppf(u, 1.0).astype(np.uint8)
    table.flags.writeable = False
    return table


#: Poisson(1) counts at the 65,536 midpoints (i + ½) / 2¹⁶ of the unit interval (inverse CDF).
_POISSON1: np.ndarray = _poisson1_table()


def poisson_weights(rng: np.random.Generator, reps: int, n: int) -> np.ndarray:
    """``(reps, n)`` Poisson(1) resampling counts (``uint8``): how often each row enters each replicate.

    The Poisson bootstrap (Hanley & MacGibbon 2006, *Computer Methods and Programs in Biomedicine*
    83(1); Chamandy, Muralidharan, Najmi & Naidu 2012, "Estimating uncertainty for massive data
    streams", Google) replaces the multinomial counts of a resample of n rows by independent
    Poisson(1) counts, which can be drawn block by block. Counts come from the inverse CDF at 16-bit
    uniforms (one ``uint16`` per count, 30× faster than ``Generator.poisson``); the distribution
    differs from Poisson(1) by less than 2⁻¹⁶ in every cumulative probability (counts above 8,
    probability 1.1e-6, are 8).

    Examples
    --------
    >>> c = poisson_weights(np.random.default_rng(0), 50, 20_000)
    >>> c.shape, abs(float(c.mean()) - 1) < 0.01, abs(float(c.var()) - 1) < 0.01
    ((50, 20000), True, True)
    """
    return _POISSON1[rng.integers(0, 1 << 16, size=(reps, n), dtype=np.uint16)]


def resample_blocks(n: int, reps: int, rng: np.random.Generator) -> Iterator[tuple[slice, np.ndarray]]:
    """Row blocks of a Poisson bootstrap: ``(rows, counts)`` with ``counts`` a float32 ``(reps, rows)``
    array from :func:`poisson_weights`.

    A statistic that is a function of weighted sums Σᵢ cᵢ fᵢ (fᵢ per-row products computed once)
    gets all its replicates as one matrix product per block, ``counts @ F[rows]``: memory is
    replicates × statistics plus one block, never a copy of the rows per replicate. Seeded through
    ``rng``; the block size depends only on ``reps``.
    """
    block = int(min(_RESAMPLE_BLOCK_ROWS, max(256, _RESAMPLE_BLOCK_CELLS // max(reps, 1))))
    for start in range(0, n, block):
        stop = min(n, start + block)
        yield slice(start, stop), poisson_weights(rng, reps, stop - start).astype(np.float32)


def csi(
    ratings: pd.DataFrame,
    importance: Mapping[str, float] | pd.Series | pd.DataFrame | Literal["derived"],
    *,
    outcome: pd.Series | np.ndarray | None = None,
    scale: tuple[int, int] = (1, 10),
    weights: Sequence[float] | pd.Series | np.ndarray | None = None,
    ci: Literal["delta", "bootstrap"] | None = None,
    n_boot: int = 2000,
    seed: int = 20261124,
) -> MetricResult:
    """Customer Satisfaction Index: importance-weighted mean satisfaction, TLF / UKCSI style.

    w_i = I_i / Σ_j I_j and, on 1–10 satisfaction scales, CSI = 10 · Σ_i w_i · S̄_i (10–100), where
    S̄_i is the mean satisfaction with item i over the respondents who rated it (The Leadership
    Factor; Hill, Roche & Allen (2007), *Customer Satisfaction: The customer experience through the
    customer's eyes*, ch. 10; the UK Customer Satisfaction Index of the Institute of Customer
    Service weights the same way). On any other scale lo–hi the item means are first rescaled to
    0–100, S'_i = 100 · (S̄_i − lo) / (hi − lo), and CSI = Σ_i w_i · S'_i; ``method`` says so.

    Parameters
    ----------
    ratings
        One column per item, one row per respondent; NaN = item not rated.
    importance
        Item → importance (e.g. stated mean importance), a DataFrame of per-respondent stated
        importance ratings with the same columns (their means are used), or ``"derived"``: each
        item's correlation with ``outcome``, negatives set to 0 (:func:`derived_importance`).
    outcome
        The overall measure for derived importance (e.g. the NPS answers), aligned with ``ratings``.
    scale
        ``(lo, hi)`` of the satisfaction ratings.
    weights
        Respondent weights (means and correlations are weighted; the interval is bootstrapped).
    ci
        ``"delta"`` (default for fixed importance, unweighted): the CSI is linear in the item means,
        so Var(CSI) = c² · wᵀ C w exactly, with C the covariance matrix of the item means estimated
        from pairwise-complete answers, C_ij = m_ij · ĉov_ij / (n_i · n_j) (m_ij respondents rated
        both; Oehlert (1992), "A note on the delta method", *The American Statistician* 46(1)).
        ``"bootstrap"`` (default for stated or derived importance, or with weights): a seeded
        percentile bootstrap over respondents that re-estimates the importance in every resample
        (Efron & Tibshirani 1993, ch. 13), drawn as Poisson(1) respondent weights on weighted sums
        (:func:`resample_blocks`; memory independent of the number of respondents).

    Returns
    -------
    MetricResult
        ``value`` on 10–100 (1–10 scale) or 0–100; ``n`` respondents with at least one rating
        (Kish's n_eff when weighted); ``n_missing`` rows with none; ``details``: number of items, SE,
        the scale.

    Examples
    --------
    >>> r = csi(pd.DataFrame({"a": [8, 10, 9], "b": [6, 7, None]}), {"a": 3, "b": 1})
    >>> round(r.value, 2)   # 10 · (¾ · 9 + ¼ · 6.5)
    83.75
    """
    if not isinstance(ratings, pd.DataFrame) or ratings.shape[1] == 0:
        raise MetricError("CSI: ratings must be a DataFrame with one column per item")
    items = list(ratings.columns)
    lo, hi = float(scale[0]), float(scale[1])
    if hi <= lo:
        raise MetricError(f"CSI: scale {scale} must be (low, high) with high > low")
    X = ratings.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    M = ~np.isnan(X)
    if np.any(X[M] < lo) or np.any(X[M] > hi):
        bad_v = X[M][(X[M] < lo) | (X[M] > hi)][0]
        raise MetricError(f"CSI: rating {bad_v:g} outside the scale {lo:g}–{hi:g}")
    w_resp = np.ones(len(X))
    if weights is not None:
        w_resp = np.asarray(weights, dtype=float)
        if w_resp.shape != (len(X),):
            raise MetricError(f"CSI: weights have length {len(w_resp)}, ratings {len(X)}")
        if np.any(np.isnan(w_resp)) or np.any(w_resp < 0):
            raise MetricError("CSI: weights must be numbers >= 0")

    kind = "derived" if isinstance(importance, str) else "stated" if isinstance(importance, pd.DataFrame) \
        else "fixed"
    y: Any = None
    imp_raw: Any = None
    IM: Any = None
    imp_fixed: Any = None
    if kind == "derived":
        if importance != "derived":
            raise MetricError(f"CSI: importance {importance!r} not understood; expected a mapping, a DataFrame "
                              "or 'derived'")
        if outcome is None:
            raise MetricError("CSI: derived importance needs the outcome (e.g. outcome=responses['nps'])")
        y = _as_float(outcome)
        if y.shape != (len(X),):
            raise MetricError(f"CSI: outcome has length {len(y)}, ratings {len(X)}")
    elif kind == "stated":
        imp_frame = importance.apply(pd.to_numeric, errors="coerce")  # type: ignore[union-attr]
        missing = [c for c in items if c not in imp_frame.columns]
        if missing:
            raise MetricError(f"CSI: no importance column for item {missing[0]!r}")
        if len(imp_frame) != len(ratings):
            raise MetricError(f"CSI: importance has {len(imp_frame)} rows, ratings {len(ratings)}")
        imp_raw = imp_frame[items].to_numpy(dtype=float)
        IM = ~np.isnan(imp_raw)
    else:
        imp = importance.astype(float) if isinstance(importance, pd.Series) else pd.Series(importance, dtype=float)
        missing = [c for c in items if c not in imp.index]
        if missing:
            raise MetricError(f"CSI: no importance given for item {missing[0]!r}")
        imp_fixed = imp.reindex(items).to_numpy(dtype=float)
        if np.any(np.isnan(imp_fixed)) or np.any(imp_fixed < 0):
            bad = items[int(np.flatnonzero(np.isnan(imp_fixed) | (imp_fixed < 0))[0])]
            raise MetricError(f"CSI: importance of item {bad!r} must be a number >= 0")
        if imp_fixed.sum() <= 0:
            raise MetricError("CSI: importance values sum to zero; expected a positive total")

    rated = M.any(axis=1) & (w_resp > 0)
    n, n_missing = int(rated.sum()), int((~rated).sum())
    if n == 0:
        raise MetricError(f"CSI: no respondent rated any item (n = 0, {n_missing} without ratings)")
    empty = M[rated].sum(axis=0) == 0
    if empty.any():
        raise MetricError(f"CSI: item {items[int(np.flatnonzero(empty)[0])]!r} has no ratings")
    X0, Mf = np.where(M, X, 0.0), M.astype(float)
    factor = 10.0 if (lo, hi) == (1.0, 10.0) else None
    method_scale = "10·Σw·S on 1–10" if factor else f"item means rescaled from {lo:g}–{hi:g} to 0–100"

    def importance_of(wts: np.ndarray) -> np.ndarray:
        if kind == "fixed":
            return np.broadcast_to(imp_fixed, (wts.shape[0], len(items)))
        if kind == "stated":
            return _item_means(np.where(IM, imp_raw, 0.0), IM.astype(float), wts)
        return _item_correlations(X0, Mf, y, wts)

    def index(means: np.ndarray, imp_vec: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            wi = imp_vec / imp_vec.sum(axis=-1, keepdims=True)
        s = factor * means if factor else 100 * (means - lo) / (hi - lo)
        return np.sum(wi * s, axis=-1)

    means = _item_means(X0, Mf, w_resp[None, :])[0]
    imp_vec = importance_of(w_resp[None, :])[0]
    if np.any(np.isnan(imp_vec)) or imp_vec.sum() <= 0:
        raise MetricError(f"CSI: {kind} importance is missing for an item or sums to zero")
    value = float(index(means, imp_vec))
    method = ci or ("delta" if kind == "fixed" and weights is None else "bootstrap")
    if method == "delta":
        if kind != "fixed" or weights is not None:
            raise MetricError("CSI: the delta interval needs fixed importance and no weights; use ci='bootstrap'")
        wi = imp_vec / imp_vec.sum()
        c = factor if factor else 100 / (hi - lo)
        se = float(c * np.sqrt(max(wi @ _mean_covariance(X, M) @ wi, 0.0)))
        ci_lo, ci_hi = value - Z95 * se, value + Z95 * se
        label = f"CSI ({method_scale}, {kind} importance), delta-method interval"
    elif method == "bootstrap":
        bs = _csi_bootstrap(X, M, w_resp, rated, kind, y, imp_raw, IM, means, imp_vec, n_boot, seed, index)
        bs = bs[np.isfinite(bs)]
        ci_lo, ci_hi = (float(v) for v in np.percentile(bs, [2.5, 97.5]))
        se = float(bs.std(ddof=1))
        label = f"CSI ({method_scale}, {kind} importance), percentile bootstrap ({n_boot} resamples, seed {seed})"
    else:
        raise MetricError(f"unknown CSI interval {ci!r}; expected 'delta' or 'bootstrap'")
    bottom = 10.0 if factor else 0.0
    base: float = n if weights is None else kish_n_eff(w_resp[rated])
    return MetricResult(
        "csi", value, base, max(bottom, ci_lo), min(100.0, ci_hi), label, n_missing, weights is not None,
        {"items": float(len(items)), "se": se, "scale_min": lo, "scale_max": hi},
    )


def _csi_bootstrap(
    X: np.ndarray,
    M: np.ndarray,
    w_resp: np.ndarray,
    rated: np.ndarray,
    kind: str,
    y: np.ndarray | None,
    imp_raw: np.ndarray | None,
    IM: np.ndarray | None,
    means: np.ndarray,
    imp_vec: np.ndarray,
    n_boot: int,
    seed: int,
    index: Any,
) -> np.ndarray:
    """CSI replicates of a Poisson bootstrap over the rated respondents, from weighted sums only.

    Every replicate's item means, stated importance means and derived importance (pairwise Pearson
    correlations with the outcome) are ratios of weighted sums Σᵢ cᵢ wᵢ fᵢ over respondents, with
    cᵢ the replicate's Poisson(1) count (:func:`resample_blocks`) and wᵢ the respondent weight. The
    per-respondent products fᵢ are formed once per block of rows (ratings and outcome centred at the
    full-sample means, so float32 products lose nothing to cancellation) and all replicates come from
    one matrix product per block: memory is replicates × items, whatever the number of respondents.
    Efron & Tibshirani (1993), ch. 13; Hanley & MacGibbon (2006) for the Poisson weights.
    """
    k = X.shape[1]
    idx = np.flatnonzero(rated)
    yc = 0.0
    if kind == "derived":
        assert y is not None
        ok = rated & ~np.isnan(y)
        yc = float(np.average(y[ok], weights=w_resp[ok])) if w_resp[ok].sum() > 0 else 0.0

    def features(rows: np.ndarray) -> np.ndarray:
        m = M[rows]
        mf = m.astype(np.float64)
        x = np.where(m, X[rows] - means, 0.0)
        cols = [mf, x]
        if kind == "derived":
            assert y is not None
            yr = y[rows]
            okr = ~np.isnan(yr)
            mi = mf * okr[:, None]
            y0 = np.where(okr, yr - yc, 0.0)[:, None]
            xi = x * mi
            cols += [mi, xi, mi * y0, xi * x, mi * y0**2, xi * y0]
        elif kind == "stated":
            assert IM is not None and imp_raw is not None
            cols += [IM[rows].astype(np.float64), np.where(IM[rows], imp_raw[rows], 0.0)]
        return (np.concatenate(cols, axis=1) * w_resp[rows][:, None]).astype(np.float32)

    rng = np.random.default_rng(seed)
    acc: np.ndarray | None = None
    with threadpool_limits(1, user_api="blas"):  # one BLAS thread: notebooks run side by side
        for sl, counts in resample_blocks(len(idx), n_boot, rng):
            part = (counts @ features(idx[sl])).astype(np.float64)
            acc = part if acc is None else acc + part
    assert acc is not None
    s = [acc[:, j * k : (j + 1) * k] for j in range(acc.shape[1] // k)]
    with np.errstate(invalid="ignore", divide="ignore"):
        boot_means = means + s[1] / s[0]
        if kind == "fixed":
            imp = np.broadcast_to(imp_vec, boot_means.shape)
        elif kind == "stated":
            imp = s[3] / s[2]
        else:
            s1, sx, sy, sxx, syy, sxy = s[2:8]
            cov = sxy - sx * sy / s1
            imp = np.clip(cov / np.sqrt((sxx - sx**2 / s1) * (syy - sy**2 / s1)), 0.0, None)
    return np.asarray(index(boot_means, imp))


def _mean_covariance(X: np.ndarray, M: np.ndarray) -> np.ndarray:
    """Covariance matrix of the item means under pairwise-available answers.

    C_ij = m_ij · ĉov_ij / (n_i · n_j), ĉov_ij the sample covariance (ddof = 1) over the m_ij
    respondents who answered both (means over those respondents); C_ii = s_i² / n_i.
    """
    k = X.shape[1]
    n_i = M.sum(axis=0).astype(float)
    C = np.zeros((k, k))
    for i in range(k):
        for j in range(i, k):
            both = M[:, i] & M[:, j]
            m = int(both.sum())
            if m < 2:
                continue
            xi, xj = X[both, i], X[both, j]
            cov = float(np.sum((xi - xi.mean()) * (xj - xj.mean())) / (m - 1))
            C[i, j] = C[j, i] = m * cov / (n_i[i] * n_i[j])
    return C


def csi_items(
    ratings: pd.DataFrame,
    importance: Mapping[str, float] | pd.Series | Literal["derived"],
    *,
    outcome: pd.Series | np.ndarray | None = None,
    scale: tuple[int, int] = (1, 10),
) -> pd.DataFrame:
    """The items behind :func:`csi` (unweighted): importance, weight w_i, n_i, mean S̄_i, the score on
    the index scale and its contribution w_i · score (the contributions sum to the CSI)."""
    if isinstance(importance, str):
        if outcome is None:
            raise MetricError("CSI items: derived importance needs the outcome")
        imp = derived_importance(ratings, outcome)
    else:
        imp = pd.Series(importance, dtype=float)
    imp = imp.reindex(ratings.columns)
    X = ratings.apply(pd.to_numeric, errors="coerce")
    lo, hi = float(scale[0]), float(scale[1])
    mean = X.mean()
    score = 10 * mean if (lo, hi) == (1.0, 10.0) else 100 * (mean - lo) / (hi - lo)
    w = imp / imp.sum()
    out = pd.DataFrame({"item": list(ratings.columns), "importance": imp.to_numpy(), "weight": w.to_numpy(),
                        "n": X.notna().sum().to_numpy(), "mean": mean.to_numpy(), "score": score.to_numpy()})
    out["contribution"] = out["weight"] * out["score"]
    return out


# --- customers: churn, retention, revenue, LTV ---------------------------------------------------


def _customer_groups(customers: pd.DataFrame, by: Sequence[str], what: str) -> tuple[_Groups, pd.DataFrame]:
    _require(customers, list(by), what)
    return _groups(customers, by, None, ""), customers


def churn_table(
    customers: pd.DataFrame, by: Sequence[str] = (), *, churned: str = "churned", min_base: int = 30
) -> pd.DataFrame:
    """Churn and retention share per group, with Wilson 95% intervals.

    ``churn_rate`` = churned / customers over the period the ``churned`` flag covers;
    ``retention_rate`` = 1 − churn_rate (its interval is the mirrored Wilson interval). Customers
    with a missing flag are left out (``n`` counts the rest).
    """
    _require(customers, [churned, *by], "churn table")
    g, _ = _customer_groups(customers, by, "churn table")
    flag = customers[churned]
    if pd.api.types.is_bool_dtype(flag.dtype):
        x = flag.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    else:
        x = pd.to_numeric(flag, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if np.any((x[~np.isnan(x)] != 0) & (x[~np.isnan(x)] != 1)):
        raise MetricError(f"churn table: column {churned!r} must be true/false (1/0)")
    ok = (g.codes >= 0) & ~np.isnan(x)
    n = np.bincount(g.codes[ok], minlength=g.n_groups).astype(float)
    k = np.bincount(g.codes[ok], weights=x[ok], minlength=g.n_groups)
    obs = n > 0
    out = g.labels.loc[obs].reset_index(drop=True)
    n, k = n[obs], k[obs]
    lo, hi = _wilson(k, n)
    out["n"], out["churned"] = n, k
    out["churn_rate"], out["ci_low"], out["ci_high"] = k / n, lo, hi
    out["retention_rate"], out["retention_ci_low"], out["retention_ci_high"] = 1 - k / n, 1 - hi, 1 - lo
    out["small_base"] = out["n"] < min_base
    return out


def customer_value_table(
    customers: pd.DataFrame,
    by: Sequence[str] = (),
    *,
    period_years: float,
    revenue: str = "revenue",
    churned: str = "churned",
    margin: float = 1.0,
    discount_rate: float = 0.0,
    min_base: int = 30,
) -> pd.DataFrame:
    """Revenue per customer and a simple lifetime value (LTV) per group, with 95% intervals.

    - ``revenue_mean``: mean annual revenue per customer, Student t interval; ``revenue_total``.
    - ``annual_churn``: the churn share c observed over ``period_years``, annualised under a
      constant hazard, a = 1 − (1 − c)^(1 / T); its interval maps the Wilson bounds of c (a is
      monotone in c).
    - ``ltv`` = margin · R̄ · (1 + i) / (i + a): margins received at the start of each year while the
      customer stays, discounted at rate i (Gupta, Lehmann & Stuart (2004), "Valuing customers",
      *Journal of Marketing Research* 41(1), with retention r = 1 − a). With i = 0 it is the simple
      form of METHODS.md, margin per year ÷ annual churn. ``margin = 1`` gives a revenue-based LTV.
    - LTV interval: delta method on the log scale, Var(log LTV) ≈ s²/(n·R̄²) + (a′(c)/(i + a))² ·
      c(1 − c)/n, assuming revenue and churn estimates independent; exp(log LTV ± 1.96·SE).
      No churn in a group with i = 0 gives an unbounded LTV: NaN.
    """
    if period_years <= 0:
        raise MetricError(f"customer value: period_years must be > 0, got {period_years}")
    if not 0 < margin <= 1:
        raise MetricError(f"customer value: margin must be in (0, 1], got {margin}")
    if discount_rate < 0:
        raise MetricError(f"customer value: discount_rate must be >= 0, got {discount_rate}")
    _require(customers, [revenue, churned, *by], "customer value")
    churn = churn_table(customers, by, churned=churned, min_base=min_base)
    g, _ = _customer_groups(customers, by, "customer value")
    r = _numeric(customers, revenue)
    ok = (g.codes >= 0) & ~np.isnan(r)
    nr = np.bincount(g.codes[ok], minlength=g.n_groups).astype(float)
    sr = np.bincount(g.codes[ok], weights=r[ok], minlength=g.n_groups)
    sr2 = np.bincount(g.codes[ok], weights=r[ok] ** 2, minlength=g.n_groups)
    rev = g.labels.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sr / nr
        sd = np.sqrt(np.maximum(sr2 - nr * mean**2, 0) / (nr - 1))
        half = stats.t.ppf(0.975, nr - 1) * sd / np.sqrt(nr)
    rev["revenue_n"], rev["revenue_mean"], rev["revenue_total"] = nr, mean, sr
    rev["revenue_ci_low"], rev["revenue_ci_high"], rev["revenue_sd"] = mean - half, mean + half, sd
    keys = list(by)
    out = churn.merge(rev, on=keys, how="left") if keys else pd.concat([churn, rev], axis=1)
    T, i, m = float(period_years), float(discount_rate), float(margin)

    def annual(c: np.ndarray) -> np.ndarray:
        return 1 - (1 - c) ** (1 / T)

    c = out["churn_rate"].to_numpy(float)
    a = annual(c)
    out["annual_churn"], out["annual_churn_ci_low"], out["annual_churn_ci_high"] = (
        a, annual(out["ci_low"].to_numpy(float)), annual(out["ci_high"].to_numpy(float)))
    R, n_c, n_r = out["revenue_mean"].to_numpy(float), out["n"].to_numpy(float), out["revenue_n"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        ltv = np.where(i + a > 0, m * R * (1 + i) / (i + a), np.nan)
        da_dc = (1 / T) * (1 - c) ** (1 / T - 1)
        var_log = (out["revenue_sd"].to_numpy(float) ** 2) / (n_r * R**2) + (da_dc / (i + a)) ** 2 * c * (1 - c) / n_c
        se_log = np.sqrt(var_log)
    out["ltv"] = ltv
    out["ltv_ci_low"], out["ltv_ci_high"] = ltv * np.exp(-Z95 * se_log), ltv * np.exp(Z95 * se_log)
    out["small_base"] = out["n"] < min_base
    return out


def period_churn_from_exposure(tab: pd.DataFrame, period_months: float) -> pd.DataFrame:
    """Churn per period from events and person-time: adds ``hazard`` (events per customer-month),
    ``period_churn`` = 1 − exp(−period · hazard) and its 95% interval from the exact Poisson interval of
    the event count (Garwood 1936: χ²(0.025; 2d) / 2T and χ²(0.975; 2d + 2) / 2T; lower bound 0 when d = 0).

    ``tab`` has ``events`` and ``exposure_months`` per row; it is changed in place and returned. The churn
    section (pandas) and the query engine (aggregates from DuckDB / Spark) share it.

    >>> period_churn_from_exposure(pd.DataFrame({"events": [12], "exposure_months": [1200.0]}), 12)[
    ...     ["hazard", "period_churn"]].round(4).values.tolist()
    [[0.01, 0.1131]]
    """
    d, tm = tab["events"].to_numpy(float), tab["exposure_months"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        lam = d / tm
        lo = np.where(d > 0, stats.chi2.ppf(0.025, 2 * d) / (2 * tm), 0.0)
        hi = stats.chi2.ppf(0.975, 2 * d + 2) / (2 * tm)
    tab["hazard"] = lam
    tab["period_churn"] = 1 - np.exp(-period_months * lam)
    tab["ci_low"] = 1 - np.exp(-period_months * lo)
    tab["ci_high"] = 1 - np.exp(-period_months * hi)
    return tab
