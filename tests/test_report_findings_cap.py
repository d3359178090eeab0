"""The appendix lists at most MAX_APPENDIX_FINDINGS findings, by priority; the rest are counted in one line
that names the tables.xlsx sheet holding all of them (issue 19: an XL run had 109 findings over 4 pages)."""

from __future__ import annotations

import re
from html import escape

import pytest

from cxaudit.findings import Finding
from cxaudit.i18n import t
from cxaudit.report import MAX_APPENDIX_FINDINGS, findings_table_html


def _findings(k: int) -> list[Finding]:
    # severity 5 .. 1 and reach falling with i: the priority order is the list order
    return [Finding(id=f"cx_metrics.f{i}", section="cx_metrics", title=f"Finding number {i:03d}", metric="nps",
                    value=float(i), n=100 + i, severity=5 - (i * 5) // (k + 1), reach=1.0 - i / (k + 1))
            for i in range(k)]


@pytest.mark.parametrize("lang", ["en", "ru", "pl"])
def test_a_long_list_is_cut_at_the_limit_and_the_rest_is_counted(lang: str) -> None:
    html = findings_table_html(_findings(45), lang)
    assert html.count("<tr>") == MAX_APPENDIX_FINDINGS + 1  # header + the highest-priority findings
    assert "Finding number 000" in html and f"Finding number {MAX_APPENDIX_FINDINGS - 1:03d}" in html
    assert f"Finding number {MAX_APPENDIX_FINDINGS:03d}" not in html
    note = re.search(r'<p class="cx-note">(.*?)</p>', html).group(1)
    assert note == escape(t("report.more_findings", lang, n=str(45 - MAX_APPENDIX_FINDINGS), total="45", sheet=t("tobe.all_findings", lang)))


def test_a_short_list_is_shown_whole_without_a_note() -> None:
    html = findings_table_html(_findings(12), "en")
    assert html.count("<tr>") == 13 and "cx-note" not in html
