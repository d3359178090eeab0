"""The business case of the TO-BE plan: costs, value, ROI, payback, scenarios, measurable targets.

:func:`cxaudit.recommend.recommend` ranks the changes and estimates each one's NPS impact and the
revenue it keeps; this module turns that into a plan a client can fund and check:

* **The plan** is every recommendation except the "reconsider" ones (low impact for more than low
  effort): those leave the roadmap and the plan total and are listed apart (``on_plan`` False).
* **Cost** of each change: ``recommendations.overrides.<rule>.cost`` in audit.yaml (or the client's
  rules file), else ``economics.costs.<effort>`` (low / medium / high), else a labelled assumption:
  a share of the active customers' revenue per period (:data:`DEFAULT_COST_SHARES`).
* **Value**: the revenue a change keeps per revenue period (the churn section's uplift × the
  detractors it moves × the passive share of the churn gap, see :mod:`cxaudit.recommend`), put on
  12 months. ROI = (value − cost) / cost; payback = 12 × cost / value months (a constant monthly
  value from the start). **Scenarios**: low / expected / high from the uplift's 95 % interval (the
  shares moved and closed held fixed, as in the targets).
* **Reconciliation**: the changes' effects do not add up to the plan's, because several changes
  reach the same detractors. The plan moves M = 1 − Π(1 − m_i) of them (capped at
  ``max_detractor_move``); the table shows Σ effects, the overlap (Σ − uncapped M effect) and the cap
  (uncapped − capped) as their own lines, so that Σ − overlap − cap = plan total holds for the
  printed (rounded) numbers: the rounding residue is put into the overlap line.
* **Targets that can be shown to be met**: each target states the sample size per measurement wave
  needed to detect the change from today's value (two-sided test, α = 0.05, power 0.8; statsmodels
  ``NormalIndPower`` — Cohen 1988, *Statistical Power Analysis*, ch. 6 for proportions with the
  arcsine effect size h, ch. 2 for means). A target inside today's 95 % interval could not be told
  apart from today's value: it is flagged and re-set to the edge of the interval.

Examples
--------
>>> round(n_per_wave_proportion(0.50, 0.55))   # Cohen's h = 0.1002 -> 1,565 per wave
1565
>>> check_target(10.9, 10.5, (10.1, 11.8), lower_is_better=True)["target"]
10.0
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from .i18n import fmt_date, fmt_num, fmt_pct, t

__all__ = [
    "DEFAULT_COST_SHARES",
    "ALPHA",
    "POWER",
    "BusinessCase",
    "n_per_wave_proportion",
    "n_per_wave_mean",
    "n_per_wave_nps",
    "check_target",
    "check_targets",
    "costs_per_effort",
    "plan",
    "finalise",
    "business_case_table",
    "reconsidered_table",
    "add_months",
]

#: Cost of one change as a share of the active customers' revenue per period, when audit.yaml gives
#: no ``economics.costs`` (an assumption the report labels as such).
DEFAULT_COST_SHARES: dict[str, float] = {"low": 0.0002, "medium": 0.0008, "high": 0.0025}
ALPHA = 0.05
POWER = 0.8
_POWER = NormalIndPower()
_HORIZON_END = {"0-3": 3, "3-6": 6, "6-12": 12}
#: KPIs measured as a share of people / comments / customers (a two-proportion test applies).
_SHARE_METRICS = {"theme_share", "churn_reason_share", "detractor_churn", "churn_rate", "data_quality", "csat",
                  "outcome", "segment_outcome"}
#: KPIs on the NPS scale (points; the respondent-level NPS variance applies).
_NPS_METRICS = {"nps", "segment_nps", "enps"}


# --- sample sizes ----------------------------------------------------------------------------------


def _solve(effect: float) -> int | None:
    if not math.isfinite(effect) or abs(effect) < 1e-9:
        return None
    n = _POWER.solve_power(effect_size=abs(effect), alpha=ALPHA, power=POWER, ratio=1.0, alternative="two-sided")
    return int(math.ceil(float(n)))


def n_per_wave_proportion(p0: float, p1: float) -> int | None:
    """Respondents per wave to tell a share ``p1`` from ``p0`` (two waves of equal size).

    Cohen's h = 2 asin √p1 − 2 asin √p0 (statsmodels ``proportion_effectsize``), then the normal
    power equation n = ((z₁₋α/₂ + z_power) / h)² (``NormalIndPower``; Cohen 1988, ch. 6).
    """
    if not (0 <= p0 <= 1 and 0 <= p1 <= 1):
        return None
    return _solve(float(proportion_effectsize(p1, p0)))


def n_per_wave_mean(delta: float, sd: float) -> int | None:
    """Respondents per wave to detect a change ``delta`` of a mean with standard deviation ``sd``
    (Cohen's d = delta / sd; Cohen 1988, ch. 2)."""
    if sd is None or not sd > 0:
        return None
    return _solve(delta / sd)


def n_per_wave_nps(nps0: float, nps1: float, promoters: float, detractors: float) -> int | None:
    """Respondents per wave to detect an NPS change from ``nps0`` to ``nps1`` (points).

    NPS is the mean of scores coded +1 / 0 / −1 (× 100); its per-respondent variance is
    v = (p + d) − (p − d)² (METHODS.md, R package NPS ``npvar``), so d = (Δ/100) / √v.
    """
    v = (promoters + detractors) - (promoters - detractors) ** 2
    return n_per_wave_mean((nps1 - nps0) / 100, math.sqrt(v)) if v > 0 else None


def check_target(as_is: float, target: float, ci: tuple[float, float] | None, *, lower_is_better: bool = False,
                 step: float = 0.1) -> dict[str, Any]:
    """Flag a target inside today's 95 % interval and re-set it to the edge of the interval.

    The estimate stays in ``estimate``; ``target`` is the value a measurement could tell apart from
    today (the interval's bound in the direction of improvement, moved out by ``step`` and rounded to
    it); ``reset`` says whether it was moved.
    """
    out: dict[str, Any] = {"as_is": float(as_is), "estimate": float(target), "target": float(target),
                           "reset": False, "ci": list(ci) if ci is not None else None}
    if ci is None:
        return out
    lo, hi = min(ci), max(ci)
    if lo <= target <= hi:
        if lower_is_better:
            new = math.floor(round((lo - step) / step, 9)) * step
        else:
            new = math.ceil(round((hi + step) / step, 9)) * step
        out["target"], out["reset"] = round(new, 6), True
    return out


# --- the plan ----------------------------------------------------------------------------------------


def plan(recs: Sequence[Any]) -> list[Any]:
    """The recommendations on the plan (roadmap, plan total): all but the "reconsider" ones."""
    return [r for r in recs if r.quadrant != "reconsider"]


def add_months(start: _dt.date, months: int) -> _dt.date:
    """``start`` + whole months (day clipped to the month's length)."""
    y, m = divmod(start.month - 1 + months, 12)
    year, month = start.year + y, m + 1
    days = (_dt.date(year + month // 12, month % 12 + 1, 1) - _dt.timedelta(days=1)).day
    return _dt.date(year, month, min(start.day, days))


@dataclass
class BusinessCase:
    """The plan's money: one row per change on the plan, the reconciliation lines and the total.

    ``rows``: rank, title, impact (ΔNPS), value (money per 12 months, expected / low / high), cost,
    roi, payback_months. ``sum_value``, ``overlap_value``, ``cap_value``, ``total_value`` (and the
    ``*_nps`` counterparts) are rounded so that sum − overlap − cap = total exactly.
    """

    currency: str
    rows: list[dict[str, Any]]
    sum_nps: float
    overlap_nps: float
    cap_nps: float
    total_nps: float
    sum_value: float | None
    overlap_value: float | None
    cap_value: float | None
    total_value: float | None
    total_value_low: float | None
    total_value_high: float | None
    total_cost: float
    cost_source: str
    roi: float | None
    roi_low: float | None
    roi_high: float | None
    payback_months: float | None
    cap: float
    value_months: float = 12.0
    reconsidered: list[dict[str, Any]] = field(default_factory=list)
    #: "nps", or "outcome": the effects are percentage points of a non-NPS outcome (issue 13)
    basis: str = "nps"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _active_revenue(findings: Sequence[Any]) -> float | None:
    """The active customers' revenue per period (the churn section's revenue-at-risk evidence)."""
    f = next((g for g in findings if g.id == "churn.revenue_at_risk"), None)
    active = (f.evidence or {}).get("active_revenue") if f is not None else None
    if isinstance(active, int | float) and not isinstance(active, bool) and active > 0:
        return float(active)
    return None


def costs_per_effort(config: Any, active_revenue: float | None) -> tuple[dict[str, float | None], str]:
    """Cost of a change per effort level: ``economics.costs`` of audit.yaml (source ``"config"``),
    else :data:`DEFAULT_COST_SHARES` of the active customers' revenue per period, rounded to
    hundreds (source ``"assumption"``); ``None`` where neither is known."""
    eco = getattr(config, "economics", None) if config is not None else None
    given = dict(getattr(eco, "costs", None) or {})
    out: dict[str, float | None] = {}
    for k, share in DEFAULT_COST_SHARES.items():
        if k in given:
            out[k] = float(given[k])
        else:
            out[k] = float(round(share * active_revenue, -2)) if active_revenue else None
    return out, "config" if len(given) == len(DEFAULT_COST_SHARES) else "assumption"


def _roi(value: float | None, cost: float | None) -> float | None:
    return (value - cost) / cost if value is not None and cost else None


def _payback(value: float | None, cost: float | None) -> float | None:
    return 12 * cost / value if value is not None and value > 0 and cost is not None else None


def _kpi(rec: Any, journey: pd.DataFrame | None, econ: Any) -> dict[str, Any]:
    """The KPI of one change: metric, baseline, target (re-set if inside today's interval), n per wave."""
    m = dict(rec.measure)
    metric, unit = m.get("metric"), m.get("unit") or ""
    base, target, ci, sd = m.get("baseline"), m.get("target"), None, None
    if metric == "touchpoint_rating" and journey is not None and len(journey):
        hit = journey[journey["touchpoint"].isin(rec.tags.get("touchpoints", [])) & journey["as_is"].notna()]
        if len(hit):
            row = hit.iloc[0]
            base, target = float(row["as_is"]), float(row["target"])
            if "sd" in hit.columns and pd.notna(row.get("sd")) and row["n"] > 1:
                sd = float(row["sd"])
                half = 1.959964 * sd / math.sqrt(float(row["n"]))
                ci = (base - half, base + half)
    elif base is not None and rec.evidence:  # base is m["baseline"] here
        e = rec.evidence[0]
        if e.get("ci_low") is not None and e.get("ci_high") is not None and float(e["value"]) == float(base):
            ci = (float(e["ci_low"]), float(e["ci_high"]))
    out: dict[str, Any] = {"metric": metric, "unit": unit, "baseline": base, "target": target, "estimate": target,
                           "reset": False, "n_needed": None, "frequency": m.get("frequency"), "where": m.get("where")}
    if base is None or target is None:
        return out
    lower = target < base
    chk = check_target(base, target, ci, lower_is_better=lower, step=0.01 if metric == "touchpoint_rating" else 0.1)
    out |= {"target": chk["target"], "reset": chk["reset"], "ci": chk["ci"]}
    tgt = chk["target"]
    if metric in _SHARE_METRICS or (unit == "%" and metric not in {"ticket_trend", "cx_kpi_weight"}):
        scale = 100.0 if unit == "%" or abs(base) > 1 else 1.0
        out["n_needed"] = n_per_wave_proportion(base / scale, tgt / scale) if 0 <= tgt / scale <= 1 else None
    elif metric in _NPS_METRICS and econ is not None and econ.promoters is not None:
        out["n_needed"] = n_per_wave_nps(base, tgt, econ.promoters, econ.detractors)
    elif sd is not None:
        out["n_needed"] = n_per_wave_mean(tgt - base, sd)
    return out


def check_targets(tg: Any, econ: Any) -> dict[str, dict[str, Any]]:
    """The plan's headline targets (NPS, CSAT, churn) checked against today's interval, with n per wave."""
    checks: dict[str, dict[str, Any]] = {}
    if tg.nps_as_is is not None and tg.nps_to_be is not None:
        c = check_target(tg.nps_as_is, tg.nps_to_be, tg.nps_ci)
        if econ.promoters is not None:
            c["n_needed"] = n_per_wave_nps(tg.nps_as_is, c["target"], econ.promoters, econ.detractors)
        checks["nps"] = c
    if tg.csat_as_is is not None and tg.csat_to_be is not None:
        c = check_target(tg.csat_as_is, tg.csat_to_be, tg.csat_ci)
        c["n_needed"] = n_per_wave_proportion(tg.csat_as_is / 100, min(c["target"], 100.0) / 100)
        checks["csat"] = c
    if getattr(tg, "outcome_as_is", None) is not None and tg.outcome_to_be is not None:
        # the good share of a non-NPS outcome (issue 13): a share, two-proportion power as CSAT
        c = check_target(tg.outcome_as_is, tg.outcome_to_be, tg.outcome_ci)
        c["n_needed"] = n_per_wave_proportion(tg.outcome_as_is / 100, min(c["target"], 100.0) / 100)
        checks["outcome"] = c
    if tg.churn_as_is is not None and tg.churn_to_be is not None:
        ci = (100 * tg.churn_ci[0], 100 * tg.churn_ci[1]) if tg.churn_ci is not None else None
        c = check_target(100 * tg.churn_as_is, 100 * tg.churn_to_be, ci, lower_is_better=True)
        c["n_needed"] = n_per_wave_proportion(tg.churn_as_is, max(c["target"], 0.0) / 100)
        checks["churn"] = c
    return checks


def finalise(recs: Sequence[Any], findings: Sequence[Any], book: Any = None, *, config: Any = None,
             start: _dt.date | None = None, journey: pd.DataFrame | None = None) -> tuple[Any, BusinessCase]:
    """Cost, value, ROI, payback, scenarios, KPI with target and due date for every recommendation;
    the plan's targets (on the plan's changes only, checked against today's intervals) and its
    business case.

    Sets on each recommendation ``on_plan``, ``cost`` / ``cost_source``, ``kpi``, ``target``, ``due``
    (ISO date: ``start`` + the end of its horizon), ``roi``, ``payback_months`` and ``scenarios``
    (``low`` / ``expected`` / ``high``: value, roi, payback_months). Returns ``(targets, case)``.
    """
    from . import recommend_engine as rc

    book = book or rc.builtin_rules()
    econ = rc.economics(findings, book.assumptions)
    start = start or getattr(getattr(config, "economics", None), "plan_start", None) or _dt.date.today()
    costs, default_source = costs_per_effort(config, _active_revenue(findings))
    on_plan = plan(recs)
    on_ids = {id(r) for r in on_plan}
    tg = rc.targets(on_plan, findings, book)
    tg.checks = check_targets(tg, econ)
    period = econ.revenue_months or 12.0
    to12 = 12.0 / period
    lo_f = hi_f = None
    if econ.uplift and econ.uplift_ci is not None:
        lo_f, hi_f = econ.uplift_ci[0] / econ.uplift, econ.uplift_ci[1] / econ.uplift
    for r in recs:
        r.on_plan = id(r) in on_ids
        ov = book.overrides.get(r.rule)
        if ov is not None and getattr(ov, "cost", None) is not None:
            r.cost, r.cost_source = float(ov.cost), "override"
        else:
            r.cost, r.cost_source = costs.get(r.effort), default_source
        r.due = add_months(start, _HORIZON_END[r.horizon]).isoformat()
        r.kpi = _kpi(r, journey, econ) | {"due": r.due}
        plan_kpi = {"nps": "nps", "churn_rate": "churn", "csat": "csat", "outcome": "outcome"}.get(str(r.kpi.get("metric")))
        if r.kpi.get("target") is None and plan_kpi in tg.checks:  # the plan's own headline target
            c = tg.checks[plan_kpi]
            r.kpi |= {"baseline": c["as_is"], "target": c["target"], "estimate": c["estimate"], "reset": c["reset"],
                      "ci": c["ci"], "n_needed": c.get("n_needed"), "unit": "pts" if plan_kpi == "nps" else "%"}
        r.target = r.kpi.get("target")
        value = r.revenue * to12 if r.revenue is not None else None
        r.scenarios = {}
        for name, f in (("low", lo_f), ("expected", 1.0), ("high", hi_f)):
            v = value * f if value is not None and f is not None else None
            r.scenarios[name] = {"value": v, "roi": _roi(v, r.cost), "payback_months": _payback(v, r.cost)}
        r.roi, r.payback_months = r.scenarios["expected"]["roi"], r.scenarios["expected"]["payback_months"]
    case = _case(on_plan, [r for r in recs if not r.on_plan], tg, econ, book, to12, lo_f, hi_f,
                 default_source)
    return tg, case


def _case(on_plan: Sequence[Any], off: Sequence[Any], tg: Any, econ: Any, book: Any, to12: float,
          lo_f: float | None, hi_f: float | None, cost_source: str) -> BusinessCase:
    d = tg.detractors
    raw, capped = tg.detractor_move_uncapped, tg.detractor_move
    unit = 12.0 * econ.uplift * econ.gap_share / (econ.revenue_months or 12.0) if econ.uplift is not None else None
    rows = []
    for r in on_plan:
        v = r.scenarios["expected"]["value"]
        rows.append({"rank": r.rank, "rec": r.id, "title_id": r.rule, "impact_nps": round(r.impact_nps, 1),
                     "measured": r.impact_model != "none", "value": None if v is None else round(v),
                     "value_low": None if r.scenarios["low"]["value"] is None else round(r.scenarios["low"]["value"]),
                     "value_high": None if r.scenarios["high"]["value"] is None else round(r.scenarios["high"]["value"]),
                     "cost": None if r.cost is None else round(r.cost), "roi": r.roi, "payback_months": r.payback_months,
                     "owner": r.owner, "due": r.due})
    # NPS: Σ effects − overlap − cap = plan (in 0.1 points as printed)
    sum_nps = round(sum(x["impact_nps"] for x in rows), 1)
    total_nps = round(100 * d * capped, 1)
    cap_nps = round(100 * d * (raw - capped), 1)
    overlap_nps = round(sum_nps - cap_nps - total_nps, 1)
    sum_v = overlap_v = cap_v = total_v = tl = th = None
    if unit is not None:
        sum_v = float(sum(x["value"] or 0 for x in rows))
        total_v = float(round(unit * capped))
        cap_v = float(round(unit * (raw - capped)))
        overlap_v = sum_v - cap_v - total_v
        tl = float(round(unit * capped * lo_f)) if lo_f is not None else None
        th = float(round(unit * capped * hi_f)) if hi_f is not None else None
    total_cost = float(sum(x["cost"] or 0 for x in rows))
    missing_cost = any(x["cost"] is None for x in rows)
    return BusinessCase(
        currency=econ.currency, rows=rows, sum_nps=sum_nps, overlap_nps=overlap_nps, cap_nps=cap_nps,
        total_nps=total_nps, sum_value=sum_v, overlap_value=overlap_v, cap_value=cap_v, total_value=total_v,
        total_value_low=tl, total_value_high=th, total_cost=total_cost,
        cost_source="missing" if missing_cost else cost_source,
        roi=_roi(total_v, total_cost), roi_low=_roi(tl, total_cost), roi_high=_roi(th, total_cost),
        payback_months=_payback(total_v, total_cost), cap=book.a("max_detractor_move"), basis=getattr(tg, "basis", "nps"),
        reconsidered=[{"rank": r.rank, "rule": r.rule, "impact_nps": r.impact_nps, "effort": r.effort} for r in off],
    )


# --- display ---------------------------------------------------------------------------------------


def _money(x: float | None, lang: str, currency: str) -> str:
    if x is None:
        return "–"
    s = fmt_num(x, lang, 0)
    return f"{s}\u00a0{currency}" if currency else s


def _months(x: float | None, lang: str) -> str:
    return "–" if x is None else f"{fmt_num(x, lang, 1)}\u00a0{t('bc.unit.months', lang)}"


def _roi_text(x: float | None, lang: str) -> str:
    return "–" if x is None else fmt_pct(x, lang, 0)


def impact_label(nps: float, measured: bool, lang: str) -> str:
    """ΔNPS as printed; an enabler (no direct effect estimated) says so instead of "+0.0"."""
    if not measured:
        return t("bc.enabler", lang)
    return fmt_num(nps, lang, 1, sign=True)


def business_case_table(case: BusinessCase, recs: Sequence[Any], lang: str) -> pd.DataFrame:
    """The business case as printed: one row per change on the plan, then Σ, overlap, cap and the plan.

    Columns: ``rec, title, impact, value, range, cost, roi, payback, owner, due`` (text), plus the
    numbers ``impact_num, value_num, cost_num`` so that a test (and tables.xlsx) can add them up.
    """
    by_rank = {r.rank: r for r in recs}
    cur = case.currency
    out = []
    for x in case.rows:
        r = by_rank[x["rank"]]
        rng = "–" if x["value_low"] is None else f"{_money(x['value_low'], lang, '')}–{_money(x['value_high'], lang, cur)}"
        out.append({"rec": r.label(lang), "title": r.title(lang), "impact": impact_label(x["impact_nps"], x["measured"], lang),
                    "value": _money(x["value"], lang, cur), "range": rng, "cost": _money(x["cost"], lang, cur),
                    "roi": _roi_text(x["roi"], lang), "payback": _months(x["payback_months"], lang),
                    "owner": x["owner"] or "–", "due": fmt_date(x["due"], lang) if x["due"] else "–",
                    "impact_num": x["impact_nps"], "value_num": x["value"], "cost_num": x["cost"], "kind": "change"})

    def line(kind: str, label: str, nps: float, value: float | None, cost: float | None = None, **extra: str) -> None:
        out.append({"rec": "", "title": label, "impact": fmt_num(nps, lang, 1, sign=True),
                    "value": _money(value, lang, cur), "range": extra.get("range", ""),
                    "cost": _money(cost, lang, cur) if cost is not None else "", "roi": extra.get("roi", ""),
                    "payback": extra.get("payback", ""), "owner": "", "due": "",
                    "impact_num": nps, "value_num": value, "cost_num": cost, "kind": kind})

    outcome = case.basis == "outcome"
    line("sum", t("bc.sum", lang), case.sum_nps, case.sum_value, case.total_cost)
    line("overlap", t("bc.overlap_outcome" if outcome else "bc.overlap", lang), -case.overlap_nps,
         -case.overlap_value if case.overlap_value is not None else None)
    if case.cap_nps > 0 or (case.cap_value or 0) > 0:
        line("cap", t("bc.cap_outcome" if outcome else "bc.cap", lang, cap=fmt_pct(case.cap, lang)), -case.cap_nps,
             -case.cap_value if case.cap_value is not None else None)
    rng = ("" if case.total_value_low is None
           else f"{_money(case.total_value_low, lang, '')}–{_money(case.total_value_high, lang, cur)}")
    line("total", t("bc.total", lang), case.total_nps, case.total_value, case.total_cost, range=rng,
         roi=_roi_text(case.roi, lang), payback=_months(case.payback_months, lang))
    return pd.DataFrame(out, columns=["rec", "title", "impact", "value", "range", "cost", "roi", "payback", "owner",
                                      "due", "impact_num", "value_num", "cost_num", "kind"])


def reconsidered_table(recs: Sequence[Any], lang: str) -> pd.DataFrame:
    """The changes left off the plan ("reconsider": low impact for the effort), one line each."""
    rows = [{"rec": r.label(lang), "title": r.title(lang),
             "impact": impact_label(r.impact_nps, r.impact_model != "none", lang),
             "effort": t(f"tobe.effort.{r.effort}", lang)} for r in recs if not r.on_plan]
    return pd.DataFrame(rows, columns=["rec", "title", "impact", "effort"])


def case_notes(case: BusinessCase, lang: str) -> list[str]:
    """What the business case rests on, one sentence each (plain text; the caller escapes)."""
    notes = [t("bc.note.overlap_outcome" if case.basis == "outcome" else "bc.note.overlap", lang)]
    if case.cost_source == "assumption":
        notes.append(t("bc.note.cost_assumed", lang))
    elif case.cost_source == "missing":
        notes.append(t("bc.note.cost_missing", lang))
    else:
        notes.append(t("bc.note.cost_config", lang))
    notes.append(t("bc.note.scenarios", lang))
    if case.total_value is not None and case.total_value_low is not None:
        cur = case.currency
        notes.append(t("bc.note.plan_scenarios", lang,
                       low=_money(case.total_value_low, lang, cur), expected=_money(case.total_value, lang, cur),
                       high=_money(case.total_value_high, lang, cur), roi_low=_roi_text(case.roi_low, lang),
                       roi=_roi_text(case.roi, lang), roi_high=_roi_text(case.roi_high, lang),
                       cost=_money(case.total_cost, lang, cur)))
    return notes


def targets_check_notes(tg: Any, lang: str) -> list[str]:
    """One sentence per headline target: the sample size per wave that detects it; a re-set target says why."""
    names = {"nps": t("tobe.target.nps", lang), "csat": t("tobe.target.csat", lang), "churn": t("tobe.target.churn", lang)}
    if "outcome" in (tg.checks or {}):
        names["outcome"] = tg.outcome_name(lang)
    out = []
    for key, c in (tg.checks or {}).items():
        pct = key != "nps"
        fmt = (lambda v: fmt_pct(v / 100, lang, 1)) if pct else (lambda v: fmt_num(v, lang, 1, sign=True))
        n = fmt_num(c["n_needed"], lang, 0) if c.get("n_needed") else "–"
        if c["reset"]:  # "*" marks the re-set target in the targets table
            out.append("* " + t("bc.note.target_reset", lang, metric=names[key], estimate=fmt(c["estimate"]),
                         lo=fmt(min(c["ci"])), hi=fmt(max(c["ci"])), target=fmt(c["target"]), n=n))
        else:
            out.append(t("bc.note.target_n", lang, metric=names[key], target=fmt(c["target"]), n=n))
    return out
