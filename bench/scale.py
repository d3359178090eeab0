"""The whole audit at scale against the same analysis as one plain Python process (issue 19).

``make bench-scale`` or ``.venv/bin/python bench/scale.py [--sizes default,large,xl] [--jobs 2]``.

For each demo size the script

1. generates the demo client into its own ``CXAUDIT_HOME`` (``bench/out/scale-<size>/``, reused when it
   is already there; generation is timed but is not part of either figure);
2. **the chain**: ``cxaudit run demo --format html --jobs J`` in a subprocess (validation once, every
   section's notebook in its kernel, the HTML report; no PDF);
3. **the in-process baseline**: this script with ``--baseline`` in a subprocess, which does, in one
   Python process, what the chain's analysis does: ``load_audit`` + ``Audit.save`` (the run's tables,
   the same files the runner writes), then every registered section's notebook in the runner's
   dependency order (``runner.plan``): each code cell executed unchanged by one IPython
   ``InteractiveShell`` (``display()`` computes every representation a kernel would send, HTML and
   PNG, and the result is discarded), the parameters cell followed by ``client``, ``run_dir`` and
   ``lang`` as papermill injects them, the namespace and the figures cleared between notebooks. It
   does **not** include kernel start-up, papermill / nbclient messaging, writing the executed
   notebooks, or rendering the report. Each notebook reads the run's tables again, as it does in
   the chain.

Both are measured the same way: wall time; CPU seconds of the process and every descendant that was
waited for (``getrusage(RUSAGE_CHILDREN)`` before / after; the sum of the last CPU times psutil saw per
process is printed beside it as a check); memory: the summed RSS of the whole process tree (psutil,
every 0.2 s, children included) at its peak, and the largest single process.

Writes ``bench/results/scale-<UTC date>.json`` and ``.md`` (a table of both and their ratios; a later run the
same day replaces the sizes it measured and keeps the others). XL takes
minutes and GBs: run it on a quiet machine (``--sizes xl``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
RESULTS = ROOT / "bench" / "results"
PY = sys.executable
CLI = str(Path(PY).parent / "cxaudit")


class TreeSampler(threading.Thread):
    """Peak summed RSS of a process and all its descendants, sampled every ``interval`` seconds."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_tree = 0
        self.peak_process = 0
        self.peak_procs = 0
        self.cpu_seen: dict[tuple[int, float], float] = {}
        #: the tree at its peak: seconds since the start and each process's kind and resident MB
        self.at_peak: dict[str, Any] = {}
        self._t0 = time.perf_counter()
        self._halt = threading.Event()

    def sample(self) -> None:
        try:
            root = psutil.Process(self.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        total = 0
        seen = []
        for p in procs:
            try:
                with p.oneshot():
                    rss = p.memory_info().rss
                    cpu = p.cpu_times()
                    key = (p.pid, p.create_time())
                    cmd = " ".join(p.cmdline()[1:3])
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            total += rss
            seen.append({"pid": p.pid, "kind": _kind(cmd, p is root), "rss_mb": round(rss / 2**20, 1)})
            self.peak_process = max(self.peak_process, rss)
            self.cpu_seen[key] = cpu.user + cpu.system
        if total > self.peak_tree:
            self.at_peak = {"t_s": round(time.perf_counter() - self._t0, 1),
                            "procs": sorted(seen, key=lambda d: -d["rss_mb"])}
        self.peak_tree = max(self.peak_tree, total)
        self.peak_procs = max(self.peak_procs, len(procs))

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def _kind(cmd: str, root: bool) -> str:
    """What a process of the tree is, from its command line (for the breakdown at the peak)."""
    if root:
        return "main"
    if "ipykernel" in cmd:
        return "kernel"
    if "multiprocessing" in cmd or "spawn_main" in cmd or "forkserver" in cmd:
        return "worker"
    return cmd[:40] or "other"


def measure(cmd: list[str], env: dict[str, str], log: Path) -> dict[str, Any]:
    """Run ``cmd``; wall, CPU (all waited-for descendants) and the process tree's peak memory."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        rc = proc.wait()
    wall = time.perf_counter() - t0
    sampler.stop()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return {
        "returncode": rc,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "cpu_sampled_s": round(sum(sampler.cpu_seen.values()), 2),
        "peak_tree_rss_mb": round(sampler.peak_tree / 2**20, 1),
        "peak_process_rss_mb": round(sampler.peak_process / 2**20, 1),
        "max_processes": sampler.peak_procs,
        "at_peak": sampler.at_peak,
        "log": str(log.relative_to(ROOT)) if log.is_relative_to(ROOT) else str(log),
    }


def _home(size: str) -> Path:
    return OUT / f"scale-{size}"


def ensure_demo(size: str, env: dict[str, str]) -> dict[str, Any]:
    home = _home(size)
    if (home / "data" / "demo" / "audit.yaml").is_file() and (home / ".complete").is_file():
        return {"generated": False}
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    res = measure([CLI, "demo", "--size", size], env, home / "demo.log")
    if res["returncode"]:
        raise SystemExit(f"demo --size {size} failed; see {home / 'demo.log'}")
    (home / ".complete").write_text("ok\n")
    return {"generated": True, **res}


def latest_run(home: Path) -> Path:
    runs = sorted((home / "reports" / "demo").glob("*/manifest.json"), key=lambda p: p.stat().st_mtime)
    return runs[-1].parent


def bench_size(size: str, jobs: int, skip_baseline: bool, timeout: int) -> dict[str, Any]:
    env = {**os.environ, "CXAUDIT_HOME": str(_home(size)), "MPLBACKEND": "Agg"}
    out: dict[str, Any] = {"size": size, "demo": ensure_demo(size, env)}
    home = _home(size)
    chain = measure([CLI, "run", "demo", "--format", "html", "--jobs", str(jobs), "--timeout", str(timeout)],
                    env, home / "chain.log")
    out["chain"] = chain
    if chain["returncode"] == 0:
        run_dir = latest_run(home)
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
        out["chain"]["tables_s"] = manifest.get("tables_seconds")
        out["chain"]["notebooks_s"] = {r["notebook"]: r.get("seconds") for r in manifest.get("notebooks", [])}
        out["chain"]["notebooks_peak_mb"] = {r["notebook"]: r.get("peak_rss_mb") for r in manifest.get("notebooks", [])}
        out["chain"]["run_dir"] = str(run_dir)
    if not skip_baseline:
        base_dir = home / "baseline-run"
        shutil.rmtree(base_dir, ignore_errors=True)
        stages = home / "baseline-stages.json"
        out["baseline"] = measure([PY, __file__, "--baseline", str(base_dir), "--stages", str(stages)], env,
                                  home / "baseline.log")
        if stages.is_file():
            out["baseline"]["stages"] = json.loads(stages.read_text(encoding="utf-8"))
        if out["baseline"]["returncode"] == 0 and chain["returncode"] == 0:
            b, c = out["baseline"], chain
            out["ratio"] = {k: round(c[k] / b[k], 2) if b[k] else None
                            for k in ("wall_s", "cpu_s", "peak_tree_rss_mb")}
    return out


# --- the in-process baseline --------------------------------------------------------------------------


def run_baseline(run_dir: Path, stages_file: Path, client: str = "demo", lang: str | None = None) -> None:
    """One process: load + validate + save the tables, then every notebook's code cells in plan order."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib.pyplot as plt
    import nbformat
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell

    from cxaudit import runner
    from cxaudit.audit import load_audit

    class Discard(DisplayPublisher):
        def publish(self, data: Any, metadata: Any = None, *args: Any, **kwargs: Any) -> None:
            pass  # display() has formatted every representation already (HTML, PNG, ...)

    stages: list[dict[str, Any]] = []

    me = psutil.Process()

    def stage(name: str, t0: float, c0: float) -> None:
        # rss after the stage; maxrss = the process's peak so far (a stage that raises it is the new peak)
        stages.append({"stage": name, "wall_s": round(time.perf_counter() - t0, 3),
                       "cpu_s": round(time.process_time() - c0, 3),
                       "rss_mb": round(me.memory_info().rss / 2**20, 1),
                       "maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)})
        stages_file.write_text(json.dumps(stages, indent=1), encoding="utf-8")

    t0, c0 = time.perf_counter(), time.process_time()
    audit = load_audit(client)
    audit.save(run_dir / "tables")
    del audit
    stage("load_validate_save", t0, c0)
    shell = InteractiveShell.instance()
    shell.display_pub = Discard(parent=shell)
    nb_dir = Path(runner.__file__).parent / "notebooks"
    for sec in runner.plan():
        t0, c0 = time.perf_counter(), time.process_time()
        nb = nbformat.read(nb_dir / sec.notebook, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            res = shell.run_cell(cell.source, store_history=False, silent=False)
            if not res.success:
                raise SystemExit(f"baseline: {sec.notebook} failed: {res.error_in_exec or res.error_before_exec!r}")
            if "parameters" in cell.metadata.get("tags", []):
                shell.run_cell(f"client = {client!r}\nrun_dir = {str(run_dir)!r}\nlang = {lang!r}\n",
                               store_history=False)
        shell.reset(new_session=False)
        plt.close("all")
        stage(sec.notebook, t0, c0)


# --- report -------------------------------------------------------------------------------------------


def markdown(results: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    lines = [
        f"# Scale benchmark {meta['date']}",
        "",
        f"Machine: {meta['cpus']} CPUs, load average at start {meta['load_start']}, at end {meta['load_end']}; "
        f"chain `cxaudit run demo --format html --jobs {meta['jobs']}`; baseline = the same analysis in one "
        "Python process (bench/scale.py docstring says exactly what it includes).",
        "",
        "| size | chain wall s | baseline wall s | ratio | chain CPU s | baseline CPU s | ratio | chain peak tree MB "
        "| baseline peak MB | largest process MB (chain) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        c, b, q = r.get("chain", {}), r.get("baseline", {}), r.get("ratio", {})
        if "load_start_end" in r:
            lines[2] += f" {r['size']}: measured {r.get('measured_utc')}, load {r['load_start_end'][0][0]}→{r['load_start_end'][1][0]}."
        lines.append(
            f"| {r['size']} | {c.get('wall_s')} | {b.get('wall_s', '—')} | {q.get('wall_s', '—')} | {c.get('cpu_s')} "
            f"| {b.get('cpu_s', '—')} | {q.get('cpu_s', '—')} | {c.get('peak_tree_rss_mb')} "
            f"| {b.get('peak_tree_rss_mb', '—')} | {c.get('peak_process_rss_mb')} |"
        )
        if c.get("returncode"):
            lines.append(f"|  | chain FAILED (exit {c['returncode']}, log {c['log']}) |||||||||")
    lines += ["", "Per notebook (chain seconds as the runner records them; baseline wall / CPU seconds):", ""]
    for r in results:
        nbs = r.get("chain", {}).get("notebooks_s", {})
        peaks = r.get("chain", {}).get("notebooks_peak_mb", {})
        st = {s["stage"]: s for s in r.get("baseline", {}).get("stages", [])}
        at = r.get("chain", {}).get("at_peak") or {}
        if at:
            lines += [f"**{r['size']}**, the chain's process tree at its peak ({at['t_s']} s after the start): "
                      + ", ".join(f"{p['kind']} {p['rss_mb']:,.0f} MB" for p in at["procs"] if p["rss_mb"] >= 50), ""]
        lines += [f"**{r['size']}** (tables: chain {r.get('chain', {}).get('tables_s')} s, baseline "
                  f"{st.get('load_validate_save', {}).get('wall_s', '—')} s)", "",
                  "| notebook | chain s | chain kernel peak MB | baseline wall s | baseline CPU s "
                  "| baseline RSS after MB | baseline peak so far MB |",
                  "|---|---|---|---|---|---|---|"]
        for name in sorted(set(nbs) | {k for k in st if k.endswith(".ipynb")}):
            s = st.get(name, {})
            lines.append(f"| {name} | {nbs.get(name, '—')} | {peaks.get(name) or '—'} | {s.get('wall_s', '—')} "
                         f"| {s.get('cpu_s', '—')} | {s.get('rss_mb', '—')} | {s.get('maxrss_mb', '—')} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="default,large,xl", help="comma-separated demo sizes")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per notebook cell in the chain")
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--baseline", type=Path, help=argparse.SUPPRESS)  # internal: run the baseline here
    ap.add_argument("--stages", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.baseline is not None:
        run_baseline(args.baseline, args.stages)
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    meta: dict[str, Any] = {"date": date, "cpus": os.cpu_count(), "jobs": args.jobs,
                            "load_start": [round(x, 2) for x in os.getloadavg()],
                            "python": sys.version.split()[0]}
    results = []
    for size in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        print(f"== {size}", flush=True)
        load0 = [round(x, 2) for x in os.getloadavg()]
        res = bench_size(size, args.jobs, args.skip_baseline, args.timeout)
        res["measured_utc"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        res["load_start_end"] = [load0, [round(x, 2) for x in os.getloadavg()]]
        print(json.dumps({k: v for k, v in res.items() if k != "demo"}, indent=1, default=str), flush=True)
        results.append(res)
    meta["load_end"] = [round(x, 2) for x in os.getloadavg()]
    stem = RESULTS / f"scale-{date}"
    if stem.with_suffix(".json").is_file():  # the same day: keep the sizes this run did not measure
        done = {r["size"] for r in results}
        earlier = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8")).get("results", [])
        results = [r for r in earlier if r.get("size") not in done] + results
    stem.with_suffix(".json").write_text(json.dumps({"meta": meta, "results": results}, indent=1, default=str),
                                         encoding="utf-8")
    stem.with_suffix(".md").write_text(markdown(results, meta), encoding="utf-8")
    print(f"wrote {stem}.json and {stem}.md")
    return 0 if all(r.get("chain", {}).get("returncode") == 0 for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
