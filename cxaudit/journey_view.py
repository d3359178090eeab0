"""The customer-journey section (notebook 03): one analysis call, then display blocks.

:func:`analyse` runs every analysis of the section on an :class:`~cxaudit.audit.Audit` and returns a
:class:`JourneyResult` (DataFrames, no language). The ``blocks_*(result, lang)`` functions turn it into
the section's display blocks (:mod:`cxaudit.show` HTML and :mod:`cxaudit.journey` figures), one per
group of the report, so the notebook only calls and displays. Methods and their sources are in the
docstrings of :mod:`cxaudit.journey` and :mod:`cxaudit.drivers`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from . import journey
from . import show as _show
from .audit import Audit
from .export import write_csv
from .findings import Finding
from .i18n import fmt_num, fmt_pct, t
from .show import Col

__all__ = ["JourneyResult", "analyse", "blocks_intro", "blocks_map", "blocks_heatmaps", "blocks_channels",
           "blocks_drivers", "blocks_ipa", "blocks_pain_points", "findings"]


@dataclass
class JourneyResult:
    """Everything the journey section shows, as data (no language).

    ``state``: ``"no_survey"`` (no responses), ``"no_touchpoints"`` (no journey model),
    ``"no_ratings"`` (no touchpoint column is rated) or ``"ready"``. ``kda`` is None when there is no
    outcome or too few answers (``outcome_col`` says which); ``pains`` None without an outcome.
    """

    audit: Audit
    state: str
    tps: pd.DataFrame | None = None
    scale: tuple[float, float, float, float] = (1.0, 5.0, 4.0, 2.0)
    has_ces: bool = False
    ces_max: int = 7
    metrics: pd.DataFrame | None = None
    stages: list[str] | None = None
    heat_channel: dict[str, pd.DataFrame] | None = None
    heat_touchpoint: dict[str, pd.DataFrame] | None = None
    by_channel: pd.DataFrame | None = None
    omni: pd.DataFrame | None = None
    outcome_col: str | None = None
    kda: pd.DataFrame | None = None
    ipa: pd.DataFrame | None = None
    pains: pd.DataFrame | None = None

    @property
    def ready(self) -> bool:
        return self.state == "ready"

    @property
    def min_base(self) -> int:
        return int(self.audit.config.min_base)


def analyse(audit: Audit) -> JourneyResult:
    """Run the section's analyses (:mod:`cxaudit.journey`): the touchpoint metrics, the stage × channel
    and stage × touchpoint cells, channels, omnichannel consistency (Cochran's Q), key drivers (exact
    Shapley / LMG), importance–performance and pain points."""
    if not audit.has("responses"):
        return JourneyResult(audit, "no_survey")
    tps = journey.touchpoint_table(audit)
    if tps is None:
        return JourneyResult(audit, "no_touchpoints")
    res = JourneyResult(audit, "ready" if tps["column"].notna().any() else "no_ratings", tps=tps,
                        scale=journey.rating_scale(audit))
    # The survey's CES question is about the whole experience, so a touchpoint's "effort" is the overall
    # CES of its users (cxaudit.journey module doc); shown only when there are CES answers, labelled so.
    res.ces_max = int(audit.config.scales.ces.max)
    res.has_ces = bool("ces" in audit.responses.columns and audit.responses["ces"].notna().any())
    if not res.ready:
        return res
    res.metrics = journey.touchpoint_metrics(audit, tps)
    cells = journey.journey_cells(audit, ("stage", "channel"), tps)
    stages = [s for s in audit.config.stages if s in set(cells["stage"])]
    res.stages = stages
    channels = list(dict.fromkeys(tps.loc[tps["column"].notna(), "channel"]))
    res.heat_channel = journey.heatmap_matrix(cells, "channel", "stage", row_order=channels, col_order=stages)
    by_tp = journey.journey_cells(audit, ("stage", "touchpoint"), tps)
    tp_order = list(tps.loc[tps["column"].notna(), "touchpoint"])
    res.heat_touchpoint = journey.heatmap_matrix(by_tp, "touchpoint", "stage", row_order=tp_order, col_order=stages)
    res.by_channel = journey.journey_cells(audit, ("channel",), tps)
    res.omni = journey.omnichannel_consistency(audit, cells)
    res.kda = journey.key_drivers(audit, tps)
    res.outcome_col = journey.outcome_column(audit)
    if res.kda is not None:
        res.ipa = journey.importance_performance(res.kda, res.metrics)
    res.pains = journey.pain_points(audit, tps, res.kda)
    return res


def _label(res: JourneyResult, kind: str, values: Any, lang: str) -> list[str]:
    return [res.audit.config.value_label(kind, v, lang) for v in values]


def _effort_cols(res: JourneyResult, header_key: str, lang: str) -> list[Col]:
    if not res.has_ces:
        return []
    return [Col("effort", t(header_key, lang, max=res.ces_max), "num2", lo="effort_low", hi="effort_high"),
            Col("effort_n", "journey.col_effort_n", "int")]


def blocks_intro(res: JourneyResult, lang: str) -> list[Any]:
    """The section heading and its introduction, or the one line saying which input is missing."""
    out: list[Any] = [_show.section("journey", lang)]
    if res.state == "no_survey":
        out.append(_show.missing_input(t("table.responses", lang), lang))
    elif res.state == "no_touchpoints":
        out.append(_show.missing_input(t("journey.what_touchpoints", lang), lang))
    elif res.state == "no_ratings":
        out.append(_show.missing_input(t("journey.what_ratings", lang), lang))
    else:
        sc_min, sc_max, top_cut, _ = res.scale
        out.append(_show.paragraph(t("journey.intro", lang, top=int(top_cut), max=int(sc_max), min=int(sc_min))))
    return out


def blocks_map(res: JourneyResult, lang: str) -> list[Any]:
    """The touchpoint map: stage, touchpoint, channel, owner, usage, satisfaction, mean (and effort)."""
    if not res.ready or res.metrics is None or res.tps is None:
        return []
    view = res.metrics.reset_index()
    view["stage_name"] = _label(res, "stage", view["stage"], lang)
    view["channel_name"] = _label(res, "channel", view["channel"], lang)
    out: list[Any] = [_show.heading(t("journey.map", lang), "journey"), _show.table(view, [
        Col("stage_name", "journey.col_stage"), Col("label", "journey.col_touchpoint"),
        Col("channel_name", "journey.col_channel"), Col("owner_department", "journey.col_owner"),
        Col("n", "metrics.col_n", "int"), Col("usage", "journey.col_usage", "pct"),
        Col("top2", "journey.col_satisfaction", "pct", lo="top2_low", hi="top2_high"),
        Col("mean", "journey.col_mean", "num2", lo="mean_low", hi="mean_high"),
        *_effort_cols(res, "journey.col_effort", lang),
    ], lang)]
    if res.has_ces:
        out.append(_show.note(t("journey.effort_note", lang, max=res.ces_max)))
    if res.tps.attrs["unmapped_columns"]:
        out.append(_show.note(t("journey.unmapped", lang, columns=", ".join(res.tps.attrs["unmapped_columns"]))))
    if view["small_base"].any():
        out.append(_show.note(t("report.small_base", lang, min=res.min_base)))
    return out


def blocks_heatmaps(res: JourneyResult, lang: str) -> list[Any]:
    """Heat maps of satisfaction: stage × channel and stage × touchpoint."""
    if not res.ready or res.heat_channel is None or res.heat_touchpoint is None or res.tps is None:
        return []
    mats, mats_tp = res.heat_channel, res.heat_touchpoint
    labels = res.tps.set_index("touchpoint")["label"]
    rows, cols = _label(res, "channel", mats["value"].index, lang), _label(res, "stage", mats["value"].columns, lang)
    rows_tp = [labels[i] for i in mats_tp["value"].index]
    cols_tp = _label(res, "stage", mats_tp["value"].columns, lang)
    return [
        _show.heading(t("journey.heatmap_channel", lang), "journey"),
        journey.heatmap_figure(mats, lang, journey.heatmap_takeaway(mats, lang, rows, cols, t("journey.heatmap_channel", lang)),
                               rows, cols, res.min_base),
        _show.heading(t("journey.heatmap_touchpoint", lang), "journey"),
        journey.heatmap_figure(mats_tp, lang, journey.heatmap_takeaway(mats_tp, lang, rows_tp, cols_tp,
                                                                       t("journey.heatmap_touchpoint", lang)),
                               rows_tp, cols_tp, res.min_base),
        _show.note(t("journey.heatmap_note", lang, min=res.min_base)),
    ]


def blocks_channels(res: JourneyResult, lang: str) -> list[Any]:
    """Satisfaction by channel, then omnichannel consistency per stage: the table of stages only when a
    stage's channels differ (Cochran's Q, p < 0.05), else one sentence (issue 14: no-difference results
    collapse to one line)."""
    if not res.ready or res.by_channel is None or res.omni is None:
        return []
    by_channel = res.by_channel.copy()
    by_channel["channel_name"] = _label(res, "channel", by_channel["channel"], lang)
    out: list[Any] = [_show.heading(t("journey.channels", lang), "journey"), _show.table(by_channel, [
        Col("channel_name", "journey.col_channel"), Col("n", "metrics.col_n", "int"),
        Col("n_ratings", "journey.col_ratings", "int"),
        Col("top2", "journey.col_satisfaction", "pct", lo="top2_low", hi="top2_high"),
        Col("mean", "journey.col_mean", "num2", lo="mean_low", hi="mean_high"),
        *_effort_cols(res, "journey.col_effort_channel", lang),
    ], lang)]
    omni = res.omni.copy()
    out.append(_show.heading(t("journey.omnichannel", lang), "journey"))
    if omni.empty:
        out.append(_show.note(t("journey.omnichannel_none", lang)))
        return out
    if omni["consistent"].astype(bool).all():  # nothing differs: one line, not a table of "consistent" rows
        out.append(_show.paragraph(t("journey.omnichannel_no_difference", lang, stages=len(omni))))
        return out
    out.append(_show.paragraph(t("journey.omnichannel_intro", lang)))
    omni["stage_name"] = _label(res, "stage", omni["stage"], lang)
    cfg = res.audit.config
    omni["best_text"] = [f"{cfg.value_label('channel', c, lang)}: {fmt_pct(v, lang)}"
                         for c, v in zip(omni["best_channel"], omni["best"], strict=True)]
    omni["worst_text"] = [f"{cfg.value_label('channel', c, lang)}: {fmt_pct(v, lang)}"
                          for c, v in zip(omni["worst_channel"], omni["worst"], strict=True)]
    omni["verdict"] = [t("journey.consistent" if ok else "journey.inconsistent", lang) for ok in omni["consistent"]]
    omni["p_text"] = [journey.fmt_p_value(p, lang) for p in omni["p_value"]]
    out.append(_show.table(omni, [
        Col("stage_name", "journey.col_stage"), Col("channels", "journey.col_channels", "int"),
        Col("best_text", "journey.col_best"), Col("worst_text", "journey.col_worst"),
        Col("spread", "journey.col_spread", "num1"), Col("n", "metrics.col_n", "int"),
        Col("p_text", "journey.col_p"), Col("verdict", "journey.col_verdict"),
    ], lang))
    return out


def blocks_drivers(res: JourneyResult, lang: str) -> list[Any]:
    """Key drivers of the outcome: the method line, the chart and the table (or why there are none)."""
    if not res.ready or res.tps is None:
        return []
    if res.outcome_col is None:
        return [_show.note(t("journey.no_outcome", lang, min=res.min_base))]
    if res.kda is None:
        return [_show.note(t("journey.drivers_too_few", lang, min=res.min_base))]
    kda, a = res.kda, res.kda.attrs
    outcome = journey.outcome_label(res.audit, lang)  # the outcome actually used (NPS, CSAT, the client's own)
    out: list[Any] = [
        _show.heading(t("journey.drivers", lang, outcome=outcome), "journey"),
        _show.paragraph(t("journey.drivers_intro", lang, outcome=outcome, r2=fmt_num(a["r2"], lang, 3),
                          n=fmt_num(a["n"], lang, 0), method=t(f"journey.method_{a['method']}", lang),
                          missing=t(f"journey.missing_{a['missing']}", lang), boot=a["n_boot_used"]))]
    if a["excluded_drivers"]:
        out.append(_show.note(t("journey.drivers_excluded", lang, min=res.min_base, outcome=outcome,
                                touchpoints=", ".join(res.tps.set_index("touchpoint").loc[a["excluded_drivers"], "label"]))))
    out.append(journey.drivers_figure(kda, lang))
    dview = kda.reset_index()
    dview["sig"] = [t("journey.yes" if s else "journey.no", lang) for s in dview["significant"]]
    out.append(_show.table(dview, [
        Col("rank", "journey.col_rank", "int"), Col("label", "journey.col_touchpoint"),
        Col("share", "journey.col_share", "num1", lo="share_ci_low", hi="share_ci_high"),
        Col("sig", "journey.col_significant"), Col("n", "metrics.col_n", "int"),
    ], lang, small_base=None))
    return out


def blocks_ipa(res: JourneyResult, lang: str) -> list[Any]:
    """The importance–performance map and its table."""
    if res.ipa is None:
        return []
    ipa = res.ipa
    iview = ipa.sort_values("importance", ascending=False).copy()
    iview["quadrant_name"] = [t(f"journey.quadrant.{q}", lang) for q in iview["quadrant"]]
    return [
        _show.heading(t("journey.ipa", lang), "journey"),
        _show.paragraph(t("journey.ipa_intro", lang)),
        journey.ipa_figure(ipa, lang, t("journey.col_satisfaction", lang), journey.outcome_label(res.audit, lang)),
        _show.table(iview, [
            Col("rank", "journey.col_rank", "int"), Col("label", "journey.col_touchpoint"),
            Col("quadrant_name", "journey.col_quadrant"),
            Col("importance", "journey.col_share", "num1"), Col("performance", "journey.col_satisfaction", "pct"),
            Col("n", "metrics.col_n", "int"),
        ], lang, small_base=None),
    ]


def blocks_pain_points(res: JourneyResult, lang: str) -> list[Any]:
    """Pain points: touchpoints whose low raters lie furthest below the rest on the outcome."""
    if not res.ready:
        return []
    pains = res.pains
    if pains is None:
        return [_show.note(t("journey.no_outcome", lang, min=res.min_base))]
    low_cut = res.scale[3]
    on_nps = pains.attrs.get("outcome_kind") in (None, "nps")
    name = journey.outcome_label(res.audit, lang, short=False)
    out: list[Any] = [
        _show.heading(t("journey.pain", lang), "journey"),
        _show.paragraph(t("journey.pain_intro", lang, low_max=int(low_cut)) if on_nps else
                        t("outcome.pain_intro", lang, low_max=int(low_cut), outcome=name))]
    pview = pains.reset_index()
    short = journey.outcome_label(res.audit, lang)
    low_col = (Col("nps_low", "journey.col_nps_low", "signed1") if on_nps else
               Col("nps_low", t("outcome.col_low", lang, outcome=short) + ", %", "num1"))
    rest_col = (Col("nps_rest", "journey.col_nps_rest", "signed1") if on_nps else
                Col("nps_rest", t("outcome.col_rest", lang, outcome=short) + ", %", "num1"))
    out.append(_show.table(pview, [
        Col("rank", "journey.col_rank", "int"), Col("label", "journey.col_touchpoint"),
        Col("owner_department", "journey.col_owner"), Col("reach", "journey.col_reach", "pct1"),
        Col("n_low", "journey.col_n_low", "int"), low_col, rest_col,
        Col("gap", "journey.col_gap" if on_nps else t("outcome.col_gap", lang), "num1", lo="gap_low", hi="gap_high"),
        Col("points", "journey.col_points" if on_nps else t("outcome.col_points", lang), "num1"),
    ], lang))
    if pview["small_base"].any():
        out.append(_show.note(t("report.small_base", lang, min=res.min_base)))
    return out


def findings(res: JourneyResult, lang: str) -> list[Finding]:
    """The section's findings (:func:`cxaudit.journey.journey_findings`); none unless the section ran."""
    return journey.journey_findings(res.audit, lang, res.pains) if res.ready else []


def save_tables(res: JourneyResult, folder: Any) -> None:
    """The tables behind the section as CSV in the run's artifacts (redacted, formula-safe)."""
    if not res.ready or res.metrics is None:
        return
    write_csv(res.metrics, folder / "journey_touchpoints.csv", index=True, redact=True)
    if res.kda is not None:
        write_csv(res.kda, folder / "journey_drivers.csv", index=True, redact=True)
    if res.pains is not None:
        write_csv(res.pains, folder / "journey_pain_points.csv", index=True, redact=True)
