"""Readers: a file on disk -> a raw :class:`pandas.DataFrame` of strings.

Readers never coerce types (every cell is read as text) so that :mod:`cxaudit.schema` can see the
original value and log exactly why a row is excluded. Input files are opened read-only and never
modified.

Formats
-------
``csv``           delimited text: encoding (UTF-8, UTF-8 with BOM, UTF-16, cp1251, cp1250), delimiter
                  (``,`` ``;`` tab ``|``) and decimal mark detected (:mod:`cxaudit.io.csv`)
``qualtrics``     Qualtrics CSV / TSV export, 3-row header or the legacy 2-row one (:mod:`.qualtrics`)
``surveymonkey``  SurveyMonkey CSV / XLSX export with its 2 header rows (:mod:`.surveymonkey`)
``sav``           SPSS system file via pyreadstat: value labels, user-missing values (:mod:`.spss`)
``xlsx``          Excel workbook: sheet choice, header below title rows, merged header cells (:mod:`.excel`)
``parquet``       Apache Parquet
``xes``           XES event log (IEEE 1849), streamed; the ``events`` table (:mod:`.xes`)

``format="auto"`` looks at the file's first bytes before its name: a ZIP archive renamed to ``.csv``,
an old ``.xls`` or an HTML page saved as ``.csv`` is named as such in a one-line
:class:`~cxaudit.errors.DataError`, a workbook or an SPSS file with the wrong suffix is read as what
it is, and a delimited text file is checked for the Qualtrics / SurveyMonkey header signatures.

Row numbers (:attr:`RawTable.source_rows`) are where a person finds the row: the physical line of
the record's first line in a text file (blank lines and values spanning lines counted), the sheet
row in a workbook, the case number in an SPSS file, the row position in a Parquet file.

New formats plug in with :func:`register_reader`.

Examples
--------
>>> import pathlib, tempfile
>>> p = pathlib.Path(tempfile.mkdtemp()) / "r.csv"
>>> _ = p.write_text("id;score\\n1;9\\n", encoding="utf-8")
>>> read_table(p).frame.to_dict("records")
[{'id': '1', 'score': '9'}]
>>> read_survey(p).meta["delimiter"]
';'
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd

from ..config import InputSpec
from ..errors import DataError

__all__ = [
    "RawTable",
    "read_table",
    "read_survey",
    "register_reader",
    "detect_format",
    "describe",
    "READERS",
    "ISSUE_COLUMNS",
    "Reader",
    "rows_series",
    "sniff_survey_text",
    "sniff_survey_workbook",
]

from ._base import _SUFFIXES, ISSUE_COLUMNS, READERS, RawTable, Reader, register_reader, rows_series

# --- what is this file? ---------------------------------------------------------------------------

_MAGIC_ERRORS: tuple[tuple[bytes, str], ...] = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
     "an old Excel .xls (or other OLE2) file, not {kind}; open it in Excel and save it as .xlsx or CSV"),
    (b"\x1f\x8b", "a gzip-compressed file, not {kind}; decompress it first"),
    (b"%PDF", "a PDF document, not {kind}; export the data as CSV, XLSX or SPSS .sav"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive, not {kind}; extract the file inside first"),
    (b"Rar!", "a RAR archive, not {kind}; extract the file inside first"),
)


def _kind(path: Path) -> str:
    return f"a {path.suffix.lower()} file" if path.suffix else "a data file"


def _sniff_binary(path: Path, head: bytes) -> str | None:
    """The format the first bytes prove, ``None`` for text; DataError for a known wrong kind."""
    if head.startswith((b"$FL2", b"$FL3")):
        return "sav"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        except zipfile.BadZipFile:
            raise DataError(str(path), f"a damaged ZIP archive, not {_kind(path)}; expected a CSV, XLSX, "
                            "SPSS .sav or Parquet file") from None
        if "xl/workbook.xml" in names:
            return "xlsx"
        inside = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
        raise DataError(str(path), f"a ZIP archive (containing {inside or 'nothing'}), not {_kind(path)}; "
                        "extract it and point audit.yaml at the file inside")
    for magic, message in _MAGIC_ERRORS:
        if head.startswith(magic):
            raise DataError(str(path), message.format(kind=_kind(path)))
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith((b"<?xml", b"<log")) and b"<log" in lowered[:4096] and (
            b"xes" in lowered[:4096] or b"<trace" in lowered[:4096]):
        return "xes"  # an XES event log (cxaudit.io.xes)
    if lowered.startswith((b"<!doctype html", b"<html", b"<?xml")):
        raise DataError(str(path), f"an HTML/XML page, not {_kind(path)} (a download link saved instead of "
                        "the file?); expected a CSV, XLSX, SPSS .sav or Parquet file")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None  # UTF-16 text (Qualtrics TSV exports)
    if b"\x00" in head[:4096]:
        raise DataError(str(path), f"a binary file (NUL bytes), not {_kind(path)}; expected a CSV, XLSX, "
                        "SPSS .sav or Parquet file")
    return None


def detect_format(path: str | Path) -> str:
    """The reader format for ``path``: from its first bytes, then its suffix, then its header rows.

    Returns one of ``csv``, ``qualtrics``, ``surveymonkey``, ``xlsx``, ``sav``, ``parquet``.

    Raises
    ------
    DataError
        For an empty file, a ZIP / gzip / PDF / HTML / old .xls file, or an unknown suffix.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(str(path), "file not found")
    if path.stat().st_size == 0:
        raise DataError(str(path), "file is empty; expected a header row and data rows")
    with path.open("rb") as fh:
        head = fh.read(65_536)
    fmt = _sniff_binary(path, head)
    if fmt is None:
        fmt = _SUFFIXES.get(path.suffix.lower())
        if fmt is None and path.suffix.lower() in ("", ".dat", ".export"):
            fmt = "csv"
        if fmt is None:
            raise DataError(str(path), f"unknown file type {path.suffix!r}; expected one of {sorted(_SUFFIXES)}")
    if fmt == "csv":
        fmt = sniff_survey_text(path)
    elif fmt == "xlsx":
        fmt = sniff_survey_workbook(path)
    return fmt


def sniff_survey_text(path: Path) -> str:
    """``qualtrics``, ``surveymonkey`` or ``csv`` from the header records of a delimited file."""
    from .csv import first_records
    from .qualtrics import looks_like_qualtrics
    from .surveymonkey import looks_like_surveymonkey

    records, _ = first_records(path)
    if looks_like_qualtrics(records):
        return "qualtrics"
    if looks_like_surveymonkey(records):
        return "surveymonkey"
    return "csv"


def sniff_survey_workbook(path: Path) -> str:
    """``surveymonkey`` for a SurveyMonkey XLSX export, else ``xlsx``."""
    from .excel import first_rows
    from .surveymonkey import looks_like_surveymonkey

    return "surveymonkey" if looks_like_surveymonkey(first_rows(path, 2)) else "xlsx"


def read_table(path: str | Path, spec: InputSpec | None = None) -> RawTable:
    """Read ``path`` with the reader its format (``spec.format``, or detected) names.

    Raises
    ------
    DataError
        A one-line message naming the file (and the column / row where one applies) and what was
        expected: unreadable or empty file, wrong kind of file, duplicate column names, ...
    """
    path = Path(path)
    spec = spec or InputSpec(file=path.name)
    if not path.is_file():
        raise DataError(str(path), "file not found")
    if path.stat().st_size == 0:
        raise DataError(str(path), "file is empty; expected a header row and data rows")
    if spec.format == "auto":
        fmt = detect_format(path)
    else:
        fmt = spec.format
        with path.open("rb") as fh:
            proven = _sniff_binary(path, fh.read(65_536))
        if proven is not None and proven != fmt and not (fmt in ("surveymonkey",) and proven == "xlsx"):
            raise DataError(str(path), f"inputs format is '{fmt}' but the file is {proven}; "
                            f"set format: auto or format: {proven}")
    raw = READERS[fmt](path, spec)
    _check_columns(raw)
    if not raw.frame.shape[1]:
        raise DataError(str(path), "no columns found; expected a header row naming the columns")
    if not len(raw.frame) and raw.meta.get("format") != "parquet":
        header = raw.meta.get("header_rows") or []
        where = f" (the header is on row {header[-1]})" if header else ""
        raise DataError(str(path), f"header only: no data rows{where}; expected at least one row of data below "
                        "the header", row=header[-1] if header else None)
    return raw


def read_survey(
    path: str | Path,
    format: str = "auto",  # noqa: A002 - the public name the issue asks for
    *,
    sheet: str | int | None = None,
    header_row: int | str = "auto",
    encoding: str | None = None,
    delimiter: str | None = None,
) -> RawTable:
    """Read a survey export of any supported format, detecting the format from the file.

    Parameters
    ----------
    path
        A Qualtrics / SurveyMonkey export (CSV, TSV or XLSX), an SPSS ``.sav``, an Excel workbook, a
        plain delimited file or a Parquet file.
    format
        ``"auto"`` (default) or one of ``csv``, ``qualtrics``, ``surveymonkey``, ``sav``, ``xlsx``,
        ``parquet``.
    sheet, header_row, encoding, delimiter
        As in ``inputs.<table>`` of ``audit.yaml``; ``header_row="auto"`` finds the header below
        title rows in a workbook.

    Returns
    -------
    RawTable
        ``meta["format"]`` says what was detected; ``meta["questions"]`` holds the question text of
        each column where the export has it.

    Examples
    --------
    >>> raw = read_survey("tests/data/exports/qualtrics_3row.csv")   # doctest: +SKIP
    >>> raw.meta["format"], raw.meta["aliases"]["QID1"]               # doctest: +SKIP
    ('qualtrics', 'Q1')
    """
    path = Path(path)
    spec = InputSpec(file=path.name, format=format, sheet=sheet, header_row=header_row,  # type: ignore[arg-type]
                     encoding=encoding, delimiter=delimiter)
    return read_table(path, spec)


def describe(raw: RawTable) -> pd.DataFrame:
    """One row per column: its name, question text, answered cells and an example value.

    A guide for writing ``inputs.<table>.columns`` in ``audit.yaml``.
    """
    questions = raw.meta.get("questions", {})
    rows = []
    for col in raw.frame.columns:
        values = raw.frame[col].dropna()
        values = values[values.astype(str).str.strip() != ""]
        rows.append({"column": col, "question": questions.get(col, ""), "answered": len(values),
                     "example": str(values.iloc[0])[:60] if len(values) else ""})
    return pd.DataFrame(rows, columns=["column", "question", "answered", "example"])


def _check_columns(raw: RawTable) -> None:
    cols = [str(c) for c in raw.frame.columns]
    seen: set[str] = set()
    dupes: list[str] = []
    for c in cols:
        if c in seen and c not in dupes:
            dupes.append(c)
        seen.add(c)
    if dupes:
        rows = raw.meta.get("header_rows") or []
        raise DataError(str(raw.file), f"duplicate column name(s) {dupes}; expected every column to have a "
                        "unique name (rename one of them in the file)", column=dupes[0],
                        row=rows[0] if rows else None)


_rows = rows_series  # the name the Foundation used


@register_reader("parquet", (".parquet", ".pq"))
def _read_parquet(path: Path, spec: InputSpec) -> RawTable:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid & co. for a corrupt file
        raise DataError(str(path), f"not a readable Parquet file ({type(exc).__name__}); expected a Parquet "
                        "file written by pandas, pyarrow or Spark") from None
    frame = frame.astype("string")  # text cells; NA stays NA
    return RawTable(frame, rows_series(len(frame), 1), path, {"format": "parquet"})


# the readers of the other formats register themselves on import
from . import csv as _csv  # noqa: E402,F401
from . import excel as _excel  # noqa: E402,F401
from . import qualtrics as _qualtrics  # noqa: E402,F401
from . import spss as _spss  # noqa: E402,F401
from . import surveymonkey as _surveymonkey  # noqa: E402,F401
from . import xes as _xes  # noqa: E402,F401
