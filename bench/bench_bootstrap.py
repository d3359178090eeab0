"""The two bootstraps of issue 19 in isolation: key drivers (03) and the CSI (02), before and after.

``.venv/bin/python bench/bench_bootstrap.py [--rows 200000] [--which new-drivers,old-drivers,new-csi,old-csi]``

Data: 18 touchpoint ratings (1-10, 40 % unanswered at random, correlated through one latent factor) and
a 0-10 likelihood to recommend, seeded, shaped like the demo's responses. Each variant runs in its own
subprocess so its peak memory (``ru_maxrss``) is its own: drivers = ``relative_importance`` with 200
bootstrap replicates (exact Shapley, noise test), CSI = ``csi(..., "derived", n_boot=2000)`` as
``scorecard.csi_overall`` calls it. "old" is the code before issue 19 (git ``a9c50f8^``), loaded from
``git show`` into a temporary module, so both run in the same session on the same data.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
OLD_COMMIT = "a9c50f8^"


def make(n: int, p: int = 18, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lat = rng.normal(size=(n, 1))
    x = 0.6 * lat + rng.normal(size=(n, p))
    y = x @ np.linspace(1, 0, p) * 0.3 + rng.normal(size=n) * 2
    x = np.clip(np.rint(x * 1.5 + 7), 1, 10)
    x[rng.random((n, p)) < 0.4] = np.nan
    df = pd.DataFrame(x, columns=[f"tp{i}" for i in range(p)])
    df["y"] = np.clip(np.rint(y + 7), 0, 10)
    return df


def _old_module(name: str):  # noqa: ANN202
    import importlib.util

    src = subprocess.run(["git", "show", f"{OLD_COMMIT}:cxaudit/{name}.py"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    src = src.replace("from .errors import", "from cxaudit.errors import")
    path = Path(tempfile.mkdtemp()) / f"old_{name}.py"
    path.write_text(src, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"old_{name}", path)
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[f"old_{name}"] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def one(which: str, rows: int) -> dict:
    df = make(rows)
    cols = [c for c in df.columns if c != "y"]
    kind, variant = which.split("-")[1], which.split("-")[0]
    if kind == "drivers":
        from cxaudit import drivers as new
        mod = _old_module("drivers") if variant == "old" else new
        t, c = time.perf_counter(), time.process_time()
        res = mod.relative_importance(df, "y", cols, bootstrap=200, seed=5)
        out = {"ci_width_top": float(res["ci_high"].iloc[0] - res["ci_low"].iloc[0])}
    else:
        from cxaudit import metrics as new
        mod = _old_module("metrics") if variant == "old" else new
        t, c = time.perf_counter(), time.process_time()
        r = mod.csi(df[cols], "derived", outcome=df["y"], ci="bootstrap", n_boot=2000, seed=5)
        out = {"value": r.value, "ci": [r.ci_low, r.ci_high], "se": r.details["se"]}
    return {"which": which, "rows": rows, "wall_s": round(time.perf_counter() - t, 2),
            "cpu_s": round(time.process_time() - c, 2),
            "maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), **out}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--which", default="new-drivers,old-drivers,new-csi,old-csi")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(one(a.one, a.rows)))
        return
    base = {"which": "data only", **json.loads(subprocess.run(
        [sys.executable, "-c", f"import sys, json, resource; sys.path.insert(0, {str(ROOT / 'bench')!r}); "
         f"import bench_bootstrap as b; b.make({a.rows}); "
         "print(json.dumps({'maxrss_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))"],
        check=True, capture_output=True, text=True).stdout)}
    print(json.dumps(base), flush=True)
    for w in a.which.split(","):
        r = subprocess.run([sys.executable, __file__, "--one", w, "--rows", str(a.rows)], capture_output=True, text=True)
        print(r.stdout.strip() or r.stderr[-2000:], flush=True)


if __name__ == "__main__":
    main()
