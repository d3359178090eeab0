"""SPSS system files (.sav, .zsav) through pyreadstat.

- **Value labels**: a coded answer becomes its label as text ("Very satisfied"), so segment
  columns read as words and scale columns are recoded by :mod:`cxaudit.schema` through the label
  maps (:mod:`cxaudit.io.labels`) -- the label decides the scale point, which is right even when the
  file codes a 0-10 item as 1-11 or reverses a scale. ``meta["value_codes"]`` keeps
  ``{column: {label: code}}`` so a label no map knows falls back to its code. Codes without a label
  stay numbers.
- **User-missing values** (SPSS ``MISSING VALUES``, e.g. 99 = "don't know", -9 = refused) are set
  to missing and counted per column in ``meta["user_missing"]`` (shown in the scorecard); they are
  declared non-answers, not out-of-range values.
- **Variable labels** are the question text (``meta["questions"]``) and name columns too
  (``meta["aliases"]``).
- Dates (SPSS DATE / DATETIME formats) come out as ISO text; row numbers are case numbers.

Source: pyreadstat documentation, ``read_sav`` (``user_missing``, ``variable_value_labels``,
``missing_ranges``); IBM SPSS Statistics, "MISSING VALUES" command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import InputSpec
from ..errors import DataError
from ._base import RawTable, register_reader, rows_series
from .excel import cell_text

__all__ = ["read_sav", "number_text"]

SUGGESTED = {"response_id": "ResponseId", "date": "RecordedDate", "duration_s": "Duration__in_seconds_",
             "finished": "Finished"}


def number_text(s: pd.Series) -> pd.Series:
    """Numbers as text without a spurious ``.0`` (``9.0 -> '9'``, ``2.5 -> '2.5'``); NaN -> NA.

    Examples
    --------
    >>> number_text(pd.Series([9.0, 2.5, np.nan, -1.0])).tolist()
    ['9', '2.5', None, '-1']
    """
    out = pd.Series([None] * len(s), index=s.index, dtype=object)
    v = pd.to_numeric(s, errors="coerce").astype("float64")
    ok = v.notna().to_numpy()
    vals = v.to_numpy()
    ints = ok & np.isfinite(vals) & (np.abs(vals) < 1e15)
    ints[ints] = vals[ints] == np.round(vals[ints])
    out[ints] = vals[ints].astype(np.int64).astype(str)
    other = ok & ~ints
    if other.any():
        out[other] = [repr(float(x)) for x in vals[other]]
    return out


def _user_missing_mask(values: pd.Series, ranges: list[dict[str, Any]]) -> np.ndarray:
    mask = np.zeros(len(values), dtype=bool)
    numeric = pd.api.types.is_numeric_dtype(values)
    for rng in ranges:
        lo, hi = rng.get("lo"), rng.get("hi")
        if numeric:
            v = values.to_numpy(dtype="float64", na_value=np.nan)
            mask |= (v >= float(lo)) & (v <= float(hi))  # type: ignore[arg-type]  # pyreadstat gives both
        else:
            mask |= (values.astype("string").str.strip() == str(lo).strip()).fillna(False).to_numpy()
    return mask


@register_reader("sav", (".sav", ".zsav"))
def read_sav(path: Path, spec: InputSpec) -> RawTable:
    """Read an SPSS system file (see the module docstring)."""
    import pyreadstat

    try:
        df, m = pyreadstat.read_sav(str(path), user_missing=True, encoding=spec.encoding)
    except Exception as exc:  # pyreadstat raises ReadstatError / PyreadstatError with a C-level message
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(str(path), f"not a readable SPSS .sav file ({detail}); expected a file saved by SPSS, "
                        "PSPP or a survey tool's SPSS export") from None
    labels: dict[str, dict[Any, str]] = m.variable_value_labels or {}
    ranges: dict[str, list[dict[str, Any]]] = m.missing_ranges or {}  # type: ignore[assignment]  # stubs: list of MissingRange dicts
    user_missing: dict[str, int] = {}
    value_codes: dict[str, dict[str, str]] = {}
    out: dict[str, pd.Series] = {}
    for col in df.columns:
        s = df[col]
        miss = _user_missing_mask(s, ranges[col]) if col in ranges else np.zeros(len(s), dtype=bool)
        if miss.any():
            user_missing[col] = int(miss.sum())
        if pd.api.types.is_numeric_dtype(s):
            text = number_text(s)
        elif pd.api.types.is_datetime64_any_dtype(s):
            midnight = (s == s.dt.normalize()).fillna(False)
            text = s.dt.strftime("%Y-%m-%d %H:%M:%S").astype(object)
            text[midnight.to_numpy()] = s[midnight].dt.strftime("%Y-%m-%d").astype(object)
            text = text.where(s.notna(), None)
        elif s.dtype == object and s.map(lambda v: isinstance(v, str) or v is None).all():
            text = s.where(s.notna() & (s.astype("str").str.strip() != ""), None).astype(object)
        else:  # dates / times as Python objects
            text = pd.Series([cell_text(v) for v in s.tolist()], index=s.index, dtype=object)
        if col in labels and labels[col]:
            codes = labels[col]
            keyed = {number_text(pd.Series([k])).iloc[0] if isinstance(k, int | float) else str(k): str(lab)
                     for k, lab in codes.items()}
            mapped = text.map(keyed)
            text = mapped.where(mapped.notna(), text)
            value_codes[col] = {lab: code for code, lab in keyed.items()}
        text[miss] = None
        out[col] = text
    frame = pd.DataFrame(out, index=df.index).astype("string")
    questions = {c: str(lab) for c, lab in (m.column_names_to_labels or {}).items() if lab}
    counts: dict[str, int] = {}
    for q in questions.values():
        counts[q] = counts.get(q, 0) + 1
    aliases = {q: c for c, q in questions.items() if counts[q] == 1 and q not in frame.columns}
    meta: dict[str, Any] = {
        "format": "sav", "encoding": m.file_encoding, "questions": questions, "aliases": aliases,
        "value_codes": value_codes, "user_missing": user_missing, "decimal": ".",
        "suggested": SUGGESTED, "header_rows": [],
    }
    if not len(frame):
        meta["notes"] = ["no cases: the file has variables but no data rows"]
    return RawTable(frame.reset_index(drop=True), rows_series(len(frame), 1), path, meta)
