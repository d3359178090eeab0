"""Every CSV / XLSX file cxaudit writes goes through here, so no cell can start a formula.

A text cell that a spreadsheet would evaluate (CSV / formula injection: ``=HYPERLINK("http://…")``
in a touchpoint label, a department or a ticket category) is written with a leading single quote,
as the OWASP *CSV Injection* guidance recommends: cells starting with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return (checked on the NFKC form, after leading spaces, so a full-width ``＝`` or
`` =1+1`` is caught too). Numbers stay numbers: a float or int is written as it is, and so is a text
cell that is a plain number (``-12.5``, ``+3``), which a spreadsheet reads as that number.

Examples
--------
>>> safe_cell('=HYPERLINK("http://x")'), safe_cell("-12.5"), safe_cell(-3), safe_cell("Kurier")
('\\'=HYPERLINK("http://x")', '-12.5', -3, 'Kurier')
>>> safe_cell("@SUM(A1)"), safe_cell("-1+1"), safe_cell("\\tcmd"), safe_cell("＝1+1")
("'@SUM(A1)", "'-1+1", "'\\tcmd", "'＝1+1")
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["FORMULA_START", "safe_cell", "safe_frame", "write_csv", "write_xlsx"]

#: First characters a spreadsheet may evaluate (OWASP CSV Injection).
FORMULA_START: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r", "\n")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d+)*|\d*[.,]\d+)(?:[eE][+-]?\d+)?%?")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet cell that cannot start a formula (text gets a leading ``'``)."""
    if not isinstance(value, str) or not value:
        return value
    norm = unicodedata.normalize("NFKC", value)
    head = norm.lstrip(" \u00a0")
    if not head:
        return value
    if head[0] in FORMULA_START or value[0] in ("\t", "\r", "\n"):
        if _PLAIN_NUMBER.fullmatch(head.strip()):
            return value  # a signed number written as text: a spreadsheet reads the number
        return "'" + value
    return value


def _safe_index(index: pd.Index) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        return pd.MultiIndex.from_tuples([tuple(safe_cell(x) for x in t) for t in index], names=index.names)
    if index.dtype == object or pd.api.types.is_string_dtype(index.dtype):
        return pd.Index([safe_cell(x) for x in index], name=safe_cell(index.name), dtype=object)
    return index


def safe_frame(df: pd.DataFrame, *, redact: bool = False) -> pd.DataFrame:
    """A copy of ``df`` whose text cells, column names and index labels cannot start a formula.

    ``redact=True`` also replaces personal data in text cells (:func:`cxaudit.pii.redact`); off by
    default, because some files (the closed-loop call list) carry contact columns on purpose.
    """
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype) or isinstance(s.dtype, pd.CategoricalDtype):
            if isinstance(s.dtype, pd.CategoricalDtype):
                s = s.astype(object)
            if redact:
                from .pii import redact_value

                s = s.map(lambda v: redact_value(v) if isinstance(v, str) else v)
            out[col] = s.map(safe_cell)
    if isinstance(out.columns, pd.MultiIndex):
        out.columns = pd.MultiIndex.from_tuples([tuple(safe_cell(str(x)) for x in t) for t in out.columns],
                                                names=out.columns.names)
    else:
        out.columns = [safe_cell(c) if isinstance(c, str) else c for c in out.columns]
    out.index = _safe_index(out.index)
    return out


def write_csv(df: pd.DataFrame, path: str | Path, *, index: bool = False, redact: bool = False,
              **kwargs: Any) -> Path:
    """``df.to_csv(path, index=index, **kwargs)`` with every cell formula-safe (:func:`safe_frame`).

    UTF-8 and CRLF line ends (RFC 4180) unless ``kwargs`` say otherwise: with CRLF the csv module
    quotes any cell holding a CR or an LF, so a CR inside a label cannot start a new row (with LF
    line ends a bare CR is written unquoted, and a spreadsheet splits the row there)."""
    path = Path(path)
    kwargs.setdefault("encoding", "utf-8")
    kwargs.setdefault("lineterminator", "\r\n")
    safe_frame(df, redact=redact).to_csv(path, index=index, **kwargs)
    return path


def _sheet_title(name: str, used: set[str]) -> str:
    title = _SHEET_BAD.sub("_", str(name)).strip("'") or "Sheet"
    title = title[:31]
    base, k = title, 2
    while title.lower() in used:
        suffix = f" ({k})"
        title = base[: 31 - len(suffix)] + suffix
        k += 1
    used.add(title.lower())
    return title


def _xlsx_value(v: Any) -> Any:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float | np.floating) and np.isnan(v):
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, pd.Timestamp):
        return v.tz_localize(None).to_pydatetime() if v.tzinfo is not None else v.to_pydatetime()
    if isinstance(v, list | tuple | dict | set):
        return str(v)
    return v


def write_xlsx(path: str | Path | Mapping[str, pd.DataFrame], sheets: Mapping[str, pd.DataFrame] | str | Path,
               *, redact: bool = False) -> Path:
    """Write ``{sheet name: DataFrame}`` to one XLSX workbook, every cell formula-safe.

    ``write_xlsx(path, {"Scorecard": df, ...})`` (the order ``write_xlsx(sheets, path)`` is accepted
    too). Column names are the first row; the index is not written (``reset_index()`` first to keep
    it). Text cells are stored as text (openpyxl's string type, never a formula) and carry the
    leading ``'`` of :func:`safe_cell` where they would start one; numbers, dates and empty cells
    keep their types. Sheet names are made valid for Excel (31 characters, no ``[]:*?/\\``, unique).
    """
    from openpyxl import Workbook

    if isinstance(path, Mapping):  # write_xlsx(sheets, path)
        path, sheets = sheets, path  # type: ignore[assignment]
    assert isinstance(sheets, Mapping)
    path = Path(path)  # type: ignore[arg-type]
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for name, df in sheets.items():
        ws = wb.create_sheet(_sheet_title(name, used))
        frame = safe_frame(df, redact=redact)
        ws.append([str(c) if not isinstance(c, str) else c for c in frame.columns])
        for row in frame.itertuples(index=False, name=None):
            ws.append([_xlsx_value(v) for v in row])
        for cells in ws.iter_rows():
            for cell in cells:
                if cell.data_type == "f":  # openpyxl reads any '='-text as a formula: store it as text
                    cell.data_type = "s"
    if not used:
        wb.create_sheet("Sheet")
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
