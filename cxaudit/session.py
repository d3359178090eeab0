"""What every notebook does first: load the client, pick the language, open the findings file.

Examples
--------
>>> nb = start("02_cx_metrics", client="demo")   # doctest: +SKIP
>>> nb.audit.responses.shape, nb.lang, nb.run_dir  # doctest: +SKIP
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from . import paths
from .audit import DEMO_CLIENT, SNAPSHOT_DIR, Audit, load_audit, load_snapshot, resolve_client
from .figdisplay import install as install_figure_display
from .findings import FindingSet
from .plots import set_style

__all__ = ["NotebookSession", "start", "REPORT_TABLES_DIR"]

#: Folder of a run where every table a notebook shows is recorded (per notebook) for tables.xlsx.
REPORT_TABLES_DIR = "report_tables"


@dataclass
class NotebookSession:
    name: str
    audit: Audit
    lang: str
    run_dir: Path
    findings: FindingSet

    @property
    def artifacts(self) -> Path:
        out = self.run_dir / "artifacts"
        out.mkdir(parents=True, exist_ok=True)
        return out


def start(name: str, *, client: str | Path = "demo", run_dir: str | Path | None = None,
          lang: str | None = None) -> NotebookSession:
    """Load the audit and prepare a notebook's outputs.

    In a run (``run_dir`` given by the runner) the tables the runner validated once are read from
    ``run_dir/tables/``; nothing in the client folder is read again. ``run_dir=None`` (an analyst
    working interactively) loads and validates the client's files and writes to
    ``reports/<client>/interactive``; the demo client is generated there on first use, so the
    notebooks run out of the box. ``lang=None`` uses the client's language from ``audit.yaml``.
    """
    snapshot = Path(run_dir) / SNAPSHOT_DIR if run_dir is not None else None
    if snapshot is not None and (snapshot / "_audit.json").is_file():
        audit = load_snapshot(snapshot)
    else:
        folder = resolve_client(client)
        if str(client) == DEMO_CLIENT and not (folder / "audit.yaml").exists():
            from .demo import generate_demo

            print(f"cxaudit: {folder} not found, generating the demo client", file=sys.stderr)
            generate_demo(folder)
        audit = load_audit(client)
    lang = lang or audit.language
    if lang not in ("en", "ru", "pl"):
        raise ValueError(f"lang must be en, ru or pl, got {lang!r}")
    if run_dir is None:
        run_dir = paths.reports_root() / audit.dir.name / "interactive"
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    install_figure_display()  # figures as PNG whatever MPLBACKEND says, texts redacted (cxaudit.figdisplay)
    set_style(audit.config.client.branding.primary_color)  # after it: the house style is the last word
    from .show import record_tables  # every table shown goes to tables.xlsx too (cxaudit.tables_export)

    record_tables(run_dir / REPORT_TABLES_DIR / name)
    return NotebookSession(name, audit, lang, run_dir, FindingSet(run_dir, name))
