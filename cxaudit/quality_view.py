"""The data-quality section (notebook 01): one analysis call, then display blocks.

:func:`cxaudit.quality.analyse` returns the section's tables without language
(:class:`cxaudit.quality.QualityAnalysis`); the ``blocks_*(res, lang)`` functions here turn them into
display blocks (:mod:`cxaudit.show` HTML), one per group of the report. The checks that ran and found
nothing are summed up in one line (issue 14: results with no difference collapse to one line); the
scorecard keeps rows in = kept + excluded for every input. Methods are in :mod:`cxaudit.quality`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from . import quality as q
from . import show as _show
from .findings import Finding
from .i18n import t
from .show import Col

__all__ = ["blocks_intro", "blocks_scorecard", "blocks_exclusions", "blocks_checks", "blocks_flags",
           "blocks_completeness", "blocks_bases", "findings"]

_SEC = "data_quality"
_BY_RULE_COLS = [Col("table_label", "quality.col_table"), Col("reason", "quality.col_rule"),
                 Col("rows", "quality.col_count", "int"), Col("example", "quality.col_example")]


def _table_label(table: object, lang: str) -> str:
    return t(f"table.{table}", lang)


def blocks_intro(res: q.QualityAnalysis, lang: str) -> list[Any]:
    """The section heading and its introduction."""
    return [_show.section(_SEC, lang), _show.paragraph(t("quality.intro", lang))]


def blocks_scorecard(res: q.QualityAnalysis, lang: str) -> list[Any]:
    """Per input: file, how it was read, rows received / used / excluded; then the conversions made
    while reading, when there were any."""
    inputs = res.inputs.assign(
        table_label=[_table_label(tb, lang) for tb in res.inputs["table"]],
        source=[q.source_text(res.info[tb], lang, short=True) for tb in res.inputs["table"]])
    out: list[Any] = [
        _show.heading(t("quality.scorecard", lang), _SEC), _show.paragraph(t("quality.scorecard_intro", lang)),
        _show.table(inputs, [
            Col("table_label", "quality.col_table"), Col("file", "quality.col_file"),
            Col("source", "quality.col_source"), Col("rows_in", "quality.col_rows_in", "int"),
            Col("kept", "quality.col_kept", "int"), Col("excluded", "quality.col_excluded", "int"),
        ], lang)]
    details = pd.DataFrame([{"table_label": _table_label(tb, lang), "detail": d}
                            for tb in res.inputs["table"] for d in q.input_details(res.info[tb], lang)],
                           columns=["table_label", "detail"])
    if len(details):
        out += [_show.heading(t("quality.details", lang), _SEC),
                _show.table(details, [Col("table_label", "quality.col_table"),
                                      Col("detail", "quality.col_detail")], lang)]
    return out


def blocks_exclusions(res: q.QualityAnalysis, lang: str) -> list[Any]:
    """Excluded rows by table and reason with an example row, or the line saying none was excluded."""
    out: list[Any] = [_show.heading(t("quality.exclusions", lang), _SEC)]
    if res.exclusions.empty:
        return out + [_show.note(t("quality.no_exclusions", lang))]
    return out + [_show.table(q.label_by_rule(res.exclusions, lang), _BY_RULE_COLS, lang)]


def _clean_line(res: q.QualityAnalysis, lang: str) -> list[Any]:
    """The checks that found no row, in one line (their names and zero counts go to tables.xlsx only)."""
    if not res.clean:
        return []
    names = pd.DataFrame({"reason": [q.rule_label(r, lang) for r in res.clean], "rows": 0})
    _show.export_table(names, [Col("reason", "quality.col_rule"), Col("rows", "quality.col_count", "int")], lang,
                       caption=t("quality.checks_clean_caption", lang))
    return [_show.note(t("quality.checks_clean", lang, checks="; ".join(names["reason"])))]


def blocks_checks(res: q.QualityAnalysis, lang: str) -> list[Any]:
    """Every check that flagged rows (rows, share of rows received, whether it excludes, the first rows),
    then the checks that found nothing in one line; with no check firing, only that line."""
    out: list[Any] = [_show.heading(t("quality.checks", lang), _SEC)]
    if res.checks.empty:
        return out + (_clean_line(res, lang) or [_show.note(t("quality.no_checks", lang))])
    checks = res.checks.assign(
        table_label=[_table_label(tb, lang) for tb in res.checks["table"]],
        reason=[q.rule_label(str(r), lang) for r in res.checks["rule"]],
        excludes=res.checks["excluded"].map({True: t("quality.yes", lang), False: t("quality.no", lang)}))
    out += [_show.paragraph(t("quality.checks_intro", lang)), _show.table(checks, [
        Col("table_label", "quality.col_table"), Col("reason", "quality.col_rule"),
        Col("rows", "quality.col_count", "int"), Col("share", "quality.col_share", "pct1"),
        Col("excludes", "quality.col_excludes"), Col("rows_list", "quality.col_rows_list"),
    ], lang)]
    return out + _clean_line(res, lang)


def blocks_flags(res: q.QualityAnalysis, lang: str) -> list[Any]:
    """Problems flagged on rows that were kept, or the line saying there were none."""
    out: list[Any] = [_show.heading(t("quality.flags_kept", lang), _SEC)]
    if res.flags.empty:
        return out + [_show.note(t("quality.no_flags", lang))]
    return out + [_show.table(q.label_by_rule(res.flags, lang), _BY_RULE_COLS, lang)]


def blocks_completeness(res: q.QualityAnalysis, lang: str) -> list[Any]:
    """Answered share of the key questions with its 95% interval."""
    comp = res.completeness.assign(label=[q.column_label(res.audit, c, lang) for c in res.completeness["column"]])
    return [_show.heading(t("quality.completeness", lang), _SEC), _show.table(comp, [
        Col("label", "quality.col_column"), Col("answered", "quality.col_answered", "int"),
        Col("n", "metrics.col_n", "int"), Col("share", "quality.col_complete", "pct"),
        Col("ci_low", "metrics.col_ci", "ci_pct", hi="ci_high"),
    ], lang)]


def blocks_bases(res: q.QualityAnalysis, lang: str) -> list[Any]:
    """Base size per segment group, small bases marked (and the note on them)."""
    if not len(res.bases):
        return []
    audit = res.audit
    bases = res.bases.assign(segment=res.bases["segment"].map(audit.segment_label),
                             group=q.group_labels(audit, res.bases, lang),
                             flag=res.bases["small_base"].map({True: t("quality.flag_small", lang), False: ""}))
    out: list[Any] = [_show.heading(t("quality.bases", lang), _SEC), _show.table(bases, [
        Col("segment", "quality.col_segment"), Col("group", "quality.col_group"),
        Col("n", "metrics.col_n", "int"), Col("flag", "quality.col_flag", "flag"),
    ], lang)]
    if bases["small_base"].any():
        out.append(_show.note(t("report.small_base", lang, min=audit.config.min_base)))
    return out


def findings(res: q.QualityAnalysis, lang: str) -> list[Finding]:
    """The section's findings (:func:`cxaudit.quality.quality_findings`)."""
    return q.quality_findings(res.audit, lang)
