"""``engine:`` in audit.yaml and inputs that name a table in the engine instead of a file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cxaudit import engine
from cxaudit.audit import load_audit
from cxaudit.config import load_config
from cxaudit.errors import ConfigError, CxauditError

BASE = "client: {name: Acme}\ninputs:\n  responses: {file: r.csv}\n"
CSV = {"r.csv": "response_id,date,nps\n1,2025-01-02,9\n"}


def _error(make_client, tmp_path: Path, text: str) -> ConfigError:
    folder = make_client(tmp_path, CSV, text)
    with pytest.raises(ConfigError) as info:
        load_config(folder / "audit.yaml")
    assert "\n" not in str(info.value)  # one line
    return info.value


@pytest.mark.parametrize(("text", "backend", "url", "options"), [
    ("engine: duckdb\n", "duckdb", None, {}),
    ("engine: {backend: pyspark, options: {master: 'local[2]', spark.sql.shuffle.partitions: 8}}\n", "pyspark", None,
     {"master": "local[2]", "spark.sql.shuffle.partitions": 8}),
    ("engine: 'trino://user@host:8080/hive/sales'\n", "duckdb", "trino://user@host:8080/hive/sales", {}),
    ("engine: {url: 'postgres://u@h/db', options: {schema: cx}}\n", "duckdb", "postgres://u@h/db", {"schema": "cx"}),
])
def test_engine_shapes(make_client, tmp_path, text, backend, url, options):
    cfg = load_config(make_client(tmp_path, CSV, BASE + text) / "audit.yaml")
    assert cfg.engine is not None
    assert (cfg.engine.backend, cfg.engine.url, cfg.engine.options) == (backend, url, options)
    spec = engine.EngineSpec.of(cfg.engine)  # what engine.connect is given
    assert (spec.url, dict(spec.options)) == (url, options)
    assert spec.backend == (backend if url is None else "duckdb")


def test_no_engine_by_default(make_client, tmp_path):
    assert load_config(make_client(tmp_path, CSV, BASE) / "audit.yaml").engine is None


@pytest.mark.parametrize(("text", "key", "problem"), [
    ("engine: oracle\n", "engine.backend", "expected one of 'duckdb' or 'pyspark', got 'oracle'"),
    ("engine: {backend: duckdb, url: 'postgres://h/db'}\n", "engine", "give either backend or url, not both"),
    ("engine: {url: 'my warehouse'}\n", "engine",
     "url 'my warehouse' is not a connection URL; expected e.g. postgres://user@host/db"),
    ("engine: {backend: duckdb, memory: 2GB}\n", "engine.memory", "unknown key (allowed: backend, url, options, min_rows)"),
    ("  customers: {table: sales.customers, file: c.csv}\n", "inputs.customers",
     "give either file or table (a table in the engine), not both"),
    ("  customers: {table: sales.customers}\n", "inputs.customers.table",
     "a table in an engine needs the key engine: (e.g. engine: {url: 'postgres://user@host/db'})"),
])
def test_engine_errors_are_one_line(make_client, tmp_path, text, key, problem):
    err = _error(make_client, tmp_path, BASE + text)
    assert (err.key, err.problem) == (key, problem)


def test_an_input_read_from_an_engine_table(make_client, tmp_path):
    """``inputs.customers: {table: ...}`` with ``engine: {url: duckdb:///...}``: the rows come from the
    engine's table and are validated there like a file's (a bad churn flag becomes missing and is logged);
    the table stays in the engine (``audit.engine_table``), never in memory."""
    db = tmp_path / "warehouse.duckdb"
    con = engine.connect(f"duckdb:///{db}")
    con.create_table("customers", pd.DataFrame({
        "customer_id": ["c1", "c2", "c3", "c4"], "churned": ["yes", "no", "no", "maybe"],
        "revenue": [100.0, 250.5, None, 80.0]}))
    con.disconnect()
    text = BASE + "  customers: {table: customers}\n" + f"engine: {{url: 'duckdb:///{db}'}}\n"
    audit = load_audit(make_client(tmp_path, CSV, text))
    assert audit.has("customers") and audit.is_engine("customers")  # kept in the engine (issue 19)
    with pytest.raises(CxauditError, match="kept in the query engine"):
        audit.table("customers")
    cust = audit.engine_table("customers").to_pandas()
    assert sorted(cust["customer_id"]) == ["c1", "c2", "c3", "c4"]
    flags = cust.set_index("customer_id")["churned"]
    assert flags[["c1", "c2", "c3"]].tolist() == [True, False, False] and pd.isna(flags["c4"])
    assert cust.set_index("customer_id")["revenue"]["c2"] == 250.5
    assert audit.rows_in["customers"] == 4
    bad = audit.log[audit.log["table"] == "customers"]
    assert len(bad) == 1
    assert (bad.iloc[0]["column"], bad.iloc[0]["value"], int(bad.iloc[0]["row"])) == ("churned", "maybe", 4)
    assert audit.files["customers"] == Path("customers")
