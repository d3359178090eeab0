"""Significance tests between groups.

References
----------
- Difference of two independent NPS: SE = √(v₁/n₁ + v₂/n₂) with v = (p + d) − (p − d)², then a
  two-sided z-test — R package ``NPS`` (brendan-r/NPS, ``nps.test``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from .metrics import MetricResult

__all__ = ["DiffTest", "nps_difference"]


@dataclass(frozen=True)
class DiffTest:
    """A difference a − b on the metric's scale, its SE, z and two-sided p-value."""

    diff: float
    se: float
    z: float
    p_value: float


def _nps_var(r: MetricResult) -> float:
    p, d = r.details["promoters"], r.details["detractors"]
    return (p + d) - (p - d) ** 2


def nps_difference(a: MetricResult, b: MetricResult) -> DiffTest:
    """z-test of NPS(a) − NPS(b) for independent samples (``nps.test`` of the R package NPS).

    Examples
    --------
    >>> from cxaudit.metrics import nps
    >>> t = nps_difference(nps([10] * 6 + [5] * 4), nps([10] * 3 + [5] * 7))
    >>> round(t.diff, 1), round(t.z, 4)
    (60.0, 1.4142)
    """
    diff = (a.value - b.value) / 100
    se = float(np.sqrt(_nps_var(a) / a.n + _nps_var(b) / b.n))
    z = diff / se if se > 0 else float("inf") * np.sign(diff)
    p = float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else 0.0
    return DiffTest(100 * diff, 100 * se, float(z), p)
