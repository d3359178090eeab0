"""Loading a client folder: column mapping, type checks, the exclusion log and row accounting.

Each client is a few hand-written CSV lines; every expected row number is the line number in the
file (header = line 1), counted by hand in the comment beside the data.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from cxaudit import load_audit
from cxaudit.errors import DataError

# these tests check the exclusion mechanics, so they exclude off-scale answers explicitly (the default
# since issue 13 keeps the response and blanks the cell: tests/test_any_data.py)
# (and let a small table lose more than half its rows without stopping the run)
OLD_EXCLUDE = "{exclude: [missing_required, invalid_date, out_of_range, duplicate_id, speeder], max_excluded_share: 1}"
YAML = f"""\
client: {{name: Acme}}
inputs:
  responses: {{file: r.csv}}
quality: {OLD_EXCLUDE}
"""


def _yaml(quality: str = OLD_EXCLUDE, extra_inputs: str = "", responses: str = "{file: r.csv}") -> str:
    text = f"client: {{name: Acme}}\ninputs:\n  responses: {responses}\n{extra_inputs}"
    return text + (f"quality: {quality}\n" if quality else "")


def _log(audit, table: str = "responses") -> set[tuple[int, str, str, bool]]:
    lg = audit.log[audit.log["table"] == table]
    return {(int(r.row), r.rule, r.column, bool(r.excluded)) for r in lg.itertuples()}


# line 1 is the header; the comment after each line is its line number and what is wrong with it
RULES_CSV = "\n".join(
    [
        "response_id,date,nps,csat,duration_s,segment",  # 1
        "r1,2024-01-05,9,5,300,A",  # 2  ok
        "r2,2024-01-06,,4,310,A",  # 3  ok (nps not required; missing answer)
        "r3,,7,3,290,B",  # 4  missing_required date
        "r4,2024-02-30,8,4,305,B",  # 5  invalid_date (30 February)
        "r5,2024-01-07,nine,4,300,A",  # 6  invalid_value nps (flagged, kept, nps -> missing)
        "r6,2024-01-08,11,4,300,A",  # 7  out_of_range nps 11
        "r7,2024-01-09,-1,4,300,B",  # 8  out_of_range nps -1
        "r1,2024-01-10,10,5,300,B",  # 9  duplicate_id r1 (line 2 is kept)
        "r8,2024-01-11,10,5,50,A",  # 10 speeder: median(300,310,290,305,300,300,300,300,50) = 300; 50 < 300/3
        "",
    ]
)


# --- mapping and whole-table errors --------------------------------------------------------------


def test_column_mapping(make_client, tmp_path):
    csv = "ID,Submitted,LTR,Region\nA1,2024-03-01,10,North\nA2,2024-03-02,3,South\n"
    yaml_text = _yaml(responses="{file: r.csv, columns: {response_id: ID, date: Submitted, nps: LTR}}")
    audit = load_audit(make_client(tmp_path, {"r.csv": csv}, yaml_text))
    r = audit.responses
    assert list(r.columns) == ["_row", "response_id", "date", "nps", "Region"]
    assert r["response_id"].tolist() == ["A1", "A2"]
    assert r["nps"].tolist() == [10.0, 3.0]
    assert r["date"].tolist() == [pd.Timestamp("2024-03-01"), pd.Timestamp("2024-03-02")]
    assert r["_row"].tolist() == [2, 3]
    assert audit.log.empty


def test_mapped_column_missing(make_client, tmp_path):
    csv = "response_id,date,score\n1,2024-03-01,9\n"
    folder = make_client(tmp_path, {"r.csv": csv}, _yaml(responses="{file: r.csv, columns: {nps: LTR}}"))
    with pytest.raises(DataError) as info:
        load_audit(folder)
    err = info.value
    assert err.column == "LTR" and err.file.endswith("r.csv")
    assert str(err) == (
        f"{folder / 'r.csv'}, column 'LTR': key 'inputs.responses.columns.nps': column 'LTR' "
        "not found (the file has: response_id, date, score)"
    )
    assert err.exit_code == 3


def test_required_column_missing(make_client, tmp_path):
    folder = make_client(tmp_path, {"r.csv": "response_id,nps\n1,9\n"}, YAML)
    with pytest.raises(DataError) as info:
        load_audit(folder)
    assert info.value.column == "date"
    assert str(info.value) == (
        f"{folder / 'r.csv'}, column 'date': required column 'date' missing; map it in "
        "inputs.responses.columns (the file has: response_id, nps); a one-off survey without dates: "
        "give its field period as fieldwork: {start, end} in audit.yaml"
    )


def test_empty_file(make_client, tmp_path):
    folder = make_client(tmp_path, {"r.csv": ""}, YAML)
    with pytest.raises(DataError, match="empty") as info:
        load_audit(folder)
    assert str(folder / "r.csv") in str(info.value)


# --- the exclusion rules -------------------------------------------------------------------------


def test_rules_default_config(make_client, tmp_path):
    audit = load_audit(make_client(tmp_path, {"r.csv": RULES_CSV}, YAML))
    assert _log(audit) == {
        (4, "missing_required", "date", True),
        (5, "invalid_date", "date", True),
        (6, "invalid_value", "nps", False),
        (7, "out_of_range", "nps", True),
        (8, "out_of_range", "nps", True),
        (9, "duplicate_id", "response_id", True),
        (10, "speeder", "duration_s", True),
    }
    r = audit.responses
    # kept: lines 2, 3, 6 (the invalid_value row stays, its nps set to missing)
    assert r["_row"].tolist() == [2, 3, 6]
    assert r["response_id"].tolist() == ["r1", "r2", "r5"]
    assert r["nps"].iloc[0] == 9.0 and np.isnan(r["nps"].iloc[1]) and np.isnan(r["nps"].iloc[2])
    # the first r1 (line 2, nps 9) is the one kept, not the duplicate on line 9 (nps 10)
    assert r.loc[r["response_id"] == "r1", "date"].tolist() == [pd.Timestamp("2024-01-05")]
    # the logged value is the original text
    lg = audit.log.set_index("row")
    assert lg.loc[6, "value"] == "nine" and lg.loc[7, "value"] == "11" and lg.loc[8, "value"] == "-1"
    assert lg.loc[5, "value"] == "2024-02-30"
    assert set(audit.log["file"]) == {"r.csv"}


def test_excluded_rows_are_csv_line_numbers(make_client, tmp_path):
    audit = load_audit(make_client(tmp_path, {"r.csv": RULES_CSV}, YAML))
    ex = audit.excluded()
    assert ex["row"].tolist() == [4, 5, 7, 8, 9, 10]
    lines = RULES_CSV.split("\n")
    for row, rid in zip(ex["row"], ["r3", "r4", "r6", "r7", "r1", "r8"], strict=True):
        assert lines[row - 1].split(",")[0] == rid  # line n of the file is lines[n - 1]


def test_intake_rows_in_equals_kept_plus_excluded(make_client, tmp_path):
    # responses: 9 data rows, 6 excluded (see RULES_CSV), 3 kept
    customers = "\n".join(
        [
            "customer_id,churned,revenue,start_date",  # 1
            "c1,yes,100,2023-01-01",  # 2 ok
            "c2,maybe,200,2023-02-01",  # 3 invalid_value churned (flagged)
            "c3,no,abc,2023-03-01",  # 4 invalid_value revenue (flagged)
            "c1,no,50,2023-01-01",  # 5 duplicate_id
            ",1,10,",  # 6 missing_required customer_id
            "",
        ]
    )
    tickets = "\n".join(
        [
            "ticket_id,channel,created_at,csat",  # 1
            "t1,email,2024-01-01T10:00,5",  # 2 ok
            "t2,chat,2024-01-02,6",  # 3 out_of_range csat (1-5)
            "t3,,2024-01-03,4",  # 4 missing_required channel
            "t4,phone,yesterday,4",  # 5 invalid_date created_at
            "",
        ]
    )
    touchpoints = "touchpoint,stage,channel\nweb,Awareness,web\napp,purchase,app\n"
    extra = (
        "  customers: {file: c.csv}\n  tickets: {file: t.csv}\n  touchpoints: {file: tp.csv}\n"
    )
    files = {"r.csv": RULES_CSV, "c.csv": customers, "t.csv": tickets, "tp.csv": touchpoints}
    audit = load_audit(make_client(tmp_path, files, _yaml(extra_inputs=extra)))
    intake = audit.intake().set_index("table")
    expected = {
        "responses": ("r.csv", 9, 3, 6),
        "customers": ("c.csv", 5, 3, 2),
        "tickets": ("t.csv", 4, 1, 3),
        "touchpoints": ("tp.csv", 2, 2, 0),
    }
    for table, (file, rows_in, kept, excluded) in expected.items():
        got = intake.loc[table]
        assert (got["file"], got["rows_in"], got["kept"], got["excluded"]) == (file, rows_in, kept, excluded)
        assert got["rows_in"] == got["kept"] + got["excluded"]
        assert len(audit.tables[table]) == kept
    assert _log(audit, "customers") == {
        (3, "invalid_value", "churned", False),
        (4, "invalid_value", "revenue", False),
        (5, "duplicate_id", "customer_id", True),
        (6, "missing_required", "customer_id", True),
    }
    assert _log(audit, "tickets") == {
        (3, "out_of_range", "csat", True),
        (4, "missing_required", "channel", True),
        (5, "invalid_date", "created_at", True),
    }
    c = audit.tables["customers"]
    assert c["churned"].tolist()[0] is True and pd.isna(c["churned"].iloc[1])
    assert np.isnan(c["revenue"].iloc[2])
    assert audit.tables["touchpoints"]["stage"].tolist() == ["awareness", "purchase"]


def test_rule_not_excluded_keeps_row_and_blanks_value(make_client, tmp_path):
    # only missing_required excludes: invalid_date, out_of_range, duplicate_id, speeder just flag
    audit = load_audit(make_client(tmp_path, {"r.csv": RULES_CSV}, _yaml(quality="{exclude: [missing_required]}")))
    assert {(row, rule) for row, rule, _, ex in _log(audit) if ex} == {(4, "missing_required")}
    r = audit.responses.set_index("_row")
    assert list(r.index) == [2, 3, 5, 6, 7, 8, 9, 10]
    assert pd.isna(r.loc[5, "date"])  # invalid_date -> NaT
    assert np.isnan(r.loc[6, "nps"])  # invalid_value -> NaN
    assert np.isnan(r.loc[7, "nps"]) and np.isnan(r.loc[8, "nps"])  # out_of_range -> NaN
    assert r.loc[9, "nps"] == 10.0  # the duplicate's answers are untouched
    assert audit.intake().set_index("table").loc["responses", "excluded"] == 1


def test_invalid_value_excluded_when_configured(make_client, tmp_path):
    quality = "{exclude: [missing_required, invalid_value]}"
    audit = load_audit(make_client(tmp_path, {"r.csv": RULES_CSV}, _yaml(quality=quality)))
    assert (6, "invalid_value", "nps", True) in _log(audit)
    assert 6 not in audit.responses["_row"].tolist()


def test_invalid_stage_flagged_and_blanked(make_client, tmp_path):
    touchpoints = "touchpoint,stage,channel\nweb,Awareness,web\napp,foo,app\n"
    extra = "  touchpoints: {file: tp.csv}\n"
    audit = load_audit(make_client(tmp_path, {"r.csv": RULES_CSV, "tp.csv": touchpoints}, _yaml(extra_inputs=extra)))
    assert _log(audit, "touchpoints") == {(3, "invalid_value", "stage", False)}
    stage = audit.tables["touchpoints"]["stage"]
    assert stage.iloc[0] == "awareness"
    assert pd.isna(stage.iloc[1])


def test_speeder_fraction(make_client, tmp_path):
    # durations 100, 100, 100, 40, 60: median 100.  1/3 -> < 33.3: none; 1/2 -> < 50: the 40 (line 5)
    csv = "response_id,date,duration_s\n" + "".join(
        f"{i},2024-01-0{i},{d}\n" for i, d in enumerate([100, 100, 100, 40, 60], start=1)
    )
    audit = load_audit(make_client(tmp_path, {"r.csv": csv}, YAML))
    assert audit.log.empty
    audit = load_audit(make_client(tmp_path, {"r.csv": csv}, _yaml(quality="{speeder_fraction: 0.5}")))
    assert _log(audit) == {(5, "speeder", "duration_s", True)}


STRAIGHT_CSV = "\n".join(
    [
        "response_id,date,tp_a,tp_b,tp_c,tp_d,tp_e",  # 1
        "s1,2024-01-05,3,3,3,3,3",  # 2 straight-liner (5 equal ratings)
        "s2,2024-01-05,3,4,3,3,3",  # 3 varies
        "s3,2024-01-05,5,5,5,5,",  # 4 only 4 answered -> not judged
        "s4,2024-01-05,1,1,1,1,1",  # 5 straight-liner
        "",
    ]
)


def test_straightliner_flagged_not_excluded(make_client, tmp_path):
    audit = load_audit(make_client(tmp_path, {"r.csv": STRAIGHT_CSV}, YAML))
    assert _log(audit) == {(2, "straightliner", "tp_*", False), (5, "straightliner", "tp_*", False)}
    assert audit.responses["_row"].tolist() == [2, 3, 4, 5]
    assert audit.responses.loc[0, ["tp_a", "tp_e"]].tolist() == [3.0, 3.0]  # values are kept
    assert audit.touchpoint_columns == ["tp_a", "tp_b", "tp_c", "tp_d", "tp_e"]


def test_straightliner_excluded_when_configured(make_client, tmp_path):
    quality = "{exclude: [missing_required, straightliner]}"
    audit = load_audit(make_client(tmp_path, {"r.csv": STRAIGHT_CSV}, _yaml(quality=quality)))
    assert _log(audit) == {(2, "straightliner", "tp_*", True), (5, "straightliner", "tp_*", True)}
    assert audit.responses["_row"].tolist() == [3, 4]


def test_straightliner_needs_min_items(make_client, tmp_path):
    # only 4 tp_ columns < straightliner_min_items = 5 -> nothing is judged
    csv = "response_id,date,tp_a,tp_b,tp_c,tp_d\n1,2024-01-05,3,3,3,3\n"
    audit = load_audit(make_client(tmp_path, {"r.csv": csv}, YAML))
    assert audit.log.empty


def test_touchpoint_rating_out_of_range(make_client, tmp_path):
    # touchpoint scale 1-5: a 6 on line 3 is out_of_range; 4.5 on line 4 is not an integer point
    csv = "response_id,date,tp_web\n1,2024-01-05,5\n2,2024-01-05,6\n3,2024-01-05,4.5\n"
    audit = load_audit(make_client(tmp_path, {"r.csv": csv}, YAML))
    assert _log(audit) == {(3, "out_of_range", "tp_web", True), (4, "out_of_range", "tp_web", True)}


# --- row numbers in awkward files ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("csv", "bad_line"),
    [
        # a blank line 3: the out-of-range row is line 4
        ("response_id,date,nps\n1,2024-01-05,9\n\n2,2024-01-06,11\n", 4),
        # a comment spanning lines 2-3: the out-of-range row starts on line 4
        ('response_id,date,nps,comment\n1,2024-01-05,9,"two\nlines"\n2,2024-01-06,11,ok\n', 4),
    ],
    ids=["blank-line", "multiline-field"],
)
def test_row_is_line_number_in_awkward_csv(make_client, tmp_path, csv, bad_line):
    audit = load_audit(make_client(tmp_path, {"r.csv": csv}, YAML))
    assert audit.excluded()["row"].tolist() == [bad_line]


def test_header_row_option(make_client, tmp_path):
    # a title line, then the header on line 2; data from line 3; the out-of-range row is line 4
    csv = "Survey export 2024\nresponse_id,date,nps\n1,2024-01-05,9\n2,2024-01-06,12\n"
    audit = load_audit(make_client(tmp_path, {"r.csv": csv}, _yaml(responses="{file: r.csv, header_row: 2}")))
    assert audit.excluded()["row"].tolist() == [4]
    assert audit.responses["_row"].tolist() == [3]


# --- formats and read-only inputs ----------------------------------------------------------------


def test_inputs_byte_identical_after_loading(make_client, tmp_path):
    # a BOM, CRLF line ends and a decimal comma: exactly the kind of file a loader might "fix"
    csv = "\ufeffresponse_id;date;nps;duration_s\r\n1;2024-01-05;9;12,5\r\n2;2024-01-06;3;20\r\n"
    folder = make_client(tmp_path, {"r.csv": csv}, YAML)
    paths = [folder / "r.csv", folder / "audit.yaml"]
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}
    mtimes = {p.name: p.stat().st_mtime_ns for p in paths}
    audit = load_audit(folder)
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}
    assert after == before
    assert {p.name: p.stat().st_mtime_ns for p in paths} == mtimes
    assert audit.input_hashes() == {"audit.yaml": before["audit.yaml"], "responses": before["r.csv"]}
    assert sorted(p.name for p in folder.iterdir()) == ["audit.yaml", "r.csv"]  # nothing written beside them


def test_semicolon_csv_with_decimal_comma(make_client, tmp_path):
    csv = "response_id;date;nps;duration_s;weight\na;2024-01-05;9;12,5;1,5\nb;2024-01-06;6;20;0,5\n"
    audit = load_audit(make_client(tmp_path, {"r.csv": csv}, YAML))
    r = audit.responses
    assert r["response_id"].tolist() == ["a", "b"]
    assert r["nps"].tolist() == [9.0, 6.0]
    assert r["duration_s"].tolist() == [12.5, 20.0]
    assert r["weight"].tolist() == [1.5, 0.5]
    assert audit.log.empty


def test_explicit_delimiter_and_tsv(make_client, tmp_path):
    csv = "response_id|date|nps\n1|2024-01-05|9\n"
    audit = load_audit(make_client(tmp_path, {"r.csv": csv}, _yaml(responses="{file: r.csv, delimiter: '|'}")))
    assert audit.responses["nps"].tolist() == [9.0]
    tsv = "response_id\tdate\tnps\n1\t2024-01-05\t10\n"
    audit = load_audit(make_client(tmp_path, {"r.tsv": tsv}, _yaml(responses="{file: r.tsv}")))
    assert audit.responses["nps"].tolist() == [10.0]


def test_parquet_input(make_client, tmp_path):
    folder = make_client(tmp_path, {}, _yaml(responses="{file: r.parquet}"))
    pd.DataFrame(
        {
            "response_id": [1, 2, 3],
            "date": pd.to_datetime(["2024-01-05", "2024-01-06", "2024-01-07"]),
            "nps": [9, 12, 0],
        }
    ).to_parquet(folder / "r.parquet")
    audit = load_audit(folder)
    r = audit.responses
    assert r["response_id"].tolist() == ["1", "3"]
    assert r["nps"].tolist() == [9.0, 0.0]
    assert r["date"].tolist() == [pd.Timestamp("2024-01-05"), pd.Timestamp("2024-01-07")]
    # a Parquet file has no header line: rows are numbered 1, 2, 3 -> the nps 12 is row 2
    assert _log(audit) == {(2, "out_of_range", "nps", True)}
    assert audit.intake().iloc[0][["rows_in", "kept", "excluded"]].tolist() == [3, 2, 1]


def test_xlsx_input(make_client, tmp_path):
    folder = make_client(tmp_path, {}, _yaml(responses="{file: r.xlsx, sheet: Survey}"))
    pd.DataFrame(
        {
            "response_id": ["a", "b", "c"],
            "date": pd.to_datetime(["2024-01-05", "2024-01-06", "2024-01-07"]),
            "nps": [10, 7, 11],
            "duration_s": [30.5, 40.0, 35.0],
        }
    ).to_excel(folder / "r.xlsx", sheet_name="Survey", index=False)
    audit = load_audit(folder)
    r = audit.responses
    assert r["response_id"].tolist() == ["a", "b"]
    assert r["nps"].tolist() == [10.0, 7.0]
    assert r["duration_s"].tolist() == [30.5, 40.0]
    assert r["date"].tolist() == [pd.Timestamp("2024-01-05"), pd.Timestamp("2024-01-06")]
    # Excel row numbers: header in row 1, "c" (nps 11) in row 4
    assert _log(audit) == {(4, "out_of_range", "nps", True)}


def test_xlsx_missing_sheet(make_client, tmp_path):
    folder = make_client(tmp_path, {}, _yaml(responses="{file: r.xlsx, sheet: Nope}"))
    pd.DataFrame({"response_id": ["a"], "date": ["2024-01-05"]}).to_excel(folder / "r.xlsx", index=False)
    with pytest.raises(DataError, match="Nope") as info:
        load_audit(folder)
    assert str(folder / "r.xlsx") in str(info.value)


def test_duplicate_column_names_rejected(make_client, tmp_path):
    csv = "response_id,date,nps,nps\n1,2024-01-05,9,3\n"
    folder = make_client(tmp_path, {"r.csv": csv}, YAML)
    with pytest.raises(DataError, match=r"duplicate column name\(s\) \['nps'\]"):
        load_audit(folder)
