"""The step every text-like reader shares: all records of a file -> header rows + data rows.

A :class:`Grid` holds every record of a file (header rows included) as text, with the row number a
person finds it at and how many fields it had. :func:`build_table` turns it into a
:class:`~cxaudit.io.RawTable`: it drops blank records (counted in ``meta["blank_rows"]``), names the
columns, and records rows with too many fields (``malformed_row``), too few (``truncated_row``) and
repeated header rows (``repeated_header``) as issues for the exclusion log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError

__all__ = ["Grid", "build_table", "clean_names", "unique_names"]


@dataclass
class Grid:
    """Every record of a file: ``cells`` (text or NA; column labels 0..k-1), ``rows`` (row number
    of each record in the file), ``nfields`` (fields the record had; -1 where unknown)."""

    cells: pd.DataFrame
    rows: np.ndarray
    nfields: np.ndarray

    def record(self, i: int) -> list[str]:
        """Record ``i`` as a list of strings ("" for missing), trailing empty cells dropped."""
        vals = ["" if (v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA) else str(v)
                for v in self.cells.iloc[i].tolist()]
        while vals and vals[-1] == "":
            vals.pop()
        return vals

    @property
    def blank(self) -> np.ndarray:
        """True for records with no non-empty cell and at most one field (a blank line)."""
        empty = self.cells.isna().all(axis=1).to_numpy()
        return empty & (self.nfields <= 1)


_WS = re.compile(r"\s+")


def clean_names(names: list[str]) -> list[str]:
    """Strip a BOM and surrounding whitespace; a newline inside a header cell becomes a space."""
    return [_WS.sub(" ", str(n).replace("\ufeff", "")).strip() for n in names]


def unique_names(names: list[str]) -> list[str]:
    """Make generated names unique: the second ``x`` becomes ``x #2`` (used where the export itself
    does not guarantee unique names, e.g. two SurveyMonkey questions with the same text)."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        k = seen.get(n, 0) + 1
        seen[n] = k
        out.append(n if k == 1 else f"{n} #{k}")
    return out


def _row_text(frame: pd.DataFrame, mask: np.ndarray) -> pd.Series:
    sub = frame.loc[mask].fillna("").astype(str)
    return sub.agg(" | ".join, axis=1) if len(sub) else pd.Series(dtype=object)


def repeated_header_mask(data: pd.DataFrame, header_records: list[list[str]]) -> np.ndarray:
    """Data rows that repeat a header row: at least 2 and 80 % of their non-empty cells equal the
    header cell above them (two exports pasted into one file, a Qualtrics file with an extra
    header row), or that hold Qualtrics ``{"ImportId": ...}`` cells."""
    n = len(data)
    if n == 0 or data.shape[1] == 0:
        return np.zeros(n, dtype=bool)
    nonempty = data.notna().sum(axis=1).to_numpy()
    mask = np.zeros(n, dtype=bool)
    for rec in header_records:
        rec = clean_names(rec)
        cols = [j for j in range(min(data.shape[1], len(rec))) if rec[j]]
        exact = np.zeros((n, len(cols)), dtype=bool)
        for k, j in enumerate(cols):  # cheap exact test on every row
            exact[:, k] = (data.iloc[:, j] == rec[j]).fillna(False).to_numpy()
        rows = np.flatnonzero(exact.any(axis=1))
        if not len(rows):
            continue
        same = exact[rows].sum(axis=1)
        for k, j in enumerate(cols):  # whitespace-normalised test only on rows that matched somewhere
            cells = data.iloc[rows, j]
            norm = cells.str.replace(r"\s+", " ", regex=True).str.strip()
            same += ((norm == rec[j]).fillna(False).to_numpy() & ~exact[rows, k])
        hit = (same >= 2) & (same >= 0.8 * nonempty[rows])
        mask[rows[hit]] = True
    first = data.iloc[:, 0]
    import_ids = first.str.startswith('{"ImportId"').fillna(False).to_numpy()
    return mask | import_ids


def build_table(
    path: Path,
    grid: Grid,
    header_idx: list[int],
    names: list[str],
    meta: dict[str, Any],
    *,
    header_records: list[list[str]] | None = None,
) -> Any:
    """Data rows of ``grid`` below the header records ``header_idx`` -> :class:`RawTable`.

    ``names`` are the column names (one per column of the header); columns without a name get
    ``column_<n>`` (n = 1-based position) unless they are empty throughout, in which case they
    are dropped (a trailing delimiter). Fields beyond the header make the row ``malformed_row``;
    a row with fewer fields than the header is ``truncated_row`` (its missing cells are NA).
    """
    from ._base import ISSUE_COLUMNS, RawTable

    first_data = (max(header_idx) + 1) if header_idx else 0
    width = len(names)
    if width == 0:
        raise DataError(str(path), "no header row found; expected a row naming the columns")
    body = grid.cells.iloc[first_data:]
    rows = grid.rows[first_data:]
    nfields = grid.nfields[first_data:]
    blank = grid.blank[first_data:]
    keep = ~blank
    body, rows, nfields = body[keep].reset_index(drop=True), rows[keep], nfields[keep]

    issues: list[pd.DataFrame] = []
    # fields beyond the header
    extra_cols = list(body.columns[width:])
    if extra_cols:
        has_extra = body[extra_cols].notna().any(axis=1).to_numpy() | (nfields > width)
    else:
        has_extra = nfields > width
    if has_extra.any():
        pos = np.flatnonzero(has_extra)
        vals = _row_text(body[extra_cols], has_extra) if extra_cols else pd.Series([""] * len(pos))
        issues.append(pd.DataFrame({
            "pos": pos, "rule": "malformed_row",
            "column": f"#{width + 1}",
            "value": [f"{int(k)} fields, expected {width}: …{str(v)[:60]}"
                      for k, v in zip(nfields[pos], vals, strict=True)],
        }))
    frame = body.iloc[:, :width].copy()
    # name the columns; drop unnamed columns that are empty throughout (a trailing delimiter)
    names = clean_names(names) + [""] * (width - len(names))
    drop = [j for j, n in enumerate(names) if not n and frame.iloc[:, j].isna().all()]
    final_names = [n or f"column_{j + 1}" for j, n in enumerate(names)]
    frame.columns = range(width)
    frame = frame.drop(columns=drop)
    frame.columns = [final_names[j] for j in range(width) if j not in drop]
    if drop:
        meta.setdefault("notes", []).append(f"{len(drop)} empty unnamed column(s) ignored")
    # too few fields (known only for text files)
    short = (nfields >= 0) & (nfields < width) & ~has_extra
    if short.any():
        pos = np.flatnonzero(short)
        issues.append(pd.DataFrame({
            "pos": pos, "rule": "truncated_row",
            "column": [final_names[min(int(k), width - 1)] for k in nfields[pos]],
            "value": [f"{int(k)} of {width} fields" for k in nfields[pos]],
        }))
    # header rows repeated inside the data
    headers = header_records if header_records is not None else [grid.record(i) for i in header_idx]
    rep = repeated_header_mask(frame, headers)
    if rep.any():
        pos = np.flatnonzero(rep)
        issues.append(pd.DataFrame({
            "pos": pos, "rule": "repeated_header", "column": str(frame.columns[0]),
            "value": frame.iloc[pos, 0].fillna("").astype(str).str.slice(0, 60).to_numpy(),
        }))
    meta["blank_rows"] = int(blank.sum())
    meta["header_rows"] = [int(grid.rows[i]) for i in header_idx]
    issue_frame = (pd.concat(issues, ignore_index=True)[ISSUE_COLUMNS] if issues
                   else pd.DataFrame({c: pd.Series(dtype="int64" if c == "pos" else object) for c in ISSUE_COLUMNS}))
    return RawTable(frame.reset_index(drop=True), pd.Series(rows, dtype="int64"), path, meta, issue_frame)
