"""Issue 12 / 14 for the data-quality section: the analysis (:func:`cxaudit.quality.analyse`, no language)
apart from the display blocks (:mod:`cxaudit.quality_view`), checks that found nothing in one line.

Small planted clients, loaded with :func:`cxaudit.load_audit` (no notebook, no demo run)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from cxaudit import load_audit, quality, quality_view, show
from cxaudit.checks import applicable_rules, row_checks
from cxaudit.i18n import t
from cxaudit.schema import TABLES

NOTEBOOKS = Path(__file__).resolve().parents[1] / "cxaudit" / "notebooks"

PLANTED = "\n".join([
    "response_id,customer_id,date,nps,csat,ces,comment,segment",  # line 1
    "r1,c1,2024-03-01,9,5,6,Отличный сервис,A",  # 2
    "r2,c1,2024-03-05,9,5,6,Отличный сервис,A",  # 3 duplicate_respondent of line 2
    "r3,c2,2024-03-02,3,2,2,asdfgh,B",  # 4 gibberish
    "r4,c3,2099-01-01,7,4,5,ok,A",  # 5 future_date, short_answer
    "r5,c4,2024-03-03,10,5,7,,A",  # 6
    "",
])
CLEAN = "\n".join([
    "response_id,customer_id,date,nps,csat,ces,comment,segment",
    "r1,c1,2024-03-01,9,5,6,Отличный сервис и быстрая доставка,A",
    "r2,c2,2024-03-05,8,4,5,Курьер приехал вовремя,A",
    "r3,c3,2024-03-02,3,2,2,Долго ждал ответа поддержки,B",
    "r4,c4,2024-03-04,7,4,5,,A",
    "",
])


def _client(tmp_path: Path, csv_text: str, quality_yaml: str = "{exclude: [missing_required]}") -> Path:
    folder = tmp_path / "c"
    folder.mkdir(exist_ok=True)
    (folder / "r.csv").write_text(csv_text, encoding="utf-8")
    (folder / "audit.yaml").write_text(
        "client: {name: Acme, language: en}\nmin_base: 3\nsegments: [segment]\n"
        f"quality: {quality_yaml}\ninputs:\n  responses: {{file: r.csv}}\n", encoding="utf-8")
    return folder


def _html(blocks: list) -> str:
    return "".join(getattr(b, "data", "") or "" for b in blocks)


def _logic_lines(nb: Path) -> int:
    sys.path.insert(0, str(Path(__file__).parent))
    from test_journey_voc_view import _logic_lines as count

    return count(nb)


def test_notebook_01_keeps_only_calls() -> None:
    # before (HEAD 6a2e6a2): 74 logic lines outside the parameters and analyst cells (78 with the analyst cell)
    assert _logic_lines(NOTEBOOKS / "01_data_quality.ipynb") <= 20


def test_analyse_recovers_the_planted_rows(tmp_path: Path) -> None:
    res = quality.analyse(load_audit(_client(tmp_path, PLANTED)))  # every check flags only
    assert res.inputs[["table", "file", "rows_in", "kept", "excluded"]].values.tolist() == [["responses", "r.csv", 5, 5, 0]]
    assert res.exclusions.empty
    # the planted lines, by hand: duplicate_respondent 3, gibberish 4, future_date 5, short_answer 5
    assert res.checks[["rule", "rows", "rows_list", "excluded"]].values.tolist() == [
        ["future_date", 1, "5", False], ["duplicate_respondent", 1, "3", False],
        ["gibberish", 1, "4", False], ["short_answer", 1, "5", False]]
    assert res.checks["share"].tolist() == pytest.approx([0.2] * 4)
    assert res.flags[["rule", "rows", "row", "column"]].values.tolist() == [
        ["future_date", 1, 5, "date"], ["duplicate_respondent", 1, 3, "customer_id"],
        ["gibberish", 1, 4, "comment"], ["short_answer", 1, 5, "comment"]]
    # no speed, rating grid or 'finished' column: of the checks that ran, only the date-order one found nothing
    assert res.clean == ["inconsistent_date"]
    comp = res.completeness.set_index("column")
    assert comp.loc["comment", ["answered", "n"]].tolist() == [4, 5] and "label" not in res.completeness
    assert res.bases[["segment", "key", "n", "small_base", "not_stated"]].values.tolist() == [
        ["segment", "A", 4, False, False], ["segment", "B", 1, True, False]]


def test_exclusions_are_kept_apart_from_flags(tmp_path: Path) -> None:
    res = quality.analyse(load_audit(_client(tmp_path, PLANTED, "{exclude: [missing_required, gibberish, future_date]}")))
    assert res.inputs[["rows_in", "kept", "excluded"]].values.tolist() == [[5, 3, 2]]
    assert res.exclusions[["rule", "rows", "row"]].values.tolist() == [["future_date", 1, 5], ["gibberish", 1, 4]]
    # line 5's short answer is not repeated as a flag: the row is already excluded for its date
    assert res.flags[["rule", "rows", "row"]].values.tolist() == [["duplicate_respondent", 1, 3]]
    html = _html(quality_view.blocks_exclusions(res, "en"))
    assert html.count("<table") == 1 and "r.csv, row 5: date = 2099-01-01" in html


def test_labelled_summaries_are_the_analysis_in_words(tmp_path: Path) -> None:
    """The lang-taking functions the CLI and the report use give what the blocks show."""
    audit = load_audit(_client(tmp_path, PLANTED))
    res = quality.analyse(audit)
    pd.testing.assert_frame_equal(quality.label_by_rule(res.flags, "ru"), quality.flag_summary(audit, "ru"))
    summary = quality.check_summary(audit, "pl")
    assert summary["rows"].tolist() == res.checks["rows"].tolist()
    assert summary["reason"].tolist() == [t(f"rule.{r}", "pl") for r in res.checks["rule"]]
    assert quality.base_sizes(audit, "en")["group"].tolist() == ["A", "B"]


@pytest.mark.parametrize("lang", ["en", "ru", "pl"])
def test_checks_that_found_nothing_are_one_line(tmp_path: Path, lang: str) -> None:
    res = quality.analyse(load_audit(_client(tmp_path, CLEAN)))
    assert res.checks.empty and res.flags.empty and res.exclusions.empty
    assert res.clean == ["future_date", "duplicate_respondent", "inconsistent_date", "gibberish", "short_answer"]
    html = _html(quality_view.blocks_checks(res, lang))
    assert "<table" not in html
    names = "; ".join(t(f"rule.{r}", lang) for r in res.clean)
    assert show.escape(t("quality.checks_clean", lang, checks=names)) in html
    # rows in = kept + excluded stays visible for every input
    card = _html(quality_view.blocks_scorecard(res, lang))
    assert card.count("<table") == 1 and ">r.csv<" in card
    assert all(show.escape(t(k, lang)) in card for k in ("quality.col_rows_in", "quality.col_kept", "quality.col_excluded"))


def test_a_planted_flagged_row_shows_the_checks_table(tmp_path: Path) -> None:
    res = quality.analyse(load_audit(_client(tmp_path, PLANTED)))
    html = _html(quality_view.blocks_checks(res, "en"))
    assert html.count("<table") == 1 and html.count("<tr>") == 1 + 4  # header + the four planted checks
    assert t("rule.gibberish", "en") in html
    # the one check that ran and found nothing, after the table
    assert html.index("</table>") < html.index(show.escape(t("quality.checks_clean", "en",
                                                              checks=t("rule.inconsistent_date", "en"))))


def test_clean_checks_go_to_the_spreadsheet(tmp_path: Path) -> None:
    res = quality.analyse(load_audit(_client(tmp_path, CLEAN)))
    show.record_tables(tmp_path / "tables")
    try:
        quality_view.blocks_checks(res, "en")
    finally:
        show.record_tables(None)
    sheet = pd.read_parquet(tmp_path / "tables" / "001.parquet")
    assert sheet.values.tolist() == [[t(f"rule.{r}", "en"), 0.0] for r in res.clean]
    title = json.loads((tmp_path / "tables" / "001.json").read_text(encoding="utf-8"))["title"]
    assert title == t("quality.checks_clean_caption", "en")


def test_applicable_rules_cover_every_rule_that_fires(tmp_path: Path) -> None:
    """applicable_rules mirrors row_checks: a rule that flags a row is always among those said to run."""
    audit = load_audit(_client(tmp_path, PLANTED))
    frame = audit.tables["responses"].assign(duration_s=[300.0, 20.0, 310.0, 290.0, 305.0], finished=False)
    for i in range(5):
        frame[f"tp_{i}"] = 3.0
    fired = {c.rule for c in row_checks("responses", frame, audit.config, spec=TABLES["responses"])}
    ran = set(applicable_rules("responses", frame, audit.config, spec=TABLES["responses"]))
    assert {"speeder", "straightliner", "unfinished", "gibberish"} <= fired
    assert fired - {"oversized_value"} <= ran


def test_the_bases_and_completeness_blocks(tmp_path: Path) -> None:
    res = quality.analyse(load_audit(_client(tmp_path, PLANTED)))
    html = _html(quality_view.blocks_bases(res, "en"))
    assert 'class="cx-small-base"' in html and t("quality.flag_small", "en") in html
    assert show.escape(t("report.small_base", "en", min=3)) in html
    comp = _html(quality_view.blocks_completeness(res, "en"))
    assert "80%" in comp and t("column.comment", "en") in comp
    assert [f.id for f in quality_view.findings(res, "en")] == ["data_quality.responses.excluded",
                                                               "data_quality.responses.flagged"]


def test_a_client_without_a_survey(make_client, tmp_path: Path) -> None:
    """No survey (issue 13): the section still accounts for every row and names the checks that ran."""
    folder = make_client(tmp_path, {
        "c.csv": "customer_id,churned,start_date,churn_date,segment\nc1,0,2023-01-01,,A\nc2,1,2023-02-01,2023-01-15,B\n"
                 "c3,0,2023-03-01,,A\n",
        "t.csv": "ticket_id,channel,created_at,resolved_at\nt1,phone,2024-01-02 10:00,2024-01-02 12:00\n"
                 "t2,chat,2024-01-03 09:00,2024-01-03 09:30\n",
    }, "client: {name: A}\nsegments: [segment]\nquality: {exclude: [missing_required]}\n"
       "inputs: {customers: {file: c.csv}, tickets: {file: t.csv}}\n")
    res = quality.analyse(load_audit(folder))
    assert res.inputs[["table", "rows_in", "kept", "excluded"]].values.tolist() == [
        ["customers", 3, 3, 0], ["tickets", 2, 2, 0]]
    # line 3: churned before it started (flagged, kept); the tickets' dates are in order
    assert res.checks[["table", "rule", "rows_list"]].values.tolist() == [["customers", "inconsistent_date", "3"]]
    assert res.clean == ["future_date"]  # no survey: no speeder, straight-liner or double-submission check ran
    assert res.bases["n"].sum() == 3 and set(res.completeness["column"]) >= {"customer_id", "churned"}
    html = "".join(_html(f(res, "ru")) for f in (quality_view.blocks_scorecard, quality_view.blocks_checks,
                                                 quality_view.blocks_completeness, quality_view.blocks_bases))
    assert html.count("<table") == 4  # scorecard, checks, completeness, bases (no conversions while reading)
    assert quality_view.findings(res, "en") == []
