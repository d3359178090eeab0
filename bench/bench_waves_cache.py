"""Wave runs of a 200k-respondent client: what the conformed-table cache saves.

A client measures a second wave: new survey answers (``responses.csv``, 200,000 rows, the demo's large size
with another seed), while the CRM and service extracts did not change (``customers.csv`` 150,000 rows,
``tickets.csv`` 100,000, ``employees.csv``, ``kpis.csv``, ``touchpoints.csv``, ``events.csv``: byte-identical
copies of wave 1's). Loading and validating a wave (:func:`cxaudit.audit.load_audit`, what ``cxaudit run
--wave`` does before any notebook starts) is timed three ways, each in a fresh process-level state:

1. wave 1 with an empty cache (every table read and validated; the cache is filled);
2. wave 2 without the cache (``cache=False``: what every wave cost before);
3. wave 2 with the cache (unchanged tables come from Parquet keyed by their input's sha256).

The tables of 2 and 3 must be identical (checked). Prints the seconds and the time saved; writes
bench/out/waves_cache.json. Data are generated under /tmp (``--data`` to reuse a folder).

Usage: ``.venv/bin/python bench/bench_waves_cache.py [--data /tmp/cx-waves-200k]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

import pandas as pd


def _prepare(root: Path) -> Path:
    from cxaudit.demo import generate_demo

    client = root / "bigclient"
    if (client / "waves" / "wave2" / "responses.csv").is_file():
        return client
    t0 = time.perf_counter()
    generate_demo(client, size="large", seed=7)
    w1, w2 = client / "waves" / "wave1", client / "waves" / "wave2"
    w1.mkdir(parents=True, exist_ok=True)
    for f in client.glob("*.csv"):
        shutil.copy(f, w1 / f.name)
    tmp = root / "wave2-src"
    generate_demo(tmp, size="large", seed=1007)
    w2.mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp / "responses.csv", w2 / "responses.csv")
    for f in w1.glob("*.csv"):
        if f.name != "responses.csv":
            shutil.copy(f, w2 / f.name)
    shutil.rmtree(tmp)
    print(f"data generated in {time.perf_counter() - t0:.0f} s", flush=True)
    return client


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/tmp/cx-waves-200k")
    args = ap.parse_args()
    root = Path(args.data)
    root.mkdir(parents=True, exist_ok=True)
    os.environ["CXAUDIT_HOME"] = str(root / "home")
    client = _prepare(root)
    from cxaudit import paths
    from cxaudit.audit import load_audit
    from cxaudit.waves import CACHE_STATS

    cache = paths.reports_root() / client.name / ".cache"
    shutil.rmtree(cache, ignore_errors=True)
    rows = {f.name: sum(1 for _ in open(f, encoding="utf-8")) - 1 for f in sorted((client / "waves" / "wave2").glob("*.csv"))}
    t0 = time.perf_counter()
    load_audit(client, wave="wave1")
    t_w1 = time.perf_counter() - t0
    t0 = time.perf_counter()
    cold = load_audit(client, wave="wave2", cache=False)
    t_cold = time.perf_counter() - t0
    h0 = dict(CACHE_STATS)
    t0 = time.perf_counter()
    warm = load_audit(client, wave="wave2")
    t_warm = time.perf_counter() - t0
    hits = CACHE_STATS["hits"] - h0["hits"]
    misses = CACHE_STATS["misses"] - h0["misses"]
    for name in cold.tables:
        pd.testing.assert_frame_equal(cold.tables[name].reset_index(drop=True), warm.tables[name].reset_index(drop=True))
    pd.testing.assert_frame_equal(cold.log.reset_index(drop=True), warm.log.reset_index(drop=True))
    assert cold.rows_in == warm.rows_in
    out = {"rows": rows, "wave1_empty_cache_s": round(t_w1, 2), "wave2_no_cache_s": round(t_cold, 2),
           "wave2_cache_s": round(t_warm, 2), "saved_s": round(t_cold - t_warm, 2),
           "saved_share": round(1 - t_warm / t_cold, 3), "cache_hits": hits, "cache_misses": misses,
           "identical_tables": True}
    Path("bench/out").mkdir(parents=True, exist_ok=True)
    Path("bench/out/waves_cache.json").write_text(json.dumps(out, indent=2), encoding="utf-8")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
