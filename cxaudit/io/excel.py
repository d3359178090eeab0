"""Excel workbooks (.xlsx / .xlsm) as consultants receive them.

- **Several sheets**: ``inputs.<table>.sheet`` names one (or its 0-based index); without it a
  workbook with one sheet is read as is, and of several the sheet with the largest used range is
  read and named in ``meta["notes"]`` (and so in the scorecard). A missing sheet is a one-line
  :class:`~cxaudit.errors.DataError` listing the sheets there are.
- **Header not on row 1**: ``header_row: 4``, or ``header_row: auto`` to skip title rows (the
  first row whose filled cells are all text and at least half as many as the widest row near it).
- **Merged header cells**: a merged cell's value fills its whole range. A header row with cells
  merged across columns over a second header row is read as a two-row header:
  ``"Satisfaction with | Delivery"``. Merged cells in the data fill their range too (counted in
  ``meta["notes"]``).
- Cells are text: numbers without a spurious ``.0``, dates as ISO ``YYYY-MM-DD[ HH:MM:SS]``,
  booleans as ``true``/``false``; Excel error values (``#N/A``) stay as they are and are logged as
  invalid values where a number is expected.

Row numbers are sheet rows (what Excel shows at the left).
"""

from __future__ import annotations

import datetime as _dt
import io
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import InputSpec
from ..errors import DataError
from ._base import RawTable, register_reader
from ._grid import Grid, build_table, clean_names

__all__ = ["read_xlsx", "read_grid_xlsx", "first_rows", "cell_text"]

_REF = re.compile(r"^([A-Z]+)(\d+)$")


def cell_text(v: Any) -> str | None:
    """One cell value as text (``None`` for an empty cell).

    Examples
    --------
    >>> [cell_text(x) for x in (9.0, 2.5, True, _dt.datetime(2024, 1, 5), _dt.datetime(2024, 1, 5, 9, 30), None)]
    ['9', '2.5', 'true', '2024-01-05', '2024-01-05 09:30:00', None]
    """
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, str):
        return v if v.strip() else None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return None
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, _dt.datetime):
        return v.date().isoformat() if v.time() == _dt.time(0) else v.isoformat(sep=" ")
    if isinstance(v, _dt.date | _dt.time):
        return v.isoformat()
    if isinstance(v, _dt.timedelta):
        return repr(v.total_seconds())
    return str(v)


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n


def _parse_range(ref: str) -> tuple[int, int, int, int] | None:
    a, _, b = ref.partition(":")
    ma, mb = _REF.match(a), _REF.match(b or a)
    if not (ma and mb):
        return None
    return int(ma.group(2)), _col_index(ma.group(1)), int(mb.group(2)), _col_index(mb.group(1))


def _open(path: Path) -> Any:
    import openpyxl

    try:  # from bytes: openpyxl refuses a workbook by its file name's suffix (an .xlsx saved as .csv)
        return openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a corrupt workbook
        raise DataError(str(path), f"not a readable .xlsx workbook ({type(exc).__name__}); expected an Excel "
                        "2007+ workbook (save it again from Excel)") from None


def _pick_sheet(path: Path, wb: Any, sheet: str | int | None, notes: list[str]) -> Any:
    names = list(wb.sheetnames)
    if sheet is None:
        if len(names) == 1:
            return wb[names[0]]
        sizes = []
        for n in names:
            ws = wb[n]
            if not (ws.max_row and ws.max_column):  # no <dimension> record: count the used range
                ws.calculate_dimension(force=True)
            sizes.append((ws.max_row or 0) * (ws.max_column or 0))
        best = names[int(np.argmax(sizes))]
        notes.append(f"sheet '{best}' read (the largest of {', '.join(names)}); set inputs.<table>.sheet to choose")
        return wb[best]
    if isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            raise DataError(str(path), f"sheet index {sheet} out of range; the workbook has {len(names)} sheet(s): "
                            f"{', '.join(names)}")
        return wb[names[sheet]]
    if sheet not in names:
        raise DataError(str(path), f"Worksheet named '{sheet}' not found; expected one of: {', '.join(names)}")
    return wb[sheet]


def _rows_and_merges(ws: Any) -> tuple[list[tuple[int, list[Any]]], list[tuple[int, int, int, int]]]:
    """All non-empty rows (sheet row number, values) and the merged ranges of a read-only sheet."""
    merges: list[tuple[int, int, int, int]] = []
    rows: list[tuple[int, list[Any]]] = []
    try:
        from openpyxl.worksheet._reader import WorkSheetParser

        wb = ws.parent
        with ws._get_source() as src:
            parser = WorkSheetParser(src, ws._shared_strings, data_only=True, epoch=wb.epoch,
                                     date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
            for idx, cells in parser.parse():
                vals: dict[int, Any] = {c["column"]: c["value"] for c in cells if c["value"] is not None}
                if vals:
                    width = max(vals)
                    rows.append((idx, [vals.get(j) for j in range(1, width + 1)]))
            mc = getattr(parser, "merged_cells", None)
            for rng in getattr(mc, "mergeCell", []) or []:
                r = _parse_range(str(rng.ref))
                if r:
                    merges.append(r)
    except (ImportError, AttributeError):  # a different openpyxl: values only, no merge information
        for idx, values in enumerate(ws.iter_rows(values_only=True), start=1):
            vals2 = list(values)
            while vals2 and vals2[-1] is None:
                vals2.pop()
            if vals2:
                rows.append((idx, vals2))
    return rows, merges


def read_grid_xlsx(path: Path, spec: InputSpec) -> tuple[Grid, dict[str, Any]]:
    """Every non-empty row of the chosen sheet as a :class:`Grid` (merged ranges filled)."""
    wb = _open(path)
    notes: list[str] = []
    try:
        ws = _pick_sheet(path, wb, spec.sheet, notes)
        rows, merges = _rows_and_merges(ws)
        title = ws.title
    finally:
        wb.close()
    if not rows:
        raise DataError(str(path), f"sheet '{title}' is empty; expected a header row and data rows")
    width = max(len(v) for _, v in rows)
    for *_, c2 in merges:
        width = max(width, c2)
    row_nums = np.array([r for r, _ in rows], dtype=np.int64)
    cells = pd.DataFrame([[cell_text(x) for x in v] + [None] * (width - len(v)) for _, v in rows],
                         columns=range(width), dtype=object)
    position = {int(r): i for i, r in enumerate(row_nums)}
    filled_data = 0
    header_merges: list[tuple[int, int, int, int]] = []
    for r1, c1, r2, c2 in merges:
        top = position.get(r1)
        if top is None:
            continue
        value = cells.iat[top, c1 - 1]
        header_merges.append((r1, c1, r2, c2))
        for rr in range(r1, r2 + 1):
            i = position.get(rr)
            if i is None:
                # a row inside the merge that had no values: add nothing (it has no data row)
                continue
            for cc in range(c1, c2 + 1):
                if (rr, cc) != (r1, c1):
                    cells.iat[i, cc - 1] = value
                    filled_data += 1
    meta: dict[str, Any] = {"sheet": title, "notes": notes, "merges": header_merges}
    # the widths are not field counts of a text record: no truncated_row checks for workbooks
    if filled_data:
        notes.append(f"{filled_data} cell(s) filled from merged ranges")
    grid = Grid(cells, row_nums, np.full(len(cells), -1, dtype=np.int64))
    return grid, meta


def _auto_header(grid: Grid) -> int:
    """Index of the first row whose filled cells are text and at least half the widest near it."""
    head = grid.cells.iloc[:40]
    filled = head.notna().sum(axis=1).to_numpy()
    if not len(filled):
        return 0
    widest = filled.max()
    for i in range(len(head)):
        vals = [v for v in head.iloc[i].tolist() if v is not None]
        if filled[i] >= max(2, 0.5 * widest) and all(_is_label(v) for v in vals):
            return i
    return 0


def _is_label(v: str) -> bool:
    s = str(v).strip()
    return not re.fullmatch(r"[+-]?\d+([.,]\d+)?|\d{4}-\d{2}-\d{2}.*", s)


def _header(grid: Grid, meta: dict[str, Any], h: int) -> tuple[list[int], list[str]]:
    """The header row index(es) and column names, joining a two-row header under merged cells."""
    width = grid.cells.shape[1]
    top = [str(v) if v is not None else "" for v in grid.cells.iloc[h].tolist()]
    hr = int(grid.rows[h])
    horizontal = [m for m in meta.get("merges", []) if m[0] == hr and m[3] > m[1]]
    if horizontal and h + 1 < len(grid.cells) and int(grid.rows[h + 1]) == hr + 1:
        below = [str(v) if v is not None else "" for v in grid.cells.iloc[h + 1].tolist()]
        names = []
        for j in range(width):
            a, b = top[j].strip(), below[j].strip()
            names.append(a if (not b or a == b) else (b if not a else f"{a} | {b}"))
        meta.setdefault("notes", []).append(f"two-row header (rows {hr}-{hr + 1}) under merged cells joined as 'top | bottom'")
        return [h, h + 1], clean_names(names)
    return [h], clean_names(top)


def first_rows(path: Path, n: int) -> list[list[str]]:
    """The first ``n`` rows of the first sheet as text (format sniffing)."""
    wb = _open(path)
    try:
        ws = wb[wb.sheetnames[0]]
        first: list[list[str]] = []
        for values in ws.iter_rows(min_row=1, max_row=n, values_only=True):
            first.append([cell_text(v) or "" for v in values])
    finally:
        wb.close()
    return first


@register_reader("xlsx", (".xlsx", ".xlsm"))
def read_xlsx(path: Path, spec: InputSpec) -> RawTable:
    """Read one sheet of a workbook (see the module docstring)."""
    grid, meta = read_grid_xlsx(path, spec)
    meta["format"] = "xlsx"
    if spec.header_row == "auto":
        h = _auto_header(grid)
    else:
        hits = np.flatnonzero(grid.rows == int(spec.header_row))
        if not len(hits):
            raise DataError(str(path), f"row {spec.header_row} of sheet '{meta['sheet']}' is empty; expected the "
                            "column names there (set header_row, or header_row: auto)", row=int(spec.header_row))
        h = int(hits[0])
    header_idx, names = _header(grid, meta, h)
    from .csv import detect_decimal

    raw = build_table(path, grid, header_idx, names, meta)
    meta["decimal"] = spec.decimal or detect_decimal(raw.frame)
    return raw
