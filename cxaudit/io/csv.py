"""Delimited text files: encoding, delimiter and decimal-mark detection, exact row numbers.

Encoding
    A byte-order mark decides (UTF-8 with BOM, UTF-16 LE/BE, as Qualtrics writes its TSV). Else a
    file that decodes as UTF-8 is UTF-8. A file with valid multi-byte UTF-8 *and* bytes that are not
    UTF-8 mixes encodings: a one-line :class:`~cxaudit.errors.DataError` names the first bad line.
    Otherwise it is a single-byte Windows code page, and the choice is between cp1251 (Cyrillic)
    and cp1250 (Central European, Polish): decoded as cp1251, Russian words are all-Cyrillic while
    Polish words come out as Latin words with a stray Cyrillic letter ("siк"); the reading with
    fewer such mixed-script words wins (:func:`detect_encoding`). ``inputs.<table>.encoding``
    overrides the detection.

    Why not ``charset-normalizer``: it is installed here only as a dependency of ``requests``, and it
    chooses among ~100 codecs; on a short survey file with one non-ASCII word it answered ``big5``
    for both a cp1251 and a cp1250 file (checked with charset-normalizer 3.5.2). Consultants get
    the four encodings above; a detector restricted to them is exact on them and deterministic.

Delimiter
    ``,`` ``;`` tab or ``|``: the one that splits the first records (quotes respected) into the same
    number of fields, most of them (:func:`sniff_delimiter`). ``.tsv`` files and
    ``inputs.<table>.delimiter`` skip the guess.

Decimal mark
    ``,`` when more cells look like ``12,5`` than like ``12.5`` (:func:`detect_decimal`); the
    number parser of :mod:`cxaudit.schema` also reads ``1 234,5`` and ``1,234.5``.

Row numbers
    The records are located on the raw bytes with numpy (a quote-parity scan), so each record's
    first physical line and its field count are known even with blank lines and quoted values
    spanning lines; files whose quoting the scan cannot follow (a stray ``"`` inside an unquoted
    value) take an exact, slower path through Python's :mod:`csv` module.
"""

from __future__ import annotations

import codecs
import contextlib
import csv as _stdcsv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import InputSpec
from ..errors import DataError
from ._base import RawTable, register_reader
from ._grid import Grid, build_table

__all__ = [
    "detect_encoding",
    "sniff_delimiter",
    "detect_decimal",
    "read_grid",
    "first_records",
    "read_csv",
    "ENCODING_NAMES",
]

#: How each codec is named to a consultant.
ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with BOM",
    "utf-16": "UTF-16",
    "cp1251": "Windows-1251 (Cyrillic)",
    "cp1250": "Windows-1250 (Central European)",
}
#: Candidate delimiters, in order of preference on a tie ("$", "~", "^" seen in legacy exports).
DELIMITERS = (",", ";", "\t", "|", "$", "~", "^")

_UTF8_MB = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_WORD = re.compile(r"[^\W\d_]+")


def _line_of(data: bytes, pos: int) -> int:
    return data.count(b"\n", 0, pos) + 1


def detect_encoding(data: bytes, path: Path | str = "<bytes>") -> str:
    """The codec of ``data``: ``utf-8-sig``, ``utf-16``, ``utf-8``, ``cp1251`` or ``cp1250``.

    Raises
    ------
    DataError
        When the file mixes UTF-8 with another encoding (names the first line that is not UTF-8).

    Examples
    --------
    >>> detect_encoding("Полностью согласен".encode("cp1251"))
    'cp1251'
    >>> detect_encoding("Zdecydowanie się zgadzam".encode("cp1250"))
    'cp1250'
    >>> detect_encoding("Très bien".encode("utf-8"))
    'utf-8'
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    valid_mb = len(_UTF8_MB.findall(data))
    high = sum(1 for b in data if b >= 0x80) if len(data) < 2_000_000 else int(
        np.count_nonzero(np.frombuffer(data, dtype=np.uint8) >= 0x80))
    invalid = high - 2 * valid_mb  # a rough count of bytes outside valid sequences
    if valid_mb >= 3 and valid_mb * 2 >= invalid:
        line = _line_of(data, first_bad)
        raise DataError(str(path), f"mixes encodings: most of the file is UTF-8 but byte 0x{data[first_bad]:02X} "
                        "is not; expected one encoding throughout (re-export the file as UTF-8)", row=line)
    return _cyrillic_or_central(data)


def _cyrillic_or_central(data: bytes) -> str:
    sample = data if len(data) < 4_000_000 else data[:4_000_000]
    text = sample.decode("cp1251", errors="replace")
    cyr_words = mixed_words = 0
    for word in _WORD.findall(text):
        if word.isascii():
            continue
        has_cyr = any("\u0400" <= ch <= "\u04ff" for ch in word)
        has_lat = any(ch.isascii() for ch in word)
        if has_cyr and has_lat:
            mixed_words += 1
        elif has_cyr:
            cyr_words += 1
    return "cp1251" if cyr_words > mixed_words else "cp1250"


def _decode_check(data: bytes, encoding: str, path: Path) -> None:
    """Fail with the line number if ``data`` is not valid ``encoding``."""
    try:
        codecs.decode(data, encoding)
    except UnicodeDecodeError as exc:
        line = _line_of(data, exc.start)
        guess = ""
        with contextlib.suppress(DataError):
            other = detect_encoding(data, path)
            if other != encoding:
                guess = f" but it looks like {ENCODING_NAMES.get(other, other)} (encoding: {other})"
        raise DataError(str(path), f"cannot be decoded as {encoding} (byte 0x{data[exc.start]:02X}); expected "
                        f"{encoding} text{guess}; set inputs.<table>.encoding", row=line) from None
    except LookupError:
        raise DataError(str(path), f"unknown encoding {encoding!r}; expected e.g. utf-8, cp1251, cp1250") from None


def load_bytes(path: Path, encoding: str | None) -> tuple[bytes, str, str, bool]:
    """Read ``path``: (ASCII-compatible bytes without BOM, codec for pandas, codec found, detected?)."""
    data = path.read_bytes()
    detected = encoding is None
    enc = detect_encoding(data, path) if encoding is None else encoding.lower().replace("_", "-")
    if enc in ("utf8", "utf-8") and data.startswith(codecs.BOM_UTF8):
        enc = "utf-8-sig"
    if enc.startswith("utf-16") or enc.startswith("utf-32"):
        _decode_check(data, enc, path)
        text = data.decode(enc)
        return text.lstrip("\ufeff").encode("utf-8"), "utf-8", enc, detected
    if not detected:
        _decode_check(data, enc, path)
    if enc == "utf-8-sig":
        return data[3:] if data.startswith(codecs.BOM_UTF8) else data, "utf-8", enc, detected
    if enc not in ("utf-8", "utf8", "ascii"):  # a code page: parse UTF-8 (one fast decode + encode)
        return data.decode(enc).encode("utf-8"), "utf-8", enc, detected
    return data, "utf-8", enc, detected


def _sample_text(buf: bytes, pandas_enc: str, limit: int = 65_536) -> str:
    chunk = buf[:limit]
    if len(buf) > limit and b"\n" in chunk:
        chunk = chunk[: chunk.rfind(b"\n")]
    return chunk.decode(pandas_enc, errors="replace")


def sniff_delimiter(sample: str) -> str:
    """The delimiter among ``, ; tab | $ ~ ^`` that splits the sample's records most consistently.

    Examples
    --------
    >>> sniff_delimiter("id$score$comment\\n1$9$ok\\n2$7$fine\\n")
    '$'
    >>> sniff_delimiter('id;comment;score\\n1;"a, b";9,5\\n2;c;7\\n')
    ';'
    >>> sniff_delimiter("id,score\\n1,9\\n")
    ','
    """
    best, best_key = ",", (-1.0, 0)
    lines = sample.splitlines(keepends=True)[:60]
    text = "".join(lines)
    for d in DELIMITERS:
        if d not in text:
            continue
        try:
            counts = [len(r) for r in _stdcsv.reader(io.StringIO(text), delimiter=d) if r][:40]
        except _stdcsv.Error:
            continue
        if not counts or counts[0] < 2:
            continue
        width = counts[0]
        consistency = sum(c == width for c in counts) / len(counts)
        key = (consistency, width)
        if key > best_key:
            best, best_key = d, key
    return best


_DEC_COMMA = re.compile(r"^[+-]?\d{1,3}(?:[ \u00a0.]\d{3})*,\d+$|^[+-]?\d+,\d+$")
_DEC_POINT = re.compile(r"^[+-]?\d{1,3}(?:[ \u00a0,]\d{3})*\.\d+$|^[+-]?\d+\.\d+$")


def detect_decimal(frame: pd.DataFrame, sample_rows: int = 2000) -> str:
    """``","`` if more cells of the first rows look like ``12,5`` than like ``12.5``, else ``"."``.

    Examples
    --------
    >>> detect_decimal(pd.DataFrame({"a": ["12,5", "3,0", "7"], "b": ["x", "1.5", None]}))
    ','
    """
    head = frame.head(sample_rows)
    if head.empty:
        return "."
    cells = pd.Series(head.to_numpy().ravel()).dropna().astype(str).str.strip()
    cells = cells[cells.str.len().between(3, 30)]
    comma = int(cells.str.match(_DEC_COMMA.pattern).sum())
    point = int(cells.str.match(_DEC_POINT.pattern).sum())
    return "," if comma > point else "."


# --- locating records ----------------------------------------------------------------------------


def _scan(buf: bytes, delim: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Record starts/ends, first physical line and field count of every record, on the raw bytes.

    ``None`` when the quoting is too irregular for a parity scan (then :func:`_slow_grid` runs).
    """
    d = ord(delim)
    arr = np.frombuffer(buf, dtype=np.uint8)
    n = len(arr)
    if n == 0:
        return None
    nl = np.flatnonzero(arr == 10)
    if len(nl) == 0 and (arr == 13).any():
        return None  # old Mac line ends: let the csv module handle them
    q = np.flatnonzero(arr == 34)
    if len(q):
        if len(q) % 2:
            return None  # an unclosed quote, or a literal " in an unquoted value: slow path decides
        parity = np.cumsum(arr == 34, dtype=np.uint8) & 1  # 1 inside a quoted value
        ok_set = np.array([d, 10, 13, 34], dtype=np.uint8)
        openers = q[parity[q] == 1]
        closers = q[parity[q] == 0]
        prev = arr[np.maximum(openers - 1, 0)]
        nxt = arr[np.minimum(closers + 1, n - 1)]
        # RFC 4180: a quote opens a value right after a delimiter / line break and closes it right
        # before one ("" inside a value is a closer followed by an opener); else pandas reads the
        # quote literally and the parity scan would be wrong
        if not ((np.isin(prev, ok_set) | (openers == 0)).all() and (np.isin(nxt, ok_set) | (closers == n - 1)).all()):
            return None
        rec_nl = nl[parity[nl] == 0]
        delims = np.flatnonzero((arr == d) & (parity == 0))
    else:
        rec_nl = nl
        delims = np.flatnonzero(arr == d)
    starts = np.concatenate([[0], rec_nl + 1])
    ends = np.concatenate([rec_nl, [n]])
    if starts[-1] >= n:  # the file ends with a line break: no record after it
        starts, ends = starts[:-1], ends[:-1]
    lines = np.searchsorted(nl, starts) + 1
    nfields = np.searchsorted(delims, ends) - np.searchsorted(delims, starts) + 1
    return starts, ends, lines.astype(np.int64), nfields.astype(np.int64)


@contextlib.contextmanager
def _field_limit() -> Iterator[None]:
    old = _stdcsv.field_size_limit()
    _stdcsv.field_size_limit(2**31 - 1)
    try:
        yield
    finally:
        _stdcsv.field_size_limit(old)


def _records(text: str, delim: str, strict: bool) -> tuple[list[list[str]], list[int]]:
    reader = _stdcsv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=strict)
    records: list[list[str]] = []
    lines: list[int] = []
    last = 0
    try:
        for rec in reader:
            lines.append(last + 1)
            last = reader.line_num
            records.append(rec)
    except _stdcsv.Error as exc:
        exc.add_note(str(last + 1))
        raise
    return records, lines


def _slow_grid(path: Path, buf: bytes, pandas_enc: str, delim: str) -> Grid:
    """Exact records and line numbers with Python's csv module (irregular quoting, old Mac files).

    Strict parsing first, so that a quoted value never closed is an error naming its line and
    column rather than the rest of the file swallowed into one value; other irregularities (a
    literal quote inside an unquoted value) are then read leniently, as pandas reads them.
    """
    text = buf.decode(pandas_enc, errors="strict")
    with _field_limit():
        try:
            records, lines = _records(text, delim, strict=True)
        except _stdcsv.Error as exc:
            start = int(exc.__notes__[-1]) if getattr(exc, "__notes__", None) else 1
            if "unexpected end of data" in str(exc):
                physical = text.splitlines()
                header = next(_stdcsv.reader([physical[0]], delimiter=delim)) if physical else []
                first = physical[start - 1] if start - 1 < len(physical) else ""
                fields = next(_stdcsv.reader([first], delimiter=delim, strict=False), [])
                j = max(len(fields) - 1, 0)
                column = header[j] if j < len(header) else f"#{j + 1}"
                raise DataError(str(path), 'a quoted value opened here is never closed; expected a closing " '
                                "before the end of the line or file", column=column, row=start) from None
            records, lines = _records(text, delim, strict=False)
    width = max((len(r) for r in records), default=0)
    nfields = np.array([len(r) if r else 1 for r in records], dtype=np.int64)
    cells = pd.DataFrame([r + [""] * (width - len(r)) for r in records], columns=range(width), dtype=object)
    cells = cells.mask(cells == "")
    return Grid(cells, np.array(lines, dtype=np.int64), nfields)


def _arrow_cells(buf: bytes, delim: str, starts: np.ndarray, ends: np.ndarray, nfields: np.ndarray,
                 width: int) -> pd.DataFrame | None:
    """All records through pyarrow's multi-threaded CSV parser; the few irregular records (more or
    fewer fields than the most common width, blank lines) are parsed one by one from their bytes.
    ``None`` when pyarrow and the scan disagree (the pandas path then runs)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    counts = np.bincount(nfields)
    common = int(counts.argmax())
    blank = (ends - starts == 0) | ((ends - starts == 1) & (np.frombuffer(buf, np.uint8)[np.minimum(starts, len(buf) - 1)] == 13))
    regular = (nfields == common) & ~blank
    names = [str(i) for i in range(common)]
    try:
        table = pacsv.read_csv(
            pa.py_buffer(buf),
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=delim, quote_char='"', double_quote=True,
                                             newlines_in_values=True, ignore_empty_lines=True,
                                             invalid_row_handler=lambda row: "skip"),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=True, quoted_strings_can_be_null=True,
                                                 null_values=[""]),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
        return None
    if table.num_rows != int(regular.sum()):
        return None
    str_dtype = pd.StringDtype("pyarrow", na_value=np.nan)
    regular_frame = table.to_pandas(types_mapper={pa.string(): str_dtype}.get)
    regular_frame.columns = range(common)
    if regular.all() and common == width:
        return regular_frame
    cells = pd.DataFrame({j: pd.Series(np.nan, index=range(len(starts)), dtype=str_dtype) for j in range(width)})
    pos = np.flatnonzero(regular)
    for j in range(common):
        cells.iloc[pos, j] = regular_frame[j].to_numpy()
    for i in np.flatnonzero(~regular & ~blank):
        rec = next(_stdcsv.reader([buf[starts[i]:ends[i]].decode("utf-8")], delimiter=delim, strict=False), [])
        for j, v in enumerate(rec[:width]):
            if v != "":
                cells.iat[i, j] = v
    return cells


def read_grid(path: Path, buf: bytes, pandas_enc: str, delim: str) -> Grid:
    """Every record of the file (header included) as a :class:`Grid`."""
    scanned = _scan(buf, delim)
    if scanned is None:
        return _slow_grid(path, buf, pandas_enc, delim)
    starts, ends, lines, nfields = scanned
    width = int(nfields.max()) if len(nfields) else 1
    if pandas_enc == "utf-8" and len(starts):
        with _field_limit():
            cells = _arrow_cells(buf, delim, starts, ends, nfields, width)
        if cells is not None:
            return Grid(cells, lines, nfields)
    try:
        cells = pd.read_csv(
            io.BytesIO(buf), sep=delim, header=None, names=range(width), dtype=str, encoding=pandas_enc,
            keep_default_na=False, na_values=[""], skip_blank_lines=False, quotechar='"', engine="c",
            index_col=False,
        )
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError):
        return _slow_grid(path, buf, pandas_enc, delim)
    except pd.errors.EmptyDataError:
        raise DataError(str(path), "no header row found; expected a header row and data rows") from None
    if len(cells) != len(starts):  # the C parser split records differently (e.g. a lone \r)
        return _slow_grid(path, buf, pandas_enc, delim)
    return Grid(cells, lines, nfields)


# --- format sniffing -------------------------------------------------------------------------------


def first_records(path: Path, n: int = 4) -> tuple[list[list[str]], str]:
    with path.open("rb") as fh:
        head = fh.read(262_144)
    try:
        enc = detect_encoding(head, path)
    except DataError:
        enc = "utf-8"
    text = head.decode(enc if enc != "utf-16" else "utf-16", errors="replace").lstrip("\ufeff")
    delim = "\t" if path.suffix.lower() == ".tsv" else sniff_delimiter(text)
    out: list[list[str]] = []
    with _field_limit():
        try:
            for rec in _stdcsv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=False):
                out.append(rec)
                if len(out) >= n:
                    break
        except _stdcsv.Error:
            pass
    return out, delim


def text_meta(path: Path, spec: InputSpec) -> tuple[Grid, dict[str, Any]]:
    """Decode, sniff and parse a delimited file into a :class:`Grid` plus what was detected."""
    buf, pandas_enc, enc, detected = load_bytes(path, spec.encoding)
    if spec.delimiter:
        delim = spec.delimiter
    elif path.suffix.lower() == ".tsv":
        delim = "\t"
    else:
        delim = sniff_delimiter(_sample_text(buf, pandas_enc))
    if len(delim) != 1 or delim in ('"', "\n", "\r"):
        raise DataError(str(path), f"delimiter {delim!r} cannot be used; expected one character such as , ; | or tab")
    grid = read_grid(path, buf, pandas_enc, delim)
    if grid.cells.empty:
        raise DataError(str(path), "no rows found; expected a header row and data rows")
    meta: dict[str, Any] = {"encoding": enc, "encoding_detected": detected, "delimiter": delim}
    return grid, meta


def find_header(grid: Grid, header_row: int | str, path: Path) -> int:
    """The index of the header record: the one starting at line ``header_row``, or (``"auto"``)
    the first record with at least two fields whose width matches most of the records after it."""
    if header_row != "auto":
        hits = np.flatnonzero(grid.rows == int(header_row))
        if not len(hits):
            raise DataError(str(path), f"no record starts at header_row {header_row} (the file has "
                            f"{int(grid.rows[-1]) if len(grid.rows) else 0} lines); expected the line of the column names")
        return int(hits[0])
    widths = grid.nfields
    for i in range(min(len(widths), 30)):
        after = widths[i + 1: i + 51]
        if widths[i] >= 2 and (not len(after) or (after == widths[i]).mean() >= 0.5):
            return i
    return 0


@register_reader("csv", (".csv", ".tsv", ".txt"))
def read_csv(path: Path, spec: InputSpec) -> RawTable:
    """A plain delimited file: header on ``spec.header_row`` (line number; ``"auto"`` skips title
    lines), data rows below it."""
    grid, meta = text_meta(path, spec)
    h = find_header(grid, spec.header_row, path)
    names = grid.record(h)
    width = int(grid.nfields[h])
    names = names + [""] * (width - len(names))
    meta["format"] = "csv"
    raw = build_table(path, grid, [h], names, meta)
    meta["decimal"] = spec.decimal or detect_decimal(raw.frame)
    if not len(raw.frame) and not len(raw.issues):
        meta.setdefault("notes", []).append("header only: no data rows")
    return raw
