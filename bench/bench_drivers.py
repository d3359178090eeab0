"""Benchmark of exact Shapley / LMG key-driver analysis (cxaudit.drivers).

Prints two figures, each against a baseline measured in the same run:

1. **20 drivers × 100,000 rows**, exact Shapley (all 2^20 = 1,048,576 subsets) end to end
   (correlation matrix from the raw rows + subset table + Shapley values). Target: ≤ 3 s. Baseline:
   the textbook route, one ``numpy.linalg.solve`` of R_SS per subset, timed on a random sample of
   subsets and scaled to all 2^20 (labelled as extrapolated).
2. **12 drivers** (same data, same run) against the ``dominance-analysis`` package (PyPI,
   1.1.9), whose general dominance ("Total Dominance") equals Shapley / LMG: values must agree to
   1e-6 and cxaudit must be ≥ 100× faster. dominance-analysis pins ``bokeh==2.4.3``, which does not
   import on numpy 2, so it runs in its own virtualenv ``bench/.venv-dominance`` (created here on
   first use: ``--no-deps`` install plus ``bench/requirements-drivers.txt`` with a current bokeh),
   in a subprocess that times only its own calls (not the interpreter start or the imports).

Usage: ``.venv/bin/python bench/bench_drivers.py [--rows12 N] [--skip-dominance]``.
Exit status 1 when a target is missed or the values disagree.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cxaudit.drivers import correlation_matrix, relative_importance, subset_r2

HERE = Path(__file__).resolve().parent

VENV = HERE / ".venv-dominance"
REQUIREMENTS = HERE / "requirements-drivers.txt"
DOMINANCE_VERSION = "1.1.9"
SEED = 20261124

_DOMINANCE_RUNNER = r"""
import json, sys, time, io, contextlib
import numpy as np, pandas as pd
data = pd.read_csv(sys.argv[1])
mode = int(sys.argv[3])
out = {}
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    from dominance_analysis import Dominance
    if mode == 0:  # raw data: one sklearn LinearRegression per subset (the package's default)
        t0 = time.perf_counter()
        d = Dominance(data=data, target="y", objective=1)
        general = d.incremental_rsquare()
        out["seconds"] = time.perf_counter() - t0
    else:  # data_format=1: the correlation matrix, one pinv per subset
        corr = data.corr()
        t0 = time.perf_counter()
        d = Dominance(data=corr, target="y", objective=1, data_format=1)
        general = d.incremental_rsquare()
        out["seconds"] = time.perf_counter() - t0
out["general_dominance"] = {k: float(v) for k, v in general.items()}
import bokeh
out["versions"] = {"bokeh": bokeh.__version__, "numpy": np.__version__, "pandas": pd.__version__}
with open(sys.argv[2], "w") as f:
    json.dump(out, f)
"""


def make_data(n: int, p: int, seed: int) -> pd.DataFrame:
    """Correlated drivers (a common factor, like a survey halo) and an outcome with unequal weights."""
    rng = np.random.default_rng(seed)
    common = rng.standard_normal((n, 1))
    x = 0.6 * common + rng.standard_normal((n, p))
    weights = np.linspace(1.0, 0.05, p)
    y = x @ weights + 2.0 * rng.standard_normal(n)
    frame = pd.DataFrame(x, columns=[f"d{j:02d}" for j in range(p)])
    frame["y"] = y
    return frame


def best_of(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def naive_seconds_per_subset(r_xx: np.ndarray, r_xy: np.ndarray, sample: int, seed: int) -> float:
    """The textbook route: solve R_SS β = r_S for each subset; seconds per subset on a random sample."""
    p = len(r_xy)
    rng = np.random.default_rng(seed)
    masks = rng.integers(1, 1 << p, sample)
    t0 = time.perf_counter()
    for mask in masks:
        s = [j for j in range(p) if mask >> j & 1]
        float(r_xy[s] @ np.linalg.solve(r_xx[np.ix_(s, s)], r_xy[s]))
    return (time.perf_counter() - t0) / sample


def part_one(target: float) -> bool:
    p, n = 20, 100_000
    data = make_data(n, p, SEED)
    drivers = [c for c in data.columns if c != "y"]
    relative_importance(data.iloc[:2000], "y", drivers)  # warm-up (allocations, caches)
    seconds, res = best_of(lambda: relative_importance(data, "y", drivers), 3)
    corr_s, (corr, _) = best_of(lambda: correlation_matrix(data[[*drivers, "y"]].to_numpy()), 3)
    sub_s, table = best_of(lambda: subset_r2(corr[:p, :p], corr[:p, p]), 3)
    per = naive_seconds_per_subset(corr[:p, :p], corr[:p, p], 20_000, SEED)
    naive_total = per * ((1 << p) - 1)
    ok_sum = abs(float(res["importance"].sum()) - float(res.attrs["r2"])) < 1e-12
    print(f"== 1. exact Shapley, {p} drivers x {n:,} rows ({1 << p:,} subsets)")
    print(f"   cxaudit.drivers.relative_importance: {seconds:.3f} s (best of 3; target <= {target:.1f} s) "
          f"-> {'PASS' if seconds <= target else 'FAIL'}")
    print(f"     of which correlation matrix {corr_s:.3f} s, subset table {sub_s:.3f} s")
    print(f"   baseline, one np.linalg.solve per subset: {per * 1e6:.1f} us/subset -> {naive_total:.1f} s for all "
          f"(extrapolated from 20,000 random subsets)")
    print(f"   speed-up vs baseline: {naive_total / seconds:,.0f}x;  sum of Shapley values = R2 "
          f"({res.attrs['r2']:.6f}): {'yes' if ok_sum else 'NO'};  R2(full) from the table {table[-1]:.6f}")
    return seconds <= target and ok_sum


def ensure_venv() -> Path:
    py = VENV / "bin" / "python"
    check = [str(py), "-c", "import dominance_analysis, bokeh"]
    if py.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return py
    print(f"   creating {VENV.relative_to(HERE.parent)} (dominance-analysis=={DOMINANCE_VERSION}, current bokeh)")
    steps = [
        [sys.executable, "-m", "venv", str(VENV)],
        [str(py), "-m", "pip", "install", "--quiet", "--no-deps", f"dominance-analysis=={DOMINANCE_VERSION}"],
        [str(py), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(step)} failed:\n{done.stderr[-2000:]}")
    done = subprocess.run(check, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"dominance-analysis does not import in {VENV}:\n{done.stderr[-2000:]}")
    return py


def run_dominance(py: Path, data: pd.DataFrame, mode: int, workdir: Path) -> dict:
    src, out = workdir / "data.csv", workdir / f"out{mode}.json"
    data.to_csv(src, index=False, float_format="%.17g")  # exact round trip of every float
    runner = workdir / "runner.py"
    runner.write_text(_DOMINANCE_RUNNER, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    done = subprocess.run([str(py), str(runner), str(src), str(out), str(mode)], capture_output=True, text=True,
                          env=env)
    if done.returncode != 0:
        raise RuntimeError(f"dominance-analysis failed (mode {mode}):\n{done.stderr[-3000:]}")
    return json.loads(out.read_text(encoding="utf-8"))


def part_two(rows: int, min_ratio: float) -> bool:
    p = 12
    data = make_data(rows, p, SEED + 1)
    drivers = [c for c in data.columns if c != "y"]
    relative_importance(data.iloc[:500], "y", drivers)  # warm-up
    ours_s, ours = best_of(lambda: relative_importance(data, "y", drivers), 7)
    print(f"== 2. {p} drivers x {rows:,} rows ({(1 << p) - 1:,} subset models), same data, same run")
    print(f"   cxaudit.drivers.relative_importance: {ours_s * 1000:.2f} ms (best of 7)")
    py = ensure_venv()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for mode, what in ((0, "raw data, sklearn fit per subset (default)"),
                           (1, "correlation matrix, pinv per subset (data_format=1)")):
            dom = run_dominance(py, data, mode, Path(tmp))
            theirs = pd.Series(dom["general_dominance"]).reindex(drivers).to_numpy()
            diff = float(np.max(np.abs(ours.loc[drivers, "importance"].to_numpy() - theirs)))
            ratio = dom["seconds"] / ours_s
            agree = diff <= 1e-6
            fast = ratio >= min_ratio
            ok &= agree and (fast or mode == 1)
            print(f"   dominance-analysis {DOMINANCE_VERSION} [{what}]: {dom['seconds']:.2f} s -> cxaudit is "
                  f"{ratio:,.0f}x faster (target >= {min_ratio:.0f}x{'' if mode == 0 else ', informative'}): "
                  f"{'PASS' if fast else 'FAIL'}")
            print(f"     max |general dominance - Shapley| = {diff:.2e} (<= 1e-6: {'PASS' if agree else 'FAIL'})")
        print(f"   its environment: {', '.join(f'{k} {v}' for k, v in dom['versions'].items())}")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows12", type=int, default=10_000, help="rows of the 12-driver comparison")
    ap.add_argument("--target", type=float, default=3.0, help="seconds allowed for 20 drivers x 100k rows")
    ap.add_argument("--min-ratio", type=float, default=100.0, help="required speed-up over dominance-analysis")
    ap.add_argument("--skip-dominance", action="store_true", help="only part 1 (no separate venv)")
    args = ap.parse_args()
    print(f"cxaudit key-driver benchmark · numpy {np.__version__} · {os.cpu_count()} CPU(s)")
    ok = part_one(args.target)
    if not args.skip_dominance:
        ok &= part_two(args.rows12, args.min_ratio)
    print("RESULT:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
