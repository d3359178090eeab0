"""The voice-of-the-customer section (notebook 05): one analysis call, then display blocks.

:func:`analyse` runs the section's analyses (open comments with :mod:`cxaudit.text`, support tickets
with :mod:`cxaudit.tickets`) and returns a :class:`VocSection` of DataFrames and result objects. The
``blocks_*(result, lang)`` functions turn it into display blocks (:mod:`cxaudit.show` HTML and the
modules' figures), one per group of the report; :func:`findings` gives the section's findings. The
methods and their sources are in the docstrings of :mod:`cxaudit.text` and :mod:`cxaudit.tickets`.

The comment and ticket analyses take the report language for one thing only: personal data in
quotes, topic examples and ticket texts is replaced at the source by the placeholder of that language
(``[email]`` / ``[эл. почта]``), so no unredacted text is ever held in a result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from . import journey as _journey
from . import outcome as _outcome
from . import show as _show
from . import text as _text
from . import tickets as _tickets
from .audit import Audit
from .export import write_csv
from .findings import Finding
from .i18n import fmt_ci, fmt_date, fmt_num, fmt_pct, t
from .show import Col

__all__ = ["VocSection", "analyse", "blocks_intro", "blocks_comments", "blocks_themes", "blocks_touchpoint_themes",
           "blocks_channel_themes", "blocks_quotes", "blocks_topics", "blocks_tickets", "blocks_ticket_times",
           "blocks_ticket_sla", "blocks_ticket_repeats", "blocks_ticket_themes", "blocks_shared_themes",
           "blocks_ticket_trends", "blocks_ticket_csat", "findings", "save_tables", "differs", "rises"]


@dataclass
class VocSection:
    """Everything the VoC section shows, as data. ``voc`` is None without comments; ``tk`` (the
    prepared tickets) None without tickets; the other fields are None where their input is absent."""

    audit: Audit
    cf_choice: Any
    voc: _text.VocResult | None = None
    coverage: pd.DataFrame | None = None
    tp_themes: pd.DataFrame | None = None
    channel_themes: pd.DataFrame | None = None
    tk: pd.DataFrame | None = None
    cfg: _tickets.TicketSettings | None = None
    dated: bool = False
    volume_channel: pd.DataFrame | None = None
    volume_category: pd.DataFrame | None = None
    monthly: pd.DataFrame | None = None
    first_response: pd.DataFrame | None = None
    resolution: pd.DataFrame | None = None
    sla: pd.DataFrame | None = None
    repeats: dict[str, pd.DataFrame] | None = None
    tth: _tickets.TicketThemes | None = None
    shared: pd.DataFrame | None = None
    total_trend: dict[str, Any] | None = None
    rising_categories: pd.DataFrame | None = None
    rising_themes: pd.DataFrame | None = None
    csat: pd.DataFrame | None = None

    @property
    def codeframe(self) -> _text.Codeframe:
        return self.cf_choice.codeframe

    @property
    def min_base(self) -> int:
        return int(self.audit.config.min_base)

    @property
    def has_themes(self) -> bool:
        return self.voc is not None and not self.voc.table.empty

    @property
    def has_ticket_themes(self) -> bool:
        return self.tth is not None and bool((self.tth.table["k"] > 0).any())


def analyse(audit: Audit, *, lang: str) -> VocSection:
    """Run the section's analyses. ``lang``: the language of the placeholders that replace personal
    data in quotes, topic examples and ticket texts (see the module docstring); nothing else.

    The codeframe: the client's ``codeframe.yaml``, else the industry pack of audit.yaml, else the pack
    that codes the most comments (or ticket texts) (:func:`cxaudit.text.choose_codeframe`).
    """
    touchpoints = audit.tables.get("touchpoints")
    names = _text.customer_names(audit.tables.get("customers"))
    comment_texts = (audit.responses["comment"] if audit.has("responses") and "comment" in audit.responses.columns
                     else _tickets.ticket_text(audit.table("tickets")) if audit.has("tickets") else None)
    res = VocSection(audit, _text.choose_codeframe(audit, comment_texts))
    codeframe = res.codeframe
    min_base = res.min_base
    responses = audit.responses if audit.has("responses") else pd.DataFrame()
    has_comments = ("comment" in responses.columns
                    and responses["comment"].astype("string").str.strip().fillna("").ne("").any())
    if has_comments:
        res.voc = _text.analyse_comments(responses, codeframe, lang=lang, touchpoints=touchpoints, names=names,
                                         min_base=min_base, seed=audit.config.seed,
                                         outcome=_outcome.resolve_audit(audit))  # NPS groups, or low / high
        res.coverage = _text.coverage(res.voc.coding, codeframe, threshold=audit.config.text.coverage_warning)
        if res.has_themes:
            if audit.touchpoint_columns:
                # complaint themes among each touchpoint's low raters vs its other raters
                res.tp_themes = _text.touchpoint_themes(audit, res.voc, lang)
            res.channel_themes = _text.channel_wide(res.voc, "complaint")
    if not (audit.has("tickets") and len(audit.table("tickets")) > 0):
        return res
    cfg = res.cfg = _tickets.settings(audit.config)
    tk = res.tk = _tickets.prepare(audit.table("tickets"))
    res.dated = bool(tk["created_at"].notna().any())  # an export with response times but no creation time
    res.volume_channel = _tickets.volume(tk, "channel")
    if "category" in tk.columns:
        res.volume_category = _tickets.volume(tk, "category")
    if res.dated:
        res.monthly = _tickets.monthly(tk, "channel")
    res.first_response = _tickets.time_table(tk, "first_response_h", min_base=min_base)
    res.resolution = _tickets.time_table(tk, "resolution_h", min_base=min_base)
    res.sla = _tickets.sla_table(tk, cfg, min_base=min_base)
    if "customer_id" in tk.columns:
        repeat = _tickets.repeat_contacts(tk, cfg.repeat_days)
        res.repeats = {by: _tickets.repeat_table(tk, repeat, by, min_base=min_base)
                       for by in ("channel", "category") if by in tk.columns}
    res.tth = _tickets.ticket_themes(tk, codeframe, lang=lang, names=names, min_base=min_base, seed=audit.config.seed)
    if res.has_ticket_themes and res.tth is not None:
        res.shared = _tickets.shared_themes(res.voc.table if res.voc is not None else None, res.tth)
    if res.dated and ("category" in tk.columns or res.tth is not None):
        res.total_trend = _tickets.total_trend(tk)
        if "category" in tk.columns:
            res.rising_categories = _tickets.rising(tk, "category")
        if res.has_ticket_themes and res.tth is not None:
            res.rising_themes = _tickets.rising_themes(tk, res.tth)
    sc = audit.config.scales.csat
    res.csat = _tickets.csat_by_channel(tk, scale=sc.max, top_box=sc.top_box, min_base=min_base)
    return res


#: The confidence every "differs" / "no difference" line of the section states (95 %).
ALPHA = 0.05


def differs(p_holm: pd.Series, alpha: float = ALPHA) -> bool:
    """Whether any Holm-adjusted p-value of a family of tests is below ``alpha`` (missing ones are not)."""
    p = pd.to_numeric(p_holm, errors="coerce")
    return bool((p < alpha).any())


def rises(trend: pd.DataFrame | None) -> bool:
    """Whether any row of a :func:`cxaudit.tickets.trend_table` rises (count, or share of all tickets)."""
    if trend is None or trend.empty:
        return False
    share = trend["rising_share"].astype(bool) if "rising_share" in trend.columns else False
    return bool((trend["rising"].astype(bool) | share).any())


def _channel(res: VocSection, values: Any, lang: str) -> list[str]:
    return [res.audit.config.value_label("channel", c, lang) for c in values]


def _lift(v: float, lo: float, hi: float, lang: str) -> str:
    return f"{fmt_num(v, lang, 2)} [{fmt_num(lo, lang, 2)}; {fmt_num(hi, lang, 2)}]"


def _theme_name(res: VocSection, key: str, lang: str) -> str:
    return res.codeframe.theme(key).name(lang)


# --- comments ------------------------------------------------------------------------------------------


def blocks_intro(res: VocSection, lang: str) -> list[Any]:
    """The section heading and its introduction."""
    return [_show.section("voc", lang), _show.paragraph(t("voc.intro", lang))]


def blocks_comments(res: VocSection, lang: str) -> list[Any]:
    """How many comments, in which languages, coded with which codeframe and how well."""
    voc = res.voc
    if voc is None:
        return [_show.missing_input(t("voc.what_comments", lang), lang)]
    n_com, n_resp = len(voc.comments), voc.n_respondents
    out: list[Any] = [
        _show.heading(t("voc.comments_heading", lang), "voc"),
        _show.paragraph(t("voc.comments_base", lang, n=fmt_num(n_com, lang, 0), respondents=fmt_num(n_resp, lang, 0),
                          share=fmt_pct(n_com / n_resp, lang))),
        _show.note(t("voc.languages", lang, langs=_text.language_summary(voc, lang))),
        _show.note(_text.codeframe_note(res.cf_choice, lang)),
    ]
    if res.coverage is not None:
        out += _text.coverage_blocks(res.coverage, lang)
    return out


def blocks_themes(res: VocSection, lang: str) -> list[Any]:
    """Themes of the comments: shares, and detractors against promoters (or low / high on the outcome)."""
    voc = res.voc
    if voc is None or not res.has_themes:
        return []
    tab = voc.table.copy()
    tab["type"] = [t(f"voc.polarity_{p}", lang) for p in tab["polarity"]]
    tab["lift_txt"] = [_lift(v, lo, hi, lang) for v, lo, hi in zip(tab["lift"], tab["lift_low"], tab["lift_high"], strict=True)]
    tab["p_txt"] = [f"<{fmt_num(0.001, lang, 3)}" if p < 0.001 else fmt_num(p, lang, 3) for p in tab["p_holm"]]
    tab["diff_pp"], tab["diff_low_pp"], tab["diff_high_pp"] = tab["diff"] * 100, tab["diff_low"] * 100, tab["diff_high"] * 100
    # the groups compared: detractors / promoters (NPS), low / high on the survey's outcome, or none (no score)
    low_name, high_name = _text.group_labels(voc, lang)
    out: list[Any] = [_show.heading(t("voc.themes_heading", lang), "voc")]
    theme_cols = [Col("label", "voc.col_theme"), Col("type", "voc.col_type"), Col("mentions", "voc.col_mentions", "int"),
                  Col("share", "voc.col_share", "pct", lo="share_low", hi="share_high")]
    if voc.basis == "frequency":
        return out + [_show.note(t("voc.themes_note_frequency", lang)),
                      _show.table(tab, theme_cols, lang, small_base=None),
                      _show.note(f"n = {fmt_num(len(voc.comments), lang, 0)}"),
                      _text.themes_figure(voc.table, lang)]
    by_outcome = voc.basis == "outcome"
    if by_outcome:
        out.append(_show.note(t("voc.themes_note_outcome", lang, outcome=_outcome.label(voc.outcome, lang),
                                low=low_name, high=high_name)))
    else:
        out.append(_show.note(t("voc.themes_note", lang)))
    out.append(_show.table(tab, [
        *theme_cols,
        Col("share_det", low_name if by_outcome else "voc.col_share_det", "pct", lo="share_det_low", hi="share_det_high"),
        Col("share_prom", high_name if by_outcome else "voc.col_share_prom", "pct", lo="share_prom_low", hi="share_prom_high"),
        Col("diff_pp", "voc.col_diff", "signed1", lo="diff_low_pp", hi="diff_high_pp"),
        Col("lift_txt", "voc.col_lift"), Col("p_txt", "voc.col_p"),
    ], lang, small_base=None))
    out.append(_show.note(f"n = {fmt_num(len(voc.comments), lang, 0)}; "
                          f"{low_name}: n = {fmt_num(int(tab['n_det'].iloc[0]), lang, 0)}; "
                          f"{high_name}: n = {fmt_num(int(tab['n_prom'].iloc[0]), lang, 0)}"))
    out.append(_text.themes_figure(voc.table, lang, (low_name, high_name) if by_outcome else None))
    return out


def blocks_touchpoint_themes(res: VocSection, lang: str) -> list[Any]:
    """Complaint themes over-represented among a touchpoint's low raters (one line when none is)."""
    tp_themes = res.tp_themes
    if tp_themes is None:
        return []
    cfg = res.audit.config
    a_tp = tp_themes.attrs
    low_box = f"{fmt_num(cfg.scales.touchpoint.min, lang, 0)}–{fmt_num(a_tp['low_cut'], lang, 0)}"
    out: list[Any] = [
        _show.heading(t("voc.tp_themes_heading", lang), "voc"),
        _show.note(t("voc.tp_themes_note", lang, n=fmt_num(a_tp["n_coded"], lang, 0), low_box=low_box,
                     tested=fmt_num(a_tp["n_tested"], lang, 0), min_mentions=a_tp["min_mentions"],
                     min_base=a_tp["min_base"]))]
    over = tp_themes[tp_themes["over"]]
    if over.empty:
        return out + [_show.note(t("voc.tp_themes_none", lang, tested=fmt_num(a_tp["n_tested"], lang, 0)))]
    top = over.head(10).copy()
    top["stage_txt"] = [cfg.value_label("stage", s, lang) for s in top["stage"]]
    top["low_txt"] = [f"{fmt_pct(s, lang)} ({fmt_num(k, lang, 0)} / {fmt_num(n, lang, 0)})"
                      for s, k, n in zip(top["share_low"], top["k_low"], top["n_low"], strict=True)]
    top["other_txt"] = [f"{fmt_pct(s, lang)} ({fmt_num(k, lang, 0)} / {fmt_num(n, lang, 0)})"
                        for s, k, n in zip(top["share_other"], top["k_other"], top["n_other"], strict=True)]
    top["low_ci"] = [fmt_ci(lo, hi, lang, 0, scale=100) for lo, hi in zip(top["share_low_lo"], top["share_low_hi"], strict=True)]
    top["other_ci"] = [fmt_ci(lo, hi, lang, 0, scale=100)
                       for lo, hi in zip(top["share_other_lo"], top["share_other_hi"], strict=True)]
    top["lift_txt"] = [_lift(v, lo, hi, lang) for v, lo, hi in zip(top["lift"], top["lift_lo"], top["lift_hi"], strict=True)]
    top["p_txt"] = [_journey.fmt_p_value(p, lang) for p in top["p_holm"]]
    top["lift_mh_txt"] = [fmt_num(v, lang, 2) if v == v else "–" for v in top["lift_mh"]]
    top["p_mh_txt"] = [_journey.fmt_p_value(p, lang) if p == p else "–" for p in top["p_cmh_holm"]]
    out.append(_show.table(top, [
        Col("label", "voc.col_touchpoint"), Col("stage_txt", "voc.col_stage"), Col("theme_label", "voc.col_theme"),
        Col("low_txt", "voc.col_tp_low"), Col("low_ci", "metrics.col_ci"),
        Col("other_txt", "voc.col_tp_other"), Col("other_ci", "metrics.col_ci"),
        Col("lift_txt", "voc.col_lift"), Col("p_txt", "voc.col_p"),
        Col("lift_mh_txt", "voc.col_lift_mh"), Col("p_mh_txt", "voc.col_p_mh"),
    ], lang, small_base=None))
    if len(over) > len(top):
        out.append(_show.note(t("voc.tp_themes_top", lang, shown=len(top), over=len(over))))
    return out


def blocks_channel_themes(res: VocSection, lang: str) -> list[Any]:
    """Complaint themes by the response's channel (shares with Wilson intervals, Holm p per theme); one
    sentence instead of the table when no theme differs between channels (:func:`differs`)."""
    wide, voc = res.channel_themes, res.voc
    if wide is None or wide.empty or voc is None or voc.by_channel is None:
        return []
    wide = wide.copy()
    keys = [k for k in voc.table["theme"] if k in wide.columns]
    p_holm = voc.by_channel.drop_duplicates("theme").set_index("theme")["p_holm"]
    heading = _show.heading(t("voc.by_channel_heading", lang), "voc")
    if not differs(p_holm.reindex(keys)):  # nothing differs: one line instead of the table
        return [heading, _show.paragraph(t("voc.by_channel_no_difference", lang, themes=len(keys)))]
    wide["channel_label"] = _channel(res, wide["channel"], lang)
    out: list[Any] = [
        heading,
        _show.note(t("voc.by_channel_note", lang, p=", ".join(
            f"{_theme_name(res, k, lang)} {fmt_num(p_holm[k], lang, 3)}" for k in keys))),
        _show.table(wide, [Col("channel_label", "voc.col_channel"), Col("n", "metrics.col_n", "int"),
                           *[Col(k, _theme_name(res, k, lang), "pct", lo=f"{k}_lo", hi=f"{k}_hi") for k in keys]], lang)]
    if wide["small_base"].any():
        out.append(_show.note(t("report.small_base", lang, min=res.min_base)))
    return out


def blocks_quotes(res: VocSection, lang: str) -> list[Any]:
    """Representative quotes per theme (redacted)."""
    voc = res.voc
    if voc is None or not res.has_themes:
        return []
    rows = [{"theme": _theme_name(res, k, lang), "quote": q} for k in voc.table["theme"] for q in voc.quotes.get(k, [])]
    if not rows:
        return []
    return [_show.heading(t("voc.quotes_heading", lang), "voc"),
            _show.table(pd.DataFrame(rows), [Col("theme", "voc.col_theme"), Col("quote", "voc.col_quote")], lang,
                        small_base=None)]


def blocks_topics(res: VocSection, lang: str) -> list[Any]:
    """Topics found in the comments the codeframe does not code (TF-IDF + NMF)."""
    voc = res.voc
    if voc is None:
        return []
    out: list[Any] = [_show.heading(t("voc.topics_heading", lang), "voc")]
    if voc.topics.empty:
        return out + [_show.note(t("voc.no_topics", lang))]
    n_uncoded = int((~voc.coding.any).sum())
    out.append(_show.note(t("voc.topics_note", lang, n=fmt_num(n_uncoded, lang, 0))))
    topics = voc.topics.assign(terms_txt=voc.topics["terms"].map(", ".join),
                               examples_txt=voc.topics["examples"].map(" · ".join),
                               lang_name=[res.audit.config.value_label("lang", c, lang) for c in voc.topics["lang"]])
    out.append(_show.table(topics, [
        Col("lang_name", "voc.col_lang"), Col("label", "voc.col_topic"), Col("terms_txt", "voc.col_terms"),
        Col("n", "voc.col_mentions", "int"),
        Col("share", "voc.col_share", "pct"), Col("examples_txt", "voc.col_examples"),
    ], lang, small_base=None))
    return out


# --- tickets -------------------------------------------------------------------------------------------


def blocks_tickets(res: VocSection, lang: str) -> list[Any]:
    """Support tickets: the period, counts and volumes by channel and category, the monthly chart."""
    tk = res.tk
    if tk is None:
        return [_show.heading(t("voc.tickets_heading", lang), "voc"), _show.missing_input(t("table.tickets", lang), lang)]
    counts = {"n": fmt_num(len(tk), lang, 0), "open": fmt_num(int((~tk["answered"]).sum()), lang, 0),
              "unresolved": fmt_num(int((~tk["resolved"]).sum()), lang, 0)}
    out: list[Any] = [
        _show.heading(t("voc.tickets_heading", lang), "voc"),
        _show.paragraph(t("voc.tickets_intro", lang, start=fmt_date(tk["created_at"].min().date(), lang),
                          end=fmt_date(tk["created_at"].max().date(), lang), **counts) if res.dated
                        else t("voc.tickets_intro_undated", lang, **counts)),
        _show.heading(t("voc.tickets_volume_heading", lang), "voc")]
    vol = res.volume_channel.copy() if res.volume_channel is not None else pd.DataFrame()
    vol["channel_label"] = _channel(res, vol["channel"], lang)
    out.append(_show.table(vol, [Col("channel_label", "voc.col_channel"), Col("n", "voc.col_tickets", "int"),
                                 Col("share", "voc.col_ticket_share", "pct", lo="ci_low", hi="ci_high")], lang,
                           small_base=None))
    if res.volume_category is not None:
        out.append(_show.table(res.volume_category, [
            Col("category", "voc.col_category"), Col("n", "voc.col_tickets", "int"),
            Col("share", "voc.col_ticket_share", "pct", lo="ci_low", hi="ci_high")], lang, small_base=None))
    if res.monthly is not None:
        out.append(_tickets.monthly_figure(res.monthly, lang))
    return out


def blocks_ticket_times(res: VocSection, lang: str) -> list[Any]:
    """First-response and resolution times per channel (median, 90th percentile, their intervals)."""
    if res.tk is None or res.first_response is None or res.resolution is None or res.cfg is None:
        return []
    first = _tickets.with_durations(res.first_response, lang)
    rs = _tickets.with_durations(res.resolution, lang).set_index("channel")
    first = first.merge(rs[["n_done", "median_txt", "median_ci_txt", "p90_txt", "p90_ci_txt"]].add_suffix("_res"),
                        left_on="channel", right_index=True, how="left")
    first["channel_label"] = _channel(res, first["channel"], lang)
    return [
        _show.heading(t("voc.tickets_times_heading", lang), "voc"),
        _show.note(t("voc.tickets_times_note", lang)),
        _show.table(first, [
            Col("channel_label", "voc.col_channel"), Col("n", "voc.col_tickets", "int"), Col("n_done", "voc.col_answered", "int"),
            Col("median_txt", "voc.col_first_median"), Col("median_ci_txt", "metrics.col_ci"),
            Col("p90_txt", "voc.col_first_p90"), Col("p90_ci_txt", "metrics.col_ci"),
            Col("n_done_res", "voc.col_resolved", "int"), Col("median_txt_res", "voc.col_resolution_median"),
            Col("median_ci_txt_res", "metrics.col_ci"), Col("p90_txt_res", "voc.col_resolution_p90"),
        ], lang),
        _tickets.times_figure(res.tk, res.cfg, lang),
    ]


def blocks_ticket_sla(res: VocSection, lang: str) -> list[Any]:
    """Share of tickets answered within the expected time, per channel."""
    if res.sla is None or res.cfg is None:
        return []
    cfg = res.cfg
    sla = res.sla.copy()
    sla["channel_label"] = _channel(res, sla["channel"], lang)
    sla["sla_txt"] = [_tickets.fmt_hours(h, lang) if h == h and h is not None else "–" for h in sla["sla_h"]]
    sla["status_txt"] = [t(f"voc.sla_{s}", lang) for s in sla["status"]]
    listed = ", ".join(f"{res.audit.config.value_label('channel', ch, lang)} {_tickets.fmt_hours(h, lang)}"
                       for ch, h in cfg.sla_hours.items())
    return [
        _show.heading(t("voc.tickets_sla_heading", lang), "voc"),
        _show.note(t("voc.tickets_sla_note", lang, list=listed, target=fmt_pct(cfg.sla_target, lang))),
        _show.table(sla, [
            Col("channel_label", "voc.col_channel"), Col("sla_txt", "voc.col_sla"), Col("n_assessed", "metrics.col_n", "int"),
            Col("share", "voc.col_within_sla", "pct", lo="ci_low", hi="ci_high"), Col("status_txt", "voc.col_status"),
        ], lang),
    ]


def blocks_ticket_repeats(res: VocSection, lang: str) -> list[Any]:
    """Repeat contacts (the same customer again within the window) by channel and category."""
    if res.repeats is None or res.cfg is None:
        return []
    out: list[Any] = [_show.heading(t("voc.tickets_repeat_heading", lang), "voc"),
                      _show.note(t("voc.tickets_repeat_note", lang, days=res.cfg.repeat_days))]
    for by, header in (("channel", "voc.col_channel"), ("category", "voc.col_category")):
        if by not in res.repeats:
            continue
        rt = res.repeats[by].copy()
        rt["label"] = _channel(res, rt[by], lang) if by == "channel" else rt[by]
        out.append(_show.table(rt, [Col("label", header), Col("n", "voc.col_tickets", "int"), Col("k", "voc.col_repeat", "int"),
                                    Col("share", "voc.col_ticket_share", "pct1", lo="ci_low", hi="ci_high")], lang))
    return out


def blocks_ticket_themes(res: VocSection, lang: str) -> list[Any]:
    """Themes of the ticket texts by channel; one sentence instead of the table when no theme differs
    between channels (:func:`differs`)."""
    if res.tk is None:
        return []
    out: list[Any] = [_show.heading(t("voc.tickets_themes_heading", lang), "voc")]
    tth = res.tth
    if tth is None:
        return out + [_show.note(t("voc.tickets_no_text", lang))]
    if not res.has_ticket_themes:
        return out + [_show.note(t("voc.tickets_themes_none", lang))]
    twide = _tickets.theme_channel_wide(tth, lang, min_base=res.min_base)
    tkeys = tth.table.loc[tth.table["k"] > 0, "theme"].tolist()
    tp_holm = tth.by_channel.drop_duplicates("theme").set_index("theme")["p_holm"]
    if not differs(tp_holm.reindex(tkeys)):  # nothing differs between channels: one line instead of the table
        return out + [_show.paragraph(t("voc.tickets_themes_no_difference", lang, n=fmt_num(tth.n_text, lang, 0),
                                        themes=len(tkeys)))]
    out.append(_show.note(t("voc.tickets_themes_note", lang, n=fmt_num(tth.n_text, lang, 0),
                            total=fmt_num(tth.n_tickets, lang, 0),
                            p=", ".join(f"{_theme_name(res, k, lang)} {fmt_num(tp_holm[k], lang, 3)}" for k in tkeys))))
    out.append(_show.table(twide, [Col("channel_label", "voc.col_channel"), Col("n", "voc.col_tickets", "int"),
                                   *[Col(k, _theme_name(res, k, lang), "pct", lo=f"{k}_lo", hi=f"{k}_hi") for k in tkeys]],
                           lang))
    if twide["small_base"].any():
        out.append(_show.note(t("report.small_base", lang, min=res.min_base)))
    return out


def blocks_shared_themes(res: VocSection, lang: str) -> list[Any]:
    """Themes that recur in both comments and tickets, and example tickets per theme."""
    tth, same = res.tth, res.shared
    if tth is None or same is None:
        return []
    same = same.copy()
    same["type"] = [t(f"voc.polarity_{p}", lang) for p in same["polarity"]]
    same["recurs_txt"] = [t("voc.recurs_" + ("both" if b else "comments" if c else "tickets" if k else "none"), lang)
                          for b, c, k in zip(same["in_both"], same["in_comments"], same["in_tickets"], strict=True)]
    out: list[Any] = [
        _show.heading(t("voc.same_heading", lang), "voc"),
        _show.note(t("voc.same_note", lang, min=_tickets.RECUR_MIN_MENTIONS,
                     share=fmt_pct(_tickets.RECUR_MIN_SHARE, lang),
                     n_comments=fmt_num(len(res.voc.comments), lang, 0) if res.voc is not None else "0",
                     n_tickets=fmt_num(tth.n_text, lang, 0))),
        _show.table(same, [
            Col("label", "voc.col_theme"), Col("type", "voc.col_type"),
            Col("c_k", "voc.col_comment_mentions", "int"), Col("c_share", "voc.col_share", "pct", lo="c_low", hi="c_high"),
            Col("t_k", "voc.col_ticket_mentions", "int"), Col("t_share", "voc.col_ticket_theme_share", "pct", lo="t_low", hi="t_high"),
            Col("recurs_txt", "voc.col_recurs"),
        ], lang, small_base=None)]
    trows = [{"theme": _theme_name(res, k, lang), "quote": q} for k in tth.table["theme"] for q in tth.quotes.get(k, [])]
    if trows:
        out += [_show.heading(t("voc.tickets_examples_heading", lang), "voc"),
                _show.table(pd.DataFrame(trows), [Col("theme", "voc.col_theme"), Col("quote", "voc.col_ticket_text")],
                            lang, small_base=None)]
    return out


_TREND_COLS = [Col("n", "voc.col_tickets", "int"), Col("months", "voc.col_months", "int"),
               Col("trend", "voc.col_trend_count", "pct1", lo="trend_lo", hi="trend_hi"), Col("p_txt", "voc.col_p"),
               Col("share_trend", "voc.col_trend_share", "pct1", lo="share_trend_lo", hi="share_trend_hi"),
               Col("share_p_txt", "voc.col_p"), Col("status_txt", "voc.col_status")]


def blocks_ticket_trends(res: VocSection, lang: str) -> list[Any]:
    """Rising ticket counts by category and by theme (quasi-Poisson, Holm) against total volume: each
    table only when a row rises (its count or its share of all tickets, :func:`rises`), else one line."""
    if res.tk is None or not res.dated or ("category" not in res.tk.columns and res.tth is None):
        return []
    total = res.total_trend
    out: list[Any] = [
        _show.heading(t("voc.tickets_rising_count_heading", lang), "voc"),
        _show.note(t("voc.tickets_rising_count_note", lang,
                     total=("+" if total and total["rate_ratio"] > 1 else "") + fmt_pct(total["rate_ratio"] - 1, lang, 1)
                     if total else "–",
                     ci=fmt_ci(total["ci_low"] - 1, total["ci_high"] - 1, lang, 1, scale=100) if total else "–"))]
    ris = res.rising_categories
    if ris is not None:
        if rises(ris):
            out.append(_show.table(_tickets.trend_view(ris, lang), [Col("category", "voc.col_category"), *_TREND_COLS],
                                   lang, small_base=None))
        if ris.empty or not ris["rising"].any():
            out.append(_show.note(t("voc.tickets_rising_count_none", lang)))
    tris = res.rising_themes
    if tris is not None:
        out.append(_show.note(t("voc.tickets_rising_themes_note", lang)))
        if rises(tris):
            out.append(_show.table(_tickets.trend_view(tris, lang), [Col("label", "voc.col_theme"), *_TREND_COLS],
                                   lang, small_base=None))
        if tris.empty or not tris["rising"].any():
            out.append(_show.note(t("voc.tickets_rising_themes_none", lang)))
    return out


def blocks_ticket_csat(res: VocSection, lang: str) -> list[Any]:
    """Ticket CSAT per channel (top box share, Wilson)."""
    cs = res.csat
    if cs is None or cs.empty:
        return []
    cs = cs.copy()
    cs["channel_label"] = _channel(res, cs["channel"], lang)
    return [_show.heading(t("voc.tickets_csat_heading", lang), "voc"),
            _show.table(cs, [Col("channel_label", "voc.col_channel"), Col("n", "metrics.col_n", "int"),
                             Col("value", "voc.col_csat", "pct", lo="ci_low", hi="ci_high")], lang)]


# --- findings and the tables behind the section ---------------------------------------------------------


def findings(res: VocSection, lang: str) -> list[Finding]:
    """The section's findings: comment themes (:func:`cxaudit.text.voc_findings`) with the tickets'
    evidence, touchpoint themes, and the ticket findings (:func:`cxaudit.tickets.ticket_findings`)."""
    audit = res.audit
    out: list[Finding] = []
    if res.voc is not None:
        out = _text.voc_findings(res.voc, lang, audit.tables.get("touchpoints"))
        if res.has_ticket_themes and res.tth is not None:
            _tickets.add_ticket_evidence(out, _tickets.shared_themes(res.voc.table, res.tth))
        if res.tp_themes is not None:
            out += _text.touchpoint_theme_findings(res.tp_themes, lang, res.voc.n_respondents)
    if res.tk is not None and res.cfg is not None:
        n_customers = None
        if audit.has("customers"):  # a table kept in the query engine: its kept count, not its rows
            n_customers = audit.kept["customers"] if audit.is_engine("customers") else len(audit.table("customers"))
        out += _tickets.ticket_findings(res.tk, res.cfg, lang, n_customers=n_customers, min_base=res.min_base,
                                        themes=res.tth, channel_labels=audit.config.value_labels.get("channel"),
                                        responses=audit.responses if audit.has("responses") else None)
    return out


def save_tables(res: VocSection, folder: Any) -> None:
    """The tables behind the section as CSV in the run's artifacts (no raw text: examples are redacted)."""
    if res.voc is not None:
        write_csv(res.voc.table, folder / "voc_themes.csv", index=False, redact=True)
        write_csv(res.voc.topics, folder / "voc_topics.csv", index=False, redact=True)
        if res.coverage is not None:
            write_csv(res.coverage, folder / "voc_coverage.csv", index=False, redact=True)
        if res.tp_themes is not None:
            write_csv(res.tp_themes, folder / "voc_touchpoint_themes.csv", index=False, redact=True)
    if res.tk is not None and res.sla is not None:
        write_csv(res.sla, folder / "voc_tickets_sla.csv", index=False, redact=True)
        if res.rising_categories is not None:
            write_csv(res.rising_categories, folder / "voc_tickets_rising.csv", index=False, redact=True)
        if res.tth is not None:
            write_csv(res.tth.table, folder / "voc_tickets_themes.csv", index=False, redact=True)
