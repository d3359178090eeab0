"""Survey exports in their tools' real formats, read end to end (reader -> audit.yaml mapping -> log).

The fixtures in tests/data/exports/ are built by hand from the formats' documentation: the CSV ones
typed as text, the binary ones written by tests/data/exports/handbuilt.py (its own XLSX and SPSS writers,
sharing no code with openpyxl or pyreadstat). Every expected value below is read off the fixture by
eye; the comments give the fixture line / case it comes from.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxaudit import load_audit
from cxaudit.errors import DataError
from cxaudit.io import describe, detect_format, read_survey

EXPORTS = Path(__file__).parent / "data" / "exports"


def _client(tmp_path: Path, fixture: str, yaml_body: str, lang: str = "en") -> Path:
    folder = tmp_path / "client"
    folder.mkdir(exist_ok=True)
    shutil.copy(EXPORTS / fixture, folder / fixture)
    (folder / "audit.yaml").write_text(f"client: {{name: Acme, language: {lang}}}\n{yaml_body}", encoding="utf-8")
    return folder


def _log(audit) -> set[tuple[int, str, str, bool]]:
    return {(int(r.row), r.rule, r.column, bool(r.excluded)) for r in audit.log.itertuples()}


@pytest.mark.parametrize(("fixture", "fmt"), [
    ("qualtrics_3row.csv", "qualtrics"), ("qualtrics_legacy.csv", "qualtrics"), ("qualtrics_choice.tsv", "qualtrics"),
    ("surveymonkey.csv", "surveymonkey"), ("surveymonkey.xlsx", "surveymonkey"), ("spss_labels.sav", "sav"),
    ("excel_multisheet.xlsx", "xlsx"),
])
def test_format_detected_from_content(fixture: str, fmt: str) -> None:
    assert detect_format(EXPORTS / fixture) == fmt


# --- Qualtrics -----------------------------------------------------------------------------------


def test_qualtrics_three_row_header(tmp_path: Path) -> None:
    raw = read_survey(EXPORTS / "qualtrics_3row.csv")
    assert raw.meta["encoding"] == "utf-8-sig" and raw.meta["variant"] == "current"
    # header records on lines 1, 2-3 (the question text of Q4 holds a line break) and 4
    assert raw.meta["header_rows"] == [1, 2, 4]
    # data lines: 5-6 (a comment spanning two lines), 7, 8, 9, 10, 11
    assert raw.source_rows.tolist() == [5, 7, 8, 9, 10, 11]
    assert raw.frame["Q4"].iloc[0] == "Fast delivery,\nfriendly staff."
    assert raw.meta["questions"]["Q4"] == "Is there anything you would like to tell us?"
    assert raw.meta["questions"]["Q3"] == "Which channel did you use most?"  # " - Selected Choice" dropped
    assert raw.meta["aliases"]["QID1"] == "NPS_Q"  # the ImportId survives a renamed question id
    assert raw.meta["subcolumns"] == {"Q3": {"question": "Q3", "kind": "selected_choice"},
                                      "Q3_4_TEXT": {"question": "Q3", "kind": "text_entry"}}
    assert raw.frame.loc[1, "Q3_4_TEXT"] == "Marketplace app"

    yaml_body = """inputs:
  responses:
    file: qualtrics_3row.csv
    columns: {nps: QID1, csat: Q2, comment: "Is there anything you would like to tell us?",
              tp_delivery: Q5_1, tp_support: Q5_2, tp_checkout: Q5_3, tp_returns: Q5_4, tp_billing: Q5_5}
# off-scale answers exclude the response here (the default since issue 13 only blanks the cell)
quality: {exclude: [missing_required, invalid_date, out_of_range, duplicate_id, speeder]}
"""
    audit = load_audit(_client(tmp_path, "qualtrics_3row.csv", yaml_body))
    # durations 367, 330, 12, 240, 360, 305: median 317.5, a third 105.8 -> line 8 is a speeder
    assert _log(audit) == {
        (8, "speeder", "duration_s", True),
        (8, "straightliner", "tp_*", False),  # five 4s
        (9, "unfinished", "finished", False),  # Finished = False
        (10, "out_of_range", "nps", True),  # 11
    }
    r = audit.responses
    assert r["_row"].tolist() == [5, 7, 9, 11]
    assert r["response_id"].tolist() == ["R_1a2B3c4D5e6F7g8", "R_2b3C4d5E6f7G8h9", "R_4d5E6f7G8h9I0j1",
                                         "R_6f7G8h9I0j1K2l3"]
    assert r["nps"].tolist() == [9.0, 3.0, 7.0, 8.0]
    # choice text: Extremely satisfied 5, Somewhat dissatisfied 2, Neither 3, Somewhat satisfied 4
    assert r["csat"].tolist() == [5.0, 2.0, 3.0, 4.0]
    assert r["date"].tolist() == pd.to_datetime(["2024-03-01 09:06:11", "2024-03-01 10:15:31",
                                                 "2024-03-03 12:04:00", "2024-03-04 14:05:06"]).tolist()
    assert r["finished"].tolist() == [True, True, False, True]
    from cxaudit.schema import input_info

    info = input_info(r)
    assert info["auto_mapped"] == {"response_id": "ResponseId", "date": "RecordedDate",
                                   "duration_s": "Duration (in seconds)", "finished": "Finished"}
    assert info["recoded"] == {"csat": 6}
    assert audit.intake().iloc[0][["rows_in", "kept", "excluded"]].tolist() == [6, 4, 2]


def test_qualtrics_legacy_two_row_header(tmp_path: Path) -> None:
    yaml_body = "inputs:\n  responses: {file: qualtrics_legacy.csv, columns: {nps: Q1, csat: Q2, comment: Comments}}\n"
    audit = load_audit(_client(tmp_path, "qualtrics_legacy.csv", yaml_body))
    r = audit.responses
    assert r["response_id"].tolist() == ["R_0aBcDeFgHiJkLmN", "R_1aBcDeFgHiJkLmN", "R_2aBcDeFgHiJkLmN"]
    assert r["date"].dt.strftime("%Y-%m-%d %H:%M:%S").tolist() == ["2015-06-01 10:04:12", "2015-06-01 11:03:40",
                                                                   "2015-06-02 09:01:02"]
    assert r["nps"].tolist() == [10.0, 6.0, 8.0]
    assert r["comment"].tolist()[:2] == ["Great", 'Slow, "very" slow']
    assert _log(audit) == {(5, "unfinished", "finished", False)}  # V10 Finished = 0 on line 5


def test_qualtrics_tsv_utf16_choice_text_polish(tmp_path: Path) -> None:
    yaml_body = "inputs:\n  responses: {file: qualtrics_choice.tsv, columns: {nps: QID1, csat: QID2, ces: QID3}}\n"
    audit = load_audit(_client(tmp_path, "qualtrics_choice.tsv", yaml_body, lang="pl"))
    r = audit.responses
    # "10 - Zdecydowanie polecę" 10, "6", "0 - Zdecydowanie nie polecę" 0, "Nie wiem" = don't know -> missing
    assert r["nps"].tolist()[:3] == [10.0, 6.0, 0.0] and np.isnan(r["nps"].iloc[3])
    # Bardzo zadowolony 5, Raczej niezadowolona 2, Ani zadowolony, ani niezadowolony 3, Zadowolona 4
    assert r["csat"].tolist() == [5.0, 2.0, 3.0, 4.0]
    # CES on 1-7: Zdecydowanie się zgadzam 7, Raczej się nie zgadzam 3, Trudno powiedzieć (no 7-point
    # midpoint wording) -> missing, Ani się zgadzam, ani nie zgadzam 4
    assert r["ces"].tolist()[:2] == [7.0, 3.0] and np.isnan(r["ces"].iloc[2]) and r["ces"].iloc[3] == 4.0
    assert audit.log.empty  # labels are answers, not problems
    from cxaudit.schema import input_info

    assert input_info(r)["non_answers"] == {"nps": 1, "ces": 1}
    assert input_info(r)["encoding"] == "utf-16"


# --- SurveyMonkey --------------------------------------------------------------------------------


def test_surveymonkey_csv(tmp_path: Path) -> None:
    raw = read_survey(EXPORTS / "surveymonkey.csv")
    q3 = "Which channels did you use?"
    assert [c for c in raw.frame.columns if c.startswith(q3)] == [
        f"{q3} | Website", f"{q3} | App", f"{q3} | Phone", f"{q3} | Other (please specify)"]
    assert raw.meta["aliases"]["Q5"] == "What could we improve?"
    assert raw.meta["aliases"]["Q4_2"] == "Please rate your experience with: | Support"
    yaml_body = """inputs:
  responses:
    file: surveymonkey.csv
    columns: {nps: Q1, csat: Q2, comment: Q5, customer_id: Custom Data 1, tp_delivery: Q4_1, tp_support: Q4_2,
              tp_checkout: Q4_3, tp_returns: Q4_4, tp_billing: Q4_5}
"""
    audit = load_audit(_client(tmp_path, "surveymonkey.csv", yaml_body))
    r = audit.responses
    assert r["response_id"].tolist() == ["114352718291", "114352718292", "114352718293", "114352718294"]
    # US dates (01/13/2024 settles month-first); End Date is the submission time
    assert r["date"].dt.strftime("%Y-%m-%d %H:%M").tolist() == ["2024-01-05 10:27", "2024-01-05 11:09",
                                                                "2024-01-13 14:20", "2024-01-14 09:06"]
    assert r["nps"].tolist() == [10.0, 3.0, 0.0, 8.0]
    assert r["csat"].tolist() == [5.0, 2.0, 1.0, 3.0]
    # quality scale: Excellent 5, Very good 4, Good 3, Fair 2, Poor 1
    assert r["tp_delivery"].tolist() == [5.0, 1.0, 1.0, 3.0]
    assert r["tp_support"].tolist() == [4.0, 2.0, 1.0, 3.0]
    assert _log(audit) == {(5, "straightliner", "tp_*", False), (5, "gibberish", "comment", False)}


def test_surveymonkey_xlsx_russian_labels(tmp_path: Path) -> None:
    yaml_body = "inputs:\n  responses: {file: surveymonkey.xlsx, columns: {nps: Q1, csat: Q2, comment: Q4}}\n"
    audit = load_audit(_client(tmp_path, "surveymonkey.xlsx", yaml_body, lang="ru"))
    r = audit.responses
    assert r["_row"].tolist() == [3, 4, 5]  # sheet rows
    assert r["nps"].tolist() == [10.0, 4.0, 7.0]
    # Полностью удовлетворена 5; Скорее не удовлетворён 2; Затрудняюсь ответить -> missing
    assert r["csat"].tolist()[:2] == [5.0, 2.0] and np.isnan(r["csat"].iloc[2])
    assert r["date"].tolist() == pd.to_datetime(["2024-02-01 09:06", "2024-02-02 14:41", "2024-02-03 11:05"]).tolist()
    assert audit.log.empty


# --- SPSS ------------------------------------------------------------------------------------------


def test_spss_value_labels_and_user_missing(tmp_path: Path) -> None:
    yaml_body = "inputs:\n  responses: {file: spss_labels.sav, columns: {nps: Q1, csat: Q2, segment: segment}}\n"
    audit = load_audit(_client(tmp_path, "spss_labels.sav", yaml_body))
    raw = read_survey(EXPORTS / "spss_labels.sav")
    assert raw.meta["user_missing"] == {"Q1": 1, "Q2": 1}  # 99 on case 3, -9 on case 4
    assert raw.meta["questions"]["Q1"] == "How likely are you to recommend us?"
    # case 4 (duration 20 s; median of 300, 280, 350, 20 = 290; a third = 96.7) is a speeder
    assert _log(audit) == {(4, "speeder", "duration_s", True)}
    r = audit.responses
    assert r["_row"].tolist() == [1, 2, 3, 5]
    assert r["response_id"].tolist() == ["R_sav1", "R_sav2", "R_sav3", "R_sav5"]
    # NPS codes 11, 4, 99 (declared missing), 1 with labels "10 - ...", "3", -, "0 - ..."
    assert r["nps"].tolist()[:2] == [10.0, 3.0] and np.isnan(r["nps"].iloc[2]) and r["nps"].iloc[3] == 0.0
    # CSAT coded 1 = Very satisfied ... 5 = Very dissatisfied: the label decides -> 5, 2, 4, 1
    assert r["csat"].tolist() == [5.0, 2.0, 4.0, 1.0]
    assert r["segment"].tolist() == ["Consumer", "Small business", "Consumer", "3"]  # code 3 has no label
    assert r["date"].iloc[0] == pd.Timestamp("2024-04-02 10:00:05")


# --- Excel -----------------------------------------------------------------------------------------


def test_excel_sheet_title_rows_merged_two_row_header(tmp_path: Path) -> None:
    yaml_body = """inputs:
  responses:
    file: excel_multisheet.xlsx
    sheet: Responses
    header_row: auto
    columns: {response_id: Response, date: Date, nps: "Recommend (0-10)", tp_delivery: "Satisfaction with | Delivery",
              tp_support: "Satisfaction with | Support", tp_checkout: "Satisfaction with | Checkout", comment: Comment}
"""
    audit = load_audit(_client(tmp_path, "excel_multisheet.xlsx", yaml_body))
    r = audit.responses
    assert r["_row"].tolist() == [6, 7, 8, 9]
    assert r["date"].tolist() == pd.to_datetime(["2024-06-01 09:30", "2024-06-01 12:00", "2024-06-02 16:45",
                                                 "2024-06-03"], format="ISO8601").tolist()
    assert r["nps"].tolist()[:3] == [9.0, 4.0, 10.0] and np.isnan(r["nps"].iloc[3])  # "n/a" is a non-answer
    assert r["tp_support"].tolist()[:3] == [4.0, 1.0, 5.0] and np.isnan(r["tp_support"].iloc[3])
    assert _log(audit) == {(9, "invalid_value", "tp_support", False),  # an Excel #N/A error value
                           (9, "short_answer", "comment", False)}  # "ok"


def test_excel_header_in_a_later_row_is_pointed_out(tmp_path: Path) -> None:
    yaml_body = "inputs:\n  responses: {file: excel_multisheet.xlsx, sheet: Responses, columns: {response_id: Response}}\n"
    with pytest.raises(DataError, match=r"it appears in row 4: set inputs.responses.header_row"):
        load_audit(_client(tmp_path, "excel_multisheet.xlsx", yaml_body))


def test_excel_largest_sheet_by_default() -> None:
    raw = read_survey(EXPORTS / "excel_multisheet.xlsx")
    assert raw.meta["sheet"] == "Responses" and "largest" in raw.meta["notes"][0]
    assert raw.meta["header_rows"] == [4, 5]


def test_describe_lists_questions() -> None:
    d = describe(read_survey(EXPORTS / "qualtrics_3row.csv")).set_index("column")
    assert d.loc["NPS_Q", "question"] == "How likely are you to recommend Northwind to a friend or colleague?"
    assert d.loc["Q3_4_TEXT", "answered"] == 1


@pytest.mark.parametrize("script", ["exports/make_exports.py", "bad/make_bad.py"])
def test_committed_fixtures_match_their_generator(script: str, tmp_path: Path) -> None:
    """The binary fixtures in git are exactly what the hand-built writers produce (no stale files)."""
    import importlib.util

    path = Path(__file__).parent / "data" / script
    spec = importlib.util.spec_from_file_location(f"gen_{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    made = sorted(p.name for p in tmp_path.iterdir())
    assert made
    for name in made:
        assert (tmp_path / name).read_bytes() == (path.parent / name).read_bytes(), name
