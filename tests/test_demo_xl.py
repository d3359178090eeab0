"""The XL demo size (issue 19): its sizes, and its Parquet tables carry exactly the CSV's cells.

XL itself (1M responses, 2M tickets) is far too large for a unit test: the Parquet path is checked
at the small size by switching it on for ``small``, against the CSV files of the same generation.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cxaudit import demo
from cxaudit.audit import load_audit
from cxaudit.io import read_table


def test_xl_size_is_the_issue_19_size() -> None:
    assert demo.SIZES["xl"] == {"responses": 1_000_000, "customers": 500_000, "tickets": 2_000_000,
                                "employees": 5_000}
    assert demo.PARQUET_SIZES == {"xl"}
    assert set(demo.PLANTED["quality"]["counts"]) >= {"small", "default", "large", "xl"}


def test_xl_waves_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="scale benchmark"):
        demo.generate_waves(tmp_path, waves=2, size="xl")


def test_parquet_tables_hold_the_csv_cells_and_load_the_same_audit(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    csv_dir = demo.generate_demo(tmp_path / "csv", size="small")
    monkeypatch.setattr(demo, "PARQUET_SIZES", frozenset({"small"}))
    pq_dir = demo.generate_demo(tmp_path / "pq", size="small")
    for table in ("responses", "customers", "tickets", "events"):
        assert not (pq_dir / f"{table}.csv").exists()
        a = read_table(csv_dir / f"{table}.csv").frame
        b = read_table(pq_dir / f"{table}.parquet").frame
        assert list(a.columns) == list(b.columns)
        pd.testing.assert_frame_equal(a.astype(object).where(a.notna(), None).reset_index(drop=True),
                                      b.astype(object).where(b.notna(), None).reset_index(drop=True))
    assert "file: responses.parquet" in (pq_dir / "audit.yaml").read_text(encoding="utf-8")
    for table in ("touchpoints", "employees", "kpis"):  # small tables stay CSV, byte-identical
        assert (pq_dir / f"{table}.csv").read_bytes() == (csv_dir / f"{table}.csv").read_bytes()
    one, two = load_audit(csv_dir), load_audit(pq_dir)
    assert set(one.tables) == set(two.tables)
    for name, frame in one.tables.items():
        other = two.tables[name].reset_index(drop=True)
        frame = frame.reset_index(drop=True)
        if "_row" in frame.columns and name in ("responses", "customers", "tickets", "events"):
            # a CSV row number counts the header line; a Parquet row number is the row's position
            assert (frame["_row"].to_numpy() - 1 == other["_row"].to_numpy()).all()
            frame, other = frame.drop(columns="_row"), other.drop(columns="_row")
        pd.testing.assert_frame_equal(frame, other, check_dtype=False)
    cols = ["table", "rows_in", "kept", "excluded"]
    pd.testing.assert_frame_equal(one.intake()[cols], two.intake()[cols])
