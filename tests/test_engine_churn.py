"""A customers table kept in the query engine (issue 19): validated in DuckDB, the churn section from
engine aggregates, the same numbers as the in-memory path.

- the small demo client twice: its customers CSV as is, and the same cells as a folder of two
  Parquet files with ``engine: duckdb``; every churn table (rates overall / by NPS group / by segment
  with their tests, churn per period, the detractor ratio, Kaplan–Meier curves and table, log-rank,
  LTV, reasons, the logistic and Cox models, touchpoint odds ratios) equal to 1e-9;
- validation in the engine on planted bad rows: the same log (row, rule, column, value) as
  :func:`cxaudit.schema.conform` on the same Parquet file read into memory, rows in = kept + excluded;
- the stratified model sample drawn in the engine: exact quotas per stratum, seeded, stated in
  ``fit_rows`` and in the report's text;
- ``cxaudit run`` end to end on a 200,000-row Parquet dataset (slow).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from cxaudit import churn, churn_view
from cxaudit.audit import load_audit, load_snapshot
from cxaudit.demo import generate_demo
from cxaudit.errors import CxauditError

TOL = 1e-9


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False,
                                  rtol=TOL, atol=1e-12)


@pytest.fixture(scope="module")
def two_clients(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The small demo (in memory) and a copy whose customers are a Parquet dataset kept in DuckDB."""
    root = tmp_path_factory.mktemp("engine-churn")
    mem = root / "mem"
    generate_demo(mem, size="small", lang="en", seed=7)
    eng = root / "eng"
    shutil.copytree(mem, eng)
    cfg = yaml.safe_load((eng / "audit.yaml").read_text(encoding="utf-8"))
    src = pd.read_csv(mem / cfg["inputs"]["customers"]["file"], dtype=str, keep_default_na=False)
    (eng / "customers").mkdir()
    half = len(src) // 2
    src.iloc[:half].to_parquet(eng / "customers" / "part-0.parquet")
    src.iloc[half:].to_parquet(eng / "customers" / "part-1.parquet")
    cfg["inputs"]["customers"] = {**cfg["inputs"]["customers"], "file": "customers"}
    cfg["engine"] = {"backend": "duckdb", "options": {"memory_limit": "512MB", "threads": 1}}
    (eng / "audit.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return mem, eng


def test_engine_churn_equals_memory(two_clients: tuple[Path, Path], tmp_path: Path) -> None:
    mem, eng = two_clients
    a_mem, a_eng = load_audit(mem), load_audit(eng)
    assert a_eng.is_engine("customers") and not a_mem.is_engine("customers") and a_eng.has("customers")
    with pytest.raises(CxauditError, match="kept in the query engine"):
        a_eng.table("customers")
    # through a run snapshot, as every notebook gets it
    a_eng.save(tmp_path / "tables")
    snap = load_snapshot(tmp_path / "tables")
    assert snap.is_engine("customers") and int(snap.engine_table("customers").count().execute()) == 500
    m, e = churn.analyse_audit(a_mem), churn.analyse_audit(snap)
    assert e.engine is not None and m.engine is None
    for name in ("overall", "by_group", "period", "ltv", "retention", "moves"):
        _same(getattr(m, name), getattr(e, name))
    # revenue at risk over every active customer, scored batch by batch: the same sums and intervals
    for attr in ("value", "ci_low", "ci_high", "active_revenue", "expected_churners", "model_months", "uplift",
                 "uplift_ci_low", "uplift_ci_high", "saved_customers"):
        assert getattr(e.rar, attr) == pytest.approx(getattr(m.rar, attr), rel=TOL), attr
    assert (e.rar.n_active, e.rar.n_unscored, e.rar.n_detractors) == (m.rar.n_active, m.rar.n_unscored,
                                                                       m.rar.n_detractors)
    _same(m.rar.by_group, e.rar.by_group)
    for s in m.rar.by_segment:
        _same(m.rar.by_segment[s], e.rar.by_segment[s])
    assert set(m.by_segment) == set(e.by_segment) == {"segment", "region"}
    for s in m.by_segment:
        _same(m.by_segment[s], e.by_segment[s])
    for attr in ("ratio", "ci_low", "ci_high", "p_value"):
        assert getattr(e.ratio, attr) == pytest.approx(getattr(m.ratio, attr), rel=TOL)
    assert (m.ratio.a, m.ratio.n1, m.ratio.c, m.ratio.n2) == (e.ratio.a, e.ratio.n1, e.ratio.c, e.ratio.n2)
    _same(m.survival.table, e.survival.table)
    assert e.survival.chi2 == pytest.approx(m.survival.chi2, rel=TOL) and e.survival.n == m.survival.n
    assert list(m.survival.curves) == list(e.survival.curves) == ["promoter", "passive", "detractor", "no_response"]
    for g in m.survival.curves:
        _same(m.survival.curves[g], e.survival.curves[g])
    _same(m.reasons.table, e.reasons.table)
    assert set(m.reasons_by) == set(e.reasons_by) == {"segment", "region"}
    for s in m.reasons_by:
        _same(m.reasons_by[s][0], e.reasons_by[s][0])
        assert e.reasons_by[s][1] == pytest.approx(m.reasons_by[s][1], rel=TOL)
    for kind in ("logit", "cox"):
        _same(getattr(m, kind).table, getattr(e, kind).table)
    _same(m.touchpoints, e.touchpoints)
    assert e.logit.fit_rows["method"] == "all" and e.logit.fit_rows["drawn_in"] == "engine"
    # the findings that need every customer read the engine's counts
    fm = {f.id: f for f in churn.churn_findings(m, "en")}
    fe = {f.id: f for f in churn.churn_findings(e, "en")}
    assert set(fe) == set(fm) and not e.errors
    _same(m.trend.table, e.trend.table)
    assert (e.trend.chi2, e.trend.dof, e.trend.n_unplaced) == pytest.approx((m.trend.chi2, m.trend.dof,
                                                                              m.trend.n_unplaced), rel=TOL)
    for fid in ("churn.rate.overall", "churn.detractor_ratio", "churn.revenue_at_risk"):
        for key in ("churn_12m", "churn_12m_ci", "customers_by_group", "n_customers", "rates_12m",
                    "detractor_share_customers", "period_churn", "revenue_at_risk", "uplift_ci",
                    "acquisition_cost", "replace_cost", "retain_cost", "top_segment_share"):
            if key in fm[fid].evidence:
                assert fe[fid].evidence[key] == pytest.approx(fm[fid].evidence[key], rel=TOL), (fid, key)
        assert fe[fid].value == pytest.approx(fm[fid].value, rel=TOL) and fe[fid].reach == pytest.approx(fm[fid].reach)


BAD = pd.DataFrame({
    "customer_id": ["c1", "c2", "c3", None, "c5", "c6", "c2", "c8", " ", "c10"],
    "churned": ["1", "0", "yes", "0", "", "maybe", "1", "no", "0", "1"],
    "revenue": ["10", "20", "x", "5", "5", "7", "8", "9", "1", "2.5"],
    "start_date": ["2023-01-01", "2023-02-01", "2023-03-01", "2023-04-01", "2023-05-01", "not a date",
                   "2023-07-01", "2023-08-01", "2023-09-01", "2023-10-01"],
})


def _parquet_client(d: Path, frame: pd.DataFrame, engine: bool, extra: str = "") -> Path:
    """A customers-only client folder: ``frame`` as ``customers.parquet``, kept in DuckDB (``min_rows: 0``)
    with ``engine``, else read into memory; ``extra`` audit.yaml lines."""
    d.mkdir()
    frame.to_parquet(d / "customers.parquet")
    head = "engine: {backend: duckdb, min_rows: 0}\n" if engine else ""
    (d / "audit.yaml").write_text("client: {name: T}\n" + extra + head + "inputs:\n  customers: {file: customers.parquet}\n")
    return d


def test_validation_in_engine_on_planted_rows(tmp_path: Path) -> None:
    """Planted: row 4 and row 9 without an id, row 5 without a churn flag (missing required: excluded),
    row 7 a duplicate of c2 (excluded), row 3 revenue 'x' and row 6 flag 'maybe' (invalid: kept, cell
    missing), row 6 'not a date' (invalid date: excluded). The engine's log is the in-memory log."""
    logs = {}
    for mode in ("memory", "engine"):
        audit = load_audit(_parquet_client(tmp_path / mode, BAD, mode == "engine"))
        assert audit.is_engine("customers") == (mode == "engine")
        log = audit.log[["row", "rule", "column", "value", "excluded"]].copy()
        log["value"] = log["value"].map(lambda v: None if v is None or pd.isna(v) else str(v))
        logs[mode] = log.sort_values(["row", "rule", "column"]).reset_index(drop=True)
        intake = audit.intake().set_index("table").loc["customers"]
        assert (intake["rows_in"], intake["kept"], intake["excluded"]) == (10, 5, 5)
    planted = {(4, "missing_required", "customer_id"), (9, "missing_required", "customer_id"),
               (5, "missing_required", "churned"), (7, "duplicate_id", "customer_id"),
               (3, "invalid_value", "revenue"), (6, "invalid_value", "churned"), (6, "invalid_date", "start_date")}
    got = {(int(r.row), r.rule, r.column) for r in logs["engine"].itertuples()}
    assert got == planted
    pd.testing.assert_frame_equal(logs["engine"], logs["memory"], check_dtype=False)


def test_engine_sample_is_stratified_and_stated(tmp_path: Path) -> None:
    """5,000 customers (1,000 churned) with max_rows 1,000: 200 churned and 800 retained are drawn
    (the same fraction, 0.2), the same rows again with the same seed, other rows with another seed."""
    import ibis

    rng = np.random.default_rng(5)
    n = 5000
    churned = np.zeros(n, dtype="int64")
    churned[rng.choice(n, 1000, replace=False)] = 1
    frame = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "churned": churned,
                          "x": rng.normal(size=n)})
    frame.loc[:9, "churned"] = None  # unknown status: never drawn
    frame["churned"] = frame["churned"].astype("Int64")
    path = tmp_path / "f.parquet"
    frame.to_parquet(path)
    con = ibis.duckdb.connect()
    f = con.read_parquet(str(path))
    rows, fr = churn.engine_sample(f, max_rows=1000, seed=1)
    known = frame["churned"].notna().sum()
    k1 = int(frame["churned"].eq(1).sum())
    frac = 1000 / known
    assert fr["method"] == "stratified_sample" and fr["rows_available"] == known
    assert fr["fraction"] == pytest.approx(frac) and fr["weight"] == pytest.approx(1 / frac)
    assert int(rows["churned"].eq(1).sum()) == round(frac * k1)
    assert int(rows["churned"].eq(0).sum()) == round(frac * (known - k1))
    assert rows["customer_id"].is_unique and rows["churned"].notna().all()
    again, _ = churn.engine_sample(f, max_rows=1000, seed=1)
    other, _ = churn.engine_sample(f, max_rows=1000, seed=2)
    assert set(again["customer_id"]) == set(rows["customer_id"]) != set(other["customer_id"])
    # the report states it: a model fitted on the sample says so, in every language
    m = churn.fit_logit(rows, ["x"], {})
    m.fit_rows = {**fr, "rows_used": m.n}
    text = churn_view.fit_rows_text(m, "en")
    assert "1,000 of 4,990 customers" in text and "20.0%" in text and "5.0 customers" in text
    for lang in ("ru", "pl"):
        assert churn_view.fit_rows_text(m, lang) != text
    m.fit_rows = {"method": "all", "rows_used": m.n}
    assert churn_view.fit_rows_text(m, "en") == "The model was fitted on all 1,000 customers with the data it needs."


@pytest.mark.slow
def test_cxaudit_run_on_an_engine_client(tmp_path: Path) -> None:
    """``cxaudit run`` (HTML) on a 200,000-row customers Parquet dataset with ``engine: duckdb``
    (bench/engine_20m.py's generator): the run finishes, the churn tables are in the report, the
    exclusion counts are the planted ones and the per-12-month churn of the NPS groups covers the
    planted values."""
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root / "bench"))
    import engine_20m  # type: ignore[import-not-found]

    engine_20m.generate_audit(tmp_path, 200_000, 4, 20261204)
    env = {**__import__("os").environ, "CXAUDIT_HOME": str(tmp_path)}
    cli = str(Path(sys.executable).with_name("cxaudit"))
    res = subprocess.run([cli, "run", "engine20m", "--format", "html", "--jobs", "1"], env=env,
                         capture_output=True, text=True, timeout=1200)
    assert res.returncode == 0, res.stderr[-2000:]
    run = sorted((tmp_path / "reports" / "engine20m").glob("2*"))[-1]
    html = (run / "report.html").read_text(encoding="utf-8")
    assert "The model was fitted on all 199,997 customers" in html
    snap = load_snapshot(run / "tables")
    assert snap.is_engine("customers")
    intake = snap.intake().set_index("table").loc["customers"]
    assert (intake["rows_in"], intake["kept"], intake["excluded"]) == (200_000, 199_997, 3)
    check = engine_20m.check_audit(run, 200_000)
    assert check["n"] == 199_997 and all(check["planted_inside_95ci"].values())


def test_customers_only_with_unknown_status(tmp_path: Path) -> None:
    """A customers-only client (no survey, no tickets) with 11 churn flags that cannot be read (kept, status
    unknown): the engine path gives the in-memory trend, rates, churn per period and Cox model."""
    rng = np.random.default_rng(1)
    n = 400
    start = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D")
    ch = rng.random(n) < 0.3
    cd = [str((s + pd.Timedelta(days=int(rng.integers(30, 400)))).date()) if c else "" for s, c in zip(start, ch,
                                                                                                       strict=True)]
    flag = np.where(ch, "1", "0").astype(object)
    flag[::37] = "maybe"
    df = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "churned": flag,
                       "start_date": [str(s.date()) for s in start], "churn_date": cd,
                       "revenue": rng.gamma(2, 100, n).round(2).astype(str), "segment": rng.choice(["a", "b"], n)})
    out = {}
    for mode in ("mem", "eng"):
        out[mode] = churn.analyse_audit(load_audit(_parquet_client(tmp_path / mode, df, mode == "eng",
                                                                   "segments: [segment]\n")))
    m, e = out["mem"], out["eng"]
    assert e.engine is not None and int(e.overall["n"].iloc[0]) == n - 11
    _same(m.trend.table, e.trend.table)
    for name in ("overall", "period"):
        _same(getattr(m, name), getattr(e, name))
    _same(m.by_segment["segment"], e.by_segment["segment"])
    _same(m.cox.table, e.cox.table)
    assert e.survival is None and m.survival is None  # no NPS groups: no curves by group
