"""The bad-input corpus (tests/data/bad/, written by make_bad.py): never a traceback, never a silent loss.

Each file is given to ``cxaudit validate`` as a client's ``responses`` input. It must either stop with
one line, ``cxaudit: error: <file>...``, naming the column and row where one applies and what was
expected (exit code 3), or load with every data row accounted for: rows in = kept + excluded, and
exactly the problem rows listed below logged. Expected rows are line numbers counted by hand in the
files (make_bad.py shows their lines).
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cxaudit import load_audit
from cxaudit.cli import main
from cxaudit.errors import DataError

BAD = Path(__file__).parent / "data" / "bad"

# file -> (extra keys for inputs.responses, expectation)
#   ("error", regex, column or None, row or None)
#   ("ok", rows_in, kept, {(row, rule, column, excluded), ...})
CASES: dict[str, tuple[str, tuple]] = {
    "empty.csv": ("", ("error", r"file is empty; expected a header row", None, None)),
    "only_blank_lines.csv": ("", ("error", r"no columns found; expected a header row", None, None)),
    "header_only.csv": ("", ("error", r"header only: no data rows .*expected at least one row", None, 1)),
    "missing_required_column.csv": ("", ("error", r"required column 'date' missing; map it", "date", None)),
    "duplicate_columns.csv": ("", ("error", r"duplicate column name\(s\) \['nps'\]; expected every column", "nps", 1)),
    "unclosed_quote.csv": ("", ("error", r"quoted value opened here is never closed; expected a closing", "comment", 3)),
    "mixed_encoding.csv": ("", ("error", r"mixes encodings: .*expected one encoding throughout", None, 4)),
    "declared_wrong_encoding.csv": (", encoding: utf-8",
                                    ("error", r"cannot be decoded as utf-8 .*expected utf-8 text but it looks like "
                                              r"Windows-1251", None, 2)),
    "zip_renamed.csv": ("", ("error", r"a ZIP archive \(containing responses\.csv\), not a \.csv file", None, None)),
    "gzip_renamed.csv": ("", ("error", r"gzip-compressed file, not a \.csv file; decompress it", None, None)),
    "html_saved.csv": ("", ("error", r"an HTML/XML page, not a \.csv file .*expected a CSV", None, None)),
    "binary_garbage.csv": ("", ("error", r"a binary file \(NUL bytes\), not a \.csv file; expected", None, None)),
    "old_excel.xls": ("", ("error", r"an old Excel \.xls .*save it as \.xlsx or CSV", None, None)),
    "truncated_workbook.xlsx": ("", ("error", r"a damaged ZIP archive, not a \.xlsx file; expected", None, None)),
    "empty_sheet.xlsx": ("", ("error", r"sheet 'Sheet1' is empty; expected a header row", None, None)),
    "sav_corrupt.sav": ("", ("error", r"not a readable SPSS \.sav file .*expected a file saved by SPSS", None, None)),
    "unknown_type.json": ("", ("error", r"unknown file type '\.json'; expected one of", None, None)),
    "title_lines_above_header.csv": ("", ("error", r"required column 'response_id' missing.*appears in row 3",
                                          "response_id", None)),
    # --- files that load: every problem row is logged ------------------------------------------
    # a table that keeps no row stops the run (issue 13, item 7)
    "all_rows_bad.csv": ("", ("error", r"no row of the responses table was kept \(2 read, all excluded\)", None, None)),
    "blank_lines_inside.csv": ("", ("ok", 3, 3, {(7, "out_of_range", "nps", False)})),  # blank lines 4, 6, 5
    "bom_crlf_semicolon.csv": ("", ("ok", 2, 2, set())),
    "concatenated_exports.csv": ("", ("ok", 4, 3, {
        (4, "repeated_header", "response_id", True), (4, "invalid_date", "date", True),
        (4, "invalid_value", "nps", False), (4, "invalid_value", "csat", False),
        (4, "invalid_value", "duration_s", False)})),
    "cp1250.csv": ("", ("ok", 3, 3, set())),
    "cp1251.csv": ("", ("ok", 3, 3, {(4, "out_of_range", "nps", False)})),
    "duplicate_ids.csv": ("", ("ok", 3, 2, {(4, "duplicate_id", "response_id", True)})),
    "extra_fields.csv": ("", ("ok", 3, 2, {(3, "malformed_row", "#7", True), (3, "invalid_value", "duration_s", False)})),
    # a date after today is excluded by default (issue 15, item 9); one before 1900 is only flagged
    "future_dates.csv": ("", ("ok", 3, 2, {(3, "future_date", "date", True),
                                           (4, "inconsistent_date", "date", False)})),
    "gibberish_comments.csv": ("", ("ok", 5, 5, {(3, "gibberish", "comment", False), (4, "short_answer", "comment", False),
                                                 (5, "gibberish", "comment", False)})),
    "label_scales.csv": ("", ("ok", 5, 5, {(5, "invalid_value", "csat", False)})),  # "Mostly happy" on line 5
    "mac_cr_only.csv": ("", ("ok", 3, 3, {(4, "out_of_range", "nps", False)})),
    "merged_header.xlsx": (", columns: {nps: 'Scores | nps', csat: 'Scores | csat'}",
                           ("ok", 3, 3, {(4, "out_of_range", "nps", False)})),
    # 3 of 4 rows excluded: above quality.max_excluded_share (50%), the run stops (issue 13, item 7)
    "missing_required_values.csv": ("", ("error", r"3 of 4 rows \(75\.0%\) of the responses table were excluded",
                                         None, None)),
    "mixed_date_formats.csv": ("", ("ok", 6, 4, {(4, "mixed_date_format", "date", False),
                                                 (5, "mixed_date_format", "date", False),
                                                 (6, "invalid_date", "date", True), (7, "invalid_date", "date", True)})),
    "multiline_comments.csv": ("", ("ok", 2, 2, {(5, "out_of_range", "nps", False)})),  # record 2 spans lines 2-4
    # an off-scale rating makes that cell missing and is logged; the response stays (issue 13, item 5)
    "nps_out_of_range.csv": ("", ("ok", 5, 5, {(3, "out_of_range", "nps", False), (4, "out_of_range", "nps", False),
                                               (5, "out_of_range", "nps", False), (6, "out_of_range", "csat", False)})),
    "pipe_delimited.csv": ("", ("ok", 2, 2, set())),
    "qualtrics_extra_header.csv": (", columns: {nps: QID1}", ("ok", 3, 2, {
        (4, "repeated_header", "StartDate", True), (4, "invalid_date", "date", True), (4, "invalid_value", "nps", False)})),
    "sav_no_labels.sav": (", columns: {response_id: response}",
                          ("ok", 3, 2, {(2, "out_of_range", "nps", False), (3, "missing_required", "date", True)})),
    "speeders_straightliners.csv": ("", ("ok", 5, 4, {(3, "straightliner", "tp_*", False),
                                                      (4, "speeder", "duration_s", True),
                                                      (6, "straightliner", "tp_*", False)})),
    "stray_quote.csv": ("", ("ok", 2, 2, {(3, "out_of_range", "nps", False), (3, "short_answer", "comment", False)})),
    "tab_no_suffix.txt": ("", ("ok", 2, 2, set())),
    "text_in_numeric.csv": ("", ("ok", 3, 3, {(3, "invalid_value", "nps", False), (3, "invalid_value", "csat", False),
                                              (3, "invalid_value", "duration_s", False),
                                              (4, "invalid_value", "duration_s", False)})),
    "thousands_and_decimals.csv": ("", ("ok", 3, 3, {(4, "invalid_value", "duration_s", False)})),
    "trailing_delimiters.csv": ("", ("ok", 2, 2, set())),
    "truncated_rows.csv": ("", ("ok", 4, 4, {(3, "truncated_row", "comment", False),
                                             (5, "truncated_row", "duration_s", False)})),
    "utf16.csv": ("", ("ok", 2, 2, set())),
    "whitespace_header.csv": ("", ("ok", 2, 2, set())),
    "xlsx_renamed.csv": ("", ("ok", 2, 2, set())),
}


def test_corpus_is_complete() -> None:
    files = sorted(p.name for p in BAD.iterdir() if p.suffix != ".py")
    assert len(files) >= 30
    assert files == sorted(CASES), "every corpus file needs an expectation (and every expectation a file)"


def _home(tmp_path: Path, name: str, extra: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data" / "acme"
    folder.mkdir(parents=True)
    shutil.copy(BAD / name, folder / name)
    (folder / "audit.yaml").write_text(
        f"client: {{name: Acme}}\ninputs:\n  responses: {{file: '{name}'{extra}}}\n", encoding="utf-8")
    monkeypatch.setenv("CXAUDIT_HOME", str(tmp_path))
    return folder


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    extra, expect = CASES[name]
    folder = _home(tmp_path, name, extra, monkeypatch)
    res = CliRunner().invoke(main, ["validate", "acme"])
    assert "Traceback" not in res.output and res.exception is None or isinstance(res.exception, SystemExit), res.output
    if expect[0] == "error":
        _, pattern, column, row = expect
        assert res.exit_code == 3, res.output
        line = res.output.strip()
        assert "\n" not in line, line
        assert line.startswith(f"cxaudit: error: {folder / name}"), line
        assert re.search(pattern, line), line
        with pytest.raises(DataError) as info:
            load_audit(folder)
        assert (info.value.column, info.value.row) == (column, row)
        if column is not None:
            assert f"column '{column}'" in line
        if row is not None:
            assert f"row {row}" in line
        return
    _, rows_in, kept, logged = expect
    assert res.exit_code == 0, res.output
    audit = load_audit(folder)
    intake = audit.intake().iloc[0]
    assert (intake["rows_in"], intake["kept"]) == (rows_in, kept)
    assert intake["rows_in"] == intake["kept"] + intake["excluded"]
    got = {(int(r.row), r.rule, r.column, bool(r.excluded)) for r in audit.log.itertuples()}
    assert got == logged
    # every excluded row is in the log, and no kept row is
    excluded_rows = set(audit.excluded()["row"])
    assert len(excluded_rows) == intake["excluded"]
    assert not excluded_rows & set(audit.responses["_row"])
    # the CLI printed the scorecard with the same numbers
    assert f"rows received {rows_in}, used {kept}" in res.output


def test_five_megabyte_comment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 5 MB comment (generated here, not committed) is read whole, flagged, and logged clipped."""
    folder = tmp_path / "data" / "acme"
    folder.mkdir(parents=True)
    huge = ("Delivery was late again. " * 210_000)[:5_000_000]
    (folder / "r.csv").write_text(
        f'response_id,date,nps,comment\nr1,2024-03-01,9,"{huge}"\nr2,2024-03-02,6,Short and fine\n', encoding="utf-8")
    (folder / "audit.yaml").write_text("client: {name: Acme}\ninputs:\n  responses: {file: r.csv}\n")
    monkeypatch.setenv("CXAUDIT_HOME", str(tmp_path))
    t0 = time.perf_counter()
    res = CliRunner().invoke(main, ["validate", "acme"])
    assert res.exit_code == 0, res.output
    assert time.perf_counter() - t0 < 10
    audit = load_audit(folder)
    assert len(audit.responses["comment"].iloc[0]) == 5_000_000  # nothing cut from the data
    log = audit.log
    assert log[["row", "rule", "column"]].values.tolist() == [[2, "oversized_value", "comment"]]
    assert log["value"].iloc[0] == "length 5000000"
    assert len(res.output) < 5_000  # the scorecard does not print the comment
