"""Support tickets: volumes, response and resolution times, expected response times (SLA), repeat
contacts, recurring issues with a rising share, and ticket CSAT by channel.

Expected first-response times are *assumptions*, overridable per client. The defaults
(:data:`DEFAULT_SLA_HOURS`) follow the seeds of the method: customers expect an answer on social
media within 1 hour (42 % do; 32 % even within 30 minutes), live channels (phone, chat) within
minutes, e-mail within a working day. ``audit.yaml`` can override them once
:class:`cxaudit.config.AuditConfig` has a ``tickets`` block (``sla_hours``, ``sla_target``,
``repeat_days``); until then the defaults apply (read with ``getattr`` fallbacks).

Statistics
----------
- Quantiles (median, p90) with distribution-free intervals from order statistics: the interval
  [x_(r), x_(s)] with r = F⁻¹(α/2), s = F⁻¹(1 − α/2) + 1 for F the Binomial(n, q) CDF has coverage
  F(s − 1) − F(r − 1) ≥ 1 − α (Conover 1999, *Practical Nonparametric Statistics*, 3rd ed., §3.2;
  Hahn & Meeker 1991, *Statistical Intervals*, §5.2).
- Shares (within SLA, repeat contacts) with the Wilson (1927) score interval.
- Rising categories: quasi-Poisson regression of a category's monthly count on the month index
  with log(all tickets that month) as offset, dispersion from Pearson's χ² (McCullagh & Nelder
  1989, §6.2); rate ratio per month exp(β) with a Wald interval; Holm (1979) over categories.

Examples
--------
>>> import numpy as np
>>> est, lo, hi = quantile_ci(np.arange(1.0, 21.0), 0.5)   # n = 20: [x(6), x(15)], coverage 95.9 %
>>> est, lo, hi
(10.5, 6.0, 15.0)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from .errors import ConfigError, DataError
from .findings import Finding
from .i18n import fmt_num, fmt_pct, t
from .metrics import Z95, _wilson, metric_table
from .plots import PALETTE

__all__ = [
    "DEFAULT_SLA_HOURS",
    "DEFAULT_SLA_TARGET",
    "DEFAULT_REPEAT_DAYS",
    "CHANNEL_ALIASES",
    "TicketSettings",
    "settings",
    "prepare",
    "quantile_ci",
    "volume",
    "monthly",
    "time_table",
    "sla_table",
    "repeat_contacts",
    "repeat_table",
    "rising",
    "csat_by_channel",
    "fmt_hours",
    "channel_label",
    "times_figure",
    "monthly_figure",
    "ticket_findings",
    "with_durations",
]

#: Expected first response per channel, hours (assumptions; override in audit.yaml ``tickets.sla_hours``).
DEFAULT_SLA_HOURS: dict[str, float] = {
    "phone": 0.25,   # live channel: answered within minutes (15 min including call-backs)
    "chat": 0.25,    # live channel: within minutes
    "social": 1.0,   # 42 % of customers expect an answer within 1 h (32 % within 30 min)
    "app": 4.0,      # in-app messages: written channel, same working half-day
    "email": 24.0,   # within one working day
}
#: Share of tickets that should be answered within the expected time (the service level).
DEFAULT_SLA_TARGET: float = 0.8
#: Window for a repeat contact: same customer, same category, within this many days.
DEFAULT_REPEAT_DAYS: int = 7
#: Channel names in client data that mean one of the SLA channels.
CHANNEL_ALIASES: dict[str, str] = {
    "telephone": "phone", "call": "phone", "calls": "phone", "voice": "phone", "call centre": "phone",
    "call center": "phone", "телефон": "phone", "telefon": "phone",
    "live chat": "chat", "messenger": "chat", "whatsapp": "chat", "telegram": "chat", "чат": "chat", "czat": "chat",
    "e-mail": "email", "mail": "email", "почта": "email",
    "social media": "social", "facebook": "social", "instagram": "social", "twitter": "social", "x": "social",
    "vk": "social", "соцсети": "social",
    "mobile app": "app", "in-app": "app", "приложение": "app", "aplikacja": "app",
}


@dataclass(frozen=True)
class TicketSettings:
    """Expected response times (hours per channel), the service-level target and the repeat window."""

    sla_hours: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SLA_HOURS))
    sla_target: float = DEFAULT_SLA_TARGET
    repeat_days: int = DEFAULT_REPEAT_DAYS
    overridden: tuple[str, ...] = ()


def settings(config: Any = None, **override: Any) -> TicketSettings:
    """Ticket settings: the defaults, then ``config.tickets`` (when the config has that block), then
    keyword overrides. ``sla_hours`` entries are merged channel by channel.

    Examples
    --------
    >>> settings(sla_hours={"social": 2}).sla_hours["social"], settings().sla_hours["email"]
    (2.0, 24.0)
    """
    block = getattr(config, "tickets", None) if config is not None else None
    sla = dict(DEFAULT_SLA_HOURS)
    overridden: list[str] = []
    target, days = DEFAULT_SLA_TARGET, DEFAULT_REPEAT_DAYS
    sources: list[Mapping[str, Any]] = []
    if block is not None:
        sources.append({k: getattr(block, k) for k in ("sla_hours", "sla_target", "repeat_days")
                        if getattr(block, k, None) is not None})
    sources.append(override)
    for src in sources:
        for ch, hours in (src.get("sla_hours") or {}).items():
            key = _canonical_channel(str(ch))
            if not float(hours) > 0:
                raise ConfigError("audit.yaml", f"tickets.sla_hours.{ch}", f"expected a positive number of hours, got {hours!r}")
            sla[key] = float(hours)
            overridden.append(key)
        if src.get("sla_target") is not None:
            target = float(src["sla_target"])
            if not 0 < target <= 1:
                raise ConfigError("audit.yaml", "tickets.sla_target", f"expected a share in (0, 1], got {target!r}")
        if src.get("repeat_days") is not None:
            days = int(src["repeat_days"])
    return TicketSettings(sla, target, days, tuple(dict.fromkeys(overridden)))


def _canonical_channel(name: str) -> str:
    key = name.strip().lower()
    return CHANNEL_ALIASES.get(key, key)


# --- preparation -----------------------------------------------------------------------------------

REQUIRED = ("ticket_id", "channel", "created_at")


def prepare(tickets: pd.DataFrame) -> pd.DataFrame:
    """Tickets with derived columns.

    Adds ``first_response_h`` and ``resolution_h`` (hours from ``created_at``; missing when the
    ticket has no such time, or when the time is *before* creation -- counted in
    ``bad_first_response`` / ``bad_resolution``), ``answered``, ``resolved``, ``month``
    (``YYYY-MM``) and ``sla_channel`` (the channel name mapped through :data:`CHANNEL_ALIASES`).

    Raises
    ------
    DataError
        When a required column (``ticket_id``, ``channel``, ``created_at``) is missing or
        ``created_at`` is not a datetime column.
    """
    for col in REQUIRED:
        if col not in tickets.columns:
            raise DataError("tickets", f"required column '{col}' missing", column=col)
    if not pd.api.types.is_datetime64_any_dtype(tickets["created_at"]):
        raise DataError("tickets", "expected date-times (parsed by load_audit)", column="created_at")
    t_ = tickets.copy()
    for src, dst in (("first_response_at", "first_response_h"), ("resolved_at", "resolution_h")):
        if src in t_.columns:
            hours = (pd.to_datetime(t_[src]) - t_["created_at"]).dt.total_seconds() / 3600.0
            bad = hours < 0
            t_["bad_" + dst.removesuffix("_h")] = bad.fillna(False)
            t_[dst] = hours.mask(bad)
        else:
            t_[dst] = np.nan
            t_["bad_" + dst.removesuffix("_h")] = False
    t_["answered"] = t_["first_response_h"].notna()
    t_["resolved"] = t_["resolution_h"].notna()
    t_["month"] = t_["created_at"].dt.strftime("%Y-%m")
    t_["sla_channel"] = t_["channel"].astype(str).map(_canonical_channel)
    return t_


# --- quantiles -------------------------------------------------------------------------------------


def quantile_ci(x: Sequence[float] | np.ndarray | pd.Series, q: float, conf: float = 0.95) -> tuple[float, float, float]:
    """The ``q`` quantile of ``x`` and its distribution-free ``conf`` interval from order statistics.

    With F the Binomial(n, q) CDF, r = F⁻¹(α/2) and s = F⁻¹(1 − α/2) + 1 (1-based ranks), the
    interval [x_(r), x_(s)] covers the true quantile with probability F(s − 1) − F(r − 1) ≥ 1 − α,
    whatever the distribution (Conover 1999, §3.2; Hahn & Meeker 1991, §5.2). A bound whose rank
    falls outside 1..n is NaN (too few observations). The point estimate is numpy's default
    (linear interpolation, R type 7).

    Examples
    --------
    >>> quantile_ci([1.0, 2.0, 3.0], 0.5)   # n = 3 is too small for a 95% interval
    (2.0, nan, nan)
    """
    a = np.sort(np.asarray(pd.Series(x, dtype="float64").dropna(), dtype=float))
    n = len(a)
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    alpha = 1 - conf
    r = int(stats.binom.ppf(alpha / 2, n, q))
    s = int(stats.binom.ppf(1 - alpha / 2, n, q)) + 1
    lo = float(a[r - 1]) if 1 <= r <= n else float("nan")
    hi = float(a[s - 1]) if 1 <= s <= n else float("nan")
    return float(np.quantile(a, q)), lo, hi


# --- tables ----------------------------------------------------------------------------------------


def volume(tickets: pd.DataFrame, by: str | Sequence[str]) -> pd.DataFrame:
    """Ticket counts by one or more columns, with each group's share of all tickets (Wilson interval)."""
    by = [by] if isinstance(by, str) else list(by)
    for col in by:
        if col not in tickets.columns:
            raise DataError("tickets", "column not found for a volume table", column=col)
    out = tickets.groupby(by, observed=True, dropna=False).size().rename("n").reset_index()
    total = len(tickets)
    out["share"] = out["n"] / total if total else np.nan
    lo, hi = _wilson(out["n"].to_numpy(float), np.full(len(out), float(total)))
    out["ci_low"], out["ci_high"] = lo, hi
    return out.sort_values("n", ascending=False).reset_index(drop=True)


def monthly(tickets: pd.DataFrame, by: str = "channel") -> pd.DataFrame:
    """Tickets per calendar month (rows) and ``by`` group (columns); months without tickets are 0."""
    tab = tickets.groupby(["month", by], observed=True).size().unstack(by, fill_value=0)
    months = pd.period_range(tickets["created_at"].min(), tickets["created_at"].max(), freq="M").strftime("%Y-%m")
    return tab.reindex(months, fill_value=0)


def time_table(tickets: pd.DataFrame, column: str = "first_response_h", by: str = "channel",
               min_base: int = 30) -> pd.DataFrame:
    """Distribution of a duration (hours) per group: ``n`` tickets, ``n_done`` with the time,
    ``median`` and ``p90`` with distribution-free 95 % intervals (:func:`quantile_ci`), ``mean``."""
    rows = []
    for grp, part in tickets.groupby(by, observed=True):
        x = part[column].dropna().to_numpy(float)
        med = quantile_ci(x, 0.5)
        p90 = quantile_ci(x, 0.9)
        rows.append({by: grp, "n": len(part), "n_done": len(x), "share_done": len(x) / len(part) if len(part) else np.nan,
                     "median": med[0], "median_low": med[1], "median_high": med[2],
                     "p90": p90[0], "p90_low": p90[1], "p90_high": p90[2],
                     "mean": float(x.mean()) if len(x) else np.nan, "small_base": len(x) < min_base})
    return pd.DataFrame(rows).sort_values("median").reset_index(drop=True)


def sla_table(tickets: pd.DataFrame, cfg: TicketSettings | None = None, *, by: str = "channel",
              as_of: pd.Timestamp | None = None, min_base: int = 30) -> pd.DataFrame:
    """Share of tickets answered within the channel's expected time, per channel.

    A ticket counts as *in time* when its first response came within ``sla_hours`` of creation;
    *late* when it came later or has not come although the expected time has passed by ``as_of``
    (default: the latest time stamp in the table). Tickets created less than the expected time
    before ``as_of`` and still unanswered are censored (left out). Status: ``missed`` when the
    Wilson interval's upper bound is below ``sla_target``, ``met`` when its lower bound is at or
    above it, ``unclear`` otherwise, ``none`` for a channel without an expectation (and for every
    channel when the table has no ``first_response_at`` column).
    """
    cfg = cfg or settings()
    if as_of is None:
        cols = [c for c in ("created_at", "first_response_at", "resolved_at") if c in tickets.columns]
        as_of = max(pd.to_datetime(tickets[c]).max() for c in cols)
    rows = []
    for grp, part in tickets.groupby(by, observed=True):
        key = _canonical_channel(str(grp))
        sla = cfg.sla_hours.get(key) if "first_response_at" in tickets.columns else None
        row: dict[str, Any] = {by: grp, "sla_channel": key, "sla_h": sla, "n": len(part)}
        if sla is None:
            row.update(n_assessed=0, within=0, share=np.nan, ci_low=np.nan, ci_high=np.nan, status="none")
        else:
            waited = (as_of - part["created_at"]).dt.total_seconds() / 3600.0
            fr = part["first_response_h"]
            in_time = fr.notna() & (fr <= sla)
            late = (fr.notna() & (fr > sla)) | (fr.isna() & (waited > sla))
            n_ass = int((in_time | late).sum())
            k = int(in_time.sum())
            lo, hi = _wilson(np.array([float(k)]), np.array([float(n_ass)]))
            status = "missed" if hi[0] < cfg.sla_target else "met" if lo[0] >= cfg.sla_target else "unclear"
            row.update(n_assessed=n_ass, within=k, share=k / n_ass if n_ass else np.nan,
                       ci_low=float(lo[0]), ci_high=float(hi[0]), status=status if n_ass else "none")
        row["small_base"] = row["n_assessed"] < min_base
        rows.append(row)
    return pd.DataFrame(rows).reset_index(drop=True)


def repeat_contacts(tickets: pd.DataFrame, days: int = DEFAULT_REPEAT_DAYS) -> pd.Series:
    """True for a ticket whose customer opened a ticket in the same ``category`` at most ``days``
    days earlier (tickets without a customer id are never repeats; without a ``category`` column
    any earlier ticket of the customer counts)."""
    if "customer_id" not in tickets.columns:
        raise DataError("tickets", "repeat contacts need a customer id", column="customer_id")
    keys = ["customer_id", "category"] if "category" in tickets.columns else ["customer_id"]
    df = tickets[keys + ["created_at"]].copy()
    df["_pos"] = np.arange(len(df))
    df = df.sort_values(keys + ["created_at"], kind="stable")
    prev = df.groupby(keys, observed=True, dropna=False)["created_at"].shift(1)
    gap = (df["created_at"] - prev).dt.total_seconds() / 86400.0
    flag = (gap <= days) & df["customer_id"].notna()
    out = np.zeros(len(df), dtype=bool)
    out[df["_pos"].to_numpy()] = flag.fillna(False).to_numpy(bool)
    return pd.Series(out, index=tickets.index, name="repeat")


def repeat_table(tickets: pd.DataFrame, repeat: pd.Series, by: str, min_base: int = 30) -> pd.DataFrame:
    """Share of tickets that are repeat contacts, per group, with Wilson intervals."""
    g = pd.DataFrame({by: tickets[by], "r": repeat.astype(bool)}).groupby(by, observed=True)["r"]
    out = pd.DataFrame({"n": g.size(), "k": g.sum()}).reset_index()
    lo, hi = _wilson(out["k"].to_numpy(float), out["n"].to_numpy(float))
    out["share"], out["ci_low"], out["ci_high"] = out["k"] / out["n"], lo, hi
    out["small_base"] = out["n"] < min_base
    return out.sort_values("share", ascending=False).reset_index(drop=True)


def rising(tickets: pd.DataFrame, by: str = "category", *, min_months: int = 6, alpha: float = 0.05) -> pd.DataFrame:
    """Monthly trend of each group's *share* of tickets.

    For each group g: quasi-Poisson GLM ``count_g(m) ~ 1 + m`` with offset ``log total(m)`` over the
    months m = 0, 1, ... of the table (McCullagh & Nelder 1989; dispersion = Pearson χ² / df).
    ``rate_ratio`` = exp(β) is the multiplicative change of the share per month, with a Wald 95 %
    interval; ``p_holm`` is Holm-adjusted over groups; ``rising`` when ``p_holm < alpha`` and
    ``rate_ratio > 1``. Fewer than ``min_months`` months: an empty table.
    """
    import statsmodels.api as sm

    from .text import holm

    tab = monthly(tickets, by)
    if len(tab) < min_months:
        return pd.DataFrame(columns=[by, "months", "n", "rate_ratio", "ci_low", "ci_high", "p_value", "p_holm", "rising"])
    total = tab.sum(axis=1).to_numpy(float)
    keep = total > 0
    x = sm.add_constant(np.arange(len(tab), dtype=float)[keep])
    rows = []
    for grp in tab.columns:
        y = tab[grp].to_numpy(float)[keep]
        if y.sum() < 10:
            continue
        res = sm.GLM(y, x, family=sm.families.Poisson(), offset=np.log(total[keep])).fit(scale="X2")
        b, se = float(res.params[1]), float(res.bse[1])
        rows.append({by: grp, "months": int(keep.sum()), "n": int(y.sum()), "rate_ratio": float(np.exp(b)),
                     "ci_low": float(np.exp(b - Z95 * se)), "ci_high": float(np.exp(b + Z95 * se)),
                     "p_value": float(res.pvalues[1])})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["p_holm"] = holm(out["p_value"].to_numpy())
    out["rising"] = (out["p_holm"] < alpha) & (out["rate_ratio"] > 1)
    return out.sort_values("rate_ratio", ascending=False).reset_index(drop=True)


def csat_by_channel(tickets: pd.DataFrame, scale: int = 5, top_box: int = 2, min_base: int = 30) -> pd.DataFrame:
    """Ticket CSAT (top-``top_box`` share, Wilson interval) per channel, via :func:`cxaudit.metrics.metric_table`."""
    if "csat" not in tickets.columns or tickets["csat"].notna().sum() == 0:
        return pd.DataFrame(columns=["channel", "n", "value", "ci_low", "ci_high", "small_base"])
    part = tickets[tickets["csat"].notna()]
    return metric_table(part, "csat", by=["channel"], min_base=min_base, scale=scale, top_box=top_box)


# --- display helpers -------------------------------------------------------------------------------


def fmt_hours(hours: float | None, lang: str) -> str:
    """A duration in the report's words: minutes below 1 h, hours below 72 h, days above."""
    if hours is None or not np.isfinite(hours):
        return "–"
    if hours < 1:
        return t("voc.duration_min", lang, x=fmt_num(hours * 60, lang, 0))
    if hours < 72:
        return t("voc.duration_h", lang, x=fmt_num(hours, lang, 1))
    return t("voc.duration_d", lang, x=fmt_num(hours / 24, lang, 1))


def channel_label(channel: str, lang: str) -> str:
    """The channel's name in the report language (``voc.channel.<name>``), else as in the data."""
    try:
        return t(f"voc.channel.{_canonical_channel(str(channel))}", lang)
    except KeyError:
        return str(channel)


def times_figure(tickets: pd.DataFrame, cfg: TicketSettings, lang: str) -> Figure:
    """Empirical CDF of the first-response time per channel (log hours), with each channel's expected time."""
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    order = tickets.groupby("channel", observed=True)["first_response_h"].median().sort_values().index
    for i, ch in enumerate(order):
        x = np.sort(tickets.loc[tickets["channel"] == ch, "first_response_h"].dropna().to_numpy(float))
        if not len(x):
            continue
        x = np.maximum(x, 1 / 60)
        c = colours[i % len(colours)]
        ax.step(x, np.arange(1, len(x) + 1) / len(x) * 100, where="post", color=c,
                label=f"{channel_label(ch, lang)} (n = {fmt_num(len(x), lang, 0)})")
        sla = cfg.sla_hours.get(_canonical_channel(str(ch)))
        if sla:
            ax.axvline(sla, color=c, linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel(t("voc.axis_hours", lang) + f"; ⋯ {t('voc.sla_marker', lang)}")
    ax.set_ylabel("%")
    ax.set_title(t("voc.times_figure", lang))
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    plt.close(fig)
    return fig


def monthly_figure(tab: pd.DataFrame, lang: str) -> Figure:
    """Stacked monthly ticket counts by channel."""
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    bottom = np.zeros(len(tab))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, col in enumerate(tab.columns):
        ax.bar(range(len(tab)), tab[col].to_numpy(), bottom=bottom, color=colours[i % len(colours)],
               label=channel_label(col, lang), width=0.8)
        bottom += tab[col].to_numpy()
    step = max(1, len(tab) // 9)
    ax.set_xticks(range(0, len(tab), step), list(tab.index)[::step], rotation=0, fontsize=8)
    ax.set_ylabel(t("voc.axis_tickets", lang))
    ax.set_title(t("voc.tickets_monthly_figure", lang) + f" (n = {fmt_num(bottom.sum(), lang, 0)})")
    ax.legend(fontsize=8, ncols=min(5, len(tab.columns)), loc="upper left")
    ax.grid(axis="x", visible=False)
    ax.tick_params(axis="x", colors=PALETTE["main"])
    fig.tight_layout()
    plt.close(fig)
    return fig


# --- findings --------------------------------------------------------------------------------------


def _sla_severity(ratio: float) -> int:
    """Severity from median first response / expected time: ≥ 4 → 4, ≥ 2 → 3, else 2."""
    return 4 if ratio >= 4 else 3 if ratio >= 2 else 2


def ticket_findings(tickets: pd.DataFrame, cfg: TicketSettings, lang: str, *,
                    n_customers: int | None = None, min_base: int = 30) -> list[Finding]:
    """``tickets.sla.<channel>`` for every channel that misses its expected first-response time
    (:func:`sla_table` status ``missed``), and ``tickets.rising.<category>`` for categories whose
    share of tickets rises significantly (:func:`rising`).

    SLA finding: value = median first response in hours with its distribution-free interval,
    n = answered tickets of the channel, severity from median / expected (:func:`_sla_severity`),
    reach = customers with a late first response in that channel / ``n_customers`` (the customers
    table when given, else the customers who opened any ticket).
    """
    out: list[Finding] = []
    base = n_customers or (tickets["customer_id"].nunique() if "customer_id" in tickets.columns else len(tickets))
    sla = sla_table(tickets, cfg, min_base=min_base)
    times = time_table(tickets, "first_response_h", min_base=min_base).set_index("channel")
    for _, r in sla[sla["status"] == "missed"].iterrows():
        ch = r["channel"]
        if r["small_base"]:
            continue
        part = tickets[tickets["channel"] == ch]
        late = part["first_response_h"].isna() | (part["first_response_h"] > r["sla_h"])
        who = part.loc[late, "customer_id"].nunique() if "customer_id" in part.columns else int(late.sum())
        tm = times.loc[ch]
        out.append(Finding(
            id=f"tickets.sla.{_canonical_channel(str(ch))}", section="voc",
            title=t("voc.finding_sla", lang, channel=channel_label(ch, lang), median=fmt_hours(tm["median"], lang),
                    sla=fmt_hours(r["sla_h"], lang), share=fmt_pct(r["share"], lang)),
            metric="first_response_median_h", value=float(tm["median"]), n=int(tm["n_done"]),
            ci_low=None if np.isnan(tm["median_low"]) else float(tm["median_low"]),
            ci_high=None if np.isnan(tm["median_high"]) else float(tm["median_high"]),
            severity=_sla_severity(float(tm["median"]) / float(r["sla_h"])),
            reach=float(min(1.0, who / base)) if base else 0.0, unit="h",
            evidence={"sla_h": r["sla_h"], "within_sla": r["share"], "within_sla_ci": [r["ci_low"], r["ci_high"]],
                      "n_assessed": int(r["n_assessed"]), "sla_target": cfg.sla_target,
                      "p90_h": float(tm["p90"]), "assumption": ch not in cfg.overridden, "table": "voc.tickets_sla"},
            tags={"channels": [_canonical_channel(str(ch))]},
        ))
    if "category" in tickets.columns:
        ris = rising(tickets, "category")
        if not ris.empty:
            for _, r in ris[ris["rising"]].iterrows():
                cat = r["category"]
                who = tickets.loc[tickets["category"] == cat, "customer_id"].nunique() \
                    if "customer_id" in tickets.columns else int(r["n"])
                out.append(Finding(
                    id=f"tickets.rising.{cat}", section="voc",
                    title=t("voc.finding_rising", lang, category=str(cat),
                            pct=fmt_pct(float(r["rate_ratio"]) - 1, lang, 1)),
                    metric="monthly_rate_ratio", value=float(r["rate_ratio"]), n=int(r["n"]),
                    ci_low=float(r["ci_low"]), ci_high=float(r["ci_high"]), severity=3,
                    reach=float(min(1.0, who / base)) if base else 0.0,
                    evidence={"p_holm": r["p_holm"], "months": int(r["months"]), "table": "voc.tickets_rising"},
                    tags={"themes": [str(cat)]},
                ))
    return out


def with_durations(tab: pd.DataFrame, lang: str, cols: Sequence[str] = ("median", "p90")) -> pd.DataFrame:
    """Add ``<col>_txt`` (e.g. "6 min", "6,0 ч") and ``<col>_ci_txt`` ("[5,4 h; 7,0 h]") display columns."""
    out = tab.copy()
    for c in cols:
        out[f"{c}_txt"] = [fmt_hours(v, lang) for v in out[c]]
        out[f"{c}_ci_txt"] = [f"[{fmt_hours(lo, lang)}; {fmt_hours(hi, lang)}]"
                              for lo, hi in zip(out[f"{c}_low"], out[f"{c}_high"], strict=True)]
    return out
