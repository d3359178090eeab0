"""Fixes to the customers table kept in the query engine (issue 19 review): a clean dataset, files
outside the client folder, the quality and scorecard sections on an engine-backed client."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cxaudit.audit import load_audit

CLEAN = pd.DataFrame({"customer_id": ["c1", "c2", "c3"], "churned": ["0", "1", "0"],
                      "start_date": ["2023-01-01", "2023-02-01", "2023-03-01"]})


def _client(d: Path, frame: pd.DataFrame = CLEAN, engine: bool = True) -> Path:
    """A client folder whose customers are a one-file Parquet dataset ``customers/`` (``engine: duckdb``)
    or, without the engine, the same cells as ``customers.parquet``."""
    d.mkdir(parents=True, exist_ok=True)
    if engine:
        (d / "customers").mkdir(exist_ok=True)
        frame.to_parquet(d / "customers" / "part-0.parquet")
        head = "engine: {backend: duckdb, options: {threads: 1}}\n"
        file = "customers"
    else:
        frame.to_parquet(d / "customers.parquet")
        head, file = "", "customers.parquet"
    (d / "audit.yaml").write_text("client: {name: T}\n" + head + f"inputs:\n  customers: {{file: {file}}}\n",
                                  encoding="utf-8")
    return d


def test_clean_engine_dataset_intake(tmp_path: Path) -> None:
    """No bad row: the engine's empty log has the in-memory empty log's columns and dtypes, and the
    intake table counts 3 in, 3 kept, 0 excluded."""
    eng = load_audit(_client(tmp_path / "eng"))
    mem = load_audit(_client(tmp_path / "mem", engine=False))
    assert eng.is_engine("customers") and not mem.is_engine("customers")
    assert len(eng.log) == 0
    pd.testing.assert_series_equal(eng.log.dtypes, mem.log.dtypes)
    intake = eng.intake().set_index("table").loc["customers"]
    assert (intake["rows_in"], intake["kept"], intake["excluded"]) == (3, 3, 0)
    assert len(eng.excluded()) == 0
