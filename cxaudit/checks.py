"""Row-level data-quality checks, run by :func:`cxaudit.schema.conform` while loading.

Each check returns the rows it flags (:class:`RowCheck`); ``conform`` logs them with file, row, rule,
column and value, and ``quality.exclude`` in audit.yaml decides which exclude rows. The rules are
described in :mod:`cxaudit.quality` (the data-quality section), which re-exports these names.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .config import AuditConfig

__all__ = [
    "RowCheck",
    "row_checks",
    "speeder_mask",
    "straightliner_mask",
    "duplicate_respondent_mask",
    "short_answer_mask",
    "gibberish_mask",
    "inconsistent_dates",
    "applicable_rules",
]

# --- row checks ----------------------------------------------------------------------------------


def _as_text(s: pd.Series) -> pd.Series:
    """``s`` as a pandas string column (no copy when it already is one)."""
    return s if isinstance(s.dtype, pd.StringDtype) else s.astype("str")


@dataclass(frozen=True)
class RowCheck:
    """Rows one check flags: ``mask`` over the table's rows, the column, and the values to log."""

    rule: str
    column: str
    mask: pd.Series
    values: pd.Series | None


def speeder_mask(duration: pd.Series, fraction: float) -> pd.Series:
    """Duration below ``fraction`` × the median duration of all rows with a duration.

    Source: METHODS.md, "Data quality" (⅓ or ½ of the median are the common cut-offs).

    Examples
    --------
    >>> speeder_mask(pd.Series([100.0, 100, 100, 40, 60]), 0.5).tolist()
    [False, False, False, True, False]
    """
    d = pd.to_numeric(duration, errors="coerce")
    if not d.notna().any():
        return pd.Series(False, index=duration.index)
    return (d < fraction * float(d.median())).fillna(False)


def straightliner_mask(grid: pd.DataFrame, min_items: int, max_sd: float = 0.0) -> pd.Series:
    """Rows answering at least ``min_items`` items of a rating grid with (near) zero variance.

    ``max_sd = 0`` flags identical answers only; a positive value flags a population standard
    deviation at most that ("near-zero variance", METHODS.md).

    Examples
    --------
    >>> g = pd.DataFrame({"a": [3, 3, 5], "b": [3, 4, 5], "c": [3, 3, None]})
    >>> straightliner_mask(g, 2).tolist(), straightliner_mask(g, 3, 0.5).tolist()
    ([True, False, True], [True, True, False])
    """
    answered = grid.notna().sum(axis=1)
    if max_sd > 0:
        flat = grid.std(axis=1, ddof=0) <= max_sd
    else:
        flat = grid.max(axis=1) == grid.min(axis=1)
    return ((answered >= min_items) & flat).fillna(False)


def duplicate_respondent_mask(frame: pd.DataFrame, answer_columns: list[str], exclude: pd.Series | None = None,
                              min_answers: int = 3) -> pd.Series:
    """Later rows of a customer whose answers repeat an earlier row of the same customer exactly.

    A double submission under a new response id: same ``customer_id``, same answers in every
    answer column (missing equal to missing), at least ``min_answers`` of them given. Rows in
    ``exclude`` (e.g. already duplicate ids) are left to that rule.

    Examples
    --------
    >>> f = pd.DataFrame({"customer_id": ["c1", "c1", "c2", "c1"], "nps": [9, 9, 9, 9], "csat": [5, 5, 5, 4],
    ...                   "ces": [7, 7, 7, 7]})
    >>> duplicate_respondent_mask(f, ["nps", "csat", "ces"]).tolist()
    [False, True, False, False]
    """
    if "customer_id" not in frame.columns or not answer_columns:
        return pd.Series(False, index=frame.index)
    cust = _as_text(frame["customer_id"]).str.strip()
    answers = frame[answer_columns]
    eligible = cust.notna() & (cust != "") & (answers.notna().sum(axis=1) >= min_answers)
    if exclude is not None:
        eligible &= ~exclude
    if not eligible.any():
        return pd.Series(False, index=frame.index)
    key = pd.concat([cust.rename("_c"), answers], axis=1)[eligible]
    dup = key.duplicated(keep="first")
    return dup.reindex(frame.index, fill_value=False)




def short_answer_mask(text: pd.Series, min_chars: int) -> pd.Series:
    """Non-empty answers with fewer than ``min_chars`` letters or digits ("-", ".", "ok" at 3).

    Examples
    --------
    >>> short_answer_mask(pd.Series(["-", "ok", "good", None, "  "]), 3).tolist()
    [True, True, False, False, False]
    """
    s = _as_text(text)
    present = (s.notna() & (s.str.strip() != "")).fillna(False)
    out = pd.Series(False, index=text.index)
    short = present & (s.str.len() < 4 * min_chars + 20).fillna(False)  # longer texts cannot be too short
    if short.any():
        out[short.to_numpy()] = (s[short].str.count(r"[\pL\pN]").fillna(0) < min_chars).to_numpy()
    return out


_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "йцукенгшщзхъ", "фывапролджэ", "ячсмитьбю", "qwertzuiop",
                  "1234567890")
_KEYBOARD_RUNS = sorted({row[i:i + 5] for row in _KEYBOARD_ROWS for i in range(len(row) - 4)})
_LETTERS = "abcdefghijklmnopqrstuvwxyząćęłńóśźżабвгдеёжзийклмнопрстуфхцчшщъыьэюя"
_VOWELS = "aeiouyąęóаеёиоуыэюяéáíúůěäöü"
_CONSONANTS = "".join(ch for ch in _LETTERS if ch not in _VOWELS)
_MAX_JUDGED = 1000  # longer answers are not judged as gibberish (oversized_value covers huge ones)
# RE2-compatible (no back-references, no look-around) so pandas runs it in pyarrow on the whole column
_GIBBERISH = (
    "(?:" + "|".join(ch * 4 for ch in _LETTERS) + ")"              # a letter 4+ times in a row: "aaaa"
    + "|" + "|".join(_KEYBOARD_RUNS)                                # a keyboard run of 5: "asdfg", "фывап"
    + r"|(?:^|[^\pL])[" + _CONSONANTS + r"]{6,}(?:[^\pL]|$)"         # a 6+ letter word without a vowel
)


def gibberish_mask(text: pd.Series) -> pd.Series:
    """Open answers that look like keyboard mashing.

    An answer (of at most 1,000 characters) is gibberish when, lower-cased, it has a letter four or more times in a row, a run of
    five neighbouring keys of a QWERTY / QWERTZ / ЙЦУКЕН row (or of the digit row), or a word of six
    or more letters without a vowel (Latin, Polish or Cyrillic vowels); or when it is at least four
    characters long and fewer than half of its non-space characters are letters ("?!?!?!", "1111").
    Heuristic and deterministic; the flag only excludes a row if ``gibberish`` is listed in
    ``quality.exclude``.

    Examples
    --------
    >>> gibberish_mask(pd.Series(["asdfgh", "ффффф", "Great service!", "xkcdqwrt", "!!!???", "Доставка опоздала",
    ...                           "Zażółć gęślą jaźń", "10/10"])).tolist()
    [True, True, False, True, True, False, False, False]
    """
    s = _as_text(text).str.strip().str.lower()
    out = pd.Series(False, index=text.index)
    judged = (s.notna() & (s != "") & (s.str.len() <= _MAX_JUDGED)).fillna(False)
    if not judged.any():
        return out
    s = s[judged]
    hit = np.array(s.str.contains(_GIBBERISH, regex=True).fillna(False).to_numpy(), dtype=bool)
    # few letters: only texts without a run of four letters can be mostly symbols
    few = np.flatnonzero(~s.str.contains(r"\pL{4}", regex=True).fillna(False).to_numpy())
    if len(few):
        t = s.iloc[few]
        nonspace = (t.str.len() - t.str.count(r"\s")).fillna(0)
        letters = t.str.count(r"\pL").fillna(0)
        symbols = (nonspace >= 4) & (letters < 0.5 * nonspace) & ~t.str.fullmatch(r"[\d\s/.,:+-]+").fillna(False)
        hit[few] |= symbols.to_numpy(dtype=bool)
    out[judged.to_numpy()] = hit
    return out


def inconsistent_dates(table: str, frame: pd.DataFrame, date_columns: tuple[str, ...],
                       as_of: _dt.date | None = None) -> list[RowCheck]:
    """Future dates (rule ``future_date``: after ``as_of``, default today; excluded by default, since
    a survey answer or a ticket from the future is a system or export error and would stretch the
    data period), dates before 1900 and date pairs in the wrong order (rule ``inconsistent_date``).

    The logged values are language-neutral, ISO dates with a comparison: ``"2031-01-01 > 2026-01-01"``
    (after ``as_of``), ``"1899-12-31 < 1900-01-01"``, ``"churn_date 2023-01-01 < start_date 2023-05-01"``;
    the report names the problem with the localised rule label (``rule.future_date``, ``rule.inconsistent_date``).

    Examples
    --------
    >>> f = pd.DataFrame({"start_date": pd.to_datetime(["2023-05-01", "2023-01-01"]),
    ...                   "churn_date": pd.to_datetime(["2023-01-01", "2031-01-01"])})
    >>> [(c.column, c.rule, c.mask.tolist()) for c in inconsistent_dates("customers", f, ("start_date", "churn_date"),
    ...                                                          _dt.date(2026, 1, 1))]
    [('churn_date', 'future_date', [False, True]), ('churn_date', 'inconsistent_date', [True, False])]
    """
    out: list[RowCheck] = []
    limit = pd.Timestamp(as_of or _dt.datetime.now(_dt.UTC).date()) + pd.Timedelta(days=1)
    floor = pd.Timestamp("1900-01-01")
    cols = [c for c in date_columns if c in frame.columns and pd.api.types.is_datetime64_any_dtype(frame[c])]
    for c in cols:
        d = frame[c]
        # language-neutral values (the log is written before the report language is known; the
        # localised rule label says what is wrong): "2031-01-01 > 2026-01-01" (after as_of),
        # "1899-12-31 < 1900-01-01"
        label = d.dt.strftime("%Y-%m-%d").astype("string")
        future = (d >= limit).fillna(False)
        if future.any():
            out.append(RowCheck("future_date", c, future,
                                (label + f" > {(limit - pd.Timedelta(days=1)).date()}").astype("string")))
        ancient = (d < floor).fillna(False)
        if ancient.any():
            out.append(RowCheck("inconsistent_date", c, ancient, (label + f" < {floor.date()}").astype("string")))
    pairs = {
        "customers": [("start_date", "churn_date")],
        "tickets": [("created_at", "first_response_at"), ("created_at", "resolved_at"),
                    ("first_response_at", "resolved_at")],
    }.get(table, [])
    for early, late in pairs:
        if early in cols and late in cols:
            wrong = (frame[late] < frame[early]).fillna(False)
            if wrong.any():
                fmt = "%Y-%m-%d" if table == "customers" else "%Y-%m-%d %H:%M"
                vals = (late + " " + frame[late].dt.strftime(fmt).astype("string") + " < " + early + " "
                        + frame[early].dt.strftime(fmt).astype("string"))
                out.append(RowCheck("inconsistent_date", late, wrong, vals))
    return out


def row_checks(table: str, frame: pd.DataFrame, config: AuditConfig,
               log_rules: Any = None, *, spec: Any) -> list[RowCheck]:
    """Every row-level data-quality check that applies to ``table`` (typed, canonical columns).

    ``spec`` is the table's :class:`cxaudit.schema.TableSpec` (its date and text columns).
    Rows whose response id repeats an earlier one are left to ``duplicate_id`` and not flagged again
    as ``duplicate_respondent``. ``log_rules`` is accepted for callers that pass the log built so
    far; it is not needed.
    """
    q = config.quality
    tspec = spec
    out: list[RowCheck] = []
    if table == "responses":
        if "duration_s" in frame.columns and frame["duration_s"].notna().sum() > 0:
            out.append(RowCheck("speeder", "duration_s", speeder_mask(frame["duration_s"], q.speeder_fraction),
                                frame["duration_s"]))
        tps = [c for c in frame.columns if str(c).startswith("tp_")]  # as schema.touchpoint_columns
        if len(tps) >= q.straightliner_min_items:
            grid = frame[tps]
            out.append(RowCheck("straightliner", "tp_*",
                                straightliner_mask(grid, q.straightliner_min_items, q.straightliner_max_sd),
                                grid.max(axis=1)))
        answer_cols = [c for c in ("nps", "csat", "ces", *tps, "comment") if c in frame.columns]
        dup_ids = None
        if "response_id" in frame.columns:
            ids = _as_text(frame["response_id"]).str.strip()
            dup_ids = (ids.notna() & ids.duplicated(keep="first")).fillna(False)
        out.append(RowCheck("duplicate_respondent", "customer_id",
                            duplicate_respondent_mask(frame, answer_cols, dup_ids),
                            frame["customer_id"] if "customer_id" in frame.columns else None))
        if "finished" in frame.columns:
            out.append(RowCheck("unfinished", "finished", (frame["finished"] == False).fillna(False),  # noqa: E712
                                frame["finished"].astype("string")))
    out.extend(inconsistent_dates(table, frame, tspec.dates, q.as_of))
    for col in tspec.texts:
        if col in frame.columns:
            text = frame[col]
            out.append(RowCheck("gibberish", col, gibberish_mask(text), text))
            out.append(RowCheck("short_answer", col, short_answer_mask(text, q.min_answer_chars), text))
    for col in frame.columns:
        s = frame[col]
        if col.startswith("_") or not (pd.api.types.is_string_dtype(s) or s.dtype == object):
            continue
        lengths = _as_text(s).str.len()
        big = (lengths > q.max_answer_chars).fillna(False)
        if big.any():
            out.append(RowCheck("oversized_value", col, big,
                                lengths.astype("Int64").astype("string").radd("length ").where(big)))
    return [c for c in out if bool(c.mask.any())]


def applicable_rules(table: str, frame: pd.DataFrame, config: AuditConfig, *, spec: Any) -> list[str]:
    """The rules :func:`row_checks` runs on ``table``, whether or not they flag a row (the conditions of
    :func:`row_checks`, without ``oversized_value``, which looks at every text cell of every table).

    The data-quality section names the checks that ran and found nothing in one line.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> cfg = SimpleNamespace(quality=SimpleNamespace(straightliner_min_items=2))
    >>> f = pd.DataFrame({"duration_s": [30.0], "tp_a": [1], "tp_b": [2], "comment": ["ok"]})
    >>> applicable_rules("responses", f, cfg, spec=SimpleNamespace(dates=("date",), texts=("comment",)))
    ['speeder', 'straightliner', 'duplicate_respondent', 'gibberish', 'short_answer']
    """
    q = config.quality
    out: list[str] = []
    if table == "responses":
        if "duration_s" in frame.columns and frame["duration_s"].notna().sum() > 0:
            out.append("speeder")
        if len([c for c in frame.columns if str(c).startswith("tp_")]) >= q.straightliner_min_items:
            out.append("straightliner")
        out.append("duplicate_respondent")
        if "finished" in frame.columns:
            out.append("unfinished")
    if any(c in frame.columns and pd.api.types.is_datetime64_any_dtype(frame[c]) for c in spec.dates):
        out += ["future_date", "inconsistent_date"]
    if any(c in frame.columns for c in spec.texts):
        out += ["gibberish", "short_answer"]
    return out
