"""Data-quality audit: what was collected, how complete it is, and what was excluded and why.

The checks themselves run while loading (:func:`cxaudit.schema.conform`); this module summarises
the exclusion log and the kept tables for the report. Rows in = rows kept + rows excluded holds per
table (:meth:`cxaudit.audit.Audit.intake` asserts it).
"""

from __future__ import annotations

import pandas as pd

from .audit import Audit
from .findings import Finding
from .i18n import fmt_pct, t
from .metrics import Z95, _wilson
from .schema import RULE_ORDER

__all__ = ["exclusion_summary", "flag_summary", "completeness", "column_label", "base_sizes", "quality_findings"]

KEY_COLUMNS = ("nps", "csat", "ces", "comment", "customer_id", "duration_s")


def _by_rule(log: pd.DataFrame, lang: str) -> pd.DataFrame:
    if log.empty:
        return pd.DataFrame(columns=["table", "table_label", "rule", "reason", "rows", "example"])
    first = log.sort_values("row").groupby(["table", "rule"], sort=False).head(1).set_index(["table", "rule"])
    counts = log.groupby(["table", "rule"]).size().rename("rows").reset_index()
    counts["_o"] = counts["rule"].map({r: i for i, r in enumerate(RULE_ORDER)})
    counts = counts.sort_values(["table", "_o"]).drop(columns="_o")
    ex = [first.loc[(tb, r)] for tb, r in zip(counts["table"], counts["rule"], strict=True)]
    counts["example"] = [t("quality.example", lang, file=e["file"], row=e["row"], column=e["column"],
                           value=str(e["value"])[:40]) for e in ex]
    counts["table_label"] = [t(f"table.{tb}", lang) for tb in counts["table"]]
    counts["reason"] = [t(f"rule.{r}", lang) for r in counts["rule"]]
    return counts.reset_index(drop=True)


def exclusion_summary(audit: Audit, lang: str) -> pd.DataFrame:
    """Excluded rows per table and reason (each row counted once, under its first reason)."""
    return _by_rule(audit.excluded(), lang)


def flag_summary(audit: Audit, lang: str) -> pd.DataFrame:
    """Problems flagged on rows that were kept (the bad value, if any, was set to missing).

    Flags on rows excluded for another reason are not repeated here: those rows are already counted
    in :func:`exclusion_summary`.
    """
    log = audit.log
    gone = log.loc[log["excluded"], ["table", "row"]].drop_duplicates()
    kept = log[~log["excluded"]].merge(gone, on=["table", "row"], how="left", indicator=True)
    return _by_rule(kept[kept["_merge"] == "left_only"].drop(columns="_merge"), lang)


def column_label(audit: Audit, column: str, lang: str) -> str:
    """A client-facing name for a responses column: catalog name, touchpoint label, or the column."""
    if column.startswith("tp_") and audit.has("touchpoints"):
        tps = audit.tables["touchpoints"]
        if "label" in tps.columns:
            match = tps.loc[tps["touchpoint"].astype(str) == column[3:], "label"]
            if len(match) and isinstance(match.iloc[0], str):
                return match.iloc[0]
    try:
        return t(f"column.{column}", lang)
    except KeyError:
        return column


def completeness(audit: Audit, lang: str = "en", columns: tuple[str, ...] = KEY_COLUMNS) -> pd.DataFrame:
    """Answered share of each key survey column among the kept responses (plus touchpoint ratings),
    with a Wilson 95% interval for the share."""
    r = audit.responses
    cols = [c for c in columns if c in r.columns] + audit.touchpoint_columns
    rows = []
    for c in cols:
        answered = r[c].notna()
        if r[c].dtype == object or str(r[c].dtype).startswith(("str", "string")):
            answered &= r[c].astype("string").str.strip().ne("").fillna(False)
        k, n = int(answered.sum()), len(r)
        lo, hi = _wilson(pd.Series([k]).to_numpy(float), pd.Series([n]).to_numpy(float), Z95)
        rows.append({"column": c, "label": column_label(audit, c, lang), "answered": k, "n": n, "share": k / n if n else float("nan"),
                     "ci_low": float(lo[0]), "ci_high": float(hi[0])})
    return pd.DataFrame(rows)


def base_sizes(audit: Audit) -> pd.DataFrame:
    """Responses per group of each configured segment column, flagged below ``min_base``."""
    r = audit.responses
    out = []
    for seg in audit.config.segments:
        if seg not in r.columns:
            continue
        counts = r[seg].astype("string").fillna("(missing)").value_counts().sort_index()
        for group, n in counts.items():
            out.append({"segment": seg, "group": group, "n": int(n), "small_base": int(n) < audit.config.min_base})
    return pd.DataFrame(out, columns=["segment", "group", "n", "small_base"])


def quality_findings(audit: Audit, lang: str) -> list[Finding]:
    """The share of survey responses excluded, as a finding (its reach is that share)."""
    intake = audit.intake().set_index("table")
    rows_in, excluded = int(intake.loc["responses", "rows_in"]), int(intake.loc["responses", "excluded"])
    share = excluded / rows_in if rows_in else 0.0
    lo, hi = _wilson(pd.Series([excluded]).to_numpy(float), pd.Series([rows_in]).to_numpy(float))
    by_rule = exclusion_summary(audit, lang)
    by_rule = by_rule[by_rule["table"] == "responses"]
    return [
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
