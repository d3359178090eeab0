"""Survey weights: a supplied ``weight`` column, or raking (RIM) weights to population targets.

Raking (iterative proportional fitting of the weights to marginal targets; Deming & Stephan 1940,
*Ann. Math. Statist.* 11(4)) is done by **weightipy** (the RIM engine of Quantipy, maintained for
pandas 3), not re-implemented here. Candidates weighed (December 2026): ``ipfn`` (last release 2021,
uses pandas APIs deprecated in 3.1), ``samplics`` (archived by its authors, pulls in polars, its
``rake`` does not enforce bounds), ``balance`` (pins numpy < 2 / scipy 1.13 — would downgrade the
stack), ``rimpy`` (Python ≥ 3.12 only). weightipy adds two small pure-Python packages.

Every weighting is reported with Kish's (1965) measures: the effective sample size
n_eff = (Σw)² / Σw², the weighting efficiency n_eff / n, and the design effect due to weighting
deff_w = n · Σw² / (Σw)² = 1 + CV²(w) (Kish 1992, "Weighting for unequal Pi", *J. Official
Statistics* 8(2)).

Examples
--------
>>> df = pd.DataFrame({"seg": ["a"] * 6 + ["b"] * 4})
>>> w, rep = rake(df, {"seg": {"a": 0.5, "b": 0.5}})
>>> sorted(set(w.round(4)))
[0.8333, 1.25]
>>> round(rep.efficiency, 4), round(rep.deff, 4)
(0.96, 1.0417)
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .errors import MetricError

__all__ = ["WeightingReport", "weighting_report", "rake", "survey_weights", "weighted_responses"]


@dataclass(frozen=True)
class WeightingReport:
    """How much a set of weights costs in precision, and (for raking) how well it hit the targets.

    ``efficiency`` = n_eff / n (1 = no loss); ``deff`` = n / n_eff. ``margins`` has one row per
    (variable, category): ``sample_share``, ``target_share``, ``weighted_share``.
    """

    method: str  # "supplied" or "raking"
    n: int
    n_eff: float
    efficiency: float
    deff: float
    min_weight: float
    max_weight: float
    cv: float
    iterations: int | None = None
    converged: bool | None = None
    max_margin_error: float | None = None
    trim: float | None = None
    margins: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "margins"}
        d["margins"] = self.margins.to_dict("records")
        return d


def weighting_report(weights: pd.Series | np.ndarray, *, method: str = "supplied") -> WeightingReport:
    """Kish's n_eff, efficiency and design effect of ``weights`` (missing weights are ignored).

    Examples
    --------
    >>> r = weighting_report(np.array([2.0, 1.0, 1.0]))
    >>> round(r.n_eff, 4), round(r.deff, 4)     # 16/6 and 3·6/16
    (2.6667, 1.125)
    """
    w = np.asarray(weights, dtype=float)
    w = w[~np.isnan(w)]
    if w.size == 0:
        raise MetricError("weighting report: no weights (n = 0)")
    if np.any(w < 0):
        raise MetricError("weighting report: weights must be >= 0")
    s, s2 = float(w.sum()), float(np.sum(w**2))
    if s <= 0:
        raise MetricError("weighting report: weights sum to zero; expected a positive total")
    n = int(w.size)
    n_eff = s**2 / s2
    mean = s / n
    cv = float(np.sqrt(np.mean((w - mean) ** 2)) / mean)
    return WeightingReport(method, n, n_eff, n_eff / n, n / n_eff, float(w.min()), float(w.max()), cv)


def _check_targets(df: pd.DataFrame, targets: Mapping[str, Mapping[Any, float]]) -> dict[str, dict[str, float]]:
    """Validate targets against the data; categories are matched as text. Returns shares by text."""
    if not targets:
        raise MetricError("raking: no targets given; expected {column: {category: population share}}")
    clean: dict[str, dict[str, float]] = {}
    for col, shares in targets.items():
        if col not in df.columns:
            raise MetricError(f"raking: target column {col!r} not found in the responses")
        if not isinstance(shares, Mapping) or not shares:
            raise MetricError(f"raking: targets for {col!r} must be a mapping category -> share")
        sh = {str(k): float(v) for k, v in shares.items()}
        bad = [k for k, v in sh.items() if not np.isfinite(v) or v < 0]
        if bad:
            raise MetricError(f"raking: target share of {col}={bad[0]!r} must be a number >= 0")
        total = sum(sh.values())
        if abs(total - 1) > 1e-6:
            raise MetricError(f"raking: target shares for {col!r} sum to {total:g}; expected 1")
        values = df[col]
        n_missing = int(values.isna().sum())
        if n_missing:
            raise MetricError(f"raking: column {col!r} has {n_missing} missing values; every response needs a "
                              "category (fill them with a category that has a target)")
        present = set(values.astype(str).unique())
        extra = sorted(present - set(sh))
        if extra:
            raise MetricError(f"raking: column {col!r} has categories without a target: {extra}")
        absent = sorted(k for k, v in sh.items() if v > 0 and k not in present)
        if absent:
            raise MetricError(f"raking: no responses in {col}={absent[0]!r}, which has a target share > 0")
        clean[col] = sh
    return clean


def rake(
    df: pd.DataFrame,
    targets: Mapping[str, Mapping[Any, float]],
    *,
    trim: float | None = None,
    max_iter: int = 1000,
    tol: float = 1e-4,
) -> tuple[pd.Series, WeightingReport]:
    """Raking weights so that the weighted shares of each column match its population targets.

    Parameters
    ----------
    df
        Responses; every column of ``targets`` must be present and fully filled.
    targets
        ``{column: {category: share}}``, shares summing to 1 per column (as ``weighting.targets``
        in ``audit.yaml``). Categories are matched as text.
    trim
        Cap on a weight as a multiple of the mean weight (weightipy's ``cap``; e.g. 5). Trimmed
        weights no longer hit the targets exactly: ``max_margin_error`` says by how much.
    max_iter
        Maximum raking iterations.
    tol
        Largest accepted |weighted share − target| for ``converged`` (untrimmed raking reaches
        ~1e-10).

    Returns
    -------
    (Series, WeightingReport)
        Weights with mean 1 (sum n) on ``df.index``, and the report with the achieved margins.
    """
    clean = _check_targets(df, targets)
    if trim is not None and trim <= 1:
        raise MetricError(f"raking: trim must be > 1 (a multiple of the mean weight), got {trim}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import weightipy as wp

    work = pd.DataFrame({c: df[c].astype(str).to_numpy() for c in clean}, index=pd.RangeIndex(len(df)))
    scheme = wp.Rim("cxaudit", max_iterations=max_iter, cap=trim or 0)
    scheme.set_targets([{c: {k: 100 * v for k, v in sh.items()}} for c, sh in clean.items()])
    log = io.StringIO()
    with contextlib.redirect_stdout(log), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = wp.weight(work, scheme)
    weights = pd.Series(w.to_numpy(dtype=float), index=df.index, name="weight")
    iterations = next(iter(g.get("iterations") for g in scheme.groups.values()), None)
    rows = []
    total = float(weights.sum())
    for c, sh in clean.items():
        cat = work[c].to_numpy()
        for k, target in sh.items():
            mask = cat == k
            rows.append({"variable": c, "category": k, "sample_share": float(mask.mean()), "target_share": target,
                         "weighted_share": float(weights.to_numpy()[mask].sum() / total)})
    margins = pd.DataFrame(rows)
    err = float((margins["weighted_share"] - margins["target_share"]).abs().max())
    base = weighting_report(weights, method="raking")
    report = WeightingReport(
        "raking", base.n, base.n_eff, base.efficiency, base.deff, base.min_weight, base.max_weight, base.cv,
        iterations=int(iterations) if iterations is not None else None, converged=err <= tol,
        max_margin_error=err, trim=trim, margins=margins,
    )
    if not np.isfinite(weights).all() or (weights <= 0).any():
        raise MetricError("raking: the weights are not all positive and finite; check the targets")
    if report.converged is False and trim is None:
        raise MetricError(f"raking did not converge in {max_iter} iterations (largest margin error {err:.2g}); "
                          "check for conflicting targets or raise max_iter")
    return weights, report


def _config_weighting(audit: Any) -> tuple[dict[str, dict[Any, float]], float | None]:
    """``weighting.targets`` / ``weighting.trim`` of audit.yaml when the config has them."""
    cfg = getattr(audit.config, "weighting", None)
    if cfg is None:
        return {}, None
    targets = getattr(cfg, "targets", None) or {}
    return {str(k): dict(v) for k, v in dict(targets).items()}, getattr(cfg, "trim", None)


def survey_weights(
    audit: Any,
    targets: Mapping[str, Mapping[Any, float]] | None = None,
    trim: float | None = None,
) -> tuple[pd.Series | None, WeightingReport | None]:
    """The weights the metrics of this audit use, and their report.

    - the responses' ``weight`` column when the client supplied one;
    - else raking to ``targets`` (default: ``weighting.targets`` of ``audit.yaml``);
    - else ``(None, None)``: unweighted.

    Supplying both a ``weight`` column and targets is refused: weightipy rakes from equal starting
    weights, so raking would silently replace the client's weights.
    """
    r = audit.responses
    cfg_targets, cfg_trim = _config_weighting(audit)
    targets = targets if targets is not None else cfg_targets
    trim = trim if trim is not None else cfg_trim
    has_column = "weight" in r.columns and r["weight"].notna().any()
    if has_column and targets:
        raise MetricError("responses have a 'weight' column and raking targets are set (weighting.targets in "
                          "audit.yaml): use one or the other")
    if has_column:
        return r["weight"], weighting_report(r["weight"], method="supplied")
    if targets:
        return rake(r, targets, trim=trim)
    return None, None


def weighted_responses(
    audit: Any, targets: Mapping[str, Mapping[Any, float]] | None = None, trim: float | None = None
) -> tuple[pd.DataFrame, WeightingReport | None]:
    """The responses with a ``weight`` column when weighting applies (see :func:`survey_weights`)."""
    w, report = survey_weights(audit, targets, trim)
    r = audit.responses
    if w is None:
        # an empty weight column means "unweighted", not "every weight missing"
        return (r.drop(columns="weight") if "weight" in r.columns else r), None
    if "weight" in r.columns and w is r["weight"]:
        return r, report
    return r.assign(weight=w), report
