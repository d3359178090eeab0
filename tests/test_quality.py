"""Data-quality checks and summaries (cxaudit.quality): hand-computed cases, and the quality problems
planted in the demo client (cxaudit.demo.PLANTED["quality"]) recovered by the checks."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cxaudit import load_audit
from cxaudit.cli import main
from cxaudit.demo import PLANTED, generate_demo
from cxaudit.quality import (
    affected_rows,
    base_sizes,
    check_summary,
    completeness,
    duplicate_respondent_mask,
    exclusion_summary,
    gibberish_mask,
    inconsistent_dates,
    quality_findings,
    scorecard,
    scorecard_text,
    short_answer_mask,
    speeder_mask,
    straightliner_mask,
)

Z = 1.959963984540054


@pytest.fixture(scope="module")
def demo_small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_demo(tmp_path_factory.mktemp("demo") / "demo", size="small", lang="ru", seed=7)


def test_planted_problems_recovered(demo_small: Path) -> None:
    want = PLANTED["quality"]["counts"]["small"]
    audit = load_audit(demo_small)
    ex = audit.excluded()
    ex = ex[ex["table"] == "responses"]
    by_rule = ex.groupby("rule").size().to_dict()
    # disjoint planted rows, so each excluded row has exactly its planted reason
    assert by_rule == {"speeder": want["speeder"], "duplicate_id": want["duplicate_id"],
                       "out_of_range": want["out_of_range"], "invalid_date": want["invalid_date"]}
    flagged = affected_rows(audit, "straightliner", "responses")
    assert len(flagged) == want["straightliner"] and not flagged["excluded"].any()
    # no false alarms from the new checks on clean synthetic data (Russian comments included)
    assert set(audit.log["rule"]) == {"speeder", "duplicate_id", "out_of_range", "invalid_date", "straightliner"}
    intake = audit.intake().set_index("table")
    assert intake.loc["responses", "rows_in"] == 600
    assert intake.loc["responses", "kept"] == 600 - sum(by_rule.values())


def test_speeder_and_straightliner_masks() -> None:
    # median of 100, 100, 100, 40, 60 = 100; half = 50 -> only the 40
    assert speeder_mask(pd.Series([100.0, 100, 100, 40, 60]), 0.5).tolist() == [False, False, False, True, False]
    assert not speeder_mask(pd.Series([None, None], dtype=float), 0.5).any()
    grid = pd.DataFrame({"a": [3, 3, 5, 1], "b": [3, 4, 5, 2], "c": [3, 3, None, 1], "d": [3, 3, 5, 2]})
    assert straightliner_mask(grid, 3).tolist() == [True, False, True, False]
    # sd of (3, 4, 3, 3) = sqrt(3/16) = 0.433 <= 0.5; sd of (1, 2, 1, 2) = 0.5 <= 0.5
    assert straightliner_mask(grid, 4, 0.5).tolist() == [True, True, False, True]


def test_duplicate_respondent() -> None:
    f = pd.DataFrame({"customer_id": ["c1", "c1", "c2", "c1", None, None],
                      "nps": [9, 9, 9, 9, 5, 5], "csat": [5, 5, 5, 4, 3, 3], "ces": [7, 7, 7, 7, 2, 2]})
    assert duplicate_respondent_mask(f, ["nps", "csat", "ces"]).tolist() == [False, True, False, False, False, False]
    # too few answers to call it a duplicate
    assert not duplicate_respondent_mask(f, ["nps", "csat"], min_answers=3).any()


def test_short_and_gibberish_answers() -> None:
    s = pd.Series(["-", "ok", "Good", "asdfgh", "ффффф", "qwerty!", "xkcdqwrt", "!!!???", "1111", "10/10",
                   "Доставка опоздала на два дня", "Zażółć gęślą jaźń", "Bardzo szybko, dziękuję", None, ""])
    # "-", "ok" and "!!!???" have fewer than 3 letters or digits
    assert short_answer_mask(s, 3).tolist() == [True, True] + [False] * 5 + [True] + [False] * 7
    # "1111" and "10/10" are numbers (an order number, a rating), not keyboard mashing
    assert gibberish_mask(s).tolist() == [False, False, False, True, True, True, True, True, False, False,
                                          False, False, False, False, False]


def test_inconsistent_dates() -> None:
    t = pd.DataFrame({"created_at": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:00", "2024-01-01 10:00"]),
                      "first_response_at": pd.to_datetime(["2024-01-01 09:00", "2024-01-01 10:05", None]),
                      "resolved_at": pd.to_datetime(["2024-01-01 11:00", "2024-01-01 10:01", "2030-01-01"],
                                                     format="ISO8601")})
    checks = inconsistent_dates("tickets", t, ("created_at", "first_response_at", "resolved_at"), dt.date(2026, 1, 1))
    got = [(c.column, c.mask.tolist(), c.values[c.mask].tolist()) for c in checks]
    assert got == [
        ("resolved_at", [False, False, True], ["2030-01-01 > 2026-01-01"]),
        ("first_response_at", [True, False, False], ["first_response_at 2024-01-01 09:00 < created_at 2024-01-01 10:00"]),
        ("resolved_at", [False, True, False], ["resolved_at 2024-01-01 10:01 < first_response_at 2024-01-01 10:05"]),
    ]


def _client(tmp_path: Path, csv_text: str, quality: str = "") -> Path:
    folder = tmp_path / "c"
    folder.mkdir(exist_ok=True)
    (folder / "r.csv").write_text(csv_text, encoding="utf-8")
    (folder / "audit.yaml").write_text(
        "client: {name: Acme, language: ru}\nmin_base: 3\nsegments: [segment]\n"
        + (f"quality: {quality}\n" if quality else "") + "inputs:\n  responses: {file: r.csv}\n", encoding="utf-8")
    return folder


CSV = "\n".join([
    "response_id,customer_id,date,nps,csat,ces,comment,segment",  # 1
    "r1,c1,2024-03-01,9,5,6,Отличный сервис,A",  # 2
    "r2,c1,2024-03-05,9,5,6,Отличный сервис,A",  # 3 duplicate_respondent of line 2 (same customer, same answers)
    "r3,c2,2024-03-02,3,2,2,asdfgh,B",  # 4 gibberish
    "r4,c3,2099-01-01,7,4,5,ok,A",  # 5 future_date, short_answer
    "r5,c4,2024-03-03,10,5,7,,A",  # 6
    "",
])


def test_inconsistent_date_values_are_language_neutral_in_a_ru_report(tmp_path: Path) -> None:
    # row 5: after quality.as_of; row 6: before 1900. The logged value holds no English words; the
    # ru report's example column shows it next to the localised reason, which says what is wrong.
    csv = CSV.replace("r5,c4,2024-03-03", "r5,c4,1899-12-31")
    audit = load_audit(_client(tmp_path, csv, "{as_of: 2025-06-30, exclude: [missing_required, inconsistent_date, "
                                              "future_date]}"))
    log = audit.log[audit.log["rule"].isin(["inconsistent_date", "future_date"])].set_index("row")["value"]
    assert log.to_dict() == {5: "2099-01-01 > 2025-06-30", 6: "1899-12-31 < 1900-01-01"}
    summary = exclusion_summary(audit, "ru").set_index("rule")
    row = summary.loc["future_date"]
    assert row["rows"] == 1
    assert row["example"] == "r.csv, строка 5: date = 2099-01-01 > 2025-06-30"
    assert row["reason"] == "дата в будущем (позже даты аудита)"
    old = summary.loc["inconsistent_date"]
    assert old["rows"] == 1 and old["reason"] == "невозможная дата (раньше 1900 года или в неверном порядке)"
    for text in (row["example"], row["reason"], old["example"], old["reason"]):
        assert "after" not in text and "before" not in text


def test_checks_logged_and_consultant_chooses_exclusions(tmp_path: Path) -> None:
    audit = load_audit(_client(tmp_path, CSV, "{exclude: [missing_required]}"))  # flag only
    got = {(int(r.row), r.rule, bool(r.excluded)) for r in audit.log.itertuples()}
    assert got == {(3, "duplicate_respondent", False), (4, "gibberish", False),
                   (5, "future_date", False), (5, "short_answer", False)}
    summary = check_summary(audit, "en").set_index("rule")
    assert summary.loc["short_answer", "rows"] == 1 and summary.loc["short_answer", "rows_list"] == "5"
    assert summary.loc["gibberish", "share"] == pytest.approx(1 / 5)
    assert not summary["excluded"].any()
    # the consultant excludes gibberish and future dates
    audit = load_audit(_client(tmp_path, CSV, "{exclude: [missing_required, gibberish, future_date]}"))
    assert audit.responses["_row"].tolist() == [2, 3, 6]
    assert audit.intake().iloc[0][["rows_in", "kept", "excluded"]].tolist() == [5, 3, 2]
    assert set(check_summary(audit, "en").query("excluded")["rule"]) == {"gibberish", "future_date"}


def test_completeness_wilson_and_bases(tmp_path: Path) -> None:
    audit = load_audit(_client(tmp_path, CSV, "{exclude: [missing_required]}"))  # the future row kept
    comp = completeness(audit, "en").set_index("column")
    # comment answered on 4 of 5 kept rows: Wilson centre (0.8 + z²/10)/(1 + z²/5), half-width as in the docstring
    k, n = 4, 5
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    assert comp.loc["comment", ["answered", "n"]].tolist() == [4, 5]
    assert comp.loc["comment", "ci_low"] == pytest.approx(centre - half, abs=1e-12)
    assert comp.loc["comment", "ci_high"] == pytest.approx(centre + half, abs=1e-12)
    bases = base_sizes(audit)
    assert bases.values.tolist() == [["segment", "A", 4, False, False], ["segment", "B", 1, True, False]]


def test_scorecard_and_findings(tmp_path: Path) -> None:
    audit = load_audit(_client(tmp_path, CSV, "{exclude: [missing_required]}"))  # the future row kept
    (s,) = scorecard(audit, "ru")
    assert (s.rows_in, s.kept, s.excluded, s.file) == (5, 5, 0, "r.csv")
    assert s.source == "CSV, UTF-8, «,»"
    text = scorecard_text(audit, "ru")
    assert "строк получено 5, использовано 5, исключено 0 (0,0\u00a0%)" in text
    assert "отмечено, оставлено: открытый ответ похож на случайный набор букв — 1" in text
    assert "Группы сегментов с базой меньше минимальной (3): segment = B (n = 1)" in text
    ids = {f.id: f for f in quality_findings(audit, "ru")}
    # flagged kept rows among duplicate_respondent / gibberish / ...: lines 3 and 4 -> 2 of 5
    assert ids["data_quality.responses.flagged"].value == pytest.approx(40.0)
    assert ids["data_quality.responses.flagged"].n == 5


def test_validate_prints_the_scorecard(demo_small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True)
    import shutil

    shutil.copytree(demo_small, home / "data" / "acme")
    monkeypatch.setenv("CXAUDIT_HOME", str(home))
    res = CliRunner().invoke(main, ["validate", "acme"])
    assert res.exit_code == 0, res.output
    want = PLANTED["quality"]["counts"]["small"]
    excluded = want["speeder"] + want["duplicate_id"] + want["out_of_range"] + want["invalid_date"]
    assert f"строк получено 600, использовано {600 - excluded}, исключено {excluded}" in res.output
    assert f"исключено: анкета заполнена слишком быстро — {want['speeder']}" in res.output
    res = CliRunner().invoke(main, ["validate", "acme", "--lang", "pl"])
    assert f"wierszy otrzymanych 600, użytych {600 - excluded}" in res.output


def test_exclusion_examples_are_redacted(make_client, tmp_path):
    """A flagged open answer quoted as an example in the report has its personal data removed."""
    from cxaudit import load_audit
    from cxaudit.quality import flag_summary

    folder = make_client(tmp_path, {"r.csv": "response_id,date,nps,comment\nR1,2025-01-01,3,x@y.pl\n"
                                             "R2,2025-01-02,9,ok\nR3,2025-01-03,5,fine thanks\n"},
                         "client: {name: A}\nquality: {min_answer_chars: 10}\n"
                         "inputs: {responses: {file: r.csv}}\n")
    summary = flag_summary(load_audit(folder), "en")
    examples = " ".join(summary["example"])
    assert "x@y.pl" not in examples
    assert "row 2: comment = [" in examples  # the first flagged row is quoted, its e-mail replaced
