"""Canonical tables and their validation.

Every analysis reads the same six tables (see DESIGN.md): ``responses``, ``touchpoints``,
``customers``, ``tickets``, ``employees`` and ``kpis``. :func:`conform` maps a raw table onto its
canonical names (``inputs.<table>.columns`` in ``audit.yaml``), converts types, and returns the
rows it keeps plus a log of every problem it saw. A row is never lost silently: each excluded row
appears in the log with its file, its row number in the file, the rule, the column and the value.

Problems that make a whole table unusable (a required column missing, a mapped column absent)
raise :class:`~cxaudit.errors.DataError` naming the file and the column.

What :func:`conform` does, in order:

1. **Map** columns: a source name in ``inputs.<table>.columns`` may be the column's name, the same
   name with different spacing / line breaks, or an alias the reader found (a Qualtrics ImportId
   or question text, a SurveyMonkey ``Q3``, an SPSS variable label). A required canonical column
   that is not mapped is taken from the export's usual column (Qualtrics ``ResponseId`` /
   ``RecordedDate``, SurveyMonkey ``Respondent ID`` / ``End Date``) when it is there.
2. Log the **reader's row issues** (``malformed_row``, ``truncated_row``, ``repeated_header``).
3. **Required** values present (``missing_required``).
4. **Dates**: ISO 8601, ``DD.MM.YYYY``, ``MM/DD/YYYY [hh:mm:ss AM]`` (SurveyMonkey), ``DD/MM/YYYY``,
   ``YYYY/MM/DD``; the day/month order of slashed dates is decided per column from values that
   settle it (a part above 12). Unreadable -> ``invalid_date``; a value in another format than the
   column's usual one -> ``mixed_date_format`` (read, flagged).
5. **Numbers** with the file's decimal mark (``12,5``, ``1 234,5``, ``1,234.5``); scale columns
   also recode answer labels (:mod:`cxaudit.io.labels`); unreadable -> ``invalid_value``, off the
   scale or not a scale point -> ``out_of_range``.
6. Booleans and choice lists (``invalid_value``; the bad value is set to missing).
7. Duplicate ids (``duplicate_id``).
8. The row-level data-quality checks of :mod:`cxaudit.quality` (speeders, straight-liners,
   duplicate respondents, inconsistent dates, unfinished, too-short / gibberish / oversized
   answers).
9. Which rows go: rules in ``quality.exclude``, plus ``missing_required``, ``malformed_row`` and
   ``repeated_header`` always (a row without its id, with shifted fields, or a header is not a
   response).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .checks import row_checks
from .config import AuditConfig, InputSpec, band_labels
from .errors import DataError
from .io import RawTable
from .io.labels import recode

__all__ = [
    "MOTIVATION_ITEMS",
    "TableSpec",
    "TABLES",
    "LOG_COLUMNS",
    "RULE_ORDER",
    "ALWAYS_EXCLUDED",
    "conform",
    "touchpoint_columns",
    "parse_numbers",
    "parse_dates",
    "input_info",
    "na_code_mask",
    "check_intake",
    "check_named_columns",
    "closest_columns",
    "apply_variables",
    "band_labels",
    "numeric_date_kind",
]

#: The motivation items of the standard employee questionnaire (``employees`` table, 1–5 each).
MOTIVATION_ITEMS: tuple[str, ...] = (
    "mot_pay",
    "mot_recognition",
    "mot_growth",
    "mot_autonomy",
    "mot_workload",
    "mot_tools",
    "mot_team",
    "mot_customer_focus",
)
LOG_COLUMNS = ["table", "file", "row", "rule", "column", "value", "excluded"]

# Order of precedence when one row breaks several rules: the first one is "the" reason.
RULE_ORDER = [
    "repeated_header",
    "malformed_row",
    "missing_required",
    "invalid_date",
    "future_date",
    "invalid_value",
    "out_of_range",
    "duplicate_id",
    "speeder",
    "straightliner",
    "duplicate_respondent",
    "unfinished",
    "inconsistent_date",
    "truncated_row",
    "mixed_date_format",
    "oversized_value",
    "gibberish",
    "short_answer",
]
#: Rules that exclude a row whatever ``quality.exclude`` says.
ALWAYS_EXCLUDED = ("missing_required", "malformed_row", "repeated_header")
#: Tables whose id column may be absent: each row's line number in the file becomes its id.
OPTIONAL_ID_TABLES = ("responses", "customers", "tickets", "employees")
#: Longest logged value (a 5 MB comment is logged by its first characters).
MAX_LOGGED_CHARS = 200


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
    texts: tuple[str, ...] = ()  # open answers checked for too-short / gibberish text


TABLES: dict[str, TableSpec] = {
    "responses": TableSpec(
        "responses",
        "response_id",
        required=("response_id", "date"),
        dates=("date",),
        numbers=("duration_s", "weight"),
        booleans=("finished",),
        scales={"nps": "nps", "csat": "csat", "ces": "ces"},
        texts=("comment",),
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
        numbers=("first_response_hours", "resolution_hours"),  # durations, when the export has no time stamps
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
    # steps of service cases (an event log: CSV / XLSX / XES, cxaudit.io.xes); a case has many rows
    "events": TableSpec(
        "events",
        None,
        required=("case_id", "activity", "timestamp"),
        dates=("timestamp",),
    ),
}

_TRUE = {"1", "true", "yes", "y", "t", "да", "tak", "prawda", "истина", "finished", "complete"}
_FALSE = {"0", "false", "no", "n", "f", "нет", "nie", "fałsz", "ложь"}


def _as_text(s: pd.Series) -> pd.Series:
    """``s`` as a pandas string column (no copy when it already is one)."""
    return s if isinstance(s.dtype, pd.StringDtype) else s.astype("str")


def touchpoint_columns(frame: pd.DataFrame) -> list[str]:
    """The ``tp_<touchpoint>`` rating columns of a responses table, in file order."""
    return [c for c in frame.columns if str(c).startswith("tp_")]


def _clip(values: pd.Series) -> np.ndarray:
    text = values.astype("string").fillna("")
    long = text.str.len() > MAX_LOGGED_CHARS
    if long.any():
        text = text.where(~long, text.str.slice(0, MAX_LOGGED_CHARS) + "…")
    return np.asarray(text, dtype=object)


class _Log:
    def __init__(self, table: str, file: str, rows: pd.Series) -> None:
        self.table, self.file, self.rows = table, file, rows
        self.parts: list[pd.DataFrame] = []

    def add(self, mask: pd.Series, rule: str, column: str | None, values: pd.Series | None) -> None:
        mask = pd.Series(mask).fillna(False).astype(bool)
        if not mask.any():
            return
        m = mask.to_numpy()
        self.parts.append(
            pd.DataFrame(
                {
                    "table": self.table,
                    "file": self.file,
                    "row": self.rows[m].to_numpy(),
                    "rule": rule,
                    "column": column or "",
                    "value": _clip(values[m]) if values is not None else "",
                    "_pos": np.flatnonzero(m),
                }
            )
        )

    def add_positions(self, pos: np.ndarray, rule: str, column: Any, values: Any) -> None:
        if not len(pos):
            return
        vals = pd.Series(values if not isinstance(values, str) else [values] * len(pos), dtype=object)
        self.parts.append(pd.DataFrame({
            "table": self.table, "file": self.file, "row": self.rows.to_numpy()[pos], "rule": rule,
            "column": column, "value": _clip(vals), "_pos": pos,
        }))

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in [*LOG_COLUMNS, "_pos"]})
        return pd.concat(self.parts, ignore_index=True)


# --- numbers -------------------------------------------------------------------------------------


def _fast_float(text: pd.Series) -> pd.Series | None:
    """A clean numeric text column through pyarrow's cast (~20x pandas.to_numeric); ``None`` when
    some cell is not a plain number (then the caller coerces cell by cell)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arr = pa.array(text.array, type=pa.string(), from_pandas=True) if len(text) else pa.array([], pa.string())
        out = pc.cast(arr, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError):
        return None
    return pd.Series(np.array(out.to_numpy(zero_copy_only=False), dtype="float64"), index=text.index)

_GROUP_SPACE = re.compile(r"(?<=\d)[\s\u00a0\u202f'’](?=\d{3}(?:\D|$))")
_THOUSANDS_DOT = re.compile(r"^[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?$")
_THOUSANDS_COMMA = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")


def parse_numbers(values: pd.Series, decimal: str = ".") -> pd.Series:
    """Text -> float64 (NaN where not a number), reading the file's decimal mark.

    Digit groups separated by spaces (``1 234``) are joined; with ``decimal=","`` a dot between
    groups of three is a thousands separator (``1.234,5``), with ``"."`` a comma is (``1,234.5``);
    a lone comma is a decimal comma either way (``12,5``).

    Examples
    --------
    >>> parse_numbers(pd.Series(["12,5", "1 234,5", "1.234", "7", "x", None]), ",").tolist()
    [12.5, 1234.5, 1234.0, 7.0, nan, nan]
    >>> parse_numbers(pd.Series(["1,234.5", "4,5", "0.5"]), ".").tolist()
    [1234.5, 4.5, 0.5]
    """
    text = _as_text(values).str.strip()
    num = _fast_float(text)
    if num is None:
        num = pd.to_numeric(text, errors="coerce").astype("float64")
    present = text.notna() & (text != "")
    redo = present & num.isna()
    if decimal == ",":
        redo |= present & text.str.contains(".", regex=False).fillna(False) & text.str.match(
            _THOUSANDS_DOT.pattern).fillna(False)
    if redo.any():
        sub = text[redo].str.replace(_GROUP_SPACE, "", regex=True)
        if decimal == ",":
            sub = sub.where(~sub.str.match(_THOUSANDS_DOT.pattern).fillna(False), sub.str.replace(".", "", regex=False))
        else:
            sub = sub.where(~sub.str.match(_THOUSANDS_COMMA.pattern).fillna(False), sub.str.replace(",", "", regex=False))
        sub = sub.str.replace(",", ".", regex=False).str.replace("\u2212", "-", regex=False)
        num[redo] = pd.to_numeric(sub, errors="coerce").astype("float64")
    return num


# --- dates ---------------------------------------------------------------------------------------

_DOTTED = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y", "%d.%m.%y")
_US = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y")
_EU = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d-%m-%Y")
_YMD = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y.%m.%d")
_SLASH = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/\d{4}")


def _iso(text: pd.Series) -> pd.Series:
    try:
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
    except (ValueError, TypeError):  # mixed UTC offsets
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed.astype("datetime64[ns]")


#: Plausible ranges of numeric date cells: Unix seconds / milliseconds (1973-2286) and Excel serial
#: days (1954-2119 in the 1900 date system).
_UNIX_S = (1e8, 1e10)
_UNIX_MS = (1e11, 1e13)
_EXCEL = (20000.0, 80000.0)


def _numeric_dates(num: pd.Series, kind: str) -> pd.Series:
    """Numbers -> datetime64: ``unix_s`` / ``unix_ms`` (UTC, shown without zone) or ``excel`` serial days
    (1900 date system: day 1 = 1900-01-01, with Lotus's phantom 1900-02-29, hence origin 1899-12-30)."""
    if kind == "excel":
        out = pd.to_datetime(num, unit="D", origin="1899-12-30", errors="coerce")
    else:
        out = pd.to_datetime(num, unit="s" if kind == "unix_s" else "ms", errors="coerce")
    return out.astype("datetime64[ns]")


def numeric_date_kind(num: pd.Series) -> str | None:
    """``unix_s``, ``unix_ms`` or ``excel`` when *every* present number lies in that kind's plausible
    range (:data:`_UNIX_S`, :data:`_UNIX_MS`, :data:`_EXCEL`), else None.

    Examples
    --------
    >>> numeric_date_kind(pd.Series([1700000000.0, 1710000000.0])), numeric_date_kind(pd.Series([45000.0, 45001.5]))
    ('unix_s', 'excel')
    >>> numeric_date_kind(pd.Series([1.7e12, None])), numeric_date_kind(pd.Series([12.0]))
    ('unix_ms', None)
    """
    x = num.dropna()
    if not len(x):
        return None
    for kind, (lo, hi) in (("unix_s", _UNIX_S), ("unix_ms", _UNIX_MS), ("excel", _EXCEL)):
        if bool(((x >= lo) & (x < hi)).all()):
            return kind
    return None


def parse_dates(values: pd.Series, fmt: str | None = None, *, dayfirst: bool = True) -> tuple[pd.Series, pd.Series]:
    """Text -> datetime64 (NaT where unreadable), and each value's format family.

    With ``fmt`` only that ``strftime`` format is accepted. Otherwise the families are tried in
    turn: ISO 8601, ``DD.MM.YYYY``, slashed day/month dates, ``YYYY/MM/DD``. Slashed dates are read
    month-first when some value's second part is above 12 (``05/23/2024``) and no value's first
    part is, day-first in the opposite case, and by ``dayfirst`` when no value settles it.

    Returns
    -------
    parsed : Series of datetime64
    family : Series of str
        ``iso``, ``dotted``, ``us``, ``eu``, ``ymd`` or ``""`` (unreadable / missing).

    Examples
    --------
    >>> p, f = parse_dates(pd.Series(["2024-01-05", "23.01.2024", "01/31/2024 10:15:00 AM", "31/02/2025"]))
    >>> [str(x.date()) if pd.notna(x) else None for x in p], f.tolist()
    (['2024-01-05', '2024-01-23', '2024-01-31', None], ['iso', 'dotted', 'us', ''])
    """
    text = _as_text(values).str.strip()
    family = pd.Series("", index=values.index, dtype=object)
    if fmt:
        from .config import check_date_format

        fmt = check_date_format(fmt)
    if fmt in ("unix_s", "unix_ms", "excel"):
        parsed = _numeric_dates(parse_numbers(text), fmt)
        family[parsed.notna().to_numpy()] = fmt
        return parsed, family
    if fmt:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce").astype("datetime64[ns]")
        family[parsed.notna().to_numpy()] = "fixed"
        return parsed, family
    present = text.notna() & (text != "")
    if present.any() and re.fullmatch(r"\d{5,13}(?:[.,]\d+)?", str(text[present].iloc[0])):
        num = parse_numbers(text[present])
        kind = numeric_date_kind(num) if num.notna().all() else None
        if kind is not None:  # a column of plain numbers: Unix time or Excel serials, never mixed with text
            parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
            parsed[present.to_numpy()] = _numeric_dates(num, kind).to_numpy()
            family[present.to_numpy()] = kind
            return parsed, family
    parsed = _iso(text)
    family[parsed.notna().to_numpy()] = "iso"
    todo = (text.notna() & (text != "") & parsed.isna()).to_numpy()
    if not todo.any():
        return parsed, family
    rest = text[todo]
    slashed = rest.str.extract(_SLASH)
    first = pd.to_numeric(slashed[0], errors="coerce")
    second = pd.to_numeric(slashed[1], errors="coerce")
    us_evidence, eu_evidence = int((second > 12).sum()), int((first > 12).sum())
    us_first = us_evidence > eu_evidence or (us_evidence == eu_evidence and not dayfirst)
    groups = [("dotted", _DOTTED), *((("us", _US), ("eu", _EU)) if us_first else (("eu", _EU), ("us", _US))),
              ("ymd", _YMD)]
    for name, formats in groups:
        for f in formats:
            if not todo.any():
                break
            got = pd.to_datetime(text[todo], format=f, errors="coerce").astype("datetime64[ns]")
            ok = got.notna()
            if ok.any():
                idx = got.index[ok.to_numpy()]
                parsed[idx] = got[ok]
                family[idx] = name
                todo = todo & ~text.index.isin(idx)
    return parsed, family


def _found_below(raw: RawTable, name: str, table: str) -> str:
    """A header below title rows: say in which row ``name`` appears."""
    for i in range(min(len(raw.frame), 30)):
        row = raw.frame.iloc[i].astype("string").str.strip()
        if (row == name).fillna(False).any():
            return f" (it appears in row {int(raw.source_rows.iloc[i])}: set inputs.{table}.header_row)"
    return ""


def closest_columns(name: str, columns: list[str], n: int = 3) -> list[str]:
    """The columns whose names are closest to ``name`` (difflib ratio >= 0.5, case-insensitive).

    Examples
    --------
    >>> closest_columns("Contarct", ["customerID", "Contract", "PaymentMethod"])
    ['Contract']
    """
    import difflib

    folded = {str(c).casefold(): str(c) for c in columns}
    hits = difflib.get_close_matches(str(name).casefold(), list(folded), n=n, cutoff=0.5)
    return [folded[h] for h in hits]


def _missing_column_text(key: str, source: str, columns: list[str]) -> str:
    near = closest_columns(source, columns)
    if near:
        hint = "closest: " + ", ".join(repr(c) for c in near)
    else:
        hint = "the file has: " + ", ".join(map(str, columns[:20]))
    return f"key '{key}': column {source!r} not found ({hint})"


def _mapping_error(file: str, table: str, canonical: str, source: str, frame: pd.DataFrame, raw: RawTable) -> DataError:
    msg = _missing_column_text(f"inputs.{table}.columns.{canonical}", str(source), list(map(str, frame.columns)))
    return DataError(file, msg + _found_below(raw, source, table), column=source)


def _norm_name(name: str) -> str:
    return re.sub(r"\s+", " ", str(name)).strip().casefold()


def _resolve(source: str, columns: list[str], aliases: dict[str, str]) -> str | None:
    if source in columns:
        return source
    if source in aliases and aliases[source] in columns:
        return aliases[source]
    key = _norm_name(source)
    hits = [c for c in columns if _norm_name(c) == key]
    if len(hits) == 1:
        return hits[0]
    ahits = {c for a, c in aliases.items() if _norm_name(a) == key and c in columns}
    if len(ahits) == 1:
        return ahits.pop()
    return None


_INFO_KEYS = ("format", "variant", "encoding", "encoding_detected", "delimiter", "decimal", "sheet", "notes",
              "blank_rows", "user_missing", "header_rows")


def na_code_mask(text: pd.Series, codes: list[str], decimal: str = ".") -> pd.Series:
    """Cells that are one of a scale's ``na_codes`` (same text, case-insensitive, or the same number:
    ``0`` matches ``0.0``).

    Examples
    --------
    >>> na_code_mask(pd.Series(["0", "5", "n/a", "0.0", None]), ["0", "N/A"]).tolist()
    [True, False, True, True, False]
    """
    if not codes:
        return pd.Series(False, index=text.index)
    t_ = _as_text(text).str.strip()
    words = {str(c).strip().casefold() for c in codes}
    hit = t_.str.casefold().isin(words).fillna(False)
    nums = parse_numbers(pd.Series(sorted(words)), decimal).dropna()
    if len(nums):
        hit |= parse_numbers(t_, decimal).isin(set(nums.tolist())).fillna(False)
    return hit.astype(bool)


def check_intake(table: str, file: str, rows_in: int, kept: int, config: AuditConfig) -> None:
    """Stop a run that would analyse nothing, or too little of a table to stand for it.

    Raises
    ------
    DataError
        (exit code 3) when the table keeps no row out of ``rows_in`` > 0, or when the excluded share is
        above ``quality.max_excluded_share`` (default 0.5).

    Examples
    --------
    >>> from cxaudit.config import AuditConfig
    >>> cfg = AuditConfig.model_validate({"client": {"name": "A"}, "inputs": {"customers": {"file": "c.csv"}}})
    >>> check_intake("customers", "c.csv", 10, 6, cfg)
    >>> check_intake("customers", "c.csv", 10, 4, cfg)
    Traceback (most recent call last):
    ...
    cxaudit.errors.DataError: c.csv: 6 of 10 rows (60.0%) of the customers table were excluded, more than quality.max_excluded_share (50%); see `cxaudit validate` for the reasons
    """
    if rows_in <= 0:
        return
    share = 1 - kept / rows_in
    limit = config.quality.max_excluded_share
    if kept == 0:
        raise DataError(file, f"no row of the {table} table was kept ({rows_in} read, all excluded); "
                              "see `cxaudit validate` for the reasons")
    if share > limit:
        raise DataError(file, f"{rows_in - kept} of {rows_in} rows ({share:.1%}) of the {table} table were excluded, "
                              f"more than quality.max_excluded_share ({limit:.0%}); see `cxaudit validate` for the reasons")


def named_columns(config: AuditConfig) -> list[tuple[str, str, tuple[str, ...]]]:
    """Every column audit.yaml names outside ``inputs``: ``(key, column, tables it may be in)``."""
    cust_resp = ("responses", "customers")
    out: list[tuple[str, str, tuple[str, ...]]] = []
    out += [(f"segments[{i}]", c, ("responses", "customers", "tickets")) for i, c in enumerate(config.segments)]
    if config.outcome is not None:
        out.append(("outcome.column", config.outcome.column, ("responses",)))
    for name, band in config.bands.items():
        out.append((f"bands.{name}.source", band.source, tuple(TABLES)))
    bands = set(config.bands)
    out += [(f"categories.{c}", c, tuple(TABLES)) for c in config.categories if c not in bands]
    out += [(f"reference.{c}", c, cust_resp) for c in config.reference if c not in bands]
    out += [(f"churn.covariates[{i}]", c, ("customers",)) for i, c in enumerate(config.churn.covariates or [])]
    out += [(f"churn.segments[{i}]", c, ("customers",))
            for i, c in enumerate(config.churn.segments or []) if c not in bands]
    out += [(f"weighting.targets.{c}", c, ("responses",)) for c in config.weighting.targets]
    return out


def check_named_columns(config: AuditConfig, tables: dict[str, pd.DataFrame], files: dict[str, Any]) -> None:
    """A column named in audit.yaml that none of its possible tables has is one error naming the key,
    the file and the closest column names (:func:`closest_columns`). Keys about a table that was not
    supplied are not checked.

    Raises
    ------
    DataError
        (exit code 3) for the first such column.
    """
    for key, col, where in named_columns(config):
        present = [t_ for t_ in where if t_ in tables]
        if not present or any(col in tables[t_].columns for t_ in present):
            continue
        t0 = present[0]
        cols = [str(c) for c in tables[t0].columns if not str(c).startswith("_")]
        mapped = input_info(tables[t0]).get("mapped", {})
        near = closest_columns(col, [*cols, *mapped.values()])
        hint = ("closest: " + ", ".join(repr(c) for c in near)) if near else ("the file has: " + ", ".join(cols[:20]))
        raise DataError(str(files.get(t0, t0)), f"key '{key}': column {col!r} not found in the {t0} table ({hint})",
                        column=col)


def apply_variables(frame: pd.DataFrame, config: AuditConfig) -> list[str]:
    """Add the ``bands`` of audit.yaml to a conformed table whose columns include their source.

    A band is text (its label), ``[lower, upper)``, the last band closed; a value outside every band
    or missing stays missing. Returns the names of the band columns added. The order of the bands is
    :meth:`AuditConfig.level_order`.

    Examples
    --------
    >>> from cxaudit.config import AuditConfig
    >>> cfg = AuditConfig.model_validate({"client": {"name": "A"}, "inputs": {"customers": {"file": "c.csv"}},
    ...                                   "bands": {"tb": {"source": "t", "edges": [0, 12, 24], "labels": ["new", "old"]}}})
    >>> f = pd.DataFrame({"t": [0, 11.5, 12, 24, 30, None]})
    >>> apply_variables(f, cfg), f["tb"].tolist()
    (['tb'], ['new', 'new', 'old', 'old', <NA>, <NA>])
    """
    added = []
    for name, band in config.bands.items():
        if band.source not in frame.columns:
            continue
        x = pd.to_numeric(frame[band.source], errors="coerce")
        labels = band_labels(band)
        idx = np.searchsorted(np.asarray(band.edges, float), x.to_numpy(float), side="right") - 1
        last = len(band.edges) - 1
        idx = np.where(x.to_numpy(float) == band.edges[-1], last - 1, idx)
        ok = x.notna().to_numpy() & (idx >= 0) & (idx < last)
        out = pd.Series(pd.NA, index=frame.index, dtype="string")
        out[ok] = np.asarray(labels, dtype=object)[idx[ok]]
        frame[name] = out
        added.append(name)
    return added


def input_info(kept: pd.DataFrame) -> dict[str, Any]:
    """What the reader detected and what :func:`conform` recoded, kept with a conformed table.

    Keys: ``format``, ``encoding``, ``delimiter``, ``decimal``, ``sheet``, ``notes``, ``blank_rows``,
    ``user_missing``, ``header_rows``, ``mapped`` (canonical -> source column), ``auto_mapped``,
    ``recoded`` (column -> cells recoded from labels), ``non_answers`` (column -> cells).
    """
    return dict(kept.attrs.get("cxaudit_input", {}))


def conform(
    table: str, raw: RawTable, spec: InputSpec, config: AuditConfig
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Map, type-convert and check one raw table.

    Returns
    -------
    kept : DataFrame
        Canonical columns (plus every extra column of the file), typed, excluded rows removed.
        Column ``_row`` holds each row's line number in the source file. ``input_info(kept)``
        tells what the reader detected and what was recoded.
    log : DataFrame
        One row per (row, rule, column) problem with columns :data:`LOG_COLUMNS`; ``excluded`` is
        True where the rule is listed in ``quality.exclude`` or in :data:`ALWAYS_EXCLUDED` (else the
        row is kept and the bad value, if any, is set to missing).
    """
    tspec = TABLES[table]
    file = str(raw.file)
    meta = raw.meta or {}
    frame = raw.frame.copy()
    frame.columns = [str(c).strip() for c in frame.columns]
    columns = list(frame.columns)
    aliases = meta.get("aliases", {}) or {}

    # 1. column mapping: canonical <- source (name, spacing variant, or an alias the reader found)
    rename: dict[str, str] = {}
    for canonical, source in spec.columns.items():
        col = _resolve(str(source).strip(), columns, aliases)
        if col is None:
            raise _mapping_error(file, table, canonical, source, frame, raw)
        rename[col] = canonical
    auto: dict[str, str] = {}
    for canonical, source in (meta.get("suggested") or {}).items():
        if canonical in spec.columns or canonical in columns or canonical in rename.values():
            continue
        if canonical not in tspec.required and canonical not in ("duration_s", "finished"):
            continue
        col = _resolve(source, columns, aliases)
        if col is not None and col not in rename:
            rename[col] = canonical
            auto[canonical] = col
    clash = {c: f"{c} (unmapped)" for c in columns if c in rename.values() and c not in rename}
    frame = frame.rename(columns={**clash, **rename})
    generated: list[str] = []
    if table == "responses" and "date" not in frame.columns and config.fieldwork is not None:
        frame["date"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
        generated.append("date")
    if table == "tickets" and "created_at" not in frame.columns:
        frame["created_at"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
        generated.append("created_at")
    others_present = all(c in frame.columns for c in tspec.required if c != tspec.id_column)
    if (tspec.id_column and tspec.id_column not in frame.columns and table in OPTIONAL_ID_TABLES
            and others_present):
        # a one-off export without an id column: each row's line number in the file is its id
        frame[tspec.id_column] = raw.source_rows.astype("int64").astype("string").to_numpy()
        generated.append(tspec.id_column)
    for col in tspec.required:
        if col not in frame.columns:
            hint = _found_below(raw, col, table)
            if table == "responses" and col == "date":
                hint += "; a one-off survey without dates: give its field period as fieldwork: {start, end} in audit.yaml"
            raise DataError(
                file,
                f"required column '{col}' missing; map it in inputs.{table}.columns "
                f"(the file has: {', '.join(map(str, frame.columns[:20]))}){hint}",
                column=col,
            )

    rows = raw.source_rows.reset_index(drop=True)
    frame = frame.reset_index(drop=True)
    log = _Log(table, file, rows)
    info: dict[str, Any] = {k: meta[k] for k in _INFO_KEYS if k in meta}
    info["mapped"] = {v: k for k, v in rename.items()}
    info["auto_mapped"] = auto
    info["generated"] = generated
    recoded: dict[str, int] = {}
    non_answers: dict[str, int] = {}

    # 2. row issues the reader saw
    issues = raw.issues
    if issues is not None and len(issues):
        for rule, part in issues.groupby("rule", sort=False):
            log.add_positions(part["pos"].to_numpy(dtype="int64"), str(rule),
                              part["column"].map(lambda c: rename.get(c, c)).to_numpy(), part["value"].to_numpy())

    # 3. required values present
    for col in tspec.required:
        if col in generated:
            continue
        text = _as_text(frame[col]).str.strip()
        log.add(text.isna() | (text == ""), "missing_required", col, frame[col])

    # 4. dates
    dayfirst = config.language != "en"
    for col in tspec.dates:
        if col not in frame.columns or col in generated:
            continue
        original = frame[col]
        fmt = spec.date_format if col in ("date", "created_at") else None
        parsed, family = parse_dates(original, fmt, dayfirst=dayfirst)
        text = _as_text(original).str.strip()
        log.add(original.notna() & parsed.isna() & (text != ""), "invalid_date", col, original)
        fam = family[family != ""]
        if len(fam) and fam.nunique() > 1:
            usual = fam.value_counts().index[0]
            log.add((family != "") & (family != usual), "mixed_date_format", col, original)
        frame[col] = parsed

    # 5. numbers and scales
    decimal = spec.decimal or meta.get("decimal") or "."
    scale_cols = {c: s for c, s in tspec.scales.items() if c in frame.columns}
    if table == "responses":
        scale_cols |= {c: "touchpoint" for c in touchpoint_columns(frame)}
    codes_by_col = meta.get("value_codes", {}) or {}
    source_of = {v: k for k, v in rename.items()}
    for col in [*(c for c in tspec.numbers if c in frame.columns), *scale_cols]:
        original = frame[col]
        text = _as_text(original).str.strip()
        if col in scale_cols:
            na = na_code_mask(text, getattr(config.scales, scale_cols[col]).na_codes, decimal)
            if na.any():  # "not applicable" / "no rating": a missing cell, counted, never a scale point
                non_answers[col] = non_answers.get(col, 0) + int(na.sum())
                text = text.mask(na)
        num = parse_numbers(text, decimal)
        unread = text.notna() & (text != "") & num.isna()
        if col in scale_cols and unread.any():
            sc = getattr(config.scales, scale_cols[col])
            codes = codes_by_col.get(source_of.get(col, col))
            labelled, by_label, non = recode(text[unread], sc.min, sc.max, sc.labels,
                                             builtin=sc.builtin_labels, codes=codes)
            num[unread] = labelled
            if by_label.any():
                recoded[col] = int(by_label.sum())
            if non.any():
                non_answers[col] = int(non.sum())
            unread = unread & ~by_label.reindex(unread.index, fill_value=False) & ~non.reindex(unread.index, fill_value=False)
        log.add(unread, "invalid_value", col, original)
        if col in scale_cols:
            sc = getattr(config.scales, scale_cols[col])
            off = num.notna() & ((num < sc.min) | (num > sc.max) | (num != np.floor(num)))
            log.add(off, "out_of_range", col, original)
            num = num.mask(off)
        frame[col] = num.astype("float64")

    for col in tspec.booleans:
        if col not in frame.columns:
            continue
        text = _as_text(frame[col]).str.strip().str.lower()
        val = pd.Series(pd.NA, index=frame.index, dtype="boolean")
        val[text.isin(_TRUE).fillna(False).to_numpy()] = True
        val[text.isin(_FALSE).fillna(False).to_numpy()] = False
        log.add(text.notna() & (text != "") & val.isna(), "invalid_value", col, frame[col])
        frame[col] = val

    for col, attr in tspec.choices.items():
        allowed = set(getattr(config, attr))
        text = _as_text(frame[col]).str.strip().str.lower()
        bad = text.notna() & ~text.isin(allowed)
        log.add(bad, "invalid_value", col, frame[col])
        frame[col] = text.mask(bad.fillna(False))

    # 6. duplicates of the id
    if tspec.id_column:
        ids = _as_text(frame[tspec.id_column]).str.strip()
        log.add(ids.notna() & ids.duplicated(keep="first"), "duplicate_id", tspec.id_column, frame[tspec.id_column])

    # 7. the row-level data-quality checks
    for check in row_checks(table, frame, config, log_rules=log, spec=tspec):
        log.add(check.mask, check.rule, check.column, check.values)

    # 8. decide: which rows go
    problems = log.frame()
    problems["excluded"] = problems["rule"].isin(config.quality.exclude) | problems["rule"].isin(ALWAYS_EXCLUDED)
    drop_pos = np.unique(problems.loc[problems["excluded"], "_pos"].to_numpy(dtype="int64"))
    kept = frame.drop(index=drop_pos)
    kept.insert(0, "_row", rows.drop(index=drop_pos).to_numpy())
    kept = kept.reset_index(drop=True)
    info["bands"] = apply_variables(kept, config)
    info["recoded"], info["non_answers"] = recoded, non_answers
    kept.attrs["cxaudit_input"] = info
    check_intake(table, file, len(frame), len(kept), config)
    return kept, problems.drop(columns="_pos")
