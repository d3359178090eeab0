"""Fixes to the customers table kept in the query engine (issue 19 review): a clean dataset, files
outside the client folder, the quality and scorecard sections on an engine-backed client."""

from __future__ import annotations

import tempfile
from pathlib import Path

import ibis
import pandas as pd
import pytest

from cxaudit import churn, quality, quality_view, scorecard, scorecard_view
from cxaudit.audit import load_audit, load_snapshot
from cxaudit.engine import dataset_files, source
from cxaudit.engine_audit import folder_hash
from cxaudit.errors import DataError
from cxaudit.i18n import t

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


def test_quality_section_on_customers_only_engine_client(tmp_path: Path) -> None:
    """A customers-only client kept in the engine: notebook 01's calls run; the completeness of every
    column equals the in-memory path's on the same cells (blank and missing cells planted: segment 2 of
    4 answered, revenue 3 of 4); the source is named as a folder of Parquet files."""
    frame = pd.DataFrame({"customer_id": ["c1", "c2", "c3", "c4"], "churned": ["0", "1", "0", "1"],
                          "start_date": ["2023-01-01"] * 4, "segment": ["a", " ", None, "b"],
                          "revenue": [1.0, None, 3.0, 4.0]})
    eng = load_audit(_client(tmp_path / "eng", frame))
    mem = load_audit(_client(tmp_path / "mem", frame, engine=False))
    res = quality.analyse(eng)
    for block in ("blocks_intro", "blocks_scorecard", "blocks_exclusions", "blocks_checks", "blocks_flags",
                  "blocks_completeness", "blocks_bases"):
        for lang in ("en", "ru", "pl"):
            assert getattr(quality_view, block)(res, lang) is not None
    quality_view.findings(res, "en")
    got = res.completeness.set_index("column")
    assert (got.loc["segment", "answered"], got.loc["revenue", "answered"], got.loc["segment", "n"]) == (2, 3, 4)
    pd.testing.assert_frame_equal(res.completeness, quality.answered(mem), check_dtype=False)
    assert quality.source_text(res.info["customers"], "en", short=True) == "Parquet files in a folder"
    assert quality.source_text(quality.analyse(mem).info["customers"], "en", short=True) == "Parquet file"
    snap = load_snapshot(eng.save(tmp_path / "run"))  # what notebook 01 reads in a run
    assert quality.analyse(snap).info["customers"] == {"format": "parquet_dataset"}


def test_scorecard_customers_note_for_engine_table(tmp_path: Path) -> None:
    """Customers kept in the engine: notebook 02's customers block says where the customer tables are
    (the churn section, by its heading) with the kept count, never "supplied no Customers data"; a
    client without customers still gets the missing-input line."""
    eng = load_audit(_client(tmp_path / "eng"))
    for lang in ("en", "ru", "pl"):
        blocks = scorecard_view.blocks_customers(scorecard.analyse(eng), lang)
        html = "".join(b.data for b in blocks)
        assert len(blocks) == 2 and t("metrics.customers_total", lang) in blocks[0].data  # heading, note
        assert t("section.churn", lang) in html and "3" in html
        assert t("report.section_missing", lang, what=t("table.customers", lang)) not in html
    html = "".join(b.data for b in scorecard_view.blocks_customers(scorecard.analyse(eng), "en"))
    assert "Churn by segment and customer lifetime value for the 3 customers are shown in the section" in html
    plain = load_audit(_client(tmp_path / "none", engine=False))
    missing = scorecard_view.blocks_customers(scorecard.ScorecardAnalysis(plain, survey=False), "en")
    assert "supplied no" in missing[0].data


def test_engine_churn_records_why_period_churn_is_missing(tmp_path: Path) -> None:
    """Churn dates but no start date or tenure: the period is known, no customer has a survival time,
    so churn per period cannot be computed; the engine path records the reason instead of dropping it."""
    frame = pd.DataFrame({"customer_id": [f"c{i}" for i in range(40)], "churned": ["1", "0"] * 20,
                          "churn_date": ["2023-05-01", None] * 20})
    an = churn.analyse_audit(load_audit(_client(tmp_path / "eng", frame)))
    assert an.engine is not None and an.basis is not None and an.basis.ok
    assert an.period is None
    assert an.errors["period"].startswith("churn per period: no customer with a known status and survival time")


def _staged(tmp: Path, prefix: str) -> list[Path]:
    return sorted(tmp.glob(f"cxaudit-{prefix}*"))


def test_staged_client_rows_are_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The staged copy of the client's rows (validation) is gone once the kept rows are written to the
    run's folder, and at once when validation fails; the churn analysis's staging folder is gone after
    the analysis, also when staging itself fails."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    frame = pd.DataFrame({"customer_id": [f"c{i}" for i in range(40)], "churned": ["1", "0", "0", "0"] * 10,
                          "start_date": ["2022-01-01"] * 40, "churn_date": ["2023-05-01", None, None, None] * 10})
    audit = load_audit(_client(tmp_path / "eng", frame))
    assert len(_staged(tmp, "customers-")) == 1  # while loading: the rows the engine table reads
    audit.save(tmp_path / "run")
    assert _staged(tmp, "customers-") == []
    assert audit.engine_table("customers").count().execute() == 40  # now read from the run's file
    an = churn.analyse_audit(audit)
    assert an.overall["n"].iloc[0] == 40 and _staged(tmp, "churn-") == []

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("planted failure while staging")

    monkeypatch.setattr(churn, "_with_times", broken)
    with pytest.raises(RuntimeError, match="planted"):
        churn.analyse_audit(audit)
    assert _staged(tmp, "churn-") == []
    bad = frame.assign(churned=[None] * 30 + ["0"] * 10)  # 30 of 40 excluded: above the 0.5 allowed
    with pytest.raises(DataError):
        load_audit(_client(tmp_path / "bad", bad))
    assert _staged(tmp, "customers-") == []


def test_engine_table_rows_numbered_by_id(tmp_path: Path) -> None:
    """A table of the engine (``inputs.customers.table``) has no row order: its rows are numbered by id,
    then by the other columns, so the same rows stored in two orders give the same log and keep the same
    one of two rows with the same id (c2 with revenue 3.0 is row 2, its repeat with 5.0 row 3)."""
    rows = pd.DataFrame({"customer_id": ["c3", "c2", "c1", "c2"], "churned": ["0", "1", "0", "1"],
                         "revenue": [1.0, 5.0, 2.0, 3.0]})
    out = []
    for k, frame in enumerate((rows, rows.iloc[::-1])):
        db = tmp_path / f"w{k}.duckdb"
        con = ibis.duckdb.connect(str(db))
        con.create_table("customers", frame.reset_index(drop=True))
        con.disconnect()
        d = tmp_path / f"c{k}"
        d.mkdir()
        (d / "audit.yaml").write_text(f"client: {{name: T}}\nengine: {{url: 'duckdb:///{db}'}}\n"
                                      "inputs:\n  customers: {table: customers}\n", encoding="utf-8")
        audit = load_audit(d)
        kept = audit.engine_table("customers").to_pandas().sort_values("_row")
        out.append((audit.log[["row", "rule", "value"]].values.tolist(), kept[["_row", "customer_id", "revenue"]]
                    .values.tolist()))
    assert out[0] == out[1]
    assert out[0][0] == [[3, "duplicate_id", "c2"]]
    assert out[0][1] == [[1, "c1", 2.0], [2, "c2", 3.0], [4, "c3", 1.0]]


def test_a_dataset_with_another_engine_is_a_clear_config_error(tmp_path: Path) -> None:
    """Parquet files kept in the engine are numbered with DuckDB's read_parquet: with engine: pyspark the
    run stops with one line naming the key, not a backend's TypeError (no Spark session is started)."""
    from cxaudit.errors import ConfigError

    d = _client(tmp_path / "spark")
    yaml = (d / "audit.yaml").read_text(encoding="utf-8").replace("backend: duckdb, options: {threads: 1}",
                                                                   "backend: pyspark")
    (d / "audit.yaml").write_text(yaml, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"inputs.customers.file.*engine: duckdb") as err:
        load_audit(d)
    assert "\n" not in str(err.value)
