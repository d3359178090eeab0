"""Hand-built writers for the binary test fixtures, written from the formats' documentation only.

They share no code with the readers under test (openpyxl, pyreadstat), so a fixture that reads
back right checks the reader against the format, not against itself.

- :func:`write_xlsx`: an Office Open XML workbook (ECMA-376 Part 1, SpreadsheetML): the package
  parts ``[Content_Types].xml``, ``_rels/.rels``, ``xl/workbook.xml``, ``xl/_rels/workbook.xml.rels``,
  ``xl/styles.xml`` and one ``xl/worksheets/sheetN.xml`` per sheet, with inline strings, numbers,
  dates as serial numbers styled ``numFmtId 14`` / ``22`` and ``<mergeCells>``.
- :func:`write_sav`: an uncompressed SPSS system file, following the GNU PSPP manual, "System File
  Format": file header record, variable records (type 2, with labels and missing values),
  value-label records (types 3 and 4), machine integer / floating-point info (7/3, 7/4), long
  variable names (7/13), character encoding (7/20), dictionary termination (999), then the cases.
"""

from __future__ import annotations

import datetime as dt
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

# --- XLSX ----------------------------------------------------------------------------------------

_EXCEL_EPOCH = dt.datetime(1899, 12, 30)


def _col_letters(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def _cell(ref: str, v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return f'<c r="{ref}" t="b"><v>{int(v)}</v></c>'
    if isinstance(v, dt.datetime):
        serial = (v - _EXCEL_EPOCH).total_seconds() / 86400
        return f'<c r="{ref}" s="2"><v>{serial!r}</v></c>'
    if isinstance(v, dt.date):
        serial = (dt.datetime(v.year, v.month, v.day) - _EXCEL_EPOCH).days
        return f'<c r="{ref}" s="1"><v>{serial}</v></c>'
    if isinstance(v, int | float):
        return f'<c r="{ref}"><v>{v!r}</v></c>'
    text = escape(str(v))
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def _sheet_xml(rows: dict[int, list[Any]], merges: list[str]) -> str:
    body = []
    for r in sorted(rows):
        cells = "".join(_cell(f"{_col_letters(j + 1)}{r}", v) for j, v in enumerate(rows[r]))
        body.append(f'<row r="{r}">{cells}</row>')
    merge = ""
    if merges:
        merge = f'<mergeCells count="{len(merges)}">' + "".join(f'<mergeCell ref="{m}"/>' for m in merges) + "</mergeCells>"
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<sheetData>{"".join(body)}</sheetData>{merge}</worksheet>')


def write_xlsx(path: Path, sheets: dict[str, dict[str, Any]]) -> Path:
    """``sheets``: name -> {"rows": {row number: [values]}, "merges": ["C4:E4", ...]}."""
    names = list(sheets)
    ct = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
          '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/>'
          '<Override PartName="/xl/workbook.xml" '
          'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
          '<Override PartName="/xl/styles.xml" '
          'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>']
    for i in range(1, len(names) + 1):
        ct.append(f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                  'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
    ct.append("</Types>")
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>')
    wb = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
          '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
          'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>']
    wbrels = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
              '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">']
    for i, n in enumerate(names, start=1):
        wb.append(f'<sheet name="{escape(n)}" sheetId="{i}" r:id="rId{i}"/>')
        wbrels.append(f'<Relationship Id="rId{i}" '
                      'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
                      f'Target="worksheets/sheet{i}.xml"/>')
    wb.append("</sheets></workbook>")
    k = len(names) + 1
    wbrels.append(f'<Relationship Id="rId{k}" '
                  'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
                  'Target="styles.xml"/></Relationships>')
    # cellXfs: 0 general, 1 date (numFmtId 14 = m/d/yyyy), 2 date-time (numFmtId 22 = m/d/yyyy h:mm)
    styles = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
              '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
              '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
              '<borders count="1"><border/></borders>'
              '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
              '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
              '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
              '<xf numFmtId="22" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
              '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
              '</styleSheet>')
    parts = {"[Content_Types].xml": "".join(ct), "_rels/.rels": rels, "xl/workbook.xml": "".join(wb),
             "xl/_rels/workbook.xml.rels": "".join(wbrels), "xl/styles.xml": styles}
    for i, n in enumerate(names, start=1):
        parts[f"xl/worksheets/sheet{i}.xml"] = _sheet_xml(sheets[n]["rows"], sheets[n].get("merges", []))
    with zipfile.ZipFile(path, "w") as z:
        for name, text in parts.items():  # a fixed timestamp: the same bytes on every run
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text)
    return path


# --- SPSS .sav -------------------------------------------------------------------------------------

SYSMIS = -1.7976931348623157e308  # -DBL_MAX
_SPSS_EPOCH = dt.datetime(1582, 10, 14)
FMT_F, FMT_A, FMT_DATETIME = 5, 1, 22


@dataclass
class SavVar:
    """One variable: ``width`` 0 numeric, else a string of that many bytes (at most 8 here)."""

    name: str
    width: int = 0
    label: str = ""
    fmt: tuple[int, int, int] = (FMT_F, 8, 0)  # (type, width, decimals)
    value_labels: dict[float, str] = field(default_factory=dict)
    missing: list[float] = field(default_factory=list)  # discrete user-missing values (up to 3)
    missing_range: tuple[float, float] | None = None


def spss_datetime(d: dt.datetime) -> float:
    """Seconds since 14 October 1582 (the SPSS date origin)."""
    return (d - _SPSS_EPOCH).total_seconds()


def _pad(b: bytes, n: int) -> bytes:
    return b[:n].ljust(n, b" ")


def write_sav(path: Path, variables: list[SavVar], cases: list[list[Any]]) -> Path:
    """An uncompressed little-endian system file with these variables and cases (None = SYSMIS)."""
    i32 = struct.Struct("<i").pack
    f64 = struct.Struct("<d").pack
    slots = [max(1, (v.width + 7) // 8) if v.width else 1 for v in variables]
    out = bytearray()
    # file header record (176 bytes)
    out += b"$FL2" + _pad(b"@(#) SPSS DATA FILE cxaudit tests (hand-built)", 60)
    out += i32(2) + i32(sum(slots)) + i32(0) + i32(0) + i32(len(cases)) + f64(100.0)
    out += b"01 Jan 24" + b"00:00:00" + _pad(b"hand-built fixture", 64) + b"\x00" * 3
    short_names = []
    for k, v in enumerate(variables):
        short = v.name.upper()[:8] if len(v.name) > 8 else v.name.upper()
        short = short if short not in short_names else f"V{k:07d}"
        short_names.append(short)
        n_missing = -2 if v.missing_range else len(v.missing)
        fmt = (v.fmt[0] << 16) | (v.fmt[1] << 8) | v.fmt[2]
        out += i32(2) + i32(v.width) + i32(1 if v.label else 0) + i32(n_missing) + i32(fmt) + i32(fmt)
        out += _pad(short.encode("ascii"), 8)
        if v.label:
            lab = v.label.encode("utf-8")
            out += i32(len(lab)) + lab + b" " * ((4 - len(lab) % 4) % 4)
        if v.missing_range:
            out += f64(v.missing_range[0]) + f64(v.missing_range[1])
        for m in v.missing:
            out += f64(m)
        for _ in range(slots[k] - 1):  # continuation records of a long string
            out += i32(2) + i32(-1) + i32(0) + i32(0) + i32(0) + i32(0) + b" " * 8
    # value labels (type 3) + the variables they apply to (type 4); dictionary indices are 1-based slots
    index = 1
    for k, v in enumerate(variables):
        if v.value_labels:
            out += i32(3) + i32(len(v.value_labels))
            for value, label in v.value_labels.items():
                lab = label.encode("utf-8")[:120]
                total = 1 + len(lab)
                out += f64(float(value)) + bytes([len(lab)]) + lab + b" " * ((8 - total % 8) % 8)
            out += i32(4) + i32(1) + i32(index)
        index += slots[k]
    # machine integer info (7/3): version 20.0.0, machine -1, IEEE 754, compression 1, little-endian, UTF-8
    out += i32(7) + i32(3) + i32(4) + i32(8) + b"".join(i32(x) for x in (20, 0, 0, -1, 1, 1, 2, 65001))
    # machine floating-point info (7/4): sysmis, highest, lowest
    out += i32(7) + i32(4) + i32(8) + i32(3) + f64(SYSMIS) + f64(1.7976931348623157e308) + f64(-1.7976931348623155e308)
    # long variable names (7/13): SHORT=Long pairs separated by tabs
    long_names = "\t".join(f"{s}={v.name}" for s, v in zip(short_names, variables, strict=True)).encode("utf-8")
    out += i32(7) + i32(13) + i32(1) + i32(len(long_names)) + long_names
    # character encoding (7/20)
    enc = b"UTF-8"
    out += i32(7) + i32(20) + i32(1) + i32(len(enc)) + enc
    out += i32(999) + i32(0)
    for case in cases:
        for v, value, n in zip(variables, case, slots, strict=True):
            if v.width:
                out += _pad(("" if value is None else str(value)).encode("utf-8"), 8 * n)
            elif value is None:
                out += f64(SYSMIS)
            elif isinstance(value, dt.datetime):
                out += f64(spss_datetime(value))
            else:
                out += f64(float(value))
    Path(path).write_bytes(bytes(out))
    return Path(path)
