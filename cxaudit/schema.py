"""Canonical tables and their validation.

Every analysis reads the same six tables (see DESIGN.md): ``responses``, ``touchpoints``,
``customers``, ``tickets``, ``employees`` and ``kpis``. :func:`conform` maps a raw table onto its
canonical names (``inputs.<table>.columns`` in ``audit.yaml``), converts types, and returns the
rows it keeps plus a log of every problem it saw. A row is never lost silently: each excluded row
appears in the log with its file, its row number in the file, the rule, the column and the value.

Problems that make a whole table unusable (a required column missing, a mapped column absent)
raise :class:`~cxaudit.errors.DataError` naming the file and the column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .config import AuditConfig, InputSpec
from .errors import DataError
from .io import RawTable

__all__ = ["TableSpec", "TABLES", "LOG_COLUMNS", "conform", "touchpoint_columns"]

LOG_COLUMNS = ["table", "file", "row", "rule", "column", "value", "excluded"]

# Order of precedence when one row breaks several rules: the first one is "the" reason.
RULE_ORDER = [
    "missing_required",
    "invalid_date",
    "invalid_value",
    "out_of_range",
    "duplicate_id",
    "speeder",
    "straightliner",
]


@dataclass(frozen=True)
class TableSpec:
    """Column roles of one canonical table. ``scales`` maps a column to the config scale it uses."""

    name: str
    id_column: str | None
    required: tuple[str, ...]
    dates: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    booleans: tuple[str, ...] = ()
    scales: dict[str, str] = field(default_factory=dict)
    choices: dict[str, str] = field(default_factory=dict)  # column -> config attribute listing allowed values


TABLES: dict[str, TableSpec] = {
    "responses": TableSpec(
        "responses",
        "response_id",
        required=("response_id", "date"),
        dates=("date",),
        numbers=("duration_s", "weight"),
        scales={"nps": "nps", "csat": "csat", "ces": "ces"},
    ),
    "touchpoints": TableSpec(
        "touchpoints",
        "touchpoint",
        required=("touchpoint", "stage", "channel"),
        choices={"stage": "stages"},
    ),
    "customers": TableSpec(
        "customers",
        "customer_id",
        required=("customer_id", "churned"),
        dates=("start_date", "churn_date"),
        numbers=("tenure_months", "revenue"),
        booleans=("churned",),
    ),
    "tickets": TableSpec(
        "tickets",
        "ticket_id",
        required=("ticket_id", "channel", "created_at"),
        dates=("created_at", "first_response_at", "resolved_at"),
        scales={"csat": "csat"},
    ),
    "employees": TableSpec(
        "employees",
        "employee_id",
        required=("employee_id", "department"),
        numbers=("tenure_months",),
        scales={"enps": "nps"},
    ),
    "kpis": TableSpec(
        "kpis",
        None,
        required=("department", "kpi", "weight", "is_customer_metric"),
        numbers=("weight",),
        booleans=("is_customer_metric",),
    ),
}

_TRUE = {"1", "true", "yes", "y", "t", "да", "tak"}
_FALSE = {"0", "false", "no", "n", "f", "нет", "nie"}


def touchpoint_columns(frame: pd.DataFrame) -> list[str]:
    """The ``tp_<touchpoint>`` rating columns of a responses table, in file order."""
    return [c for c in frame.columns if str(c).startswith("tp_")]


class _Log:
    def __init__(self, table: str, file: str, rows: pd.Series) -> None:
        self.table, self.file, self.rows = table, file, rows
        self.parts: list[pd.DataFrame] = []

    def add(self, mask: pd.Series, rule: str, column: str | None, values: pd.Series | None) -> None:
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        vals = values[mask].astype("string").fillna("") if values is not None else ""
        self.parts.append(
            pd.DataFrame(
                {
                    "table": self.table,
                    "file": self.file,
                    "row": self.rows[mask].to_numpy(),
                    "rule": rule,
                    "column": column or "",
                    "value": np.asarray(vals, dtype=object) if values is not None else "",
                    "_pos": np.flatnonzero(mask.to_numpy()),
                }
            )
        )

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in [*LOG_COLUMNS, "_pos"]})
        return pd.concat(self.parts, ignore_index=True)


def _parse_dates(values: pd.Series, fmt: str | None) -> pd.Series:
    if fmt:
        return pd.to_datetime(values, format=fmt, errors="coerce")
    return pd.to_datetime(values, format="ISO8601", errors="coerce")


def conform(
    table: str, raw: RawTable, spec: InputSpec, config: AuditConfig
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Map, type-convert and check one raw table.

    Returns
    -------
    kept : DataFrame
        Canonical columns (plus every extra column of the file), typed, excluded rows removed.
        Column ``_row`` holds each row's line number in the source file.
    log : DataFrame
        One row per (row, rule, column) problem with columns :data:`LOG_COLUMNS`; ``excluded`` is
        True where the rule is listed in ``quality.exclude`` (else the row is kept and the bad value,
        if any, is set to missing).
    """
    tspec = TABLES[table]
    file = str(raw.file)
    frame = raw.frame.copy()
    frame.columns = [str(c).strip() for c in frame.columns]

    # 1. column mapping: canonical <- source
    rename: dict[str, str] = {}
    for canonical, source in spec.columns.items():
        if source not in frame.columns:
            raise DataError(
                file,
                f"column {source!r} (mapped as '{canonical}' in inputs.{table}.columns) not found; "
                f"the file has: {', '.join(map(str, frame.columns[:20]))}",
                column=source,
            )
        rename[source] = canonical
    frame = frame.rename(columns=rename)
    for col in tspec.required:
        if col not in frame.columns:
            raise DataError(
                file,
                f"required column '{col}' missing; map it in inputs.{table}.columns "
                f"(the file has: {', '.join(map(str, frame.columns[:20]))})",
                column=col,
            )

    rows = raw.source_rows.reset_index(drop=True)
    frame = frame.reset_index(drop=True)
    log = _Log(table, file, rows)

    # 2. required values present
    for col in tspec.required:
        text = frame[col].astype("string").str.strip()
        log.add(text.isna() | (text == ""), "missing_required", col, frame[col])

    # 3. dates
    for col in tspec.dates:
        if col not in frame.columns:
            continue
        original = frame[col]
        parsed = _parse_dates(original, spec.date_format if col in ("date", "created_at") else None)
        log.add(original.notna() & parsed.isna() & (original.astype("string").str.strip() != ""),
                "invalid_date", col, original)
        frame[col] = parsed

    # 4. numbers and scales
    scale_cols = {c: s for c, s in tspec.scales.items() if c in frame.columns}
    if table == "responses":
        scale_cols |= {c: "touchpoint" for c in touchpoint_columns(frame)}
    for col in [*(c for c in tspec.numbers if c in frame.columns), *scale_cols]:
        original = frame[col]
        text = original.astype("string").str.strip().str.replace(",", ".", regex=False)
        num = pd.to_numeric(text, errors="coerce")
        bad = text.notna() & (text != "") & num.isna()
        log.add(bad, "invalid_value", col, original)
        if col in scale_cols:
            sc = getattr(config.scales, scale_cols[col])
            off = num.notna() & ((num < sc.min) | (num > sc.max) | (num != np.floor(num)))
            log.add(off, "out_of_range", col, original)
            num = num.mask(off)
        frame[col] = num.astype("float64")

    for col in tspec.booleans:
        if col not in frame.columns:
            continue
        text = frame[col].astype("string").str.strip().str.lower()
        val = pd.Series(pd.NA, index=frame.index, dtype="boolean")
        val[text.isin(_TRUE)] = True
        val[text.isin(_FALSE)] = False
        log.add(text.notna() & (text != "") & val.isna(), "invalid_value", col, frame[col])
        frame[col] = val

    for col, attr in tspec.choices.items():
        allowed = set(getattr(config, attr))
        text = frame[col].astype("string").str.strip().str.lower()
        log.add(text.notna() & ~text.isin(allowed), "invalid_value", col, frame[col])
        frame[col] = text

    # 5. duplicates of the id
    if tspec.id_column:
        ids = frame[tspec.id_column].astype("string").str.strip()
        log.add(ids.notna() & ids.duplicated(keep="first"), "duplicate_id", tspec.id_column, frame[tspec.id_column])

    # 6. survey-specific response quality
    if table == "responses":
        _response_quality(frame, config, log)

    # 7. decide: which rows go
    problems = log.frame()
    problems["excluded"] = problems["rule"].isin(config.quality.exclude) | (problems["rule"] == "missing_required")
    drop_pos = np.unique(problems.loc[problems["excluded"], "_pos"].to_numpy(dtype="int64"))
    kept = frame.drop(index=drop_pos)
    kept.insert(0, "_row", rows.drop(index=drop_pos).to_numpy())
    return kept.reset_index(drop=True), problems.drop(columns="_pos")


def _response_quality(frame: pd.DataFrame, config: AuditConfig, log: _Log) -> None:
    """Speeders and straight-liners (METHODS.md, "Data quality")."""
    q = config.quality
    if "duration_s" in frame.columns and frame["duration_s"].notna().sum() > 0:
        median = float(frame["duration_s"].median())
        fast = frame["duration_s"] < q.speeder_fraction * median
        log.add(fast, "speeder", "duration_s", frame["duration_s"])
    tps = touchpoint_columns(frame)
    if len(tps) >= q.straightliner_min_items:
        grid = frame[tps]
        answered = grid.notna().sum(axis=1)
        flat = (answered >= q.straightliner_min_items) & (grid.max(axis=1) == grid.min(axis=1))
        log.add(flat, "straightliner", "tp_*", grid.max(axis=1))

