"""Benchmark: the full metric cube on 1M responses, cxaudit vs DuckDB SQL in the same run.

The cube: NPS, CSAT and CES × 5 segment columns × month (plus the month-only total), each cell with
n, value and its 95% interval (adjusted Wald, Wilson, Student t). DuckDB computes the same
aggregates (counts, sums, sums of squares, promoter / detractor / top-box counts) with one
``GROUPING SETS`` query over the same pandas DataFrame; the intervals are then computed from those
aggregates with the same vectorised formulas, so both sides produce identical tables (checked).

Target: cxaudit ≤ 2× DuckDB. Run: ``.venv/bin/python bench/bench_metrics.py [n_rows]``.
DuckDB is a bench-only dependency (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import stats

from cxaudit.metrics import _nps_interval, _wilson, metric_cube, metric_table

SEGMENTS = {"segment": 3, "region": 8, "channel": 5, "tier": 4, "age_band": 6}
REPEAT = 5


def make_responses(n: int, seed: int = 20261124) -> pd.DataFrame:
    """Synthetic responses: integer scores with ~3 % missing, 5 string segment columns, 18 months."""
    rng = np.random.default_rng(seed)

    def score(lo: int, hi: int) -> np.ndarray:
        x = rng.integers(lo, hi + 1, n).astype(float)
        x[rng.random(n) < 0.03] = np.nan
        return x

    df = pd.DataFrame({"nps": score(0, 10), "csat": score(1, 5), "ces": score(1, 7)})
    for col, k in SEGMENTS.items():
        df[col] = pd.Series(np.array([f"{col}_{i}" for i in range(k)], dtype=object)[rng.integers(0, k, n)],
                            dtype="str")
    start = np.datetime64("2025-01-01T00:00", "m")
    df["date"] = start + rng.integers(0, 546 * 24 * 60, n).astype("timedelta64[m]")
    df["weight"] = rng.uniform(0.5, 2.0, n)
    return df


def _sql(weighted: bool) -> str:
    w = "weight" if weighted else "1.0"
    parts = []
    for m, pos, neg in (("nps", "nps >= 9", "nps <= 6"), ("csat", "csat >= 4", None), ("ces", "ces >= 5", None)):
        ok = f"{m} IS NOT NULL"
        parts += [
            f"count({m}) AS {m}_count",
            f"sum(CASE WHEN {ok} THEN {w} END) AS {m}_sw",
            f"sum(CASE WHEN {ok} THEN {w} * {w} END) AS {m}_sw2",
            f"sum({w} * {m}) AS {m}_swx",
            f"sum({w} * {m} * {m}) AS {m}_swx2",
            f"sum(CASE WHEN {pos} THEN {w} ELSE 0 END) AS {m}_swpos",
            f"sum(CASE WHEN {neg} THEN {w} ELSE 0 END) AS {m}_swneg" if neg else f"0.0 AS {m}_swneg",
        ]
    seg_list = ", ".join(SEGMENTS)
    sets = ", ".join(["(month)", *[f"({s}, month)" for s in SEGMENTS]])
    # date_trunc is cheap; the month label is formatted on the ~1,500 result rows only
    return (f"SELECT {seg_list}, date_trunc('month', date) AS month, GROUPING({seg_list}) AS gid, "
            f"{', '.join(parts)} FROM df GROUP BY GROUPING SETS ({sets})")


def intervals_from_aggregates(agg: pd.DataFrame, weighted: bool) -> dict[str, pd.DataFrame]:
    """The same formulas as cxaudit.metrics, applied to DuckDB's aggregates."""
    out = {}
    month = pd.to_datetime(agg["month"]).dt.strftime("%Y-%m")
    for m in ("nps", "csat", "ces"):
        sw, sw2 = agg[f"{m}_sw"].to_numpy(float), agg[f"{m}_sw2"].to_numpy(float)
        n = sw**2 / sw2 if weighted else agg[f"{m}_count"].to_numpy(float)
        p, d = agg[f"{m}_swpos"].to_numpy(float) / sw, agg[f"{m}_swneg"].to_numpy(float) / sw
        mean = agg[f"{m}_swx"].to_numpy(float) / sw
        if m == "nps":
            value = 100 * (p - d)
            lo, hi = _nps_interval(p * n, d * n, n, "adjusted-wald")
        elif m == "csat":
            value = p
            lo, hi = _wilson(p * n, n)
        else:
            var = np.maximum(agg[f"{m}_swx2"].to_numpy(float) / sw - mean**2, 0) * n / (n - 1)
            half = stats.t.ppf(0.975, n - 1) * np.sqrt(var) / np.sqrt(n)
            value, lo, hi = mean, mean - half, mean + half
        out[m] = pd.DataFrame({"gid": agg["gid"], "month": month, "n": n, "value": value, "ci_low": lo,
                               "ci_high": hi, **{s: agg[s] for s in SEGMENTS}})
    return out


def best(fn: Callable[[], object]) -> tuple[float, float, object]:
    """(min, median) wall time of REPEAT runs after one warm-up, and the last result."""
    result = fn()
    times = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times), result


def check_equal(cube: pd.DataFrame, duck: dict[str, pd.DataFrame]) -> float:
    """Largest absolute difference between the two cubes (value and interval of every cell)."""
    worst = 0.0
    for m, tab in duck.items():
        for dim in ["total", *SEGMENTS]:
            ours = cube[(cube["metric"] == m) & (cube["dimension"] == dim)]
            if dim == "total":
                theirs = tab[tab["gid"] == 2 ** len(SEGMENTS) - 1].assign(group="")
            else:
                theirs = tab[tab[dim].notna() & (tab["gid"] == (2 ** len(SEGMENTS) - 1) - 2 ** (len(SEGMENTS) - 1 -
                                                                                            list(SEGMENTS).index(dim)))]
                theirs = theirs.assign(group=theirs[dim].astype(str))
            merged = ours.merge(theirs, left_on=["group", "period"], right_on=["group", "month"], suffixes=("", "_d"))
            assert len(merged) == len(ours) == len(theirs), (m, dim, len(merged), len(ours), len(theirs))
            for c in ("n", "value", "ci_low", "ci_high"):
                worst = max(worst, float(np.nanmax(np.abs(merged[c].to_numpy(float) - merged[f"{c}_d"].to_numpy(float)))))
    return worst


def main() -> None:
    try:
        import duckdb
    except ImportError:
        sys.exit("bench_metrics: duckdb is not installed; run `.venv/bin/pip install -e '.[bench]'`")
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    t0 = time.perf_counter()
    df = make_responses(n)
    print(f"bench_metrics: {n:,} responses, {len(SEGMENTS)} segment columns "
          f"({', '.join(f'{k}:{v}' for k, v in SEGMENTS.items())}), 18 months; generated in "
          f"{time.perf_counter() - t0:.1f} s; duckdb {duckdb.__version__}, {REPEAT} timed runs each (min / median)")
    con = duckdb.connect()
    threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    con.register("df", df)
    for weighted in (False, True):
        label = "weighted (Kish n_eff)" if weighted else "unweighted"
        w = "weight" if weighted else None
        ours_min, ours_med, cube = best(lambda w=w: metric_cube(df, by=list(SEGMENTS), period="M", weight=w))
        tables_min, tables_med, _ = best(lambda w=w: [metric_table(df, m, by=[s], period="M", weight=w)
                                                      for m in ("nps", "csat", "ces") for s in SEGMENTS])
        sql = _sql(weighted)
        duck_min, duck_med, duck = best(
            lambda sql=sql, weighted=weighted: intervals_from_aggregates(con.execute(sql).df(), weighted))
        diff = check_equal(cube, duck)  # type: ignore[arg-type]
        cells = len(cube)  # type: ignore[arg-type]
        print(f"\n[{label}] {cells} cube cells (metric × group × month, with the month totals)")
        print(f"  cxaudit metric_cube                    {ours_min * 1000:8.1f} ms  (median {ours_med * 1000:.1f})")
        print(f"  cxaudit 15 × metric_table (per call)  {tables_min * 1000:8.1f} ms  (median {tables_med * 1000:.1f})")
        print(f"  DuckDB GROUPING SETS + intervals ({threads} threads) {duck_min * 1000:8.1f} ms  "
              f"(median {duck_med * 1000:.1f})")
        print(f"  ratio cxaudit / DuckDB: metric_cube {ours_min / duck_min:.2f}×, "
              f"15 × metric_table {tables_min / duck_min:.2f}×  (target ≤ 2×)")
        print(f"  largest |difference| between the two cubes: {diff:.2e}")
    con.execute("CREATE TABLE native AS SELECT * FROM df")
    native_min, _, _ = best(lambda: con.execute(_sql(False).replace("FROM df", "FROM native")).df())
    print(f"\n  (DuckDB on its own native table, aggregates only: {native_min * 1000:.1f} ms)")


if __name__ == "__main__":
    main()
