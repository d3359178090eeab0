"""Delimited text: encoding / delimiter / decimal detection, number and date parsing, exact row numbers.

Expected values are hand-computed in the comments; the row-number property test compares the reader
with line numbers counted while *writing* the file (independent of the reader's own scan).
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxaudit.config import InputSpec
from cxaudit.errors import DataError
from cxaudit.io import read_table
from cxaudit.io.csv import _scan, detect_decimal, detect_encoding, sniff_delimiter
from cxaudit.schema import parse_dates, parse_numbers

RU = "Полностью согласен; доставка вовремя"
PL = "Zdecydowanie się zgadzam; dostawa na czas, żółw"


@pytest.mark.parametrize(("data", "expected"), [
    (b"id,score\n1,9\n", "utf-8"),
    ("id,Comment\n1,Très bien\n".encode(), "utf-8"),
    (b"\xef\xbb\xbfid,score\n1,9\n", "utf-8-sig"),
    ("id\tscore\n".encode("utf-16"), "utf-16"),
    (RU.encode("cp1251"), "cp1251"),
    (PL.encode("cp1250"), "cp1250"),
    ("id,c\n1,Хорошо\n".encode("cp1251"), "cp1251"),  # one short word is enough
    ("id,c\n1,Zażółć\n".encode("cp1250"), "cp1250"),
])
def test_detect_encoding(data: bytes, expected: str) -> None:
    assert detect_encoding(data) == expected


def test_mixed_encoding_names_the_line(tmp_path: Path) -> None:
    data = "a,b\n1,Всё хорошо\n2,Отлично\n".encode() + "3,Плохо\n".encode("cp1251")
    with pytest.raises(DataError) as info:
        detect_encoding(data, tmp_path / "x.csv")
    assert info.value.row == 4 and "mixes encodings" in str(info.value)


def test_explicit_encoding_wins(tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    p.write_bytes("id;c\n1;Żółw\n".encode("cp1250"))
    raw = read_table(p, InputSpec(file="r.csv", encoding="cp1250"))
    assert raw.frame["c"].tolist() == ["Żółw"] and raw.meta["encoding_detected"] is False


@pytest.mark.parametrize(("sample", "expected"), [
    ("id,score\n1,9\n2,7\n", ","),
    ('id;comment;score\n1;"a, b";9,5\n2;c;7,0\n', ";"),
    ("id\tscore\tcomment\n1\t9\thello, world\n", "\t"),
    ("id|score\n1|9\n", "|"),
    ("single\n1\n2\n", ","),
])
def test_sniff_delimiter(sample: str, expected: str) -> None:
    assert sniff_delimiter(sample) == expected


def test_detect_decimal() -> None:
    assert detect_decimal(pd.DataFrame({"a": ["1,5", "2,25", "3"]})) == ","
    assert detect_decimal(pd.DataFrame({"a": ["1.5", "2,25", "3.75"]})) == "."
    assert detect_decimal(pd.DataFrame({"a": ["x", "y"]})) == "."


def test_parse_numbers() -> None:
    s = pd.Series(["12,5", "1 234,5", "1.234", "1\u00a0000", "7", "-3,25", "x", None, "", "1.234,5"])
    # decimal comma: 12.5, 1234.5, 1234 (a thousands dot), 1000, 7, -3.25, NaN x3, 1234.5
    got = parse_numbers(s, ",").tolist()
    assert got[:6] == [12.5, 1234.5, 1234.0, 1000.0, 7.0, -3.25] and np.isnan(got[6:9]).all() and got[9] == 1234.5
    # decimal point: "1,234.5" -> 1234.5; a lone comma stays a decimal comma: "4,5" -> 4.5; "1.234" -> 1.234
    assert parse_numbers(pd.Series(["1,234.5", "4,5", "1.234", "12,345,678"]), ".").tolist() == [
        1234.5, 4.5, 1.234, 12345678.0]


def test_parse_dates_families_and_order() -> None:
    p, fam = parse_dates(pd.Series(["2024-01-05", "2024-01-05T10:00:00Z", "23.01.2024", "23.01.2024 10:15",
                                    "2024/02/03", "31/02/2025", "n/a", None]))
    assert [str(x) if pd.notna(x) else None for x in p] == [
        "2024-01-05 00:00:00", "2024-01-05 10:00:00", "2024-01-23 00:00:00", "2024-01-23 10:15:00",
        "2024-02-03 00:00:00", None, None, None]
    # pandas' ISO 8601 parser also takes YYYY/MM/DD
    assert fam.tolist() == ["iso", "iso", "dotted", "dotted", "iso", "", "", ""]
    # slashed dates: 13/02 settles day-first for the whole column -> 03/04/2024 is 3 April
    p, _ = parse_dates(pd.Series(["13/02/2024", "03/04/2024"]), dayfirst=False)
    assert p.dt.strftime("%Y-%m-%d").tolist() == ["2024-02-13", "2024-04-03"]
    # 02/13 settles month-first -> 03/04/2024 is 4 March
    p, _ = parse_dates(pd.Series(["02/13/2024 09:30:00 AM", "03/04/2024"]), dayfirst=True)
    assert p.dt.strftime("%Y-%m-%d %H:%M").tolist() == ["2024-02-13 09:30", "2024-03-04 00:00"]
    # nothing settles it: the language's default
    assert parse_dates(pd.Series(["03/04/2024"]), dayfirst=True)[0].dt.month.tolist() == [4]
    assert parse_dates(pd.Series(["03/04/2024"]), dayfirst=False)[0].dt.month.tolist() == [3]
    # a fixed format accepts nothing else
    p, _ = parse_dates(pd.Series(["05.01.2024", "2024-01-05"]), "%d.%m.%Y")
    assert p.isna().tolist() == [False, True]


def _write(tmp_path: Path, text: str, name: str = "r.csv") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode("utf-8"))
    return p


def test_rows_are_physical_lines(tmp_path: Path) -> None:
    text = ('id,comment\n'  # 1
            '1,"two\nlines"\n'  # 2-3
            '\n'  # 4 blank
            '2,plain\n'  # 5
            '3,"x ""quoted"" y"\n'  # 6
            '\r\n'  # 7 blank (CRLF)
            '4,"a\r\nb\r\nc"\n')  # 8-10
    raw = read_table(_write(tmp_path, text))
    assert raw.source_rows.tolist() == [2, 5, 6, 8]
    assert raw.frame["comment"].tolist() == ["two\nlines", "plain", 'x "quoted" y', "a\r\nb\r\nc"]
    assert raw.meta["blank_rows"] == 2


def test_header_row_auto_skips_title_lines(tmp_path: Path) -> None:
    text = "Survey export\nJune 2024\nid,score,comment\n1,9,a\n2,7,b\n"
    raw = read_table(_write(tmp_path, text), InputSpec(file="r.csv", header_row="auto"))
    assert list(raw.frame.columns) == ["id", "score", "comment"] and raw.source_rows.tolist() == [4, 5]
    with pytest.raises(DataError, match="no record starts at header_row 9"):
        read_table(_write(tmp_path, text), InputSpec(file="r.csv", header_row=9))


@pytest.mark.parametrize("stray", [False, True], ids=["fast-scan", "csv-module"])
def test_truncated_and_malformed_rows(tmp_path: Path, stray: bool) -> None:
    # a stray quote in an unquoted value (line 2) sends the file down the csv-module path
    first = 'a,b,c\n1,5" screen,x\n' if stray else "a,b,c\n1,y,x\n"
    text = first + "2,only\n3,p,q,extra\n4,r,s\n"
    if not stray:
        assert _scan(text.encode(), ",") is not None
    else:
        assert _scan(text.encode(), ",") is None
    raw = read_table(_write(tmp_path, text))
    assert raw.source_rows.tolist() == [2, 3, 4, 5]
    issues = {(int(p), r, c) for p, r, c in zip(raw.issues["pos"], raw.issues["rule"], raw.issues["column"], strict=True)}
    assert issues == {(1, "truncated_row", "c"), (2, "malformed_row", "#4")}
    assert raw.frame["b"].tolist() == ['5" screen' if stray else "y", "only", "p", "r"]


def test_row_numbers_match_a_writer_count(tmp_path: Path) -> None:
    """Random records with quotes, delimiters, line breaks and blank lines; the expected line of
    each record is counted while writing it."""
    rng = random.Random(20240601)
    pieces = ["plain", "with, comma", 'say "hi"', "two\nlines", "", "semi;colon", "три\nстроки\nздесь", "ąęł"]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["id", "a", "b"])
    expected_rows, expected_a = [], []
    for i in range(400):
        if rng.random() < 0.1:
            buf.write("\n")  # a blank line
        line = buf.getvalue().count("\n") + 1
        a, b = rng.choice(pieces), rng.choice(pieces)
        writer.writerow([f"r{i}", a, b])
        expected_rows.append(line)
        expected_a.append(a or None)
    raw = read_table(_write(tmp_path, buf.getvalue()))
    assert raw.source_rows.tolist() == expected_rows
    assert [None if pd.isna(x) else x for x in raw.frame["a"]] == expected_a
    assert raw.issues.empty


def test_unnamed_empty_trailing_column_dropped_named_kept(tmp_path: Path) -> None:
    raw = read_table(_write(tmp_path, "a,b,\n1,2,\n3,4,\n"))
    assert list(raw.frame.columns) == ["a", "b"]
    raw = read_table(_write(tmp_path, "a,b,\n1,2,x\n3,4,\n"))
    assert list(raw.frame.columns) == ["a", "b", "column_3"]


def test_three_parsers_agree(tmp_path: Path) -> None:
    """pyarrow (with irregular records re-parsed one by one), pandas and the csv-module path give the
    same cells for a file with blank lines, a short row, a long row and quoted line breaks."""
    from cxaudit.io.csv import _arrow_cells, _slow_grid

    text = 'id,a,b\n1,"x\ny",z\n\n2,short\n3,p,q,r\n4,"say ""hi""",\n5,ą,ę\n'
    buf = text.encode()
    starts, ends, lines, nfields = _scan(buf, ",")
    assert lines.tolist() == [1, 2, 4, 5, 6, 7, 8] and nfields.tolist() == [3, 3, 1, 2, 4, 3, 3]
    arrow = _arrow_cells(buf, ",", starts, ends, nfields, 4)
    assert arrow is not None
    slow = _slow_grid(Path("x.csv"), buf, "utf-8", ",").cells
    via_pandas = pd.read_csv(io.BytesIO(buf), header=None, names=range(4), dtype=str, keep_default_na=False,
                             na_values=[""], skip_blank_lines=False)

    def norm(f: pd.DataFrame) -> list[list[object]]:
        return [[None if pd.isna(v) else v for v in row] for row in f.astype(object).values.tolist()]

    assert norm(arrow) == norm(slow) == norm(via_pandas)
    assert norm(arrow)[1] == ["1", "x\ny", "z", None] and norm(arrow)[4] == ["3", "p", "q", "r"]
