"""Benchmark (issue 19): the customers part of an audit on a 20M-row Parquet dataset, through DuckDB.

1. **Generate** (seeded, vectorised, in chunks of 1M rows so memory stays low) a customers dataset
   of ``--rows`` rows (default 20,000,000) as ``--files`` Parquet files in ``--data`` (default
   ``/tmp/cxaudit-engine-20m``; reused when present with the same size and seed). Planted:
   a constant monthly churn hazard per segment (so each segment's 24-month churn share is known),
   detractors churning at twice the hazard of the others, and bad rows for the validation counts
   (missing ids, duplicate ids, missing churn flags, negative revenue, missing segments, an exit
   before the entry).
2. **Engine** (:mod:`cxaudit.engine`, DuckDB, ``memory_limit`` 2 GB, 2 threads): the customers part of
   the audit without loading rows into pandas — validation counts by reason (in SQL), churn rates by
   segment, revenue band, segment × band and NPS group with Wilson intervals, the life table by NPS
   group and its Kaplan–Meier curve (survival at 12 / 24 months) with the log-rank test, churn per 12
   months from person-time, and the inputs of revenue at risk
   (active customers' revenue per segment × the segment's churn share).
3. **Baseline**: the same analysis through pandas / numpy / statsmodels (the in-process path:
   ``metrics.churn_table``, ``SurvfuncRight``, boolean masks) on the first 1M rows; the engine is also
   run on that 1M subset, so the two paths are compared at the same size.

Each phase runs in its own child process; the parent samples the child's resident memory with psutil
every 50 ms (peak RSS) and takes its CPU seconds from the kernel's rusage. Results go to
``bench/out/engine_20m.json`` and a table on stdout, with the machine's load (``uptime``) before
and after.

Usage::

    .venv/bin/python bench/engine_20m.py [--rows 20000000] [--files 20] [--subset 1000000] [--data DIR] [--spark]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

SEGMENTS = np.array(["consumer", "small_business", "enterprise", "student", "senior"])
#: Planted monthly churn hazard per segment (non-detractors; detractors churn at twice it).
HAZARD = np.array([0.010, 0.014, 0.004, 0.025, 0.007])
SEGMENT_SHARE = np.array([0.45, 0.2, 0.05, 0.15, 0.15])
NPS_GROUPS = np.array(["promoter", "passive", "detractor"])
NPS_SHARE = np.array([0.35, 0.4, 0.25])
WINDOW_MONTHS = 24.0
CHUNK = 1_000_000


def planted_share(segment: str) -> float:
    """The expected 24-month churn share of a segment: a mixture of detractors (twice the hazard) and the rest."""
    h = float(HAZARD[list(SEGMENTS).index(segment)])
    d = float(NPS_SHARE[2])
    return (1 - d) * (1 - np.exp(-WINDOW_MONTHS * h)) + d * (1 - np.exp(-2 * WINDOW_MONTHS * h))


def _chunk(rng: np.random.Generator, start: int, n: int) -> Any:
    """One chunk of customers as an Arrow table (vectorised)."""
    import pyarrow as pa

    seg = rng.choice(len(SEGMENTS), n, p=SEGMENT_SHARE)
    grp = rng.choice(len(NPS_GROUPS), n, p=NPS_SHARE)
    hazard = HAZARD[seg] * np.where(grp == 2, 2.0, 1.0)
    entry = np.round(rng.uniform(0, 96, n), 2)  # months as a customer at the start of the window
    new = rng.random(n) < 0.2
    entry[new] = 0.0  # joined during the window (counted from their start)
    t_churn = rng.exponential(1.0 / hazard)
    churned = t_churn < WINDOW_MONTHS
    exit_ = entry + np.round(np.minimum(t_churn, WINDOW_MONTHS), 2) + 0.01
    revenue = np.round(rng.gamma(2.0, 400.0, n) * np.array([1.0, 3.0, 20.0, 0.4, 0.8])[seg], 2)
    ids = np.arange(start, start + n, dtype=np.int64)
    # planted bad rows (validation reasons)
    idx = np.arange(start, start + n)
    missing_id = idx % 1_000_003 == 17
    dup = idx % 500_009 == 23
    ids[dup] = np.maximum(ids[dup] - 1, 0)
    no_flag = idx % 250_007 == 5
    neg_rev = idx % 333_331 == 7
    revenue[neg_rev] = -revenue[neg_rev]
    no_seg = idx % 400_009 == 11
    bad_exit = idx % 700_001 == 3
    exit_[bad_exit] = entry[bad_exit] - 1.0
    band = np.where(revenue < 500, "low", np.where(revenue < 2000, "mid", "high"))
    seg_arr = pa.DictionaryArray.from_arrays(pa.array(seg.astype(np.int32), mask=no_seg), pa.array(SEGMENTS))
    return pa.table({
        "customer_id": pa.array(ids, mask=missing_id),
        "segment": seg_arr,
        "nps_group": pa.DictionaryArray.from_arrays(pa.array(grp.astype(np.int32)), pa.array(NPS_GROUPS)),
        "band": pa.array(band).dictionary_encode(),
        "churned": pa.array(churned, mask=no_flag),
        "t_entry": pa.array(entry),
        "t_exit": pa.array(exit_),
        "revenue": pa.array(revenue),
    })


def _write_parts(folder: Path, rows: int, files: int, seed: int, chunk: Callable[..., Any]) -> None:
    """``folder/part-NNN.parquet``: ``rows`` rows over ``files`` files (old ones removed), each file written
    ``CHUNK`` rows at a time by ``chunk(rng, first_row, n)`` with its own stream spawned from ``seed``."""
    import pyarrow.parquet as pq

    for old in folder.glob("*.parquet"):
        old.unlink()
    per_file = -(-rows // files)
    rngs = np.random.default_rng(seed).spawn(files)
    for f in range(files):
        lo, hi = f * per_file, min(rows, (f + 1) * per_file)
        writer = None
        for c0 in range(lo, hi, CHUNK):
            table = chunk(rngs[f], c0, min(CHUNK, hi - c0))
            if writer is None:
                writer = pq.ParquetWriter(folder / f"part-{f:03d}.parquet", table.schema, compression="zstd")
            writer.write_table(table)
        if writer is not None:
            writer.close()


def generate(folder: Path, rows: int, files: int, seed: int) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = folder / "_generated.json"
    meta = {"rows": rows, "files": files, "seed": seed}
    if stamp.exists() and json.loads(stamp.read_text()) == meta:
        return {"reused": True, **meta}
    _write_parts(folder, rows, files, seed, _chunk)
    stamp.write_text(json.dumps(meta))
    return {"reused": False, **meta}


# --- a whole audit through ``cxaudit run`` (issue 19: the must-show) --------------------------------

#: The audit's data period: 24 months to the list's extraction date (``churn.as_of``).
AUDIT_START, AUDIT_END = "2024-01-01", "2025-12-31"
#: Customers who answered the small survey, and the NPS group shares among them.
AUDIT_RESPONSES = 20_000


def _audit_chunk(rng: np.random.Generator, start: int, n: int) -> Any:
    """One chunk of the canonical customers table: ``customer_id, segment, start_date, churn_date, churned,
    revenue``. Planted: a constant monthly hazard per segment (:data:`HAZARD`) from the later of the start
    date and the period's start, twice it for customers whose survey answer is a detractor's (decided by
    :func:`_audit_group`), churn dated inside the period; 20 % of the customers start during it."""
    import pyarrow as pa

    d0, d1 = np.datetime64(AUDIT_START), np.datetime64(AUDIT_END)
    days = int((d1 - d0).astype(int)) + 1
    ids = np.arange(start, start + n, dtype=np.int64)
    seg = rng.choice(len(SEGMENTS), n, p=SEGMENT_SHARE)
    new = rng.random(n) < 0.2
    offset = np.where(new, rng.integers(0, days, n), -rng.integers(1, 96 * 30, n))  # start vs the period's start
    start_date = d0 + offset.astype("timedelta64[D]")
    group = _audit_group(ids)
    hazard = HAZARD[seg] * np.where(group == 2, 2.0, 1.0) / 30.436875  # per day (MONTH_DAYS)
    at_risk_from = np.maximum(offset, 0)
    t_churn = at_risk_from + rng.exponential(1.0 / hazard)
    churned = t_churn < days
    churn_day = np.floor(t_churn).astype(np.int64)
    churn_date = d0 + np.where(churned, churn_day, 0).astype("timedelta64[D]")
    revenue = np.round(rng.gamma(2.0, 400.0, n) * np.array([1.0, 3.0, 20.0, 0.4, 0.8])[seg], 2)
    idx = np.arange(start, start + n)
    missing_id = idx % 1_000_003 == 17
    dup = idx % 500_009 == 23
    ids[dup] = np.maximum(ids[dup] - 1, 0)
    no_flag = idx % 250_007 == 5
    return pa.table({
        "customer_id": pa.array(ids, mask=missing_id),
        "segment": pa.DictionaryArray.from_arrays(pa.array(seg.astype(np.int32)), pa.array(SEGMENTS)),
        "start_date": pa.array(start_date.astype("datetime64[D]")),
        "churn_date": pa.array(churn_date.astype("datetime64[D]"), mask=~churned),
        "churned": pa.array(churned, mask=no_flag),
        "revenue": pa.array(revenue),
    })


def _audit_group(ids: np.ndarray) -> np.ndarray:
    """The NPS group (0 promoter, 1 passive, 2 detractor, -1 no answer) of each customer id: every
    ``rows // AUDIT_RESPONSES``-th id answered, groups in the shares :data:`NPS_SHARE` (a fixed hash)."""
    h = ((ids // 1000) * 2654435761) % 1000
    answered = ids % 1000 == 7
    return np.where(answered, np.where(h < 350, 0, np.where(h < 750, 1, 2)), -1)


def generate_audit(home: Path, rows: int, files: int, seed: int) -> dict[str, Any]:
    """``home/data/engine20m``: audit.yaml (``engine: duckdb``), ``customers/`` (``files`` Parquet files)
    and ``responses.csv`` (one answer per answering customer: NPS 10 / 8 / 3 by planted group)."""
    client = home / "data" / "engine20m"
    folder = client / "customers"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = client / "_generated.json"
    meta = {"rows": rows, "files": files, "seed": seed, "kind": "audit"}
    if stamp.exists() and json.loads(stamp.read_text()) == meta:
        return {"reused": True, **meta}
    _write_parts(folder, rows, files, seed, _audit_chunk)
    ids = np.arange(rows, dtype=np.int64)
    group = _audit_group(ids)
    who = ids[group >= 0]
    rng = np.random.default_rng(seed + 1)
    dates = np.datetime64("2024-06-01") + rng.integers(0, 180, len(who)).astype("timedelta64[D]")
    nps = np.array([10, 8, 3])[group[who]]
    lines = ["response_id,customer_id,date,nps"] + [f"R{i},{c},{d},{v}" for i, (c, d, v) in enumerate(
        zip(who, dates.astype(str), nps, strict=True))]
    (client / "responses.csv").write_text("\n".join(lines) + "\n")
    (client / "audit.yaml").write_text(
        "client: {name: Engine 20M, language: en}\nsegments: [segment]\n"
        "churn: {as_of: 2025-12-31, start: 2024-01-01}\n"
        "engine: {backend: duckdb, options: {memory_limit: 1GB, threads: 2}}\n"
        "inputs:\n  customers: {file: customers}\n  responses: {file: responses.csv}\n")
    stamp.write_text(json.dumps(meta))
    return {"reused": False, **meta, "responses": int(len(who))}


def planted_audit(rows: int) -> dict[str, Any]:
    """What the planted data should give (expected values; the sample's noise is ~1/sqrt(n)).

    Per segment (non-detractors; detractors are 0.025 % of the customers): with a constant monthly hazard
    h, a customer at risk for L months churns with probability 1 − exp(−hL) and spends (1 − exp(−hL)) / h
    months at risk. 80 % are at risk the whole 24 months; 20 % start at a uniform day of the period
    (L ~ U(0, 24)). Churn per 12 months from person-time by NPS group: events / months at risk over
    the group's mix of segments, 1 − exp(−12·λ).
    """
    L = np.linspace(0, 24, 2001)[1:]

    def parts(h: float) -> tuple[float, float]:
        ev = 0.8 * (1 - np.exp(-24 * h)) + 0.2 * float(np.mean(1 - np.exp(-h * L)))
        ex = 0.8 * (1 - np.exp(-24 * h)) / h + 0.2 * float(np.mean((1 - np.exp(-h * L)) / h))
        return ev, ex

    det = NPS_SHARE[2] / 1000  # detractors among all customers: 1 in 1000 answered, a quarter of them detractors
    share = {str(s): (1 - det) * parts(float(h))[0] + det * parts(2 * float(h))[0]
             for s, h in zip(SEGMENTS, HAZARD, strict=True)}
    per_group = {}
    for g, mult in (("promoter", 1.0), ("passive", 1.0), ("detractor", 2.0), ("no_response", 1.0)):
        ev = sum(w * parts(float(h) * mult)[0] for w, h in zip(SEGMENT_SHARE, HAZARD, strict=True))
        ex = sum(w * parts(float(h) * mult)[1] for w, h in zip(SEGMENT_SHARE, HAZARD, strict=True))
        per_group[g] = 1 - float(np.exp(-12 * ev / ex))
    ev_all = ex_all = 0.0
    for w, h in zip(SEGMENT_SHARE, HAZARD, strict=True):
        for mult, p in ((1.0, 1 - det), (2.0, det)):
            ev_all += w * p * parts(float(h) * mult)[0]
            ex_all += w * p * parts(float(h) * mult)[1]
    return {"segment_share_24m": share, "churn_12m_by_group": per_group,
            "churn_12m": 1 - float(np.exp(-12 * ev_all / ex_all)), "churn_12m_in_days": planted_churn_12m_days()}


def planted_churn_12m_days() -> float:
    """The overall churn per 12 months the planted data give under the package's day convention: the
    period has 731 days and churn may fall on any of them, but a customer who stays is followed to the
    period's last date, 730 days after its first (``churn._survival_times``: exit = ``window.end``), and a
    churn date is the day the exponential time fell in (floored). Expected events / expected days at
    risk, by numerical integration; detractors (1 in 4,000 customers) at twice the hazard."""
    md, days, det = 30.436875, 731, NPS_SHARE[2] / 1000

    def one(hd: float, length: int) -> tuple[float, float]:
        t = np.linspace(0, length, 20001)
        dens = hd * np.exp(-hd * t)
        return 1 - np.exp(-hd * length), float(np.trapezoid(np.floor(t) * dens, t)) + np.exp(-hd * length) * (length - 1)

    ev = ex = 0.0
    for w, h in zip(SEGMENT_SHARE, HAZARD, strict=True):
        for mult, p in ((1.0, 1 - det), (2.0, det)):
            hd = float(h) * mult / md
            e0, x0 = one(hd, days)
            later = [one(hd, int(n)) for n in np.arange(1, days + 1)[::10]]  # started during the period
            ev += w * p * (0.8 * e0 + 0.2 * float(np.mean([a for a, _ in later])))
            ex += w * p * (0.8 * x0 + 0.2 * float(np.mean([b for _, b in later]))) / md
    return 1 - float(np.exp(-12 * ev / ex))


def run_audit(home: Path) -> dict[str, Any]:
    """``cxaudit run engine20m --format html --jobs 1`` in its own process tree, measured by
    ``bench/scale.py``'s :func:`measure` (wall, CPU of every descendant, peak RSS of the tree)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from scale import measure as measure_tree  # type: ignore[import-not-found]

    env = {**os.environ, "CXAUDIT_HOME": str(home)}
    cli = str(Path(sys.executable).with_name("cxaudit"))
    res = measure_tree([cli, "run", "engine20m", "--format", "html", "--jobs", "1"], env, home / "run.log")
    runs = sorted((home / "reports" / "engine20m").glob("2*"))
    res["run_dir"] = str(runs[-1]) if runs else None
    return res


def audit_main(home: Path, rows: int, files: int, seed: int) -> None:
    """Generate (timed), run the audit (measured), then read the churn section's numbers back and check
    them against the planted values; writes ``bench/out/engine_20m_audit.json`` and prints a summary."""
    report: dict[str, Any] = {"uptime_before": _uptime(), "cpus": os.cpu_count(), "rows": rows}
    t0, c0 = time.perf_counter(), time.process_time()
    report["generate"] = {**generate_audit(home, rows, files, seed), "wall_s": time.perf_counter() - t0,
                          "cpu_s": time.process_time() - c0}
    report["run"] = run_audit(home)
    report["uptime_after"] = _uptime()
    out = Path(__file__).resolve().parent / "out" / "engine_20m_audit.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str))
    if report["run"]["returncode"] or not report["run"]["run_dir"]:
        raise SystemExit(f"cxaudit run failed; see {home / 'run.log'}")
    report["check"] = check_audit(Path(report["run"]["run_dir"]), rows)
    out.write_text(json.dumps(report, indent=2, default=str))
    r = report["run"]
    print(f"cxaudit run, {rows:,} customers: wall {r['wall_s']:.1f} s, CPU {r['cpu_s']:.1f} s "
          f"(sampled {r['cpu_sampled_s']:.1f}), peak RSS of the process tree {r['peak_tree_rss_mb']:.0f} MB "
          f"(largest process {r['peak_process_rss_mb']:.0f} MB)")
    print(json.dumps(report["check"], indent=2, default=str))
    print(f"wrote {out}")


def check_audit(run_dir: Path, rows: int) -> dict[str, Any]:
    """The churn section's numbers of a run (its findings and intake) beside the planted values."""
    found = {}
    for path in run_dir.rglob("*.json"):
        try:
            data = json.loads(path.read_text())
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        items = data if isinstance(data, list) else data.get("findings", []) if isinstance(data, dict) else []
        for f in items:
            if isinstance(f, dict) and str(f.get("id", "")).startswith("churn."):
                found[f["id"]] = f
    plant = planted_audit(rows)
    out: dict[str, Any] = {"findings": sorted(found)}
    ov = found.get("churn.rate.overall")
    if ov:
        out["overall_rate"], out["n"] = ov["value"] / 100, ov["n"]
        out["churn_12m"] = ov["evidence"].get("churn_12m")
    ratio = found.get("churn.detractor_ratio")
    if ratio:
        ev = ratio["evidence"]
        out["customers_by_group"] = ev.get("customers_by_group")
        out["churn_12m_by_group"] = ev.get("rates_12m")
        out["churn_12m_by_group_ci"] = ev.get("rates_12m_ci")
        out["planted_churn_12m_by_group"] = plant["churn_12m_by_group"]
        out["hazard_ratio_detractor"] = ev.get("hazard_ratio")
        out["odds_ratio_detractor"] = ev.get("adjusted_odds_ratio")
        inside = {}
        for g, (lo, hi) in (ev.get("rates_12m_ci") or {}).items():
            inside[g] = bool(lo <= plant["churn_12m_by_group"][g] <= hi)
        out["planted_inside_95ci"] = inside
    if ov:
        lo, hi = ov["evidence"].get("churn_12m_ci") or (np.nan, np.nan)
        out["churn_12m_ci"], out["planted_churn_12m"] = [lo, hi], plant["churn_12m"]
        out["planted_churn_12m_inside_95ci"] = bool(lo <= plant["churn_12m"] <= hi)
        out["planted_churn_12m_in_days"] = plant["churn_12m_in_days"]
        out["planted_churn_12m_in_days_inside_95ci"] = bool(lo <= plant["churn_12m_in_days"] <= hi)
    out["planted_segment_share_24m"] = plant["segment_share_24m"]
    xlsx = run_dir / "tables.xlsx"
    if xlsx.is_file():  # the report's own tables (tables.xlsx holds every table the report shows)
        import openpyxl

        wb = openpyxl.load_workbook(xlsx, read_only=True)
        for ws in wb.worksheets:
            rows = list(ws.iter_rows(values_only=True))
            if ws.title == "Churn by segment" and rows:
                head = list(rows[0])
                seg = {}
                for r in rows[1:]:
                    d = dict(zip(head, r, strict=False))
                    name = str(d["Group"])
                    planted = plant["segment_share_24m"].get(name)
                    seg[name] = {"n": d["Customers (n)"], "rate": d["Churn rate"],
                                 "ci": [d["Churn rate (low)"], d["Churn rate (high)"]], "planted": planted,
                                 "planted_inside_95ci": None if planted is None else
                                 bool(d["Churn rate (low)"] <= planted <= d["Churn rate (high)"])}
                out["churn_by_segment"] = seg
            if ws.title == "Excluded rows by reason" and rows:
                out["excluded_by_reason"] = {f"{r[0]}: {r[1]}": r[2] for r in rows[1:]}
    return out


# --- the two paths ---------------------------------------------------------------------------------


def run_engine(folder: str, limit: int | None, backend: str = "duckdb") -> dict[str, Any]:
    """The customers part of the audit in the engine (DuckDB, or Spark in local mode); only aggregates come back."""
    from cxaudit import engine

    options: dict[str, Any] = ({"memory_limit": "2GB", "threads": 2} if backend == "duckdb" else
                               {"master": "local[2]", "spark.driver.memory": "2g"})
    con = engine.connect({"backend": backend, "options": options})
    t = engine.source(con, folder)
    if limit:
        t = t.limit(limit)  # the first rows in file order (DuckDB keeps insertion order), as pandas reads them
    out: dict[str, Any] = {}
    tick = time.perf_counter()
    reasons = engine.rule_counts(t, {
        "missing_id": t.customer_id.isnull(),
        "missing_churned": t.churned.isnull(),
        "negative_revenue": t.revenue < 0,
        "missing_segment": t.segment.isnull(),
        "exit_before_entry": t.t_exit < t.t_entry,
    })
    ids = t.filter(t.customer_id.notnull())
    dup = ids.aggregate(n=ids.count(), d=ids.customer_id.nunique()).to_pandas().iloc[0]
    reasons["duplicate_id"] = int(dup["n"] - dup["d"])
    out["validation"] = {k: int(v) for k, v in reasons.items()}
    out["t_validation"] = time.perf_counter() - tick
    valid = t.filter(t.customer_id.notnull() & t.churned.notnull() & (t.revenue >= 0) & (t.t_exit >= t.t_entry))
    tick = time.perf_counter()
    tabs = {"segment": engine.churn_table(valid, ["segment"]), "band": engine.churn_table(valid, ["band"]),
            "segment_band": engine.churn_table(valid, ["segment", "band"]),
            "nps_group": engine.churn_table(valid, ["nps_group"])}
    out["t_churn"] = time.perf_counter() - tick
    out["churn_segment"] = tabs["segment"][["segment", "n", "churned", "churn_rate", "ci_low", "ci_high"]].to_dict("records")
    out["churn_nps_group"] = tabs["nps_group"][["nps_group", "n", "churned", "churn_rate"]].to_dict("records")
    tick = time.perf_counter()
    lt = engine.life_table(valid, ["nps_group"], time="t_exit", event="churned", entry="t_entry")
    surv = {}
    for g, part in lt.groupby("nps_group", observed=True):
        km = engine.kaplan_meier(part)
        surv[str(g)] = {f"S({h}m)": float(km.loc[km["time"] <= h, "surv"].iloc[-1]) for h in (12, 24)}
    chi2, p, _ = engine.logrank(lt, "nps_group")
    out["logrank_chi2"] = chi2
    expo = engine.exposure_table(valid, "nps_group")
    out["churn_12m"] = {str(r.nps_group): float(r.period_churn) for r in expo.itertuples()}
    out["t_survival"] = time.perf_counter() - tick
    out["life_table_rows"] = len(lt)
    out["survival"] = surv
    tick = time.perf_counter()
    active = valid.filter(~valid.churned)
    rev = active.group_by("segment").aggregate(active=active.count(), revenue=active.revenue.sum()).to_pandas()
    rar = tabs["segment"].merge(rev, on="segment")
    out["revenue_at_risk"] = float((rar["churn_rate"] * rar["revenue"]).sum())
    out["t_revenue_at_risk"] = time.perf_counter() - tick
    out["rows"] = int(reasons["rows"])
    return out


def run_pandas(folder: str, limit: int) -> dict[str, Any]:
    """The same analysis in process: the rows read into pandas, then the package's in-memory functions."""
    import pandas as pd
    import pyarrow.dataset as ds
    from statsmodels.duration.survfunc import SurvfuncRight, survdiff

    from cxaudit import churn, metrics

    tick = time.perf_counter()
    df = ds.dataset(folder, format="parquet").head(limit).to_pandas()
    out: dict[str, Any] = {"t_read": time.perf_counter() - tick}
    tick = time.perf_counter()
    reasons = {"missing_id": int(df["customer_id"].isna().sum()), "missing_churned": int(df["churned"].isna().sum()),
               "negative_revenue": int((df["revenue"] < 0).sum()), "missing_segment": int(df["segment"].isna().sum()),
               "exit_before_entry": int((df["t_exit"] < df["t_entry"]).sum()),
               "duplicate_id": int(df["customer_id"].dropna().duplicated().sum()), "rows": len(df)}
    out["validation"] = reasons
    out["t_validation"] = time.perf_counter() - tick
    valid = df[df["customer_id"].notna() & df["churned"].notna() & (df["revenue"] >= 0) & (df["t_exit"] >= df["t_entry"])]
    valid = valid.assign(churned=valid["churned"].astype(bool))
    tick = time.perf_counter()
    tabs = {"segment": metrics.churn_table(valid, ["segment"]), "band": metrics.churn_table(valid, ["band"]),
            "segment_band": metrics.churn_table(valid, ["segment", "band"]),
            "nps_group": metrics.churn_table(valid, ["nps_group"])}
    out["t_churn"] = time.perf_counter() - tick
    out["churn_segment"] = tabs["segment"][["segment", "n", "churned", "churn_rate", "ci_low", "ci_high"]].astype(
        {"segment": str}).to_dict("records")
    tick = time.perf_counter()
    surv = {}
    for g, part in valid.groupby("nps_group", observed=True):
        sf = SurvfuncRight(part["t_exit"].to_numpy(float), part["churned"].to_numpy(float),
                           entry=part["t_entry"].to_numpy(float))
        times, s = np.asarray(sf.surv_times), np.asarray(sf.surv_prob)
        surv[str(g)] = {f"S({h}m)": float(s[times <= h][-1]) for h in (12, 24)}
    out["logrank_chi2"] = float(survdiff(valid["t_exit"].to_numpy(float), valid["churned"].to_numpy(float),
                                         valid["nps_group"].astype(str).to_numpy(object),
                                         entry=valid["t_entry"].to_numpy(float))[0])
    expo = churn.exposure_rates(valid.assign(churned=valid["churned"].astype(int)), "nps_group")
    out["churn_12m"] = {str(r.nps_group): float(r.period_churn) for r in expo.itertuples()}
    out["t_survival"] = time.perf_counter() - tick
    out["survival"] = surv
    tick = time.perf_counter()
    active = valid[~valid["churned"]]
    rev = active.groupby("segment", observed=True)["revenue"].sum().rename("revenue").reset_index()
    rar = tabs["segment"].merge(rev, on="segment")
    out["revenue_at_risk"] = float((rar["churn_rate"] * rar["revenue"]).sum())
    out["t_revenue_at_risk"] = time.perf_counter() - tick
    out["rows"] = len(df)
    del pd
    return out


# --- measuring a child process --------------------------------------------------------------------


def measure(args: list[str]) -> dict[str, Any]:
    """Run ``python bench/engine_20m.py <args>`` as a child; its wall, CPU (rusage) and peak RSS (psutil, 50 ms)."""
    import psutil

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
    peak = [0]
    tree_cpu = [0.0]  # CPU of the child and its own children (a JVM that rusage may not see), sampled
    done = threading.Event()

    def sample() -> None:
        try:
            p = psutil.Process(proc.pid)
            while not done.is_set():
                procs = [p, *p.children(recursive=True)]
                rss = sum(c.memory_info().rss for c in procs)
                peak[0] = max(peak[0], rss)
                tree_cpu[0] = max(tree_cpu[0], sum(sum(c.cpu_times()[:2]) for c in procs))
                time.sleep(0.05)
        except psutil.NoSuchProcess:
            return

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    stdout, _ = proc.communicate()
    done.set()
    th.join()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit(f"child {args} failed with exit code {proc.returncode}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = json.loads(stdout.strip().splitlines()[-1])
    return {"wall_s": wall, "cpu_s": max(cpu, tree_cpu[0]), "peak_rss_mb": peak[0] / 2**20, "result": result}


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000_000)
    ap.add_argument("--files", type=int, default=20)
    ap.add_argument("--subset", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=20261204)
    ap.add_argument("--data", default="/tmp/cxaudit-engine-20m")
    ap.add_argument("--phase", choices=["generate", "engine", "pandas"], help=argparse.SUPPRESS)
    ap.add_argument("--limit", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--backend", default="duckdb", help=argparse.SUPPRESS)
    ap.add_argument("--spark", action="store_true", help="also run the full dataset through PySpark (local[2])")
    ap.add_argument("--audit", action="store_true",
                    help="instead: a whole audit of a --rows customers Parquet dataset through `cxaudit run`")
    ap.add_argument("--home", default="/tmp/cxaudit-engine-20m-audit", help="CXAUDIT_HOME of the --audit run")
    a = ap.parse_args()
    if a.audit:
        audit_main(Path(a.home), a.rows, a.files, a.seed)
        return
    if a.phase == "generate":
        print(json.dumps(generate(Path(a.data), a.rows, a.files, a.seed)))
        return
    if a.phase == "engine":
        print(json.dumps(run_engine(a.data, a.limit or None, a.backend), default=str))
        return
    if a.phase == "pandas":
        print(json.dumps(run_pandas(a.data, a.limit), default=str))
        return
    report: dict[str, Any] = {"uptime_before": _uptime(), "cpus": os.cpu_count()}
    common = ["--data", a.data, "--rows", str(a.rows), "--files", str(a.files), "--seed", str(a.seed)]
    report["generate"] = measure([*common, "--phase", "generate"])
    report["engine_full"] = measure([*common, "--phase", "engine"])
    report["engine_subset"] = measure([*common, "--phase", "engine", "--limit", str(a.subset)])
    report["pandas_subset"] = measure([*common, "--phase", "pandas", "--limit", str(a.subset)])
    phases = [("generate", "generate Parquet dataset"), ("engine_full", "engine (DuckDB), full dataset"),
              ("engine_subset", "engine (DuckDB), subset"), ("pandas_subset", "pandas in-process, subset")]
    if a.spark:  # the full dataset only: LIMIT has no defined order on Spark, so no subset comparison
        report["spark_full"] = measure([*common, "--phase", "engine", "--backend", "pyspark"])
        phases.append(("spark_full", "engine (PySpark local[2]), full"))
    report["uptime_after"] = _uptime()
    out = Path(__file__).resolve().parent / "out" / "engine_20m.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str))
    print(f"machine: {report['cpus']} cores; before: {report['uptime_before']}; after: {report['uptime_after']}")
    print(f"{'phase':<34}{'rows':>12}{'wall s':>9}{'CPU s':>9}{'peak RSS MB':>13}")
    for key, label in phases:
        m = report[key]
        rows = m["result"].get("rows", a.rows)
        print(f"{label:<34}{rows:>12,}{m['wall_s']:>9.1f}{m['cpu_s']:>9.1f}{m['peak_rss_mb']:>13.0f}")
    es, ps = report["engine_subset"], report["pandas_subset"]
    print(f"at {a.subset:,} rows, engine / pandas: wall {es['wall_s'] / ps['wall_s']:.2f}x, "
          f"CPU {es['cpu_s'] / ps['cpu_s']:.2f}x, peak RSS {es['peak_rss_mb'] / ps['peak_rss_mb']:.2f}x")
    same = (es["result"]["validation"] == ps["result"]["validation"]
            and sorted((r["segment"], r["n"], r["churned"]) for r in es["result"]["churn_segment"])
            == sorted((r["segment"], r["n"], r["churned"]) for r in ps["result"]["churn_segment"])
            and all(abs(es["result"]["survival"][g][h] - ps["result"]["survival"][g][h]) < 1e-9
                    for g in ps["result"]["survival"] for h in ps["result"]["survival"][g])
            and abs(es["result"]["revenue_at_risk"] / ps["result"]["revenue_at_risk"] - 1) < 1e-9
            and abs(es["result"]["logrank_chi2"] / ps["result"]["logrank_chi2"] - 1) < 1e-9
            and all(abs(es["result"]["churn_12m"][g] - v) < 1e-9 for g, v in ps["result"]["churn_12m"].items()))
    report["subset_results_agree"] = same
    if a.spark:
        sp, du = report["spark_full"]["result"], report["engine_full"]["result"]
        report["spark_agrees_with_duckdb"] = (
            sp["validation"] == du["validation"]
            and sorted((r["segment"], r["n"], r["churned"]) for r in sp["churn_segment"])
            == sorted((r["segment"], r["n"], r["churned"]) for r in du["churn_segment"])
            and abs(sp["logrank_chi2"] / du["logrank_chi2"] - 1) < 1e-9)
        print(f"PySpark and DuckDB agree on the full dataset: {report['spark_agrees_with_duckdb']}")
    out.write_text(json.dumps(report, indent=2, default=str))
    print("engine and pandas agree on the subset (validation counts, churn counts, S(12), S(24), log-rank χ², "
          f"churn per 12 months, revenue at risk): {same}")
    full = report["engine_full"]["result"]
    print("validation (full):", full["validation"])
    print("churn by segment (full), beside the planted share:")
    for r in full["churn_segment"]:
        print(f"  {r['segment']:<16} n={r['n']:>12,.0f} rate={r['churn_rate']:.4f} [{r['ci_low']:.4f}, {r['ci_high']:.4f}]"
              f"  planted {planted_share(r['segment']):.4f}")
    print("survival (full):", full["survival"], f"log-rank χ² {full['logrank_chi2']:.1f}")
    print("churn per 12 months from person-time (full):", {g: round(v, 4) for g, v in full["churn_12m"].items()})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
