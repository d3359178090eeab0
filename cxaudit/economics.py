"""The economics of churn: lifetime value by NPS group, revenue at risk, retention vs acquisition.

This is the revenue case the TO-BE step quotes. Every money figure rests on the client's data
(revenue per customer, churn) and on a few *assumptions* — gross margin, discount rate, the period
the revenue column covers, the cost of acquiring a customer and how many times dearer acquisition
is than retention. The assumptions are parameters (:class:`Assumptions`) with documented defaults;
they are printed beside the figures in the report, never presented as data.

Formulas
--------
- **Churn per period** c: from the constant monthly hazard λ = events / months at risk
  (:func:`cxaudit.churn.exposure_rates`), c = 1 − exp(−P·λ) for a revenue period of P months.
- **Lifetime value** per customer of a group, margins received at the start of each period and
  discounted at rate i per period (Gupta & Lehmann 2003, "Customers as assets", *J. Interactive
  Marketing* 17(1); Gupta, Lehmann & Stuart 2004, *J. Marketing Research* 41(1)):

      LTV = m · R̄ · (1 + i) / (1 + i − r) = m · R̄ · (1 + i) / (i + c),   r = 1 − c

  with m the gross margin share and R̄ the group's mean revenue per period. With i = 0 this is the
  simple form of METHODS.md, margin per period ÷ churn rate per period (``ltv_simple``). The 95%
  interval is a delta-method interval on the log scale combining the Poisson uncertainty of λ
  (Var ln λ̂ = 1/D) and the sampling error of R̄ (Var ln R̄ = s²/(n·R̄²)).
- **Revenue at risk** (bottom-up, METHODS.md): Σ over active customers of revenue × P(churn within
  one revenue period). P comes from the logistic driver model (:func:`cxaudit.churn.fit_logit`),
  which predicts churn within the customer's observed part of the data period (on average L
  months); it is put on the revenue period's horizon by a constant hazard, q = 1 − (1 − p)^(P/L).
  Interval: delta method with the model's covariance, ∇ = Σ rᵢ·q'(pᵢ)·pᵢ(1 − pᵢ)·xᵢ.
- **Uplift**: the revenue at risk that would go away if active detractors churned at the promoter
  rate, Σ over detractors of rᵢ·[q(pᵢ) − q(pᵢ⁰)], pᵢ⁰ the same customer's prediction with the NPS
  group set to promoter (everything else unchanged). Same delta-method interval.
- **Retention vs acquisition**: replacing the customers expected to leave costs their number × the
  acquisition cost (CAC); retaining them costs CAC ÷ k if acquisition is k times dearer. The seeds'
  k = 5–25 is an assumption (shown for 5, 10 and 25 besides the one chosen), never data.
- **Moving X % of detractors** to passives or promoters: X × the revenue at risk difference above
  (with the target group's predictions), and X × the lifetime-value gain
  Σ m·rᵢ·(1 + i)·[1/(i + c_target) − 1/(i + c_detractor)].

Examples
--------
>>> a = Assumptions(margin=0.3, discount_rate=0.0)
>>> round(ltv(mean_revenue=1000.0, period_churn=0.2, assumptions=a), 6)   # 0.3 × 1000 / 0.2
1500.0
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .errors import MetricError
from .metrics import Z95

if TYPE_CHECKING:  # pragma: no cover
    from .churn import ModelResult

__all__ = [
    "Assumptions",
    "SEED_MULTIPLES",
    "RevenueAtRisk",
    "ltv",
    "ltv_by_group",
    "revenue_at_risk",
    "retention_vs_acquisition",
    "move_detractors",
    "acquisition_cost",
    "assumption_rows",
]

#: The seeds' "acquisition costs 5–25× more than retention": the multiples always shown.
SEED_MULTIPLES: tuple[float, ...] = (5.0, 10.0, 25.0)


@dataclass(frozen=True)
class Assumptions:
    """The labelled, overridable assumptions behind every money figure.

    Parameters
    ----------
    margin : float
        Gross margin as a share of revenue, 0..1. Default 0.30 — an assumption (retail gross
        margins are typically 0.25–0.45); set the client's own.
    discount_rate : float
        Annual discount rate for lifetime value, ≥ 0. Default 0.10 — an assumption (a common
        corporate cost of capital); 0 gives the undiscounted simple form.
    revenue_period_months : float
        The period the ``revenue`` column covers. Default 12 (annual revenue) — an assumption; the
        demo's revenue is annual.
    acquisition_multiple : float
        How many times more acquiring a customer costs than retaining one. Default 5 — the low
        end of the seeds' 5–25×, an assumption, not data.
    acquisition_cost : float or None
        Cost of acquiring one customer. ``None``: one revenue period's margin of an average active
        customer (a CAC payback of one period) — an assumption; set the client's own.
    move_shares : tuple of float
        The shares X of detractors moved in the "what if" table. Default 10 %, 25 %, 50 %.
    currency : str or None
        ISO code of the revenue column (``None``: unknown, figures shown without a unit).
    """

    margin: float = 0.30
    discount_rate: float = 0.10
    revenue_period_months: float = 12.0
    acquisition_multiple: float = 5.0
    acquisition_cost: float | None = None
    move_shares: tuple[float, ...] = (0.10, 0.25, 0.50)
    currency: str | None = None

    def __post_init__(self) -> None:
        checks = [
            ("margin", 0 < self.margin <= 1, "a share between 0 (excluded) and 1"),
            ("discount_rate", 0 <= self.discount_rate < 1, "a rate between 0 and 1"),
            ("revenue_period_months", self.revenue_period_months > 0, "a positive number of months"),
            ("acquisition_multiple", self.acquisition_multiple >= 1, "a multiple of 1 or more"),
            ("acquisition_cost", self.acquisition_cost is None or self.acquisition_cost > 0,
             "a positive amount or null"),
            ("move_shares", all(0 < x <= 1 for x in self.move_shares), "shares between 0 (excluded) and 1"),
        ]
        for key, ok, expected in checks:
            if not ok:
                raise MetricError(f"economics.{key}: expected {expected}, got {getattr(self, key)!r}")

    @property
    def period_discount(self) -> float:
        """The discount rate per revenue period: (1 + i)^(P/12) − 1."""
        return (1 + self.discount_rate) ** (self.revenue_period_months / 12.0) - 1

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["move_shares"] = list(self.move_shares)
        return d

    @classmethod
    def from_audit(cls, audit: Any, **overrides: Any) -> Assumptions:
        """Defaults, then an ``economics:`` block of audit.yaml and ``client.currency`` if the config
        has them, then ``overrides``."""
        values: dict[str, Any] = {}
        block = getattr(audit.config, "economics", None)
        if block is not None:
            raw = block.model_dump() if hasattr(block, "model_dump") else dict(block)
            values |= {k: v for k, v in raw.items() if k in cls.__dataclass_fields__ and v is not None}
        currency = getattr(audit.config.client, "currency", None)
        if currency and "currency" not in values:
            values["currency"] = currency
        values |= overrides
        if "move_shares" in values:
            values["move_shares"] = tuple(values["move_shares"])
        return cls(**values)


def ltv(mean_revenue: float, period_churn: float, assumptions: Assumptions) -> float:
    """m · R̄ · (1 + i)/(i + c) for one customer (module docstring); ∞ when i = c = 0."""
    i = assumptions.period_discount
    denom = i + period_churn
    return math.inf if denom <= 0 else assumptions.margin * mean_revenue * (1 + i) / denom


def ltv_by_group(frame: pd.DataFrame, rates: pd.DataFrame, by: str, assumptions: Assumptions) -> pd.DataFrame:
    """Lifetime value per customer of each group, with a 95% delta-method interval.

    Parameters
    ----------
    frame
        The customer frame (``revenue`` and ``by`` needed).
    rates
        :func:`cxaudit.churn.exposure_rates` by the same ``by``, with ``period_months`` equal to
        ``assumptions.revenue_period_months``.

    Returns
    -------
    DataFrame
        ``by, n, n_revenue, mean_revenue, events, period_churn, churn_low, churn_high, ltv, ci_low,
        ci_high, ltv_simple`` (``ltv_simple`` = m·R̄/c, undiscounted).
    """
    if "revenue" not in frame.columns:
        raise MetricError("LTV: column 'revenue' not found in the customers table")
    rev = pd.to_numeric(frame["revenue"], errors="coerce")
    g = pd.DataFrame({"key": frame[by].astype("string"), "r": rev}).dropna().groupby("key")["r"]
    stats_ = pd.DataFrame({"n_revenue": g.size(), "mean_revenue": g.mean(), "sd_revenue": g.std(ddof=1)})
    return ltv_from_stats(stats_, rates, by, assumptions)


def ltv_from_stats(stats_: pd.DataFrame, rates: pd.DataFrame, by: str, assumptions: Assumptions) -> pd.DataFrame:
    """:func:`ltv_by_group` from the revenue of each group: ``stats_`` indexed by the group's key with
    ``n_revenue``, ``mean_revenue`` and ``sd_revenue`` (ddof 1), e.g. aggregated by the query engine."""
    out = rates.rename(columns={"ci_low": "churn_low", "ci_high": "churn_high"})
    out = out.merge(stats_, left_on=by, right_index=True, how="left")
    i = assumptions.period_discount
    m, P = assumptions.margin, assumptions.revenue_period_months
    lam = out["hazard"].to_numpy(float)
    c = out["period_churn"].to_numpy(float)
    rbar = out["mean_revenue"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(i + c > 0, m * rbar * (1 + i) / (i + c), np.inf)
        simple = np.where(c > 0, m * rbar / c, np.inf)
        dlog = P * lam * np.exp(-P * lam) / (i + c)  # d ln(i + c) / d ln λ
        var = (out["sd_revenue"].to_numpy(float) ** 2 / (out["n_revenue"].to_numpy(float) * rbar**2)
               + dlog**2 / out["events"].to_numpy(float))
        se = np.sqrt(var)
    ok = np.isfinite(se) & (out["events"].to_numpy(float) > 0)
    out["ltv"] = value
    out["ci_low"] = np.where(ok, value * np.exp(-Z95 * se), np.nan)
    out["ci_high"] = np.where(ok, value * np.exp(Z95 * se), np.nan)
    out["ltv_simple"] = simple
    return out[[by, "n", "n_revenue", "mean_revenue", "events", "period_churn", "churn_low", "churn_high",
                "ltv", "ci_low", "ci_high", "ltv_simple"]]


@dataclass
class RevenueAtRisk:
    """Revenue at risk over one revenue period and the detractor → promoter-rate uplift.

    ``value`` and ``uplift`` are money per revenue period (with 95% intervals); ``expected_churners``
    is Σ q over active customers; ``saved_customers`` the drop in expected churners under the
    uplift; ``horizon_months`` the revenue period, ``model_months`` the mean observable months L the
    model's probabilities refer to. ``by_group`` / ``by_segment`` break ``value`` down.
    """

    value: float
    ci_low: float
    ci_high: float
    n_active: int
    n_unscored: int
    active_revenue: float
    expected_churners: float
    horizon_months: float
    model_months: float
    uplift: float | None = None
    uplift_ci_low: float | None = None
    uplift_ci_high: float | None = None
    n_detractors: int = 0
    saved_customers: float | None = None
    by_group: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_segment: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def share(self) -> float:
        """Revenue at risk as a share of the active customers' revenue."""
        return self.value / self.active_revenue if self.active_revenue else math.nan


def _horizon(p: np.ndarray, k: float) -> tuple[np.ndarray, np.ndarray]:
    """q = 1 − (1 − p)^k and dq/dp = k·(1 − p)^(k − 1)."""
    p = np.clip(p, 0.0, 1.0 - 1e-12)
    return 1 - (1 - p) ** k, k * (1 - p) ** (k - 1)


def _scored(model: ModelResult, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    x = model.design(frame).to_numpy(float)
    p = 1.0 / (1.0 + np.exp(-(x @ model.fit.params.to_numpy(float))))
    return x, p


def _sum_and_se(model: ModelResult, x: np.ndarray, p: np.ndarray, w: np.ndarray, k: float,
                x0: np.ndarray | None = None, p0: np.ndarray | None = None) -> tuple[float, float]:
    """Σ wᵢ[q(pᵢ) − q(p⁰ᵢ)] and its delta-method SE (x0/p0 omitted: Σ wᵢ q(pᵢ))."""
    q, dq = _horizon(p, k)
    total = float(np.sum(w * q))
    grad = x.T @ (w * dq * p * (1 - p))
    if x0 is not None and p0 is not None:
        q0, dq0 = _horizon(p0, k)
        total -= float(np.sum(w * q0))
        grad = grad - x0.T @ (w * dq0 * p0 * (1 - p0))
    cov = np.asarray(model.fit.cov_params(), float)
    return total, float(np.sqrt(max(grad @ cov @ grad, 0.0)))


def _model_months(model_frame: pd.DataFrame, window_months: float | None) -> float:
    if "t_window" in model_frame.columns and model_frame["t_window"].notna().any():
        return float(model_frame["t_window"].mean())
    return float(window_months) if window_months else math.nan


def revenue_at_risk(
    frame: pd.DataFrame,
    model: ModelResult,
    assumptions: Assumptions,
    *,
    segments: Sequence[str] = (),
    window_months: float | None = None,
) -> RevenueAtRisk:
    """Σ revenue × P(churn within one revenue period) over active customers, and the uplift.

    See the module docstring for the formulas. ``frame`` is the customer frame the model was fitted
    on; active customers are those with ``churned == 0``. Customers the model cannot score (a
    missing predictor) or without revenue are counted in ``n_unscored`` and left out.

    Raises
    ------
    MetricError
        For a Cox model, or without a ``revenue`` column.
    """
    if model.kind != "logit":
        raise MetricError("revenue at risk: needs the logistic model's churn probabilities")
    if "revenue" not in frame.columns:
        raise MetricError("revenue at risk: column 'revenue' not found in the customers table")
    active = frame[frame["churned"].eq(0).fillna(False)]
    x, p = _scored(model, active)
    rev = pd.to_numeric(active["revenue"], errors="coerce").to_numpy(float)
    ok = np.isfinite(p) & np.isfinite(rev)
    L = _model_months(frame[frame["churned"].notna()], window_months)
    if not (np.isfinite(L) and L > 0):
        raise MetricError("revenue at risk: no dates (start, churn, survey or ticket dates) to tell which period "
                          "the churn probabilities cover; expected a data period of at least one day")
    k = assumptions.revenue_period_months / L
    total, se = _sum_and_se(model, x[ok], p[ok], rev[ok], k)
    q, _ = _horizon(p[ok], k)
    out = RevenueAtRisk(
        value=total, ci_low=max(total - Z95 * se, 0.0), ci_high=total + Z95 * se,
        n_active=int(ok.sum()), n_unscored=int((~ok).sum()), active_revenue=float(rev[ok].sum()),
        expected_churners=float(q.sum()), horizon_months=assumptions.revenue_period_months, model_months=L,
    )
    scored = active[ok].assign(_q=q, _rar=rev[ok] * q, _rev=rev[ok])
    if "nps_group" in scored.columns:
        out.by_group = _breakdown(scored, "nps_group")
    for seg in segments:
        if seg in scored.columns:
            out.by_segment[seg] = _breakdown(scored, seg)
    if "nps_group" in model.levels and {"promoter", "detractor"} <= set(model.levels["nps_group"]):
        det = active[ok & (active["nps_group"].astype("string") == "detractor").fillna(False).to_numpy()]
        xd, pd_ = _scored(model, det)
        x0, p0 = _scored(model, det.assign(nps_group="promoter"))
        rd = pd.to_numeric(det["revenue"], errors="coerce").to_numpy(float)
        up, up_se = _sum_and_se(model, xd, pd_, rd, k, x0, p0)
        out.uplift, out.uplift_ci_low, out.uplift_ci_high = up, up - Z95 * up_se, up + Z95 * up_se
        out.n_detractors = len(det)
        saved, _ = _sum_and_se(model, xd, pd_, np.ones(len(det)), k, x0, p0)
        out.saved_customers = saved
    return out


def _breakdown(scored: pd.DataFrame, by: str) -> pd.DataFrame:
    g = scored.groupby(scored[by].astype("string"))
    tab = pd.DataFrame({"n": g.size(), "revenue": g["_rev"].sum(), "expected_churners": g["_q"].sum(),
                        "revenue_at_risk": g["_rar"].sum()}).rename_axis(by).reset_index()
    tab["share_at_risk"] = tab["revenue_at_risk"] / tab["revenue"]
    return tab.sort_values("revenue_at_risk", ascending=False, kind="stable").reset_index(drop=True)


def acquisition_cost(frame: pd.DataFrame, assumptions: Assumptions) -> float:
    """The assumed cost of acquiring one customer: the parameter, or one revenue period's margin
    of an average active customer."""
    if assumptions.acquisition_cost is not None:
        return float(assumptions.acquisition_cost)
    active = frame[frame["churned"].eq(0).fillna(False)]
    rev = pd.to_numeric(active["revenue"], errors="coerce").dropna()
    if not len(rev):
        raise MetricError("acquisition cost: no active customer with revenue; set economics.acquisition_cost")
    return float(assumptions.margin * rev.mean())


def retention_vs_acquisition(frame: pd.DataFrame, rar: RevenueAtRisk, assumptions: Assumptions,
                             multiples: Sequence[float] = SEED_MULTIPLES) -> pd.DataFrame:
    """Cost of replacing the customers expected to leave vs retaining them, per cost multiple k.

    Returns
    -------
    DataFrame
        ``multiple, chosen`` (the assumption in use), ``customers`` (expected churners in one
        revenue period), ``acquisition_cost`` (per customer), ``retention_cost`` (CAC ÷ k),
        ``replace_cost`` (customers × CAC), ``retain_cost`` (customers × CAC ÷ k) and ``saving``.
    """
    cac = acquisition_cost(frame, assumptions)
    ks = sorted({float(m) for m in multiples} | {float(assumptions.acquisition_multiple)})
    n = rar.expected_churners
    rows = [{"multiple": k, "chosen": k == float(assumptions.acquisition_multiple), "customers": n,
             "acquisition_cost": cac, "retention_cost": cac / k, "replace_cost": n * cac,
             "retain_cost": n * cac / k, "saving": n * cac * (1 - 1 / k)} for k in ks]
    return pd.DataFrame(rows)


def move_detractors(
    frame: pd.DataFrame,
    model: ModelResult,
    ltv_table: pd.DataFrame,
    assumptions: Assumptions,
    *,
    shares: Sequence[float] | None = None,
    targets: Sequence[str] = ("passive", "promoter"),
    window_months: float | None = None,
) -> pd.DataFrame:
    """The value of moving a share X of active detractors to passives or promoters.

    Returns
    -------
    DataFrame
        ``share, target, customers`` (moved), ``rar_reduction`` with ``ci_low`` / ``ci_high`` (drop
        in revenue at risk per revenue period, delta method) and ``ltv_gain`` (sum of their
        lifetime-value gains; a point figure resting on the assumptions). Empty when the model has
        no NPS group or no detractor.
    """
    cols = ["share", "target", "customers", "rar_reduction", "ci_low", "ci_high", "ltv_gain"]
    levels = model.levels.get("nps_group", [])
    if "detractor" not in levels or "nps_group" not in ltv_table.columns:
        return pd.DataFrame(columns=cols)
    active = frame[frame["churned"].eq(0).fillna(False)]
    det = active[(active["nps_group"].astype("string") == "detractor").fillna(False)]
    xd, pd_ = _scored(model, det)
    rd = pd.to_numeric(det["revenue"], errors="coerce").to_numpy(float)
    ok = np.isfinite(pd_) & np.isfinite(rd)
    xd, pd_, rd = xd[ok], pd_[ok], rd[ok]
    L = _model_months(frame[frame["churned"].notna()], window_months)
    if not (np.isfinite(L) and L > 0):
        raise MetricError("moving detractors: no dates to tell which period the churn probabilities cover")
    k = assumptions.revenue_period_months / L
    churn = dict(zip(ltv_table["nps_group"].astype(str), ltv_table["period_churn"].astype(float), strict=True))
    i, m = assumptions.period_discount, assumptions.margin
    rows = []
    for target in targets:
        if target not in levels or target not in churn or "detractor" not in churn:
            continue
        x0, p0 = _scored(model, det[ok].assign(nps_group=target))
        total, se = _sum_and_se(model, xd, pd_, rd, k, x0, p0)
        gain_each = m * rd * (1 + i) * (1 / (i + churn[target]) - 1 / (i + churn["detractor"]))
        for x in shares if shares is not None else assumptions.move_shares:
            rows.append({"share": float(x), "target": target, "customers": x * len(rd),
                         "rar_reduction": x * total, "ci_low": x * (total - Z95 * se),
                         "ci_high": x * (total + Z95 * se), "ltv_gain": x * float(np.sum(gain_each))})
    return pd.DataFrame(rows, columns=cols)


def assumption_rows(assumptions: Assumptions, frame: pd.DataFrame) -> list[Mapping[str, Any]]:
    """(key, value) pairs of the assumptions in use, the acquisition cost resolved."""
    return [
        {"key": "margin", "value": assumptions.margin},
        {"key": "discount_rate", "value": assumptions.discount_rate},
        {"key": "revenue_period_months", "value": assumptions.revenue_period_months},
        {"key": "acquisition_multiple", "value": assumptions.acquisition_multiple},
        {"key": "acquisition_cost", "value": acquisition_cost(frame, assumptions),
         "derived": assumptions.acquisition_cost is None},
    ]
