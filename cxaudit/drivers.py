"""Key-driver analysis: exact Shapley / LMG and Johnson's relative weights, with importance–performance.

Which inputs move an outcome (NPS, eNPS, CSAT)? Both methods split the model's R² into non-negative
shares that add up to R², one per driver, so correlated drivers (every survey's touchpoint ratings)
are handled without the sign flips and arbitrary splits of raw regression coefficients.

Methods
-------
- **Shapley / LMG** (default; Lindeman, Merenda & Gold 1980; Grömping 2006, *JSS* 17(1), R package
  ``relaimpo``, ``calc.relimp(type="lmg")``; the same as dominance analysis' *general dominance*,
  Azen & Budescu 2003)::

      φ_j = Σ_{S ⊆ P∖{j}} |S|! (p − |S| − 1)! / p! · [R²(S ∪ {j}) − R²(S)],   Σ_j φ_j = R²(P)

  with R²(S) = r_Sᵀ R_SS⁻¹ r_S from the correlation matrix (no regression is refitted). All 2^p subsets
  are computed *exactly* by :func:`subset_r2`: a breadth-first sweep (Beaton 1964's sweep operator)
  that decides driver 0, 1, …, p−1 in turn for every partial subset at once, keeping only the partial
  covariance matrix of the drivers still undecided and the outcome. Work is about 3 · 2^p small
  multiply-adds, so 20 drivers take a few hundredths of a second (Displayr/Q switch exact Shapley off
  above 15 drivers). Up to :data:`MAX_SHAPLEY_DRIVERS` drivers.
- **Johnson's relative weights** (Johnson 2000, *Multivariate Behavioral Research* 35(1); R package
  ``rwa``, ``rwa()``): R_xx = VΛVᵀ, Λ½ = VΛ^½Vᵀ, β = Λ½⁻¹ r_xy, R² = Σβ², raw weights
  ε = (Λ½ ∘ Λ½) β². An approximation of LMG that scales to any number of drivers; Thomas et al.
  (2014, *MBR* 49(3)) criticise its rationale, so Shapley is the default.

Missing data are handled explicitly and stated in ``attrs["missing"]``: ``"pairwise"`` (default: each
correlation on the rows where both variables are present, like R's ``cor(use="pairwise")``; needed
for touchpoint ratings, where every respondent rates only the touchpoints they used) or
``"listwise"`` (only rows with every variable present). Rows without the outcome are never used.

Significance is *not* "the bootstrap interval excludes zero" (weights are bounded at zero, so that is
always true; rwa issue #26): each driver is compared with a random-noise predictor added to the model
in every bootstrap replicate (Tonidandel, LeBreton & Johnson 2009, *Psychological Methods* 14(4)),
and a driver is significant when the 95% interval of (its importance − the noise's importance) lies
above zero.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(1)
>>> df = pd.DataFrame(rng.normal(size=(500, 3)), columns=["a", "b", "c"])
>>> df["y"] = 2 * df["a"] + df["b"] + rng.normal(size=500)
>>> res = relative_importance(df, "y", ["a", "b", "c"])
>>> list(res.index), bool(abs(res["importance"].sum() - res.attrs["r2"]) < 1e-12)
(['a', 'b', 'c'], True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache
from typing import Any, Literal

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from .errors import MetricError
from .metrics import resample_blocks

__all__ = [
    "DEFAULT_METHOD",
    "MAX_SHAPLEY_DRIVERS",
    "METHODS",
    "QUADRANTS",
    "correlation_matrix",
    "describe",
    "importance_performance",
    "relative_importance",
    "relative_weights",
    "shapley_values",
    "subset_r2",
]

Method = Literal["shapley", "relative_weights"]
Missing = Literal["pairwise", "listwise"]

METHODS: tuple[str, ...] = ("shapley", "relative_weights")
#: The default method: exact Shapley / LMG (axiomatic; relative weights only approximate it).
DEFAULT_METHOD: str = "shapley"
#: Exact Shapley enumerates 2^p subsets; 24 drivers = 16.8 M subsets, about 1 GB of working memory.
MAX_SHAPLEY_DRIVERS: int = 24
#: Smallest eigenvalue of the drivers' correlation matrix accepted (below: collinear drivers).
_MIN_EIGENVALUE: float = 1e-10
_MIN_PAIR_N: int = 3
#: Rows per block of :func:`correlation_matrix` (bounds its temporaries at ~1 M rows).
_CORR_BLOCK_ROWS: int = 1 << 16
_SOURCES = {
    "shapley": "Shapley / LMG (Lindeman, Merenda & Gold 1980; relaimpo, Grömping 2006)",
    "relative_weights": "Johnson's relative weights (Johnson 2000; R package rwa)",
}

#: Importance–performance quadrants (Martilla & James 1977), keyed by (high importance, high performance).
QUADRANTS: dict[tuple[bool, bool], str] = {
    (True, False): "concentrate_here",
    (True, True): "keep_up",
    (False, False): "low_priority",
    (False, True): "possible_overkill",
}


# --- the core: correlation matrix -> importance ------------------------------------------------------


def subset_r2(r_xx: np.ndarray, r_xy: np.ndarray) -> np.ndarray:
    """R² of the regression of the outcome on every subset of the drivers, exactly.

    Element ``mask`` of the result is R²(S) for the subset S whose members are the set bits of
    ``mask`` (bit j = driver j); element 0 is 0 and element 2^p − 1 is the full model's R².

    Algorithm: start from the (p+1) × (p+1) correlation matrix of drivers and outcome. Deciding
    driver j for a partial subset either drops it (the matrix loses its first row and column) or
    sweeps on it (Beaton 1964): A' = A₋ − a aᵀ / a_jj, the partial covariances given j. This is done
    for all 2^j partial subsets at once, depth by depth, on the packed lower triangles (one row per
    matrix element, one column per partial subset, so each update is a contiguous vector operation).
    At the end the remaining 1 × 1 matrix is the outcome's residual variance 1 − R²(S). The partial
    variances a_jj are Schur complements of a positive-definite matrix, so they never fall below its
    smallest eigenvalue (checked by the callers). Work: about 3 · 2^p multiply-adds.

    Parameters
    ----------
    r_xx : (p, p) array
        Correlation (or covariance of standardised) drivers; positive definite.
    r_xy : (p,) array
        Correlations of the drivers with the outcome.

    Returns
    -------
    (2^p,) array of float

    Examples
    --------
    >>> v = subset_r2(np.array([[1.0, 0.5], [0.5, 1.0]]), np.array([0.6, 0.4]))
    >>> [round(float(x), 6) for x in v]        # {}, {0}, {1}, {0, 1}: 0.28 / 0.75 for both
    [0.0, 0.36, 0.16, 0.373333]
    """
    r_xx = np.asarray(r_xx, dtype=float)
    r_xy = np.asarray(r_xy, dtype=float)
    p = r_xy.size
    m = p + 1
    full = np.empty((m, m))
    full[:p, :p], full[:p, p], full[p, :p], full[p, p] = r_xx, r_xy, r_xy, 1.0
    # packed lower triangle, row-major: element (i, j <= i) at row i(i+1)/2 + j; columns = partial subsets
    tri = np.concatenate([full[i, : i + 1] for i in range(m)])[:, None].copy()
    for _ in range(p):
        b, k = tri.shape[1], m - 1
        out = np.empty((k * (k + 1) // 2, 2 * b))  # [:, :b] driver left out (bit 0), [:, b:] swept in (bit 1)
        a0 = tri[[i * (i + 1) // 2 for i in range(1, m)]]  # a_i0 for i = 1..k
        col = a0 / tri[0]
        for i in range(k):  # new row i = old row i + 1, columns 1..i + 1
            old_lo, new_lo = (i + 1) * (i + 2) // 2 + 1, i * (i + 1) // 2
            old_rows = tri[old_lo : old_lo + i + 1]
            out[new_lo : new_lo + i + 1, :b] = old_rows
            inc = out[new_lo : new_lo + i + 1, b:]
            np.multiply(col[i], a0[: i + 1], out=inc)
            np.subtract(old_rows, inc, out=inc)
        tri, m = out, k
    return 1.0 - tri[0]


@cache
def _subset_weights(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Per subset mask: h = w(|S|−1) + w(|S|) and w(|S|), with w(k) = k!(p−k−1)!/p!, w(−1) = w(p) = 0."""
    sizes = np.zeros(1, dtype=np.int64)
    for _ in range(p):
        sizes = np.concatenate([sizes, sizes + 1])
    w = np.array([0.0] + [1.0 / (p * math.comb(p - 1, k)) for k in range(p)] + [0.0])  # w[k + 1] = w(k)
    h, g = w[sizes] + w[sizes + 1], w[sizes + 1]
    h.flags.writeable = g.flags.writeable = False
    return h, g


def shapley_values(r_xx: np.ndarray, r_xy: np.ndarray, r2: np.ndarray | None = None) -> np.ndarray:
    """Exact Shapley values (LMG) of R² from the correlation matrix.

    φ_j = Σ_{S ∌ j} |S|! (p − |S| − 1)! / p! · [R²(S ∪ {j}) − R²(S)] (Lindeman, Merenda & Gold 1980;
    Grömping 2006). ``r2`` may pass a precomputed :func:`subset_r2` table.

    Computed as φ_j = Σ_{S ∋ j} [w(|S|−1) + w(|S|)] R²(S) − Σ_S w(|S|) R²(S) (w(k) the weight above,
    w(p) = 0): the second sum is the same for every j, and the first is read off for all j at once
    by folding the 2^p table one bit at a time (about 2 · 2^p additions).

    Examples
    --------
    >>> phi = shapley_values(np.array([[1.0, 0.5], [0.5, 1.0]]), np.array([0.6, 0.4]))
    >>> [round(float(x), 6) for x in phi]      # ½ (0.36 + R² − 0.16) and the rest
    [0.286667, 0.086667]
    """
    r_xy = np.asarray(r_xy, dtype=float)
    p = r_xy.size
    v = subset_r2(r_xx, r_xy) if r2 is None else np.asarray(r2, dtype=float)
    if v.size != 1 << p:
        raise MetricError(f"shapley_values: the subset table has {v.size} entries; expected 2^{p} = {1 << p}")
    h, g = _subset_weights(p)
    common = float(np.einsum("i,i->", g, v))  # not BLAS ddot: see correlation_matrix
    u = h * v
    phi = np.empty(p)
    for j in range(p):  # bit j is the lowest remaining axis of u
        pairs = u.reshape(-1, 2)
        phi[j] = float(pairs[:, 1].sum()) - common
        u = pairs[:, 0] + pairs[:, 1]
    return phi


def relative_weights(r_xx: np.ndarray, r_xy: np.ndarray) -> tuple[np.ndarray, float]:
    """Johnson's (2000) relative weights and the model's R².

    R_xx = VΛVᵀ; Λ½ = VΛ^½Vᵀ (the correlations of the drivers with their closest orthogonal
    counterparts); β = Λ½⁻¹ r_xy; R² = Σβ²; raw weights ε = (Λ½ ∘ Λ½) β², which sum to R².
    Reference implementation: R package ``rwa`` (martinctc/rwa).

    Examples
    --------
    >>> eps, r2 = relative_weights(np.eye(3), np.array([0.5, 0.3, 0.1]))   # uncorrelated: r²
    >>> [round(float(x), 6) for x in eps], round(r2, 6)
    ([0.25, 0.09, 0.01], 0.35)
    """
    lam, vec = np.linalg.eigh(np.asarray(r_xx, dtype=float))
    half = (vec * np.sqrt(np.clip(lam, 0.0, None))) @ vec.T
    beta = np.linalg.solve(half, np.asarray(r_xy, dtype=float))
    eps = (half**2) @ (beta**2)
    return eps, float(np.sum(beta**2))


def _importance(method: str, r_xx: np.ndarray, r_xy: np.ndarray) -> tuple[np.ndarray, float]:
    if method == "shapley":
        v = subset_r2(r_xx, r_xy)
        return shapley_values(r_xx, r_xy, v), float(v[-1])
    return relative_weights(r_xx, r_xy)


# --- correlation matrices with explicit missing-data handling -----------------------------------------


def correlation_matrix(
    x: np.ndarray, weights: np.ndarray | None = None, missing: Missing = "pairwise"
) -> tuple[np.ndarray, np.ndarray]:
    """(Weighted) Pearson correlation matrix of the columns of ``x`` (NaN = missing) and pair counts.

    ``missing="pairwise"``: each r_jk uses the rows where both j and k are present, with means and
    variances of those rows (R: ``cor(x, use = "pairwise.complete.obs")``; with weights, the
    weighted moments of those rows). ``"listwise"``: only rows with every column present.

    Returns
    -------
    corr : (k, k) array
    counts : (k, k) int array
        Rows behind each correlation.

    Examples
    --------
    >>> x = np.array([[1.0, 2.0], [2.0, np.nan], [3.0, 7.0], [4.0, 8.0]])
    >>> c, n = correlation_matrix(x)
    >>> round(float(c[0, 1]), 6), int(n[0, 1])   # rows 1, 3, 4: 87 / √(42 · 186)
    (0.984324, 3)
    """
    x = np.asarray(x, dtype=float)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    if missing == "listwise":
        keep = ~np.isnan(x).any(axis=1)
        x, w = x[keep], w[keep]
    k = x.shape[1]
    # centre first (on the available values) so the moment sums do not cancel
    cnt = np.sum(~np.isnan(x), axis=0)
    mu = np.nansum(x, axis=0) / np.maximum(cnt, 1)

    # Skinny (k × n)(n × k) products: numpy's own einsum loops rather than BLAS, whose threads spin
    # and stall when notebooks run in parallel on a busy machine (measured: 5 ms -> 1 s per call).
    def cross(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return np.einsum("ij,ik->jk", u, v, optimize=False)

    counts = np.zeros((k, k))
    sw, s1, s2, sxy = (np.zeros((k, k)) for _ in range(4))
    for start in range(0, len(x), _CORR_BLOCK_ROWS):  # blocks: temporaries of one block, not of every row
        xb, wb = x[start : start + _CORR_BLOCK_ROWS], w[start : start + _CORR_BLOCK_ROWS, None]
        present = ~np.isnan(xb)
        mf = present.astype(float)
        x0 = np.where(present, xb - mu, 0.0)
        xw = x0 * wb
        counts += cross(mf, mf)
        sw += cross(mf * wb, mf)  # Σ w over the rows where j and k are both present
        s1 += cross(xw, mf)  # [j, k]: Σ w x_j over those rows
        s2 += cross(xw * x0, mf)  # [j, k]: Σ w x_j²
        sxy += cross(xw, x0)  # Σ w x_j x_k (zeros where either is missing)
    counts = np.rint(counts).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mj = s1 / sw
        cov = sxy / sw - mj * mj.T
        var_j = s2 / sw - mj**2
        corr = cov / np.sqrt(var_j * var_j.T)
    np.fill_diagonal(corr, 1.0)
    return corr, counts


# --- the public entry point ----------------------------------------------------------------------


def _numeric(data: pd.DataFrame, col: str) -> np.ndarray:
    if col not in data.columns:
        raise MetricError(f"relative_importance: column '{col}' not found in the data; expected a numeric column")
    s = data[col]
    if pd.api.types.is_bool_dtype(s):
        s = s.astype(float)
    num = pd.to_numeric(s, errors="coerce")
    bad = s.notna() & num.isna()
    if bad.any():
        raise MetricError(
            f"relative_importance: column '{col}' has non-numeric value {s[bad].iloc[0]!r}; expected numbers"
        )
    return num.to_numpy(dtype=float, na_value=np.nan)


def _weights(data: pd.DataFrame, weights: str | Sequence[float] | np.ndarray | pd.Series | None) -> np.ndarray | None:
    if weights is None:
        return None
    if isinstance(weights, str):
        w = _numeric(data, weights)
        what = f"weight column '{weights}'"
    else:
        w = np.asarray(weights, dtype=float)
        what = "weights"
        if w.shape != (len(data),):
            raise MetricError(f"relative_importance: {what} have length {w.size}; expected one per row ({len(data)})")
    if np.any(w[~np.isnan(w)] < 0):
        raise MetricError(f"relative_importance: {what} must be >= 0")
    return w


def _check_pd(r_xx: np.ndarray, drivers: list[str], missing: str) -> None:
    lam, vec = np.linalg.eigh(r_xx)
    if lam[0] > _MIN_EIGENVALUE:
        return
    load = np.abs(vec[:, 0])
    involved = [drivers[i] for i in np.argsort(-load) if load[i] > 0.1]
    hint = " or missing='listwise'" if missing == "pairwise" else ""
    raise MetricError(
        f"relative_importance: the drivers' correlation matrix is not positive definite (smallest eigenvalue "
        f"{lam[0]:.3g}); drivers {', '.join(repr(d) for d in involved)} are (nearly) collinear; expected "
        f"linearly independent drivers: drop one of them{hint}"
    )


def _prepare(
    data: pd.DataFrame, outcome: str, drivers: Sequence[str], method: str, missing: str, bootstrap: int
) -> list[str]:
    if not isinstance(data, pd.DataFrame):
        raise MetricError(f"relative_importance: data must be a pandas DataFrame, got {type(data).__name__}")
    drivers = [str(d) for d in drivers]
    if not drivers:
        raise MetricError("relative_importance: no drivers given; expected at least one driver column")
    dup = sorted({d for d in drivers if drivers.count(d) > 1})
    if dup:
        raise MetricError(f"relative_importance: driver(s) {dup} listed twice; expected each driver once")
    if outcome in drivers:
        raise MetricError(f"relative_importance: the outcome '{outcome}' is also listed as a driver")
    if method not in METHODS:
        raise MetricError(f"relative_importance: method {method!r} unknown; expected one of {', '.join(METHODS)}")
    if missing not in ("pairwise", "listwise"):
        raise MetricError(f"relative_importance: missing={missing!r} unknown; expected 'pairwise' or 'listwise'")
    if method == "shapley" and len(drivers) > MAX_SHAPLEY_DRIVERS:
        raise MetricError(
            f"relative_importance: exact Shapley with {len(drivers)} drivers means 2^{len(drivers)} subsets; "
            f"expected at most {MAX_SHAPLEY_DRIVERS} drivers (use method='relative_weights' for more)"
        )
    if not isinstance(bootstrap, int | np.integer) or bootstrap < 0:
        raise MetricError(f"relative_importance: bootstrap must be an integer >= 0, got {bootstrap!r}")
    return drivers


def relative_importance(
    data: pd.DataFrame,
    outcome: str,
    drivers: Sequence[str],
    method: Method = "shapley",
    weights: str | Sequence[float] | np.ndarray | pd.Series | None = None,
    bootstrap: int = 0,
    missing: Missing = "pairwise",
    seed: int = 20261124,
    level: float = 0.95,
) -> pd.DataFrame:
    """Relative importance of ``drivers`` for ``outcome``: exact Shapley / LMG or Johnson's weights.

    Parameters
    ----------
    data : DataFrame
        One row per respondent; ``outcome`` and ``drivers`` are numeric columns (NaN = not answered).
    outcome : str
        The column to explain (e.g. ``nps``).
    drivers : sequence of str
        The explanatory columns (e.g. the ``tp_<touchpoint>`` ratings).
    method : {"shapley", "relative_weights"}
        Exact Shapley / LMG (default) or Johnson's (2000) relative weights (formulas in the module
        docstring).
    weights : str, array or None
        Survey weights: a column name or one value per row. Correlations use weighted moments;
        ``attrs["n_eff"]`` is Kish's (Σw)²/Σw².
    bootstrap : int
        Number of bootstrap replicates: a Poisson bootstrap over rows (each row enters a replicate
        Poisson(1) times; Hanley & MacGibbon 2006), computed on weighted sums without copying rows
        (survey weights carried along).
        With ``bootstrap > 0`` the result gains percentile intervals and the random-noise
        significance test (Tonidandel, LeBreton & Johnson 2009).
    missing : {"pairwise", "listwise"}
        How missing answers are handled (stated in ``attrs["missing"]``); rows without the outcome
        (or without a weight) are never used.
    seed : int
        Seed of ``numpy.random.default_rng`` for the bootstrap and the noise predictor.
    level : float
        Confidence level of the intervals.

    Returns
    -------
    DataFrame
        Indexed by driver, sorted by rank, with columns

        - ``importance``: the raw share of R² (they sum to R²);
        - ``share``: % of R² (sum 100);
        - ``rank``: 1 = most important;
        - ``sign``: +1 / −1, the sign of the driver's standardised coefficient in the full model
          (as rwa's ``applysigns``);
        - ``beta``: that standardised coefficient; ``r``: the zero-order correlation with the outcome;
        - ``n``: rows where both the driver and the outcome are present;
        - with ``bootstrap``: ``ci_low``, ``ci_high`` (of ``importance``), ``share_ci_low``,
          ``share_ci_high``, ``noise_diff_ci_low``, ``noise_diff_ci_high`` (importance minus the
          noise predictor's), ``p_noise`` (share of replicates where the driver did not beat the
          noise) and ``significant`` (the interval of the difference lies above 0).

        ``attrs``: ``r2``, ``method``, ``missing``, ``n`` (rows used), ``n_eff``, ``weighted``,
        ``outcome``, ``bootstrap``, ``n_boot_used``, ``seed``, ``level``, ``min_pair_n`` and
        ``source``.

    Raises
    ------
    MetricError
        Naming the column and what was expected: a missing or non-numeric column, a constant
        column, too few rows for a pair, collinear drivers, too many drivers for exact Shapley,
        an unknown method.

    Examples
    --------
    >>> import pandas as pd
    >>> cars = pd.DataFrame({"mpg": [21, 22.8, 21.4, 18.7, 18.1, 14.3, 24.4, 22.8],
    ...                      "hp": [110, 93, 110, 175, 105, 245, 62, 95],
    ...                      "wt": [2.62, 2.32, 3.215, 3.44, 3.46, 3.57, 3.19, 3.15]})
    >>> res = relative_importance(cars, "mpg", ["hp", "wt"])
    >>> res.index[0], int(res.loc["hp", "sign"]), round(float(res["share"].sum()), 6)
    ('hp', -1, 100.0)
    """
    drivers = _prepare(data, outcome, drivers, method, missing, bootstrap)
    if not 0.0 < float(level) < 1.0:
        raise MetricError(f"relative_importance: level must lie strictly between 0 and 1, got {level!r}")
    y = _numeric(data, outcome)
    x = np.column_stack([_numeric(data, d) for d in drivers])
    w = _weights(data, weights)
    keep = ~np.isnan(y)
    if w is not None:
        keep &= ~np.isnan(w)
    y, x = y[keep], x[keep]
    w = w[keep] if w is not None else None
    if missing == "listwise":
        full = ~np.isnan(x).any(axis=1)
        y, x = y[full], x[full]
        w = w[full] if w is not None else None
    z = np.column_stack([x, y])
    names = [*drivers, outcome]
    n = len(y)
    if n < _MIN_PAIR_N:
        raise MetricError(
            f"relative_importance: {n} rows have the outcome '{outcome}'"
            f"{' and every driver (listwise)' if missing == 'listwise' else ''}; expected at least {_MIN_PAIR_N}"
        )
    if w is not None and w.sum() <= 0:
        raise MetricError("relative_importance: the weights of the usable rows sum to zero; expected a positive total")
    corr, counts = correlation_matrix(z, w, "pairwise")  # rows are already listwise-complete if asked
    for j, name in enumerate(names):
        if counts[j, j] and not np.isfinite(corr[j, :]).all():
            k = int(np.flatnonzero(~np.isfinite(corr[j, :]))[0])
            if counts[j, k] < _MIN_PAIR_N:
                raise MetricError(
                    f"relative_importance: columns '{name}' and '{names[k]}' are both answered in only "
                    f"{counts[j, k]} rows; expected at least {_MIN_PAIR_N}"
                )
            raise MetricError(
                f"relative_importance: column '{names[k] if k != j else name}' is constant where "
                f"'{name}' is answered; expected varying values"
            )
        if counts[j, j] < _MIN_PAIR_N:
            raise MetricError(
                f"relative_importance: column '{name}' has {counts[j, j]} answers among the rows with the "
                f"outcome; expected at least {_MIN_PAIR_N}"
            )
    if counts.min() < _MIN_PAIR_N:
        j, k = (int(i) for i in np.unravel_index(int(np.argmin(counts)), counts.shape))
        raise MetricError(
            f"relative_importance: columns '{names[j]}' and '{names[k]}' are both answered in only "
            f"{counts[j, k]} rows; expected at least {_MIN_PAIR_N}"
        )
    p = len(drivers)
    r_xx, r_xy = corr[:p, :p], corr[:p, p]
    _check_pd(r_xx, drivers, missing)
    imp, r2 = _importance(method, r_xx, r_xy)
    beta = np.linalg.solve(r_xx, r_xy)
    out = pd.DataFrame(
        {
            "importance": imp,
            "share": 100.0 * imp / r2 if r2 > 0 else np.full(p, np.nan),
            "rank": pd.Series(-imp).rank(method="min").astype(int).to_numpy(),
            "sign": np.sign(beta).astype(int),
            "beta": beta,
            "r": r_xy,
            "n": counts[:p, p],
        },
        index=pd.Index(drivers, name="driver"),
    )
    n_boot_used = 0
    if bootstrap:
        ci, n_boot_used = _bootstrap(z, w, method, missing, bootstrap, seed, level, drivers)
        for col, values in ci.items():
            out[col] = values
    out = out.sort_values(["rank", "importance"], ascending=[True, False], kind="stable")
    n_eff = float(w.sum() ** 2 / np.sum(w**2)) if w is not None else float(n)
    out.attrs.update(
        {
            "r2": r2,
            "method": method,
            "missing": missing,
            "n": int(n),
            "n_eff": n_eff,
            "weighted": w is not None,
            "outcome": outcome,
            "bootstrap": int(bootstrap),
            "n_boot_used": int(n_boot_used),
            "seed": int(seed),
            "level": float(level),
            "min_pair_n": int(counts.min()),
            "source": _SOURCES[method],
        }
    )
    return out


def _replicate_correlations(
    z: np.ndarray, w: np.ndarray | None, reps: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise correlation matrices and pair counts of ``reps`` Poisson-bootstrap replicates of the
    columns ``[drivers, noise, outcome]``, from weighted sums only.

    The pairwise-deletion moments of :func:`correlation_matrix` are sums over the rows where both
    columns are present: Σ v m_j m_k, Σ v x_j m_k, Σ v x_j² m_k and Σ v x_j x_k (m = answered,
    x centred at the full-sample means, 0 where missing, v = count × weight). Those per-row products
    are formed once per block of rows and every replicate's sums come from one matrix product per
    block, ``counts @ F`` (Poisson(1) counts, :func:`cxaudit.metrics.resample_blocks`), so memory is
    replicates × (columns)², never a copy of the rows. The noise predictor is a fresh independent
    column per replicate (uniform on 65,536 levels scaled to variance 1), i.e. each replicate
    resamples the data with its own noise column appended; its sums ride on the counts:
    (counts ∘ noise) @ [v m, v x] and (counts ∘ noise²) @ v m.
    """
    n, k = z.shape
    p = k - 1
    present = ~np.isnan(z)
    ww = np.ones(n) if w is None else w
    mu = np.array([np.average(z[present[:, j], j], weights=ww[present[:, j]]) if ww[present[:, j]].sum() > 0
                   else 0.0 for j in range(k)])
    iu = np.triu_indices(k)
    nu, nk = len(iu[0]), k * k
    sizes = [nu, nk, nk, nu] + ([nu] if w is not None else [])
    acc = np.zeros((reps, sum(sizes)))
    accn = np.zeros((reps, 3 * k + 2))
    scale = np.float32(np.sqrt(12.0) / (1 << 16))
    with threadpool_limits(1, user_api="blas"):  # one BLAS thread: notebooks run side by side
        for sl, c in resample_blocks(n, reps, rng):
            m = present[sl].astype(np.float32)
            x = np.where(present[sl], z[sl] - mu, 0.0).astype(np.float32)
            v = ww[sl].astype(np.float32)[:, None]
            mm = (m[:, :, None] * m[:, None, :])[:, iu[0], iu[1]]
            parts = [
                mm * v,
                (x[:, :, None] * m[:, None, :]).reshape(-1, nk) * v,
                ((x * x)[:, :, None] * m[:, None, :]).reshape(-1, nk) * v,
                (x[:, :, None] * x[:, None, :])[:, iu[0], iu[1]] * v,
            ]
            if w is not None:
                parts.append(mm)  # unweighted pair counts
            acc += c @ np.concatenate(parts, axis=1)
            e = (rng.integers(0, 1 << 16, size=c.shape, dtype=np.uint16).astype(np.float32) - 32767.5) * scale
            ce = c * e
            vm, vx = m * v, x * v
            accn[:, : 2 * k] += ce @ np.concatenate([vm, vx], axis=1)
            accn[:, 2 * k : 3 * k] += (ce * e) @ vm
            accn[:, 3 * k] += ce @ v[:, 0]
            accn[:, 3 * k + 1] += (ce * e) @ v[:, 0]
    off = np.cumsum([0, *sizes])

    def sym(a: np.ndarray) -> np.ndarray:
        out = np.empty((reps, k, k))
        out[:, iu[0], iu[1]] = a
        out[:, iu[1], iu[0]] = a
        return out

    sw0, sxy0 = sym(acc[:, off[0] : off[1]]), sym(acc[:, off[3] : off[4]])
    s10 = acc[:, off[1] : off[2]].reshape(reps, k, k)
    s20 = acc[:, off[2] : off[3]].reshape(reps, k, k)
    cnt0 = sym(acc[:, off[4] : off[5]]) if w is not None else sw0
    # the (k + 1) columns of a replicate: drivers 0..p-1, the noise at p, the outcome at p + 1
    K = k + 1
    sw, s1, s2, sxy, cnt = (np.empty((reps, K, K)) for _ in range(5))
    real = np.array([i for i in range(K) if i != p])
    for dst, src in ((sw, sw0), (s1, s10), (s2, s20), (sxy, sxy0), (cnt, cnt0)):
        dst[:, real[:, None], real[None, :]] = src
    diag = np.arange(k)
    a_j, b_j, q_j = accn[:, :k], accn[:, k : 2 * k], accn[:, 2 * k : 3 * k]
    # pairs (noise, j) use the rows where j is answered (the noise is never missing)
    sw[:, p, real] = sw[:, real, p] = sw0[:, diag, diag]
    cnt[:, p, real] = cnt[:, real, p] = cnt0[:, diag, diag]
    s1[:, p, real], s1[:, real, p] = a_j, s10[:, diag, diag]
    s2[:, p, real], s2[:, real, p] = q_j, s20[:, diag, diag]
    sxy[:, p, real] = sxy[:, real, p] = b_j
    sw[:, p, p], cnt[:, p, p] = sw0[:, p, p], cnt0[:, p, p]  # the outcome is present in every row used
    s1[:, p, p], s2[:, p, p], sxy[:, p, p] = accn[:, 3 * k], accn[:, 3 * k + 1], accn[:, 3 * k + 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        mj = s1 / sw
        cov = sxy / sw - mj * np.swapaxes(mj, 1, 2)
        var_j = s2 / sw - mj**2
        corr = cov / np.sqrt(var_j * np.swapaxes(var_j, 1, 2))
    idx = np.arange(K)
    corr[:, idx, idx] = 1.0
    return corr, np.rint(cnt)


def _bootstrap(
    z: np.ndarray,
    w: np.ndarray | None,
    method: str,
    missing: str,
    reps: int,
    seed: int,
    level: float,
    drivers: list[str],
) -> tuple[dict[str, np.ndarray], int]:
    """Percentile intervals and the noise test (Tonidandel, LeBreton & Johnson 2009).

    Each replicate is a Poisson bootstrap of the rows (Hanley & MacGibbon 2006) with a fresh random
    noise column appended as driver p+1; its correlation matrix comes from weighted sums
    (:func:`_replicate_correlations`: one matrix product per block of rows for all replicates, the
    pairwise deletion kept through per-pair weighted sums and counts). For Shapley the p-driver
    model's importances come from the same subset table (the subsets without the noise bit), so the
    intervals describe the model actually reported. Replicates whose correlation matrix is not
    positive definite or rests on fewer than 3 rows for a pair (possible with pairwise deletion on
    small samples) are counted and left out; more than 10% is an error.
    """
    base, shares, diff, ok = _bootstrap_replicates(z, w, method, reps, seed)
    used = int(ok.sum())
    if used < 0.9 * reps:
        raise MetricError(
            f"relative_importance: {reps - used} of {reps} bootstrap replicates had a singular correlation "
            f"matrix for drivers {', '.join(drivers)}; expected a sample large enough to resample "
            f"(use missing='listwise' or fewer drivers)"
        )
    lo_q, hi_q = 100 * (1 - level) / 2, 100 * (1 + level) / 2
    base, shares, diff = base[ok], shares[ok], diff[ok]
    d_lo, d_hi = np.percentile(diff, [lo_q, hi_q], axis=0)
    return (
        {
            "ci_low": np.percentile(base, lo_q, axis=0),
            "ci_high": np.percentile(base, hi_q, axis=0),
            "share_ci_low": np.percentile(shares, lo_q, axis=0),
            "share_ci_high": np.percentile(shares, hi_q, axis=0),
            "noise_diff_ci_low": d_lo,
            "noise_diff_ci_high": d_hi,
            "p_noise": np.mean(diff <= 0, axis=0),
            "significant": d_lo > 0,
        },
        used,
    )


def _bootstrap_replicates(
    z: np.ndarray, w: np.ndarray | None, method: str, reps: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per replicate: the drivers' importances, their shares (%), importance minus the noise's, and
    whether the replicate was usable (see :func:`_bootstrap`)."""
    rng = np.random.default_rng(seed)
    p = z.shape[1] - 1
    corrs, counts = _replicate_correlations(z, w, reps, rng)
    base = np.empty((reps, p))
    shares = np.empty((reps, p))
    diff = np.empty((reps, p))
    ok = np.zeros(reps, dtype=bool)
    for b in range(reps):
        corr = corrs[b]
        if counts[b].min() < _MIN_PAIR_N or not np.isfinite(corr).all():
            continue
        r_xx, r_xy = corr[: p + 1, : p + 1], corr[: p + 1, p + 1]
        if np.linalg.eigvalsh(r_xx)[0] <= _MIN_EIGENVALUE:
            continue
        if method == "shapley":
            v = subset_r2(r_xx, r_xy)
            aug = shapley_values(r_xx, r_xy, v)
            imp = shapley_values(r_xx[:p, :p], r_xy[:p], v[: 1 << p])
            r2 = float(v[(1 << p) - 1])
        else:
            aug, _ = relative_weights(r_xx, r_xy)
            imp, r2 = relative_weights(r_xx[:p, :p], r_xy[:p])
        base[b], shares[b], diff[b] = imp, 100.0 * imp / r2 if r2 > 0 else np.nan, aug[:p] - aug[p]
        ok[b] = True
    return base, shares, diff, ok


# --- importance–performance ----------------------------------------------------------------------


def importance_performance(
    importance: pd.Series,
    performance: pd.Series,
    split: Literal["mean", "median"] = "mean",
    importance_cut: float | None = None,
    performance_cut: float | None = None,
) -> pd.DataFrame:
    """Importance–performance analysis (Martilla & James 1977) with *derived* importance.

    Each item falls into one of four quadrants by whether its importance and its performance are at
    or above the cross-hairs (by default the mean of each axis over the items, the data-centred
    variant; ``split="median"`` or explicit cuts are available):

    - ``concentrate_here``: important, performing below the line — fix first;
    - ``keep_up``: important and performing well;
    - ``low_priority``: neither;
    - ``possible_overkill``: performing well on something that moves the outcome little.

    Stated importance barely discriminates (every item is "important"), so pass derived importance
    (e.g. the ``share`` of :func:`relative_importance`).

    Returns
    -------
    DataFrame
        Indexed like the inputs (their intersection), columns ``importance``, ``performance``,
        ``quadrant``; ``attrs["importance_cut"]``, ``attrs["performance_cut"]``, ``attrs["split"]``.

    Examples
    --------
    >>> imp = pd.Series({"a": 40.0, "b": 35.0, "c": 5.0, "d": 20.0})
    >>> perf = pd.Series({"a": 0.3, "b": 0.7, "c": 0.4, "d": 0.8})
    >>> importance_performance(imp, perf)["quadrant"].to_dict()
    {'a': 'concentrate_here', 'b': 'keep_up', 'c': 'low_priority', 'd': 'possible_overkill'}
    """
    if split not in ("mean", "median"):
        raise MetricError(f"importance_performance: split={split!r} unknown; expected 'mean' or 'median'")
    idx = importance.index.intersection(performance.index)
    if not len(idx):
        raise MetricError("importance_performance: importance and performance share no item; expected the same index")
    imp = pd.to_numeric(importance.loc[idx], errors="coerce").astype(float)
    perf = pd.to_numeric(performance.loc[idx], errors="coerce").astype(float)
    agg = np.nanmean if split == "mean" else np.nanmedian
    ic = float(agg(imp)) if importance_cut is None else float(importance_cut)
    pc = float(agg(perf)) if performance_cut is None else float(performance_cut)
    quadrant = [
        QUADRANTS[(bool(i >= ic), bool(q >= pc))] if not (np.isnan(i) or np.isnan(q)) else None
        for i, q in zip(imp, perf, strict=True)
    ]
    out = pd.DataFrame({"importance": imp, "performance": perf, "quadrant": quadrant}, index=idx)
    out.attrs.update({"importance_cut": ic, "performance_cut": pc, "split": split})
    return out


def describe(result: pd.DataFrame) -> dict[str, Any]:
    """The method facts of a :func:`relative_importance` result, for a report note or a finding."""
    a = result.attrs
    return {k: a.get(k) for k in ("method", "source", "missing", "r2", "n", "n_eff", "bootstrap", "seed", "level")}
