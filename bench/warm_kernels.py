"""Warm kernels against papermill's cold start: the same audit run alternately both ways.

    python bench/warm_kernels.py [--size default] [--rounds 2] [--jobs 2]

Each round runs ``run_audit(client, formats=("html",), warm_kernels=...)`` once cold and once warm (order
alternating between rounds, so drift on a noisy machine falls on both), in a fresh process each time,
and records wall time, CPU seconds of the process and all its children, and the notebooks' seconds.
Results: ``bench/results/warm-kernels-<date>.json`` and a markdown table on stdout. The demo is
generated in a scratch ``CXAUDIT_HOME`` (``bench/out/warm-<size>``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable

CHILD = """
import json, sys
from cxaudit.runner import run_audit
r = run_audit("demo", jobs={jobs}, formats=("html",), progress=False, warm_kernels={warm})
print(json.dumps({{"notebooks": {{x["notebook"]: x["seconds"] for x in r.manifest["notebooks"]}},
                   "report_s": r.manifest["report"]["seconds"], "tables_s": r.manifest["tables_seconds"]}}))
"""


def one(home: Path, warm: bool, jobs: int) -> dict:
    env = {**os.environ, "CXAUDIT_HOME": str(home)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run([PY, "-c", CHILD.format(jobs=jobs, warm=warm)], env=env, capture_output=True, text=True,
                         check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the child and every grandchild it waited for
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rec = json.loads(out.stdout.strip().splitlines()[-1])
    return {"warm": warm, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), **rec}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="default")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    home = HERE / "out" / f"warm-{args.size}"
    if not (home / "data" / "demo" / "audit.yaml").exists():
        home.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(Path(PY).parent / "cxaudit"), "demo", "--size", args.size], check=True,
                       env={**os.environ, "CXAUDIT_HOME": str(home)}, capture_output=True)
    runs = []
    for r in range(args.rounds):
        for warm in ((False, True) if r % 2 == 0 else (True, False)):
            runs.append(one(home, warm, args.jobs))
            print(f"round {r + 1}: {'warm' if warm else 'cold'} wall {runs[-1]['wall_s']} s, "
                  f"CPU {runs[-1]['cpu_s']} s", file=sys.stderr)
    summary = {}
    for warm in (False, True):
        sel = [x for x in runs if x["warm"] is warm]
        summary["warm" if warm else "cold"] = {"wall_s": statistics.median(x["wall_s"] for x in sel),
                                               "cpu_s": statistics.median(x["cpu_s"] for x in sel)}
    ratio = {k: round(summary["warm"][k] / summary["cold"][k], 3) for k in ("wall_s", "cpu_s")}
    load = os.getloadavg()
    res = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "size": args.size, "jobs": args.jobs,
           "loadavg_at_end": [round(x, 2) for x in load], "runs": runs, "median": summary, "warm_over_cold": ratio}
    out = HERE / "results" / f"warm-kernels-{dt.date.today().isoformat()}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(res, indent=2), encoding="utf-8")
    print(f"| {args.size} demo, jobs {args.jobs} | wall s (median of {args.rounds}) | CPU s |\n|---|---|---|")
    for k in ("cold", "warm"):
        print(f"| {k} kernels | {summary[k]['wall_s']} | {summary[k]['cpu_s']} |")
    print(f"| warm / cold | {ratio['wall_s']} | {ratio['cpu_s']} |\n\nload average at the end: {load}; {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
