"""Reading speed of the survey readers against plain pandas / pyreadstat, measured in the same run.

Generates (into a temporary folder, deleted afterwards) a 1,000,000-row survey CSV (17 columns,
ISO date-times, quoted comments with commas and line breaks in 40 % of rows) and a 100,000-row SPSS
.sav (value labels, a user-missing code), then times:

- ``pandas.read_csv(path)`` and ``pandas.read_csv(path, dtype=str, ...)`` (the text-only baseline)
  against ``cxaudit.io.read_table`` (encoding / delimiter detection, exact line numbers, row issues);
- ``pyreadstat.read_sav(path)`` against ``read_table`` on the .sav (labels applied, user-missing
  masked, cells as text);
- ``cxaudit.load_audit`` (reader + mapping + type conversion + every data-quality check) on both.

Run: ``.venv/bin/python bench/bench_io.py [--rows 1000000] [--sav-rows 100000]``.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def _time(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def make_csv(path: Path, n: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2025-01-01T00:00")
    dates = (start + rng.integers(0, 540 * 24 * 60, n).astype("timedelta64[m]")).astype(str)
    comments = np.array(["", "", "", "Fast delivery, friendly staff", 'Said "soon", came late',
                         "Long wait\non the phone", "Всё хорошо", ""], dtype=object)
    tp = {f"tp_{k}": np.where(rng.random(n) < 0.5, rng.integers(1, 6, n).astype(str), "") for k in
          ("web", "app", "delivery", "support", "billing")}
    frame = pd.DataFrame({
        "Response ID": np.char.add("R", np.arange(n).astype(str)),
        "Customer ID": np.char.add("C", rng.integers(0, n // 2, n).astype(str)),
        "Submitted": np.char.replace(dates.astype(str), "T", " "),
        "NPS": rng.integers(0, 11, n), "CSAT": rng.integers(1, 6, n), "CES": rng.integers(1, 8, n),
        "Comment": comments[rng.integers(0, len(comments), n)],
        "Duration (s)": rng.gamma(4, 80, n).round(1),
        "segment": rng.choice(["Consumer", "Small business", "Corporate"], n),
        "region": rng.choice(["North", "South", "East", "West"], n),
        "channel": rng.choice(["web", "app", "phone"], n), **tp,
    })
    frame.to_csv(path, index=False)


def make_sav(path: Path, n: int, seed: int = 2) -> None:
    import pyreadstat

    rng = np.random.default_rng(seed)
    nps = rng.integers(1, 12, n).astype(float)
    nps[rng.random(n) < 0.02] = 99.0  # "don't know", declared missing
    frame = pd.DataFrame({
        "ResponseId": np.char.add("R_", np.arange(n).astype(str)),
        "RecordedDate": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 500 * 86400, n), unit="s"),
        "Q1": nps, "Q2": rng.integers(1, 6, n).astype(float), "segment": rng.integers(1, 4, n).astype(float),
        "Duration__in_seconds_": rng.gamma(4, 80, n).round(0),
        **{f"Q5_{k}": rng.integers(1, 6, n).astype(float) for k in range(1, 6)},
    })
    labels = {"Q1": {**{float(k + 1): str(k) for k in range(11)}, 1.0: "0 - Not at all likely",
                     11.0: "10 - Extremely likely", 99.0: "Don't know"},
              "Q2": {1.0: "Very dissatisfied", 2.0: "Dissatisfied", 3.0: "Neither satisfied nor dissatisfied",
                     4.0: "Satisfied", 5.0: "Very satisfied"},
              "segment": {1.0: "Consumer", 2.0: "Small business", 3.0: "Corporate"}}
    pyreadstat.write_sav(frame, str(path), variable_value_labels=labels,
                         missing_ranges={"Q1": [99.0]})


CSV_YAML = """client: {name: Bench}
inputs:
  responses:
    file: responses.csv
    columns: {response_id: Response ID, customer_id: Customer ID, date: Submitted, nps: NPS, csat: CSAT, ces: CES,
              comment: Comment, duration_s: Duration (s)}
"""
SAV_YAML = """client: {name: Bench}
inputs:
  responses:
    file: responses.sav
    columns: {nps: Q1, csat: Q2, tp_a: Q5_1, tp_b: Q5_2, tp_c: Q5_3, tp_d: Q5_4, tp_e: Q5_5}
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--sav-rows", type=int, default=100_000)
    args = ap.parse_args()

    import pyreadstat

    from cxaudit import load_audit
    from cxaudit.io import read_table

    tmp = Path(tempfile.mkdtemp(prefix="cxaudit-bench-io-"))
    try:
        csv_dir, sav_dir = tmp / "csv", tmp / "sav"
        csv_dir.mkdir()
        sav_dir.mkdir()
        t_gen, _ = _time(lambda: make_csv(csv_dir / "responses.csv", args.rows))
        (csv_dir / "audit.yaml").write_text(CSV_YAML)
        size = (csv_dir / "responses.csv").stat().st_size / 1e6
        print(f"CSV: {args.rows:,} rows, {size:.0f} MB (generated in {t_gen:.1f} s)")
        t_pd, _ = _time(lambda: pd.read_csv(csv_dir / "responses.csv"), repeat=2)
        t_pd_str, _ = _time(lambda: pd.read_csv(csv_dir / "responses.csv", dtype=str, keep_default_na=False,
                                                na_values=[""]), repeat=2)
        t_read, raw = _time(lambda: read_table(csv_dir / "responses.csv"), repeat=2)
        assert len(raw.frame) == args.rows
        t_load, audit = _time(lambda: load_audit(csv_dir))
        assert audit.intake().iloc[0]["rows_in"] == args.rows
        print(f"  pandas.read_csv (default dtypes)     {t_pd:7.2f} s")
        print(f"  pandas.read_csv (dtype=str)          {t_pd_str:7.2f} s")
        print(f"  cxaudit.io.read_table                {t_read:7.2f} s   x{t_read / t_pd:.2f} vs default, "
              f"x{t_read / t_pd_str:.2f} vs dtype=str")
        print(f"  cxaudit.load_audit (read+checks)     {t_load:7.2f} s   x{t_load / t_pd:.2f} vs default read_csv")

        t_gen, _ = _time(lambda: make_sav(sav_dir / "responses.sav", args.sav_rows))
        (sav_dir / "audit.yaml").write_text(SAV_YAML)
        size = (sav_dir / "responses.sav").stat().st_size / 1e6
        print(f"SAV: {args.sav_rows:,} rows, {size:.1f} MB (generated in {t_gen:.1f} s)")
        t_rs, _ = _time(lambda: pyreadstat.read_sav(str(sav_dir / "responses.sav")), repeat=2)
        t_rs_um, _ = _time(lambda: pyreadstat.read_sav(str(sav_dir / "responses.sav"), user_missing=True), repeat=2)
        t_read, raw = _time(lambda: read_table(sav_dir / "responses.sav"), repeat=2)
        assert len(raw.frame) == args.sav_rows
        t_load, audit = _time(lambda: load_audit(sav_dir))
        assert audit.intake().iloc[0]["rows_in"] == args.sav_rows
        print(f"  pyreadstat.read_sav                  {t_rs:7.2f} s")
        print(f"  pyreadstat.read_sav(user_missing)    {t_rs_um:7.2f} s")
        print(f"  cxaudit.io.read_table                {t_read:7.2f} s   x{t_read / t_rs:.2f} vs read_sav")
        print(f"  cxaudit.load_audit (read+checks)     {t_load:7.2f} s   x{t_load / t_rs:.2f} vs read_sav")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
