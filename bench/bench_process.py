"""Benchmark: the process map (directly-follows graph) and the variants of 1M events, cxaudit vs DuckDB SQL.

The log: ``n`` events in cases of 3–12 steps over 12 activities, with a loop and random waits (seeded).
cxaudit: :func:`cxaudit.process.prepare` (sort and code), :func:`~cxaudit.process.directly_follows`
(transitions, cases, median and 90th-percentile wait per edge) and :func:`~cxaudit.process.variants`
(all variants counted, top 10 with Wilson intervals). Baseline, in the same run on the same DataFrame:
DuckDB with a ``lead()`` window over each case for the edges (``count``, ``count(DISTINCT case)``,
``quantile_cont`` of the wait) and ``string_agg(activity ORDER BY timestamp)`` per case for the
variants. Both give the same edge counts, cases, median waits and variant counts (checked).

Target: cxaudit ≤ 60 s on 1M events. Run: ``.venv/bin/python bench/bench_process.py [n_events]``.
DuckDB is a bench-only dependency (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np
import pandas as pd

from cxaudit import process

REPEAT = 3
ACTIVITIES = [f"Step {chr(65 + i)}" for i in range(12)]


def make_events(n: int, seed: int = 17) -> pd.DataFrame:
    """``n`` events: cases of 3-12 steps; each step picks the next activity from a sparse transition
    matrix (so there are frequent and rare variants, and loops); waits are log-normal."""
    rng = np.random.default_rng(seed)
    lens = rng.integers(3, 13, n // 3)
    lens = lens[: np.searchsorted(np.cumsum(lens), n) + 1]
    lens[-1] -= int(lens.sum() - n)
    lens = lens[lens > 0]
    n_cases = len(lens)
    k = len(ACTIVITIES)
    trans = np.zeros((k, k))
    for i in range(k):
        trans[i, (i + 1) % k] = 0.8
        trans[i, (i + 2) % k] = 0.15
        trans[i, max(i - 1, 0)] += 0.05  # a loop back
    case = np.repeat(np.arange(n_cases), lens)
    pos = np.arange(n) - np.repeat(np.cumsum(lens) - lens, lens)
    act = np.zeros(n, dtype=np.int64)
    u = rng.random(n)
    cum = trans.cumsum(axis=1)
    for step in range(1, int(lens.max())):
        m = pos == step
        prev = act[np.flatnonzero(m) - 1]
        act[m] = (cum[prev] < u[m][:, None]).sum(axis=1).clip(0, k - 1)
    wait = rng.lognormal(0, 1.2, n) * 3600
    wait[pos == 0] = 0
    start = np.datetime64("2025-01-01T00:00:00", "s") + rng.integers(0, 365 * 86400, n_cases).astype("timedelta64[s]")
    ts = start[case] + np.cumsum(wait).astype("int64").astype("timedelta64[s]") - np.repeat(
        np.r_[0, np.cumsum(wait)[np.cumsum(lens)[:-1] - 1]], lens).astype("int64").astype("timedelta64[s]")
    df = pd.DataFrame({"case_id": pd.Series([f"C{c:07d}" for c in case], dtype="string"),
                       "activity": pd.Series(np.asarray(ACTIVITIES, dtype=object)[act], dtype="string"),
                       "timestamp": ts.astype("datetime64[ns]")})
    return df.sample(frac=1.0, random_state=seed).reset_index(drop=True)  # file order is not time order


def run_cxaudit(ev: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    log = process.prepare(ev)
    return process.directly_follows(log), process.variants(log, top=10)


DFG_SQL = """
WITH s AS (
  SELECT case_id, activity AS source,
         lead(activity) OVER w AS target,
         epoch(lead(timestamp) OVER w) - epoch(timestamp) AS wait_s
  FROM ev WINDOW w AS (PARTITION BY case_id ORDER BY timestamp, rowid)
)
SELECT source, target, count(*) AS transitions, count(DISTINCT case_id) AS cases,
       quantile_cont(wait_s, 0.5) / 3600 AS wait_median_h, quantile_cont(wait_s, 0.9) / 3600 AS wait_p90_h
FROM s WHERE target IS NOT NULL GROUP BY source, target ORDER BY transitions DESC, source, target
"""
VARIANT_SQL = """
SELECT v, count(*) AS cases FROM (
  SELECT case_id, string_agg(activity, '>' ORDER BY timestamp, rowid) AS v FROM ev GROUP BY case_id)
GROUP BY v ORDER BY cases DESC, v
"""


def run_duckdb(con, ev: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:  # noqa: ANN001
    con.register("ev_df", ev)
    con.execute("CREATE OR REPLACE TEMP TABLE ev AS SELECT * FROM ev_df")  # rowid = file order, as cxaudit's tie-break
    return con.execute(DFG_SQL).df(), con.execute(VARIANT_SQL).df()


def timed(fn, *args) -> tuple[float, object]:  # noqa: ANN001
    times, out = [], None
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        out = fn(*args)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    t0 = time.perf_counter()
    ev = make_events(n)
    print(f"{len(ev):,} events, {ev['case_id'].nunique():,} cases, {ev['activity'].nunique()} activities "
          f"(generated in {time.perf_counter() - t0:.1f} s)")
    t_cx, (dfg, var) = timed(run_cxaudit, ev)
    print(f"cxaudit  prepare + directly_follows + variants: {t_cx:6.2f} s  (median of {REPEAT})")
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads TO 2")
    t_db, (ddfg, dvar) = timed(run_duckdb, con, ev)
    print(f"DuckDB   lead() window + string_agg:           {t_db:6.2f} s  (median of {REPEAT}, 2 threads)")
    # the same tables
    a = dfg.set_index(["source", "target"]).sort_index()
    b = ddfg.set_index(["source", "target"]).sort_index()
    assert a.index.equals(b.index), "different edges"
    assert (a["transitions"].to_numpy() == b["transitions"].to_numpy()).all()
    assert (a["cases"].to_numpy() == b["cases"].to_numpy()).all()
    assert np.allclose(a["wait_median_h"], b["wait_median_h"], rtol=1e-9, atol=1e-9)
    top = dvar.head(10)
    assert var["cases"].tolist() == top["cases"].tolist(), (var["cases"].tolist(), top["cases"].tolist())
    counts = dict(zip(dvar["v"], dvar["cases"], strict=True))  # ties may be listed in another order
    assert [counts[">".join(v)] for v in var["variant"]] == var["cases"].tolist()
    assert var.attrs["n_variants"] == len(dvar)
    print(f"identical results: {len(a)} edges, {len(dvar):,} variants; top variant {var.loc[0, 'share']:.1%} of cases")
    print(f"ratio cxaudit / DuckDB: {t_cx / t_db:.2f}; target cxaudit <= 60 s: {'met' if t_cx <= 60 else 'MISSED'}")
    if t_cx > 60:
        sys.exit(1)


if __name__ == "__main__":
    main()
