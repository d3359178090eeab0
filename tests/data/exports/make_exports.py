"""Writes the binary survey-export fixtures of this folder (run: python tests/data/exports/make_exports.py).

The text fixtures (qualtrics_3row.csv, qualtrics_legacy.csv, surveymonkey.csv) are written by hand
and committed as they are. The files below need bytes an editor cannot type comfortably, so this
script writes them with the hand-built writers of tests/data/exports/handbuilt.py (no pandas, openpyxl or
pyreadstat involved). The expected values in tests/test_io_*.py are typed from the lists here.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from handbuilt import FMT_A, FMT_DATETIME, SavVar, write_sav, write_xlsx  # noqa: E402

# Qualtrics TSV export: UTF-16 LE with a BOM, tab-separated, choice text values (legacy-free 3 rows)
TSV_ROWS = [
    ["StartDate", "EndDate", "Finished", "RecordedDate", "ResponseId", "Q1", "Q2", "Q3"],
    ["Start Date", "End Date", "Finished", "Recorded Date", "Response ID",
     "Jak prawdopodobne jest, że polecisz nas znajomemu?", "Jak bardzo jesteś zadowolony z obsługi?",
     "Czy zgadzasz się: łatwo było załatwić sprawę?"],
    ['{"ImportId":"startDate","timeZone":"Europe/Warsaw"}', '{"ImportId":"endDate","timeZone":"Europe/Warsaw"}',
     '{"ImportId":"finished"}', '{"ImportId":"recordedDate","timeZone":"Europe/Warsaw"}', '{"ImportId":"_recordId"}',
     '{"ImportId":"QID1"}', '{"ImportId":"QID2"}', '{"ImportId":"QID3"}'],
    ["2024-05-06 08:00:00", "2024-05-06 08:04:00", "1", "2024-05-06 08:04:01", "R_pl1",
     "10 - Zdecydowanie polecę", "Bardzo zadowolony", "Zdecydowanie się zgadzam"],
    ["2024-05-06 09:00:00", "2024-05-06 09:05:00", "1", "2024-05-06 09:05:01", "R_pl2",
     "6", "Raczej niezadowolona", "Raczej się nie zgadzam"],
    ["2024-05-07 10:00:00", "2024-05-07 10:03:00", "1", "2024-05-07 10:03:01", "R_pl3",
     "0 - Zdecydowanie nie polecę", "Ani zadowolony, ani niezadowolony", "Trudno powiedzieć"],
    ["2024-05-07 11:00:00", "2024-05-07 11:06:00", "1", "2024-05-07 11:06:01", "R_pl4",
     "Nie wiem", "Zadowolona", "Ani się zgadzam, ani nie zgadzam"],
]

# SurveyMonkey XLSX export: the same two header rows as surveymonkey.csv, real dates in the cells
SM_ROWS = {
    1: ["Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address", "Email Address", "First Name",
        "Last Name", "Custom Data 1", "Насколько вероятно, что вы порекомендуете нас?",
        "Насколько вы удовлетворены обслуживанием?", "Какими каналами вы пользовались?", None, None,
        "Что нам улучшить?"],
    2: [None, None, None, None, None, None, None, None, None, "Response", "Response", "Сайт", "Приложение",
        "Другое (укажите)", "Open-Ended Response"],
    3: [114352718301, 405113222, dt.datetime(2024, 2, 1, 9, 0), dt.datetime(2024, 2, 1, 9, 6), "203.0.113.30",
        None, None, None, "C00101", "10 - Обязательно порекомендую", "Полностью удовлетворена", "Сайт", None, None,
        "Ничего"],
    4: [114352718302, 405113222, dt.datetime(2024, 2, 2, 14, 30), dt.datetime(2024, 2, 2, 14, 41), "203.0.113.31",
        None, None, None, "C00102", 4, "Скорее не удовлетворён", None, "Приложение", "Маркетплейс",
        "Курьер опоздал на два часа"],
    5: [114352718303, 405113222, dt.datetime(2024, 2, 3, 11, 0), dt.datetime(2024, 2, 3, 11, 5), "203.0.113.32",
        None, None, None, "C00103", 7, "Затрудняюсь ответить", "Сайт", "Приложение", None, None],
}

# An Excel export as a client's analyst sends it: a notes sheet first, a title above the table,
# a two-row header under merged cells, a codebook sheet after it.
DATA_SHEET = {
    "rows": {
        1: ["Customer survey — export of 3 June 2024"],
        2: ["Prepared by the CX team; figures are raw answers"],
        4: ["Response", "Date", "Recommend (0-10)", "Satisfaction with", None, None, "Comment"],
        5: [None, None, None, "Delivery", "Support", "Checkout", None],
        6: ["X-001", dt.datetime(2024, 6, 1, 9, 30), 9, 5, 4, 5, "Quick and easy"],
        7: ["X-002", dt.datetime(2024, 6, 1, 12, 0), 4, 2, 1, 3, "Support never called back"],
        8: ["X-003", dt.datetime(2024, 6, 2, 16, 45), 10, 5, 5, 5, None],
        9: ["X-004", dt.date(2024, 6, 3), "n/a", 3, "#N/A", 4, "ok"],
    },
    "merges": ["A4:A5", "B4:B5", "C4:C5", "D4:F4", "G4:G5"],
}
NOTES_SHEET = {"rows": {1: ["Read me"], 2: ["The data are on the sheet 'Responses'."]}}
CODEBOOK_SHEET = {"rows": {1: ["Column", "Meaning"], 2: ["Recommend (0-10)", "NPS item"],
                           3: ["Satisfaction with", "1-5, 5 = very satisfied"]}}

# SPSS: NPS coded 1..11 with labels "0".."10" (a common SPSS export), CSAT coded *reversed*
# (1 = Very satisfied ... 5 = Very dissatisfied), 99 = Don't know declared missing on NPS, a
# missing range -9..-1 on CSAT, a labelled segment, a datetime and a long string id.
SAV_VARS = [
    SavVar("ResponseId", width=12, label="Response ID", fmt=(FMT_A, 12, 0)),
    SavVar("RecordedDate", label="Recorded Date", fmt=(FMT_DATETIME, 20, 0)),
    SavVar("Q1", label="How likely are you to recommend us?",
           value_labels={**{float(k + 1): str(k) for k in range(11)}, 1.0: "0 - Not at all likely",
                         11.0: "10 - Extremely likely", 99.0: "Don't know"}, missing=[99.0]),
    SavVar("Q2", label="How satisfied are you overall?",
           value_labels={1.0: "Very satisfied", 2.0: "Satisfied", 3.0: "Neither satisfied nor dissatisfied",
                         4.0: "Dissatisfied", 5.0: "Very dissatisfied", -9.0: "Refused"},
           missing_range=(-9.0, -1.0)),
    SavVar("segment", label="Customer segment", value_labels={1.0: "Consumer", 2.0: "Small business"}),
    SavVar("Duration__in_seconds_", label="Duration (in seconds)"),
]
SAV_CASES = [
    ["R_sav1", dt.datetime(2024, 4, 2, 10, 0, 5), 11, 1, 1, 300],
    ["R_sav2", dt.datetime(2024, 4, 2, 11, 30, 0), 4, 4, 2, 280],
    ["R_sav3", dt.datetime(2024, 4, 3, 9, 15, 0), 99, 2, 1, 350],
    ["R_sav4", dt.datetime(2024, 4, 3, 13, 0, 0), 9, -9, 2, 20],
    ["R_sav5", dt.datetime(2024, 4, 4, 8, 0, 0), 1, 5, 3, None],
]


def main(out: Path = HERE) -> None:
    text = "\r\n".join("\t".join(r) for r in TSV_ROWS) + "\r\n"
    (out / "qualtrics_choice.tsv").write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    write_xlsx(out / "surveymonkey.xlsx", {"Sheet1": {"rows": SM_ROWS}})
    write_xlsx(out / "excel_multisheet.xlsx", {"Notes": NOTES_SHEET, "Responses": DATA_SHEET,
                                                "Codebook": CODEBOOK_SHEET})
    write_sav(out / "spss_labels.sav", SAV_VARS, SAV_CASES)


if __name__ == "__main__":
    main()
