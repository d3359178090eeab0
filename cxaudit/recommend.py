"""TO-BE presentation: the recommendations, targets, roadmap and plan as tables, notes, HTML blocks and
charts in a report language.

The analysis — rules, impact models, economics, targets, the TO-BE journey map, ``tobe.json`` — is in
:mod:`cxaudit.recommend_engine` and re-exported here, so ``cxaudit.recommend`` stays the entry point of
the TO-BE section (notebook 07, the report, the deck). This module only formats: numbers in the
locale (:mod:`cxaudit.i18n`), text escaped for HTML (:func:`cxaudit.show.escape`), figures in the house
style (:mod:`cxaudit.plots`) with takeaway titles.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from . import show
from .findings import Finding, format_value
from .i18n import fmt_ci, fmt_date, fmt_num, fmt_pct, t
from .plots import PALETTE
from .recommend_engine import (  # the analysis, re-exported: cxaudit.recommend stays the entry point
    BASE_FIELDS,
    DEFAULT_ASSUMPTIONS,
    EFFORT_COST,
    EFFORTS,
    FILTERS,
    FREQUENCIES,
    HORIZON_MONTHS,
    HORIZONS,
    QUADRANTS,
    SINGULAR,
    TAG_KINDS,
    TOBE_FILE,
    Cond,
    Economics,
    Impact,
    Measure,
    Override,
    Recommendation,
    Rule,
    RuleBook,
    Target,
    Targets,
    Text,
    Trigger,
    builtin_rules,
    economics,
    journey_map,
    labels_from_audit,
    legacy_to_jinja,
    load_commentary,
    load_rules,
    money_text,
    placeholders,
    read_tobe,
    recommend,
    render_template,
    render_text,
    rulebook,
    save_tobe,
    tag_label,
    targets,
    template_fields,
)
from .show import HTML, Col
from .show import escape as _esc  # one HTML-escaping helper for every client-facing block

__all__ = [
    "EFFORTS",
    "HORIZONS",
    "DEFAULT_ASSUMPTIONS",
    "Rule",
    "RuleBook",
    "Recommendation",
    "Economics",
    "Targets",
    "load_rules",
    "builtin_rules",
    "rulebook",
    "recommend",
    "economics",
    "targets",
    "journey_map",
    "render_text",
    "save_tobe",
    "read_tobe",
    "load_commentary",
    "render_template",
    "legacy_to_jinja",
    "template_fields",
    "money_text",
    "tag_label",
    "labels_from_audit",
    "TOBE_FILE",
    "placeholders",
    "FILTERS",
    "BASE_FIELDS",
    "SINGULAR",
    "TAG_KINDS",
    "QUADRANTS",
    "FREQUENCIES",
    "EFFORT_COST",
    "HORIZON_MONTHS",
    "Text",
    "Trigger",
    "Impact",
    "Measure",
    "Target",
    "Override",
    "Cond",
    "churn_label",
    "targets_table",
    "targets_notes",
    "targets_summary",
    "roadmap",
    "measurement_plan",
    "impact_text",
    "revenue_text",
    "recommendations_html",
    "matrix_takeaway",
    "impact_effort_chart",
    "targets_chart",
    "journey_map_chart",
    "roadmap_takeaway",
    "roadmap_chart",
    "recommendations_table",
    "journey_table",
    "TobePlan",
    "plan",
    "impact_header",
    "blocks_intro",
    "blocks_recommendations",
    "blocks_matrix",
    "blocks_targets",
    "blocks_journey",
    "blocks_roadmap",
    "blocks_findings",
    "findings_table",
    "save_plan",
    "plan_frame",
]


def churn_label(tg: Targets, lang: str) -> str:
    """The churn metric's name with its horizon ("Churn rate per 12 months", "... over the 18-month data period")."""
    if tg.churn_horizon == "12m":
        return t("tobe.target.churn_12m", lang)
    if tg.churn_horizon == "window" and tg.churn_months is not None:
        return t("tobe.target.churn_window", lang, months=fmt_num(tg.churn_months, lang, 0))
    return t("tobe.target.churn", lang)


def _horizon_text(tg: Targets, lang: str) -> str:
    if tg.churn_horizon == "12m":
        return t("tobe.horizon_12m", lang)
    if tg.churn_months is not None:
        return t("tobe.horizon_window", lang, months=fmt_num(tg.churn_months, lang, 0))
    return t("tobe.horizon_unknown", lang)


def _revenue_label(tg: Targets, lang: str) -> str:
    if tg.revenue_months is not None:
        return t("tobe.target.revenue_months", lang, months=fmt_num(tg.revenue_months, lang, 0))
    return t("tobe.target.revenue", lang)


def _ci_text(ci: tuple[float, float] | None, lang: str, digits: int = 1, scale: float = 1.0) -> str:
    return fmt_ci(ci[0], ci[1], lang, digits, scale) if ci is not None else "–"


def _n_text(n: int | None, lang: str) -> str:
    return fmt_num(n, lang, 0) if n is not None else "–"


def targets_table(tg: Targets, lang: str) -> pd.DataFrame:
    """One row per target: metric, AS-IS with its 95% interval and base (n) from the finding, TO-BE, change.

    Churn is labelled with its horizon (:func:`churn_label`); the revenue row is revenue at risk:
    AS-IS with its delta-method interval and the active customers it is summed over, TO-BE = AS-IS
    minus the revenue the plan keeps. ``target`` is the measurable target of NPS, CSAT and churn
    (:func:`cxaudit.business_case.check_targets`: re-set outside today's interval, marked "*") and
    ``n_needed`` the answers per measurement wave needed to detect it ("–" before the check).
    """
    rows: list[dict[str, Any]] = []
    pp = " " + t("tobe.unit.pp", lang)
    if tg.nps_as_is is not None and tg.nps_to_be is not None:
        rows.append({"metric": t("tobe.target.nps", lang), "as_is": fmt_num(tg.nps_as_is, lang, 1, sign=True),
                     "ci": _ci_text(tg.nps_ci, lang), "n": _n_text(tg.nps_n, lang),
                     "to_be": fmt_num(tg.nps_to_be, lang, 1, sign=True),
                     "change": fmt_num(tg.nps_to_be - tg.nps_as_is, lang, 1, sign=True)})
    if tg.outcome_as_is is not None and tg.outcome_to_be is not None:
        rows.append({"metric": tg.outcome_name(lang), "as_is": fmt_pct(tg.outcome_as_is / 100, lang, 1),
                     "ci": _ci_text(tg.outcome_ci, lang), "n": _n_text(tg.outcome_n, lang),
                     "to_be": fmt_pct(tg.outcome_to_be / 100, lang, 1),
                     "change": fmt_num(tg.outcome_to_be - tg.outcome_as_is, lang, 1, sign=True) + pp})
    if tg.csat_as_is is not None and tg.csat_to_be is not None:
        rows.append({"metric": t("tobe.target.csat", lang), "as_is": fmt_pct(tg.csat_as_is / 100, lang, 1),
                     "ci": _ci_text(tg.csat_ci, lang), "n": _n_text(tg.csat_n, lang),
                     "to_be": fmt_pct(tg.csat_to_be / 100, lang, 1),
                     "change": fmt_num(tg.csat_to_be - tg.csat_as_is, lang, 1, sign=True) + pp})
    if tg.churn_as_is is not None:
        to_be = tg.churn_to_be
        rows.append({"metric": churn_label(tg, lang), "as_is": fmt_pct(tg.churn_as_is, lang, 1),
                     "ci": _ci_text(tg.churn_ci, lang, 1, 100.0), "n": _n_text(tg.churn_n, lang),
                     "to_be": fmt_pct(to_be, lang, 1) if to_be is not None else "–",
                     "change": fmt_num(100 * (to_be - tg.churn_as_is), lang, 1, sign=True) + pp
                     if to_be is not None else "–"})
    if tg.revenue_at_risk is not None or tg.revenue_kept is not None:
        risk, kept = tg.revenue_at_risk, tg.revenue_kept
        rows.append({"metric": _revenue_label(tg, lang),
                     "as_is": money_text(risk, lang, tg.currency) if risk is not None else "–",
                     "ci": _ci_text(tg.revenue_at_risk_ci, lang, 0), "n": _n_text(tg.revenue_n, lang),
                     "to_be": money_text(risk - kept, lang, tg.currency) if risk is not None and kept is not None else "–",
                     "change": money_text(-kept, lang, tg.currency) if kept is not None else "–"})
    # the measurable target (re-set outside today's interval, marked "*") and the answers per wave it needs
    keys = {t("tobe.target.nps", lang): "nps", t("tobe.target.csat", lang): "csat", churn_label(tg, lang): "churn"}
    if tg.outcome_as_is is not None:
        keys[tg.outcome_name(lang)] = "outcome"
    for row in rows:
        key = keys.get(row["metric"])
        c = (tg.checks or {}).get(key) if key else None
        row["target"], row["n_needed"] = "–", "–"
        if c:
            value = fmt_num(c["target"], lang, 1, sign=True) if key == "nps" else fmt_pct(c["target"] / 100, lang, 1)
            row["target"] = value + (" *" if c.get("reset") else "")
            row["n_needed"] = fmt_num(c["n_needed"], lang, 0) if c.get("n_needed") else "–"
    return pd.DataFrame(rows, columns=["metric", "as_is", "ci", "n", "to_be", "change", "target", "n_needed"])


def _rate_text(tg: Targets, group: str, lang: str) -> str:
    """"10.2% [8.6; 11.9] (n = 990)": a group's churn with its interval and base where known."""
    assert tg.rates is not None
    out = fmt_pct(tg.rates[group], lang, 1)
    ci = (tg.rates_ci or {}).get(group)
    if ci is not None:
        out += " " + fmt_ci(ci[0], ci[1], lang, 1, 100.0)
    n = (tg.rates_n or {}).get(group)
    if n is not None:
        out += f" (n\u00a0=\u00a0{fmt_num(n, lang, 0)})"
    return out


def targets_notes(tg: Targets, lang: str) -> list[str]:
    """The assumptions and sources behind the targets, one sentence each, in the report language.

    Says which horizon churn is on, which churn rates are measured (with interval and base) and
    which are assumptions, which detractor share the churn target uses, and how revenue is kept.
    """
    if tg.basis == "outcome":
        notes = [t("tobe.targets_note.move_outcome", lang, m=fmt_pct(tg.detractor_move, lang),
                   d=fmt_pct(tg.detractors, lang), outcome=tg.outcome_name(lang, "short"))]
    else:
        notes = [t("tobe.targets_note.move", lang, m=fmt_pct(tg.detractor_move, lang), d=fmt_pct(tg.detractors, lang))]
    if tg.detractor_move_uncapped > tg.detractor_move + 1e-12:
        notes.append(t("tobe.targets_note.cap", lang, raw=fmt_pct(tg.detractor_move_uncapped, lang),
                       cap=fmt_pct(tg.detractor_move, lang)))
    if tg.csat_as_is is not None:
        notes.append(t("tobe.targets_note.csat", lang))
    if tg.churn_as_is is not None:
        if tg.churn_horizon == "12m":
            note = t("tobe.targets_note.churn_12m", lang, c=fmt_pct(tg.churn_as_is, lang, 1),
                     ci=_ci_text(tg.churn_ci, lang, 1, 100.0), n=_n_text(tg.churn_n, lang))
            if tg.churn_window is not None and tg.churn_window_months is not None:
                note += " " + t("tobe.targets_note.churn_window_rate", lang, cw=fmt_pct(tg.churn_window, lang, 1),
                                w=fmt_num(tg.churn_window_months, lang, 0))
        else:
            note = t("tobe.targets_note.churn_window", lang, horizon=_horizon_text(tg, lang))
        notes.append(note)
    if tg.churn_as_is is not None and tg.rates is not None:
        key = {"evidence": "rates_evidence", "evidence_passive_assumed": "rates_passive_assumed"}.get(
            tg.rates_source or "", "rates_derived")
        notes.append(t(f"tobe.targets_note.{key}", lang, horizon=_horizon_text(tg, lang),
                       p=_rate_text(tg, "promoter", lang), pa=_rate_text(tg, "passive", lang),
                       d=_rate_text(tg, "detractor", lang)))
        if tg.churn_to_be is not None and tg.detractors_customers is not None:
            rd, rpa = tg.rates["detractor"], tg.rates["passive"]
            drop = 100 * (tg.churn_as_is - tg.churn_to_be)
            common = {"m": fmt_pct(tg.detractor_move, lang), "rd": fmt_pct(rd, lang, 1), "rpa": fmt_pct(rpa, lang, 1),
                      "drop": fmt_num(drop, lang, 2)}
            if tg.detractors_customers_source == "customers":
                k, n = tg.detractors_customers_count or (None, None)
                notes.append(t("tobe.targets_note.churn_drop", lang, dc=fmt_pct(tg.detractors_customers, lang, 1),
                               k=_n_text(k, lang), n=_n_text(n, lang), **common))
            else:
                notes.append(t("tobe.targets_note.churn_drop_respondents", lang,
                               d=fmt_pct(tg.detractors_customers, lang, 1), **common))
    if tg.revenue_kept is not None and tg.uplift is not None:
        g = fmt_pct(tg.gap_share, lang)
        if tg.gap_share_source != "evidence":
            g += " (" + t("tobe.assumption", lang) + ")"
        horizon = (" " + t("tobe.horizon_months", lang, months=fmt_num(tg.revenue_months, lang, 0))
                   if tg.revenue_months is not None else "")
        if tg.basis == "outcome":
            note = t("tobe.targets_note.revenue_outcome", lang, uplift=money_text(tg.uplift, lang, tg.currency),
                     m=fmt_pct(tg.detractor_move, lang), kept=money_text(tg.revenue_kept, lang, tg.currency),
                     horizon=horizon, outcome=tg.outcome_name(lang, "short"))
        else:
            note = t("tobe.targets_note.revenue", lang, uplift=money_text(tg.uplift, lang, tg.currency),
                     m=fmt_pct(tg.detractor_move, lang), g=g, kept=money_text(tg.revenue_kept, lang, tg.currency),
                     horizon=horizon)
        if tg.revenue_kept_ci is not None:
            note += " " + t("tobe.targets_note.revenue_ci", lang, ci=_ci_text(tg.revenue_kept_ci, lang, 0))
        notes.append(note)
    elif tg.basis == "outcome":  # said, not printed as 0
        notes.append(t("tobe.targets_note.revenue_na_outcome", lang, outcome=tg.outcome_name(lang, "short")))
    return notes


def targets_summary(tg: Targets, lang: str) -> list[str]:
    """Parts of the executive summary's "TO-BE in 12 months" line (plain text; the caller escapes).

    Each metric: AS-IS with its 95% interval and base, an arrow, the target — e.g. "NPS +16.9
    (95% interval [14.7; 19.1]; n = 4,805) → +25.0" — and the revenue kept with its interval.
    """
    def base(ci: str, n: int | None) -> str:
        inside = ([f"{t('tobe.ci95', lang)} {ci}"] if ci != "–" else []) + (
            [f"n\u00a0=\u00a0{fmt_num(n, lang, 0)}"] if n is not None else [])
        return f" ({'; '.join(inside)})" if inside else ""

    parts = []
    if tg.nps_as_is is not None and tg.nps_to_be is not None:
        parts.append(f"{t('tobe.target.nps', lang)} {fmt_num(tg.nps_as_is, lang, 1, sign=True)}"
                     f"{base(_ci_text(tg.nps_ci, lang), tg.nps_n)} → {fmt_num(tg.nps_to_be, lang, 1, sign=True)}")
    if tg.outcome_as_is is not None and tg.outcome_to_be is not None:
        parts.append(f"{tg.outcome_name(lang)} {fmt_pct(tg.outcome_as_is / 100, lang, 1)}"
                     f"{base(_ci_text(tg.outcome_ci, lang), tg.outcome_n)} → {fmt_pct(tg.outcome_to_be / 100, lang, 1)}")
    if tg.csat_as_is is not None and tg.csat_to_be is not None:
        parts.append(f"{t('tobe.target.csat', lang)} {fmt_pct(tg.csat_as_is / 100, lang, 1)}"
                     f"{base(_ci_text(tg.csat_ci, lang), tg.csat_n)} → {fmt_pct(tg.csat_to_be / 100, lang, 1)}")
    if tg.churn_as_is is not None and tg.churn_to_be is not None:
        parts.append(f"{churn_label(tg, lang)} {fmt_pct(tg.churn_as_is, lang, 1)}"
                     f"{base(_ci_text(tg.churn_ci, lang, 1, 100.0), tg.churn_n)} → {fmt_pct(tg.churn_to_be, lang, 1)}")
    if tg.revenue_kept is not None:
        kept = money_text(tg.revenue_kept, lang, tg.currency)
        if tg.revenue_months is not None:
            kept += " " + t("tobe.horizon_months", lang, months=fmt_num(tg.revenue_months, lang, 0))
        parts.append(t("tobe.summary_revenue_kept", lang, amount=kept)
                     + base(_ci_text(tg.revenue_kept_ci, lang, 0), None))
    return parts


def roadmap(recs: Sequence[Recommendation], lang: str) -> pd.DataFrame:
    """Phased roadmap: ``phase, start, end, rec, title, effort, owner``, by phase then rank."""
    rows = [{"phase": r.horizon, "phase_label": t(f"tobe.horizon.{r.horizon}", lang),
             "start": HORIZON_MONTHS[r.horizon][0], "end": HORIZON_MONTHS[r.horizon][1], "rank": r.rank,
             "rec": r.label(lang), "title": r.title(lang), "effort": t(f"tobe.effort.{r.effort}", lang),
             "owner": r.owner or "–", "impact": r.impact_nps} for r in recs]
    df = pd.DataFrame(rows, columns=["phase", "phase_label", "start", "end", "rank", "rec", "title", "effort", "owner",
                                     "impact"])
    return df.sort_values(["start", "rank"]).reset_index(drop=True)


def _fmt_measure_value(x: float | None, unit: str, lang: str) -> str:
    if x is None:
        return "–"
    return format_value(Finding(id="x", section="x", title="", metric="", value=float(x), n=0, unit=unit), lang)[0]


def measurement_plan(recs: Sequence[Recommendation], lang: str, journey: pd.DataFrame | None = None) -> pd.DataFrame:
    """Implementation and measurement plan: which metric, where, how often, baseline, target, owner.

    Touchpoint ratings take their AS-IS and target from the journey map (``journey``) when given.
    After :func:`cxaudit.business_case.finalise` the KPI's target (re-set when it lay inside today's
    interval), its due date and the answers per measurement wave needed to detect it are shown too
    (``due``, ``n_needed``).
    """
    rows = []
    for r in recs:
        m = dict(r.measure)
        kpi = r.kpi or {}
        extra = {"due": fmt_date(r.due, lang) if r.due else "–",
                 "n_needed": fmt_num(kpi["n_needed"], lang, 0) if kpi.get("n_needed") else "–"}
        if kpi.get("target") is not None and kpi.get("baseline") is not None:
            rating, unit = m["metric"] == "touchpoint_rating", str(kpi.get("unit", ""))

            def fmt(x: float, rating: bool = rating, unit: str = unit) -> str:
                return fmt_num(float(x), lang, 2) if rating else _fmt_measure_value(x, unit, lang)

            target = fmt(kpi["target"]) + (" *" if kpi.get("reset") else "")
            rows.append({"rec": r.label(lang), "title": r.title(lang), "metric": t(f"tobe.metric.{m['metric']}", lang),
                         "where": m.get("where") or t("tobe.where_all", lang),
                         "frequency": t(f"tobe.freq.{m['frequency']}", lang), "baseline": fmt(kpi["baseline"]),
                         "target": target, "owner": r.owner or "–", "phase": t(f"tobe.horizon.{r.horizon}", lang),
                         **extra})
            continue
        if m["metric"] == "touchpoint_rating" and journey is not None and len(journey):
            tps = r.tags.get("touchpoints", [])
            hit = journey[journey["touchpoint"].isin(tps) & journey["as_is"].notna()]
            if len(hit):
                row = hit.iloc[0]
                rows.append({"rec": r.label(lang), "title": r.title(lang),
                             "metric": t(f"tobe.metric.{m['metric']}", lang), "where": str(row["label"]),
                             "frequency": t(f"tobe.freq.{m['frequency']}", lang),
                             "baseline": fmt_num(float(row["as_is"]), lang, 2),
                             "target": fmt_num(float(row["target"]), lang, 2), "owner": r.owner or "–",
                             "phase": t(f"tobe.horizon.{r.horizon}", lang), **extra})
                continue
        rows.append({"rec": r.label(lang), "title": r.title(lang), "metric": t(f"tobe.metric.{m['metric']}", lang),
                     "where": m.get("where") or t("tobe.where_all", lang),
                     "frequency": t(f"tobe.freq.{m['frequency']}", lang),
                     "baseline": _fmt_measure_value(m.get("baseline"), m.get("unit", ""), lang),
                     "target": _fmt_measure_value(m.get("target"), m.get("unit", ""), lang),
                     "owner": r.owner or "–", "phase": t(f"tobe.horizon.{r.horizon}", lang), **extra})
    return pd.DataFrame(rows, columns=["rec", "title", "metric", "where", "frequency", "baseline", "target", "owner",
                                       "phase", "due", "n_needed"])


# --- HTML blocks (escaped) -------------------------------------------------------------------------------


def impact_text(rec: Recommendation, lang: str) -> str:
    """"+2.3 NPS pts", or in the run's outcome "+3.1 pts Satisfied passengers"; an enabler (no direct
    effect estimated) is named so, never "+0.0"."""
    if rec.impact_model == "none":
        return t("bc.enabler", lang)
    unit = (rec.impact_unit or {}).get(lang) or t("tobe.unit.nps_pts", lang)
    return fmt_num(rec.impact_nps, lang, 1, sign=True) + " " + unit


def revenue_text(rec: Recommendation, lang: str) -> str:
    """"+12,300 EUR"; "–" without a revenue link on NPS; on a non-NPS outcome with no money linked to
    it, "not available" (never "0")."""
    if rec.revenue is not None:
        return "+" + money_text(rec.revenue, lang, rec.currency)
    return t("tobe.revenue_na", lang) if rec.impact_unit and rec.impact_model != "none" else "–"


def recommendations_html(recs: Sequence[Recommendation], lang: str) -> str:
    """The recommendation cards: title, action, the findings with their numbers, impact and assumption,
    revenue, effort, horizon, owner, quadrant. All text escaped."""
    if not recs:
        return f'<p class="cx-note">{_esc(t("tobe.no_recommendations", lang))}</p>'
    parts = ['<div class="cx-recs">']
    for r in recs:
        ev_items = "".join(
            f'<li>{_esc(e["title"])} <span class="cx-rec-num">({_esc(e["value_text"])}; '
            f'n\u00a0=\u00a0{_esc(fmt_num(e["n"], lang, 0))}'
            + (f"; {_esc(t('tobe.ci95', lang))} "
               f"{_esc(fmt_ci(e['ci_low'], e['ci_high'], lang, 1 if abs(e['ci_high']) < 1000 else 0))}"
               if e.get("ci_low") is not None and e.get("ci_high") is not None else "")
            + ")</span></li>" for e in r.evidence)
        facts = [
            (t("tobe.col_impact", lang), impact_text(r, lang)),
            (t("tobe.col_revenue", lang), revenue_text(r, lang)),
            (t("tobe.col_effort", lang), t(f"tobe.effort.{r.effort}", lang)),
            (t("tobe.col_horizon", lang), t(f"tobe.horizon.{r.horizon}", lang)),
            (t("tobe.col_owner", lang), r.owner or "–"),
            (t("tobe.col_quadrant", lang), t(f"tobe.quadrant.{r.quadrant}", lang)),
        ]
        if r.cost is not None:  # after cxaudit.business_case.finalise: cost and due date
            facts.insert(2, (t("bc.col_cost", lang), money_text(r.cost, lang, r.currency)))
        if r.due:
            facts.append((t("bc.col_due", lang), fmt_date(r.due, lang)))
        fact_html = "".join(f"<div><dt>{_esc(k)}</dt><dd>{_esc(v)}</dd></div>" for k, v in facts)
        parts.append(
            f'<div class="cx-rec cx-rec-{_esc(r.quadrant)}" data-rule="{_esc(r.rule)}" data-rank="{r.rank}">'
            f'<h3 class="cx-rec-title"><span class="cx-rec-id">{_esc(r.label(lang))}</span> {_esc(r.title(lang))}</h3>'
            f'<p class="cx-rec-action">{_esc(r.action(lang))}</p>'
            f'<p class="cx-rec-label">{_esc(t("tobe.based_on", lang))}</p><ul class="cx-rec-evidence">{ev_items}</ul>'
            f'<dl class="cx-rec-facts">{fact_html}</dl>'
            f'<p class="cx-note cx-rec-assume">{_esc(r.texts[lang]["impact_note"])}</p></div>'
        )
    parts.append("</div>")
    return "".join(parts)


# --- figures ---------------------------------------------------------------------------------------------

_QUAD_COLOURS = {"quick_win": "#2e8b57", "strategic": "#1f3b5c", "fill_in": "#b0b7bf", "reconsider": "#c0392b"}


def _colours() -> dict[str, str]:
    """Quadrant colours; strategic work takes the client's brand colour (``plots.set_style``)."""
    return {**_QUAD_COLOURS, "strategic": PALETTE["main"]}


def _impact_unit(recs: Sequence[Recommendation], lang: str) -> str:
    """What the impacts are counted in: "NPS pts", or the run's outcome ("pts Satisfied passengers")."""
    return next((r.impact_unit[lang] for r in recs if (r.impact_unit or {}).get(lang)), t("tobe.unit.nps_pts", lang))


def matrix_takeaway(recs: Sequence[Recommendation], lang: str) -> str:
    """The matrix's headline: how many quick wins and strategic projects, and the largest impact."""
    top = max(recs, key=lambda r: (r.impact_nps, -r.rank))
    return t("tobe.matrix_takeaway", lang, quick=sum(r.quadrant == "quick_win" for r in recs),
             strategic=sum(r.quadrant == "strategic" for r in recs), top=top.label(lang),
             impact=impact_text(top, lang).replace(" ", "\u00a0"))  # "+10.0 NPS pts" never broken over lines


def impact_effort_chart(recs: Sequence[Recommendation], lang: str,
                        assumptions: Mapping[str, float] | None = None) -> Figure:
    """Impact × effort matrix; the dashed line separates high from low impact, the dotted one quick
    (low effort) from strategic work. Points of equal effort are spread evenly (no jitter); labels are
    placed apart by adjustText (non-overlapping, with a leader line when moved); the axes keep a margin
    so that no point is cut at an edge. The title is the takeaway (:func:`matrix_takeaway`)."""
    from adjustText import adjust_text

    from .plots import takeaway_title

    a = {**DEFAULT_ASSUMPTIONS, **(assumptions or {})}
    colours = _colours()
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    thr = a["quick_win_min_nps"]
    top = max([r.impact_nps for r in recs] + [thr * 2, 1.0]) * 1.18
    bottom = -0.07 * top  # a point at 0 (an enabler) stays whole above the axis
    ax.axhspan(thr, top, xmin=0, xmax=1 / 3, color=colours["quick_win"], alpha=0.07, lw=0)
    ax.axhline(thr, color="#7f8c8d", linestyle="--", linewidth=1)
    ax.axvline(1.5, color="#7f8c8d", linestyle=":", linewidth=1)
    xs: list[float] = []
    ys: list[float] = []
    texts = []
    for effort in EFFORTS:
        group = sorted([r for r in recs if r.effort == effort], key=lambda r: r.rank)
        k = len(group)
        for i, r in enumerate(group):
            x = EFFORT_COST[effort] + (0 if k == 1 else -0.38 + 0.76 * i / (k - 1))
            ax.scatter([x], [r.impact_nps], s=50 + 30 * min(r.impact_nps, 6), color=colours[r.quadrant],
                       edgecolor="white", zorder=3, clip_on=False)
            xs.append(x)
            ys.append(r.impact_nps)
            texts.append(ax.text(x, r.impact_nps, r.label(lang), fontsize=8, zorder=4))
    ax.set_xlim(0.45, 3.55)
    ax.set_ylim(bottom, top)
    ax.set_xticks([1, 2, 3], [t(f"tobe.effort.{e}", lang) for e in EFFORTS])
    ax.set_xlabel(t("tobe.axis_effort", lang))
    ax.set_ylabel(t("tobe.axis_impact_unit", lang, unit=_impact_unit(recs, lang)))
    corner = [ax.text(0.52, top * 0.97, t("tobe.quadrant.quick_win", lang), va="top", fontsize=9,
                      color=colours["quick_win"], fontweight="bold"),
              ax.text(3.48, top * 0.97, t("tobe.quadrant.strategic", lang), va="top", ha="right", fontsize=9,
                      color=colours["strategic"], fontweight="bold")]
    ax.text(0.52, thr * 0.5, t("tobe.quadrant.fill_in", lang), va="center", fontsize=8, color="#7f8c8d")
    ax.text(3.48, thr * 0.5, t("tobe.quadrant.reconsider", lang), va="center", ha="right", fontsize=8, color="#7f8c8d")
    if recs:
        takeaway_title(ax, matrix_takeaway(recs, lang), width=78)
    fig.tight_layout()
    if texts:
        adjust_text(texts, x=xs, y=ys, objects=corner, ax=ax, expand=(1.5, 1.8), force_text=(0.3, 0.6),
                    iter_lim=1000, arrowprops={"arrowstyle": "-", "color": "#9aa3ab", "lw": 0.6})
    plt.close(fig)
    return fig


def targets_chart(tg: Targets, lang: str) -> Figure:
    """AS-IS vs TO-BE for NPS, CSAT and churn (the metrics the run has), one small panel each."""
    panels = []
    if tg.nps_as_is is not None and tg.nps_to_be is not None:
        panels.append((t("tobe.target.nps", lang), tg.nps_as_is, tg.nps_to_be, 1.0, ""))
    if tg.outcome_as_is is not None and tg.outcome_to_be is not None:
        panels.append((tg.outcome_name(lang, "short"), tg.outcome_as_is, tg.outcome_to_be, 1.0, "%"))
    if tg.csat_as_is is not None and tg.csat_to_be is not None:
        panels.append((t("tobe.target.csat", lang), tg.csat_as_is, tg.csat_to_be, 1.0, "%"))
    if tg.churn_as_is is not None and tg.churn_to_be is not None:
        panels.append((churn_label(tg, lang), 100 * tg.churn_as_is, 100 * tg.churn_to_be, 1.0, "%"))
    fig, axes = plt.subplots(1, max(len(panels), 1), figsize=(7.5, 2.8), squeeze=False)
    labels = [t("tobe.as_is", lang), t("tobe.to_be", lang)]
    for ax, (name, before, after, _, unit) in zip(axes[0], panels, strict=False):
        bars = ax.bar(labels, [before, after], color=[PALETTE["passive"], PALETTE["main"]], width=0.6)
        for b, v in zip(bars, [before, after], strict=True):
            txt = fmt_num(v, lang, 1, sign=not unit) + ("" if not unit else ("%" if lang == "en" else "\u00a0%"))
            ax.annotate(txt, (b.get_x() + b.get_width() / 2, v), ha="center",
                        va="bottom" if v >= 0 else "top", fontsize=9, xytext=(0, 2 if v >= 0 else -2),
                        textcoords="offset points")
        lo = min(0, before, after)
        hi = max(before, after, 0)
        ax.set_ylim(lo * 1.25 if lo < 0 else 0, hi * 1.25 if hi > 0 else 1)
        ax.set_title(name, fontsize=10)
        ax.axhline(0, color="#7f8c8d", linewidth=0.8)
    if not panels:
        axes[0][0].axis("off")
    fig.tight_layout()
    plt.close(fig)
    return fig


def journey_map_chart(jm: pd.DataFrame, lang: str, scale: tuple[int, int] = (1, 5)) -> Figure:
    """TO-BE journey map: touchpoints by stage, AS-IS rating (grey) and target (brand colour) with an
    arrow, the changes that address each touchpoint on the right."""
    data = jm[jm["as_is"].notna()].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7.5, 0.32 * max(len(data), 3) + 1.3))
    y = np.arange(len(data))[::-1]
    for yi, (_, r) in zip(y, data.iterrows(), strict=True):
        if r["target"] - r["as_is"] > 1e-9:
            ax.annotate("", xy=(r["target"], yi), xytext=(r["as_is"], yi),
                        arrowprops={"arrowstyle": "->", "color": PALETTE["main"], "lw": 1.4})
            ax.scatter([r["target"]], [yi], color=PALETTE["main"], zorder=3, s=28)
        ax.scatter([r["as_is"]], [yi], color=PALETTE["passive"], edgecolor="#5f6b7a", zorder=3, s=28)
        if r["changes"]:
            ax.text(scale[1] + 0.05, yi, r["changes"], va="center", fontsize=7.5, color=PALETTE["main"])
    ax.set_yticks(y, [f"{r['stage_label']} · {r['label']}" for _, r in data.iterrows()], fontsize=7.5)
    ax.set_xlim(scale[0], scale[1] + 0.6)
    ax.set_xlabel(t("tobe.axis_rating", lang, lo=scale[0], hi=scale[1]))
    ax.set_title(t("tobe.journey_title", lang))
    handles = [Line2D([], [], marker="o", linestyle="", color=PALETTE["passive"], markeredgecolor="#5f6b7a",
                      label=t("tobe.as_is", lang)),
               Line2D([], [], marker="o", linestyle="", color=PALETTE["main"], label=t("tobe.to_be", lang))]
    fig.legend(handles=handles, loc="lower center", ncols=2, fontsize=7.5, frameon=False)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    plt.close(fig)
    return fig


def roadmap_takeaway(recs: Sequence[Recommendation], lang: str) -> str:
    """The roadmap's headline: how many of the changes start in the first phase."""
    return t("tobe.roadmap_takeaway", lang, first=sum(r.horizon == HORIZONS[0] for r in recs), total=len(recs))


def roadmap_chart(recs: Sequence[Recommendation], lang: str) -> Figure:
    """Phased roadmap (0–3, 3–6, 6–12 months): one bar per change, coloured by quadrant, its label
    wrapped over as many lines as it needs (never cut), each row as tall as its label. The title is
    the takeaway (:func:`roadmap_takeaway`)."""
    import textwrap

    from .plots import takeaway_title

    ordered = sorted(recs, key=lambda r: (HORIZON_MONTHS[r.horizon][0], r.rank))
    colours = _colours()
    labels = []
    for r in ordered:
        start, end = HORIZON_MONTHS[r.horizon]
        # characters that fit beside the bar (7.2 pt on a 7.5 in figure: about 118 per 12 months of axis):
        # right of the early phases, left of the last
        width = int(118 * ((12 - end - 0.3) if start < 6 else (start - 0.3)) / 12)
        labels.append(textwrap.wrap(f"{r.label(lang)} {r.title(lang)}", width) or [r.label(lang)])
    heights = [0.55 + 0.38 * len(lines) for lines in labels]  # rows grow with their lines
    total = sum(heights) if heights else 1.0
    fig, ax = plt.subplots(figsize=(7.5, 0.3 * max(total, 3.0) + 1.6))
    y = total
    for r, lines, h in zip(ordered, labels, heights, strict=True):
        yi = y - h / 2
        y -= h
        start, end = HORIZON_MONTHS[r.horizon]
        ax.barh(yi, end - start, left=start, height=0.62, color=colours[r.quadrant], alpha=0.9)
        text = "\n".join(lines)
        if start < 6:  # label to the right of the bar
            ax.text(end + 0.12, yi, text, va="center", ha="left", fontsize=7.2, color="#1d2430", linespacing=1.1)
        else:  # the last phase: label to its left
            ax.text(start - 0.12, yi, text, va="center", ha="right", fontsize=7.2, color="#1d2430", linespacing=1.1)
    for x in (3, 6):
        ax.axvline(x, color="#7f8c8d", linestyle=":", linewidth=1)
    ax.set_xlim(0, 12)
    ax.set_ylim(0, total)
    ax.set_yticks([])
    ax.set_xticks([1.5, 4.5, 9], [t(f"tobe.horizon.{h}", lang) for h in HORIZONS])
    ax.set_xlabel(t("tobe.axis_months", lang))
    if recs:
        takeaway_title(ax, roadmap_takeaway(recs, lang), width=78)
    handles = [Patch(color=colours[q], label=t(f"tobe.quadrant.{q}", lang)) for q in QUADRANTS
               if any(r.quadrant == q for r in recs)]
    fig.legend(handles=handles, loc="lower center", ncols=4, fontsize=7.5, frameon=False)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    plt.close(fig)
    return fig


def recommendations_table(recs: Sequence[Recommendation], lang: str) -> pd.DataFrame:
    """The ranked list as a table: #, recommendation, impact, revenue, effort, horizon, type."""
    return pd.DataFrame([{
        "rec": r.label(lang), "title": r.title(lang), "impact": impact_text(r, lang), "revenue": revenue_text(r, lang),
        "effort": t(f"tobe.effort.{r.effort}", lang), "horizon": t(f"tobe.horizon.{r.horizon}", lang),
        "quadrant": t(f"tobe.quadrant.{r.quadrant}", lang),
    } for r in recs], columns=["rec", "title", "impact", "revenue", "effort", "horizon", "quadrant"])


def journey_table(jm: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The journey map as a display table (ratings formatted; empty cells as "–")."""
    out = jm.copy()
    out["as_is_text"] = [fmt_num(x, lang, 2) if not math.isnan(x) else "–" for x in out["as_is"]]
    out["target_text"] = [fmt_num(x, lang, 2) if not math.isnan(x) else "–" for x in out["target"]]
    out["changes"] = out["changes"].replace("", "–")
    out["pain_points"] = out["pain_points"].replace("", "–")
    return out


# --- the section as the notebook shows it: one plan, display blocks ----------------------------------------


@dataclass
class TobePlan:
    """Everything TO-BE computes from the run's findings: the rule book, the ranked recommendations,
    the TO-BE journey map, the plan's targets and business case (:func:`plan`)."""

    findings: list[Finding]
    book: RuleBook
    recs: list[Recommendation]
    journey: pd.DataFrame
    targets: Targets
    case: Any  # cxaudit.business_case.BusinessCase
    scale: tuple[float, float] = (1.0, 5.0)

    @property
    def on_plan(self) -> list[Recommendation]:
        """The recommendations on the roadmap (all but "reconsider")."""
        return [r for r in self.recs if r.on_plan]


def plan(audit: Any, findings: Sequence[Finding], lang: str) -> TobePlan:
    """The TO-BE section's analysis of a run: fire the rules (client rules and audit.yaml overrides
    included; tag labels from the client's data in ``lang``), the TO-BE journey map, then costs,
    value, KPI targets and dates (:func:`cxaudit.business_case.finalise`)."""
    from . import business_case as bc

    book = rulebook(audit.dir, audit.config)
    recs = recommend(findings, book, labels=labels_from_audit(audit, lang), lang=lang)
    jm = journey_map(recs, findings, touchpoints=audit.tables.get("touchpoints"),
                     ratings=audit.tables.get("responses"), stages=audit.config.stages, lang=lang,
                     assumptions=book.assumptions)
    tg, case = bc.finalise(recs, findings, book, config=audit.config, journey=jm)
    sc = audit.config.scales.touchpoint
    return TobePlan(list(findings), book, recs, jm, tg, case, (sc.min, sc.max))


def impact_header(p: TobePlan | Sequence[Recommendation], lang: str) -> str:
    """The business case's impact column: "NPS effect", or the outcome's ("Effect, pts Satisfied passengers")."""
    recs = p.recs if isinstance(p, TobePlan) else p
    if any((r.impact_unit or {}).get(lang) for r in recs):
        return t("tobe.col_impact_unit", lang, unit=_impact_unit(recs, lang))
    return t("bc.col_impact", lang)


def blocks_intro(p: TobePlan, lang: str) -> list[Any]:
    """The section heading, its introduction, and a note when the run has no findings."""
    out: list[Any] = [show.section("to_be", lang), show.paragraph(t("tobe.intro", lang))]
    if not p.findings:
        out.append(show.note(t("tobe.no_findings", lang)))
    return out


def blocks_recommendations(p: TobePlan, lang: str) -> list[Any]:
    """The ranked list, the cards of the changes on the plan, and the changes left off it."""
    from . import business_case as bc

    if not p.findings:
        return []
    out: list[Any] = [show.heading(t("tobe.recommendations", lang), "to_be"),
                      show.paragraph(t("tobe.recs_intro", lang)),
                      show.table(recommendations_table(p.recs, lang), [
                          Col("rec", "tobe.col_rec"), Col("title", "tobe.col_title"), Col("impact", "tobe.col_impact"),
                          Col("revenue", "tobe.col_revenue"), Col("effort", "tobe.col_effort"),
                          Col("horizon", "tobe.col_horizon"), Col("quadrant", "tobe.col_quadrant")], lang),
                      HTML(recommendations_html(p.on_plan, lang))]
    off_plan = bc.reconsidered_table(p.recs, lang)
    if len(off_plan):
        out += [show.heading(t("bc.reconsidered", lang), "to_be"), show.paragraph(t("bc.reconsidered_intro", lang)),
                show.table(off_plan, [Col("rec", "tobe.col_rec"), Col("title", "tobe.col_title"),
                                      Col("impact", "tobe.col_impact"), Col("effort", "tobe.col_effort")], lang)]
    return out


def blocks_matrix(p: TobePlan, lang: str) -> list[Any]:
    """The impact × effort matrix."""
    if not p.recs:
        return []
    outcome = any((r.impact_unit or {}).get(lang) for r in p.recs)
    intro = t("tobe.matrix_intro_outcome", lang, unit=_impact_unit(p.recs, lang)) if outcome else t("tobe.matrix_intro", lang)
    return [show.heading(t("tobe.matrix", lang), "to_be"), show.paragraph(intro),
            impact_effort_chart(p.recs, lang, p.book.assumptions)]


def blocks_targets(p: TobePlan, lang: str) -> list[Any]:
    """The plan's targets (table, chart, notes) and its business case."""
    from . import business_case as bc

    out: list[Any] = []
    if p.findings:
        out += [show.heading(t("tobe.targets", lang), "to_be"), show.paragraph(t("tobe.targets_intro", lang)),
                show.table(targets_table(p.targets, lang), [
                    Col("metric", "tobe.col_metric"), Col("as_is", "tobe.col_as_is"), Col("ci", "metrics.col_ci"),
                    Col("n", "metrics.col_n"), Col("to_be", "tobe.col_to_be"), Col("change", "tobe.col_change"),
                    Col("target", "tobe.col_target"), Col("n_needed", "bc.col_n_needed")], lang),
                targets_chart(p.targets, lang)]
        out += [show.note(line) for line in targets_notes(p.targets, lang)]
        out += [show.note(line) for line in bc.targets_check_notes(p.targets, lang)]
    if p.on_plan:
        out += [show.heading(t("bc.heading", lang), "to_be"), show.paragraph(t("bc.intro", lang)),
                show.table(bc.business_case_table(p.case, p.recs, lang), [
                    Col("rec", "tobe.col_rec"), Col("title", "tobe.col_title"), Col("impact", impact_header(p, lang)),
                    Col("value", "bc.col_value"), Col("cost", "bc.col_cost"), Col("roi", "bc.col_roi"),
                    Col("payback", "bc.col_payback")], lang)]
        out += [show.note(line) for line in bc.case_notes(p.case, lang)]
    return out


def blocks_journey(p: TobePlan, lang: str) -> list[Any]:
    """The TO-BE journey map: chart and table (or a note when no touchpoint is rated)."""
    if not p.findings:
        return []
    jm = p.journey
    out: list[Any] = [show.heading(t("tobe.journey", lang), "to_be"), show.paragraph(t("tobe.journey_intro", lang))]
    if jm["as_is"].notna().any():
        out.append(journey_map_chart(jm, lang, (int(p.scale[0]), int(p.scale[1]))))
    if len(jm):
        out.append(show.table(journey_table(jm, lang), [
            Col("stage_label", "tobe.col_stage"), Col("label", "tobe.col_touchpoint"), Col("n", "metrics.col_n", "int"),
            Col("as_is", "tobe.col_as_is", "num2"), Col("target", "tobe.col_target", "num2"),
            Col("changes", "tobe.col_changes"), Col("pain_points", "tobe.col_pain_points")], lang, small_base=None))
    else:
        out.append(show.note(t("tobe.no_journey", lang)))
    return out


def blocks_roadmap(p: TobePlan, lang: str) -> list[Any]:
    """The phased roadmap and the implementation and measurement plan."""
    on_plan = p.on_plan
    if not on_plan:
        return []
    out: list[Any] = [show.heading(t("tobe.roadmap", lang), "to_be"), show.paragraph(t("tobe.roadmap_intro", lang)),
                      roadmap_chart(on_plan, lang),
                      show.heading(t("tobe.plan", lang), "to_be"), show.paragraph(t("tobe.plan_intro", lang)),
                      show.table(measurement_plan(on_plan, lang, p.journey), [
                          Col("rec", "tobe.col_rec"), Col("metric", "tobe.col_metric"), Col("where", "tobe.col_where"),
                          Col("frequency", "tobe.col_frequency"), Col("baseline", "tobe.col_baseline"),
                          Col("target", "tobe.col_target"), Col("owner", "tobe.col_owner"), Col("due", "bc.col_due"),
                          Col("n_needed", "bc.col_n_needed")], lang)]
    if any(r.kpi.get("reset") for r in on_plan):
        out.append(show.note("* " + t("bc.kpi_reset", lang)))
    return out


def findings_table(findings: Sequence[Finding], lang: str) -> pd.DataFrame:
    """Every finding of the run, one row each, in priority order (the appendix of the section)."""
    return pd.DataFrame([{
        "section": t("section." + f.section, lang), "title": f.title, "value": format_value(f, lang)[0],
        "n": f.n, "ci_low": f.ci_low, "ci_high": f.ci_high, "severity": f.severity, "reach": f.reach,
        "priority": f.priority,
    } for f in findings], columns=["section", "title", "value", "n", "ci_low", "ci_high", "severity", "reach",
                                    "priority"])


def blocks_findings(p: TobePlan, lang: str) -> list[Any]:
    """All findings of the run."""
    if not p.findings:
        return []
    return [show.heading(t("tobe.all_findings", lang), "to_be"),
            show.table(findings_table(p.findings, lang), [
                Col("section", "tobe.col_section"), Col("title", "report.col_finding"),
                Col("value", "report.col_value"), Col("ci_low", "metrics.col_ci", "ci1", hi="ci_high"),
                Col("n", "metrics.col_n", "int"), Col("severity", "report.col_severity", "int"),
                Col("reach", "report.col_reach", "pct"), Col("priority", "tobe.col_priority", "num2")], lang)]


def save_plan(run_dir: Any, p: TobePlan, methodology: Mapping[str, Any], commentary: Mapping[str, str]) -> None:
    """``tobe.json`` of the plan (:func:`save_tobe`), with the assumptions and the business case added
    to the run's methodology."""
    save_tobe(run_dir, p.recs, p.targets,
              methodology=dict(methodology) | {"assumptions": dict(p.book.assumptions), "business_case": p.case.to_dict()},
              commentary=commentary)


def plan_frame(p: TobePlan) -> pd.DataFrame:
    """The ranked recommendations with their scores and impact models (the analyst's last look)."""
    return pd.DataFrame([{"rank": r.rank, "rule": r.rule, "score": r.score, "impact_nps": r.impact_nps,
                          "model": r.impact_model, "m": r.detractor_move, "revenue": r.revenue, "effort": r.effort,
                          "horizon": r.horizon, "findings": ", ".join(r.findings)} for r in p.recs])
