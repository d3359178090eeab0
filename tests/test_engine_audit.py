"""Fixes to the customers table kept in the query engine (issue 19 review): a clean dataset, files
outside the client folder, the quality and scorecard sections on an engine-backed client."""

from __future__ import annotations

from pathlib import Path

import ibis
import pandas as pd
import pytest

from cxaudit.audit import load_audit
from cxaudit.engine import dataset_files, source
from cxaudit.engine_audit import folder_hash
from cxaudit.errors import DataError

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


def test_symlinked_parquet_in_dataset_is_refused(tmp_path: Path) -> None:
    """A link inside the dataset folder to a Parquet file outside the client folder: not read, one-line
    DataError naming the link (validation and the manifest's hash); the same folder without the link
    loads its 3 rows."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    CLEAN.assign(customer_id=["x1", "x2", "x3"]).to_parquet(outside / "secret.parquet")
    d = _client(tmp_path / "client")
    link = d / "customers" / "part-1.parquet"
    link.symlink_to(outside / "secret.parquet")
    with pytest.raises(DataError, match="part-1.parquet") as err:
        load_audit(d)
    assert "\n" not in str(err.value)
    with pytest.raises(DataError, match="part-1.parquet"):
        folder_hash(d / "customers")
    con = ibis.duckdb.connect()
    with pytest.raises(DataError, match="part-1.parquet"):
        source(con, d / "customers")
    link.unlink()
    (d / "customers" / "sub").symlink_to(outside, target_is_directory=True)  # a linked folder too
    with pytest.raises(DataError, match="sub"):
        load_audit(d)
    (d / "customers" / "sub").unlink()
    audit = load_audit(d)
    assert audit.kept["customers"] == 3
    assert source(con, d / "customers").count().execute() == 3
    assert [p.name for p in dataset_files(d / "customers")] == ["part-0.parquet"]
