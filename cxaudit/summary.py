"""The executive summary's content, answer first: headline metrics, key findings, first actions, one chart.

Everything here is data (plain text, escaped by the caller) or, for the chart, a self-contained SVG.

* **Headline metrics** (:func:`headline_metrics`): up to four tiles -- NPS, the satisfaction outcome in use
  (CSAT, else CES), churn and revenue at risk -- each from its ``*.overall`` / ``churn.revenue_at_risk``
  finding, with the 95% interval and base (n) in small type.
* **Key findings** (:func:`key_findings`): the customer-facing findings ranked by their effect on
  customers and money, ``severity × max(reach, revenue share)`` (the revenue share when the finding's
  evidence states one, ``revenue_share``). The headline metrics themselves and data-quality notes are
  not findings here. *Internal* findings (sections of :data:`INTERNAL_SECTIONS`: staff, KPIs) get no rank of
  their own: each is shown under the customer finding it explains -- the highest-ranked one sharing a
  touchpoint, else a department -- and only an internal finding that explains none is listed after the
  customer findings.
* **First actions** (:func:`first_actions`): the top recommendations that stand on the roadmap (not
  "reconsider"), with value, cost, owner and due date; a field the TO-BE step did not fill is "—".

Examples
--------
>>> from cxaudit.findings import Finding
>>> fs = [Finding("employees.kpi_no_cx.Logistics", "employees", "No customer KPI", "share", 0, 3, severity=4,
...               reach=0.9, tags={"touchpoints": ["tp_delivery"]}),
...       Finding("journey.pain_point.tp_delivery", "journey", "Delivery rated low", "share", 24, 500, severity=5,
...               reach=0.24, tags={"touchpoints": ["tp_delivery"]}),
...       Finding("cx_metrics.nps.overall", "cx_metrics", "NPS is +11.8", "nps", 11.8, 568, severity=3, reach=0.3)]
>>> [(k.finding.id, [e.id for e in k.explained_by]) for k in key_findings(fs)]
[('journey.pain_point.tp_delivery', ['employees.kpi_no_cx.Logistics'])]
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .findings import Finding, format_value
from .i18n import fmt_ci, fmt_date, fmt_num, fmt_pct, t

__all__ = ["INTERNAL_SECTIONS", "HEADLINE_IDS", "Metric", "KeyFinding", "Action", "headline_metrics",
           "key_findings", "first_actions", "answer_sentence", "reach_chart_svg", "svg_data_uri", "money",
           "DASH"]

#: Sections whose findings describe the organisation rather than customers: ranked by the customer
#: problem they explain.
INTERNAL_SECTIONS: tuple[str, ...] = ("employees",)
#: Headline metrics in tile order: (catalog key of the label, finding ids tried in order).
HEADLINE_IDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("report.kpi_nps", ("cx_metrics.nps.overall",)),
    # the outcome in use when it is not NPS (issue 13), else CSAT, else CES
    ("report.kpi_csat", ("cx_metrics.outcome.overall", "cx_metrics.csat.overall", "cx_metrics.ces.overall")),
    ("report.kpi_churn", ("churn.rate.overall",)),
    ("report.kpi_revenue", ("churn.revenue_at_risk",)),
)
#: Sections whose findings are not key findings of the summary (they qualify the data, not the customers).
NOT_KEY_SECTIONS: tuple[str, ...] = ("data_quality",)
#: Shown for a value the run does not have (cost, owner or date not set yet).
DASH = "—"

_SCALE = {"en": ((1e9, "bn"), (1e6, "M"), (1e3, "k")),
          "ru": ((1e9, "млрд"), (1e6, "млн"), (1e3, "тыс.")),
          "pl": ((1e9, "mld"), (1e6, "mln"), (1e3, "tys."))}


def money(x: float | None, lang: str, currency: str = "") -> str:
    """A compact amount: ``1.1 M USD`` / ``1,1 млн RUB`` / ``25 k USD``; "—" for None.

    >>> money(1_055_749.8, "en", "USD"), money(25_952, "ru", "RUB"), money(512, "pl", "PLN")
    ('1.1\\xa0M\\xa0USD', '26\\xa0тыс.\\xa0RUB', '512\\xa0PLN')
    """
    if x is None:
        return DASH
    for size, word in _SCALE[lang]:
        if abs(x) >= size:
            v = x / size
            one = abs(v) < 10 and round(v, 1) != round(v)  # "1.1 M", but "5 k" rather than "5.0 k"
            text = f"{fmt_num(v, lang, 1 if one else 0)}\u00a0{word}"
            break
    else:
        text = fmt_num(x, lang, 0)
    return f"{text}\u00a0{currency}" if currency else text


@dataclass(frozen=True)
class Metric:
    """One headline tile: label, value, and its interval and base in small type."""

    key: str
    label: str
    value: str
    detail: str


def _by_id(findings: Sequence[Finding]) -> dict[str, Finding]:
    return {f.id: f for f in findings}


def headline_metrics(findings: Sequence[Finding], lang: str, currency: str = "",
                     tobe: Mapping[str, Any] | None = None) -> list[Metric]:
    """Up to four headline tiles (:data:`HEADLINE_IDS`) from the run's findings; churn from the TO-BE
    targets when they give it per 12 months (the finding's rate covers the whole data period)."""
    by_id = _by_id(findings)
    out = []
    tg = (tobe or {}).get("targets") if tobe else None
    for key, ids in HEADLINE_IDS:
        f = next((by_id[i] for i in ids if i in by_id), None)
        if key == "report.kpi_churn" and tg is not None and _get(tg, "churn_as_is") is not None:
            # the TO-BE step puts churn on one horizon (12 months when the data allow): use it
            ci = _get(tg, "churn_ci")
            n = _get(tg, "churn_n")
            per_year = _get(tg, "churn_horizon") == "12m"
            detail = ([t("report.kpi_interval", lang, ci=fmt_ci(ci[0], ci[1], lang, 1, scale=100))] if ci else []) + (
                [f"n\u00a0=\u00a0{fmt_num(n, lang, 0)}"] if n is not None else [])
            out.append(Metric(key, t(key if per_year else "report.kpi_churn_period", lang),
                              fmt_pct(_get(tg, "churn_as_is"), lang, 1), " · ".join(detail)))
            continue
        if f is None and tg is not None:
            tile = _from_targets(key, tg, lang)
            if tile is not None:
                out.append(tile)
            continue
        if f is None:
            continue
        if key == "report.kpi_churn":
            key = "report.kpi_churn_period"  # the finding's rate is over the data period
        label_key = "report.kpi_ces" if f.id == "cx_metrics.ces.overall" else key
        key = "report.kpi_churn" if key == "report.kpi_churn_period" else key
        outcome_name = ((f.evidence.get("labels") or {}).get("short") or {}).get(lang) \
            if f.id == "cx_metrics.outcome.overall" else None
        if key == "report.kpi_revenue":
            cur = currency or str(f.evidence.get("currency") or "")
            value = money(f.value, lang, cur)
            ci = (f"{money(f.ci_low, lang)}–{money(f.ci_high, lang)}"
                  if f.ci_low is not None and f.ci_high is not None else "")
        else:
            value, ci = format_value(f, lang)
            ci = "" if ci == "–" else ci
        parts = ([t("report.kpi_interval", lang, ci=ci)] if ci else []) + [f"n\u00a0=\u00a0{fmt_num(f.n, lang, 0)}"]
        out.append(Metric(key, outcome_name or t(label_key, lang), value, " · ".join(parts)))
    return out


def _detail(ci: str, n: Any, lang: str) -> str:
    return " · ".join(([t("report.kpi_interval", lang, ci=ci)] if ci else [])
                      + ([f"n\u00a0=\u00a0{fmt_num(n, lang, 0)}"] if n is not None else []))


def _from_targets(key: str, tg: Any, lang: str) -> Metric | None:
    """A headline tile from the TO-BE targets' AS-IS values when the run has no such finding."""
    if key == "report.kpi_nps" and _get(tg, "nps_as_is") is not None:
        ci = _get(tg, "nps_ci")
        return Metric(key, t(key, lang), fmt_num(_get(tg, "nps_as_is"), lang, 1, sign=True),
                      _detail(fmt_ci(ci[0], ci[1], lang, 1) if ci else "", _get(tg, "nps_n"), lang))
    if key == "report.kpi_csat" and _get(tg, "csat_as_is") is not None:
        ci = _get(tg, "csat_ci")
        return Metric(key, t(key, lang), fmt_pct(_get(tg, "csat_as_is") / 100, lang, 1),
                      _detail(fmt_ci(ci[0], ci[1], lang, 1) if ci else "", _get(tg, "csat_n"), lang))
    if key == "report.kpi_revenue" and _get(tg, "revenue_at_risk") is not None:
        ci = _get(tg, "revenue_at_risk_ci")
        cur = _get(tg, "currency") or ""
        return Metric(key, t(key, lang), money(_get(tg, "revenue_at_risk"), lang, cur),
                      _detail(f"{money(ci[0], lang)}–{money(ci[1], lang)}" if ci else "", _get(tg, "revenue_n"), lang))
    return None


@dataclass
class KeyFinding:
    """A customer finding with its rank score and the internal findings that explain it."""

    finding: Finding
    score: float
    explained_by: list[Finding] = field(default_factory=list)


def _score(f: Finding) -> float:
    share = f.evidence.get("revenue_share") if isinstance(f.evidence, Mapping) else None
    reach = max(float(f.reach), float(share) if isinstance(share, int | float) else 0.0)
    return float(f.severity) * reach


def _is_headline(f: Finding) -> bool:
    return any(f.id in ids for _, ids in HEADLINE_IDS)


def _shared(a: Finding, b: Finding, kind: str) -> bool:
    return bool(set(a.tags.get(kind, []) or []) & set(b.tags.get(kind, []) or []))


def key_findings(findings: Sequence[Finding], top: int | None = None) -> list[KeyFinding]:
    """Customer findings ranked by effect on customers and money, internal findings under the one they
    explain (see the module docstring). ``top`` limits the customer findings (unattached internal ones
    follow, at most two)."""
    customer = [f for f in findings if f.section not in INTERNAL_SECTIONS and f.section not in NOT_KEY_SECTIONS
                and not _is_headline(f)]
    internal = [f for f in findings if f.section in INTERNAL_SECTIONS]
    ranked = [KeyFinding(f, _score(f)) for f in sorted(customer, key=lambda f: (-_score(f), -int(f.severity)))]
    loose: list[Finding] = []
    for f in sorted(internal, key=lambda f: (-_score(f), -int(f.severity))):
        host = next((k for k in ranked if _shared(k.finding, f, "touchpoints")), None) or next(
            (k for k in ranked if _shared(k.finding, f, "departments")), None)
        if host is not None:
            host.explained_by.append(f)
        else:
            loose.append(f)
    if top is not None:
        # an internal finding whose customer problem is not in the top list is listed on its own, after them
        for k in ranked[top:]:
            loose.extend(k.explained_by)
        ranked, loose = ranked[:top], loose[:2]
    return ranked + [KeyFinding(f, _score(f)) for f in loose]


@dataclass(frozen=True)
class Action:
    """One of the first actions of the executive summary (plain text)."""

    label: str
    title: str
    value: str
    cost: str
    owner: str
    due: str
    rule: str


def _get(rec: Any, name: str) -> Any:
    return rec.get(name) if isinstance(rec, Mapping) else getattr(rec, name, None)


def first_actions(tobe: Mapping[str, Any] | None, lang: str, top: int = 3) -> list[Action]:
    """The top ``top`` recommendations on the roadmap with value (NPS points or the outcome's, revenue), cost,
    owner, date."""
    if not tobe:
        return []
    out = []
    for r in tobe.get("recommendations") or []:
        if _get(r, "on_plan") is False or _get(r, "quadrant") == "reconsider":
            continue
        currency = _get(r, "currency") or ""
        value = []
        nps = _get(r, "impact_nps")  # in NPS points, or in points of the run's outcome (its impact_unit)
        unit = (_get(r, "impact_unit") or {}).get(lang) or t("report.unit_nps_pts", lang)
        if nps is not None and round(float(nps), 1) != 0 and _get(r, "impact_model") != "none":
            value.append(f"{fmt_num(nps, lang, 1, sign=True)} {unit}")
        if _get(r, "revenue") is not None:
            value.append("+" + money(_get(r, "revenue"), lang, currency))
        cost = _get(r, "cost")
        due = _get(r, "due")
        out.append(Action(
            label=r.label(lang) if hasattr(r, "label") else str(_get(r, "rank")),
            title=r.title(lang) if hasattr(r, "title") else _get(r, "texts")[lang]["title"],
            value=" · ".join(value) or DASH,
            cost=money(cost, lang, currency) if cost is not None else DASH,
            owner=_get(r, "owner") or DASH,
            due=fmt_date(due, lang) if due else DASH,
            rule=str(_get(r, "rule") or ""),
        ))
        if len(out) == top:
            break
    return out


def answer_sentence(keys: Sequence[KeyFinding], tobe: Mapping[str, Any] | None, lang: str) -> str:
    """One sentence: the biggest customer problem and what the plan is worth (plain text)."""
    if not keys:
        return t("report.answer_none", lang)
    top = keys[0].finding.title.rstrip(".")
    tg = (tobe or {}).get("targets") or {}
    nps_from, nps_to = _get(tg, "nps_as_is"), _get(tg, "nps_to_be")
    out_from, out_to = _get(tg, "outcome_as_is"), _get(tg, "outcome_to_be")
    name = ((_get(tg, "outcome_names") or {}).get("short") or {}).get(lang)
    if nps_from is not None and nps_to is not None:
        text = t("report.answer_plan", lang, problem=top, nps_from=fmt_num(nps_from, lang, 0, sign=True),
                 nps_to=fmt_num(nps_to, lang, 0, sign=True))
    elif out_from is not None and out_to is not None and name:  # a run measured on another outcome than NPS
        text = t("report.answer_plan_outcome", lang, problem=top, outcome=name,
                 value_from=fmt_pct(out_from / 100, lang, 0), value_to=fmt_pct(out_to / 100, lang, 0))
    else:
        return t("report.answer_problem", lang, problem=top)
    kept = _get(tg, "revenue_kept")
    if kept:
        text += " " + t("report.answer_kept", lang, amount=money(kept, lang, _get(tg, "currency") or ""))
    return text


def svg_data_uri(svg: str | bytes) -> str:
    """``data:image/svg+xml;base64,...`` of an SVG document (an ``<img>`` cannot run or fetch anything)."""
    data = svg.encode("utf-8") if isinstance(svg, str) else svg
    return "data:image/svg+xml;base64," + base64.b64encode(data).decode("ascii")


def reach_chart_svg(keys: Sequence[KeyFinding], lang: str, primary: str = "#1f3b5c") -> tuple[str, str] | None:
    """The summary's one chart: the share of customers each ranked key finding affects, as SVG.

    Bars are numbered like the key findings table; returns ``(svg text, alt text)`` or None without findings.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plots import svg_bytes

    rows = [k for k in keys if k.finding.section not in INTERNAL_SECTIONS][:5]
    if not rows:
        return None
    labels = [str(i) for i in range(1, len(rows) + 1)]  # the numbers of the key findings table beside it
    values = [100 * float(k.finding.reach) for k in rows]
    fig, ax = plt.subplots(figsize=(3.2, 0.32 * len(rows) + 0.8))
    y = list(range(len(rows)))[::-1]
    ax.barh(y, values, color=primary, height=0.6)
    ax.set_yticks(y, labels, fontsize=7.5)
    ax.set_xlim(0, max(values) * 1.18 + 1)
    for yi, v in zip(y, values, strict=True):
        ax.text(v + max(values) * 0.02, yi, fmt_pct(v / 100, lang), va="center", fontsize=7.5)
    ax.set_xlabel(t("report.chart_reach_axis", lang), fontsize=7.5)
    ax.tick_params(axis="x", labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x", color="#e6eaef")
    ax.set_axisbelow(True)
    fig.tight_layout()
    svg = svg_bytes(fig).decode("utf-8")
    plt.close(fig)
    alt = t("report.chart_reach_alt", lang) + " " + "; ".join(
        f"{i}. {k.finding.title} {fmt_pct(k.finding.reach, lang)}" for i, k in enumerate(rows, 1))
    return svg, alt


def ci_text(low: float | None, high: float | None, lang: str, decimals: int = 1) -> str:
    """"[a; b]" or "" when either bound is missing."""
    return fmt_ci(low, high, lang, decimals) if low is not None and high is not None else ""
