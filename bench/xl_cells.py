"""One notebook's heavy cell at XL, in isolation (issue 19): CPU, wall and peak RSS of one process.

``.venv/bin/python bench/xl_cells.py <tables_dir> <cell>`` with ``tables_dir`` a run's saved tables (for
example written by ``bench/xl_memory.py``) and ``cell`` one of ``02_csi``, ``03_drivers``, ``05_voc``,
``08_personas``, ``09_process`` (the analysis alone),
``09_processes`` / ``11_blueprints`` (what those notebooks compute). Prints one JSON line. Run one cell per process (the peak is the process's).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from cxaudit.audit import load_snapshot


def _notebook_09(audit: object) -> None:
    import importlib.util

    from cxaudit import process
    from cxaudit.text import redact_pii

    an = process.analyse_audit(audit)
    assert an is not None
    for f in (process.blocks_overview, process.blocks_map, process.blocks_variants, process.blocks_loops,
              process.blocks_bottlenecks, process.blocks_experience, process.process_findings):
        f(an, "en")
    if importlib.util.find_spec("pm4py") is not None:
        process.discover_inductive(an.log, redact=redact_pii)


def _notebook_11(audit: object) -> None:
    from cxaudit import bpmn, process
    from cxaudit.tickets import settings

    an = process.paths_audit(audit)
    sla = settings(audit.config).sla_hours  # type: ignore[attr-defined]
    tps = audit.table("touchpoints")  # type: ignore[attr-defined]
    for _, row in tps.dropna(subset=["owner_department"]).head(3).iterrows():
        owner = str(row["owner_department"])
        std = bpmn._standard_channel("", sla, an, audit, owner)  # the fallback: cases through the owner
        bp = bpmn.build_blueprint(str(row["touchpoint"]), dict(row.dropna()), [], an,
                                  sla_hours=sla.get(std) if std else None, lang="en")
        bpmn.to_bpmn_xml(bp, bpmn.layout(bp))


def main() -> None:
    folder, which = Path(sys.argv[1]), sys.argv[2]
    t, c = time.perf_counter(), time.process_time()
    audit = load_snapshot(folder)
    load = (round(time.perf_counter() - t, 1), round(time.process_time() - c, 1))
    t, c = time.perf_counter(), time.process_time()
    if which == "09_process":
        from cxaudit import process
        process.analyse_audit(audit)
    elif which == "09_processes":  # what the notebook does: analysis, display blocks, findings, pm4py cell
        _notebook_09(audit)
    elif which == "11_blueprints":  # what the notebook does for the top three touchpoints with an owner
        _notebook_11(audit)
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
