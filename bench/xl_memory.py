"""Where the XL audit's memory goes (issue 19, item 5): load + validate once, save, read the snapshot back.

``CXAUDIT_HOME=<home with the xl demo> .venv/bin/python bench/xl_memory.py [out_dir]``: CPU / wall /
RSS of ``load_audit`` (what the runner does once), ``Audit.save``, and ``load_snapshot`` (what every
notebook's ``cx.start`` does), and per table the rows, the in-memory size (``memory_usage(deep=True)``)
and its five largest columns with their dtypes. Prints JSON.
"""

from __future__ import annotations

import functools
import gc
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import psutil

from cxaudit.audit import load_audit, load_snapshot

ME = psutil.Process()


def mb(x: float) -> float:
    return round(x / 2**20, 1)


def step(name: str, fn, out: dict):  # noqa: ANN001, ANN201
    gc.collect()
    r0 = ME.memory_info().rss
    t, c = time.perf_counter(), time.process_time()
    res = fn()
    out[name] = {"wall_s": round(time.perf_counter() - t, 1), "cpu_s": round(time.process_time() - c, 1),
                 "rss_before_mb": mb(r0), "rss_after_mb": mb(ME.memory_info().rss),
                 "peak_so_far_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    print(name, json.dumps(out[name]), flush=True)
    return res


def tables(audit) -> dict:  # noqa: ANN001
    out = {}
    for name, frame in {**audit.tables, "_log": audit.log}.items():
        mem = frame.memory_usage(deep=True, index=True)
        top = mem.drop("Index", errors="ignore").sort_values(ascending=False).head(5)
        out[name] = {"rows": len(frame), "mb": mb(mem.sum()),
                     "largest": {c: f"{mb(v)} MB {frame[c].dtype}" for c, v in top.items()}}
    return out


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "tables"
    out: dict = {}
    audit = step("load_audit", lambda: load_audit("demo"), out)
    out["tables_loaded"] = tables(audit)
    print(json.dumps(out["tables_loaded"], indent=1), flush=True)
    step("save", functools.partial(audit.save, folder), out)
    del audit
    gc.collect()
    snap = step("load_snapshot", lambda: load_snapshot(folder), out)
    out["tables_snapshot"] = tables(snap)
    print(json.dumps(out["tables_snapshot"], indent=1), flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
