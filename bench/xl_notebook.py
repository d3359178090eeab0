"""One notebook's code cells at XL in one process (issue 19): CPU, wall and peak RSS, per cell and in all.

``.venv/bin/python bench/xl_notebook.py <run_dir> <notebook> [--profile out.prof]``

``run_dir`` is a finished run (read-only): its ``tables/`` are linked, and the files a notebook reads
from earlier sections (``tobe.json``, ``findings/``, ``artifacts/personas.json``) copied into a
temporary run folder, so nothing is written into ``run_dir``. The notebook's code cells are executed
as Papermill would (parameters injected, each ``display`` argument formatted by IPython's display
formatter, which renders figures and HTML), without a kernel. Prints one JSON line per cell and one
for the whole notebook. Run one notebook per process (the peak is the process's).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("notebook")
    ap.add_argument("--profile", type=Path)
    ap.add_argument("--keep", type=Path, help="write the run folder here instead of a temporary one")
    ap.add_argument("--dump", type=Path, help="pickle every displayed output (IPython's format dicts) here")
    args = ap.parse_args()
    src = args.run_dir.resolve()
    nb_path = next((Path(__file__).resolve().parents[1] / "cxaudit" / "notebooks").glob(f"{args.notebook}*.ipynb"))
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="xlnb-"))
    tmp.mkdir(parents=True, exist_ok=True)
    if not (tmp / "tables").exists():
        (tmp / "tables").symlink_to(src / "tables")
    if (src / "tobe.json").is_file():
        shutil.copy(src / "tobe.json", tmp / "tobe.json")
    (tmp / "findings").mkdir(exist_ok=True)
    for f in (src / "findings").glob("*.json"):
        if not f.name.startswith(nb_path.stem):
            shutil.copy(f, tmp / "findings" / f.name)
    if (src / "artifacts" / "personas.json").is_file() and not nb_path.stem.startswith("08"):
        (tmp / "artifacts").mkdir(exist_ok=True)
        shutil.copy(src / "artifacts" / "personas.json", tmp / "artifacts" / "personas.json")

    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    fmt = shell.display_formatter

    shown: list[Any] = []

    def display(*objs: Any, **_: Any) -> None:
        for o in objs:
            shown.append(fmt.format(o)[0])

    import IPython.display

    IPython.display.display = display  # the notebooks import display from here
    ns: dict[str, Any] = {"__name__": "__main__", "client": "demo", "run_dir": str(tmp), "lang": None}
    cells = [c for c in nbformat.read(nb_path, as_version=4).cells if c.cell_type == "code"]
    prof = None
    if args.profile:
        import cProfile

        prof = cProfile.Profile(time.process_time)  # CPU seconds: wall time is noisy on a shared machine
    t0, c0 = time.perf_counter(), time.process_time()
    for i, cell in enumerate(cells):
        if "parameters" in cell.metadata.get("tags", []):
            continue
        t, c = time.perf_counter(), time.process_time()
        code = compile(cell.source, f"<cell {i}>", "exec")
        if prof is not None:
            prof.enable()
        exec(code, ns)
        if prof is not None:
            prof.disable()
        print(json.dumps({"cell": i, "first_line": cell.source.splitlines()[0][:60] if cell.source else "",
                          "wall_s": round(time.perf_counter() - t, 2), "cpu_s": round(time.process_time() - c, 2),
                          "maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}), flush=True)
    print(json.dumps({"notebook": nb_path.stem, "wall_s": round(time.perf_counter() - t0, 1),
                      "cpu_s": round(time.process_time() - c0, 1),
                      "maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                      "run_dir": str(tmp)}))
    if prof is not None:
        prof.dump_stats(str(args.profile))
    if args.dump is not None:
        import pickle

        args.dump.write_bytes(pickle.dumps(shown))
    if args.keep is None:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
