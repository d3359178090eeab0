"""Data-quality audit: what was collected, how good it is, and what was excluded and why.

Two halves:

- **Row checks** (:func:`row_checks`), run by :func:`cxaudit.schema.conform` while loading, so each
  flagged row lands in the exclusion log with its file, row, rule, column and value. The consultant
  chooses in ``audit.yaml`` (``quality.exclude``) which of them exclude rows; the others only flag.

  ===================== =================================================================================
  rule                  what it flags
  ===================== =================================================================================
  speeder               duration below ``quality.speeder_fraction`` × the median duration (METHODS.md)
  straightliner         a rating grid (``tp_*``, at least ``straightliner_min_items`` answered) whose
                        standard deviation is at most ``straightliner_max_sd`` (0: all the same)
  duplicate_respondent  the same customer giving the same answers again under another response id
  unfinished            ``finished`` is false (Qualtrics ``Finished`` = 0: a partial response)
  future_date           a date after ``quality.as_of`` (default: today); excluded by default
  inconsistent_date     a date before 1900; ``churn_date``
                        before ``start_date``; ``first_response_at`` / ``resolved_at`` before
                        ``created_at``; ``resolved_at`` before ``first_response_at``
  short_answer          an open answer with fewer than ``min_answer_chars`` letters or digits
  gibberish             an open answer that is keyboard mashing (see :func:`gibberish_mask`)
  oversized_value       a text cell longer than ``max_answer_chars`` characters
  ===================== =================================================================================

  (``duplicate_id``, ``out_of_range``, ``invalid_value``, ``invalid_date``, ``missing_required`` and
  the reader's ``malformed_row`` / ``truncated_row`` / ``repeated_header`` / ``mixed_date_format`` are
  logged by :mod:`cxaudit.schema` and :mod:`cxaudit.io`.)

- **The section's analysis** (notebook 01): :func:`analyse` returns a :class:`QualityAnalysis` without
  language: intake, :func:`exclusions`, :func:`flags`, :func:`checks`, :func:`clean_checks` (the checks
  that ran and found no row), :func:`answered` and :func:`base_counts`; :mod:`cxaudit.quality_view`
  turns it into display blocks.

- **Summaries in a language for the report and the CLI**: :func:`exclusion_summary`, :func:`flag_summary`,
  :func:`check_summary` (counts and affected rows per check), :func:`completeness` (answered share per column with a Wilson interval),
  :func:`base_sizes` (per segment group against ``min_base``, "Not stated" included), :func:`scorecard` /
  :func:`scorecard_text` (per input: rows in / kept / excluded by reason, completeness, flags),
  and :func:`quality_findings`.

Rows in = rows kept + rows excluded holds per table (:meth:`cxaudit.audit.Audit.intake` asserts it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .findings import Finding
from .i18n import fmt_int, fmt_pct, t
from .metrics import Z95, wilson
from .stats import NOT_STATED, group_name, segment_keys

if TYPE_CHECKING:
    from .audit import Audit

__all__ = [
    "RowCheck",
    "row_checks",
    "speeder_mask",
    "straightliner_mask",
    "duplicate_respondent_mask",
    "short_answer_mask",
    "gibberish_mask",
    "inconsistent_dates",
    "QualityAnalysis",
    "analyse",
    "exclusions",
    "flags",
    "checks",
    "clean_checks",
    "label_by_rule",
    "rule_label",
    "answered",
    "base_counts",
    "group_labels",
    "source_text",
    "input_details",
    "exclusion_summary",
    "flag_summary",
    "check_summary",
    "affected_rows",
    "completeness",
    "column_label",
    "base_sizes",
    "InputScore",
    "scorecard",
    "scorecard_text",
    "quality_findings",
]

KEY_COLUMNS = ("nps", "csat", "ces", "comment", "customer_id", "duration_s")

# --- row checks: cxaudit.checks (schema runs them while loading); re-exported here -------------------

from .checks import (  # noqa: E402
    RowCheck,
    duplicate_respondent_mask,
    gibberish_mask,
    inconsistent_dates,
    row_checks,
    short_answer_mask,
    speeder_mask,
    straightliner_mask,
)

# --- summaries ----------------------------------------------------------------------------------


def rule_label(rule: str, lang: str) -> str:
    """A rule id's client-facing name (``rule.<id>`` in the catalog; the id itself when it has none)."""
    try:
        return t(f"rule.{rule}", lang)
    except KeyError:
        return rule


_BY_RULE = ["table", "rule", "rows", "file", "row", "column", "value"]


def _by_rule_counts(log: pd.DataFrame) -> pd.DataFrame:
    """Log rows per (table, rule) in the schema's rule order, with the first affected row (file, row in
    the file, column, value as text) as the example. No language: :func:`label_by_rule` words it."""
    from .schema import RULE_ORDER

    if log.empty:
        return pd.DataFrame(columns=_BY_RULE)
    first = log.sort_values("row").groupby(["table", "rule"], sort=False).head(1).set_index(["table", "rule"])
    counts = log.groupby(["table", "rule"]).size().rename("rows").reset_index()
    counts["_o"] = counts["rule"].map({r: i for i, r in enumerate(RULE_ORDER)}).fillna(len(RULE_ORDER))
    counts = counts.sort_values(["table", "_o"]).drop(columns="_o")
    ex = [first.loc[(tb, r)] for tb, r in zip(counts["table"], counts["rule"], strict=True)]
    counts["file"] = [e["file"] for e in ex]
    counts["row"] = [e["row"] for e in ex]
    counts["column"] = [e["column"] for e in ex]
    counts["value"] = [str(e["value"]) for e in ex]
    return counts.reset_index(drop=True)[_BY_RULE]


def label_by_rule(counts: pd.DataFrame, lang: str) -> pd.DataFrame:
    """:func:`exclusions` / :func:`flags` in ``lang``: the table and rule names and the example line
    (personal data in the example value redacted). Columns ``table, rule, rows, example, table_label, reason``."""
    if counts.empty:
        return pd.DataFrame(columns=["table", "table_label", "rule", "reason", "rows", "example"])
    from .text import pii_labels, redact_pii  # an example value may be a comment with an e-mail in it

    labels = pii_labels(lang)
    out = counts[["table", "rule", "rows"]].copy()
    out["example"] = [t("quality.example", lang, file=f, row=r, column=c, value=redact_pii(v, labels=labels)[:40])
                      for f, r, c, v in zip(counts["file"], counts["row"], counts["column"], counts["value"],
                                            strict=True)]
    out["table_label"] = [t(f"table.{tb}", lang) for tb in out["table"]]
    out["reason"] = [rule_label(r, lang) for r in out["rule"]]
    return out


def _by_rule(log: pd.DataFrame, lang: str) -> pd.DataFrame:
    return label_by_rule(_by_rule_counts(log), lang)


def exclusions(audit: Audit) -> pd.DataFrame:
    """Excluded rows per table and rule (each row counted once, under its first rule), with the first
    one as the example: ``table, rule, rows, file, row, column, value``."""
    return _by_rule_counts(audit.excluded())


def exclusion_summary(audit: Audit, lang: str) -> pd.DataFrame:
    """Excluded rows per table and reason (each row counted once, under its first reason)."""
    return label_by_rule(exclusions(audit), lang)


def _flags_on_kept(audit: Audit) -> pd.DataFrame:
    log = audit.log
    gone = log.loc[log["excluded"], ["table", "row"]].drop_duplicates()
    kept = log[~log["excluded"]].merge(gone, on=["table", "row"], how="left", indicator=True)
    return kept[kept["_merge"] == "left_only"].drop(columns="_merge")


def flags(audit: Audit) -> pd.DataFrame:
    """Problems flagged on rows that were kept, per table and rule (counted once per row and rule), as
    :func:`exclusions`. Rows excluded for another reason are not repeated: :func:`exclusions` counts them."""
    return _by_rule_counts(_flags_on_kept(audit).drop_duplicates(["table", "row", "rule"]))


def flag_summary(audit: Audit, lang: str) -> pd.DataFrame:
    """Problems flagged on rows that were kept (counted once per row and rule), in ``lang``.

    Flags on rows excluded for another reason are not repeated here: those rows are already counted
    in :func:`exclusion_summary`.
    """
    return label_by_rule(flags(audit), lang)


def affected_rows(audit: Audit, rule: str, table: str | None = None) -> pd.DataFrame:
    """The log rows of one check: file, row, column, value and whether the row was excluded."""
    log = audit.log[audit.log["rule"] == rule]
    if table:
        log = log[log["table"] == table]
    return log.sort_values(["table", "row"]).reset_index(drop=True)


_CHECKS = ["table", "rule", "rows", "share", "excluded", "rows_list"]


def checks(audit: Audit) -> pd.DataFrame:
    """One row per (table, check) that fired: rows affected, their share of the rows received, whether
    the rule excludes, and the first affected row numbers (in the schema's rule order).

    Columns: ``table, rule, rows, share, excluded, rows_list``.
    """
    from .schema import ALWAYS_EXCLUDED, RULE_ORDER

    log = audit.log
    if log.empty:
        return pd.DataFrame(columns=_CHECKS)
    out = []
    order = {r: i for i, r in enumerate(RULE_ORDER)}
    for (table, rule), part in log.groupby(["table", "rule"], sort=False):
        rows = np.unique(part["row"].to_numpy(dtype="int64"))
        n_in = audit.rows_in.get(str(table), 0)
        out.append({
            "table": table, "rule": rule, "rows": len(rows),
            "share": len(rows) / n_in if n_in else float("nan"),
            "excluded": rule in audit.config.quality.exclude or rule in ALWAYS_EXCLUDED,
            "rows_list": ", ".join(str(r) for r in rows[:8]) + (" …" if len(rows) > 8 else ""),
            "_o": (str(table), order.get(str(rule), len(order))),
        })
    return pd.DataFrame(out).sort_values("_o").drop(columns="_o").reset_index(drop=True)[_CHECKS]


def check_summary(audit: Audit, lang: str) -> pd.DataFrame:
    """:func:`checks` with the table and rule names in ``lang``.

    Columns: ``table, table_label, rule, reason, rows, share, excluded, rows_list``.
    """
    cols = ["table", "table_label", "rule", "reason", "rows", "share", "excluded", "rows_list"]
    out = checks(audit)
    if out.empty:
        return pd.DataFrame(columns=cols)
    out["table_label"] = [t(f"table.{tb}", lang) for tb in out["table"]]
    out["reason"] = [rule_label(str(r), lang) for r in out["rule"]]
    return out[cols]


def clean_checks(audit: Audit) -> list[str]:
    """The row checks that ran on some table and flagged no row in any (in the schema's rule order):
    what the report sums up in one line (:func:`cxaudit.checks.applicable_rules`)."""
    from .checks import applicable_rules
    from .schema import RULE_ORDER, TABLES

    ran: set[str] = set()
    for name, frame in audit.tables.items():
        if name in TABLES:
            ran.update(applicable_rules(name, frame, audit.config, spec=TABLES[name]))
    fired = set(audit.log["rule"].astype(str)) if len(audit.log) else set()
    order = {r: i for i, r in enumerate(RULE_ORDER)}
    return sorted(ran - fired, key=lambda r: (order.get(r, len(order)), r))


def column_label(audit: Audit, column: str, lang: str) -> str:
    """A client-facing name for a responses column: catalog name, touchpoint label, or the column."""
    if column.startswith("tp_") and audit.has("touchpoints"):
        tps = audit.tables["touchpoints"]
        if "label" in tps.columns:
            ids = tps["touchpoint"].astype(str)
            match = tps.loc[(ids == column) | (ids == column[3:]), "label"]
            if len(match) and isinstance(match.iloc[0], str):
                return match.iloc[0]
    try:
        return t(f"column.{column}", lang)
    except KeyError:
        return column


_COMPLETENESS = ["column", "answered", "n", "share", "ci_low", "ci_high"]


def answered(audit: Audit, columns: tuple[str, ...] = KEY_COLUMNS, *, table: str = "responses") -> pd.DataFrame:
    """Answered share of each column among the kept rows, with a Wilson 95% interval for the share.

    For ``responses`` (the default) ``columns`` are the key survey columns plus every touchpoint
    rating; for another table every column of ``columns`` it has (pass ``tuple(frame.columns)`` for
    all). Without a survey, the table the audit rests on, every column. Columns
    ``column, answered, n, share, ci_low, ci_high``.

    Wilson (1927): centre (p̂ + z²/2n)/(1 + z²/n), half-width z·√(p̂(1−p̂)/n + z²/4n²)/(1 + z²/n).
    """
    if table == "responses" and not audit.has("responses"):
        # no survey (issue 13): the completeness of the table the audit rests on, every column
        found = next((t_ for t_ in ("customers", "tickets", "employees", "touchpoints", "kpis") if audit.has(t_)), None)
        if found is None:
            return pd.DataFrame(columns=_COMPLETENESS)
        table = found
        columns = tuple(audit.engine_table(table).columns if audit.is_engine(table) else audit.table(table).columns)
    if audit.is_engine(table):  # kept in the query engine: the same counts from one aggregate (issue 19)
        return _answered_in_engine(audit, table, columns)
    frame = audit.table(table)
    generated = set((frame.attrs.get("cxaudit_input") or {}).get("generated", []))  # e.g. row-number ids
    cols = [c for c in columns if c in frame.columns and not str(c).startswith("_") and c not in generated]
    if table == "responses":
        cols += [c for c in audit.touchpoint_columns if c not in cols]
    rows = []
    n = len(frame)
    for c in cols:
        done = frame[c].notna()
        if frame[c].dtype == object or str(frame[c].dtype).startswith(("str", "string")):
            done &= frame[c].astype("string").str.strip().ne("").fillna(False)
        k = int(done.sum())
        lo, hi = wilson(np.array([k], dtype=float), np.array([n], dtype=float), Z95)
        rows.append({"column": c, "answered": k, "n": n, "share": k / n if n else float("nan"),
                     "ci_low": float(lo[0]) if n else float("nan"), "ci_high": float(hi[0]) if n else float("nan")})
    return pd.DataFrame(rows, columns=_COMPLETENESS)


def _answered_in_engine(audit: Audit, table: str, columns: tuple[str, ...]) -> pd.DataFrame:
    """:func:`answered` for a table kept in the query engine: a cell counts when it is not missing and,
    for text, not blank, as in memory; the counts come from one aggregate over the kept rows."""
    et = audit.engine_table(table)
    cols = [c for c in columns if c in et.columns and not str(c).startswith("_")]
    n = int(audit.kept[table])
    if not cols:
        return pd.DataFrame(columns=_COMPLETENESS)
    filled = {}
    for i, c in enumerate(cols):
        x = et[c]
        done = x.notnull() & (x.strip() != "") if x.type().is_string() else x.notnull()
        filled[f"_c{i}"] = done.fill_null(False).cast("int64").sum()
    counts = et.aggregate(**filled).to_pandas().iloc[0]
    rows = []
    for i, c in enumerate(cols):
        k = int(counts[f"_c{i}"] or 0)
        lo, hi = wilson(np.array([k], dtype=float), np.array([n], dtype=float), Z95)
        rows.append({"column": c, "answered": k, "n": n, "share": k / n if n else float("nan"),
                     "ci_low": float(lo[0]) if n else float("nan"), "ci_high": float(hi[0]) if n else float("nan")})
    return pd.DataFrame(rows, columns=_COMPLETENESS)


def completeness(audit: Audit, lang: str = "en", columns: tuple[str, ...] = KEY_COLUMNS, *,
                 table: str = "responses") -> pd.DataFrame:
    """:func:`answered` with each column's client-facing name (:func:`column_label`) as ``label``.

    Columns ``column, label, answered, n, share, ci_low, ci_high``.
    """
    out = answered(audit, columns, table=table)
    out.insert(1, "label", [column_label(audit, c, lang) for c in out["column"]])
    return out


def base_counts(audit: Audit) -> pd.DataFrame:
    """Responses per group of each configured segment column, flagged below ``min_base``.

    Responses with no value in the column (an empty or blank cell) are counted as its last group,
    key :data:`cxaudit.stats.NOT_STATED`, marked ``not_stated``, so the groups of every column add up
    to the kept responses. Without a survey, the bases of the table the audit rests on (issue 13).
    Columns ``segment, key, n, small_base, not_stated``.
    """
    from .audit import in_memory

    # a table kept in the query engine is not read into memory here (issue 19): the next one is used
    source = next((t_ for t_ in ("responses", "customers", "tickets", "employees") if in_memory(audit, t_)), None)
    r = audit.table(source) if source else pd.DataFrame()
    out = []
    for seg in audit.config.segments:
        if seg not in r.columns:
            continue
        keys = segment_keys(r[seg])
        missing = keys == NOT_STATED
        counts = keys[~missing].astype("string").value_counts().sort_index().to_dict()
        if missing.any():
            counts[NOT_STATED] = int(missing.sum())
        for group, n in counts.items():
            out.append({"segment": seg, "key": group, "n": int(n),
                        "small_base": int(n) < audit.config.min_base, "not_stated": group == NOT_STATED})
    return pd.DataFrame(out, columns=["segment", "key", "n", "small_base", "not_stated"])


def group_labels(audit: Audit, bases: pd.DataFrame, lang: str) -> list[str]:
    """The names the report shows for :func:`base_counts`' groups: a channel code in ``lang``, the
    client's own label when ``audit.yaml`` gives one (:meth:`cxaudit.config.AuditConfig.value_label`),
    "Not stated" in ``lang``."""
    return [group_name(k, lang) if ns else audit.config.value_label(seg, k, lang)
            for seg, k, ns in zip(bases["segment"], bases["key"], bases["not_stated"], strict=True)]


def base_sizes(audit: Audit, lang: str | None = None) -> pd.DataFrame:
    """:func:`base_counts` with each group's name (:func:`group_labels`) in ``lang`` (default: the
    report language) as ``group``. Columns ``segment, group, n, small_base, not_stated``."""
    lang = lang or audit.language
    out = base_counts(audit)
    out.insert(1, "group", group_labels(audit, out, lang))
    return out.drop(columns="key")


# --- the scorecard per input -----------------------------------------------------------------------


@dataclass
class InputScore:
    """The data-quality scorecard of one input file."""

    table: str
    table_label: str
    file: str
    source: str  # how the file was read, in the report language (short, for tables)
    rows_in: int
    kept: int
    excluded: int
    excluded_by_reason: pd.DataFrame  # reason, rows
    flags: pd.DataFrame  # reason, rows (kept rows only)
    completeness: pd.DataFrame  # label, answered, n, share, ci_low, ci_high
    details: list[str] = field(default_factory=list)  # recoded labels, non-answers, blank rows, ...
    notes: list[str] = field(default_factory=list)  # the reader's notes (analyst-facing, English)
    source_long: str = ""  # how the file was read, spelled out (for the CLI)


_DELIM_KEYS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def source_text(info: dict[str, Any], lang: str, *, short: bool = False) -> str:
    """How a file was read: format, encoding, delimiter, decimal mark, sheet (``short`` for tables)."""
    from .io.csv import ENCODING_NAMES

    fmt = info.get("format", "")
    try:
        parts = [t(f"quality.format_{fmt}", lang)] if fmt else []
    except KeyError:
        parts = [fmt]
    if fmt == "qualtrics" and info.get("variant") == "legacy":
        parts[-1] += " " + t("quality.format_legacy", lang)
    if info.get("encoding") and fmt != "sav":
        enc = str(info["encoding"])
        if short:
            parts.append({"utf-8-sig": "UTF-8 BOM"}.get(enc, enc.upper().replace("CP", "Windows-")))
        else:
            parts.append(t("quality.encoding_detected" if info.get("encoding_detected") else "quality.encoding", lang,
                           encoding=ENCODING_NAMES.get(enc, enc)))
    delim = info.get("delimiter")
    if delim:
        if short:
            parts.append("TAB" if delim == "\t" else f"«{delim}»")
        else:
            parts.append(t("quality.delimiter", lang,
                           delimiter=t(f"quality.delim_{_DELIM_KEYS.get(delim, 'other')}", lang)))
    if info.get("decimal") == ",":
        parts.append(t("quality.decimal_comma", lang))
    if info.get("sheet"):
        parts.append(t("quality.sheet", lang, sheet=info["sheet"]))
    return ", ".join(parts) if short else "; ".join(parts)


def input_details(info: dict[str, Any], lang: str) -> list[str]:
    """What the reader converted in one input (columns mapped, labels recoded, non-answers, blank lines), in ``lang``."""
    out = []
    if info.get("auto_mapped"):
        out.append(t("quality.auto_mapped", lang, columns=", ".join(f"{k} ← {v}" for k, v in info["auto_mapped"].items())))
    for col, n in (info.get("recoded") or {}).items():
        out.append(t("quality.recoded", lang, n=fmt_int(n, lang), column=col))
    for col, n in (info.get("non_answers") or {}).items():
        out.append(t("quality.non_answers", lang, n=fmt_int(n, lang), column=col))
    for col, n in (info.get("user_missing") or {}).items():
        out.append(t("quality.user_missing", lang, n=fmt_int(n, lang), column=col))
    if info.get("blank_rows"):
        out.append(t("quality.blank_rows", lang, n=fmt_int(info["blank_rows"], lang)))
    return out


def scorecard(audit: Audit, lang: str) -> list[InputScore]:
    """Per input: how it was read, rows in / kept / excluded by reason, completeness and flags."""
    from .schema import input_info

    intake = audit.intake(lang).set_index("table")
    excluded = exclusion_summary(audit, lang)
    flags = flag_summary(audit, lang)
    out = []
    for table in audit.tables:
        info = input_info(audit.tables[table])
        row = intake.loc[table]
        ex = excluded.loc[excluded["table"] == table, ["rule", "reason", "rows"]].reset_index(drop=True)
        fl = flags.loc[flags["table"] == table, ["rule", "reason", "rows"]].reset_index(drop=True)
        frame = audit.tables[table]
        if table == "responses":
            comp = completeness(audit, lang)
        else:
            comp = completeness(audit, lang, tuple(c for c in frame.columns if c != "_row"), table=table)
        out.append(InputScore(
            table=table, table_label=str(row["table_label"]), file=str(row["file"]),
            source=source_text(info, lang, short=True), source_long=source_text(info, lang),
            rows_in=int(row["rows_in"]), kept=int(row["kept"]), excluded=int(row["excluded"]),
            excluded_by_reason=ex, flags=fl, completeness=comp, details=input_details(info, lang),
            notes=list(info.get("notes") or []),
        ))
    return out


def scorecard_text(audit: Audit, lang: str, *, completeness_rows: int = 6) -> str:
    """The scorecard as plain text (what ``cxaudit validate`` prints), in ``lang``."""
    lines: list[str] = []
    for s in scorecard(audit, lang):
        lines.append(f"{s.table_label} — {s.file}" + (f" ({s.source_long})" if s.source_long else ""))
        share = s.excluded / s.rows_in if s.rows_in else 0.0
        lines.append("  " + t("quality.sc_rows", lang, rows_in=fmt_int(s.rows_in, lang), kept=fmt_int(s.kept, lang),
                               excluded=fmt_int(s.excluded, lang), share=fmt_pct(share, lang, 1)))
        for r in s.excluded_by_reason.itertuples():
            lines.append("    " + t("quality.sc_excluded", lang, reason=r.reason, rows=fmt_int(r.rows, lang)))
        for r in s.flags.itertuples():
            lines.append("    " + t("quality.sc_flagged", lang, reason=r.reason, rows=fmt_int(r.rows, lang)))
        comp = s.completeness[s.completeness["share"] < 1].sort_values("share", kind="stable")
        if len(comp):
            cells = ", ".join(f"{c.label} {fmt_pct(c.share, lang)}" for c in comp.head(completeness_rows).itertuples())
            more = len(comp) - completeness_rows
            lines.append("  " + t("quality.sc_completeness", lang, columns=cells + (f", … (+{more})" if more > 0 else "")))
        elif s.kept:
            lines.append("  " + t("quality.sc_complete_all", lang))
        for d in s.details:
            lines.append("  " + d)
        for n in s.notes:
            lines.append(f"  note: {n}")
    bases = base_sizes(audit, lang)
    small = bases[bases["small_base"]]
    if len(small):
        groups = ", ".join(f"{audit.segment_label(r.segment)} = {r.group} (n = {fmt_int(r.n, lang)})"
                           for r in small.itertuples())
        lines.append(t("quality.sc_small_bases", lang, min=audit.config.min_base, groups=groups))
    return "\n".join(lines)


# --- the section's analysis (notebook 01) ------------------------------------------------------------


@dataclass
class QualityAnalysis:
    """Everything the data-quality section shows, without language (:mod:`cxaudit.quality_view` words it).

    ``inputs``: per table file, rows in, kept, excluded (:meth:`cxaudit.audit.Audit.intake`; rows in =
    kept + excluded). ``info``: how each input was read (:func:`cxaudit.schema.input_info`).
    ``exclusions`` / ``flags``: :func:`exclusions`, :func:`flags`. ``checks``: :func:`checks`;
    ``clean``: :func:`clean_checks`. ``completeness``: :func:`answered`. ``bases``: :func:`base_counts`.
    """

    audit: Audit
    inputs: pd.DataFrame
    info: dict[str, dict[str, Any]]
    exclusions: pd.DataFrame
    flags: pd.DataFrame
    checks: pd.DataFrame
    clean: list[str]
    completeness: pd.DataFrame
    bases: pd.DataFrame

    def notes(self) -> list[str]:
        """The readers' notes per file (analyst-facing, English): ``"file: note"``."""
        files = dict(zip(self.inputs["table"], self.inputs["file"], strict=True))
        return [f"{files[tb]}: {n}" for tb, info in self.info.items() for n in info.get("notes") or []]


def analyse(audit: Audit) -> QualityAnalysis:
    """The data-quality section's tables (no language): intake, exclusions, flags, checks, completeness, bases."""
    from .schema import input_info

    return QualityAnalysis(
        audit=audit, inputs=audit.intake(), info={tb: input_info(f) for tb, f in audit.tables.items()}
        | {tb: {"format": et.kind} for tb, et in getattr(audit, "engine_tables", {}).items()},  # kept in the engine
        exclusions=exclusions(audit), flags=flags(audit), checks=checks(audit), clean=clean_checks(audit),
        completeness=answered(audit), bases=base_counts(audit))


# --- findings --------------------------------------------------------------------------------------


def quality_findings(audit: Audit, lang: str) -> list[Finding]:
    """The share of survey responses excluded, as a finding (its reach is that share), and the
    share of kept responses flagged by a data-quality check that does not exclude, when any."""
    intake = audit.intake().set_index("table")
    if "responses" not in intake.index:  # no survey: its exclusions cannot be a finding (issue 13)
        return []
    rows_in, excluded = int(intake.loc["responses", "rows_in"]), int(intake.loc["responses", "excluded"])
    share = excluded / rows_in if rows_in else 0.0
    lo, hi = wilson(np.array([excluded], dtype=float), np.array([rows_in], dtype=float))
    by_rule = exclusion_summary(audit, lang)
    by_rule = by_rule[by_rule["table"] == "responses"]
    out = [
        Finding(
            id="data_quality.responses.excluded",
            section="data_quality",
            title=t("quality.finding_excluded", lang, share=fmt_pct(share, lang, 1)),
            metric="excluded_share",
            value=100 * share,
            n=rows_in,
            ci_low=100 * float(lo[0]),
            ci_high=100 * float(hi[0]),
            severity=2 if share < 0.05 else 3,
            reach=share,
            evidence={"by_rule": dict(zip(by_rule["rule"], by_rule["rows"].astype(int), strict=True)),
                      "table": "quality.exclusions"},
            tags={"tables": ["responses"]},
            unit="%",
        )
    ]
    flagged = _flags_on_kept(audit)
    flagged = flagged[(flagged["table"] == "responses")
                      & flagged["rule"].isin(["straightliner", "duplicate_respondent", "gibberish", "unfinished"])]
    kept_n = int(intake.loc["responses", "kept"])
    k = int(flagged["row"].nunique())
    if k and kept_n:
        fshare = k / kept_n
        flo, fhi = wilson(np.array([k], dtype=float), np.array([kept_n], dtype=float))
        out.append(Finding(
            id="data_quality.responses.flagged",
            section="data_quality",
            title=t("quality.finding_flagged", lang, share=fmt_pct(fshare, lang, 1)),
            metric="flagged_share",
            value=100 * fshare,
            n=kept_n,
            ci_low=100 * float(flo[0]),
            ci_high=100 * float(fhi[0]),
            severity=1 if fshare < 0.05 else 2,
            reach=fshare,
            evidence={"by_rule": {str(r): int(v) for r, v in flagged.groupby("rule")["row"].nunique().items()},
                      "table": "quality.flags"},
            tags={"tables": ["responses"]},
            unit="%",
        ))
    return out

