"""One notebook's heavy cell at XL, in isolation (issue 19): CPU, wall and peak RSS of one process.

``.venv/bin/python bench/xl_cells.py <tables_dir> <cell>`` with ``tables_dir`` a run's saved tables (for
example written by ``bench/xl_memory.py``) and ``cell`` one of ``02_csi``, ``03_drivers``, ``05_voc``,
``08_personas``, ``09_process``. Prints one JSON line. Run one cell per process (the peak is the process's).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from cxaudit.audit import load_snapshot


def main() -> None:
    folder, which = Path(sys.argv[1]), sys.argv[2]
    t, c = time.perf_counter(), time.process_time()
    audit = load_snapshot(folder)
    load = (round(time.perf_counter() - t, 1), round(time.process_time() - c, 1))
    t, c = time.perf_counter(), time.process_time()
    if which == "09_process":
        from cxaudit import process
        process.analyse_audit(audit)
    elif which == "08_personas":
        from cxaudit import personas
        personas.analyse(audit)
    elif which == "05_voc":
        from cxaudit import voc_view
        voc_view.analyse(audit, lang="en")
    elif which == "03_drivers":
        from cxaudit import journey
        journey.key_drivers(audit, journey.touchpoint_table(audit))
    elif which == "02_csi":
        from cxaudit import scorecard
        scorecard.csi_overall(audit)
    else:
        raise SystemExit(f"unknown cell {which!r}")
    print(json.dumps({"cell": which, "snapshot_wall_cpu": load, "wall_s": round(time.perf_counter() - t, 1),
                      "cpu_s": round(time.process_time() - c, 1),
                      "maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))


if __name__ == "__main__":
    main()
