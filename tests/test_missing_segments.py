"""No respondent or customer is lost from a per-segment table: those with no value in the segment
column (an empty or blank cell) are their own group, "Not stated" in the report language, shown with
its n and interval but not tested (no significance letter, no test against the rest).

The small client below has 25 responses and 25 customers; 5 of each have no segment:

==============  ===========================================  ============================
group           NPS answers                                  customers: churned / n
==============  ===========================================  ============================
A               0 1 2 3 4 5 6 0 1 2 (10 detractors): −100   3 / 10
B               9 10 9 10 9 7 8 7 8 8 (5 P, 5 passive): +50 1 / 10
not stated      10 9 9 7 3 (3 P, 1 passive, 1 D): +40       4 / 5
==============  ===========================================  ============================
"""

from __future__ import annotations

import pandas as pd
import pytest
from scipy import stats

from cxaudit import churn, churn_view, load_audit, scorecard, show
from cxaudit.audit import Audit
from cxaudit.i18n import t
from cxaudit.quality import base_sizes
from cxaudit.stats import NOT_STATED, not_stated_note, segment_keys

A_NPS = [0, 1, 2, 3, 4, 5, 6, 0, 1, 2]
B_NPS = [9, 10, 9, 10, 9, 7, 8, 7, 8, 8]
NS_NPS = [10, 9, 9, 7, 3]
NS_CELLS = ["", "", " ", "", ""]  # empty cells and one blank one
SEGMENTS = ["A"] * 10 + ["B"] * 10 + NS_CELLS
CHURNED = [1, 1, 1] + [0] * 7 + [1] + [0] * 9 + [1, 1, 1, 1, 0]
REASONS = (["price", "price", "service"] + [""] * 7 + ["price"] + [""] * 9
           + ["other", "other", "price", "service", ""])


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> Audit:
    folder = tmp_path_factory.mktemp("missing-segments")
    nps = A_NPS + B_NPS + NS_NPS
    responses = ["response_id,customer_id,date,nps,csat,segment"] + [
        f"r{i:02d},c{i:02d},2025-03-{i:02d},{score},{5 if score >= 9 else 2},{seg}"
        for i, (score, seg) in enumerate(zip(nps, SEGMENTS, strict=True), start=1)
    ]
    customers = ["customer_id,segment,start_date,revenue,churned,churn_date,churn_reason"] + [
        f"c{i:02d},{seg},2024-01-01,100,{ch},{'2025-03-20' if ch else ''},{reason}"
        for i, (seg, ch, reason) in enumerate(zip(SEGMENTS, CHURNED, REASONS, strict=True), start=1)
    ]
    (folder / "responses.csv").write_text("\n".join(responses) + "\n", encoding="utf-8")
    (folder / "customers.csv").write_text("\n".join(customers) + "\n", encoding="utf-8")
    (folder / "audit.yaml").write_text(
        "client: {name: Acme, language: ru}\nmin_base: 3\nsegments: [segment]\n"
        "inputs:\n  responses: {file: responses.csv}\n  customers: {file: customers.csv}\n", encoding="utf-8")
    return load_audit(folder)


def test_segment_keys_blank_and_missing_cells() -> None:
    keys = segment_keys(pd.Series(["A", None, " ", "", "B"], dtype="str"))
    assert keys.tolist() == ["A", NOT_STATED, NOT_STATED, NOT_STATED, "B"]


def test_metric_by_segment_has_the_not_stated_group(audit: Audit) -> None:
    assert audit.responses["segment"].isna().sum() == 4  # the blank cell is kept as " "
    tab = scorecard.by_segment(audit, "nps", "segment", "en")
    assert tab["segment"].tolist() == ["B", "A", "Not stated"]  # by value, the not-stated row last
    assert tab["not_stated"].tolist() == [False, False, True]
    ns = tab.iloc[-1]
    assert ns["n"] == 5
    assert ns["value"] == pytest.approx(40.0)  # 100 × (3 − 1) / 5
    assert (ns["promoters"], ns["detractors"]) == (pytest.approx(0.6), pytest.approx(0.2))
    assert tab.set_index("segment")["value"].to_dict() == {"B": pytest.approx(50.0), "A": pytest.approx(-100.0),
                                                           "Not stated": pytest.approx(40.0)}
    assert tab["n"].sum() == scorecard.overall(audit)["nps"].n == 25


def test_segment_table_not_stated_row_without_letters(audit: Audit) -> None:
    tab = scorecard.segment_table(audit, "segment", "en")
    assert tab["segment"].tolist() == ["B", "A", "Not stated"]
    assert tab["nps_n"].sum() == tab["csat_n"].sum() == len(audit.responses) == 25
    assert tab.loc[2, "nps_value"] == pytest.approx(40.0)
    assert tab.loc[2, "csat_value"] == pytest.approx(60.0)  # CSAT 5 for the 3 promoters: top-2 box 3 of 5
    # letters only for the segments; B (+50) is significantly above A (−100)
    assert tab["letter"].iloc[:2].tolist() == ["A", "B"]
    assert pd.isna(tab.loc[2, "letter"])
    assert pd.isna(tab.loc[2, "nps_higher"]) and pd.isna(tab.loc[2, "csat_higher"])
    assert tab.loc[0, "nps_higher"] == "B" and tab.loc[1, "nps_higher"] == ""
    # +40 against −100 would be significant too: it must not be tested
    assert "C" not in "".join(tab["nps_higher"].dropna()).upper()
    tests = scorecard.segment_tests_for(audit, "segment", order=["B", "A"])
    assert tests["nps"].table["segment"].tolist() == ["B", "A"] and len(tests["nps"].pairs) == 1


def test_letters_note_counts_one_pair_and_explains_the_row(audit: Audit) -> None:
    note = scorecard.letters_note(audit, "segment", "en")
    assert note.startswith(t("metrics.letters_note", "en", pairs=1, min=3))  # A–B only, not 3 pairs
    assert note.endswith(not_stated_note("en"))
    assert "“Not stated”" in note
    assert "«Не указано»" in scorecard.letters_note(audit, "segment", "ru")


def test_labels_in_the_report_language(audit: Audit) -> None:
    # default: the report language of audit.yaml (ru)
    assert scorecard.segment_table(audit, "segment")["segment"].iloc[-1] == "Не указано"
    assert scorecard.by_segment(audit, "nps", "segment")["segment"].iloc[-1] == "Не указано"
    assert scorecard.segment_table(audit, "segment", "pl")["segment"].iloc[-1] == "Nie podano"
    assert t("core.not_stated", "en") == "Not stated"


def test_quality_base_sizes_count_the_not_stated(audit: Audit) -> None:
    bases = base_sizes(audit)
    assert bases.values.tolist() == [["segment", "A", 10, False, False], ["segment", "B", 10, False, False],
                                     ["segment", "Не указано", 5, False, True]]
    assert bases["n"].sum() == len(audit.responses)
    assert base_sizes(audit, "en")["group"].iloc[-1] == "Not stated"


def test_customer_value_by_segment_keeps_every_customer(audit: Audit) -> None:
    cv = scorecard.customer_value(audit, "segment", lang="en")
    assert cv["segment"].tolist()[-1] == "Not stated" and cv["not_stated"].tolist() == [False, False, True]
    assert cv.iloc[-1][["n", "churned"]].tolist() == [5, 4]
    assert cv["n"].sum() == 25


def test_churn_rates_not_stated_shown_but_not_tested() -> None:
    f = pd.DataFrame({"churned": [1] * 3 + [0] * 7 + [1] + [0] * 9 + [1] * 9 + [0] * 3,
                      "seg": ["A"] * 10 + ["B"] * 10 + [None, "", " "] * 4})
    tab = churn.churn_rates(f, "seg", min_base=3)
    # by size the 12 not-stated customers would come first: they are last
    assert tab["seg"].tolist() == ["A", "B", NOT_STATED]
    ns = tab.iloc[-1]
    assert (ns["n"], ns["churned"], ns["rate"], bool(ns["not_stated"])) == (12, 9, 0.75, True)
    assert pd.isna(ns["p_value"]) and pd.isna(ns["p_holm"]) and ns["direction"] == 0
    assert tab["n"].sum() == len(f)
    # A and B are each tested against the other stated customers only (3/10 vs 1/10)
    p = stats.chi2_contingency([[3, 7], [1, 9]], correction=False).pvalue
    assert tab.loc[0, "p_value"] == pytest.approx(p, rel=1e-9)
    assert tab.loc[1, "p_value"] == pytest.approx(p, rel=1e-9)
    assert tab["p_holm"].iloc[:2].tolist() == [pytest.approx(min(1.0, 2 * p))] * 2


def test_churn_section_shows_not_stated_without_findings(audit: Audit, tmp_path) -> None:
    an = churn.analyse_audit(audit, touchpoint_models=False)
    tab = an.by_segment["segment"]
    assert tab["segment"].tolist()[-1] == NOT_STATED
    assert tab.iloc[-1][["n", "churned"]].tolist() == [5, 4]
    assert tab["n"].sum() == 25
    # 4 of 5 against 4 of 20 would be significant (Holm p ≈ 0.03): not a segment, so no finding
    assert not any(NOT_STATED in f.id or "not_stated" in f.id for f in churn.churn_findings(an, "ru"))
    show.record_tables(tmp_path)
    try:
        html = " ".join(b.data for b in churn_view.blocks_rates(an, "ru") if isinstance(getattr(b, "data", None), str))
    finally:
        show.record_tables(None)
    assert NOT_STATED not in html
    # A and B do not differ (the not-stated group is not tested): one sentence in the report, the table with
    # its "Не указано" row in tables.xlsx
    assert not tab["direction"].any()
    assert show.escape(t("churn.no_difference_segments", "ru", segments="segment")) in html
    recorded = [pd.read_parquet(p) for p in sorted(tmp_path.glob("*.parquet"))]
    assert any("Не указано" in r.iloc[:, 0].astype(str).tolist() for r in recorded)
    # reasons by segment: the not-stated churners are a column, the χ² test is over A and B only
    long, p = an.reasons_by["segment"]
    assert long.loc[long["not_stated"], "base"].unique().tolist() == [4]
    assert p == pytest.approx(stats.chi2_contingency([[2, 1], [1, 0]], correction=False).pvalue, rel=1e-9)
