"""Writes the bad-input corpus of this folder (run: python tests/data/bad/make_bad.py).

Each file is a ``responses`` input as a consultant might receive it, broken in one way. What each
must give -- a one-line error naming the file (and the column / row where one applies) and what was
expected, or a load whose every problem row is logged -- is stated in tests/test_bad_inputs.py.
The 5 MB comment is not here: tests/test_bad_inputs.py generates it (no 5 MB file in git).
Binary files are written with tests/data/exports/handbuilt.py (no pandas / openpyxl / pyreadstat).
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "exports"))

from handbuilt import SavVar, write_sav, write_xlsx  # noqa: E402

H = "response_id,date,nps,csat,comment,duration_s"
OK1 = "r1,2024-03-01,9,5,Great service,300"
OK2 = "r2,2024-03-02,6,3,Slow delivery,280"
OK3 = "r3,2024-03-03,10,4,,310"


def lines(*rows: str, end: str = "\n") -> str:
    return end.join(rows) + end


TEXT: dict[str, str] = {
    "header_only.csv": lines(H),
    "only_blank_lines.csv": "\n\n\n",
    "missing_required_column.csv": lines("response_id,nps,csat", "r1,9,5", "r2,6,3"),
    "duplicate_columns.csv": lines("response_id,date,nps,nps", "r1,2024-03-01,9,3"),
    # line 3: 4 of 6 fields; line 5 cut in the middle of the comment at the end of the file
    "truncated_rows.csv": H + "\n" + OK1 + "\nr2,2024-03-02,6,3\n" + OK3 + "\nr4,2024-03-04,8,4,Deliv",
    # line 3: an unquoted comma in the comment -> 7 fields
    "extra_fields.csv": lines(H, OK1, "r2,2024-03-02,6,3,Slow, very slow,280", OK3),
    # line 3 opens a quote that never closes
    "unclosed_quote.csv": lines(H, OK1, 'r2,2024-03-02,6,3,"Slow delivery,280', OK3),
    "text_in_numeric.csv": lines(H, OK1, "r2,2024-03-02,nine,five,Fine,fast", "r3,2024-03-03,10,4,,3 min"),
    "nps_out_of_range.csv": lines(H, OK1, "r2,2024-03-02,11,5,,300", "r3,2024-03-03,-1,4,,300",
                                  "r4,2024-03-04,10.5,4,,300", "r5,2024-03-05,7,6,,300"),
    "mixed_date_formats.csv": lines(H, "r1,2024-03-01,9,5,,300", "r2,2024-03-02 10:15,6,3,,280",
                                    "r3,05.03.2024,10,4,,310", "r4,03/06/2024,8,4,,290", "r5,yesterday,7,4,,305",
                                    "r6,2024-02-30,7,4,,300"),
    "html_saved.csv": "<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>Session expired</body></html>\n",
    "qualtrics_extra_header.csv": lines(
        "StartDate,EndDate,Finished,RecordedDate,ResponseId,Q1",
        "Start Date,End Date,Finished,Recorded Date,Response ID,How likely are you to recommend us?",
        '"{""ImportId"":""startDate""}","{""ImportId"":""endDate""}","{""ImportId"":""finished""}",'
        '"{""ImportId"":""recordedDate""}","{""ImportId"":""_recordId""}","{""ImportId"":""QID1""}"',
        "Start Date,End Date,Finished,Recorded Date,Response ID,How likely are you to recommend us?",
        "2024-03-01 09:00,2024-03-01 09:05,True,2024-03-01 09:05,R_1,9",
        "2024-03-02 09:00,2024-03-02 09:05,True,2024-03-02 09:05,R_2,3"),
    "concatenated_exports.csv": lines(H, OK1, OK2, H, OK3),
    "blank_lines_inside.csv": H + "\n" + OK1 + "\n\n" + OK2 + "\n\n\n" + "r3,2024-03-03,12,4,,310\n",
    "multiline_comments.csv": lines(H, 'r1,2024-03-01,9,5,"Great\nservice\nthanks",300', "r2,2024-03-02,11,3,,280"),
    "stray_quote.csv": lines(H, 'r1,2024-03-01,9,5,My 5" screen broke,300', "r2,2024-03-02,-1,3,ok,280"),
    "trailing_delimiters.csv": lines(H + ",", OK1 + ",", OK2 + ","),
    "whitespace_header.csv": lines(" response_id , date ,nps\t,csat,comment,duration_s", OK1, OK2),
    "duplicate_ids.csv": lines(H, OK1, OK2, "r1,2024-03-05,3,1,Again,300"),
    "missing_required_values.csv": lines(H, OK1, ",2024-03-02,6,3,,280", "r3,,10,4,,310", " ,  ,7,4,,300"),
    "all_rows_bad.csv": lines(H, "r1,not a date,9,5,,300", "r2,2024-13-45,6,3,,280"),
    "future_dates.csv": lines(H, OK1, "r2,2099-01-01,6,3,,280", "r3,1850-05-05,10,4,,310"),
    "label_scales.csv": lines(H, "r1,2024-03-01,10 - Extremely likely,Very satisfied,,300",
                              "r2,2024-03-02,0 = Not at all likely,Полностью согласен,,280",
                              "r3,2024-03-03,9,Zdecydowanie się zgadzam,,310", "r4,2024-03-04,8,Mostly happy,,305",
                              "r5,2024-03-05,Don't know,N/A,,300"),
    "gibberish_comments.csv": lines(H, OK1, "r2,2024-03-02,6,3,asdfghjkl,280", "r3,2024-03-03,10,4,-,310",
                                    "r4,2024-03-04,8,4,ыыыыыы,305", "r5,2024-03-05,7,4,Fine,300"),
    "speeders_straightliners.csv": lines(
        "response_id,date,nps,duration_s,tp_a,tp_b,tp_c,tp_d,tp_e",
        "r1,2024-03-01,9,300,4,5,4,3,5", "r2,2024-03-02,6,310,3,3,3,3,3", "r3,2024-03-03,10,20,5,4,5,4,5",
        "r4,2024-03-04,8,290,2,3,4,3,2", "r5,2024-03-05,7,305,4,4,4,4,4"),
    "pipe_delimited.csv": lines("response_id|date|nps|comment", "r1|2024-03-01|9|Good, fast", "r2|2024-03-02|6|Slow"),
    "tab_no_suffix.txt": lines("response_id\tdate\tnps", "r1\t2024-03-01\t9", "r2\t2024-03-02\t6"),
    "mac_cr_only.csv": lines(H, OK1, OK2, "r3,2024-03-03,11,4,,310", end="\r"),
    "title_lines_above_header.csv": lines("Customer survey export", "Generated 2024-06-03", H, OK1, OK2),
    "thousands_and_decimals.csv": lines("response_id;date;nps;duration_s;weight", "r1;2024-03-01;9;1 234;1,5",
                                        "r2;2024-03-02;6;1.234,5;0,5", "r3;2024-03-03;10;abc;1"),
    "unknown_type.json": '{"response_id": "r1", "date": "2024-03-01"}\n',
}

CP1251 = lines("response_id;date;nps;csat;comment;duration_s",
               "r1;2024-03-01;9;Полностью согласен;Всё отлично, спасибо;300,5",
               "r2;2024-03-02;4;Скорее не согласен;Долгая доставка;280",
               "r3;2024-03-03;12;Согласен;;310")
CP1250 = lines("response_id;date;nps;csat;comment;duration_s",
               "r1;2024-03-01;9;Zdecydowanie się zgadzam;Świetna obsługa, dziękuję;300,5",
               "r2;2024-03-02;4;Raczej się nie zgadzam;Długa dostawa;280",
               "r3;2024-03-03;10;Zgadzam się;Źle zapakowane;310")


def main(out: Path = HERE) -> None:
    for name, text in TEXT.items():
        (out / name).write_bytes(text.encode("utf-8"))
    (out / "empty.csv").write_bytes(b"")
    (out / "cp1251.csv").write_bytes(CP1251.encode("cp1251"))
    (out / "cp1250.csv").write_bytes(CP1250.encode("cp1250"))
    (out / "declared_wrong_encoding.csv").write_bytes(CP1251.encode("cp1251"))
    (out / "utf16.csv").write_bytes(b"\xff\xfe" + lines(H, OK1, OK2).encode("utf-16-le"))
    (out / "bom_crlf_semicolon.csv").write_bytes(
        "\ufeff".encode() + lines("response_id;date;nps;duration_s", "r1;2024-03-01;9;12,5", "r2;2024-03-02;3;20",
                                  end="\r\n").encode("utf-8"))
    # UTF-8 throughout, except one line pasted from a cp1251 file
    mixed = (lines(H, "r1,2024-03-01,9,5,Всё хорошо,300", "r2,2024-03-02,6,3,Слишком долго,280").encode("utf-8")
             + "r3,2024-03-03,10,4,Отлично,310\n".encode("cp1251"))
    (out / "mixed_encoding.csv").write_bytes(mixed)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("responses.csv", date_time=(2024, 1, 1, 0, 0, 0)), lines(H, OK1, OK2))
    (out / "zip_renamed.csv").write_bytes(buf.getvalue())
    (out / "gzip_renamed.csv").write_bytes(gzip.compress(lines(H, OK1).encode(), mtime=0))
    (out / "binary_garbage.csv").write_bytes(bytes((i * 37 + 11) % 256 for i in range(2048)))
    # an OLE2 compound file header (old .xls) followed by padding
    (out / "old_excel.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    xlsx_sheet = {"rows": {1: ["response_id", "date", "nps"], 2: ["r1", "2024-03-01", 9], 3: ["r2", "2024-03-02", 6]}}
    write_xlsx(out / "xlsx_renamed.csv", {"Data": xlsx_sheet})
    write_xlsx(out / "merged_header.xlsx", {"Survey": {
        "rows": {1: ["response_id", "date", "Scores", None, "comment"], 2: [None, None, "nps", "csat", None],
                 3: ["r1", "2024-03-01", 9, 5, "Good"], 4: ["r2", "2024-03-02", 11, 3, None],
                 5: ["r3", "2024-03-03", 7, 4, "Fine"]},
        "merges": ["A1:A2", "B1:B2", "C1:D1", "E1:E2"]}})
    write_xlsx(out / "empty_sheet.xlsx", {"Sheet1": {"rows": {}}})
    whole = (out / "merged_header.xlsx").read_bytes()
    (out / "truncated_workbook.xlsx").write_bytes(whole[: len(whole) // 2])
    write_sav(out / "sav_no_labels.sav",
              [SavVar("response", width=8, fmt=(1, 8, 0)), SavVar("date", fmt=(22, 20, 0)), SavVar("nps"),
               SavVar("csat")],
              [["r1", dt.datetime(2024, 3, 1, 9, 0), 9, 5],
               ["r2", dt.datetime(2024, 3, 2, 9, 0), 12, 3],
               ["r3", None, 7, None]])
    (out / "sav_corrupt.sav").write_bytes(b"$FL2" + b"@(#) SPSS DATA FILE" + b"\x07" * 40)


if __name__ == "__main__":
    main()
