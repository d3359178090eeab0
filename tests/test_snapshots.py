"""Snapshot tests (syrupy) of the report's HTML fragments, per section and language (issue 12).

Each section's opening (its heading and what it shows when its input is absent) and one table of
every column kind the report uses (counts, percentages with intervals, signed values, a hostile
value that must stay escaped), in en / ru / pl. A change to what the client reads fails here with a
diff; when the change is intended, review the diff and run
``pytest tests/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import pandas as pd
import pytest

from cxaudit import show
from cxaudit.i18n import LANGUAGES, t
from cxaudit.sections import SECTIONS, report_order
from cxaudit.show import Col

KEYS = [s.key for s in report_order(SECTIONS.values())]


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("key", KEYS)
def test_section_opening(key: str, lang: str, snapshot) -> None:
    html = show.section(key, lang).data + show.missing_input(t("table.responses", lang), lang).data
    assert f'id="sec-{key}"' in html
    assert html == snapshot


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "group": ["Corporate", "<script>alert(1)</script>", "=HYPERLINK(\"http://x\")"],
        "n": [1234, 29, 410],
        "share": [0.4567, 0.0312, 0.98],
        "share_low": [0.43, 0.005, 0.975],
        "share_high": [0.48, 0.16, 0.985],
        "nps": [16.9, -41.25, 3.0],
        "nps_low": [14.7, -60.0, -5.5],
        "nps_high": [19.1, -20.5, 11.5],
        "small_base": [False, True, False],
    })


@pytest.mark.parametrize("lang", LANGUAGES)
def test_table_fragment(lang: str, snapshot) -> None:
    html = show.table_html(_frame(), [
        Col("group", "metrics.col_n"), Col("n", "metrics.col_n", "int"),
        Col("share", "journey.col_satisfaction", "pct", lo="share_low", hi="share_high"),
        Col("nps", "journey.col_nps_low", "signed1", lo="nps_low", hi="nps_high"),
    ], lang)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html == snapshot
