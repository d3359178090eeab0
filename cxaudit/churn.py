"""Churn: rates and their trend, stated reasons, driver models (logistic and Cox), survival curves.

The unit of analysis is the customer. :func:`customer_frame` joins the ``customers`` table with what
the other tables say about each customer: the NPS group of their most recent *valid* survey answer
(kept row, NPS present; ties broken by file order), the touchpoint ratings of that answer, and
their support-ticket experience (tickets opened, slow resolutions). Every function after that takes
this frame, so the same code runs on a client's audit and on a synthetic benchmark base.

What is computed, and how
-------------------------
- **Churn rate**: the share of customers who churned in the data, with the Wilson (1927) score
  interval (``statsmodels.stats.proportion.proportion_confint(method="wilson")``). Groups are
  compared with the rest of the base by a two-proportion z-test (pooled SE), Holm (1979)-corrected
  over the groups of one cut. Customers with no value in a segment column are their own group
  (:data:`cxaudit.stats.NOT_STATED`, "Not stated"), shown but not tested: it is not a segment.
- **Rate ratio** (detractors vs promoters): RR = (a/n₁)/(c/n₂) with the Katz et al. (1978, *Biometrics*
  34(3)) log interval exp(ln RR ± 1.96·√(1/a − 1/n₁ + 1/c − 1/n₂)).
- **Churn per period** (for LTV): events / months at risk inside the data period, a constant hazard λ
  with the exact Poisson (Garwood 1936) interval; churn over P months = 1 − exp(−P·λ).
- **Trend**: monthly churn = customers who churned in the month / customers active on its first day
  (complete months of the data period only). Consecutive months are compared by a two-proportion
  z-test, Holm-corrected over all pairs; a χ² test of homogeneity tests the months together.
- **Reasons**: a Pareto table of stated reasons (share of churned customers who stated one, Wilson
  interval, cumulative share) and reasons by segment (χ² test of independence).
- **Logistic regression** (``statsmodels`` ``Logit``): odds ratios exp(β) with Wald 95% intervals
  exp(β ± 1.96·SE) and p-values. Before fitting, explicit checks with a message, never a crash:
  a column with a single value is left out; rows with a missing value are dropped listwise and
  counted; a predictor that separates churners perfectly (a category with 0% or 100% churn, a number
  whose ranges do not overlap, or a fit that statsmodels flags with ``PerfectSeparationWarning`` or
  that diverges) is left out and the model refitted (Albert & Anderson 1984, *Biometrika* 71(1));
  predictors that are exact linear combinations of others are left out; a variance inflation factor
  above 10 is warned about (VIF_j = 1/(1 − R²_j), ``statsmodels`` ``variance_inflation_factor``);
  fewer than 10 events per parameter is warned about (Peduzzi et al. 1996, *J Clin Epidemiol* 49(12)).
- **Survival**: Kaplan–Meier curves (``statsmodels`` ``SurvfuncRight``) by NPS group on the tenure
  time scale with *delayed entry* at the start of the data period (customers who left before it are
  not in a customer list, so the risk set starts there; Klein & Moeschberger 2003, ch. 4.6);
  log–log pointwise intervals exp(−exp(ln(−ln S) ± 1.96·SE/(S·|ln S|))) with Greenwood's SE;
  a log-rank test (``survdiff``); and a Cox proportional-hazards model (``PHReg``, Breslow ties)
  with hazard ratios exp(β) and the same checks as the logistic model.

The money side (LTV, revenue at risk, retention vs acquisition) is in :mod:`cxaudit.economics`. This
module takes no language except for the findings' titles: tables, figures and report blocks of its
results are in :mod:`cxaudit.churn_view`.

Examples
--------
>>> import pandas as pd
>>> f = pd.DataFrame({"customer_id": list("abcdefgh"), "churned": [1, 0, 0, 0, 1, 1, 0, 0],
...                   "nps_group": ["detractor"] * 4 + ["promoter"] * 4})
>>> tab = churn_rates(f, by="nps_group")
>>> tab[["nps_group", "n", "churned", "rate"]].to_dict("records")[0]   # promoters first
{'nps_group': 'promoter', 'n': 4, 'churned': 2, 'rate': 0.5}
"""

from __future__ import annotations

import math
import os
import re
import shutil
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.discrete.discrete_model import Logit
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight, survdiff
from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

from .errors import MetricError
from .i18n import fmt_int, fmt_num, fmt_pct, t
from .metrics import (  # Wilson (1927), as statsmodels proportion_confint
    Z95,
    nps_category,
    period_churn_from_exposure,
    wilson,
)
from .stats import NOT_STATED, segment_keys
from .stats import holm as _holm  # Holm (1979) via statsmodels

if TYPE_CHECKING:  # pragma: no cover
    from .economics import Assumptions, RevenueAtRisk

__all__ = [
    "GROUPS",
    "analyse_engine",
    "engine_sample",
    "engine_time_basis",
    "rates_from_counts",
    "ratio_from_counts",
    "ticket_counts",
    "MONTH_DAYS",
    "SLOW_HOURS",
    "VIF_THRESHOLD",
    "MIN_EPV",
    "Window",
    "RateRatio",
    "Trend",
    "Reasons",
    "ModelMessage",
    "ModelResult",
    "Survival",
    "observation_window",
    "latest_valid_answers",
    "touchpoint_label",
    "customer_frame",
    "frame_from_audit",
    "segment_columns",
    "churn_rates",
    "rate_ratio",
    "exposure_rates",
    "churn_trend",
    "reason_pareto",
    "reasons_by",
    "slug",
    "fit_logit",
    "fit_cox",
    "touchpoint_odds",
    "survival",
    "PARETO_SHARE",
    "MAX_REASON_FINDINGS",
    "TOUCHPOINT_STRONG",
    "ChurnAnalysis",
    "model_spec",
    "analyse",
    "analyse_audit",
    "churn_findings",
]

#: NPS groups in display order; ``no_response``: no valid survey answer from this customer.
GROUPS: tuple[str, ...] = ("promoter", "passive", "detractor", "no_response")
#: Days per month (365.25 / 12): tenure and survival times are in these months.
MONTH_DAYS: float = 365.25 / 12
#: A ticket counts as a slow resolution when it took longer than this many hours to resolve, or
#: was still open this long after it was created at the end of the data (an assumption; see
#: :func:`customer_frame`).
SLOW_HOURS: float = 48.0
#: Variance inflation factor above which a predictor is reported as collinear.
VIF_THRESHOLD: float = 10.0
#: Fewer events per estimated parameter than this gives a warning (Peduzzi et al. 1996).
MIN_EPV: float = 10.0
#: Above this many usable customers the logistic and Cox models are fitted on a stratified sample (issue 19).
#: Measured on all rows at 500,000 customers (bench/bench_churn_models.py, the XL demo's size): the
#: logistic model 1.5 CPU-s, Kaplan-Meier + log-rank 1.4 and Cox 7.5 CPU-s, so every demo size uses all rows.
MODEL_MAX_ROWS: int = 1_000_000
#: |β × SD(x)| above this (an odds or hazard ratio of e¹⁰ per SD) signals separation.
_SEPARATION_EFFECT: float = 10.0


# --- the customer frame ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """The data period: from the earliest to the latest date seen in the inputs (days, inclusive)."""

    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def months(self) -> float:
        return float((self.end - self.start).days + 1) / MONTH_DAYS


#: Why a part of the churn section is missing (the same on the in-memory and the engine path).
_NO_TREND = "no churn dates, start dates or complete months to place churn in time"
_NO_REASON_STATED = "no churned customer stated a reason"
_NO_REASON_COLUMN = "the customers table has no churn_reason column"
_NO_REVENUE = "the customers table has no revenue"


def observation_window(
    customers: pd.DataFrame, responses: pd.DataFrame | None = None, tickets: pd.DataFrame | None = None
) -> Window | None:
    """The data period: min and max over churn dates, survey dates and ticket creation dates.

    A customer list is a list of customers *active at some point in the period*; customers who
    left before it are not in it. That is why survival analysis enters customers at the start of
    this window (delayed entry) rather than at their start date. Returns ``None`` without any date.
    """
    dates: list[pd.Series] = []
    for frame, col in ((customers, "churn_date"), (responses, "date"), (tickets, "created_at")):
        if frame is not None and col in frame.columns:
            d = pd.to_datetime(frame[col], errors="coerce").dropna()
            if len(d):
                dates.append(d)
    if not dates:
        return None
    lo = min(d.min() for d in dates).normalize()
    hi = max(d.max() for d in dates).normalize()
    return Window(pd.Timestamp(lo), pd.Timestamp(hi))


@dataclass(frozen=True)
class TimeBasis:
    """What the churn figures per period rest on: the customers' own time, never another table's.

    ``window`` is the observation period when dates place it (churn / start dates, ``churn.as_of``);
    ``months`` its length, or the stated ``churn.observation_months`` when no date does. ``source``
    says which (``customer_dates``, ``as_of``, ``observation_months``, ``none``); ``reason`` is why
    there is none.
    """

    window: Window | None
    months: float | None
    source: str
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.months is not None and self.months > 0


def time_basis(customers: pd.DataFrame, settings: Any = None) -> TimeBasis:
    """The churn section's time basis from the customers table and audit.yaml's ``churn`` block.

    - end: ``churn.as_of`` (the date the list was extracted), else the latest churn or start date;
    - start: ``churn.start``, else ``end − churn.observation_months`` when stated, else the earliest
      churn date;
    - no dates but ``observation_months`` stated: a basis of that many months without calendar dates
      (churners are assumed to have left mid-period, the actuarial convention);
    - otherwise none: the per-period figures (churn per period, LTV, revenue at risk, survival) are
      not computed. Survey and ticket dates never enter: they say when people answered or wrote, not
      how long the customer list was watched (issue 13: a one-row survey made monthly churn 84.6 %).

    Examples
    --------
    >>> c = pd.DataFrame({"churned": [1, 0], "churn_date": pd.to_datetime(["2024-03-01", None])})
    >>> b = time_basis(c); (b.source, str(b.window.start.date()), str(b.window.end.date()))
    ('customer_dates', '2024-03-01', '2024-03-01')
    >>> time_basis(pd.DataFrame({"churned": [1, 0], "tenure_months": [3, 20]})).source
    'none'
    """
    as_of = getattr(settings, "as_of", None)
    first = getattr(settings, "start", None)
    obs = getattr(settings, "observation_months", None)
    dates = []
    churn_dates = pd.Series(dtype="datetime64[ns]")
    for col in ("churn_date", "start_date"):
        if col in customers.columns:
            d = pd.to_datetime(customers[col], errors="coerce").dropna()
            if col == "churn_date":
                churn_dates = d
            if len(d):
                dates.append(d.max())
    end = pd.Timestamp(as_of) if as_of is not None else (max(dates).normalize() if dates else None)
    if end is not None:
        start = None
        if first is not None:
            start = pd.Timestamp(first)
        elif obs:
            start = end - pd.Timedelta(days=round(float(obs) * MONTH_DAYS) - 1)
        elif len(churn_dates):
            start = churn_dates.min().normalize()
        if start is not None and start <= end:
            w = Window(pd.Timestamp(start), pd.Timestamp(end))
            return TimeBasis(w, w.months, "as_of" if as_of is not None else "customer_dates")
    if obs:
        return TimeBasis(None, float(obs), "observation_months")
    return TimeBasis(None, None, "none",
                     "the customers table has no churn dates, and audit.yaml states no churn.observation_months "
                     "(how many months the churn flag covers)")


def latest_valid_answers(responses: pd.DataFrame) -> pd.DataFrame:
    """The most recent kept response with an NPS answer per customer (ties: later file row)."""
    r = responses[responses["customer_id"].notna() & responses["nps"].notna()]
    if "date" in r.columns:
        order = ["date", "_row"] if "_row" in r.columns else ["date"]
        r = r.sort_values(order, kind="stable")
    return r.groupby("customer_id", sort=False).tail(1).set_index("customer_id")


def customer_frame(
    customers: pd.DataFrame,
    responses: pd.DataFrame | None = None,
    tickets: pd.DataFrame | None = None,
    *,
    slow_hours: float = SLOW_HOURS,
    window: Window | None = None,
    observation_months: float | None = None,
) -> pd.DataFrame:
    """One row per customer with everything the churn analysis uses.

    Parameters
    ----------
    customers
        The canonical ``customers`` table (``customer_id``, ``churned`` required; ``start_date``,
        ``tenure_months``, ``revenue``, ``churn_date``, ``churn_reason`` and segment columns used
        when present). Every column is kept.
    responses
        Kept survey responses with ``customer_id`` and ``nps``: the customer's NPS group is that of
        their most recent response with an NPS answer (``no_response`` when there is none), and the
        ``tp_*`` ratings of that same response are attached.
    tickets
        Support tickets with ``customer_id``: ``n_tickets`` (all tickets) and ``n_slow`` (resolved
        after more than ``slow_hours``, or still open that long at the end of the data).
    slow_hours
        The "slow resolution" threshold, an assumption (default :data:`SLOW_HOURS`).
    window
        The data period; by default :func:`observation_window` of the inputs.
    observation_months
        Without a ``window``: the months the churn flag covers (``churn.observation_months``); stayers
        were at risk that long (or their tenure, if shorter), churners half of it.

    Returns
    -------
    DataFrame
        The customer columns plus ``churned`` as 0/1 (``<NA>`` where unknown), ``nps``,
        ``nps_group``, ``tp_*``, ``n_tickets``, ``n_slow``, ``tenure_years`` and the survival times
        ``t_exit`` / ``t_entry`` in months of tenure (:data:`MONTH_DAYS`). ``t_exit`` is the tenure
        when the customer churned or the data ended; it comes from the dates when ``start_date`` is
        present, else from ``tenure_months``. ``t_entry`` is the tenure at the start of the data
        period (0 for customers who started later). ``t_window`` is how many months of the data
        period the customer could be observed in (from entry to the end of the data, churned or not).

    Raises
    ------
    MetricError
        When ``customers`` lacks ``customer_id`` or ``churned``.
    """
    for col in ("customer_id", "churned"):
        if col not in customers.columns:
            raise MetricError(f"customers: column '{col}' missing; expected the canonical customers table")
    out = customers.copy()
    out["churned"] = _as_binary(out["churned"], "churned")
    if window is None and not observation_months:
        window = observation_window(customers)  # the customers' own dates only (issue 13)

    if responses is not None and {"customer_id", "nps"} <= set(responses.columns):
        last = latest_valid_answers(responses)
        pos = last.index.get_indexer(out["customer_id"])  # one lookup for every attached column
        found = pos >= 0

        def attach(col: str) -> np.ndarray:
            vals = pd.to_numeric(last[col], errors="coerce").to_numpy(float)
            return np.where(found, vals[np.where(found, pos, 0)], np.nan) if len(vals) else np.full(len(pos), np.nan)

        out["nps"] = attach("nps")
        out["nps_group"] = nps_category(out["nps"]).fillna("no_response").astype("string")
        for tp in [c for c in last.columns if str(c).startswith("tp_")]:
            out[tp] = attach(tp)

    if tickets is not None and "customer_id" in tickets.columns:
        counts = ticket_counts(tickets, window, slow_hours)
        for col in [c for c in ("n_tickets", "n_slow") if c in counts.columns]:
            out[col] = out["customer_id"].map(counts[col]).fillna(0).astype("int64")
    return _with_times(out, window, observation_months)


def ticket_counts(tickets: pd.DataFrame, window: Window | None, slow_hours: float = SLOW_HOURS) -> pd.DataFrame:
    """Per customer id: ``n_tickets`` (all tickets) and ``n_slow`` (resolved after more than ``slow_hours``,
    or still open that long at the end of the data period; only with ``created_at`` and ``resolved_at``)."""
    tk = tickets[tickets["customer_id"].notna()]
    out = pd.DataFrame({"n_tickets": tk.groupby("customer_id").size()})
    if {"created_at", "resolved_at"} <= set(tk.columns):
        created = pd.to_datetime(tk["created_at"], errors="coerce")
        resolved = pd.to_datetime(tk["resolved_at"], errors="coerce")
        hours = (resolved - created).dt.total_seconds() / 3600.0
        # a ticket still open is slow by the end of the data period (else of the ticket data itself)
        tk_end = window.end if window is not None else pd.concat([created, resolved]).max()
        if pd.notna(tk_end):
            open_hours = (tk_end.normalize() + pd.Timedelta(days=1) - created).dt.total_seconds() / 3600.0
            hours = hours.fillna(open_hours.where(resolved.isna()))
        out["n_slow"] = (hours > slow_hours).groupby(tk["customer_id"]).sum()
    return out


def _with_times(out: pd.DataFrame, window: Window | None, observation_months: float | None) -> pd.DataFrame:
    """The survival times of :func:`customer_frame` (``t_exit``, ``t_entry``, ``t_window``, ``tenure_years``),
    row by row: the engine path (:func:`analyse_engine`) applies it to each batch of rows."""
    tenure = pd.to_numeric(out["tenure_months"], errors="coerce") if "tenure_months" in out.columns else None
    t_exit, t_entry = _survival_times(out, tenure, window, observation_months)
    out["t_exit"], out["t_entry"] = t_exit, t_entry
    out["t_window"] = _window_months(out, t_exit, t_entry, window)
    out["tenure_years"] = (tenure if tenure is not None else t_exit) / 12.0
    return out


def _as_binary(s: pd.Series, column: str) -> pd.Series:
    """0/1 as nullable Int64 from booleans or numbers; anything else is a MetricError."""
    if s.dtype == "boolean" or s.dtype == bool:
        return s.astype("Int64")
    num = pd.to_numeric(s, errors="coerce")
    bad = s.notna() & (num.isna() | ~num.isin([0, 1]))
    if bad.any():
        raise MetricError(f"column '{column}': expected 0/1 or true/false, got {s[bad].iloc[0]!r}")
    return num.astype("Int64")


def _survival_times(out: pd.DataFrame, tenure: pd.Series | None, window: Window | None,
                    observation_months: float | None = None) -> tuple[pd.Series, pd.Series]:
    churned = out["churned"]
    nan = pd.Series(np.nan, index=out.index)
    churn_date = pd.to_datetime(out["churn_date"], errors="coerce") if "churn_date" in out.columns else None
    start = pd.to_datetime(out["start_date"], errors="coerce") if "start_date" in out.columns else None
    # the date the customer left or the data ended
    exit_date = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    if window is not None:
        exit_date = exit_date.mask(churned.eq(0).fillna(False), window.end)
    if churn_date is not None:
        exit_date = exit_date.mask(churned.eq(1).fillna(False), churn_date)
    t_exit = nan.copy()
    if start is not None:
        t_exit = (exit_date - start).dt.days / MONTH_DAYS
    if tenure is not None:
        t_exit = t_exit.fillna(tenure)
    t_entry = pd.Series(0.0, index=out.index)
    if window is not None:
        # tenure at the start of the data period: from the start date, else exit tenure − time in window
        in_window = (exit_date - window.start).dt.days / MONTH_DAYS
        t_entry = (t_exit - in_window).clip(lower=0)
        if start is not None:
            t_entry = ((window.start - start).dt.days / MONTH_DAYS).clip(lower=0).fillna(t_entry)
        # a churner without a churn date (a flag for the period): assumed to leave mid-period
        undated = churned.eq(1).fillna(False) & exit_date.isna() & t_entry.isna()
        t_entry = t_entry.mask(undated, (t_exit - window.months / 2).clip(lower=0))
        t_entry = t_entry.fillna(0.0)
    elif observation_months:
        m = float(observation_months)
        t_entry = (t_exit - np.where(churned.eq(1).fillna(False), m / 2, m)).clip(lower=0).fillna(0.0)
    t_exit = t_exit.where(t_exit >= 0)  # churned before they started: unusable, left missing
    # a customer who left on the first day of the data is at risk for one day
    t_exit = np.maximum(t_exit, t_entry + 1.0 / MONTH_DAYS).where(t_exit.notna())
    return t_exit.astype("float64"), t_entry.astype("float64")


def _window_months(out: pd.DataFrame, t_exit: pd.Series, t_entry: pd.Series, window: Window | None) -> pd.Series:
    """Months each customer *could* be observed in the data period (to its end, churned or not)."""
    if window is None:
        return pd.Series(np.nan, index=out.index)
    at_risk = t_exit - t_entry
    if "churn_date" in out.columns:
        after = (window.end - pd.to_datetime(out["churn_date"], errors="coerce")).dt.days / MONTH_DAYS
        at_risk = at_risk + after.clip(lower=0).where(out["churned"].eq(1).fillna(False), 0.0).fillna(0.0)
    return at_risk.clip(upper=window.months).astype("float64")


def segment_columns(audit: Any) -> list[str]:
    """The churn model's segment columns: ``churn.segments`` of audit.yaml when given, else the
    ``segments`` present in the customers table."""
    cust = audit.table("customers")
    chosen = getattr(getattr(audit.config, "churn", None), "segments", None)
    return [c for c in (chosen if chosen is not None else audit.config.segments) if c in cust.columns]


def frame_from_audit(audit: Any, *, slow_hours: float = SLOW_HOURS) -> pd.DataFrame:
    """:func:`customer_frame` of a loaded audit (``customers`` required; the rest when supplied), on
    the customers' own :func:`time_basis`; without one the survival times are missing (no time at
    risk, so no churn per period)."""
    customers = audit.table("customers")
    basis = time_basis(customers, getattr(audit.config, "churn", None))
    frame = customer_frame(
        customers,
        audit.responses if audit.has("responses") else None,
        audit.table("tickets") if audit.has("tickets") else None,
        slow_hours=slow_hours, window=basis.window,
        observation_months=basis.months if basis.window is None else None,
    )
    if not basis.ok:
        frame[["t_exit", "t_entry", "t_window"]] = np.nan
    return frame


# --- rates -------------------------------------------------------------------------------------------


def _known(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["churned"].notna()]


def _two_prop_p(k1: np.ndarray, n1: np.ndarray, k2: np.ndarray, n2: np.ndarray) -> np.ndarray:
    """Two-sided p of the pooled two-proportion z-test (the χ² test of a 2×2 table without correction).

    The same p as ``statsmodels.stats.proportion.proportions_ztest`` pair by pair (tested to 1e-12), written
    over arrays because the trend tests every month at once: 2,000 pairs in 0.35 ms against 0.33 s for a
    loop of statsmodels calls (~900×, measured 2026-12-04), which is why it is kept (issue 12, item 5)."""
    k1, n1, k2, n2 = (np.asarray(x, float) for x in (k1, n1, k2, n2))
    with np.errstate(invalid="ignore", divide="ignore"):
        p = (k1 + k2) / (n1 + n2)
        se = np.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
        z = (k1 / n1 - k2 / n2) / se
    out = 2 * stats.norm.sf(np.abs(z))
    return np.where(np.isfinite(z), out, np.where((k1 / n1) == (k2 / n2), 1.0, np.nan))


def churn_rates(frame: pd.DataFrame, by: str | None = None, *, min_base: int = 30,
                alpha: float = 0.05) -> pd.DataFrame:
    """Churn rate with its Wilson 95% interval, overall or per group of ``by``.

    Customers whose churn status is unknown are left out (``n`` counts the rest). Per group, the
    group is compared with all other customers (two-proportion z-test, Holm-corrected over the
    groups): ``p_holm`` and ``direction`` (+1 significantly higher, −1 lower, 0 neither).
    Customers with no value in ``by`` (empty or blank) are the last group, :data:`NOT_STATED`
    (``not_stated`` true): with its rate and interval, so ``n`` adds up to the overall n, but not
    tested (p NaN, direction 0) and not part of "the rest" of the groups that are.

    Returns
    -------
    DataFrame
        ``[by], n, churned, rate, ci_low, ci_high, small_base`` (+ ``p_value, p_holm, direction,
        not_stated`` with ``by``); ``rate`` is a share 0..1. Groups of ``by`` in :data:`GROUPS`
        order for ``nps_group``, else by size.

    Raises
    ------
    MetricError
        When no customer has a known churn status, or ``by`` is not a column.
    """
    k = _known(frame)
    if not len(k):
        raise MetricError("churn rate: no customer with a known churn status (column 'churned'); expected n >= 1")
    if by is None:
        n, c = np.array([len(k)]), np.array([int(k["churned"].sum())])
        tab = pd.DataFrame({"n": n, "churned": c})
    else:
        if by not in k.columns:
            raise MetricError(f"churn rate: column {by!r} not found in the customer table")
        g = k.groupby(segment_keys(k[by]).astype("string"), observed=True)["churned"]
        tab = pd.DataFrame({"n": g.size(), "churned": g.sum().astype("int64")}).rename_axis(by).reset_index()
    return rates_from_counts(tab, by, min_base=min_base, alpha=alpha)


def rates_from_counts(tab: pd.DataFrame, by: str | None = None, *, min_base: int = 30,
                      alpha: float = 0.05) -> pd.DataFrame:
    """:func:`churn_rates` from its counts: ``tab`` holds ``n`` and ``churned`` (and the group key ``by``,
    :data:`NOT_STATED` for customers without a value), one row per group, e.g. counted by the engine."""
    tab = tab.copy()
    if by is not None:
        tab[by] = tab[by].astype("string")
        tab = _order_groups(tab, by)
        tab["not_stated"] = tab[by].eq(NOT_STATED).to_numpy(bool)
        tab = tab.sort_values("not_stated", kind="stable")  # last
    lo, hi = wilson(tab["churned"].to_numpy(), tab["n"].to_numpy())
    tab["rate"] = tab["churned"] / tab["n"]
    tab["ci_low"], tab["ci_high"] = lo, hi
    tab["small_base"] = tab["n"] < min_base
    if by is not None:
        stated = ~tab["not_stated"]
        tot_n, tot_c = tab.loc[stated, "n"].sum(), tab.loc[stated, "churned"].sum()
        p = _two_prop_p(tab["churned"], tab["n"], tot_c - tab["churned"], tot_n - tab["n"])
        tab["p_value"] = np.where(stated, p, np.nan)
        tab["p_holm"] = _holm(tab["p_value"])
        rest_rate = (tot_c - tab["churned"]) / (tot_n - tab["n"]).replace(0, np.nan)
        sig = tab["p_holm"] < alpha
        tab["direction"] = np.where(sig & (tab["rate"] > rest_rate), 1, np.where(sig, -1, 0))
        tab = tab[[c for c in tab.columns if c != "not_stated"] + ["not_stated"]]
    return tab.reset_index(drop=True)


def _order_groups(tab: pd.DataFrame, by: str) -> pd.DataFrame:
    if by == "nps_group":
        order = {g: i for i, g in enumerate(GROUPS)}
        return tab.sort_values(by, key=lambda s: s.map(order).fillna(len(order)), kind="stable")
    return tab.sort_values(["n", by], ascending=[False, True], kind="stable")


@dataclass(frozen=True)
class RateRatio:
    """Churn rate of one group over another's, with the Katz log interval and a z-test p-value.

    ``a`` of ``n1`` churned in the group, ``c`` of ``n2`` in the reference group.
    """

    ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    a: int
    n1: int
    c: int
    n2: int

    @property
    def rate(self) -> float:
        return self.a / self.n1

    @property
    def reference_rate(self) -> float:
        return self.c / self.n2


def rate_ratio(frame: pd.DataFrame, group: str = "detractor", reference: str = "promoter",
               column: str = "nps_group") -> RateRatio:
    """Risk ratio RR = (a/n₁)/(c/n₂) with the Katz log 95% interval.

    SE(ln RR) = √(1/a − 1/n₁ + 1/c − 1/n₂); interval exp(ln RR ± 1.96·SE) (Katz, Baptista, Azen &
    Pike 1978, *Biometrics* 34(3); R ``epitools::riskratio(method="wald")``). The p-value is the
    two-proportion z-test of the two rates.

    Examples
    --------
    >>> f = pd.DataFrame({"churned": [1] * 6 + [0] * 14 + [1] * 2 + [0] * 18,
    ...                   "nps_group": ["detractor"] * 20 + ["promoter"] * 20})
    >>> rr = rate_ratio(f)
    >>> round(rr.ratio, 2), round(rr.ci_low, 3), round(rr.ci_high, 3)
    (3.0, 0.686, 13.118)

    Raises
    ------
    MetricError
        When a group is missing, or either group has no churned customer (the ratio or its
        interval is undefined).
    """
    if column not in frame.columns:
        raise MetricError(f"rate ratio: column {column!r} not found in the customer table")
    k = _known(frame)
    parts = {}
    for name in (group, reference):
        s = k.loc[k[column].astype("string") == name, "churned"]
        if not len(s):
            raise MetricError(f"rate ratio: no customer in {column} = {name!r}")
        parts[name] = (int(s.sum()), len(s))
    (a, n1), (c, n2) = parts[group], parts[reference]
    return ratio_from_counts(a, n1, c, n2, group, reference)


def ratio_from_counts(a: int, n1: int, c: int, n2: int, group: str = "detractor",
                      reference: str = "promoter") -> RateRatio:
    """:func:`rate_ratio` from the counts: ``a`` of ``n1`` churned in the group, ``c`` of ``n2`` in the reference."""
    if a == 0 or c == 0:
        raise MetricError(f"rate ratio {group}/{reference}: needs churned customers in both groups (got {a} and {c})")
    rr = (a / n1) / (c / n2)
    se = math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n2)
    p = float(_two_prop_p(np.array([a]), np.array([n1]), np.array([c]), np.array([n2]))[0])
    return RateRatio(rr, rr * math.exp(-Z95 * se), rr * math.exp(Z95 * se), p, a, n1, c, n2)


def exposure_rates(frame: pd.DataFrame, by: str | None = None, *, period_months: float = 12.0) -> pd.DataFrame:
    """Churn per period from time at risk inside the data period (a constant monthly hazard).

    λ = D / T with D churn events and T the months at risk (``t_exit − t_entry`` summed); exact
    Poisson interval (Garwood 1936) λ ∈ [χ²(0.025; 2D)/2T, χ²(0.975; 2D+2)/2T]; churn over
    ``period_months`` P: 1 − exp(−P·λ) (and the same of the bounds).

    Returns
    -------
    DataFrame
        ``[by], n, events, exposure_months, hazard, period_churn, ci_low, ci_high``.
    """
    k = _known(frame)
    k = k[k["t_exit"].notna()]
    if not len(k):
        raise MetricError("churn per period: no customer with a known status and survival time "
                          "(needs 'start_date' or 'tenure_months')")
    expo = (k["t_exit"] - k["t_entry"]).clip(lower=0)
    if by is None:
        tab = pd.DataFrame({"n": [len(k)], "events": [int(k["churned"].sum())], "exposure_months": [expo.sum()]})
    else:
        g = pd.DataFrame({"key": k[by].astype("string"), "e": k["churned"].astype(float), "x": expo})
        g = g[g["key"].notna()].groupby("key")
        tab = pd.DataFrame({"n": g.size(), "events": g["e"].sum().astype("int64"), "exposure_months": g["x"].sum()})
        tab = _order_groups(tab.rename_axis(by).reset_index(), by)
    return period_churn_from_exposure(tab, period_months).reset_index(drop=True)


# --- trend ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trend:
    """Monthly churn, the tests between consecutive months, and the χ² test over all months.

    ``table`` columns: ``period`` (``YYYY-MM``), ``at_risk``, ``churned``, ``rate``, ``ci_low``,
    ``ci_high``, ``change`` (rate − previous month's rate), ``p_value``, ``p_holm``, ``significant``.
    """

    table: pd.DataFrame
    chi2: float
    dof: int
    p_value: float
    n_unplaced: int = 0  # customers without start or churn date who could not be placed in months


def churn_trend(frame: pd.DataFrame, window: Window | None, *, alpha: float = 0.05) -> Trend | None:
    """Monthly churn rate over the complete months of the data period, significant changes marked.

    Rate of month m = customers who churned in m / customers active on m's first day (started
    before it and not churned before it). A start date missing but ``tenure_months`` present is
    reconstructed as exit date − tenure. Consecutive months: two-proportion z-test, Holm (1979)
    over all consecutive pairs; all months together: χ² test of homogeneity (``scipy.stats.
    chi2_contingency``).

    Returns ``None`` when the data cannot place churn in time (no ``churn_date``, no window, or
    fewer than two complete months).
    """
    if window is None or "churn_date" not in frame.columns:
        return None
    k = _known(frame)
    s, leave, placed = _trend_times(k, window)
    n_unplaced = int((~placed).sum())
    months = _trend_months(window)
    if len(months) < 2:
        return None
    s, leave = s[placed], leave[placed]
    rows = []
    for m in months:
        ms = np.datetime64(m, "ns")
        me = np.datetime64(m + pd.offsets.MonthBegin(1), "ns")
        active = (s < ms) & (leave >= ms)
        rows.append((m.strftime("%Y-%m"), int(active.sum()), int((active & (leave < me)).sum())))
    return _trend_from_rows(rows, n_unplaced, alpha)


#: "Never left": the leaving date of a customer who stayed, in :func:`churn_trend`.
_NEVER = np.datetime64("2262-01-01")


def _trend_times(k: pd.DataFrame, window: Window) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per customer of known status: start (a missing start date rebuilt as exit date − tenure), the date
    they left (:data:`_NEVER` for those who stayed) and whether they can be placed in time."""
    churned = k["churned"].eq(1).to_numpy()
    cdate = pd.to_datetime(k["churn_date"], errors="coerce")
    start = pd.to_datetime(k["start_date"], errors="coerce") if "start_date" in k.columns else pd.Series(
        pd.NaT, index=k.index, dtype="datetime64[ns]")
    if "tenure_months" in k.columns:
        exit_d = cdate.where(k["churned"].eq(1), window.end)
        rebuilt = exit_d - pd.to_timedelta(pd.to_numeric(k["tenure_months"], errors="coerce") * MONTH_DAYS, unit="D")
        start = start.fillna(rebuilt)
    placed = start.notna().to_numpy() & (~churned | cdate.notna().to_numpy())
    leave = np.where(churned, cdate.to_numpy("datetime64[ns]"), _NEVER)
    return start.to_numpy("datetime64[ns]"), leave, placed


def _trend_months(window: Window) -> list[pd.Timestamp]:
    """The complete calendar months of the data period."""
    first = window.start if window.start.day == 1 else (window.start + pd.offsets.MonthBegin(1))
    months = pd.date_range(first.normalize(), window.end + pd.Timedelta(days=1), freq="MS")
    return [m for m in months if m + pd.offsets.MonthEnd(0) <= window.end]


def _trend_from_rows(rows: list[tuple[str, int, int]], n_unplaced: int, alpha: float = 0.05) -> Trend | None:
    """:func:`churn_trend` from its month rows ``(period, at_risk, churned)``."""
    tab = pd.DataFrame(rows, columns=["period", "at_risk", "churned"])
    tab = tab[tab["at_risk"] > 0].reset_index(drop=True)
    if len(tab) < 2:
        return None
    lo, hi = wilson(tab["churned"].to_numpy(), tab["at_risk"].to_numpy())
    tab["rate"] = tab["churned"] / tab["at_risk"]
    tab["ci_low"], tab["ci_high"] = lo, hi
    tab["change"] = tab["rate"].diff()
    p = np.r_[np.nan, _two_prop_p(tab["churned"].to_numpy()[1:], tab["at_risk"].to_numpy()[1:],
                                  tab["churned"].to_numpy()[:-1], tab["at_risk"].to_numpy()[:-1])]
    tab["p_value"] = p
    tab["p_holm"] = _holm(p)
    tab["significant"] = tab["p_holm"] < alpha
    table = np.vstack([tab["churned"], tab["at_risk"] - tab["churned"]]).T
    if (table.sum(axis=0) == 0).any():
        chi2, dof, pv = 0.0, len(tab) - 1, 1.0
    else:
        chi2, pv, dof, _ = stats.chi2_contingency(table, correction=False)
    return Trend(tab, float(chi2), int(dof), float(pv), n_unplaced)


# --- reasons ----------------------------------------------------------------------------------------


def slug(text: str) -> str:
    """A stable id from a reason text: lower case, runs of non-word characters → ``_``.

    >>> slug("Delivery problems"), slug("Проблемы с доставкой")
    ('delivery_problems', 'проблемы_с_доставкой')
    """
    out = re.sub(r"\W+", "_", str(text).strip().lower()).strip("_")
    return out or "unknown"


@dataclass(frozen=True)
class Reasons:
    """A Pareto table of stated churn reasons.

    ``table``: ``reason, slug, n, share, ci_low, ci_high, cum_share`` sorted by ``n``; shares are of
    ``n_stated`` (churned customers who stated a reason); ``n_not_stated`` churned without one.
    """

    table: pd.DataFrame
    n_churned: int
    n_stated: int

    @property
    def n_not_stated(self) -> int:
        return self.n_churned - self.n_stated


def _reason_series(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    if "churn_reason" not in frame.columns:
        raise MetricError("churn reasons: column 'churn_reason' not found in the customers table")
    ch = _known(frame)
    ch = ch[ch["churned"].eq(1)]
    reason = ch["churn_reason"].astype("string").str.strip()
    return ch, reason.mask(reason == "")


def reason_pareto(frame: pd.DataFrame) -> Reasons:
    """Stated churn reasons as a Pareto table: count, share with Wilson interval, cumulative share."""
    ch, reason = _reason_series(frame)
    counts = reason.dropna().value_counts()
    return _pareto(counts.rename_axis("reason").reset_index(name="n"), len(ch))


def _pareto(counts: pd.DataFrame, n_churned: int) -> Reasons:
    """:func:`reason_pareto` from the counts per stated reason (``reason, n``) and the churned customers
    (in memory or from the engine's aggregate): sorted by ``n``, Wilson (1927) intervals of the shares."""
    counts = counts.sort_values(["n", "reason"], ascending=[False, True], kind="stable").reset_index(drop=True)
    counts["n"] = counts["n"].astype("int64")
    stated = int(counts["n"].sum())
    if stated:
        lo, hi = wilson(counts["n"].to_numpy(), np.full(len(counts), stated))
    else:
        lo = hi = np.array([])
    counts["slug"] = [slug(x) for x in counts["reason"]]
    counts["share"] = counts["n"] / stated if stated else np.nan
    counts["ci_low"], counts["ci_high"] = lo, hi
    counts["cum_share"] = counts["share"].cumsum()
    return Reasons(counts[["reason", "slug", "n", "share", "ci_low", "ci_high", "cum_share"]], n_churned, stated)


def reasons_by(frame: pd.DataFrame, by: str, *, min_base: int = 30) -> tuple[pd.DataFrame, float]:
    """Share of each stated reason within each group of ``by``, and the χ² test p-value.

    Returns
    -------
    (DataFrame, float)
        Long table ``by, reason, n, base, share, ci_low, ci_high, small_base, not_stated``
        (``base``: churned customers of the group with a stated reason; customers with no value in
        ``by`` are the last group, :data:`NOT_STATED`) and the p-value of the χ² test of
        independence of reason and group over the stated groups (NaN with fewer than two groups or
        reasons).
    """
    ch, reason = _reason_series(frame)
    if by not in ch.columns:
        raise MetricError(f"churn reasons by: column {by!r} not found in the customer table")
    d = pd.DataFrame({"g": segment_keys(ch[by]).astype("string"), "reason": reason}).dropna()
    return _reasons_by_table(pd.crosstab(d["g"], d["reason"]), by, min_base)


def _reasons_by_table(xt: pd.DataFrame, by: str, min_base: int) -> tuple[pd.DataFrame, float]:
    """:func:`reasons_by` from its cross-table (group keys × stated reasons, counts)."""
    cols = [by, "reason", "n", "base", "share", "ci_low", "ci_high", "small_base", "not_stated"]
    if xt.empty:
        return pd.DataFrame(columns=cols), np.nan
    xt = xt.loc[sorted(xt.index, key=lambda g: g == NOT_STATED)]  # not stated last
    long = xt.stack().rename("n").reset_index().rename(columns={"g": by})
    long["base"] = long[by].map(xt.sum(axis=1))
    lo, hi = wilson(long["n"].to_numpy(), long["base"].to_numpy())
    long["share"] = long["n"] / long["base"]
    long["ci_low"], long["ci_high"] = lo, hi
    long["small_base"] = long["base"] < min_base
    long["not_stated"] = long[by].eq(NOT_STATED).to_numpy(bool)
    tested = xt.drop(index=NOT_STATED, errors="ignore")
    tested = tested.loc[:, tested.sum(axis=0) > 0]
    p = float(stats.chi2_contingency(tested.to_numpy(), correction=False)[1]) if min(tested.shape) >= 2 else np.nan
    return long[cols], p


# --- driver models: shared checks -------------------------------------------------------------------


@dataclass(frozen=True)
class ModelMessage:
    """A check that changed the model or that its reader must know about.

    ``code`` is one of ``constant``, ``empty``, ``missing``, ``separation_level``,
    ``separation_numeric``, ``separation_fit``, ``aliased``, ``vif``, ``low_epv``,
    ``not_converged``; ``column`` names the predictor; ``detail`` holds the numbers. ``text(lang)``
    is the client-facing sentence (catalog key ``churn.msg.<code>``); ``str()`` is the English one.
    """

    code: str
    column: str
    detail: Mapping[str, Any] = field(default_factory=dict)

    def text(self, lang: str, labels: Mapping[str, str] | None = None) -> str:
        labels = labels or {}
        name = labels.get(self.column, self.column)
        d = dict(self.detail)
        kw: dict[str, Any] = {"column": name}
        if self.code == "constant":
            kw["value"] = d.get("value")
        elif self.code == "missing":
            kw["n"] = fmt_int(d["n"], lang)
            kw["share"] = fmt_pct(d["share"], lang, 1)
            kw["detail"] = ", ".join(f"{labels.get(c, c)}: {fmt_int(v, lang)}" for c, v in d["by_column"].items())
        elif self.code == "separation_level":
            kw |= {"level": labels.get(f"{self.column}={d['level']}", d["level"]),
                   "rate": fmt_pct(d["rate"], lang), "n": fmt_int(d["n"], lang)}
        elif self.code == "vif":
            kw |= {"vif": fmt_num(d["vif"], lang, 1), "threshold": fmt_num(d["threshold"], lang, 0)}
        elif self.code == "low_epv":
            kw |= {"epv": fmt_num(d["epv"], lang, 1), "events": fmt_int(d["events"], lang),
                   "params": fmt_int(d["params"], lang)}
        elif self.code == "aliased":
            kw["term"] = labels.get(d.get("term", ""), d.get("term", ""))
        return t(f"churn.msg.{self.code}", lang, **kw)

    def __str__(self) -> str:
        return self.text("en")


@dataclass
class _Prepared:
    y: pd.Series
    x: pd.DataFrame  # design matrix (no constant)
    numeric: list[str]
    levels: dict[str, list[str]]  # categorical predictor -> levels, reference first
    owner: dict[str, str]  # design column -> predictor
    extra: pd.DataFrame  # time / entry columns for Cox
    n_missing: int
    messages: list[ModelMessage]


def _design(frame: pd.DataFrame, numeric: Sequence[str], levels: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Numeric columns as they are and one 0/1 column ``col=level`` per non-reference level.

    A row whose category is not among ``levels`` (or missing) gets NaN in that predictor's columns.
    """
    cols: dict[str, np.ndarray] = {}
    for c in numeric:
        cols[c] = pd.to_numeric(frame[c], errors="coerce").to_numpy(float)
    for c, lv in levels.items():
        s = frame[c].astype("string")
        known = s.isin(list(lv)).to_numpy() & s.notna().to_numpy()
        for level in lv[1:]:
            col = (s == level).fillna(False).to_numpy(float)
            cols[f"{c}={level}"] = np.where(known, col, np.nan)
    return pd.DataFrame(cols, index=frame.index)


def _prepare(
    frame: pd.DataFrame,
    *,
    outcome: str,
    numeric: Sequence[str],
    categorical: Mapping[str, str | None],
    kind: Literal["logit", "cox"],
    extra: Sequence[str] = (),
) -> _Prepared:
    """Checks shared by the logistic and Cox models (see the module docstring)."""
    what = "logistic model" if kind == "logit" else "Cox model"
    wanted = [outcome, *numeric, *categorical, *extra]
    for c in wanted:
        if c not in frame.columns:
            raise MetricError(f"{what}: column {c!r} not found; the customer table has: "
                              f"{', '.join(map(str, frame.columns[:25]))}")
    if len(set(wanted)) != len(wanted):
        raise MetricError(f"{what}: a column is listed twice among {wanted}")
    messages: list[ModelMessage] = []
    y = pd.to_numeric(_as_binary(frame[outcome], outcome), errors="coerce").astype("float64")
    data: dict[str, pd.Series] = {}
    for c in numeric:
        s = frame[c]
        if s.dtype == bool or str(s.dtype) == "boolean":
            s = s.astype("Float64")
        num = pd.to_numeric(s, errors="coerce")
        bad = s.notna() & num.isna()
        if bad.any():
            raise MetricError(f"{what}: column {c!r} must be numeric; found {s[bad].iloc[0]!r}")
        data[c] = num.astype("float64")
    for c in categorical:
        data[c] = frame[c].astype("string").str.strip().mask(lambda s: s == "")
    for c in extra:
        data[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
    # 1. a predictor with no value or one value carries no information: leave it out
    keep: list[str] = []
    for c in [*numeric, *categorical]:
        vals = data[c].dropna()
        if vals.empty:
            messages.append(ModelMessage("empty", c))
        elif vals.nunique() == 1:
            messages.append(ModelMessage("constant", c, {"value": _plain(vals.iloc[0])}))
        else:
            keep.append(c)
    # 2. listwise deletion, counted per column
    cols = [outcome, *keep, *extra]
    table = pd.DataFrame({outcome: y, **{c: data[c] for c in [*keep, *extra]}}, index=frame.index)
    na = table.isna()
    complete = ~na.any(axis=1)
    n_missing = int((~complete).sum())
    if n_missing:
        by_col = {c: int(na[c].sum()) for c in cols if na[c].any()}
        messages.append(ModelMessage("missing", outcome, {"n": n_missing, "share": n_missing / max(len(table), 1),
                                                          "by_column": by_col}))
    table = table[complete]
    if not len(table):
        raise MetricError(f"{what}: no customer has every value needed ({', '.join(cols)}); expected n >= 1")
    if table[outcome].nunique() < 2:
        raise MetricError(f"{what}: column {outcome!r} has a single value ({_plain(table[outcome].iloc[0])}) "
                          f"among the {len(table)} usable customers; expected both churned and retained customers")
    # 3. constant after deletion
    for c in list(keep):
        if table[c].nunique() < 2:
            messages.append(ModelMessage("constant", c, {"value": _plain(table[c].iloc[0])}))
            keep.remove(c)
    num_keep = [c for c in numeric if c in keep]
    levels: dict[str, list[str]] = {}
    for c in [c for c in categorical if c in keep]:
        counts = table[c].value_counts()
        ref = categorical[c]
        if ref is None or ref not in counts.index:
            ref = str(counts.index[0])
        levels[c] = [ref, *_level_order(c, [str(v) for v in counts.index if v != ref])]
    # 4. separation that can be seen before fitting
    ev = table[outcome]
    for c in list(levels):
        rate = ev.groupby(table[c]).agg(["mean", "size"])
        if kind == "logit":
            bad = rate[(rate["mean"] == 0) | (rate["mean"] == 1)]
        else:
            bad = rate[rate["mean"] == 0]
        if len(bad):
            level = str(bad.index[0])
            messages.append(ModelMessage("separation_level", c, {"level": level, "rate": float(bad["mean"].iloc[0]),
                                                                 "n": int(bad["size"].iloc[0])}))
            del levels[c]
    if kind == "logit":
        for c in list(num_keep):
            x0, x1 = table.loc[ev == 0, c], table.loc[ev == 1, c]
            if x0.max() <= x1.min() or x1.max() <= x0.min():
                messages.append(ModelMessage("separation_numeric", c))
                num_keep.remove(c)
    # 5. design, exact collinearity
    while True:
        x = _design(table, num_keep, levels)
        owner = {col: col.split("=", 1)[0] if col not in num_keep else col for col in x.columns}
        aliased = _aliased(x)
        if aliased is None:
            break
        pred = owner[aliased]
        messages.append(ModelMessage("aliased", pred, {"term": aliased}))
        if pred in levels:
            del levels[pred]
        else:
            num_keep.remove(pred)
    if x.shape[1] == 0:
        raise MetricError(f"{what}: no usable predictor left after the checks: "
                          + "; ".join(str(m) for m in messages))
    return _Prepared(table[outcome], x, num_keep, levels, owner, table[list(extra)], n_missing, messages)


def _level_order(column: str, levels: list[str]) -> list[str]:
    """Non-reference levels: NPS groups in :data:`GROUPS` order, anything else alphabetical."""
    if column == "nps_group":
        rank = {g: i for i, g in enumerate(GROUPS)}
        return sorted(levels, key=lambda v: (rank.get(v, len(rank)), v))
    return sorted(levels)


def _plain(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def _correlation(x: pd.DataFrame) -> np.ndarray:
    """Correlation matrix of the design columns (centred, so the intercept is accounted for)."""
    m = x.to_numpy(float)
    m = m - m.mean(axis=0)
    gram = m.T @ m
    d = np.sqrt(np.clip(np.diag(gram), 0, None))
    d[d == 0] = 1.0
    return gram / np.outer(d, d)


def _aliased(x: pd.DataFrame) -> str | None:
    """The first design column that is an exact linear combination of the columns before it and
    the intercept, if any.

    Works on the k × k correlation matrix (one pass over the data): column j is aliased when its
    residual variance given the earlier kept columns, 1 − r'R⁻¹r, is ~0. Constant columns were
    removed before, and a Cox model is invariant to shifting a column, so centring suits both models.
    """
    corr = _correlation(x)
    kept: list[int] = []
    for j in range(corr.shape[0]):
        if kept:
            r = corr[kept, j]
            resid = 1.0 - float(r @ np.linalg.solve(corr[np.ix_(kept, kept)], r))
        else:
            resid = float(corr[j, j])
        if resid < 1e-9:
            return str(x.columns[j])
        kept.append(j)
    return None


def _vif(x: pd.DataFrame) -> pd.DataFrame:
    """VIF_j = 1/(1 − R²_j) of each design column regressed on the others plus a constant.

    Computed as the diagonal of the inverse correlation matrix of the columns, which equals
    1/(1 − R²_j) (Belsley, Kuh & Welsch 1980; Kutner et al. 2005, eq. 10.41) — the same number as
    ``statsmodels``' ``variance_inflation_factor`` with a constant in the design (a test checks),
    without one regression per column.
    """
    if x.shape[1] < 2:
        return pd.DataFrame({"term": list(x.columns), "vif": [1.0] * x.shape[1]})
    inv = np.linalg.pinv(_correlation(x))
    return pd.DataFrame({"term": list(x.columns), "vif": np.diag(inv).astype(float)})


@dataclass
class ModelResult:
    """A fitted churn-driver model (logistic: odds ratios; Cox: hazard ratios).

    Attributes
    ----------
    kind : ``"logit"`` or ``"cox"``
    table : DataFrame
        One row per term: ``term, predictor, level, reference`` (True for the reference level of a
        categorical predictor, shown with ratio 1), ``coef, se, ratio, ci_low, ci_high, p_value``.
    n, n_events, n_missing : int
        Customers used, churn events among them, customers dropped for a missing value.
    messages : list of ModelMessage
        Every check that left a predictor out or warrants a warning.
    vif : DataFrame
        ``term, vif`` of the final design.
    numeric, levels
        The predictors kept (categorical: levels with the reference first) — the encoding that
        :meth:`design` applies to new data.
    fit
        The statsmodels results object.
    fit_rows : dict
        Which rows the model was fitted on (:func:`_sample_rows`): ``method`` ``"all"`` (every usable
        customer) or ``"stratified_sample"`` (above :data:`MODEL_MAX_ROWS`: the same fraction of
        churned and retained customers, so every row weighs 1 / fraction), with ``rows_used``,
        ``rows_available``, ``fraction``, ``weight`` and ``seed``. The report says which.
    """

    kind: str
    table: pd.DataFrame
    n: int
    n_events: int
    n_missing: int
    messages: list[ModelMessage]
    vif: pd.DataFrame
    numeric: list[str]
    levels: dict[str, list[str]]
    fit: Any = field(repr=False)
    fit_rows: dict[str, Any] = field(default_factory=lambda: {"method": "all"})

    @property
    def columns(self) -> list[str]:
        return [c for c in self.fit.model.exog_names if c != "const"]

    def design(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The design matrix of ``frame`` with this model's encoding (NaN rows where unusable)."""
        x = _design(frame, self.numeric, self.levels)[self.columns]
        if self.kind == "logit":
            x.insert(0, "const", 1.0)
        return x

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """P(churn) of each row of ``frame`` (logistic model only); NaN where a value is missing."""
        if self.kind != "logit":
            raise MetricError("predict: only the logistic model gives churn probabilities")
        x = self.design(frame).to_numpy(float)
        eta = x @ self.fit.params.to_numpy(float)
        return 1.0 / (1.0 + np.exp(-eta))

    def ratio(self, term: str) -> pd.Series:
        """The table row of one term (``predictor=level`` for a category)."""
        row = self.table[self.table["term"] == term]
        if not len(row):
            raise KeyError(f"term {term!r} not in the model; terms: {', '.join(self.table['term'])}")
        return row.iloc[0]


def _finish(kind: str, res: Any, prep: _Prepared, messages: list[ModelMessage],
            categorical_order: Sequence[str], fit_rows: dict[str, Any] | None = None) -> ModelResult:
    params, bse, pv = res.params, res.bse, res.pvalues
    ci = np.asarray(res.conf_int(alpha=0.05))
    names = list(res.model.exog_names)
    rows = []
    for i, name in enumerate(names):
        if name == "const":
            continue
        pred = prep.owner.get(name, name)
        level = name.split("=", 1)[1] if pred in prep.levels else None
        rows.append({"term": name, "predictor": pred, "level": level, "reference": False,
                     "coef": float(np.asarray(params)[i]), "se": float(np.asarray(bse)[i]),
                     "ratio": float(np.exp(np.asarray(params)[i])), "ci_low": float(np.exp(ci[i, 0])),
                     "ci_high": float(np.exp(ci[i, 1])), "p_value": float(np.asarray(pv)[i])})
    for pred, lv in prep.levels.items():
        rows.append({"term": f"{pred}={lv[0]}", "predictor": pred, "level": lv[0], "reference": True,
                     "coef": 0.0, "se": np.nan, "ratio": 1.0, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan})
    table = pd.DataFrame(rows)
    # order: predictors as asked, reference level first within a predictor
    pred_order = {p: i for i, p in enumerate([*prep.numeric, *categorical_order])}
    table["_p"] = table["predictor"].map(pred_order).fillna(len(pred_order))
    table["_l"] = [0 if r else 1 for r in table["reference"]]
    table = table.sort_values(["_p", "_l"], kind="stable").drop(columns=["_p", "_l"]).reset_index(drop=True)
    vif = _vif(prep.x)
    for _, r in vif.iterrows():
        if r["vif"] > VIF_THRESHOLD:
            messages.append(ModelMessage("vif", prep.owner.get(r["term"], r["term"]),
                                         {"term": r["term"], "vif": float(r["vif"]), "threshold": VIF_THRESHOLD}))
    n_events = int(prep.y.sum())
    k_params = prep.x.shape[1]
    limiting = min(n_events, len(prep.y) - n_events) if kind == "logit" else n_events
    if k_params and limiting / k_params < MIN_EPV:
        messages.append(ModelMessage("low_epv", "", {"epv": limiting / k_params, "events": limiting,
                                                     "params": k_params}))
    return ModelResult(kind, table, len(prep.y), n_events, prep.n_missing, messages, vif, prep.numeric,
                       prep.levels, res, fit_rows or {"method": "all", "rows_used": len(prep.y),
                                                      "rows_available": len(prep.y), "fraction": 1.0})


def _sample_rows(prep: _Prepared, max_rows: int, seed: int) -> dict[str, Any]:
    """Keep every usable row up to ``max_rows``; above it, a stratified random sample (in place).

    Strata are the outcome values (churned / retained), each sampled at the same fraction
    f = max_rows / n without replacement (proportional allocation, Cochran 1977, *Sampling
    Techniques*, ch. 5): the churn rate of the sample equals the population's to one customer and
    every kept row carries the same weight 1 / f, so the weighted fit is the unweighted fit of the
    sample; intervals come from the sample's own information (wider than all rows would give).
    Seeded: the same data give the same sample.
    """
    n = len(prep.y)
    if n <= max_rows:
        return {"method": "all", "rows_used": n, "rows_available": n, "fraction": 1.0}
    frac = max_rows / n
    rng = np.random.default_rng(seed)
    y = prep.y.to_numpy()
    keep = np.zeros(n, dtype=bool)
    for value in np.unique(y):
        idx = np.flatnonzero(y == value)
        keep[rng.choice(idx, size=int(round(frac * len(idx))), replace=False)] = True
    prep.y, prep.x = prep.y[keep], prep.x[keep]
    if len(prep.extra) == n:
        prep.extra = prep.extra[keep]
    return {"method": "stratified_sample", "rows_used": int(keep.sum()), "rows_available": n,
            "fraction": frac, "weight": 1.0 / frac, "seed": seed}


def _separation_suspect(res: Any, x: pd.DataFrame, caught: list[warnings.WarningMessage]) -> str | None:
    """The design column most likely behind separation, or None when the fit looks sound."""
    flagged = any(issubclass(w.category, PerfectSeparationWarning) for w in caught)
    converged = bool(getattr(res, "mle_retvals", {}).get("converged", True))
    params = res.params.drop("const", errors="ignore")
    effect = (params.abs() * x[params.index].std(ddof=0)).replace([np.inf], np.nan).fillna(np.inf)
    if not (flagged or not converged or (effect > _SEPARATION_EFFECT).any()):
        return None
    if not len(effect):
        return None
    worst = effect.idxmax()
    if effect[worst] > _SEPARATION_EFFECT or flagged:
        return str(worst)
    return None


def _drop_predictor(prep: _Prepared, pred: str) -> None:
    if pred in prep.levels:
        del prep.levels[pred]
    else:
        prep.numeric.remove(pred)
    prep.x = prep.x[[c for c in prep.x.columns if prep.owner[c] != pred]]


def fit_logit(
    frame: pd.DataFrame,
    numeric: Sequence[str] = (),
    categorical: Mapping[str, str | None] | None = None,
    *,
    outcome: str = "churned",
    max_rows: int = MODEL_MAX_ROWS,
    seed: int = 20261124,
) -> ModelResult:
    """Logistic regression of churn (statsmodels ``Logit``): odds ratios with 95% intervals.

    Parameters
    ----------
    frame
        One row per customer (:func:`customer_frame`).
    numeric
        Numeric predictors (odds ratio per unit: use ``tenure_years`` for "per year").
    categorical
        Categorical predictor -> reference level (``None``: the most frequent level).
    outcome
        The 0/1 churn column.
    max_rows, seed
        Above ``max_rows`` usable customers the model is fitted on a seeded stratified sample
        (:func:`_sample_rows`); ``fit_rows`` of the result says which rows were used.

    Returns
    -------
    ModelResult
        OR = exp(β), interval exp(β ± 1.96·SE) (Wald), p-values of the Wald z-tests; the
        ``messages`` say what the checks changed (module docstring): a single-valued column left
        out, rows with missing values dropped (listwise, counted), separation (category with 0% or
        100% churn, non-overlapping numeric ranges, or a fit flagged by statsmodels / diverging —
        the offending predictor is left out and the model refitted), aliased predictors, VIF > 10,
        fewer than 10 events per parameter.

    Raises
    ------
    MetricError
        A column missing or not numeric, no usable row, the outcome not 0/1 or with one value only,
        or no predictor left.

    Examples
    --------
    A 2×2 table (a = 20 churned / b = 80 retained detractors, c = 10 / d = 90 promoters): the odds
    ratio is ad/bc = 2.25 (Woolf 1955).

    >>> f = pd.DataFrame({"churned": [1] * 20 + [0] * 80 + [1] * 10 + [0] * 90,
    ...                   "nps_group": ["detractor"] * 100 + ["promoter"] * 100})
    >>> m = fit_logit(f, categorical={"nps_group": "promoter"})
    >>> round(float(m.ratio("nps_group=detractor")["ratio"]), 4)
    2.25
    """
    categorical = dict(categorical or {})
    prep = _prepare(frame, outcome=outcome, numeric=numeric, categorical=categorical, kind="logit")
    fit_rows = _sample_rows(prep, max_rows, seed)

    def fit_once() -> Any:
        x = prep.x.copy()
        x.insert(0, "const", 1.0)
        try:
            return Logit(prep.y, x).fit(disp=0, maxiter=100, method="newton")
        except np.linalg.LinAlgError:
            return Logit(prep.y, x).fit(disp=0, maxiter=200, method="bfgs")

    res, messages = _fit_dropping_separators(
        prep, fit_once, lambda r, _: r.mle_retvals.get("converged", True), "logistic model")
    return _finish("logit", res, prep, messages, list(categorical), fit_rows)


def fit_cox(
    frame: pd.DataFrame,
    numeric: Sequence[str] = (),
    categorical: Mapping[str, str | None] | None = None,
    *,
    event: str = "churned",
    time: str = "t_exit",
    entry: str | None = "t_entry",
    max_rows: int = MODEL_MAX_ROWS,
    seed: int = 20261124,
) -> ModelResult:
    """Cox proportional-hazards model (statsmodels ``PHReg``, Breslow ties): hazard ratios.

    Time is tenure in months (``t_exit``) with delayed entry at ``t_entry`` (the start of the data
    period). HR = exp(β) with Wald 95% intervals. The checks of :func:`fit_logit` apply, except that
    separation here means a category with no churn event (its hazard ratio would be 0). Above
    ``max_rows`` usable customers: a seeded stratified sample by event status (``fit_rows`` says so).
    """
    categorical = dict(categorical or {})
    extra = [time] + ([entry] if entry else [])
    prep = _prepare(frame, outcome=event, numeric=numeric, categorical=categorical, kind="cox", extra=extra)
    fit_rows = _sample_rows(prep, max_rows, seed)

    def fit_once() -> Any:
        model = PHReg(prep.extra[time].to_numpy(float), prep.x, status=prep.y.to_numpy(float),
                      entry=prep.extra[entry].to_numpy(float) if entry else None, ties="breslow")
        return _NamedParams(model.fit(disp=0), prep.x.columns)

    res, messages = _fit_dropping_separators(
        prep, fit_once, lambda _, caught: not any(issubclass(w.category, ConvergenceWarning) for w in caught),
        "Cox model")
    return _finish("cox", res, prep, messages, list(categorical), fit_rows)


def _fit_dropping_separators(
    prep: _Prepared, fit_once: Callable[[], Any], converged: Callable[[Any, list[warnings.WarningMessage]], bool],
    what: str,
) -> tuple[Any, list[ModelMessage]]:
    """Fit; while the fit shows separation, leave the offending predictor out (saying so) and refit."""
    messages = list(prep.messages)
    while True:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = fit_once()
        suspect = _separation_suspect(res, prep.x, caught)
        if suspect is None:
            if not converged(res, caught):
                messages.append(ModelMessage("not_converged", ""))
            return res, messages
        pred = prep.owner[suspect]
        messages.append(ModelMessage("separation_fit", pred, {"term": suspect}))
        _drop_predictor(prep, pred)
        if prep.x.shape[1] == 0:
            raise MetricError(f"{what}: no predictor left after removing separating predictors: "
                              + "; ".join(str(m) for m in messages))


class _NamedParams:
    """PHReg results with ``params`` / ``bse`` / ``pvalues`` as Series named by the design columns."""

    def __init__(self, res: Any, names: Iterable[str]) -> None:
        self._res = res
        names = list(names)
        self.params = pd.Series(np.asarray(res.params), index=names)
        self.bse = pd.Series(np.asarray(res.bse), index=names)
        self.pvalues = pd.Series(np.asarray(res.pvalues), index=names)
        self.mle_retvals = getattr(res, "mle_retvals", None) or {}
        self.model = _ModelNames(names)

    def conf_int(self, alpha: float = 0.05) -> np.ndarray:
        return np.asarray(self._res.conf_int(alpha=alpha))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._res, name)


@dataclass(frozen=True)
class _ModelNames:
    exog_names: list[str]


def touchpoint_odds(
    frame: pd.DataFrame,
    touchpoints: Sequence[str],
    *,
    numeric: Sequence[str] = ("tenure_years",),
    categorical: Mapping[str, str | None] | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Per touchpoint: the odds ratio of churn per 1 point *lower* rating, adjusted for controls.

    One logistic model per touchpoint (:func:`fit_logit`) on the customers who rated it in their
    latest survey answer: churn ~ rating + ``numeric`` + ``categorical``. NPS is not a control, as
    it lies on the path from touchpoint experience to churn. OR per point lower = exp(−β), interval
    flipped accordingly; p-values Holm-corrected over the touchpoints.

    Returns
    -------
    DataFrame
        ``touchpoint, n, n_events, ratio, ci_low, ci_high, p_value, p_holm, significant, notes``
        sorted by ``ratio`` (largest first); ``notes`` lists the model messages other than the
        expected listwise deletion of non-users. Touchpoints whose model cannot be fitted get NaN
        and the reason in ``notes``.
    """
    rows = []
    for tp in touchpoints:
        if tp not in frame.columns:
            raise MetricError(f"touchpoint odds: column {tp!r} not found in the customer table")
        try:
            m = fit_logit(frame, [tp, *numeric], categorical)
        except MetricError as exc:
            rows.append({"touchpoint": tp, "n": 0, "n_events": 0, "ratio": np.nan, "ci_low": np.nan,
                         "ci_high": np.nan, "p_value": np.nan, "notes": str(exc)})
            continue
        notes = "; ".join(str(msg) for msg in m.messages if msg.code != "missing")
        if tp not in m.numeric:
            rows.append({"touchpoint": tp, "n": m.n, "n_events": m.n_events, "ratio": np.nan, "ci_low": np.nan,
                         "ci_high": np.nan, "p_value": np.nan, "notes": notes})
            continue
        r = m.ratio(tp)
        rows.append({"touchpoint": tp, "n": m.n, "n_events": m.n_events, "ratio": 1 / r["ratio"],
                     "ci_low": 1 / r["ci_high"], "ci_high": 1 / r["ci_low"], "p_value": r["p_value"],
                     "notes": notes})
    tab = pd.DataFrame(rows, columns=["touchpoint", "n", "n_events", "ratio", "ci_low", "ci_high", "p_value", "notes"])
    tab["p_holm"] = _holm(tab["p_value"].to_numpy(float))
    tab["significant"] = tab["p_holm"] < alpha
    return tab.sort_values("ratio", ascending=False, na_position="last", kind="stable").reset_index(drop=True)


# --- survival -----------------------------------------------------------------------------------------


@dataclass
class Survival:
    """Kaplan–Meier curves per group and the log-rank test.

    ``curves``: group -> DataFrame ``time, surv, ci_low, ci_high, n_risk`` (a step function);
    ``table``: ``group, n, events, surv_<t>, ci_low_<t>, ci_high_<t>, n_risk_<t>`` at ``horizons``.
    """

    curves: dict[str, pd.DataFrame]
    table: pd.DataFrame
    horizons: tuple[int, ...]
    chi2: float
    p_value: float
    n: int


def _km(time: np.ndarray, status: np.ndarray, entry: np.ndarray | None) -> pd.DataFrame:
    sf = SurvfuncRight(time, status, entry=entry)
    s = np.asarray(sf.surv_prob, float)
    se = np.asarray(sf.surv_prob_se, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_s = np.log(s)
        half = Z95 * se / (s * np.abs(log_s))
        lo = np.exp(-np.exp(np.log(-log_s) + half))
        hi = np.exp(-np.exp(np.log(-log_s) - half))
    exact = (s >= 1.0) | (s <= 0.0) | ~np.isfinite(half)
    lo = np.where(exact, s, lo)
    hi = np.where(exact, s, hi)
    return pd.DataFrame({"time": np.asarray(sf.surv_times, float), "surv": s, "ci_low": lo, "ci_high": hi,
                         "n_risk": np.asarray(sf.n_risk, float)})


def _at(curve: pd.DataFrame, t_: float, col: str) -> float:
    before = curve[curve["time"] <= t_]
    if not len(before):
        return 1.0 if col in ("surv", "ci_low", "ci_high") else np.nan
    return float(before[col].iloc[-1])


def survival(frame: pd.DataFrame, by: str = "nps_group", *, horizons: Sequence[int] = (12, 24, 36),
             delayed_entry: bool = True) -> Survival:
    """Kaplan–Meier survival by group (``SurvfuncRight``) and the log-rank test (``survdiff``).

    Time is tenure in months; with ``delayed_entry`` customers enter the risk set at the start of
    the data period (``t_entry``), so tenure before the data period counts only for those who were
    there to be counted. Intervals: log–log transform of Greenwood's SE (see the module docstring).
    ``n_risk_<t>`` is the number at risk at horizon t, to judge how much data is behind S(t).
    """
    k = _known(frame)
    need = ["t_exit", by] + (["t_entry"] if delayed_entry else [])
    for c in need:
        if c not in k.columns:
            raise MetricError(f"survival: column {c!r} not found in the customer table")
    k = k.dropna(subset=need)
    if not len(k):
        raise MetricError("survival: no customer with a survival time and a group")
    curves: dict[str, pd.DataFrame] = {}
    rows = []
    groups = _order_groups(pd.DataFrame({by: k[by].astype("string").unique()}), by)[by] if by == "nps_group" else \
        k[by].astype("string").value_counts().index
    for g in groups:
        part = k[k[by].astype("string") == g]
        entry = part["t_entry"].to_numpy(float) if delayed_entry else None
        curve = _km(part["t_exit"].to_numpy(float), part["churned"].to_numpy(float), entry)
        curves[str(g)] = curve
        row: dict[str, Any] = {by: str(g), "n": len(part), "events": int(part["churned"].sum())}
        for h in horizons:
            row[f"surv_{h}"] = _at(curve, h, "surv")
            row[f"ci_low_{h}"] = _at(curve, h, "ci_low")
            row[f"ci_high_{h}"] = _at(curve, h, "ci_high")
            exposed = (part["t_entry"] <= h) & (part["t_exit"] >= h) if delayed_entry else part["t_exit"] >= h
            row[f"n_risk_{h}"] = int(exposed.sum())
        rows.append(row)
    chi2, p = np.nan, np.nan
    if len(curves) >= 2:
        chi2, p = survdiff(k["t_exit"].to_numpy(float), k["churned"].to_numpy(float),
                           k[by].astype("string").to_numpy(object),
                           entry=k["t_entry"].to_numpy(float) if delayed_entry else None)
    return Survival(curves, pd.DataFrame(rows), tuple(horizons), float(chi2), float(p), len(k))


# --- the whole section: analysis and findings -----------------------------------------------------

#: The Pareto "vital few": reasons become findings until their cumulative share reaches this.
PARETO_SHARE: float = 0.80
#: At most this many reason findings.
MAX_REASON_FINDINGS: int = 5
#: A touchpoint whose one-point-lower rating multiplies the odds of churn by at least this is a
#: severity-3 finding; weaker (but significant) links are severity 2 — indirect evidence, as the
#: touchpoint acts on churn through the customer's overall experience.
TOUCHPOINT_STRONG: float = 1.5


@dataclass
class ChurnAnalysis:
    """Everything the churn section shows, computed once (:func:`analyse`).

    Parts that the data cannot support are ``None`` and the reason is in ``errors`` (part -> text).
    ``timings`` holds seconds per step.
    """

    frame: pd.DataFrame
    window: Window | None
    segments: list[str]
    min_base: int
    assumptions: Assumptions
    slow_hours: float = SLOW_HOURS
    overall: pd.DataFrame | None = None
    period: pd.DataFrame | None = None
    by_group: pd.DataFrame | None = None
    ratio: RateRatio | None = None
    by_segment: dict[str, pd.DataFrame] = field(default_factory=dict)
    trend: Trend | None = None
    reasons: Reasons | None = None
    reasons_by: dict[str, tuple[pd.DataFrame, float]] = field(default_factory=dict)
    logit: ModelResult | None = None
    touchpoints: pd.DataFrame | None = None
    cox: ModelResult | None = None
    survival: Survival | None = None
    ltv: pd.DataFrame | None = None
    rar: RevenueAtRisk | None = None
    retention: pd.DataFrame | None = None
    moves: pd.DataFrame | None = None
    segment_labels: dict[str, str] = field(default_factory=dict)
    touchpoint_info: pd.DataFrame | None = None
    #: Touchpoint ratings at or below this are "not satisfied" (below the top-2 box of a 1–5 scale);
    #: the reach of a touchpoint finding is the share of customers whose latest rating is that low.
    tp_low_max: float = 3.0
    #: The time basis of the per-period figures (:func:`time_basis`); None when :func:`analyse` was
    #: given a window directly.
    basis: TimeBasis | None = None
    #: Client value labels per column (audit.yaml ``value_labels``), applied in every churn table.
    value_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    #: The engine path (:func:`analyse_engine`): rows of the customers table, the staged frame's rows,
    #: the model sample (``frame`` is then that sample, never the base of a count). None in memory.
    engine: dict[str, Any] | None = None
    #: Counts over every customer that the findings need, from the engine (``n_known``,
    #: ``customers_by_group``, ``period_12m``, ``period_12m_by_group``, ``tp_low``, ``active_revenue_mean``).
    counts: dict[str, Any] = field(default_factory=dict)

    @property
    def has_groups(self) -> bool:
        return "nps_group" in self.frame.columns

    def value_frame(self) -> pd.DataFrame:
        """The frame :func:`cxaudit.economics.acquisition_cost` reads: the customers in memory, or on the
        engine path one active customer at the engine's mean active revenue (the same mean, exactly)."""
        if self.engine is None or "active_revenue_mean" not in self.counts:
            return self.frame
        return pd.DataFrame({"churned": [0], "revenue": [self.counts["active_revenue_mean"]]})

    def segment_label(self, column: str) -> str:
        return self.segment_labels.get(column, column)


def model_spec(frame: pd.DataFrame, segments: Sequence[str], kind: Literal["logit", "cox"], *,
               covariates: Sequence[str] | None = None, reference: Mapping[str, str] | None = None,
               bands: Mapping[str, str] | None = None) -> tuple[list[str], dict[str, str | None]]:
    """The default driver model: NPS group (reference: promoters), tenure in years (logistic only —
    it is the Cox model's time scale), segments (reference: ``reference`` of audit.yaml, else the
    largest group), ``covariates`` (numeric customer columns, audit.yaml ``churn.covariates``),
    tickets and slow resolutions — each only when the data has it.

    A band and the number it was cut from are never both in a model (they are collinear by
    construction): when a band column is a segment, its source number (and ``tenure_years`` for a
    band of ``tenure_months``) is left out.

    Examples
    --------
    >>> f = pd.DataFrame({"churned": [0, 1], "tenure_years": [1.0, 2.0], "tenure_band": ["a", "b"],
    ...                   "tenure_months": [12, 24], "charges": [10.0, 20.0]})
    >>> model_spec(f, ["tenure_band"], "logit", covariates=["charges", "tenure_months"],
    ...            bands={"tenure_band": "tenure_months"})
    (['charges'], {'tenure_band': None})
    """
    banded = {src for band, src in (bands or {}).items() if band in segments}
    if "tenure_months" in banded:
        banded.add("tenure_years")
    extra = [c for c in (covariates or []) if c not in ("tenure_years", "n_tickets", "n_slow")]
    numeric = [c for c in (["tenure_years"] if kind == "logit" else []) + extra + ["n_tickets", "n_slow"]
               if c in frame.columns and pd.to_numeric(frame[c], errors="coerce").notna().any() and c not in banded]
    categorical: dict[str, str | None] = {}
    if "nps_group" in frame.columns:
        categorical["nps_group"] = "promoter"
    ref = reference or {}
    for s in segments:
        if s in frame.columns and s not in banded:
            categorical[s] = ref.get(s)
    return numeric, categorical


def _declared_order(tab: pd.DataFrame, by: str, order: Sequence[str] | None) -> pd.DataFrame:
    """Rows of a per-group table in the declared order of the groups (bands, ``categories``); groups
    not declared (``Not stated``) keep their place after them."""
    if not order or by not in tab.columns:
        return tab
    pos = {str(v): i for i, v in enumerate(order)}
    key = tab[by].map(lambda v: pos.get(str(v), len(pos)))
    return tab.assign(_k=key.to_numpy()).sort_values("_k", kind="stable").drop(columns="_k").reset_index(drop=True)


def analyse(
    frame: pd.DataFrame,
    *,
    segments: Sequence[str] = (),
    window: Window | None = None,
    min_base: int = 30,
    assumptions: Assumptions | None = None,
    slow_hours: float = SLOW_HOURS,
    touchpoint_models: bool = True,
    basis: TimeBasis | None = None,
    covariates: Sequence[str] | None = None,
    reference: Mapping[str, str] | None = None,
    level_order: Mapping[str, Sequence[str]] | None = None,
    bands: Mapping[str, str] | None = None,
) -> ChurnAnalysis:
    """Run every part of the churn section on a customer frame (:func:`customer_frame`).

    ``basis`` (:func:`time_basis`) decides the per-period figures: without one (``basis.ok`` false)
    churn per period, LTV, revenue at risk and survival are not computed and ``errors`` says why.
    ``covariates`` are numeric customer columns added to the models, ``reference`` the reference
    level per categorical column, ``level_order`` the declared order of a column's groups in the
    tables, ``bands`` band column -> its source number (a band never enters a model together with its
    source: the source is left out).

    A part the data cannot support (no churn dates for the trend, no reasons, a model that cannot
    be fitted) is left ``None`` with its reason in ``errors``; only a frame without any customer of
    known churn status raises.
    """
    import time

    from . import economics

    clock = time.perf_counter
    a = assumptions if assumptions is not None else economics.Assumptions()
    an = ChurnAnalysis(frame, window, [s for s in segments if s in frame.columns], min_base, a, slow_hours)
    an.basis = basis
    timed = basis is None or basis.ok
    no_time = basis.reason if basis is not None and not basis.ok else None
    obs_months = basis.months if basis is not None else (window.months if window is not None else None)
    dated = window is not None or (basis is not None and basis.ok)

    t0 = clock()
    an.overall = churn_rates(frame, min_base=min_base)
    if no_time:
        an.errors["period"] = no_time
    if timed and frame["t_exit"].notna().any():
        an.period = exposure_rates(frame, period_months=a.revenue_period_months)
    if an.has_groups:
        an.by_group = churn_rates(frame, "nps_group", min_base=min_base)
        try:
            an.ratio = rate_ratio(frame)
        except MetricError as exc:
            an.errors["ratio"] = str(exc)
    for s in an.segments:
        an.by_segment[s] = _declared_order(churn_rates(frame, s, min_base=min_base), s, (level_order or {}).get(s))
    an.trend = churn_trend(frame, window)
    if an.trend is None:
        an.errors["trend"] = _NO_TREND
    an.timings["rates"] = clock() - t0

    t0 = clock()
    if "churn_reason" in frame.columns:
        an.reasons = reason_pareto(frame)
        if an.reasons.n_stated:
            for s in an.segments:
                an.reasons_by[s] = reasons_by(frame, s, min_base=min_base)
        else:
            an.errors["reasons"] = _NO_REASON_STATED
    else:
        an.errors["reasons"] = _NO_REASON_COLUMN
    an.timings["reasons"] = clock() - t0

    t0 = clock()
    numeric, categorical = model_spec(frame, an.segments, "logit", covariates=covariates, reference=reference,
                                      bands=bands)
    try:
        an.logit = fit_logit(frame, numeric, categorical)
    except MetricError as exc:
        an.errors["logit"] = str(exc)
    an.timings["logit"] = clock() - t0

    t0 = clock()
    tps = [c for c in frame.columns if str(c).startswith("tp_")]
    if touchpoint_models and tps:
        controls = [c for c in numeric if c == "tenure_years"]
        an.touchpoints = touchpoint_odds(frame, tps, numeric=controls,
                                         categorical={s: None for s in an.segments})
    an.timings["touchpoints"] = clock() - t0

    t0 = clock()
    if no_time:
        an.errors["survival"] = an.errors["cox"] = no_time
    elif frame["t_exit"].notna().any():
        numeric, categorical = model_spec(frame, an.segments, "cox", covariates=covariates, reference=reference,
                                          bands=bands)
        if an.has_groups:
            try:
                an.survival = survival(frame, "nps_group", delayed_entry=dated)
            except MetricError as exc:
                an.errors["survival"] = str(exc)
        try:
            an.cox = fit_cox(frame, numeric, categorical, entry="t_entry" if dated else None)
        except MetricError as exc:
            an.errors["cox"] = str(exc)
    else:
        an.errors["survival"] = an.errors["cox"] = "no start date or tenure to measure time as a customer"
    an.timings["survival"] = clock() - t0

    t0 = clock()
    if no_time:
        an.errors["economics"] = no_time
    elif "revenue" in frame.columns and pd.to_numeric(frame["revenue"], errors="coerce").notna().any():
        months = obs_months
        if an.has_groups and an.period is not None:
            rates = exposure_rates(frame, "nps_group", period_months=a.revenue_period_months)
            an.ltv = economics.ltv_by_group(frame, rates, "nps_group", a)
        if an.logit is not None:
            try:
                # segment keys: customers without a segment value get their own row in the breakdown
                # (the model scores them as before: an unknown level is a missing predictor)
                keyed = frame.assign(**{s: segment_keys(frame[s]) for s in an.segments})
                an.rar = economics.revenue_at_risk(keyed, an.logit, a, segments=an.segments, window_months=months)
                an.retention = economics.retention_vs_acquisition(frame, an.rar, a)
                if an.ltv is not None:
                    an.moves = economics.move_detractors(frame, an.logit, an.ltv, a, window_months=months)
            except MetricError as exc:
                an.errors["economics"] = str(exc)
    else:
        an.errors["economics"] = _NO_REVENUE
    an.timings["economics"] = clock() - t0
    return an


def analyse_audit(audit: Any, *, assumptions: Assumptions | None = None, slow_hours: float = SLOW_HOURS,
                  touchpoint_models: bool = True) -> ChurnAnalysis:
    """:func:`analyse` of a loaded audit: segments from audit.yaml, assumptions from its
    ``economics`` block (defaults otherwise), labels for the report."""
    from . import economics

    if getattr(audit, "is_engine", lambda _t: False)("customers"):
        return analyse_engine(audit, assumptions=assumptions, slow_hours=slow_hours,
                              touchpoint_models=touchpoint_models)
    customers = audit.table("customers")
    responses = audit.responses if audit.has("responses") else None
    tickets = audit.table("tickets") if audit.has("tickets") else None
    cfg = audit.config
    settings = getattr(cfg, "churn", None)
    basis = time_basis(customers, settings)  # the customers' own time: never survey or ticket dates
    frame = customer_frame(customers, responses, tickets, slow_hours=slow_hours, window=basis.window,
                           observation_months=basis.months if basis.window is None else None)
    a = assumptions if assumptions is not None else economics.Assumptions.from_audit(audit)
    bands = {name: b.source for name, b in getattr(cfg, "bands", {}).items()}
    segs = segment_columns(audit)
    covariates = list(getattr(settings, "covariates", None) or [])
    order = {s: cfg.level_order(s) for s in segs if hasattr(cfg, "level_order") and cfg.level_order(s)}
    an = analyse(frame, segments=segs, window=basis.window, min_base=cfg.min_base,
                 assumptions=a, slow_hours=slow_hours, touchpoint_models=touchpoint_models, basis=basis,
                 covariates=covariates, reference=dict(getattr(cfg, "reference", {}) or {}), level_order=order,
                 bands=bands)
    an.value_labels = {k: dict(v) for k, v in cfg.value_labels.items()}
    an.segment_labels = {s: audit.segment_label(s) for s in [*an.segments, *covariates]}
    if audit.has("touchpoints"):
        an.touchpoint_info = audit.table("touchpoints").set_index("touchpoint")
    scale = audit.config.scales.touchpoint
    an.tp_low_max = float(scale.max - scale.top_box)
    return an


# --- the engine path (issue 19): the customers table kept in the query engine -----------------------

#: Rows per batch when the engine path derives each customer's survival times in Python (bounded memory).
ENGINE_BATCH_ROWS: int = 500_000
#: Seed of the stratified model sample drawn in the engine.
ENGINE_SAMPLE_SEED: int = 20261124


def _engine_key(col: Any) -> Any:
    """:func:`cxaudit.stats.segment_keys` as an Ibis expression: the value as text, :data:`NOT_STATED`
    for a missing or blank one."""
    import ibis

    text = col.cast("string")
    return ibis.cases((col.isnull() | (text.strip() == ""), NOT_STATED), else_=text)


def engine_time_basis(t: Any, settings: Any = None) -> TimeBasis:
    """:func:`time_basis` of a customers table in the engine: it reads only the earliest and latest churn
    date and the latest start date, so it is computed from those three aggregates (the same basis)."""
    aggs: dict[str, Any] = {}
    if "churn_date" in t.columns:
        aggs |= {"cd_min": t.churn_date.cast("timestamp").min(), "cd_max": t.churn_date.cast("timestamp").max()}
    if "start_date" in t.columns:
        aggs["sd_max"] = t.start_date.cast("timestamp").max()
    row = t.aggregate(**aggs).to_pandas().iloc[0] if aggs else {}
    small = {}
    if "churn_date" in t.columns:
        small["churn_date"] = pd.to_datetime([row["cd_min"], row["cd_max"]])
    if "start_date" in t.columns:
        small["start_date"] = pd.to_datetime([row["sd_max"], row["sd_max"]])
    return time_basis(pd.DataFrame(small, index=[0, 1]), settings)


def _bool_types(dtype: Any) -> Any:
    import pyarrow as pa

    return pd.BooleanDtype() if dtype == pa.bool_() else None


def _stage_frame(audit: Any, t: Any, basis: TimeBasis, slow_hours: float, stage: Path) -> tuple[Any, dict[str, Any]]:
    """:func:`customer_frame` for a table in the engine: the latest valid answer's NPS and ratings and the
    ticket counts are joined to the customers *in the engine*; each customer's survival times are then
    derived in batches of :data:`ENGINE_BATCH_ROWS` rows by the same code as in memory
    (:func:`_with_times`) and staged as one Parquet file in ``stage`` (a temporary folder the caller
    creates and removes) that every aggregate reads."""
    import contextlib

    import ibis
    import pyarrow as pa
    import pyarrow.parquet as pq

    j = t.drop("_row") if "_row" in t.columns else t
    info: dict[str, Any] = {"responses": False, "tickets": False}
    responses = audit.responses if audit.has("responses") else None
    if responses is not None and {"customer_id", "nps"} <= set(responses.columns):
        last = latest_valid_answers(responses)
        cols = ["nps", *[c for c in last.columns if str(c).startswith("tp_")]]
        look = pd.DataFrame({"_cid": last.index.astype(str)})
        for c in cols:
            look[c] = pd.to_numeric(last[c], errors="coerce").to_numpy(float)
        m = ibis.memtable(look)
        j = j.drop(*[c for c in cols if c in j.columns])
        j = j.left_join(m, j.customer_id.cast("string") == m._cid).drop("_cid")
        info["responses"] = True
    tickets = audit.table("tickets") if audit.has("tickets") else None
    if tickets is not None and "customer_id" in tickets.columns:
        tc = ticket_counts(tickets, basis.window, slow_hours)
        look = tc.reset_index(drop=True).assign(_tid=tc.index.astype(str))
        m = ibis.memtable(look)
        j = j.drop(*[c for c in tc.columns if c in j.columns])
        j = j.left_join(m, j.customer_id.cast("string") == m._tid).drop("_tid")
        info["tickets"] = list(tc.columns)
    path, joined = str(stage / "customer_frame.parquet"), str(stage / "joined.parquet")
    t.get_backend().to_parquet(j, joined)  # the join, streamed by the engine; then read back in batches
    writer = None
    schema = None
    rows = 0
    obs = basis.months if basis.window is None else None
    with contextlib.ExitStack() as closing:  # the writer is opened on the first batch (its schema) and always closed
        for batch in pq.ParquetFile(joined).iter_batches(batch_size=ENGINE_BATCH_ROWS):
            df = batch.to_pandas(types_mapper=_bool_types)
            df["churned"] = _as_binary(df["churned"], "churned")
            if info["responses"]:
                df["nps_group"] = nps_category(df["nps"]).fillna("no_response").astype("string")
            for c in info["tickets"] or []:
                df[c] = df[c].fillna(0).astype("int64")
            df = _with_times(df, basis.window, obs)
            if basis.window is not None and "churn_date" in df.columns:  # the monthly trend's times (churn_trend)
                # customers of unknown status are left out by the aggregate; 0 here only keeps the arrays boolean
                start, leave, placed = _trend_times(df.assign(churned=df["churned"].fillna(0)), basis.window)
                df["_trend_start"], df["_trend_leave"], df["_trend_placed"] = start, leave, placed
            if not basis.ok:
                df[["t_exit", "t_entry", "t_window"]] = np.nan
            tbl = pa.Table.from_pandas(df, preserve_index=False)
            if writer is None:
                schema = tbl.schema
                writer = closing.enter_context(pq.ParquetWriter(path, schema))
            writer.write_table(tbl.cast(schema))
            rows += len(df)
    if writer is None:
        raise MetricError("churn: the customers table in the engine has no row")
    os.remove(joined)  # the joined rows are no longer needed (the folder itself goes with the analysis)
    info["rows"], info["path"] = rows, path
    return t.get_backend().read_parquet(path), info


def _engine_counts(f: Any, by: str | None) -> pd.DataFrame:
    """``n`` and ``churned`` of the customers of known status, per group of ``by`` (:func:`_engine_key`)."""
    k = f.filter(f.churned.notnull())
    aggs = {"n": k.count(), "churned": k.churned.cast("int64").sum()}
    if by is None:
        tab = k.aggregate(**aggs).to_pandas()
    else:
        tab = k.group_by(_engine_key(k[by]).name(by)).aggregate(**aggs).to_pandas()
        tab = tab.sort_values(by, kind="stable").reset_index(drop=True)
    tab["n"], tab["churned"] = tab["n"].astype("int64"), tab["churned"].fillna(0).astype("int64")
    if not int(tab["n"].sum()):
        raise MetricError("churn rate: no customer with a known churn status (column 'churned'); expected n >= 1")
    return tab


def _engine_exposure(f: Any, by: str | None, period_months: float) -> pd.DataFrame:
    from . import engine

    k = f.filter(f.churned.notnull())
    tab = engine.exposure_table(k, by, period_months=period_months)
    if not len(tab) or not tab["n"].sum():
        raise MetricError("churn per period: no customer with a known status and survival time "
                          "(needs 'start_date' or 'tenure_months')")
    if by is not None:
        tab[by] = tab[by].astype("string")
        tab = _order_groups(tab, by)
    return tab.reset_index(drop=True)


def _engine_survival(f: Any, by: str, horizons: Sequence[int], delayed_entry: bool) -> Survival:
    """:func:`survival` from the engine's life tables (:func:`cxaudit.engine.life_table`, ``kaplan_meier``,
    ``logrank``): the same curves, table and log-rank test."""
    import ibis

    from . import engine

    k = f.filter(f.churned.notnull())
    lt = engine.life_table(k, [by], time="t_exit", event="churned", entry="t_entry" if delayed_entry else None)
    if not len(lt):
        raise MetricError("survival: no customer with a survival time and a group")
    lt[by] = lt[by].astype("string")
    keep = k.t_exit.notnull() & k[by].notnull() & (k.t_entry.notnull() if delayed_entry else ibis.literal(True))
    base = k.filter(keep)
    risk_aggs = {}
    for h in horizons:
        exposed = (base.t_entry <= h) & (base.t_exit >= h) if delayed_entry else base.t_exit >= h
        risk_aggs[f"n_risk_{h}"] = exposed.cast("int64").sum()
    risk = base.group_by(base[by].cast("string").name(by)).aggregate(**risk_aggs).to_pandas().set_index(by)
    groups = _order_groups(pd.DataFrame({by: lt[by].unique()}), by)[by] if by == "nps_group" else \
        lt.groupby(by)["exits"].sum().sort_values(ascending=False, kind="stable").index
    curves: dict[str, pd.DataFrame] = {}
    rows = []
    for g in groups:
        part = lt[lt[by] == g]
        curve = engine.kaplan_meier(part, delayed_entry=delayed_entry).drop(columns="events")
        curves[str(g)] = curve
        row: dict[str, Any] = {by: str(g), "n": int(part["exits"].sum()), "events": int(part["events"].sum())}
        for h in horizons:
            row[f"surv_{h}"] = _at(curve, h, "surv")
            row[f"ci_low_{h}"] = _at(curve, h, "ci_low")
            row[f"ci_high_{h}"] = _at(curve, h, "ci_high")
            row[f"n_risk_{h}"] = int(risk.loc[str(g), f"n_risk_{h}"])
        rows.append(row)
    chi2, p = np.nan, np.nan
    if len(curves) >= 2:
        chi2, p, _ = engine.logrank(lt, by, delayed_entry=delayed_entry)
    return Survival(curves, pd.DataFrame(rows), tuple(horizons), float(chi2), float(p), int(lt["exits"].sum()))


def engine_sample(f: Any, max_rows: int = MODEL_MAX_ROWS, seed: int = ENGINE_SAMPLE_SEED
                  ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The rows the churn models are fitted on, drawn in the engine: every customer of known status up to
    ``max_rows``; above it a seeded stratified sample by churn status, each stratum at the same fraction
    f = max_rows / n (proportional allocation, Cochran 1977, ch. 5; as :func:`_sample_rows`), so every row
    weighs 1 / f. Rows are ranked within their stratum by a hash of the customer id and the seed (the
    same data and seed give the same sample); only the sample leaves the engine. Returns the rows and
    ``fit_rows`` (``method``, ``rows_available``, ``fraction``, ``weight``, ``seed``, ``drawn_in``)."""
    import ibis

    k = f.filter(f.churned.notnull())
    strata = k.group_by("churned").aggregate(n=k.count()).to_pandas()
    n = int(strata["n"].sum())
    if n <= max_rows:
        rows = k.to_pyarrow().to_pandas(types_mapper=_bool_types)
        return rows, {"method": "all", "rows_used": n, "rows_available": n, "fraction": 1.0, "drawn_in": "engine"}
    frac = max_rows / n
    big = 1_000_000_007
    u = (((k.customer_id.cast("string") + f"#{seed}").hash() % big) + big) % big
    k = k.mutate(_u=u.cast("float64") / big)
    quota = {int(r.churned): int(round(frac * r.n)) for r in strata.itertuples()}
    cut = min(1.0, frac * 1.2 + 0.002)  # a pre-filter that keeps ~20 % more than needed, then exact ranks
    pre = k.filter(k._u < cut)
    have = pre.group_by("churned").aggregate(n=pre.count()).to_pandas()
    if any(int(have.loc[have["churned"] == s, "n"].sum()) < q for s, q in quota.items()):
        pre = k
    rank = ibis.row_number().over(group_by=pre.churned, order_by=[pre._u, pre.customer_id])
    quota_expr = ibis.cases(*[(pre.churned == s, q) for s, q in quota.items()], else_=0)
    sample = pre.mutate(_rank=rank).filter(lambda x: x._rank < quota_expr).drop("_u", "_rank")
    rows = sample.to_pyarrow().to_pandas(types_mapper=_bool_types)
    return rows, {"method": "stratified_sample", "rows_used": len(rows), "rows_available": n, "fraction": frac,
                  "weight": 1.0 / frac, "seed": seed, "drawn_in": "engine"}


def _engine_reasons(f: Any) -> Reasons:
    """:func:`reason_pareto` from the engine's counts of stated reasons among churned customers."""
    k = f.filter(f.churned.notnull() & (f.churned == 1))
    n_churned = int(k.count().execute())
    r = k.churn_reason.cast("string").strip()
    counts = k.mutate(reason=r).filter(lambda x: x.reason.notnull() & (x.reason != "")).group_by("reason") \
        .aggregate(n=lambda x: x.count()).to_pandas()
    return _pareto(counts, n_churned)


def _engine_money(path: str, f: Any, an: ChurnAnalysis, window_months: float | None) -> None:
    """Revenue at risk, retention vs acquisition and the value of moving detractors on the engine path:
    :func:`cxaudit.economics.revenue_at_risk` and ``move_detractors`` over *every* active customer, scored
    by the logistic model batch by batch from the staged customer frame. Every part is a sum over
    customers — Σ revenue·q, Σ q, the delta method's gradient Σ xᵢ·wᵢ·q′(pᵢ)·pᵢ(1 − pᵢ) — so the batches
    add up to the in-memory figures (rounding aside); the SE is √(g′ V g) with the model's covariance V."""
    import pyarrow.parquet as pq

    from . import economics as ec

    model, a = an.logit, an.assumptions
    assert model is not None  # called only with a logistic model
    k_ = f.filter(f.churned.notnull() & f.t_window.notnull())
    mean_window = k_.aggregate(m=k_.t_window.mean(), n=k_.count()).to_pandas().iloc[0]
    L = float(mean_window["m"]) if int(mean_window["n"]) else (float(window_months) if window_months else math.nan)
    if not (np.isfinite(L) and L > 0):
        raise MetricError("revenue at risk: no dates (start, churn, survey or ticket dates) to tell which period "
                          "the churn probabilities cover; expected a data period of at least one day")
    k = a.revenue_period_months / L
    n_par = len(model.fit.params)
    acc: dict[str, Any] = {"total": 0.0, "grad": np.zeros(n_par), "n_ok": 0, "n_bad": 0, "rev": 0.0, "q": 0.0}
    groups: dict[str, dict[str, np.ndarray]] = {}
    up: dict[str, Any] = {"total": 0.0, "grad": np.zeros(n_par), "saved": 0.0, "saved_grad": np.zeros(n_par), "n": 0}
    levels = model.levels.get("nps_group", [])
    targets = [tg for tg in ("passive", "promoter") if tg in levels] if "detractor" in levels else []
    moves: dict[str, dict[str, Any]] = {tg: {"total": 0.0, "grad": np.zeros(n_par), "rd": 0.0, "n": 0} for tg in targets}
    uplift = {"promoter", "detractor"} <= set(levels)

    def add(key: str, by_key: pd.Series, values: dict[str, np.ndarray]) -> None:
        part = pd.DataFrame(values).groupby(by_key.astype("string").to_numpy(), dropna=True).sum()
        tab = groups.setdefault(key, {})
        for g, row in part.iterrows():
            tab[g] = tab.get(g, np.zeros(4)) + row[["n", "revenue", "q", "rar"]].to_numpy(float)

    for batch in pq.ParquetFile(path).iter_batches(batch_size=ENGINE_BATCH_ROWS):
        df = batch.to_pandas(types_mapper=_bool_types)
        active = df[df["churned"].eq(0).fillna(False)]
        active = active.assign(**{s: segment_keys(active[s]) for s in an.segments})
        if not len(active):
            continue
        x, p = ec._scored(model, active)
        rev = pd.to_numeric(active["revenue"], errors="coerce").to_numpy(float)
        ok = np.isfinite(p) & np.isfinite(rev)
        q, dq = ec._horizon(p[ok], k)
        acc["total"] += float(np.sum(rev[ok] * q))
        acc["grad"] += x[ok].T @ (rev[ok] * dq * p[ok] * (1 - p[ok]))
        acc["n_ok"] += int(ok.sum())
        acc["n_bad"] += int((~ok).sum())
        acc["rev"] += float(rev[ok].sum())
        acc["q"] += float(q.sum())
        vals = {"n": np.ones(int(ok.sum())), "revenue": rev[ok], "q": q, "rar": rev[ok] * q}
        scored = active[ok]
        for key in (["nps_group"] if "nps_group" in scored.columns else []) + [s for s in an.segments
                                                                                if s in scored.columns]:
            add(key, scored[key], vals)
        if uplift or targets:
            det = scored[(scored["nps_group"].astype("string") == "detractor").fillna(False).to_numpy()]
            if len(det):
                xd, pd_ = ec._scored(model, det)
                rd = pd.to_numeric(det["revenue"], errors="coerce").to_numpy(float)
                qd, dqd = ec._horizon(pd_, k)
                gd = dqd * pd_ * (1 - pd_)
                for tg in ({"promoter"} if uplift else set()) | set(targets):
                    x0, p0 = ec._scored(model, det.assign(nps_group=tg))
                    q0, dq0 = ec._horizon(p0, k)
                    g0 = dq0 * p0 * (1 - p0)
                    tot = float(np.sum(rd * qd) - np.sum(rd * q0))
                    grad = xd.T @ (rd * gd) - x0.T @ (rd * g0)
                    if uplift and tg == "promoter":
                        up["total"] += tot
                        up["grad"] += grad
                        up["saved"] += float(np.sum(qd) - np.sum(q0))
                        up["n"] += len(det)
                    if tg in moves:
                        moves[tg]["total"] += tot
                        moves[tg]["grad"] += grad
                        moves[tg]["rd"] += float(rd.sum())
                        moves[tg]["n"] += len(det)
    cov = np.asarray(model.fit.cov_params(), float)

    def se(g: np.ndarray) -> float:
        return float(np.sqrt(max(g @ cov @ g, 0.0)))

    total, s_ = acc["total"], se(acc["grad"])
    out = ec.RevenueAtRisk(value=total, ci_low=max(total - Z95 * s_, 0.0), ci_high=total + Z95 * s_,
                           n_active=acc["n_ok"], n_unscored=acc["n_bad"], active_revenue=acc["rev"],
                           expected_churners=acc["q"], horizon_months=a.revenue_period_months, model_months=L)
    for key, tab in groups.items():
        d = pd.DataFrame([[g, *v] for g, v in sorted(tab.items())], columns=[key, "n", "revenue",
                                                                          "expected_churners", "revenue_at_risk"])
        d["n"] = d["n"].astype("int64")
        d[key] = d[key].astype("string")
        d["share_at_risk"] = d["revenue_at_risk"] / d["revenue"]
        d = d.sort_values("revenue_at_risk", ascending=False, kind="stable").reset_index(drop=True)
        if key == "nps_group":
            out.by_group = d
        else:
            out.by_segment[key] = d
    if uplift:
        s_up = se(up["grad"])
        out.uplift, out.uplift_ci_low, out.uplift_ci_high = up["total"], up["total"] - Z95 * s_up, up["total"] + Z95 * s_up
        out.n_detractors, out.saved_customers = int(up["n"]), up["saved"]
    an.rar = out
    an.retention = ec.retention_vs_acquisition(an.value_frame(), out, a)
    if an.ltv is not None and targets and "nps_group" in an.ltv.columns:
        churn_ = dict(zip(an.ltv["nps_group"].astype(str), an.ltv["period_churn"].astype(float), strict=True))
        i, m = a.period_discount, a.margin
        rows = []
        for tg in targets:
            if tg not in churn_ or "detractor" not in churn_:
                continue
            tot, s_m = moves[tg]["total"], se(moves[tg]["grad"])
            gain = m * moves[tg]["rd"] * (1 + i) * (1 / (i + churn_[tg]) - 1 / (i + churn_["detractor"]))
            for x_ in a.move_shares:
                rows.append({"share": float(x_), "target": tg, "customers": x_ * moves[tg]["n"],
                             "rar_reduction": x_ * tot, "ci_low": x_ * (tot - Z95 * s_m),
                             "ci_high": x_ * (tot + Z95 * s_m), "ltv_gain": x_ * gain})
        an.moves = pd.DataFrame(rows, columns=["share", "target", "customers", "rar_reduction", "ci_low", "ci_high",
                                               "ltv_gain"])


def _engine_trend(f: Any, window: Window | None) -> Trend | None:
    """:func:`churn_trend` from one aggregate in the engine: per complete month, customers active on its
    first day and those of them who left during it (the staged start / leaving dates of each customer)."""
    if window is None or "_trend_start" not in f.columns:
        return None
    months = _trend_months(window)
    if len(months) < 2:
        return None
    k = f.filter(f.churned.notnull())
    placed = k._trend_placed.fill_null(False)
    aggs: dict[str, Any] = {"_unplaced": (~placed).cast("int64").sum()}
    for i, m in enumerate(months):
        ms, me = m.to_pydatetime(), (m + pd.offsets.MonthBegin(1)).to_pydatetime()
        active = placed & (k._trend_start < ms) & (k._trend_leave >= ms)
        aggs[f"a{i}"] = active.fill_null(False).cast("int64").sum()
        aggs[f"c{i}"] = (active & (k._trend_leave < me)).fill_null(False).cast("int64").sum()
    row = k.aggregate(**aggs).to_pandas().iloc[0]
    rows = [(m.strftime("%Y-%m"), int(row[f"a{i}"]), int(row[f"c{i}"])) for i, m in enumerate(months)]
    return _trend_from_rows(rows, int(row["_unplaced"]))


def _engine_reasons_by(f: Any, by: str, min_base: int) -> tuple[pd.DataFrame, float]:
    """:func:`reasons_by` from the engine's counts per group key and stated reason (churned customers)."""
    k = f.filter(f.churned.notnull() & (f.churned == 1))
    k = k.mutate(reason=k.churn_reason.cast("string").strip(), g=_engine_key(k[by]))
    k = k.filter(k.reason.notnull() & (k.reason != ""))
    counts = k.group_by(["g", "reason"]).aggregate(n=k.count()).to_pandas()
    xt = counts.pivot_table(index="g", columns="reason", values="n", aggfunc="sum", fill_value=0)
    xt = xt.sort_index().sort_index(axis=1).astype("int64")
    xt.index.name, xt.columns.name = "g", "reason"
    return _reasons_by_table(xt, by, min_base)


def analyse_engine(audit: Any, *, assumptions: Assumptions | None = None, slow_hours: float = SLOW_HOURS,
                   touchpoint_models: bool = True, max_rows: int = MODEL_MAX_ROWS) -> ChurnAnalysis:
    """:func:`analyse_audit` for a customers table kept in the query engine (``audit.is_engine("customers")``).

    In the engine: the time basis, the joins (latest valid answer's NPS group and ratings, ticket
    counts), churn rates overall / by NPS group / by segment with their tests (:func:`rates_from_counts`),
    the detractor/promoter ratio, churn per period from person-time, the life tables, Kaplan–Meier curves
    and the log-rank test, the stated reasons' Pareto table and their shares by segment (χ² test), the revenue per NPS group behind LTV and the
    counts the findings use. In Python, in batches: each customer's survival times (:func:`_with_times`).
    On a sample drawn in the engine (:func:`engine_sample`, stated in ``fit_rows``): the logistic and Cox
    models and the touchpoint odds ratios; the monthly trend from one aggregate over each customer's staged
    start and leaving dates; revenue at risk, retention vs acquisition and moving detractors over every
    active customer, scored by the logistic model batch by batch (:func:`_engine_money`).
    ``frame`` holds the model rows (all customers up to ``max_rows``, else the sample), never the base of a count.
    """
    import time as _time

    from .engine_audit import _staging_dir

    t = audit.engine_table("customers")
    t0 = _time.perf_counter()
    basis = engine_time_basis(t, getattr(audit.config, "churn", None))
    # the staged customer rows (personal data) live in <temp dir>/cxaudit-churn-*/ until the analysis ends
    stage = Path(_staging_dir("churn-"))
    try:
        f, info = _stage_frame(audit, t, basis, slow_hours, stage)
        return _analyse_staged(audit, f, info, basis, t0, assumptions, slow_hours, touchpoint_models, max_rows)
    finally:  # a notebook's kernel is stopped without running exit handlers: remove the staged rows here
        shutil.rmtree(stage, ignore_errors=True)


def _analyse_staged(audit: Any, f: Any, info: dict[str, Any], basis: TimeBasis, t0: float,
                    assumptions: Assumptions | None, slow_hours: float, touchpoint_models: bool,
                    max_rows: int) -> ChurnAnalysis:
    """The body of :func:`analyse_engine` on the staged customer frame ``f``."""
    import time as _time

    from . import economics

    clock = _time.perf_counter
    cfg = audit.config
    settings = getattr(cfg, "churn", None)
    a = assumptions if assumptions is not None else economics.Assumptions.from_audit(audit)
    bands = {name: b.source for name, b in getattr(cfg, "bands", {}).items()}
    chosen = getattr(settings, "segments", None)
    segs = [c for c in (chosen if chosen is not None else cfg.segments) if c in f.columns]
    covariates = list(getattr(settings, "covariates", None) or [])
    order = {s: cfg.level_order(s) for s in segs if hasattr(cfg, "level_order") and cfg.level_order(s)}
    timings = {"stage": clock() - t0}

    t0 = clock()
    sample, fit_rows = engine_sample(f, max_rows)
    timings["sample"] = clock() - t0
    an = ChurnAnalysis(sample, basis.window, segs, cfg.min_base, a, slow_hours)
    an.basis, an.timings = basis, timings
    an.engine = {"rows": info["rows"], "model_rows": fit_rows, "joined_responses": info["responses"],
                 "joined_tickets": bool(info["tickets"])}
    timed, no_time = basis.ok, basis.reason if not basis.ok else None
    dated = basis.window is not None or basis.ok

    t0 = clock()
    overall = _engine_counts(f, None)
    an.overall = rates_from_counts(overall, min_base=cfg.min_base)
    an.counts["n_known"] = int(overall["n"].iloc[0])
    if no_time:
        an.errors["period"] = no_time
    if timed:
        try:
            an.period = _engine_exposure(f, None, a.revenue_period_months)
            an.counts["period_12m"] = _engine_exposure(f, None, 12.0)
        except MetricError as exc:  # e.g. no customer with a survival time: the report says why
            an.period = None
            an.errors["period"] = str(exc)
    if an.has_groups:
        g = _engine_counts(f, "nps_group")
        an.by_group = rates_from_counts(g, "nps_group", min_base=cfg.min_base)
        an.counts["customers_by_group"] = {str(k): int(v) for k, v in zip(g["nps_group"], g["n"], strict=True)}
        parts = {str(r.nps_group): (int(r.churned), int(r.n)) for r in g.itertuples()}
        if "detractor" in parts and "promoter" in parts:
            try:
                an.ratio = ratio_from_counts(*parts["detractor"], *parts["promoter"])
            except MetricError as exc:
                an.errors["ratio"] = str(exc)
        else:
            an.errors["ratio"] = "rate ratio: no customer in nps_group = 'detractor' or 'promoter'"
        if an.period is not None:
            an.counts["period_12m_by_group"] = _engine_exposure(f, "nps_group", 12.0)
    for s in an.segments:
        an.by_segment[s] = _declared_order(rates_from_counts(_engine_counts(f, s), s, min_base=cfg.min_base), s,
                                           order.get(s))
    an.trend = _engine_trend(f, basis.window)
    if an.trend is None:
        an.errors["trend"] = _NO_TREND
    an.timings["rates"] = clock() - t0

    t0 = clock()
    if "churn_reason" in f.columns:
        an.reasons = _engine_reasons(f)
        if not an.reasons.n_stated:
            an.errors["reasons"] = _NO_REASON_STATED
        else:
            for s in an.segments:
                an.reasons_by[s] = _engine_reasons_by(f, s, cfg.min_base)
    else:
        an.errors["reasons"] = _NO_REASON_COLUMN
    an.timings["reasons"] = clock() - t0

    def stated(m: ModelResult) -> ModelResult:
        if fit_rows["method"] != "all":
            m.fit_rows = {**fit_rows, "rows_used": m.n}
        else:
            m.fit_rows = {**m.fit_rows, "drawn_in": "engine"}
        return m

    t0 = clock()
    reference = dict(getattr(cfg, "reference", {}) or {})
    numeric, categorical = model_spec(sample, an.segments, "logit", covariates=covariates, reference=reference,
                                      bands=bands)
    try:
        an.logit = stated(fit_logit(sample, numeric, categorical, max_rows=max_rows))
    except MetricError as exc:
        an.errors["logit"] = str(exc)
    tps = [c for c in sample.columns if str(c).startswith("tp_")]
    if touchpoint_models and tps:
        controls = [c for c in numeric if c == "tenure_years"]
        an.touchpoints = touchpoint_odds(sample, tps, numeric=controls, categorical={s: None for s in an.segments})
    an.timings["logit"] = clock() - t0

    t0 = clock()
    if no_time:
        an.errors["survival"] = an.errors["cox"] = no_time
    else:
        numeric, categorical = model_spec(sample, an.segments, "cox", covariates=covariates, reference=reference,
                                          bands=bands)
        if an.has_groups:
            try:
                an.survival = _engine_survival(f, "nps_group", (12, 24, 36), dated)
            except MetricError as exc:
                an.errors["survival"] = str(exc)
        try:
            an.cox = stated(fit_cox(sample, numeric, categorical, entry="t_entry" if dated else None,
                                    max_rows=max_rows))
        except MetricError as exc:
            an.errors["cox"] = str(exc)
    an.timings["survival"] = clock() - t0

    t0 = clock()
    if no_time:
        an.errors["economics"] = no_time
    elif "revenue" in f.columns:
        rev = f.filter(f.revenue.notnull())
        act = rev.filter(rev.churned.notnull() & (rev.churned == 0))
        mean_active = act.aggregate(m=act.revenue.mean(), n=act.count()).to_pandas().iloc[0]
        if int(mean_active["n"]):
            an.counts["active_revenue_mean"] = float(mean_active["m"])
        if an.has_groups and an.period is not None:
            rates = _engine_exposure(f, "nps_group", a.revenue_period_months)
            r = rev.filter(rev.nps_group.notnull())
            st = r.group_by(r.nps_group.cast("string").name("key")).aggregate(
                n_revenue=r.count(), mean_revenue=r.revenue.mean(), sd_revenue=r.revenue.std(how="sample")
            ).to_pandas().set_index("key")
            an.ltv = economics.ltv_from_stats(st, rates, "nps_group", a)
        if an.logit is not None:
            try:
                _engine_money(info["path"], f, an, basis.months)
            except MetricError as exc:
                an.errors["economics"] = str(exc)
    else:
        an.errors["economics"] = _NO_REVENUE
    an.timings["economics"] = clock() - t0

    an.value_labels = {k: dict(v) for k, v in cfg.value_labels.items()}
    an.segment_labels = {s: audit.segment_label(s) for s in [*an.segments, *covariates]}
    if audit.has("touchpoints"):
        an.touchpoint_info = audit.table("touchpoints").set_index("touchpoint")
    scale = cfg.scales.touchpoint
    an.tp_low_max = float(scale.max - scale.top_box)
    if tps:
        k = f.filter(f.churned.notnull())
        an.counts["tp_low"] = {k_: int(v) for k_, v in k.aggregate(
            **{tp: (k[tp] <= an.tp_low_max).fill_null(False).cast("int64").sum() for tp in tps}
        ).to_pandas().iloc[0].items()}
    return an


def touchpoint_label(an: ChurnAnalysis, tp: str) -> str:
    """A touchpoint's client-facing name: its ``label`` in the touchpoints table, else its key."""
    info = an.touchpoint_info
    if info is not None and tp in info.index and "label" in info.columns and pd.notna(info.loc[tp, "label"]):
        return str(info.loc[tp, "label"])
    return tp


def _money(x: float | None, lang: str) -> str:
    return fmt_num(None if x is None or not np.isfinite(x) else float(x), lang, 0)


def _cur(an: ChurnAnalysis) -> str:
    cur = getattr(an.assumptions, "currency", None)
    return f"\u00a0{cur}" if cur else ""


# --- findings ---------------------------------------------------------------------------------------


def churn_findings(source: Any, lang: str) -> list[Any]:
    """The churn section's findings from a :class:`ChurnAnalysis` (or an audit, analysed here).

    Ids: ``churn.rate.overall``, ``churn.detractor_ratio``, ``churn.reason.<slug>`` (the Pareto
    "vital few": reasons up to 80 % cumulative share, at most five), ``churn.revenue_at_risk``
    (money in ``evidence``: ``revenue_at_risk``, ``uplift_detractors_to_promoter_rate``,
    ``currency``), ``churn.segment_high.<column>.<group>`` (a group churning significantly more
    than the rest, Holm) and ``churn.touchpoint.<tp>`` (a touchpoint whose lower rating
    significantly raises the odds of churn, Holm).
    """
    from .findings import Finding

    an = source if isinstance(source, ChurnAnalysis) else analyse_audit(source)
    out: list[Finding] = []
    known = _known(an.frame)  # on the engine path the model rows: counts come from an.counts (the engine)
    n_all = an.counts["n_known"] if an.engine is not None else len(known)
    ov = an.overall.iloc[0] if an.overall is not None else None
    if ov is not None:
        period = an.period.iloc[0] if an.period is not None else None
        annual = float(period["period_churn"]) if period is not None else float(ov["rate"])
        # per 12 months whatever revenue_period_months is: the horizon of the TO-BE targets
        p12 = (an.counts["period_12m"] if an.engine is not None else exposure_rates(an.frame, period_months=12.0)
               ).iloc[0] if period is not None else None
        sig_months = an.trend.table.loc[an.trend.table["significant"], "period"].tolist() if an.trend else []
        out.append(Finding(
            id="churn.rate.overall", section="churn",
            title=t("churn.finding_overall", lang, rate=fmt_pct(float(ov["rate"]), lang, 1),
                    months=fmt_num(an.window.months if an.window else float("nan"), lang, 0),
                    annual=fmt_pct(annual, lang, 1),
                    period=fmt_num(getattr(an.assumptions, "revenue_period_months", 12.0), lang, 0)),
            metric="churn_rate", value=100 * float(ov["rate"]), n=int(ov["n"]), ci_low=100 * float(ov["ci_low"]),
            ci_high=100 * float(ov["ci_high"]), severity=4 if annual >= 0.20 else 3 if annual >= 0.10 else 2,
            reach=float(ov["rate"]), unit="%",
            evidence={"churned": int(ov["churned"]), "n": int(ov["n"]), "method": "Wilson interval",
                      "period_churn": annual,
                      "period_churn_ci": [float(period["ci_low"]), float(period["ci_high"])] if period is not None else None,
                      "period_months": getattr(an.assumptions, "revenue_period_months", 12.0),
                      "churn_12m": float(p12["period_churn"]) if p12 is not None else None,
                      "churn_12m_ci": [float(p12["ci_low"]), float(p12["ci_high"])] if p12 is not None else None,
                      "churn_12m_n": int(p12["n"]) if p12 is not None else None,
                      "window": [str(an.window.start.date()), str(an.window.end.date())] if an.window else None,
                      "window_months": an.window.months if an.window else None,
                      "trend_chi2_p": an.trend.p_value if an.trend else None,
                      "significant_months": sig_months, "table": "churn.overall"},
        ))
    if an.ratio is not None:
        r = an.ratio
        det_share = float((known["nps_group"] == "detractor").mean()) if an.has_groups else 0.0
        if an.engine is not None:
            det_share = an.counts.get("customers_by_group", {}).get("detractor", 0) / n_all if n_all else 0.0
        sig = r.ci_low > 1
        ev: dict[str, Any] = {"detractor_rate": r.rate, "promoter_rate": r.reference_rate, "detractors": r.n1,
                              "detractors_churned": r.a, "promoters": r.n2, "promoters_churned": r.c,
                              "p_value": r.p_value, "method": "risk ratio, Katz log interval", "table": "churn.by_group"}
        ev |= _group_rate_evidence(an, known)
        for key, m in (("adjusted_odds_ratio", an.logit), ("hazard_ratio", an.cox)):
            if m is not None and "nps_group=detractor" in set(m.table["term"]):
                row = m.ratio("nps_group=detractor")
                ev[key] = [float(row["ratio"]), float(row["ci_low"]), float(row["ci_high"])]
        out.append(Finding(
            id="churn.detractor_ratio", section="churn",
            title=t("churn.finding_ratio", lang, ratio=fmt_num(r.ratio, lang, 1), d=fmt_pct(r.rate, lang, 1),
                    p=fmt_pct(r.reference_rate, lang, 1)),
            metric="churn_rate_ratio", value=r.ratio, n=r.n1 + r.n2, ci_low=r.ci_low, ci_high=r.ci_high,
            severity=(4 if r.ratio >= 2 else 3) if sig else 2, reach=det_share, unit="", evidence=ev,
            tags={"segments": ["nps_group=detractor"]},
        ))
    out += _reason_findings(an, lang, n_all)
    if an.rar is not None:
        out.append(_rar_finding(an, lang))
    for s, tab in an.by_segment.items():
        tab = tab[~tab["not_stated"]] if "not_stated" in tab.columns else tab  # the groups tested
        for _, row in tab[tab["direction"] > 0].iterrows():
            if row["small_base"]:
                continue
            g = str(row[s])
            rest_n = int(tab["n"].sum() - row["n"])
            rest = (tab["churned"].sum() - row["churned"]) / rest_n
            out.append(Finding(
                id=f"churn.segment_high.{s}.{slug(g)}", section="churn",
                title=t("churn.finding_segment_high", lang, segment=an.segment_label(s), group=g,
                        value=fmt_pct(float(row["rate"]), lang, 1), rest=fmt_pct(float(rest), lang, 1)),
                metric="churn_rate", value=100 * float(row["rate"]), n=int(row["n"]),
                ci_low=100 * float(row["ci_low"]), ci_high=100 * float(row["ci_high"]), severity=3,
                reach=float(row["n"]) / n_all, unit="%",
                evidence={"rest_rate": float(rest), "rest_n": rest_n, "p_holm": float(row["p_holm"]),
                          "test": "two-proportion z-test vs the rest, Holm", "table": f"churn.by_segment.{s}"},
                tags={"segments": [f"{s}={g}"]},
            ))
    if an.touchpoints is not None:
        for _, row in an.touchpoints[an.touchpoints["significant"] & (an.touchpoints["ratio"] > 1)].iterrows():
            tp = str(row["touchpoint"])
            low = float((known[tp] <= an.tp_low_max).sum()) / n_all if n_all else 0.0
            rated_base = n_all
            if an.engine is not None:  # the touchpoint models ran on the model rows; reach over all customers
                low = an.counts.get("tp_low", {}).get(tp, 0) / n_all if n_all else 0.0
                rated_base = len(known)
            out.append(Finding(
                id=f"churn.touchpoint.{tp}", section="churn",
                title=t("churn.finding_touchpoint", lang, touchpoint=touchpoint_label(an, tp),
                        ratio=fmt_num(float(row["ratio"]), lang, 2)),
                metric="churn_odds_ratio_per_point_lower", value=float(row["ratio"]), n=int(row["n"]),
                ci_low=float(row["ci_low"]), ci_high=float(row["ci_high"]),
                severity=3 if float(row["ratio"]) >= TOUCHPOINT_STRONG else 2, reach=low, unit="",
                evidence={"p_holm": float(row["p_holm"]), "events": int(row["n_events"]),
                          "rated_share": float(row["n"]) / rated_base if rated_base else 0.0,
                          "low_rating_max": an.tp_low_max,
                          "method": "logistic regression per touchpoint, adjusted for tenure and segment",
                          "table": "churn.touchpoints"},
                tags=_tp_tags(an, tp),
            ))
    return out


def _group_rate_evidence(an: ChurnAnalysis, known: pd.DataFrame) -> dict[str, Any]:
    """Evidence of ``churn.detractor_ratio``: every NPS group's churn as measured (TO-BE targets read it).

    - ``<group>_rate`` with ``<group>_rate_ci`` (Wilson 1927 score interval) and the counts
      ``<group>s`` / ``<group>s_churned``: churn over the whole data period, the
      :func:`churn_rates` table by ``nps_group`` that the churn section shows;
    - ``rates_12m`` / ``rates_12m_ci`` (and flat ``<group>_rate_12m``): churn per 12 months,
      1 − exp(−12·D/T) with D churn events and T months at risk in the data period, exact Poisson
      interval (Garwood 1936), as :func:`exposure_rates` (absent without tenure or dates);
    - ``customers_by_group``, ``n_customers`` and ``detractor_share_customers``: customers of known
      churn status by the NPS group of their most recent valid answer (``no_response``: none), the
      base of these rates — not the share among survey answers.
    """
    ev: dict[str, Any] = {}
    if an.by_group is not None:
        by = an.by_group.set_index("nps_group")
        for g in ("promoter", "passive", "detractor"):
            if g in by.index:
                row = by.loc[g]
                ev[f"{g}_rate"] = float(row["rate"])
                ev[f"{g}_rate_ci"] = [float(row["ci_low"]), float(row["ci_high"])]
                ev[f"{g}s"], ev[f"{g}s_churned"] = int(row["n"]), int(row["churned"])
    if an.period is not None and (an.engine is None or "period_12m_by_group" in an.counts):
        per = (an.counts["period_12m_by_group"] if an.engine is not None
               else exposure_rates(an.frame, "nps_group", period_months=12.0)).set_index("nps_group")
        groups = [g for g in ("promoter", "passive", "detractor") if g in per.index]
        ev["rates_12m"] = {g: float(per.loc[g, "period_churn"]) for g in groups}
        ev["rates_12m_ci"] = {g: [float(per.loc[g, "ci_low"]), float(per.loc[g, "ci_high"])] for g in groups}
        ev |= {f"{g}_rate_12m": ev["rates_12m"][g] for g in groups}
    counts = known["nps_group"].astype("string").value_counts()
    n_known = len(known)
    if an.engine is not None:  # every customer's group, counted in the engine (known is the model rows)
        counts, n_known = pd.Series(an.counts.get("customers_by_group", {}), dtype="int64"), an.counts["n_known"]
    ev["customers_by_group"] = {g: int(counts.get(g, 0)) for g in GROUPS}
    ev["n_customers"] = n_known
    ev["detractor_share_customers"] = int(counts.get("detractor", 0)) / n_known if n_known else 0.0
    return ev


def _tp_tags(an: ChurnAnalysis, tp: str) -> dict[str, list[str]]:
    tags = {"touchpoints": [tp]}
    info = an.touchpoint_info
    if info is not None and tp in info.index:
        for col, key in (("stage", "stages"), ("channel", "channels"), ("owner_department", "departments")):
            if col in info.columns and pd.notna(info.loc[tp, col]):
                tags[key] = [str(info.loc[tp, col])]
    return tags


def _reason_findings(an: ChurnAnalysis, lang: str, n_all: int) -> list[Any]:
    from .findings import Finding

    rs = an.reasons
    if rs is None or not rs.n_stated:
        return []
    out: list[Any] = []
    before = 0.0
    for _, row in rs.table.iterrows():
        if len(out) >= MAX_REASON_FINDINGS or before >= PARETO_SHARE:
            break
        before = float(row["cum_share"])
        seg_tags = []
        for s, (long, _p) in an.reasons_by.items():
            long = long[~long["not_stated"]] if "not_stated" in long.columns else long  # the groups tested
            part = long[long["reason"] == row["reason"]]
            if len(part) < 2:
                continue
            tot_n, tot_b = long.loc[long["reason"] == row["reason"], "n"].sum(), part["base"].sum()
            p = _two_prop_p(part["n"], part["base"], tot_n - part["n"], tot_b - part["base"])
            ph = _holm(p)
            rest = (tot_n - part["n"]) / (tot_b - part["base"]).replace(0, np.nan)
            seg_tags += [f"{s}={g}" for g, ok in zip(part[s], (ph < 0.05) & (part["share"] > rest), strict=True) if ok]
        out.append(Finding(
            id=f"churn.reason.{row['slug']}", section="churn",
            title=t("churn.finding_reason", lang, reason=str(row["reason"]), share=fmt_pct(float(row["share"]), lang, 1)),
            metric="churn_reason_share", value=100 * float(row["share"]), n=rs.n_stated,
            ci_low=100 * float(row["ci_low"]), ci_high=100 * float(row["ci_high"]), severity=4,
            reach=float(row["n"]) / n_all if n_all else 0.0, unit="%",
            evidence={"reason": str(row["reason"]), "churned_with_reason": int(row["n"]),
                      "cumulative_share": float(row["cum_share"]), "not_stated": rs.n_not_stated,
                      "method": "Wilson interval", "table": "churn.reasons"},
            tags={"themes": [str(row["slug"])], **({"segments": seg_tags} if seg_tags else {})},
        ))
    return out


def _rar_concentration(an: ChurnAnalysis) -> dict[str, Any]:
    """Where the revenue at risk concentrates: the segment value holding the largest share of it.

    Over every segment column's breakdown (``RevenueAtRisk.by_segment``; customers without a value
    are left out), the value with the largest revenue at risk: ``top_segment_share`` (its share of
    the total), ``top_segment_reach`` (its share of the active customers), ``top_segment_label``,
    ``top_segment_column`` (the column's name in the report), ``top_segment_customers`` and
    ``top_segment_revenue_at_risk``. Read by the recommendation rule on concentrated revenue risk.
    """
    from .stats import NOT_STATED

    rar = an.rar
    best: dict[str, Any] = {}
    total = float(rar.value) if rar is not None else 0.0
    if rar is None or not total > 0 or not rar.n_active:
        return {}
    for col, tab in rar.by_segment.items():
        for _, row in tab.iterrows():
            val = row[col]
            if pd.isna(val) or str(val) == NOT_STATED:
                continue
            share = float(row["revenue_at_risk"]) / total
            if share > best.get("top_segment_share", -1.0):
                best = {"top_segment_share": share, "top_segment_reach": float(row["n"]) / rar.n_active,
                        "top_segment_label": str(val), "top_segment_column": an.segment_label(col),
                        "top_segment_customers": int(row["n"]),
                        "top_segment_revenue_at_risk": float(row["revenue_at_risk"])}
    return best


def _rar_finding(an: ChurnAnalysis, lang: str) -> Any:
    from . import economics
    from .findings import Finding

    rar, a = an.rar, an.assumptions
    assert rar is not None  # the only caller (churn findings) calls this only when an.rar is set
    months = fmt_num(a.revenue_period_months, lang, 0)
    ev: dict[str, Any] = {
        "revenue_at_risk": rar.value, "revenue_at_risk_ci": [rar.ci_low, rar.ci_high],
        "uplift_detractors_to_promoter_rate": rar.uplift,
        "uplift_ci": [rar.uplift_ci_low, rar.uplift_ci_high] if rar.uplift is not None else None,
        "currency": a.currency, "horizon_months": rar.horizon_months, "active_customers": rar.n_active,
        "active_revenue": rar.active_revenue, "share_of_revenue": rar.share,
        "expected_churners": rar.expected_churners, "customers_saved_by_uplift": rar.saved_customers,
        "assumptions": a.to_dict(), "acquisition_cost": economics.acquisition_cost(an.value_frame(), a),
        "method": "sum of revenue x P(churn) from the logistic model; delta-method intervals", "table": "churn.rar",
    }
    ev |= _rar_concentration(an)
    if an.ltv is not None:
        ev["ltv_by_nps_group"] = {str(g): float(v) for g, v in zip(an.ltv["nps_group"], an.ltv["ltv"], strict=True)}
    if an.retention is not None and len(an.retention):
        chosen = an.retention[an.retention["chosen"]].iloc[0]
        ev["replace_cost"], ev["retain_cost"] = float(chosen["replace_cost"]), float(chosen["retain_cost"])
    if an.moves is not None and len(an.moves):
        ev["move_detractors"] = an.moves.to_dict("records")
    title_key = "churn.finding_rar_uplift" if rar.uplift is not None else "churn.finding_rar"
    return Finding(
        id="churn.revenue_at_risk", section="churn",
        title=t(title_key, lang, amount=_money(rar.value, lang) + _cur(an), months=months,
                share=fmt_pct(rar.share, lang, 1),
                uplift=_money(rar.uplift, lang) + _cur(an) if rar.uplift is not None else ""),
        metric="revenue_at_risk", value=rar.value, n=rar.n_active, ci_low=rar.ci_low, ci_high=rar.ci_high,
        severity=4, reach=min(max(rar.expected_churners / rar.n_active, 0.0), 1.0) if rar.n_active else 0.0,
        unit="", evidence=ev,
    )
