"""Readers: a file on disk -> a raw :class:`pandas.DataFrame` of strings.

Readers never coerce types (every cell is read as text) so that :mod:`cxaudit.schema` can see the
original value and log exactly why a row is excluded. Input files are opened read-only and never
modified.

New formats plug in with :func:`register_reader`; the specialised survey-export importers
(Qualtrics, SurveyMonkey, SPSS) register themselves the same way.

Examples
--------
>>> import pathlib, tempfile
>>> p = pathlib.Path(tempfile.mkdtemp()) / "r.csv"
>>> _ = p.write_text("id;score\\n1;9\\n", encoding="utf-8")
>>> read_table(p).frame.to_dict("records")
[{'id': '1', 'score': '9'}]
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..config import InputSpec
from ..errors import DataError

__all__ = ["RawTable", "read_table", "register_reader", "READERS"]


@dataclass(frozen=True)
class RawTable:
    """What a reader returns: the text cells, and the 1-based row in the file of each data row."""

    frame: pd.DataFrame
    source_rows: pd.Series
    file: Path


Reader = Callable[[Path, InputSpec], RawTable]
READERS: dict[str, Reader] = {}
_SUFFIXES: dict[str, str] = {}


def register_reader(fmt: str, suffixes: tuple[str, ...]) -> Callable[[Reader], Reader]:
    """Decorator: make ``func(path, spec) -> RawTable`` the reader for ``fmt`` and these suffixes."""

    def deco(func: Reader) -> Reader:
        READERS[fmt] = func
        for s in suffixes:
            _SUFFIXES[s] = fmt
        return func

    return deco


def _detect_format(path: Path) -> str:
    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise DataError(str(path), f"unknown file type {path.suffix!r}; expected one of {sorted(_SUFFIXES)}")
    return fmt


def read_table(path: str | Path, spec: InputSpec | None = None) -> RawTable:
    """Read ``path`` with the reader its format (``spec.format`` or the suffix) names."""
    path = Path(path)
    spec = spec or InputSpec(file=path.name)
    if not path.is_file():
        raise DataError(str(path), "file not found")
    if path.stat().st_size == 0:
        raise DataError(str(path), "file is empty; expected a header row and data rows")
    fmt = _detect_format(path) if spec.format == "auto" else spec.format
    raw = READERS[fmt](path, spec)
    dupes = raw.frame.columns[raw.frame.columns.duplicated()].tolist()
    if dupes:
        raise DataError(str(path), f"duplicate column name(s) {dupes}; every column needs a unique name")
    return raw


def _rows(n: int, first: int) -> pd.Series:
    return pd.Series(range(first, first + n), dtype="int64")


@register_reader("csv", (".csv", ".tsv", ".txt"))
def _read_csv(path: Path, spec: InputSpec) -> RawTable:
    encoding = spec.encoding or "utf-8-sig"
    try:
        with path.open(encoding=encoding, newline="") as fh:
            head = fh.read(64_000)
    except UnicodeDecodeError as exc:
        raise DataError(
            str(path), f"cannot be decoded as {encoding} (byte {exc.start}); set inputs.<table>.encoding"
        ) from None
    delimiter = spec.delimiter
    if delimiter is None:
        if path.suffix.lower() == ".tsv":
            delimiter = "\t"
        else:
            try:
                delimiter = csv.Sniffer().sniff(head.split("\n", 1)[0], delimiters=",;\t|").delimiter
            except csv.Error:
                delimiter = ","
    try:
        frame = pd.read_csv(
            path,
            sep=delimiter,
            encoding=encoding,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skiprows=spec.header_row - 1,
            on_bad_lines="error",
        )
    except pd.errors.ParserError as exc:
        raise DataError(str(path), f"malformed CSV: {str(exc).strip()}") from None
    except pd.errors.EmptyDataError:
        raise DataError(str(path), "no header row found") from None
    # physical row of each data row: header at spec.header_row, data from the next line
    return RawTable(frame, _rows(len(frame), spec.header_row + 1), path)


@register_reader("xlsx", (".xlsx", ".xlsm"))
def _read_xlsx(path: Path, spec: InputSpec) -> RawTable:
    try:
        frame = pd.read_excel(
            path, sheet_name=spec.sheet or 0, header=spec.header_row - 1, dtype=str, engine="openpyxl"
        )
    except ValueError as exc:  # e.g. the sheet does not exist
        raise DataError(str(path), str(exc)) from None
    except Exception as exc:  # openpyxl raises many types for a corrupt workbook
        raise DataError(str(path), f"not a readable .xlsx workbook ({type(exc).__name__})") from None
    return RawTable(frame, _rows(len(frame), spec.header_row + 1), path)


@register_reader("parquet", (".parquet", ".pq"))
def _read_parquet(path: Path, spec: InputSpec) -> RawTable:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid & co. for a corrupt file
        raise DataError(str(path), f"not a readable Parquet file ({type(exc).__name__})") from None
    frame = frame.astype("string")  # text cells, like the other readers; NA stays NA
    return RawTable(frame, _rows(len(frame), 1), path)
